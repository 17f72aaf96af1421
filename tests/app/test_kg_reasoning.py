"""The knowledge-graph reasoning page (RED-GNN) under AppTest, on a tiny checkpoint trained here.

The checkpoint is trained once per module (family, 1 epoch capped at 5 s of training: about half a
minute on a CPU) so the tests run on a clean machine; models/ and runs/ are pointed at temporary
folders, so nothing shipped is read or written.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import page_text as text_of, tiny_family_checkpoint

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "kg_reasoning.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def family_checkpoint(tmp_path_factory, data_root) -> Path:
    """A real, briefly trained RED-GNN checkpoint for family (20 batches)."""
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["family"], data_root) != "present":
        pytest.skip(f"family is not under {data_root}: python -m backend fetch-data family")
    return tiny_family_checkpoint(tmp_path_factory.mktemp("redgnn-ckpt") / "family", data_root)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Empty models/ and runs/ folders for the page."""
    from backend.core import store

    models, runs = tmp_path / "models", tmp_path / "runs"
    models.mkdir()
    runs.mkdir()
    monkeypatch.setattr(store, "MODELS_DIR", models)
    monkeypatch.setenv("PARSIMONY_RUNS", str(runs))
    monkeypatch.delenv("PARSIMONY_GRAPHS", raising=False)  # imported graphs under runs/ too
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("PARSIMONY_DEVICE", "cpu")
    return models, runs


@pytest.fixture
def shipped(folders, family_checkpoint):
    models, _ = folders
    shutil.copytree(family_checkpoint, models / "redgnn" / "family")
    return models / "redgnn" / "family"


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at: AppTest, *columns: str):
    """The first dataframe on the page that has these columns."""
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no table with columns {columns}: {[list(d.value.columns) for d in at.dataframe]}"
    return found[0]


def test_query_shows_ranked_answers_and_evidence(shipped):
    at = open_page()
    assert at.title[0].value == "Knowledge-graph reasoning"
    assert at.selectbox(key="kg-checkpoint").value == str(shipped)
    # the card: test MRR / Hits@1 / Hits@10 under both tie policies
    summary = at.dataframe[0].value
    assert list(summary["test metric"]) == ["MRR", "Hits@1", "Hits@10"]
    assert summary["average ties (RED-GNN)"].between(0, 1).all()
    assert summary["pessimistic ties (NBFNet)"].between(0, 1).all()

    answers = frame_with(at, "filtered_rank", "known_fact")
    assert len(answers) == 10  # default top-k
    assert {"rank", "label", "score", "filtered_rank", "known_fact", "known_in", "reached"} <= set(answers.columns)
    assert ((answers["known_in"] != "") == answers["known_fact"]).all()  # a known fact says its split
    assert set(answers["known_in"]) <= {"", "facts", "train", "valid", "test"}
    assert answers["score"].is_monotonic_decreasing
    assert at.get("plotly_chart"), "no ranking chart"

    paths = frame_with(at, "path")
    assert len(paths) >= 1 and "path" in paths.columns
    assert at.get("iframe"), "no evidence graph iframe"
    labels = [b.label for b in at.get("download_button")]
    assert {"Ranked answers (CSV)", "Evidence (JSON)", "Graph (HTML)"} <= set(labels), labels

    # another answer and fewer answers: the table and the evidence follow
    at.slider(key=next(s.key for s in at.slider if s.key.startswith("kg-q-") and s.key.endswith("-top"))).set_value(5).run()
    assert not at.exception
    assert len(frame_with(at, "filtered_rank", "known_fact")) == 5
    pick = next(s for s in at.selectbox if s.key.startswith("kg-answer-"))
    pick.set_value(1).run()
    assert not at.exception
    second = frame_with(at, "filtered_rank", "known_fact").iloc[1]
    score = next(m for m in at.metric if m.label == "Score")
    assert score.value == f"{second['score']:.4f}"
    rank = next(m for m in at.metric if m.label == "Filtered rank")
    assert float(rank.value) == second["filtered_rank"]


