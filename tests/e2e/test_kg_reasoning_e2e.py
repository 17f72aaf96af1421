"""The knowledge-graph reasoning page in a real browser: query -> ranked answers -> evidence graph -> download.

Uses the shipped family checkpoint (models/redgnn/family) when there is one; otherwise a checkpoint
with freshly initialised weights is written to a temporary runs folder ($PARSIMONY_RUNS) and picked
as "(your run)". Either way the page gets its own server, so that runs folder (and a jobs folder)
are temporary and nothing the user trained is touched.
"""
from __future__ import annotations

import json

import pytest

from tests.support import tiny_family_checkpoint

from .conftest import (PROJECT_ROOT, VIEWPORT, choose, combobox, full_page_screenshot, private_runs, streamlit_server,
                       wait_for_app)

HEADING = "Knowledge-graph reasoning"
SHIPPED = PROJECT_ROOT / "models" / "redgnn" / "family"


@pytest.fixture(scope="module")
def kg_server(tmp_path_factory, data_root):
    """(server, label of the family checkpoint in the picker)."""
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["family"], data_root) != "present":
        pytest.skip(f"family is not under {data_root}: python -m backend fetch-data family")
    tmp = tmp_path_factory.mktemp("kg-e2e")
    if (SHIPPED / "card.json").is_file():
        label = "family"
    else:
        tiny_family_checkpoint(tmp / "runs" / "redgnn" / "family-e2e", data_root)
        label = "family — family-e2e (your run)"
    with private_runs(tmp), streamlit_server("kg_reasoning") as srv:
        yield srv, label


def selected(page, label: str) -> str:
    return combobox(page, label).input_value()


def open_checkpoint(page, server, label: str):
    """The page with checkpoint ``label`` picked; returns its main area."""
    page.goto(f"{server.url}/kg-reasoning")
    wait_for_app(page, heading=HEADING)
    if selected(page, "Checkpoint") != label:  # the page opens on WN18RR where it is shipped
        choose(page, "Checkpoint", label)
    main = page.get_by_test_id("stMain")
    main.get_by_text(f"Queries run on the graph {label.split(' ')[0]}").first.wait_for()  # its page, not the last one's
    return main


def close_page_not_found(page) -> None:
    """A cold deep link must not show Streamlit's "Page not found" dialog (it made pages inert while the
    UI folder was called ``pages/``, which triggers Streamlit's legacy multipage discovery)."""
    assert page.get_by_role("dialog").filter(has_text="Page not found").count() == 0


def test_query_answer_evidence_download(page, kg_server, tmp_path):
    from backend.core.data import resolve_data_root
    from backend.kg.loader import load_redgnn_layout

    server, label = kg_server
    kg = load_redgnn_layout("family", resolve_data_root(None))
    h, r, _ = (int(x) for x in kg.test[1].tolist())  # a query other than the page's default one
    head, relation = kg.entity_label(h), kg.relation_label(r)
    option = next(text for rel, _, text in kg.relation_choices(h) if rel == r)
    assert option.startswith(f"{relation} (") and option.endswith(" known)")  # the head's relations show counts

    page.goto(f"{server.url}/kg-reasoning")
    wait_for_app(page, heading=HEADING)
    close_page_not_found(page)
    if selected(page, "Checkpoint") != label:
        choose(page, "Checkpoint", label)
    assert selected(page, "Checkpoint") == label
    page.get_by_test_id("stMain").get_by_text(f"out of {kg.n_ent:,} entities").first.wait_for()  # family's page now

    choose(page, "Query entity (head)", head, typed=head)
    choose(page, "Relation", option)
    assert (selected(page, "Query entity (head)"), selected(page, "Relation")) == (head, option)
    query_text = f"({head}, {relation}, ?)"
    page.get_by_text(f"answers to {query_text}").first.wait_for()

    main = page.get_by_test_id("stMain")
    main.get_by_test_id("stDataFrame").first.wait_for()
    assert main.locator(".js-plotly-plot").count() >= 1, "no ranking chart"

    graph = main.locator("iframe").first
    graph.scroll_into_view_if_needed()
    graph.wait_for(state="visible")
    page.frame_locator('[data-testid="stMain"] iframe').first.locator("canvas").first.wait_for(state="visible")
    # the evidence below the answers is this query's (on a busy machine the answers can be redrawn while
    # the evidence section still shows the previous query's)
    main.get_by_text(f"head: {head} · relation: {relation} ·").first.wait_for()
    wait_for_app(page)

    with page.expect_download() as info:
        main.get_by_role("button", name="Evidence (JSON)").first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    evidence = json.loads(target.read_text(encoding="utf-8"))
    assert evidence["method"] == "redgnn"
    assert evidence["edges"], "evidence without edges"
    assert evidence["summary"]["head"] == head and evidence["summary"]["relation"] == relation

    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)  # let the graph's layout settle before the picture
    shot = full_page_screenshot(page, "kg_reasoning_query")
    assert shot.stat().st_size > 10_000


