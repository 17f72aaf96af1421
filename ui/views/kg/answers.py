"""The KG page's answers: a query's ranked answers (the shared query form over the checkpoint's names), the
r-digraph of the answer a user picks, a triple explained, and how far to trust a relation's answers. Everything
goes through the loaded model's verbs (predict, explain, breakdown)."""
from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import streamlit as st

from backend.core.evidence import Evidence
from backend.core.viz import ranking_bar_figure
from ui.components.downloads import frame_csv
from ui.components.evidence_view import show_evidence
from ui.components.glossary import term
from ui.components.query_form import query_form
from ui.views.kg.graphs import EXPECTED_ERRORS, slug


class Source(NamedTuple):
    """What the page's answers come from: a checkpoint folder, the data root, the imported graph it reasons over
    ("": its own) and when that graph's relation map was saved. A tuple, so the caches key on it."""

    model_dir: str
    data_root: str
    graph: str = ""
    stamp: float = 0.0

    @property
    def options(self) -> tuple:
        return (("graph", self.graph),) if self.graph else ()


def _model(src: Source):
    from ui.components.checkpoints import loaded_model

    return loaded_model("redgnn", src.model_dir, src.data_root, src.options, src.stamp)


@st.cache_data(max_entries=64, show_spinner="Ranking every entity…")
def ranked_answers(src: Source, head: int, relation: int, top: int) -> pd.DataFrame:
    frame = _model(src).predict({"head": head, "relation": relation, "top": top})
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


@st.cache_data(max_entries=64, show_spinner="Tracing the r-digraph…")
def evidence_json(src: Source, head: str, relation: int | str, answer: str, top_paths: int, max_edges: int) -> str:
    return _model(src).explain({"head": head, "relation": relation, "answer": answer, "paths": top_paths,
                                "max_edges": max_edges}).to_json()


def example_triple(model) -> tuple[int, int, int]:
    """A triple from the test split (else from the graph) to start the page with a meaningful query."""
    for split in (model.kg.test, model.kg.valid, model.kg.facts):
        if len(split):
            h, r, t = (int(x) for x in split[0].tolist())
            return h, r, t
    return 0, 0, 0


def explain_clicked_row(table_key: str, pick_key: str) -> None:
    """A row clicked in the answers table becomes the answer explained (the selectbox below follows it)."""
    rows = st.session_state[table_key].selection.rows
    if rows:
        st.session_state[pick_key] = rows[0]


def answers_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns shown; the entity id only where the dataset has labels that differ from its ids."""
    columns = ["rank", "label", "entity", "score", "filtered_rank", "rank_in_words", "known_fact", "known_in",
               "reached"]
    if (frame["label"] == frame["entity"]).all():
        columns.remove("entity")
    return frame[columns]


ANSWER_COLUMNS = {
    "rank": st.column_config.NumberColumn("rank", help="Position by score on this page"),
    "label": st.column_config.TextColumn("answer"),
    "entity": st.column_config.TextColumn("entity id"),
    "score": st.column_config.NumberColumn("score", format="%.3f", help=term("score")),
    "filtered_rank": st.column_config.NumberColumn("filtered rank", format="%g", help=term("filtered rank")
                                                   + " Ties count half (average ties), so a rank may end in .5."),
    "rank_in_words": st.column_config.TextColumn("what the rank means", width="medium",
                                                 help="Its place among the candidates, and how many other true "
                                                      "answers scored above it and were set aside"),
    "known_fact": st.column_config.CheckboxColumn("known fact", help=term("known fact")),
    "known_in": st.column_config.TextColumn(
        "known in", help="The split that holds the fact. The model reasons over the facts (on a transductive "
                         "dataset also over the train triples); valid and test facts are held out from that graph, "
                         "so ranking one high is a prediction, not a memory"),
    "reached": st.column_config.CheckboxColumn("reached", help=term("reached")),
}


def track_record(model, relation_id: int) -> str | None:
    """One line on how well this checkpoint answers ``relation_id`` on the test split (from its saved
    breakdown), for reading a single query's answers; None when none is saved."""
    frame = model.saved_breakdown("test")
    if frame is None:
        return None
    rows = frame[frame["relation_id"] == relation_id]
    if rows.empty:
        return "This relation has no test answers, so how well the model answers it is not measured."
    row = rows.iloc[0]
    trained = int(row["training_queries"])
    return (f"How far to trust these answers: on the test split, *{row['relation']}* scores MRR "
            f"**{row['mrr']:.3f}** and Hits@10 **{row['hits@10']:.3f}** over {int(row['answers']):,} answers; "
            f"{trained:,} training {'query' if trained == 1 else 'queries'} asked it.")


