"""Knowledge-graph reasoning with RED-GNN: ranked answers to (head, relation, ?) and their r-digraph evidence.

Thin page: checkpoints come from ``backend.core.store``, the model, ranking and evidence from
``backend.methods.redgnn.explain``; the graph and downloads from ``ui.components``. Checkpoints
trained from this page go to ``$PARSIMONY_RUNS/redgnn/<dataset>-<time>/`` (default ``<project>/runs``,
git-ignored) and are listed in the dataset picker as "(your run)".
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # the page also runs on its own (AppTest, `streamlit run` of this file)
    sys.path.insert(0, str(PROJECT_ROOT))

from backend.core import store  # noqa: E402
from backend.core.data import CATALOG, DataMissingError, dataset_status, missing_files, resolve_data_root  # noqa: E402
from backend.core.evidence import Evidence  # noqa: E402
from backend.core.references import reference_rows  # noqa: E402
from backend.core.viz import ranking_bar_figure  # noqa: E402
from backend.kg.graph import distinct_queries  # noqa: E402
from backend.methods.redgnn.config import (  # noqa: E402
    DATASETS, INDUCTIVE_DATASETS, INDUCTIVE_QUERIES, TRANSDUCTIVE_DATASETS, inductive_queries_of)
from ui.components.downloads import download_buttons, frame_csv  # noqa: E402
from ui.components.evidence_view import show_evidence  # noqa: E402
from ui.components.job_panel import job_panel  # noqa: E402
from ui.components.model_card import format_count, format_seconds, show_card, trained_on  # noqa: E402
from ui.components.progress import kept_with_progress  # noqa: E402
from ui.components.relation_quality import relation_quality_section, relation_track_record  # noqa: E402

#: above this many entities the head picker is a text filter plus a list of the first matches
LARGE_ENTITY_LIST = 5000
MAX_MATCHES = 200
DEFAULT_TRAIN_EPOCHS = 3
#: the expected failures of loading a checkpoint or answering a query (shown with st.error)
EXPECTED_ERRORS = (OSError, ValueError, KeyError, RuntimeError, TypeError)


class Source(NamedTuple):
    """What the page's answers come from: a checkpoint folder, the data root, and the imported graph it reasons
    over ("": the checkpoint's own graph). A tuple, so the caches key on it."""

    model_dir: str
    data_root: str
    graph: str = ""
    stamp: float = 0.0  # when the graph's relation map was last saved (a new map is a new model to load)


# ---------------------------------------------------------------------------------------- checkpoints

def runs_dir() -> Path:
    """Where trainings started from this page write: ``$PARSIMONY_RUNS``, else ``<project>/runs``."""
    return store.runs_root()


def find_checkpoints() -> dict[str, tuple[str, store.Card]]:
    """{model folder: (label for the picker, card)}: shipped checkpoints first, then the user's runs (newest first)."""
    found: dict[str, tuple[str, store.Card]] = {}
    order = {name: i for i, name in enumerate(DATASETS)}  # transductive datasets first, as the paper lists them
    for card in sorted(store.list_cards(method="redgnn"), key=lambda c: order.get(c.dataset, len(order))):
        label = card.dataset + (" (inductive)" if card.setting == "inductive" else "")
        found[str(card.path)] = (label, card)
    own_root = runs_dir() / "redgnn"
    if own_root.is_dir():
        own = store.list_cards(own_root, method="redgnn")
        for card in sorted(own, key=lambda c: c.created or "", reverse=True):
            found[str(card.path)] = (f"{card.dataset} — {Path(str(card.path)).name} (your run)", card)
    return found


def metric_summary(card: store.Card) -> pd.DataFrame:
    """Test MRR, Hits@1, Hits@10 under RED-GNN's protocol (average ties) and NBFNet's (pessimistic ties)."""
    test = (card.metrics or {}).get("test", {}) or {}
    rows = []
    for name, title in (("mrr", "MRR"), ("hits@1", "Hits@1"), ("hits@10", "Hits@10")):
        rows.append({"test metric": title, "average ties (RED-GNN)": test.get(name),
                     "pessimistic ties (NBFNet)": test.get(f"nbfnet_{name}")})
    return pd.DataFrame(rows)


def paper_mrr_text(dataset: str) -> str:
    rows = [r for r in reference_rows("redgnn") if r["dataset"] == dataset and r["metric"] == "mrr"]
    if not rows:
        return ""
    parts = [f"{r['value']:.3f} ({'RED-GNN paper' if r['citation'] == 'zhang2022redgnn' else r['citation']})"
             for r in rows]
    return f"Published test MRR on {dataset}: " + ", ".join(parts) + "."


def show_card_brief(card: store.Card, own: bool) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(metric_summary(card), hide_index=True, placeholder="—", width="stretch",
                     column_config={c: st.column_config.NumberColumn(c, format="%.4f")
                                    for c in ("average ties (RED-GNN)", "pessimistic ties (NBFNet)")})
        notes = ["Filtered ranking over all entities, tail and inverse (head) queries. Entities the "
                 "propagation never reaches all score 0: the RED-GNN protocol ranks such ties at their "
                 "average position, NBFNet's at the worst."]
        paper = paper_mrr_text(card.dataset)
        if paper:
            notes.append(paper)
        if inductive_queries_of(card.train) == "resplit":
            notes.append("Trained on re-split queries: all of the training graph's triples, a new quarter each "
                         "epoch, where the paper asks only its valid triples.")
        st.caption(" ".join(notes))
    with right:
        train = card.train or {}
        a, b = st.columns(2)
        a.metric("Parameters", format_count((card.params or {}).get("total")))
        b.metric("Training time", format_seconds(train.get("seconds")))
        c, d = st.columns(2)
        c.metric("Epochs", format_count(train.get("epochs")))
        d.metric("Trained on", trained_on(train, short=True), help=trained_on(train))
        st.caption(("Your own run" if own else "Shipped checkpoint") + f": `{card.path}`")
    replaced = replaced_graph_files(card.dataset, (card.data or {}).get("files") or {}) if own else []
    if replaced:
        st.warning(f"The graph **{card.dataset}** has changed since this run trained on it "
                   f"({', '.join(replaced)} differ from the card's checksums; an import with *replace* does this). "
                   "The card's metrics describe the old split; answers below use the graph as it is now.")
    with st.expander("Full model card: validation metrics, configuration, data checksums"):
        show_card(card, title=f"RED-GNN · {card.folder_name}")


# ---------------------------------------------------------------------------------------- backend calls

def replaced_graph_files(dataset: str, recorded: dict[str, str]) -> list[str]:
    """For a run on an imported graph: the graph's files that no longer match its card (else [])."""
    from backend.kg.user_graphs import graph_folder

    if dataset in DATASETS or not recorded:
        return []
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in graph_folder(dataset).glob("*.txt")))
    return _changed_files(dataset, tuple(sorted(recorded.items())), stamp)