def test_relation_picker_follows_the_head(shipped):
    """The head's own relations come first with their counts; a relation the next head also has stays picked,
    one it lacks gives way to the next head's most frequent relation."""
    from backend.methods.redgnn.explain import load_model

    kg = load_model(shipped).kg
    at = open_page()
    head_box = next(s for s in at.selectbox if s.key.startswith("kg-q-") and s.key.endswith("-head"))
    relation_box = lambda: next(s for s in at.selectbox if s.key.startswith("kg-q-") and "-relation-" in s.key)  # noqa: E731
    picked = relation_box().value
    h0 = head_box.value
    assert dict((r, n) for r, n, _ in kg.relation_choices(h0))[picked] > 0
    other = next(e for e in range(kg.n_ent) if e != h0 and dict((r, n) for r, n, _ in kg.relation_choices(e))[picked])
    head_box.set_value(other).run()
    assert not at.exception and relation_box().value == picked
    choices = kg.relation_choices(other)
    assert relation_box().options[0] == choices[0][2] and choices[0][2].endswith(" known)")
    lacking = next(e for e in range(kg.n_ent) if dict((r, n) for r, n, _ in kg.relation_choices(e))[picked] == 0
                   and kg.relation_choices(e)[0][1])
    next(s for s in at.selectbox if s.key.startswith("kg-q-") and s.key.endswith("-head")).set_value(lacking).run()
    assert not at.exception and relation_box().value == kg.relation_choices(lacking)[0][0]
    assert f"{kg.relation_label(relation_box().value)}, ?)" in text_of(at)


def test_explain_triple_unknown_entity_is_an_error(shipped):
    at = open_page()
    head = next(t for t in at.text_input if t.key.startswith("kg-triple-head-"))
    tail_value = next(t for t in at.text_input if t.key.startswith("kg-triple-tail-")).value
    head.set_value("no-such-person")
    at.button[[b.label for b in at.button].index("Explain")].click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("no-such-person" in e and "unknown entity" in e.lower() for e in errors), errors
    # the valid parts stay as typed
    assert next(t for t in at.text_input if t.key.startswith("kg-triple-tail-")).value == tail_value


def test_explain_known_triple_shows_its_rank(shipped):
    at = open_page()
    from backend.methods.redgnn.explain import load_model

    lm = load_model(shipped)
    h, r, t = (int(x) for x in lm.kg.test[0].tolist())
    at.button[[b.label for b in at.button].index("Explain")].click().run()  # the prefilled test triple
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    triple = f"({lm.kg.entity_label(h)}, {lm.kg.relation_label(r)}, {lm.kg.entity_label(t)})"
    assert triple in text_of(at)
    ranks = [m for m in at.metric if m.label == "Filtered rank"]
    assert len(ranks) == 2, "the query section and the triple section each show a rank"
    rank = float(ranks[1].value)
    assert 1 <= rank <= lm.kg.n_ent
    known = [m.value for m in at.metric if m.label == "Known fact"]
    assert known[1] == "yes"  # a test triple is a known fact
    # an unknown relation names it and suggests close names
    rel = next(t for t in at.text_input if t.key.startswith("kg-triple-rel-"))
    rel.set_value("sisterr")
    at.button[[b.label for b in at.button].index("Explain")].click().run()
    assert any("sisterr" in e.value and "sister" in e.value for e in at.error)


def test_pasted_triples_are_ranked_and_bad_rows_named(shipped):
    """The batch section: pasted rows are scored like the CLI scores a file; a bad row is named, the others kept."""
    from backend.methods.redgnn.explain import load_model
    from backend.methods.redgnn.triples import read_triples, score_triples

    at = open_page()
    lm = load_model(shipped, "cpu")
    kg = lm.kg
    good = "\n".join(f"{kg.entity_text(h)}\t{kg.relation_label(r)}\t{kg.entity_text(t)}"
                     for h, r, t in kg.test[:4].tolist())
    area = next(t for t in at.text_area if t.key.startswith("batch-text-"))
    area.set_value(good + "\nno-such-person\tson\t3\n").run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any("1 row could not be used" in w and "row 5, column head: unknown entity 'no-such-person'" in w
               for w in warnings), warnings
    shown = frame_with(at, "rank", "best_answer")
    expected = score_triples(lm, read_triples(lm, good))
    assert shown["row"].tolist() == [1, 2, 3, 4]
    assert shown["rank"].tolist() == expected["rank"].tolist()
    assert f"**4 triples scored**: MRR {(1 / expected['rank']).mean():.3f}" in text_of(at)
    labels = [b.label for b in at.get("download_button")]
    assert {"Download results (CSV)", "Download skipped rows (CSV)"} <= set(labels), labels


