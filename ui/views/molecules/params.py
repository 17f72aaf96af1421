"""Parameter comparison: total vs adaptive parameters of every molecule checkpoint's card (PAR, PACIA, baselines)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from backend.core import store
from backend.core.viz import format_params, log_ticks


def parameter_frame(method_names: list[str]) -> pd.DataFrame:
    rows = []
    for name in method_names:
        for card in store.list_cards(method=name):
            p = card.params or {}
            label = f"{card.method.upper()} · {card.dataset} {card.setting}"
            test = (card.metrics or {}).get("test", {}).get("roc_auc")
            for kind in ("total", "adaptive"):
                if p.get(kind):
                    rows.append({"checkpoint": label, "parameters": kind, "count": int(p[kind]),
                                 "test ROC-AUC": test})
    return pd.DataFrame(rows, columns=["checkpoint", "parameters", "count", "test ROC-AUC"])


def parameter_chart_section(method_names: list[str], key: str) -> None:
    import plotly.express as px

    st.subheader("How many parameters adapt to a new property")
    frame = parameter_frame(method_names)
    if frame.empty:
        st.info("No molecule checkpoint has a card yet.")
        return
    st.caption("Each pair of bars is one checkpoint: all its parameters (total) and those changed for each new "
               "property (adaptive: PAR fine-tunes them on the support set; PACIA generates them with a "
               "hypernetwork). Logarithmic scale. Papers: PAR 2.31M total / 0.38M adaptive, PACIA 3.28M / 3.00k.")
    fig = px.bar(frame, x="checkpoint", y="count", color="parameters", barmode="group", log_y=True,
                 hover_data={"test ROC-AUC": ":.3f"}, labels={"count": "parameters", "checkpoint": ""},
                 color_discrete_map={"total": "#0072b2", "adaptive": "#d55e00"})
    import math

    low, high = math.log10(frame["count"].min() / 2), math.log10(frame["count"].max() * 2)
    ticks = [t for t in log_ticks(10 ** low, 10 ** high) if f"{t:e}".startswith("1")]  # decades only
    fig.update_yaxes(range=[low, high], tickvals=ticks, ticktext=[format_params(t) for t in ticks])
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10), legend_title_text="")
    st.plotly_chart(fig, key=f"{key}-chart", width="stretch")