@st.cache_data(max_entries=32, show_spinner=False)
def _changed_files(dataset: str, recorded: tuple, stamp: tuple) -> list[str]:
    from backend.kg.user_graphs import changed_files

    return changed_files(dataset, dict(recorded))


@st.cache_resource(show_spinner="Loading the checkpoint and its knowledge graph…", max_entries=4)
def load_checkpoint(src: Source):
    """The LoadedModel of ``src`` (cached per checkpoint, data root and graph)."""
    from backend.methods.redgnn.explain import load_model

    return load_model(src.model_dir, data_dir=src.data_root, graph=src.graph or None)


@st.cache_data(max_entries=8, show_spinner=False)
def entity_texts(src: Source) -> list[str]:
    """Per entity id, the text shown in pickers: 'label · name' (or just the name when it has no label)."""
    kg = load_checkpoint(src).kg
    return [kg.entity_text(i) for i in range(kg.n_ent)]


@st.cache_data(max_entries=64, show_spinner="Ranking every entity…")
def ranked_answers(src: Source, head: str, relation: int, top: int) -> pd.DataFrame:
    from backend.methods.redgnn.explain import rank_answers

    frame = rank_answers(load_checkpoint(src), head, relation, top=top)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


@st.cache_data(max_entries=64, show_spinner="Tracing the r-digraph…")
def evidence_json(src: Source, head: str, relation: int | str, answer: str, top_paths: int, max_edges: int) -> str:
    from backend.methods.redgnn.explain import explain_query

    lm = load_checkpoint(src)
    return explain_query(lm, head, relation, answer, top_paths=top_paths, max_edges=max_edges).to_json()


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-")[:40] or "x"


def example_triple(lm) -> tuple[int, int, int]:
    """A triple from the test split (else from the graph) to start the page with a meaningful query."""
    for split in (lm.kg.test, lm.kg.valid, lm.kg.facts):
        if len(split):
            h, r, t = (int(x) for x in split[0].tolist())
            return h, r, t
    return 0, 0, 0


# ---------------------------------------------------------------------------------------- sections

def entity_picker(lm, texts: list[str], key: str, default: int) -> int:
    """The query entity: a searchable selectbox (type to filter); for large graphs a text filter first."""
    n = len(texts)
    if n <= LARGE_ENTITY_LIST:
        return st.selectbox("Query entity (head)", options=range(n), index=default, key=key,
                            format_func=lambda i: texts[i],
                            help="Type part of a name to search. Shown as 'label · id' where the dataset has labels.")
    query = st.text_input(f"Search {n:,} entities", key=f"{key}-filter", placeholder="part of a name or id",
                          help=f"Lists the first {MAX_MATCHES} entities whose label or id contains the text.")
    needle = query.strip().lower()
    if needle:
        hits = [(t.lower(), i) for i, t in enumerate(texts) if needle in t.lower()]
        # exact names first, then names that start with the text, then the rest (each in id order)
        hits.sort(key=lambda h: (h[0] != needle and not h[0].startswith(needle + " ·"), not h[0].startswith(needle)))
        matches = [i for _, i in hits[:MAX_MATCHES]]
        if not matches:
            st.warning(f"No entity contains {query.strip()!r}; showing the example entity.")
            matches = [default]
    else:
        matches = [default] + [i for i in range(min(n, MAX_MATCHES)) if i != default]
    return st.selectbox("Query entity (head)", options=matches, index=0, key=f"{key}-{_slug(needle)}",
                        format_func=lambda i: texts[i])


def relation_picker(kg, head: int, default: int, tag: str) -> int:
    """The query relation, the head's own relations first with their count of known answers. The last
    relation picked stays picked when the next head has it too."""
    choices = kg.relation_choices(head)
    ids, texts = [r for r, _, _ in choices], {r: text for r, _, text in choices}
    last_key = f"kg-rel-last-{tag}"
    wanted = st.session_state.get(last_key, default)
    known = [r for r, n, _ in choices if n]
    index = ids.index(wanted) if wanted in known or not known else 0
    relation = st.selectbox("Relation", options=ids, index=index, key=f"kg-rel-{tag}-{head}", format_func=texts.get,
                            help=f"Every relation of the graph and its inverse ('inverse of r' asks for heads). "
                                 f"The {len(known)} with known answers from this head come first, with their count.")
    st.session_state[last_key] = relation
    return relation


def explain_clicked_row(table_key: str, pick_key: str) -> None:
    """A row clicked in the answers table becomes the answer explained (the selectbox below follows it)."""
    rows = st.session_state[table_key].selection.rows
    if rows:
        st.session_state[pick_key] = rows[0]