def test_missing_data_shows_fetch_command_and_card(shipped, tmp_path, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("PARSIMONY_DATA", str(empty))
    at = open_page()
    warnings = "\n".join(w.value for w in at.warning)
    assert "The family knowledge graph is not under the data root" in warnings
    assert "python -m backend fetch-data family" in [c.value for c in at.code]  # the command, and a button that runs it
    assert any(b.label.startswith("Download family (") for b in at.button), [b.label for b in at.button]
    assert list(at.dataframe[0].value["test metric"]) == ["MRR", "Hits@1", "Hits@10"]  # the card is still there
    assert not at.get("iframe")


def test_no_checkpoint_offers_training(folders):
    at = open_page()
    assert "No RED-GNN checkpoint yet" in "\n".join(i.value for i in at.info)
    assert at.button(key="kg-train-family__start").label == "Start training"
    assert not at.button(key="kg-train-family__start").disabled
    assert "runs" in text_of(at)


def test_train_panel_continues_the_shipped_checkpoint(shipped, tmp_path):
    """Ticking 'continue' starts `train --init-from <shipped> --epochs <its epochs + more>`; a time limit in minutes
    becomes --max-seconds; the panel shows how long the shipped run's epochs took."""
    from backend.core.jobs import cancel_job, list_jobs
    from backend.core.store import load_card
    from ui.components.model_card import format_seconds

    done = load_card(shipped).train["epochs"]
    at = open_page()
    box = at.checkbox(key="kg-train-continue-family")
    assert box.label.startswith(f"Continue the shipped checkpoint ({done} epochs, test MRR ")
    box.check().run()
    at.number_input(key="kg-train-max_seconds").set_value(30).run()
    train = load_card(shipped).train
    per_epoch = format_seconds(train["seconds"] / train["epochs"])
    assert f"trained {done} epoch{'s' if done != 1 else ''} in {format_seconds(train['seconds'])}" in text_of(at)
    assert f"about {per_epoch} per epoch" in text_of(at)
    at.button(key="kg-train-family__start").click().run()
    jobs = list_jobs(tmp_path / "jobs")
    try:
        assert len(jobs) == 1
        argv = jobs[0].argv
        assert argv[argv.index("--init-from") + 1] == str(shipped)
        assert argv[argv.index("--epochs") + 1] == str(done + 50)  # the page's default: at most 50 more epochs
        assert float(argv[argv.index("--max-seconds") + 1]) == 1800  # 30 minutes
        assert argv[argv.index("--patience") + 1] == "3"  # until valid MRR stops improving
        assert str(tmp_path / "runs") in argv[argv.index("--output") + 1]
    finally:
        for job in jobs:
            cancel_job(job)


def test_train_panel_offers_the_inductive_query_sources(folders, tmp_path):
    """An inductive split offers RED-GNN's training queries or the re-split; the choice reaches the command."""
    from backend.core.jobs import cancel_job, list_jobs

    at = open_page()
    assert not [r for r in at.radio if r.key.startswith("kg-train-queries")]  # family: transductive, no choice
    at.selectbox(key="kg-train-dataset").set_value("fb237_v1").run()
    radio = at.radio(key="kg-train-queries-fb237_v1")
    assert [o.split(":")[0] for o in radio.options] == ["RED-GNN's", "re-split"]
    assert radio.value == "valid"  # no shipped checkpoint here: RED-GNN's recipe
    radio.set_value("resplit").run()
    at.button(key="kg-train-fb237_v1__start").click().run()
    jobs = list_jobs(tmp_path / "jobs")
    try:
        assert len(jobs) == 1
        argv = jobs[0].argv
        assert argv[argv.index("--dataset") + 1] == "fb237_v1"
        assert argv[argv.index("--inductive-queries") + 1] == "resplit"
    finally:
        for job in jobs:
            cancel_job(job)


def test_own_run_is_listed(folders, family_checkpoint):
    _, runs = folders
    shutil.copytree(family_checkpoint, runs / "redgnn" / "family-20260101-000000")
    at = open_page()
    picker = at.selectbox(key="kg-checkpoint")
    assert picker.options == ["family — family-20260101-000000 (your run)"]
    assert len(frame_with(at, "filtered_rank", "known_fact")) > 0


def test_page_runs_in_the_navigation(folders, run_page_in_app):
    at = run_page_in_app("kg_reasoning.py")
    assert not at.exception
    assert "No RED-GNN checkpoint yet" in "\n".join(i.value for i in at.info)


@pytest.fixture
def run_page_in_app(run_page):  # the entry point's navigation (tests/app/conftest.py)
    return run_page


def test_every_shipped_checkpoint_opens_and_answers(data_root):
    """Each checkpoint under models/redgnn loads on the page with its data and answers its example query."""
    from backend.core import store

    cards = store.list_cards(method="redgnn")
    if not cards:
        pytest.skip("no shipped RED-GNN checkpoint")
    at = open_page()
    for card in cards:
        at.selectbox(key="kg-checkpoint").set_value(str(card.path)).run()
        assert not at.exception, (card.path, [e.value for e in at.exception])
        text = text_of(at)
        answers = [d.value for d in at.dataframe if {"rank", "score", "filtered_rank"} <= set(d.value.columns)]
        assert answers and "answers to (" in text, card.path
        assert answers[0]["score"].notna().all() and answers[0]["rank"].tolist() == list(range(1, len(answers[0]) + 1))
        resplit = card.train["config"].get("inductive_queries") == "resplit"
        assert ("Trained on re-split queries" in text) == resplit, card.path


def test_quality_by_relation_is_computed_on_request_then_read_from_the_checkpoint(shipped):
    """Without a saved breakdown the section offers to compute it; the shown rows are the backend's, their
    weighted MRR is the card's; once saved beside the weights the page shows it without asking."""
    from backend.methods.redgnn import by_relation
    from backend.methods.redgnn.explain import load_model

    (shipped / by_relation.FILE_NAME).unlink(missing_ok=True)  # as a run trained before training wrote it
    at = open_page()
    toggle = next(t for t in at.toggle if t.key.startswith("kg-relations-"))
    assert "Not computed for this checkpoint yet" in text_of(at)
    assert not [d for d in at.dataframe if "training_queries" in d.value.columns]
    toggle.set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = by_relation.metrics_by_relation(load_model(shipped, "cpu"))
    shown = frame_with(at, "relation", "training_queries")
    assert shown["relation"].tolist() == expected["relation"].tolist()
    assert shown["mrr"].tolist() == pytest.approx(expected["mrr"].tolist(), abs=1e-12)
    card_mrr = load_model(shipped, "cpu").card.metrics["test"]["mrr"]
    assert (shown["mrr"] * shown["answers"]).sum() / shown["answers"].sum() == pytest.approx(card_mrr, abs=1e-9)
    assert f"**{len(expected)} query relations** have test answers" in text_of(at)
    summary = by_relation.breakdown_summary(expected)
    if summary["reached"] < 1:
        assert f"**{1 - summary['reached']:.1%} of the test answers** lie more than" in text_of(at)
    assert "Download metrics per query relation (CSV)" in [b.label for b in at.get("download_button")]

    by_relation.save(expected, shipped)
    at = open_page()
    assert not [t for t in at.toggle if t.key.startswith("kg-relations-")]
    assert frame_with(at, "relation", "training_queries")["relation"].tolist() == expected["relation"].tolist()
    relation = next(s for s in at.selectbox if s.key.startswith("kg-q-") and "-relation-" in s.key).value
    row = expected[expected["relation_id"] == relation]
    line = (f"*{row['relation'].iloc[0]}* scores MRR **{row['mrr'].iloc[0]:.3f}**" if len(row)
            else "This relation has no test answers")
    assert line in text_of(at)  # the query's answers say how well the model does on their relation


def test_checkpoint_reasons_over_an_imported_graph_it_was_not_trained_on(shipped, folders, data_root, tmp_path):
    """With a graph imported, the page offers it under 'Reason over'; picked, the answers, evidence and quality
    come from that graph (entities renamed, relations in upper case, one unknown relation left out and named),
    and the graph's test MRR is the backend's evaluate(graph=...)."""
    from backend.kg.user_graphs import import_graph
    from backend.registry import get_method

    evaluate = get_method("redgnn").evaluate
    from tests.support import renamed_family_rows, triples_tsv

    rows = renamed_family_rows(data_root)[::4]  # a quarter of family, every relation in it
    source = tmp_path / "mine.tsv"
    source.write_text(triples_tsv(rows + [(h, "friend of", t) for h, _, t in rows[:5]]), encoding="utf-8")
    import_graph(source, "mine")

    at = open_page()
    picker = at.selectbox(key="kg-graph-family")
    assert picker.options[1] == "mine (your graph)" and picker.help.endswith("this checkpoint knows: mine 12 of 13.")
    own = frame_with(at, "filtered_rank", "known_fact")  # family's entities are numbers, shown as 'person N'
    assert own["entity"].str.isdigit().all() and (own["label"] == "person " + own["entity"]).all()
    picker.set_value("mine").run()
    assert not at.exception, [e.value for e in at.exception]
    page = text_of(at)
    assert "Queries run on your graph **mine**, which this checkpoint was not trained on" in page
    assert "12 of 13 relations of mine are relations of family" in page and "friend of (5)" in page
    answers = frame_with(at, "filtered_rank", "known_fact")  # the graph's own names: 'person N', no id column
    assert answers["label"].str.startswith("person ").all() and "entity" not in answers
    assert frame_with(at, "path")["path"].str.contains("person ").all()

    toggle = next(t for t in at.toggle if t.key.startswith("kg-relations-"))
    toggle.set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    expected = evaluate(shipped, graph="mine", device="cpu", data_dir=str(data_root))
    assert f"Untrained on this graph, the checkpoint scores test MRR {expected['mrr']:.3f}**" in text_of(at)
    assert "on its own dataset family its card says MRR" in text_of(at)

    at.toggle(key="kg-compare-mine").set_value(True).run()  # the only checkpoint here is the tiny family one
    assert not at.exception, [e.value for e in at.exception]
    table = frame_with(at, "relations_known", "mrr_all")
    valid = evaluate(shipped, split="valid", graph="mine", device="cpu", data_dir=str(data_root))
    assert table["checkpoint"].tolist() == ["family"] and table["relations_known"].tolist() == ["12 of 13"]
    assert table["mrr"].iloc[0] == pytest.approx(valid["mrr"], abs=1e-12)  # same ranks (float64 scores, tie rule): equal up to a mean's last bit
    assert table["seen_in_training"].tolist() == [valid["seen_in_training"]] == [0.0]  # a renamed quarter of family: no name, no place matches
    assert "training triples of the checkpoint" not in text_of(at)
    assert f"Best on the valid triples: **family** (MRR {table['mrr_all'].iloc[0]:.3f}" in text_of(at)
    assert "Download the comparison (CSV)" in [b.label for b in at.get("download_button")]

    # saying 'friend of' means brother (wrongly, but the user's call) brings its 5 triples in
    assert "Map your relations to family's (1 relation left out)" in [e.label for e in at.expander]
    at.selectbox(key="kg-map-mine-friend of").set_value("brother")
    at.button[[b.label for b in at.button].index("Save the mapping")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "13 of 13 relations of mine are relations of family" in text_of(at)
    assert at.selectbox(key="kg-graph-family").help.endswith("this checkpoint knows: mine 13 of 13.")


def test_a_graph_of_unknown_relations_offers_their_mapping_and_the_comparison(shipped, folders, data_root, tmp_path):
    """Picked under 'Reason over', a graph none of whose relations the checkpoint knows is refused by name, and
    the page opens what helps: the mapping form (every relation, most triples first) and the comparison. Mapping
    one relation brings its triples in and the page reasons over the graph."""
    from backend.kg.user_graphs import import_graph
    from tests.support import renamed_family_rows, triples_tsv

    rows = renamed_family_rows(data_root, {r: f"is {r} of" for r in ("aunt brother daughter father husband mother "
                                                                       "nephew niece sister son uncle wife").split()})
    source = tmp_path / "worded.tsv"
    source.write_text(triples_tsv(rows[::4]), encoding="utf-8")
    import_graph(source, "worded")

    at = open_page()
    at.selectbox(key="kg-graph-family").set_value("worded").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot reason over worded: none of the 12 relations" in e.value for e in at.error)
    form = next(e for e in at.expander if e.label.startswith("Map your relations to family's"))
    assert form.label == "Map your relations to family's (12 relations left out)"
    assert at.toggle(key="kg-compare-worded") is not None
    at.selectbox(key="kg-map-worded-is son of").set_value("son")
    at.button[[b.label for b in at.button].index("Save the mapping")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "1 of 12 relations of worded are relations of family" in text_of(at)
    assert frame_with(at, "filtered_rank", "known_fact")["label"].str.startswith("person ").all()
