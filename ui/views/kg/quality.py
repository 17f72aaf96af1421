"""The KG page's quality by query relation: the shared breakdown section, plus what only a checkpoint reasoning
over a graph it was not trained on has to say (its untrained score, how much of the graph it was trained on)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.components.breakdown import breakdown_section, on_request
from ui.views.kg.answers import Source, _model

#: above this many test queries on a CPU, computing the breakdown asks for a click and says it takes long
SLOW_ON_CPU_QUERIES = 5000


@st.cache_data(max_entries=8, show_spinner="Ranking every test answer…")
def computed_breakdown(src: Source) -> pd.DataFrame:
    return _model(src).breakdown("test")


def applied_text(frame: pd.DataFrame, card, seen: float = 0.0) -> str:
    """The whole test of a graph the checkpoint was applied to, beside the card's own test; ``seen``: the share
    of those test triples the checkpoint was trained on."""
    weights = frame["answers"] / frame["answers"].sum()
    mrr, hits10 = float((frame["mrr"] * weights).sum()), float((frame["hits@10"] * weights).sum())
    own = card.metrics.get("test", {})
    text = f"**Untrained on this graph, the checkpoint scores test MRR {mrr:.3f}** (Hits@10 {hits10:.3f})"
    if "mrr" in own:
        text += f"; on its own dataset {card.dataset} its card says MRR {own['mrr']:.3f}"
    text += "."
    if seen > 0:
        text += (f" **At least {seen:.1%} of these test triples are training triples of the checkpoint** "
                 f"({card.dataset} holds them; their entities found by name, label or place in the graph), so "
                 "this figure is optimistic.")
    return text


def relation_quality_section(method, model, src: Source, n_test_queries: int, tag: str) -> None:
    """Test quality by query relation: the checkpoint's own test split, or, reasoning over an imported graph
    untrained, that graph's test triples."""
    st.subheader("Where is the model right? Test quality by relation")
    graph = src.graph
    whose = (f"Every test triple of your graph {graph} (held out when it was imported) ranked as the card's test "
             "(filtered, average ties) by this checkpoint, untrained on it" if graph else
             "Every test answer ranked as for the card (filtered, average ties)")
    st.caption(whose + ", then grouped by the query's relation. The answer-weighted mean of the MRR column is "
               + ("the graph's test MRR. The training queries are those of the checkpoint's own dataset. " if graph
                  else "the card's test MRR. ")
               + "A relation that no training query asks is learned only as an edge label, never as a question: "
                 "such relations show how far the model transfers. The CSV also holds the MRR under NBFNet's ties.")
    slow = model.device.type == "cpu" and n_test_queries > SLOW_ON_CPU_QUERIES
    note = (f"{n_test_queries:,} test queries: on a CPU that can take hours; `python -m backend evaluate "
            f"{method.name} --dataset {model.card.dataset} --breakdown` runs it in a terminal." if slow else
            f"Not computed for this checkpoint yet: it runs the {n_test_queries:,} test queries once.")
    frame = on_request(model.saved_breakdown("test"), lambda: computed_breakdown(src), note, f"kg-relations-{tag}")
    if frame is None:
        return
    lead = []
    if graph:
        from backend.kg.align import seen_share

        lead.append(applied_text(frame, model.card, seen_share(model.kg, "test", model.training)))
    breakdown_section(method, frame, f"kg-{tag}", lead=lead)