def query_section(method, model, src: Source, tag: str) -> None:
    kg = model.kg
    h0, r0, _ = example_triple(model)
    st.subheader("Ask a query: (head, relation, ?)")
    query = query_form(method, model, f"kg-q-{tag}", ("head", "relation", "top"),
                       defaults={"head": h0, "relation": r0, "top": 10})
    head, relation, top = int(query["head"]), int(query["relation"]), int(query["top"])
    try:
        frame = ranked_answers(src, head, relation, top)
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not rank answers: {exc}")
        return
    head_name = kg.entities[head]
    query_text = f"({kg.entity_label(head)}, {kg.relation_label(relation)}, ?)"
    st.markdown(f"**Top {len(frame)} answers to {query_text}** out of {kg.n_ent:,} entities")
    record = None if src.graph else track_record(model, relation)
    if record:
        st.caption(record)
    query_key = f"{tag}-{head}-{relation}"
    table_key, pick_key = f"kg-answers-{query_key}-{top}", f"kg-answer-{query_key}-{top}"
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(answers_table(frame), hide_index=True, placeholder="—", width="stretch",
                     column_config=ANSWER_COLUMNS, key=table_key,
                     on_select=lambda: explain_clicked_row(table_key, pick_key), selection_mode="single-row")
        st.caption("Click a row's box to see why the model gives that answer (below).")
        st.download_button("Ranked answers (CSV)", data=frame_csv(frame),
                           file_name=f"redgnn-{slug(kg.name)}-{slug(head_name)}-{slug(kg.relation_label(relation))}.csv",
                           mime="text/csv", key=f"kg-answers-csv-{tag}", on_click="ignore")
    with right:
        fig = ranking_bar_figure(frame, label="label", score="score", top=top, title="Scores of the top answers")
        fig.update_yaxes(type="category")  # numeric-looking names (family) stay categories
        st.plotly_chart(fig, key=f"kg-answers-chart-{tag}")
    if frame.empty:
        return

    st.subheader("Why? The r-digraph of an answer")
    st.caption(method.capabilities.evidence[:1].upper() + method.capabilities.evidence[1:] + ".")
    rows = frame.to_dict("records")

    def answer_text(i: int) -> str:
        row = rows[i]
        flags = f", known fact in {row['known_in']}" if row["known_fact"] else ""
        return f"{row['rank']}. {row['label']} (score {row['score']:.3f}{flags})"

    c1, c2, c3 = st.columns([3, 1, 1])
    with c1:
        pick = st.selectbox("Answer to explain", options=list(range(len(frame))), index=0, format_func=answer_text,
                            key=pick_key)
    with c2:
        n_paths = st.slider("Paths listed", min_value=1, max_value=30, value=10, key=f"kg-paths-{tag}")
    with c3:
        max_edges = st.slider("Edges kept", min_value=10, max_value=200, value=60, step=10, key=f"kg-edges-{tag}",
                              help="The r-digraph is pruned to the edges of its strongest paths, added path by "
                                   "path up to this many edges (every edge shown lies on a complete path).")
    answer = rows[pick]["entity"]
    key = f"kg-ev-{tag}-{head}-{relation}-{slug(answer)}"
    from ui.views.kg import faithfulness

    suggestions: list = []

    def beside() -> None:
        suggestions.extend(faithfulness.faithfulness_panel(method, model, src, head, relation, answer, key))

    if show_explanation(src, head_name, relation, answer, int(n_paths), int(max_edges), key=key, beside=beside):
        faithfulness.what_if_section(model, src, head, relation, answer, top, f"{key}-whatif", suggestions)
        faithfulness.report_section(method, model, src, head, relation, answer, key)


def show_explanation(src: Source, head: str, relation: int | str, answer: str, n_paths: int, max_edges: int,
                     key: str, beside=None) -> bool:
    """The answer's r-digraph; ``beside()`` draws a panel to the right of it (the faithfulness check). Returns
    whether there was evidence to show."""
    try:
        evidence = Evidence.from_json(evidence_json(src, head, relation, answer, n_paths, max_edges))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not explain this answer: {exc}")
        return False
    s = evidence.summary
    a, b, c, d = st.columns(4)
    a.metric("Filtered rank", f"{s.get('filtered_rank', float('nan')):g}", help=term("filtered rank"))
    b.metric("Score", f"{s.get('score', float('nan')):.4f}", help=term("score"))
    c.metric("Known fact", "yes" if s.get("known_fact") else "no", help=term("known fact"))
    total, shown = s.get("r_digraph_edges", 0), s.get("edges_shown", 0)
    d.metric("r-digraph edges", f"{shown:,} of {total:,}" if total else "0",
             help=term("r-digraph") + " Drawn: the edges of its strongest paths, of all its edges.")
    if s.get("note"):
        st.info(s["note"].capitalize() + ": there is no path to explain.")
        return False
    if beside is None:
        show_evidence(evidence, key=key, max_edges=max_edges, top_paths=n_paths, layered=True, edge_slider=False,
                      file_stem=f"redgnn-{s.get('dataset', '')}-{head}-{answer}")
        return True
    left, right = st.columns([3, 2])
    with left:
        show_evidence(evidence, key=key, max_edges=max_edges, top_paths=n_paths, layered=True, edge_slider=False,
                      file_stem=f"redgnn-{s.get('dataset', '')}-{head}-{answer}")
    with right:
        beside()
    return True


def triple_section(model, src: Source, tag: str) -> None:
    kg = model.kg
    h0, r0, t0 = example_triple(model)
    st.subheader("Explain this triple")
    st.caption("Enter a (head, relation, tail) triple by name or label — for example one from the test split, "
               "filled in below — to see where the tail ranks among all entities and which paths support it. "
               "Where several entities share a label, write 'label · name' as the pickers show it.")
    state_key = f"kg-triple-{tag}"
    with st.form(f"kg-triple-form-{tag}"):
        c1, c2, c3 = st.columns(3)
        head = c1.text_input("Head", value=kg.entity_text(h0), key=f"kg-triple-head-{tag}")
        rel = c2.text_input("Relation", value=kg.relation_label(r0), key=f"kg-triple-rel-{tag}",
                            help="A relation name or 'inverse of NAME'")
        tail = c3.text_input("Tail", value=kg.entity_text(t0), key=f"kg-triple-tail-{tag}")
        submitted = st.form_submit_button("Explain", type="primary")
    if submitted:
        errors, parts = [], {}
        for field, text, lookup in (("head", head, model.entity_id), ("relation", rel, model.relation_id),
                                    ("tail", tail, model.entity_id)):
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
    show_explanation(src, kg.entities[h], r, kg.entities[t], 10, 60, key=f"kg-triple-ev-{tag}-{h}-{r}-{t}")