def answers_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns shown; the entity id only where the dataset has labels that differ from its ids."""
    columns = ["rank", "label", "entity", "score", "filtered_rank", "known_fact", "known_in", "reached"]
    if (frame["label"] == frame["entity"]).all():
        columns.remove("entity")
    return frame[columns]


ANSWER_COLUMNS = {
    "rank": st.column_config.NumberColumn("rank", help="Position by score on this page"),
    "label": st.column_config.TextColumn("answer"),
    "entity": st.column_config.TextColumn("entity id"),
    "score": st.column_config.NumberColumn("score", format="%.4f", help="RED-GNN's read-out score"),
    "filtered_rank": st.column_config.NumberColumn(
        "filtered rank", format="%.1f",
        help="Rank if this entity were the answer, with the other known answers removed (average ties)"),
    "known_fact": st.column_config.CheckboxColumn(
        "known fact", help="(head, relation, answer) is in the graph or in the train/valid/test splits"),
    "known_in": st.column_config.TextColumn(
        "known in", help="The split that holds the fact. The model reasons over the facts (on a transductive "
                         "dataset also over the train triples); valid and test facts are held out from that graph, "
                         "so ranking one high is a prediction, not a memory"),
    "reached": st.column_config.CheckboxColumn(
        "reached", help="Within L propagation steps of the head; unreached entities score exactly 0"),
}


def query_section(lm, src: Source, texts: list[str], tag: str) -> None:
    kg = lm.kg
    h0, r0, _ = example_triple(lm)
    st.subheader("Ask a query: (head, relation, ?)")
    c1, c2, c3 = st.columns([3, 3, 2])
    with c1:
        head = entity_picker(lm, texts, f"kg-head-{tag}", h0)
    with c2:
        relation = relation_picker(kg, head, r0, tag)
    with c3:
        top = st.slider("Answers shown (top-k)", min_value=5, max_value=50, value=10, step=5, key=f"kg-top-{tag}")
    head_name = kg.entities[head]
    try:
        frame = ranked_answers(src, head_name, int(relation), int(top))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not rank answers: {exc}")
        return
    query_text = f"({kg.entity_label(head)}, {kg.relation_label(relation)}, ?)"
    st.markdown(f"**Top {len(frame)} answers to {query_text}** out of {kg.n_ent:,} entities")
    track_record = None if src.graph else relation_track_record(src.model_dir, int(relation))
    if track_record:
        st.caption(track_record)
    query_key = f"{tag}-{head}-{relation}"
    table_key, pick_key = f"kg-answers-{query_key}-{top}", f"kg-answer-{query_key}-{top}"
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(answers_table(frame), hide_index=True, placeholder="—", width="stretch", column_config=ANSWER_COLUMNS,
                     key=table_key, on_select=lambda: explain_clicked_row(table_key, pick_key),
                     selection_mode="single-row")
        st.caption("Click a row's box to see why the model gives that answer (below).")
        st.download_button("Ranked answers (CSV)", data=frame_csv(frame),
                           file_name=f"redgnn-{_slug(kg.name)}-{_slug(head_name)}-{_slug(kg.relation_label(relation))}.csv",
                           mime="text/csv", key=f"kg-answers-csv-{tag}", on_click="ignore")
    with right:
        fig = ranking_bar_figure(frame, label="label", score="score", top=int(top), title="Scores of the top answers")
        fig.update_yaxes(type="category")  # numeric-looking names (family) stay categories
        st.plotly_chart(fig, key=f"kg-answers-chart-{tag}")
    if frame.empty:
        return

    st.subheader("Why? The r-digraph of an answer")
    st.caption("RED-GNN propagates from the head entity for L steps; every edge it uses gets an attention "
               "weight from its relation and the query relation. The r-digraph holds every edge on some path "
               "from the head (left, step 0) to the chosen answer (right, step L); edge width is attention, "
               "hovering an edge shows its relation and weight. 'self' edges let a path stay on an entity "
               "for a step. Paths are ranked by the product of the attention along them.")
    options = list(range(len(frame)))
    rows = frame.to_dict("records")

    def answer_text(i: int) -> str:
        row = rows[i]
        flags = f", known fact in {row['known_in']}" if row["known_fact"] else ""
        return f"{row['rank']}. {row['label']} (score {row['score']:.3f}{flags})"

    c1, c2, c3 = st.columns([3, 1, 1])
    with c1:
        pick = st.selectbox("Answer to explain", options=options, index=0, format_func=answer_text, key=pick_key)
    with c2:
        n_paths = st.slider("Paths listed", min_value=1, max_value=30, value=10, key=f"kg-paths-{tag}")
    with c3:
        max_edges = st.slider("Edges kept", min_value=10, max_value=200, value=60, step=10, key=f"kg-edges-{tag}",
                              help="The r-digraph is pruned to the edges of its strongest paths, added path by "
                                   "path up to this many edges (every edge shown lies on a complete path).")
    answer = rows[pick]["entity"]
    show_explanation(src, head_name, int(relation), answer, int(n_paths), int(max_edges),
                     key=f"kg-ev-{tag}-{head}-{relation}-{_slug(answer)}")


def show_explanation(src: Source, head: str, relation: int | str, answer: str, n_paths: int, max_edges: int,
                     key: str) -> None:
    try:
        evidence = Evidence.from_json(evidence_json(src, head, relation, answer, n_paths, max_edges))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not explain this answer: {exc}")
        return
    s = evidence.summary
    a, b, c, d = st.columns(4)
    a.metric("Filtered rank", f"{s.get('filtered_rank', float('nan')):g}")
    b.metric("Score", f"{s.get('score', float('nan')):.4f}")
    c.metric("Known fact", "yes" if s.get("known_fact") else "no")
    total, shown = s.get("r_digraph_edges", 0), s.get("edges_shown", 0)
    d.metric("r-digraph edges", f"{shown:,} of {total:,}" if total else "0",
             help="Edges drawn (strongest paths first) of all edges of the r-digraph")
    if s.get("note"):
        st.info(s["note"].capitalize() + ": there is no path to explain.")
        return
    show_evidence(evidence, key=key, max_edges=max_edges, top_paths=n_paths, layered=True, edge_slider=False,
                  file_stem=f"redgnn-{s.get('dataset', '')}-{head}-{answer}")


def triple_section(lm, src: Source, tag: str) -> None:
    kg = lm.kg
    h0, r0, t0 = example_triple(lm)
    st.subheader("Explain this triple")
    st.caption("Enter a (head, relation, tail) triple by name or label — for example one from the test split, "
               "filled in below — to see where the tail ranks among all entities and which paths support it. "
               "Where several entities share a label, write 'label · name' as the pickers show it.")
    state_key = f"kg-triple-{tag}"
    with st.form(f"kg-triple-form-{tag}"):
        c1, c2, c3 = st.columns(3)
        texts = entity_texts(src)
        head = c1.text_input("Head", value=texts[h0], key=f"kg-triple-head-{tag}")
        rel = c2.text_input("Relation", value=kg.relation_label(r0), key=f"kg-triple-rel-{tag}",
                            help="A relation name or 'inverse of NAME'")
        tail = c3.text_input("Tail", value=texts[t0], key=f"kg-triple-tail-{tag}")
        submitted = st.form_submit_button("Explain", type="primary")
    if submitted:
        errors, parts = [], {}
        for field, text, lookup in (("head", head, lm.entity_id), ("relation", rel, lm.relation_id),
                                    ("tail", tail, lm.entity_id)):
            if not text.strip():
                errors.append(f"Give a {field}.")
                continue
            try:
                parts[field] = lookup(text.strip())
            except ValueError as exc:
                message = str(exc)
                errors.append(message[:1].upper() + message[1:])
        if errors:
            st.session_state.pop(state_key, None)
            for message in errors:
                st.error(message)
            return
        st.session_state[state_key] = (int(parts["head"]), int(parts["relation"]), int(parts["tail"]))
    chosen = st.session_state.get(state_key)
    if not chosen:
        return
    h, r, t = chosen
    st.markdown(f"Triple: **({kg.entity_label(h)}, {kg.relation_label(r)}, {kg.entity_label(t)})**")
    show_explanation(src, kg.entities[h], r, kg.entities[t], 10, 60,
                     key=f"kg-triple-ev-{tag}-{h}-{r}-{t}")


def scored_triples(src: Source, source: bytes) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(scored rows, skipped rows with the reason, problem lines) for an uploaded or pasted table, with a progress
    bar over its distinct queries; kept for the session."""
    import hashlib

    from backend.methods.redgnn.triples import PAGE_MAX_ROWS, read_triples, score_triples

    def compute(progress):
        lm = load_checkpoint(src)
        table = read_triples(lm, source, max_rows=PAGE_MAX_ROWS)
        skipped = pd.DataFrame([{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                                for p in table.problems], columns=["row", "column", "value", "reason"])
        return score_triples(lm, table, progress=progress), skipped, table.summary()

    return kept_with_progress("kg-scored-triples", (src, hashlib.sha256(source).hexdigest()),
                              "Scoring the triples", "distinct queries", compute)


def example_rows(lm, n: int = 3) -> str:
    """Tab-separated head, relation, tail of the first test triples: the format the upload reads."""
    split = lm.kg.test if len(lm.kg.test) else lm.kg.facts
    return "\n".join(f"{lm.kg.entity_text(h)}\t{lm.kg.relation_label(r)}\t{lm.kg.entity_text(t)}"
                     for h, r, t in split[:n].tolist())


TRIPLE_COLUMNS = {
    "row": st.column_config.NumberColumn("row", help="Line of your file (the header is line 1)"),
    "score": st.column_config.NumberColumn("score", format="%.4f"),
    "rank": st.column_config.NumberColumn(
        "rank", format="%.1f", help="Filtered rank of the tail among all entities (average ties), as in the test"),
    "reached": ANSWER_COLUMNS["reached"],
    "known_fact": ANSWER_COLUMNS["known_fact"],
    "best_answer": st.column_config.TextColumn("model's best answer"),
    "best_score": st.column_config.NumberColumn("best score", format="%.4f"),
    "answer_rank": st.column_config.NumberColumn("answer rank"),
}


def batch_section(lm, src: Source, tag: str) -> None:
    from backend.methods.redgnn.triples import PAGE_MAX_ROWS, mean_reciprocal_rank

    kg = lm.kg
    st.subheader("Rank your own triples")
    st.caption(f"Upload a CSV or TSV with the columns head, relation and tail — a header is optional; names, labels "
               f"or 'label · name' as the pickers show them, and 'inverse of RELATION' for head queries — or paste "
               f"the rows. Each triple gets the tail's score and its filtered rank among all {kg.n_ent:,} entities "
               f"(the test protocol), whether it is reached within {lm.model.n_layer} hops and whether it is a known "
               f"fact. Without a tail column each (head, relation) gets its 5 best answers. The page reads the first "
               f"{PAGE_MAX_ROWS:,} rows; `python -m backend predict redgnn --input FILE` reads them all.")
    c1, c2 = st.columns(2)
    upload = c1.file_uploader("Triples file", type=["csv", "tsv", "txt"], key=f"kg-batch-file-{tag}")
    pasted = c2.text_area("…or paste rows", key=f"kg-batch-text-{tag}", height=120,
                          placeholder=example_rows(lm), disabled=upload is not None,
                          help="One triple per line, tab- or comma-separated (the example is from the test split)")
    source = upload.getvalue() if upload is not None else pasted.encode("utf-8")
    if not source.strip():
        return
    try:
        frame, skipped, problems = scored_triples(src, source)
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not read the table: {exc}")
        return
    if problems:
        lead = (f"{_count(len(skipped), 'row')} skipped — the others are scored:" if len(skipped) else
                "Not every row was read:")
        st.warning(lead + "\n\n" + "\n".join(f"- {line}" for line in problems))
    if frame.empty:
        st.info("No row could be scored.")
    elif "rank" in frame:
        ranks = frame["rank"]
        st.markdown(f"**{len(frame):,} triples scored**: MRR {mean_reciprocal_rank(frame):.3f}, "
                    f"Hits@1 {(ranks <= 1).mean():.3f}, Hits@10 {(ranks <= 10).mean():.3f}; "
                    f"{_count(int(frame['known_fact'].sum()), 'known fact')}, "
                    f"{_count(int((~frame['reached']).sum()), 'tail')} not reached (score 0).")
    else:
        n = frame["row"].nunique()
        st.markdown(f"**{n:,} {'query' if n == 1 else 'queries'} answered** (5 best answers each).")
    if not frame.empty:
        st.dataframe(frame, hide_index=True, width="stretch", column_config=TRIPLE_COLUMNS,
                     height=min(388, (len(frame) + 1) * 35 + 3))  # every row up to ten, then a scroll
    name = f"redgnn-{_slug(kg.name)}-ranked"
    items = [("Download results (CSV)", frame_csv(frame), f"{name}.csv", "text/csv")]
    if len(skipped):
        items.append(("Download skipped rows (CSV)", frame_csv(skipped), f"{name}-skipped.csv", "text/csv"))
    download_buttons(items, key=f"kg-batch-{tag}")


GRAPH_SUFFIX = " (your graph)"
TRAIN_DATASET_KEY = "kg-train-dataset"


def _graph_name_from_file(file_name: str) -> str:
    """A free graph name from an upload's file name: 'My KG (v2).tsv' -> 'My-KG-v2'; 'family.csv' -> 'family-own'
    (a catalog dataset's name is taken); a second 'x.csv' -> 'x-2'."""
    from backend.kg.user_graphs import graph_folder

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(file_name).stem).strip("-._")[:56] or "my-graph"
    if stem.lower() in {name.lower() for name in CATALOG}:
        stem += "-own"
    name, n = stem, 2
    while graph_folder(name).exists():
        name, n = f"{stem}-{n}", n + 1
    return name