def test_clicking_an_answer_row_explains_that_answer(page, kg_server):
    """The issue's "click one to see its r-digraph": ticking a row of the answers table picks it below."""
    server, label = kg_server
    main = open_checkpoint(page, server, label)
    assert selected(page, "Answer to explain").startswith("1. ")
    grid = [g for g in main.get_by_test_id("stDataFrame").all() if g.is_visible()][1]  # after the card's metrics
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.click(box["x"] + 14, box["y"] + 35 * 3 + 17)  # the row-selection box of the third answer (35 px rows)
    page.wait_for_timeout(500)
    wait_for_app(page)
    picked = selected(page, "Answer to explain")
    assert picked.startswith("3. "), picked
    answer = picked[len("3. "):].split(" (score")[0]
    main.get_by_text(f"· answer: {answer} ·").first.wait_for()  # the evidence drawn is the clicked answer's
    assert page.locator('[data-testid="stException"]').count() == 0


def test_wheel_scrolls_the_page_and_ctrl_wheel_zooms_the_graph(page, kg_server):
    """A mouse wheel over the evidence graph scrolls the page (it used to zoom the graph out, so a reader
    scrolling down got stuck in it); ctrl + wheel zooms the graph instead, about the pointer."""
    server, label = kg_server
    main = open_checkpoint(page, server, label)
    graph = main.locator("iframe").first
    graph.scroll_into_view_if_needed()
    page.frame_locator('[data-testid="stMain"] iframe').first.locator("canvas").first.wait_for(state="visible")
    frame = next(f for f in page.frames if f.evaluate("typeof network !== 'undefined' && !!network"))
    top, scale = graph.bounding_box()["y"], frame.evaluate("network.getScale()")

    box = graph.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(800)
    assert graph.bounding_box()["y"] < top - 100, "the wheel did not scroll the page"
    assert frame.evaluate("network.getScale()") == pytest.approx(scale), "a plain wheel zoomed the graph"

    box = graph.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, max(box["y"], 0) + 150)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_timeout(500)
    assert frame.evaluate("network.getScale()") == pytest.approx(scale * 1.1, rel=1e-3), "ctrl + wheel did not zoom"
    assert page.locator('[data-testid="stException"]').count() == 0


def test_uploaded_triples_are_ranked_and_downloaded(page, kg_server, tmp_path):
    """Upload a TSV of test triples with one bad row: the bad row is named, the others ranked, and the
    results download as CSV with the ranks shown on the page."""
    import pandas as pd

    from backend.core.data import resolve_data_root
    from backend.kg.loader import load_redgnn_layout

    server, label = kg_server
    kg = load_redgnn_layout("family", resolve_data_root(None))
    rows = [f"{kg.entity_label(h)}\t{kg.relation_label(r)}\t{kg.entity_label(t)}" for h, r, t in kg.test[:6].tolist()]
    upload = tmp_path / "my-triples.tsv"
    upload.write_text("head\trelation\ttail\n" + "\n".join(rows[:3] + ["nobody\tson\t3"] + rows[3:]) + "\n",
                      encoding="utf-8")

    main = open_checkpoint(page, server, label)
    main.get_by_text("Rank your own triples").first.scroll_into_view_if_needed()
    main.get_by_label("Triples file", exact=True).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    main.get_by_text("6 triples scored").first.wait_for()
    wait_for_app(page)
    assert main.get_by_text("row 5, column head: unknown entity 'nobody' in family").count() == 1

    with page.expect_download() as info:
        main.get_by_role("button", name="Download results (CSV)").first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    ranked = pd.read_csv(target)
    assert ranked["row"].tolist() == [2, 3, 4, 6, 7, 8]  # file lines: header 1, the bad row 5
    assert ranked["rank"].between(1, kg.n_ent).all() and ranked["known_fact"].all()
    assert page.locator('[data-testid="stException"]').count() == 0
    main.get_by_role("button", name="Download results (CSV)").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    full_page_screenshot(page, "kg_reasoning_upload")


