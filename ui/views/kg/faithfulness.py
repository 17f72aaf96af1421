"""The KG page's evidence tests: is the r-digraph evidence of an answer faithful (fidelity+/−, the deletion curve,
the facts ranked by their measured contribution), what if a fact were added or removed, and a take-away report.
Everything goes through the loaded model's verbs (fidelity, what_if) and backend.core.report."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from backend.core.report import method_report
from ui.components.fidelity_view import show_fidelity
from ui.components.whatif import current_edits, what_if_panel
from ui.views.kg.answers import Source, _model
from ui.views.kg.graphs import EXPECTED_ERRORS, slug

#: graphs with more edges than this measure faithfulness on a click (a whole curve takes tens of seconds there)
AUTO_MAX_EDGES = 100_000
FACT_COLUMNS = {
    "head": st.column_config.TextColumn("head"),
    "relation": st.column_config.TextColumn("relation"),
    "tail": st.column_config.TextColumn("tail"),
    "step": st.column_config.NumberColumn("step", help="The first propagation step that uses the fact"),
    "greedy_order": st.column_config.NumberColumn("greedy order", help="The order in which greedy deletion takes "
                                                  "the fact (each next one drops the score most given those before)"),
    "occlusion": st.column_config.NumberColumn("measured drop", format="%.3g",
                                               help="The answer's score drop when this fact alone is removed"),
    "gradient": st.column_config.NumberColumn("gradient × input", format="%.3g"),
    "path_order": st.column_config.NumberColumn("path order", help="Where the strongest paths first use the fact"),
    "attention": st.column_config.NumberColumn("attention", format="%.3f"),
}


@st.cache_data(max_entries=32, show_spinner="Re-scoring the query without its evidence…")
def fidelity_json(src: Source, head: int, relation: int, answer: str, ranking: str) -> str:
    result, frame = _model(src).fidelity({"head": head, "relation": relation, "answer": answer, "ranking": ranking})
    return json.dumps({"result": result.to_dict(), "facts": frame.head(50).to_dict("records")})


@st.cache_data(max_entries=32, show_spinner="Re-running the query over the edited graph…")
def what_if_table(src: Source, head: int, relation: int, top: int, edits: tuple) -> pd.DataFrame:
    return _model(src).what_if({"head": head, "relation": relation, "top": top}, list(edits))


def faithfulness_panel(method, model, src: Source, head: int, relation: int, answer: str, key: str) -> list[tuple]:
    """Fidelity of the answer's evidence under a chosen ranking; returns the top facts (text, (h, r, t)) for the
    what-if panel's one-click removal."""
    rankings = method.extras.get("fidelity_rankings", {})
    default = method.extras.get("default_ranking", next(iter(rankings), ""))
    st.markdown("##### Is this evidence faithful?")
    ranking = st.selectbox("Rank the evidence by", options=list(rankings), index=list(rankings).index(default),
                           key=f"{key}-ranking", format_func=lambda r: f"{r}: {rankings[r]}",
                           help=f"Chosen on valid queries: {default} (benchmarks/fidelity.py). The numbers below "
                                "belong to the ranking chosen here.")
    run_key = f"{key}-fidelity-run"
    if model.graph.n_edges > AUTO_MAX_EDGES and not st.session_state.get(run_key):
        st.caption(f"This graph has {model.graph.n_edges:,} edges: re-scoring the query 221 times (the top 1–10 "
                   "facts removed or kept alone, and 10 random draws of each) takes a minute or more on a CPU.")
        if not st.button("Measure faithfulness", key=f"{key}-fidelity-button"):
            return []
        st.session_state[run_key] = True
    try:
        data = json.loads(fidelity_json(src, head, relation, answer, ranking))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not measure the evidence's faithfulness: {exc}")
        return []
    if not data["result"]["n_evidence"]:
        st.info("This answer's r-digraph holds no fact (the answer is the query entity itself, reached by staying "
                "on it), so there is no evidence to remove.")
        return []
    show_fidelity(data["result"], key=f"{key}-fid", noun="facts", ranking_text=rankings.get(ranking, ""))
    overall = model.fidelity_benchmark(ranking)
    if overall:
        st.caption(overall)
    facts = pd.DataFrame(data["facts"])
    if facts.empty:
        return []
    with st.expander(f"The evidence's facts, strongest first by {ranking}"):
        shown = [c for c in FACT_COLUMNS if c in facts.columns and FACT_COLUMNS[c] is not None]
        st.dataframe(facts[shown].head(20), hide_index=True, column_config=FACT_COLUMNS, width="stretch",
                     key=f"{key}-facts")
    return [(f"({r['head']}, {r['relation']}, {r['tail']})", (r["head_id"], r["relation_id"], r["tail_id"]))
            for r in data["facts"][:10]]


def what_if_section(model, src: Source, head: int, relation: int, answer: str, top: int, key: str,
                    suggestions: list[tuple]) -> None:
    st.markdown("##### What if the graph were different?")
    query = {"head": head, "relation": relation, "answer": model.entity_id(answer)}
    what_if_panel(model, query, key, run=lambda edits: what_if_table(src, head, relation, top, edits),
                  suggestions=suggestions)


def report_section(method, model, src: Source, head: int, relation: int, answer: str, key: str,
                   ranking: str | None = None) -> None:
    """"Save report": the query, its answers, the evidence, its faithfulness, the what-if edits and the model card
    in one HTML file that opens with no network (and the same as JSON)."""
    store = f"{key}-report"
    edits = current_edits(f"{key}-whatif")
    query = {"head": head, "relation": relation, "answer": answer, "ranking": ranking or
             st.session_state.get(f"{key}-ranking") or method.extras.get("default_ranking"),
             "edits": edits}
    stamp = json.dumps({k: v for k, v in query.items()}, default=str)
    c1, c2, c3 = st.columns([2, 2, 3])
    with c1:
        if st.button("Save report", key=f"{key}-report-build",
                     help="One HTML file with the answers, the evidence graph, its faithfulness, the what-if edits "
                          "and the model card; it opens offline. The same report as JSON beside it."):
            with st.spinner("Writing the report…"):
                try:
                    report = method_report(method, model, query)
                    st.session_state[store] = (stamp, report.to_html(), report.to_json())
                except EXPECTED_ERRORS as exc:
                    st.error(f"Could not write the report: {exc}")
    saved = st.session_state.get(store)
    if saved and saved[0] == stamp:
        stem = f"{method.name}-report-{slug(model.kg.name)}-{slug(model.kg.entities[head])}-{slug(answer)}"
        with c2:
            st.download_button("Report (HTML)", data=saved[1], file_name=f"{stem}.html", mime="text/html",
                               key=f"{key}-report-html", on_click="ignore")
        with c3:
            st.download_button("Report (JSON)", data=saved[2], file_name=f"{stem}.json", mime="application/json",
                               key=f"{key}-report-json", on_click="ignore")
