"""The Knowledge-graph page's "quality by relation" section: a checkpoint's test MRR per query relation
against how many training queries asked it (``backend.methods.redgnn.by_relation``)."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from backend.core.viz import group_quality_figure
from backend.methods.redgnn import by_relation
from ui.components.downloads import download_buttons, frame_csv

#: above this many test queries on a CPU, computing the breakdown asks for a click and says it takes long
SLOW_ON_CPU_QUERIES = 5000

#: the page's table (the download has every column, NBFNet-tie MRR and relation ids too)
SHOWN = ("relation", "answers", "share", "mrr", "hits@1", "hits@10", "reached", "reached_mrr", "training_queries")
COLUMNS = {
    "relation": st.column_config.TextColumn("relation", width="medium", help="'inverse of r' asks for the head of r"),
    "answers": st.column_config.NumberColumn("test answers", format="%d"),
    "share": st.column_config.ProgressColumn("share of the test", format="%.3f", min_value=0.0, max_value=1.0),
    "mrr": st.column_config.NumberColumn("MRR", format="%.3f", help="average ties, as the card"),
    "hits@1": st.column_config.NumberColumn("Hits@1", format="%.3f"),
    "hits@10": st.column_config.NumberColumn("Hits@10", format="%.3f"),
    "reached": st.column_config.NumberColumn("reached", format="%.3f",
                                             help="share of the answers within L hops of the head (others score 0)"),
    "reached_mrr": st.column_config.NumberColumn("MRR if reached", format="%.3f",
                                                 help="MRR over the reached answers only"),
    "training_queries": st.column_config.NumberColumn("training queries", format="%d",
                                                      help="training triples asking this relation"),
}


@st.cache_data(max_entries=8, show_spinner="Ranking every test answer…")
def computed_breakdown(model_dir: str, data_root: str, graph: str = "") -> pd.DataFrame:
    from backend.methods.redgnn.explain import load_model

    return by_relation.metrics_by_relation(load_model(model_dir, data_dir=data_root, graph=graph or None), "test")


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


def _small(x: float) -> str:
    return f"{x:.3f}" if x >= 0.001 else "below 0.001"


def summary_text(frame: pd.DataFrame, n_layer: int) -> str:
    """Sentences from the numbers: how the test divides into relations, how many answers lie beyond the
    propagation's reach, and how rarely trained relations do."""
    summary = by_relation.breakdown_summary(frame)
    text = (f"**{len(frame)} query relations** have test answers ({int(frame['answers'].sum()):,} in all); "
            f"the largest, *{frame['relation'].iloc[0]}*, holds {frame['share'].iloc[0]:.0%} of them.")
    unreached = 1.0 - summary["reached"]
    if unreached > 0:
        text += (f" **{unreached:.1%} of the test answers** lie more than {n_layer} hops from their head, score 0 "
                 f"and rank among the other unreached entities (their MRR: {_small(summary['unreached_mrr'])}); the "
                 f"reached ones score MRR **{summary['reached_mrr']:.3f}**.")
    if summary["rare_share"] > 0:
        text += (f" **{summary['rare_share']:.0%} of the test answers** ask a relation that fewer than "
                 f"{by_relation.RARE_QUERIES} training queries asked: their MRR is **{summary['rare_mrr']:.3f}**")
        text += (f", against **{summary['other_mrr']:.3f}** for the rest." if not math.isnan(summary["other_mrr"])
                 else ".")
    else:
        text += f" Every relation of the test was asked by at least {by_relation.RARE_QUERIES} training queries."
    return text


def relation_quality_section(lm, model_dir: str, data_root: str, n_test_queries: int, tag: str,
                             graph: str = "") -> None:
    """Test quality by query relation: the checkpoint's own test split, or with ``graph`` (an imported graph it
    reasons over untrained) that graph's test triples."""
    st.subheader("Where is the model right? Test quality by relation")
    whose = (f"Every test triple of your graph {graph} (held out when it was imported) ranked as the card's test "
             "(filtered, average ties) by this checkpoint, untrained on it" if graph else
             "Every test answer ranked as for the card (filtered, average ties)")
    st.caption(whose + ", then grouped by the query's relation. The answer-weighted mean of the MRR column is "
               + ("the graph's test MRR. The training queries are those of the checkpoint's own dataset. " if graph
                  else "the card's test MRR. ")
               + "A relation that no training query asks is learned only as an edge label, never as a question: "
                 "such relations show how far the model transfers. The CSV also holds the MRR under NBFNet's ties.")
    frame = None if graph else by_relation.load_saved(model_dir)
    if frame is None:
        slow = lm.device.type == "cpu" and n_test_queries > SLOW_ON_CPU_QUERIES
        note = (f"{n_test_queries:,} test queries: on a CPU that can take hours; "
                f"`python -m backend evaluate redgnn --dataset {lm.card.dataset} --breakdown` runs it in a terminal."
                if slow else f"Not computed for this checkpoint yet: it runs the {n_test_queries:,} test queries once.")
        st.caption(note)
        if not st.toggle("Compute the breakdown", key=f"kg-relations-{tag}"):
            return
        frame = computed_breakdown(model_dir, data_root, graph)
    if graph:
        from backend.kg.align import seen_share

        st.markdown(applied_text(frame, lm.card, seen_share(lm.kg, "test", lm.training)))
    st.markdown(summary_text(frame, lm.model.n_layer))
    st.plotly_chart(group_quality_figure(frame, rare_below=by_relation.RARE_QUERIES), key=f"kg-relations-chart-{tag}")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=COLUMNS, column_order=SHOWN,
                 height=min(388, (len(frame) + 1) * 35 + 3))
    download_buttons([("Download per-relation metrics (CSV)", frame_csv(frame),
                       f"redgnn-{tag}-by-relation.csv", "text/csv")], key=f"kg-relations-dl-{tag}")


def relation_track_record(model_dir: str, relation_id: int) -> str | None:
    """One line on how well this checkpoint answers ``relation_id`` on the test split (from its saved
    breakdown), for reading a single query's answers; None when no breakdown is saved."""
    frame = by_relation.load_saved(model_dir)
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