def test_quality_by_relation_downloads_what_adds_up_to_the_card(page, kg_server, tmp_path):
    """The per-relation section: its chart is drawn, its CSV has every test answer once and its rows'
    answer-weighted MRR is the checkpoint's test MRR (shipped: precomputed; a fresh run: computed on request)."""
    import pandas as pd

    from backend.core import store
    from backend.core.data import resolve_data_root
    from backend.kg.loader import load_redgnn_layout

    server, label = kg_server
    kg = load_redgnn_layout("family", resolve_data_root(None))
    main = open_checkpoint(page, server, label)
    main.get_by_text("Where is the model right?").first.scroll_into_view_if_needed()
    toggle = main.get_by_text("Compute the breakdown")
    if toggle.count():
        toggle.first.click()
        wait_for_app(page)
    button = main.get_by_role("button", name="Download metrics per query relation (CSV)").first
    button.wait_for()
    assert main.get_by_text("query relations").count() >= 1
    assert main.locator(".js-plotly-plot").count() >= 2, "no per-relation chart"
    with page.expect_download() as info:
        button.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    rows = pd.read_csv(target)
    assert rows["answers"].sum() == 2 * len(kg.test)
    card = next(c for c in store.list_cards(method="redgnn") if c.dataset == "family") if label == "family" else None
    mrr = (rows["mrr"] * rows["answers"]).sum() / rows["answers"].sum()
    if card is not None:
        assert mrr == pytest.approx(card.metrics["test"]["mrr"], abs=1e-9)  # a weighted mean of per-relation MRRs: rounding only
    assert 0 < mrr <= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    button.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    full_page_screenshot(page, "kg_reasoning_by_relation_family")


def test_own_graph_is_imported_trained_and_queried(page, kg_server, tmp_path):
    """The whole journey with a user's own graph: upload a TSV with a bad row (and labels) -> the report names the row ->
    the train panel offers the graph -> a training runs in the background -> its run answers a query."""
    from tests.support import tree_graph, triples_tsv

    server, label = kg_server
    upload = tmp_path / "my tree.tsv"
    rows = tree_graph(240)
    upload.write_text(triples_tsv(rows) + "person 1\tparent of\n", encoding="utf-8")
    bad_row = len(rows) + 2  # after the header and the good rows

    main = open_checkpoint(page, server, label)
    section = expander(main, "Add your own knowledge graph")
    section.locator("summary").click()
    labels = tmp_path / "labels.csv"
    labels.write_text("name,label\nperson 1,Ada\n", encoding="utf-8")
    section.get_by_role("region", name="Labels (optional)").get_by_test_id("stFileUploaderDropzoneInput") \
        .set_input_files(str(labels))
    wait_for_app(page)
    section.get_by_role("region", name="Graph file (triples)").get_by_test_id("stFileUploaderDropzoneInput") \
        .set_input_files(str(upload))
    wait_for_app(page)
    assert section.get_by_role("textbox", name="Graph name").input_value() == "my-tree"
    section.get_by_role("button", name="Add graph").click()
    wait_for_app(page)
    section.get_by_text("Added my-tree from my tree.tsv").first.wait_for()
    assert section.get_by_text(f"row {bad_row}, column tail: missing (the row has 2 of 3 columns)").count() == 1
    assert section.get_by_text("Labels from labels.csv: 1 of 240 entities and 0 of 2 relations labelled").count() == 1

    trainer = expander(main, "Train a RED-GNN model")
    trainer.locator("summary").click()
    wait_for_app(page)
    assert combobox(page, "Dataset").input_value() == "my-tree (your graph)"
    assert trainer.get_by_text("Your graph my-tree: 240 entities, 2 relations").count() == 1
    epochs = trainer.get_by_role("spinbutton", name="Epochs", exact=True)  # a short run (the default trains up to 5 minutes)
    epochs.fill("3")
    epochs.press("Enter")
    wait_for_app(page)
    trainer.get_by_role("button", name="Start training").click()
    # the panel's expander closes once no job runs; the sidebar says the run ended, on every page
    page.get_by_test_id("stSidebar").get_by_text("redgnn/my-tree finished").first.wait_for(timeout=180_000)
    page.goto(f"{server.url}/kg-reasoning")
    wait_for_app(page, heading=HEADING)
    run = next(o for o in options(page, "Checkpoint") if o.startswith("my-tree — "))
    choose(page, "Checkpoint", run)
    main.get_by_text("answers to (person").first.wait_for()
    assert main.get_by_text("Queries run on the graph my-tree: 240 entities").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    full_page_screenshot(page, "kg_reasoning_own_graph")