def import_section(expanded: bool) -> None:
    """Upload a table of triples and make it a knowledge graph the train panel offers."""
    from backend.kg.user_graphs import MIN_TRIPLES, graph_report, graphs_dir, graphs_frame, import_graph

    with st.expander("Add your own knowledge graph", expanded=expanded):
        st.markdown(
            f"Upload a CSV or TSV of triples with the columns **head, relation, tail** (a header is optional; names "
            f"may hold spaces). Repeated triples are dropped and rows that cannot be read are listed, the others "
            f"kept. The triples are split at random into training, valid and test triples; a held-out triple whose "
            f"entity or relation occurs in no training triple is trained on instead, since a transductive model "
            f"can only rank entities it has seen. The graph needs at least {MIN_TRIPLES} distinct triples. It is "
            f"written to `{graphs_dir()}` and appears in **Train a RED-GNN model** below; the trained run then "
            f"appears in the checkpoint picker, to query and explain like the shipped ones. A graph that names its "
            f"relations as a checkpoint's dataset does (or labels them so in the labels table) needs no training: "
            f"pick it under **Reason over** at the top, and the checkpoint answers on it at once. From a terminal: "
            f"`python -m backend import-graph FILE --name NAME`.")
        c0, c5 = st.columns([3, 2])
        upload = c0.file_uploader("Graph file (triples)", type=["csv", "tsv", "txt"], key="kg-import-file")
        labels = c5.file_uploader("Labels (optional)", type=["csv", "tsv", "txt"], key="kg-import-labels",
                                  help="A CSV or TSV of name, label: readable labels for entities and relations "
                                       "(for ids such as Q42 or /m/02mjmr); the pickers, answers and evidence "
                                       "show them, and a query may name an entity by either. A relation labelled "
                                       "with a checkpoint's relation name is matched to it under Reason over.")
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        name = c1.text_input("Graph name", value=_graph_name_from_file(upload.name) if upload else "",
                             key=f"kg-import-name-{upload.name if upload else ''}",
                             help="Letters, digits, '_', '-' and '.'; not the name of a catalog dataset")
        valid = c2.number_input("Valid share", min_value=0.01, max_value=0.4, value=0.1, step=0.05,
                                key="kg-import-valid", help="Share of the triples held out to select the epoch")
        test = c3.number_input("Test share", min_value=0.01, max_value=0.4, value=0.1, step=0.05,
                               key="kg-import-test", help="Share of the triples held out for the test metrics")
        seed = c4.number_input("Split seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="kg-import-seed")
        d1, d2 = st.columns([2, 3])
        present = [d for d in TRANSDUCTIVE_DATASETS
                   if d in CATALOG and dataset_status(CATALOG[d], resolve_data_root(None)) == "present"]
        extend = d1.selectbox("Add to a dataset (optional)", options=["", *present], key="kg-import-extend",
                              format_func=lambda d: d or "no: the table is the whole graph",
                              help="Your triples join the dataset's graph, whose triples always train; its labels "
                                   "come along, and your cells may name its entities by their labels. The valid "
                                   "and test triples are drawn from your own triples: reason over the graph with "
                                   "that dataset's checkpoint to see how well it predicts them.")
        replace = d2.checkbox("Replace a graph of the same name", key="kg-import-replace")
        if st.button("Add graph", type="primary", disabled=upload is None, key="kg-import-add"):
            try:
                from backend.kg.loader import load_redgnn_layout

                report = import_graph(upload.getvalue(), name, valid_fraction=float(valid),
                                      test_fraction=float(test), seed=int(seed), replace=replace,
                                      source_name=upload.name, labels=labels.getvalue() if labels else None,
                                      labels_name=labels.name if labels else "",
                                      extend=load_redgnn_layout(extend, resolve_data_root(None)) if extend else None)
            except (ValueError, OSError) as exc:
                st.error(f"Could not add the graph: {exc}")
            else:
                st.session_state[TRAIN_DATASET_KEY] = report.name
                st.session_state["kg-import-last"] = report.name
        last = st.session_state.get("kg-import-last")
        saved = graph_report(last) if last else None
        if saved:
            st.success(f"Added **{last}** from {saved['source']}. " + " ".join(_report_lines(saved)) +
                       " Pick it in **Train a RED-GNN model** below, or under **Reason over** at the top to query "
                       "it with the checkpoint there, untrained.")
            label_problems = (saved.get("labels") or {}).get("problems") or []
            if label_problems:
                st.warning("Label rows skipped:\n\n" + "\n".join(f"- {line}" for line in label_problems))
            if saved["problem_rows"]:
                st.warning(f"{_count(len(saved['problem_rows']), 'row')} skipped:\n\n" +
                           "\n".join(f"- {line}" for line in saved["problems"]))
                skipped = pd.DataFrame(saved["problem_rows"], columns=["row", "column", "value", "reason"])
                download_buttons([("Download skipped rows (CSV)", frame_csv(skipped), f"{last}-skipped.csv",
                                   "text/csv")], key="kg-import-skipped")
        graphs = graphs_frame()
        if len(graphs):
            st.dataframe(graphs, hide_index=True, width="stretch", key="kg-import-graphs")


def graph_text(name: str) -> str:
    """What an imported graph holds and the settings it trains with."""
    from backend.kg.user_graphs import graph_report
    from backend.methods.redgnn.config import IMPORTED_GRAPH_SETTINGS, config_for

    report = graph_report(name) or {}
    splits = report.get("splits") or {}
    c = config_for(name)
    held = (f"{report.get('entities', 0):,} entities, {report.get('relations', 0)} relations, "
            f"{splits.get('facts', 0) + splits.get('train', 0):,} training, {splits.get('valid', 0):,} valid and "
            f"{splits.get('test', 0):,} test triples" if report else "no import report")
    return (f"Your graph {name}: {held}. It trains with {IMPORTED_GRAPH_SETTINGS}'s settings: {c.n_layer} layers, "
            f"hidden size {c.hidden_dim}, learning rate {c.lr:g}, batches of {c.n_batch} queries. The model has no "
            "entity embeddings, so its size does not grow with the graph; an epoch's time grows with the triples.")


def _report_lines(report: dict) -> list[str]:
    from backend.kg.user_graphs import GraphReport

    return GraphReport(**report).lines()


def train_section(expanded: bool) -> None:
    from backend.kg.user_graphs import list_user_graphs

    import_section(expanded=False)
    with st.expander("Train a RED-GNN model", expanded=expanded):
        st.markdown(
            "Starts `python -m backend train redgnn` in the background with the paper's hyper-parameters for "
            "the chosen dataset (for your own graphs: family's) and follows it here (loss and validation MRR per "
            "epoch). The run writes "
            f"`model.pt` and `card.json` to a new folder under `{runs_dir() / 'redgnn'}` — never over the "
            "shipped checkpoints. When it finishes, the page reloads and the run appears in the checkpoint "
            "picker above as “(your run)”. On a laptop CPU family trains in a few minutes, umls and the small "
            "inductive splits in under an hour; WN18RR needs hours (test MRR 0.51 after 70 minutes on one "
            "thread, 0.546 after six and a half hours) and FB15k-237 a GPU.")
        c1, c2, c3 = st.columns([3, 1, 1])
        with c1:
            options = list(DATASETS) + [g for g in list_user_graphs() if g not in DATASETS]
            if st.session_state.get(TRAIN_DATASET_KEY) not in options:
                st.session_state[TRAIN_DATASET_KEY] = "family"
            ds = st.selectbox("Dataset", options=options, key=TRAIN_DATASET_KEY,
                              format_func=lambda d: d + (" (inductive)" if d in INDUCTIVE_DATASETS else
                                                         GRAPH_SUFFIX if d not in DATASETS else ""))
        with c2:
            epochs = st.number_input("Epochs", min_value=1, max_value=500, value=DEFAULT_TRAIN_EPOCHS, step=1,
                                     key="kg-train-epochs")
        with c3:
            minutes = st.number_input("Time limit (min)", min_value=0, max_value=24 * 60, value=0, step=10,
                                      key="kg-train-minutes",
                                      help="Stop training after this many minutes (0 = no limit) and keep the best "
                                           "epoch so far; an epoch that the time left cannot half cover is not "
                                           "started.")
        queries = "valid"
        shipped = shipped_checkpoint(ds)
        if ds not in DATASETS:
            st.caption(graph_text(ds))
        if ds in INDUCTIVE_DATASETS:
            shipped_queries = inductive_queries_of(shipped[1].train) if shipped else None
            queries = st.radio("Training queries", options=list(INDUCTIVE_QUERIES), horizontal=True,
                               index=INDUCTIVE_QUERIES.index(shipped_queries or "valid"),
                               format_func=INDUCTIVE_QUERY_CHOICES.get, key=f"kg-train-queries-{ds}",
                               help="RED-GNN's recipe asks the training graph's valid triples only. The re-split "
                                    "pools the training graph's triples with them and draws a new quarter as "
                                    "queries each epoch (the rest is the graph), as transductive training does: "
                                    "several times more queries, so each epoch takes longer, and every relation "
                                    "of the graph is asked. On this project's CPU it raised test MRR on "
                                    "fb237_v2 from 0.453 to 0.516, on nell_v2 from 0.411 to 0.515, on nell_v3 from "
                                    "0.407 to 0.473 and on nell_v4 from 0.188 to 0.391 (the README has all splits).")
        root = resolve_data_root(None)
        missing = None
        if ds in CATALOG and dataset_status(CATALOG[ds], root) != "present":
            missing = DataMissingError.for_dataset(CATALOG[ds], root, missing_files(CATALOG[ds], root))
            st.warning(f"Cannot train: {missing}")
        argv = ["train", "redgnn", "--dataset", ds, "--epochs", str(int(epochs))]
        if shipped is not None:
            folder, card = shipped
            st.caption(epoch_time_text(card))
            done = int((card.train or {}).get("epochs", 0))
            if st.checkbox(f"Continue the shipped checkpoint ({done} epochs, test MRR "
                           f"{card.metrics['test']['mrr']:.3f}) for {int(epochs)} more epochs",
                           key=f"kg-train-continue-{ds}",
                           help="Starts from its selected weights, its learning-rate schedule and its record; "
                                "the new folder keeps whichever of the old and the new weights is better on valid."):
                argv = ["train", "redgnn", "--dataset", ds, "--epochs", str(done + int(epochs)),
                        "--init-from", str(folder)]
        if ds in INDUCTIVE_DATASETS:  # always named: a continued checkpoint would otherwise keep its own
            argv += ["--inductive-queries", queries]
        if minutes:
            argv += ["--max-seconds", str(int(minutes) * 60)]
        output = runs_dir() / "redgnn" / f"{ds}-{time.strftime('%Y%m%d-%H%M%S')}"
        st.caption(f"Output folder: `{output}`")
        job_panel(f"redgnn/{ds}", argv + ["--output", str(output)],
                  key=f"kg-train-{ds}", start_label="Start training", disabled=missing is not None)


#: inductive training-query sources offered by the train panel (RedGNNConfig.inductive_queries)
INDUCTIVE_QUERY_CHOICES = {"valid": "RED-GNN's: the training graph's valid triples",
                           "resplit": "re-split: all training-graph triples, a new quarter each epoch"}


def epoch_time_text(card: store.Card) -> str:
    """How long the shipped run's epochs took, to size a run: 'The shipped checkpoint trained 20 epochs ...'."""
    train = card.train or {}
    epochs, seconds = int(train.get("epochs") or 0), train.get("seconds")
    if not epochs or not seconds:
        return "The shipped checkpoint's card does not record its training time."
    return (f"The shipped checkpoint trained {epochs} epoch{'s' if epochs != 1 else ''} in "
            f"{format_seconds(seconds)} on {trained_on(train)}: about {format_seconds(seconds / epochs)} per epoch, "
            "plus a validation pass after each.")


def shipped_checkpoint(dataset: str) -> tuple[Path, store.Card] | None:
    """The shipped checkpoint folder of ``dataset`` and its card, if there is one."""
    folder = store.default_model_dir("redgnn", dataset, "inductive" if dataset in INDUCTIVE_DATASETS else "default")
    try:
        return folder, store.load_card(folder)
    except (FileNotFoundError, ValueError, KeyError):
        return None


@st.cache_data(max_entries=64, show_spinner=False)
def _graph_relations(name: str, stamp: tuple) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(relation names, their labels, what the user said they mean) of an imported graph."""
    from backend.kg.user_graphs import graph_relations, relation_map

    return (*graph_relations(name), relation_map(name))


def _map_stamp(graph: str) -> float:
    from backend.kg.user_graphs import RELATION_MAP_FILE, graph_folder

    path = graph_folder(graph) / RELATION_MAP_FILE
    return path.stat().st_mtime if path.exists() else 0.0


def graph_picker(lm, card: store.Card) -> str:
    """The graph the checkpoint reasons over: "" for its own, or an imported graph (shown with how many of its
    relations the checkpoint knows). Nothing is shown while no graph is imported."""
    from backend.kg.align import shared_relations
    from backend.kg.user_graphs import graph_folder, list_user_graphs

    graphs = list_user_graphs()
    if not graphs:
        return ""
    known = {}
    for name in graphs:
        relations, labels, meaning = _graph_relations(
            name, ((graph_folder(name) / "relations.txt").stat().st_mtime, _map_stamp(name)))
        known[name] = f"{shared_relations(relations, lm.training, labels, meaning)} of {len(relations)}"
    own = "its inductive test graph" if card.setting == "inductive" else "the graph it was trained on"
    # the counts stay out of the option labels: a selected option's label is not redrawn when it changes
    return st.selectbox(
        "Reason over", options=["", *graphs], key=f"kg-graph-{_slug(Path(str(card.path)).name)}",
        format_func=lambda g: f"{card.dataset}: {own}" if not g else f"{g} (your graph)",
        help="RED-GNN learns relations, not entities, so a checkpoint can answer queries on a graph of yours "
             "without training, when the graph names its relations as the checkpoint's dataset does (or by their "
             "labels; case is ignored), or once you say what its relations mean. Triples of other relations "
             "are left out. Import graphs below. Relations of each graph this checkpoint knows: "
             + "; ".join(f"{g} {n}" for g, n in known.items()) + ".")


#: most relations the mapping form lists (by triples left out); the rest: `python -m backend map-relations`
MAP_FORM_ROWS = 20


def relation_map_section(training, graph: str, left_out: dict[str, int]) -> None:
    """Say what the graph's unmatched relations (``left_out``: name -> its triples) mean in the terms of the
    checkpoint's ``training`` graph (saved with the graph)."""
    from backend.kg.user_graphs import relation_map, save_relation_map

    said = relation_map(graph)
    rows = sorted(left_out.items(), key=lambda kv: (-kv[1], kv[0]))[:MAP_FORM_ROWS]
    rows += [(name, None) for name in sorted(said) if name not in dict(rows)]
    if not rows:
        return
    options = ["", *training.relations, *(f"inverse of {r}" for r in training.relations)]
    with st.expander(f"Map your relations to {training.name}'s ({_count(len(left_out), 'relation')} left out)"):
        st.caption(f"Say which relation of {training.name} a relation of your graph means ('inverse of r' when "
                   f"your triples run the other way: yours (a, has son, b) is its (b, son, a)), and its triples join "
                   f"the graph this checkpoint reasons over. Saved with the graph, for every checkpoint; "
                   f"`python -m backend map-relations {graph} 'FROM=TO'` does the same"
                   + (f" (the form lists the {MAP_FORM_ROWS} with the most triples)."
                      if len(left_out) > MAP_FORM_ROWS else "."))
        with st.form(f"kg-map-{graph}"):
            chosen = {}
            for name, count in rows:
                current = said.get(name, "")
                chosen[name] = st.selectbox(
                    f"{name}" + (f" ({count:,} triples left out)" if count else ""), options=options,
                    index=options.index(current) if current in options else 0, key=f"kg-map-{graph}-{name}",
                    format_func=lambda r: r or "(leave out)")
            submitted = st.form_submit_button("Save the mapping", type="primary")
        if submitted:
            try:
                save_relation_map(graph, {name: value for name, value in chosen.items()
                                          if value != said.get(name, "")})
            except (ValueError, OSError) as exc:
                st.error(f"Could not save the mapping: {exc}")
            else:
                st.rerun()


def compared_checkpoints(graph: str, data_root: str, stamp: tuple) -> tuple[pd.DataFrame, list[str]]:
    """Every checkpoint that knows a relation of ``graph`` run on its valid triples, with a progress bar over
    the checkpoints; kept for the session (``stamp``: the checkpoints' and the graph's file times)."""
    from backend.methods.redgnn import compare_on_graph

    return kept_with_progress("kg-compared", (graph, data_root, stamp),
                              "Running each checkpoint on the graph's valid triples", "checkpoints",
                              lambda progress: compare_on_graph(graph, data_dir=data_root, progress=progress))


COMPARE_COLUMNS = {
    "checkpoint": st.column_config.TextColumn("checkpoint"),
    "relations_known": st.column_config.TextColumn("relations known", help="of the graph's relations"),
    "coverage": st.column_config.NumberColumn("valid triples answered", format="percent",
                                              help="Share of the graph's valid triples whose relation it knows"),
    "mrr_all": st.column_config.NumberColumn("MRR, all valid", format="%.3f",
                                             help="Over all valid triples; those it cannot answer count 0"),
    "mrr": st.column_config.NumberColumn("MRR, answered", format="%.3f"),
    "hits@10": st.column_config.NumberColumn("Hits@10, answered", format="%.3f"),
    "seen_in_training": st.column_config.NumberColumn(
        "seen in training", format="percent",
        help="Share of the valid triples this checkpoint was trained on (its dataset holds them; entities found "
             "by name, label or their place in the graph, so at least this share): its figure is optimistic"),
    "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
}


def comparison_section(graph: str, data_root: str) -> None:
    """On request, every checkpoint that knows a relation of ``graph`` ranked on its valid triples."""
    from backend.kg.user_graphs import graph_folder
    from backend.methods.redgnn.choose import candidate_folders

    if not st.toggle("Which checkpoint suits this graph? Compare every checkpoint on its valid triples",
                     key=f"kg-compare-{graph}"):
        return
    folders = candidate_folders()
    stamp = tuple((str(f), (f / "model.pt").stat().st_mtime if (f / "model.pt").exists() else 0) for f in folders)
    stamp += ((graph_folder(graph) / "valid.txt").stat().st_mtime, _map_stamp(graph))
    try:
        frame, skipped = compared_checkpoints(graph, data_root, stamp)
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not compare the checkpoints: {exc}")
        return
    if frame.empty:
        st.info(f"No checkpoint knows a relation of {graph}.")
    else:
        best = frame.iloc[0]
        st.markdown(f"Best on the valid triples: **{best['checkpoint']}** (MRR {best['mrr_all']:.3f} over all of "
                    f"them). Pick it under **Checkpoint** above; the test triples stay untouched for its final "
                    f"figure, which the quality section below computes.")
        st.dataframe(frame, hide_index=True, width="stretch", column_config=COMPARE_COLUMNS,
                     column_order=list(COMPARE_COLUMNS), key=f"kg-compare-table-{graph}")
        download_buttons([("Download the comparison (CSV)", frame_csv(frame), f"redgnn-checkpoints-on-{graph}.csv",
                            "text/csv")], key=f"kg-compare-dl-{graph}")
    if skipped:
        by_reason: dict[str, list[str]] = {}
        for line in skipped:  # "name: reason"
            name, _, reason = line.partition(": ")
            by_reason.setdefault(reason, []).append(name)
        st.caption("Left out: " + "; ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items())
                   + ".")


# ---------------------------------------------------------------------------------------- page

def main() -> None:
    st.title("Knowledge-graph reasoning")
    st.markdown(
        "**RED-GNN** (Zhang & Yao, WWW 2022) answers queries *(head, relation, ?)* on a knowledge graph by "
        "message passing over the **relational digraph** that grows from the head entity, one hop per layer. "
        "Pick a checkpoint, ask a query, and inspect the paths the model weighed to reach each answer.")
    checkpoints = find_checkpoints()
    if not checkpoints:
        st.info(f"No RED-GNN checkpoint yet: none under `{store.MODELS_DIR / 'redgnn'}` and none of your runs under "
                f"`{runs_dir() / 'redgnn'}`. Train one below (family takes a few minutes on a CPU), or from a "
                "terminal: `python -m backend train redgnn --dataset family`.")
        train_section(expanded=True)
        return

    paths = list(checkpoints)
    model_dir = st.selectbox("Checkpoint", options=paths, index=0, key="kg-checkpoint",
                             format_func=lambda p: checkpoints[p][0],
                             help=f"Shipped checkpoints ({store.MODELS_DIR / 'redgnn'}) and your runs "
                                  f"({runs_dir() / 'redgnn'}).")
    label, card = checkpoints[model_dir]
    show_card_brief(card, own="(your run)" in label)

    src = Source(model_dir, str(resolve_data_root(None)))
    try:
        lm = load_checkpoint(src)
    except DataMissingError as exc:
        st.warning(f"The {card.dataset} knowledge graph is not under the data root, so this checkpoint cannot "
                   f"answer queries: {exc}")
        train_section(expanded=False)
        return
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not load the checkpoint in {model_dir}: {exc}")
        train_section(expanded=False)
        return

    graph_slot = st.container()  # always there, so the picker appearing after an import shifts no later element
    with graph_slot:  # (a shift would re-create the expanders below, collapsed)
        graph = graph_picker(lm, card)
    if graph:
        src = src._replace(graph=graph, stamp=_map_stamp(graph))
        try:
            lm = load_checkpoint(src)
        except EXPECTED_ERRORS as exc:
            with graph_slot:  # what helps: saying what its relations mean, or a checkpoint that knows them
                st.error(f"This checkpoint cannot reason over {graph}: {exc}")
                if str(exc).startswith("none of"):
                    from backend.kg.user_graphs import relation_triples

                    st.caption(f"Say below what its relations mean in {lm.training.name}'s terms, or run every "
                               "checkpoint on its valid triples to find one that knows them.")
                    relation_map_section(lm.training, graph, relation_triples(graph))
                    comparison_section(graph, src.data_root)
            train_section(expanded=False)
            return
    kg = lm.kg
    if lm.applied is not None:
        with graph_slot:
            st.caption(f"Queries run on your graph **{kg.name}**, which this checkpoint was not trained on: "
                       f"{kg.n_ent:,} entities, {(lm.graph.n_edges - kg.n_ent) // 2:,} triples in the graph (its "
                       f"test and valid triples held out), {lm.model.n_layer} propagation steps, device {lm.device}. "
                       f"{lm.applied.summary()}")
            relation_map_section(lm.training, graph, lm.applied.left_out)
            comparison_section(graph, src.data_root)
    else:
        setting = (f"inductive test graph **{kg.name}** (entities unseen in training)" if card.setting == "inductive"
                   else f"graph **{kg.name}**")
        st.caption(f"Queries run on the {setting}: {kg.n_ent:,} entities, {kg.n_rel} relations (+ inverses), "
                   f"{(lm.graph.n_edges - kg.n_ent) // 2:,} triples in the graph, "
                   f"{lm.model.n_layer} propagation steps, device {lm.device}.")
    tag = _slug(Path(model_dir).parent.name + "-" + Path(model_dir).name + (f"-on-{graph}" if graph else ""))
    texts = entity_texts(src)
    query_section(lm, src, texts, tag)
    st.divider()
    triple_section(lm, src, tag)
    st.divider()
    batch_section(lm, src, tag)
    st.divider()
    relation_quality_section(lm, src.model_dir, src.data_root, len(distinct_queries(kg.test, kg.n_rel)), tag,
                             graph=src.graph)
    st.divider()
    train_section(expanded=False)

main()
