"""Is the evidence faithful? The fidelity numbers of one answer (backend.core.fidelity): fidelity+ and fidelity−
of the top-k evidence beside k random edges, the answer's rank before and after, one sentence a scientist reads,
and the deletion curve. Generic: any method whose loaded model returns a FidelityResult (as a dict) can show it."""
from __future__ import annotations

import streamlit as st

from backend.core.fidelity import DEFINITIONS, SOURCE, FidelityResult, deletion_curve_figure


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


def show_fidelity(result: FidelityResult | dict, key: str, k: int = 5, noun: str = "facts",
                  ranking_text: str = "", height: int = 340) -> None:
    """The fidelity panel of one answer: four numbers, the sentence, the deletion curve and the definitions."""
    if isinstance(result, dict):
        result = FidelityResult.from_dict(result)
    s = result.summary(k)
    k = s["k"]
    st.markdown(f"**{result.sentence(k, noun=noun)}**")
    a, b = st.columns(2)
    a.metric(f"fidelity+ (top {k})", _num(s["fidelity_plus"]),
             help="Score drop when the top evidence is removed from the graph (high: the answer needed it). "
                  + DEFINITIONS["fidelity+"])
    b.metric(f"fidelity− (top {k})", _num(s["fidelity_minus"]),
             help="Score drop when only the top evidence is kept (low: it alone supports the answer). "
                  + DEFINITIONS["fidelity−"])
    st.markdown(
        f"| | top {k} evidence {noun} | {k} random {noun} |\n|---|---|---|\n"
        f"| fidelity+ (score drop, removed) | {_num(s['fidelity_plus'])} | {_num(s['fidelity_plus_random'])} |\n"
        f"| fidelity− (score drop, kept alone) | {_num(s['fidelity_minus'])} | {_num(s['fidelity_minus_random'])} |\n"
        f"| answer's rank after removing (was {s['rank']:g}) | {s['rank_after_deletion']:g} | "
        f"{s['rank_after_random_deletion']:g} (median) |\n"
        f"| answer's rank with these {noun} alone | {s['rank_with_evidence_only']:g} | |")
    st.plotly_chart(deletion_curve_figure(result, height=height, title="Deletion curve"), key=f"{key}-curve")
    st.caption(f"The answer's score as its top-k evidence {noun} are removed (orange) or kept alone (blue dots), "
               f"beside k random {noun} of the same subgraph (grey: mean and range of the draws).")
    st.caption(f"Tested ranking: **{result.ranking}**" + (f" ({ranking_text})" if ranking_text else "") +
               f". Random {noun} come from the same subgraph ({result.n_candidates:,} {noun}), {result.draws} seeded "
               f"draws; measured in {result.seconds:.1f} s." if result.seconds is not None else ".")
    with st.expander("What fidelity+ and fidelity− mean"):
        st.markdown("\n".join(f"- **{name}**: {text}" for name, text in DEFINITIONS.items())
                    + f"\n\nDefinitions: {SOURCE}.")