def test_checkpoint_reasons_over_an_imported_graph(page, kg_server, tmp_path, data_root):
    """A graph imported under the checkpoint's relation names (family renamed, with labels and one relation the
    checkpoint does not know) is picked under 'Reason over': the page says what was left out, answers with the
    graph's people and draws their evidence."""
    from backend.kg.user_graphs import import_graph
    from tests.support import people_labels, renamed_family_rows, triples_tsv

    server, label = kg_server
    rows = renamed_family_rows(data_root)
    extra = [(rows[i][0], "friend of", rows[-i - 1][2]) for i in range(30)]
    (tmp_path / "people.tsv").write_text(people_labels(rows), encoding="utf-8")
    (tmp_path / "family.tsv").write_text(triples_tsv(rows + extra), encoding="utf-8")
    import_graph(tmp_path / "family.tsv", "my-family", labels=tmp_path / "people.tsv")  # the server's runs folder

    main = open_checkpoint(page, server, label)
    choose(page, "Reason over", "my-family (your graph)")
    main.get_by_text("Queries run on your graph my-family, which this checkpoint was not trained on").first.wait_for()
    assert main.get_by_text("friend of (30)").count() == 1
    main.get_by_text("Why? The r-digraph of an answer").first.wait_for()
    main.locator("iframe").first.wait_for()
    answers = main.get_by_test_id("stDataFrame").first
    answers.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    full_page_screenshot(page, "kg_apply_graph")

    # the user says 'friend of' means brother: its 30 triples join the graph, 13 of 13 relations known
    mapping = expander(main, "Map your relations to family's")
    mapping.locator("summary").click()
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 2000})  # a box at the viewport's edge stays shut
    open_list(page, mapping.get_by_role("combobox", name="friend of (30 triples left out)"))
    page.get_by_role("option", name="brother", exact=True).first.click()
    mapping.get_by_role("button", name="Save the mapping").click()
    wait_for_app(page)
    main.get_by_text("13 of 13 relations of my-family are relations of family").first.wait_for()
    assert main.get_by_text("friend of (30)").count() == 0  # nothing is left out any more
    page.set_viewport_size(VIEWPORT)
    assert page.locator('[data-testid="stException"]').count() == 0


def open_list(page, box, tries: int = 5) -> None:
    """Click a selectbox until its options show: in an expander, the first click after a rerun can land while
    the widget is redrawn and leave the list shut."""
    for _ in range(tries):
        box.click()
        page.wait_for_timeout(600)
        if page.get_by_role("option").count():
            return
        page.keyboard.press("Escape")
        page.wait_for_timeout(600)
    raise AssertionError(f"the list of {box} did not open")


def expander(main, title: str):
    """The st.expander whose header is ``title`` (other text may mention the title)."""
    return main.get_by_test_id("stExpander").filter(has=main.page.locator("summary", has_text=title))


def options(page, label: str) -> list[str]:
    """The options a selectbox offers (opened, read, closed)."""
    box = combobox(page, label)
    box.click()
    texts = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return texts


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["wide", "phone"])
def test_answers_and_evidence_read_well_on_a_phone_too(page, kg_server, size):
    """What a non-expert reads: family's people as 'person N', ranks in words, an evidence legend that fits the
    screen (wide and phone) and relation names drawn on the strongest edges."""
    server, label = kg_server
    main = open_checkpoint(page, server, label)  # at the default size: a phone's sidebar starts collapsed
    page.set_viewport_size({"width": size[0], "height": size[1]})
    main.get_by_text("answers to (person").first.wait_for()
    assert main.get_by_text("gives its entities numbers, not names").count() == 1
    main.get_by_text("Why? The r-digraph of an answer").first.scroll_into_view_if_needed()
    frame = page.frame_locator('[data-testid="stMain"] iframe').first
    frame.locator("canvas").first.wait_for(state="visible")
    legend = frame.locator("#legend, .legend, div[style*='flex-wrap']").first
    legend.wait_for()
    box = legend.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size[0] + 1, (box, size)
    edges = page.locator('[data-testid="stMain"] iframe').first.evaluate(
        "f => f.contentWindow.network ? f.contentWindow.network.body.data.edges.get() : []")
    assert not edges or any(e.get("label") for e in edges)  # the strongest edges carry their relation
    assert page.locator('[data-testid="stException"]').count() == 0
