"""What if the graph were different? Add or remove a fact (the pickers of the query form) and re-run the query:
each answer's rank before and after, side by side; Reset returns to the graph as it is.

Generic for knowledge-graph methods whose loaded model has ``choices(name, query)`` (entity and relation pickers)
and ``what_if(query, edits) -> DataFrame`` (columns label, score_before, rank_before, score_after, rank_after,
rank_change; ``attrs["edits"]`` the edits in words). Edits are kept in the session as (action, head, relation,
tail) ids, so a rerun recomputes nothing that did not change.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from backend.core.method import QueryField
from ui.components.query_form import choice_picker

WHATIF_COLUMNS = {
    "label": st.column_config.TextColumn("answer"),
    "entity": st.column_config.TextColumn("entity id"),
    "known_fact": st.column_config.CheckboxColumn("known fact"),
    "rank_before": st.column_config.NumberColumn("rank before", format="%g"),
    "rank_after": st.column_config.NumberColumn("rank after", format="%g"),
    "rank_change": st.column_config.NumberColumn("change", format="%+g",
                                                 help="rank after − rank before: positive, the answer fell"),
    "score_before": st.column_config.NumberColumn("score before", format="%.3f"),
    "score_after": st.column_config.NumberColumn("score after", format="%.3f"),
}


def edits_key(key: str) -> str:
    return f"{key}-edits"


def current_edits(key: str) -> list[tuple]:
    return list(st.session_state.get(edits_key(key), []))


def what_if_panel(model, query: dict, key: str, run: Callable[[tuple], pd.DataFrame],
                  suggestions: Sequence[tuple[str, tuple]] = (), describe: Callable[[tuple], str] | None = None) -> None:
    """The what-if panel. ``run(edits)`` -> the before/after table (the page caches it); ``suggestions``: (text,
    (head, relation, tail)) facts offered for a one-click removal (e.g. the answer's strongest evidence)."""
    store = edits_key(key)
    st.session_state.setdefault(store, [])
    st.caption("Add or remove a fact and the query runs again over the edited graph; the table puts each answer's "
               "rank before and after side by side. Nothing is saved: Reset returns to the graph as it is.")
    if suggestions:
        c1, c2 = st.columns([4, 1])
        with c1:
            pick = st.selectbox("Quickest what-if: remove one fact of the evidence", options=list(range(len(suggestions))),
                                format_func=lambda i: suggestions[i][0], key=f"{key}-suggest")
        with c2:
            st.write("")
            if st.button("Remove it", key=f"{key}-remove-top"):
                edit = ("remove",) + tuple(int(x) for x in suggestions[pick][1])
                if edit not in st.session_state[store]:
                    st.session_state[store] = st.session_state[store] + [edit]
    with st.expander("Add or remove any fact", expanded=False):
        action = st.radio("Edit", ["remove", "add"], horizontal=True, key=f"{key}-action",
                          format_func=lambda a: "Remove a fact" if a == "remove" else "Add a fact")
        c1, c2, c3 = st.columns(3)
        with c1:
            head = choice_picker(QueryField("head", "Head", "entity"), model.choices("head"), f"{key}-h",
                                 int(query["head"]))
        with c2:
            relation = choice_picker(QueryField("relation", "Relation", "relation"),
                                     model.choices("relation", {"head": head}), f"{key}-r-{head}",
                                     int(query["relation"]))
        with c3:
            tail = choice_picker(QueryField("tail", "Tail", "entity"), model.choices("tail"), f"{key}-t",
                                 int(query.get("answer", query["head"])))
        if st.button("Apply this edit", key=f"{key}-apply", type="primary"):
            edit = (action, int(head), int(relation), int(tail))
            if edit not in st.session_state[store]:
                st.session_state[store] = st.session_state[store] + [edit]
    edits = current_edits(key)
    if not edits:
        return
    left, right = st.columns([5, 1])
    with right:
        if st.button("Reset", key=f"{key}-reset", help="Back to the graph as it is: the original scores"):
            st.session_state[store] = []
            st.rerun()
    try:
        table = run(tuple(edits))
    except (ValueError, KeyError, RuntimeError) as exc:
        st.error(f"Could not apply the edits: {exc}")
        return
    with left:
        st.markdown("**Edits:** " + "; ".join(table.attrs.get("edits", [describe(e) if describe else str(e)
                                                                         for e in edits])))
    moved = table[table["rank_change"] != 0]
    st.caption(f"{len(moved)} of the {len(table)} answers shown changed rank." if len(moved) else
               "No answer shown changed rank.")
    columns = [c for c in WHATIF_COLUMNS if c in table.columns and (c != "entity" or
                                                                    not (table["label"] == table["entity"]).all())]
    st.dataframe(table[columns], hide_index=True, column_config=WHATIF_COLUMNS, key=f"{key}-table", width="stretch")
