"""Any method's breakdown: the split's metrics per group (``capabilities.breakdown_by``: a query relation, a task,
...) from the loaded model's ``breakdown()``. The frame's attrs say how to show it: ``group`` (its group column),
``shown`` and ``column_help`` (the table), ``x`` and ``rare_below`` (the figure's axis), ``sentences``."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from backend.core.method import Method
from backend.core.viz import group_quality_figure, metric_title
from ui.components.downloads import download_buttons, frame_csv


def column_config(frame: pd.DataFrame) -> dict:
    """Number formats and help per column: shares and metrics to 3 places, counts as integers with thousands
    separators; names for people ('reached_mrr' -> 'MRR, reached', 'training_queries' -> 'training queries')."""
    helps = frame.attrs.get("column_help", {})
    config = {}
    for name in frame.columns:
        title = metric_title(name) if name not in ("answers", "share", "reached", "training_queries") else name
        prefix, _, base = name.partition("_")
        if title == name and base and metric_title(base) != base:
            title = f"{metric_title(base)}, {prefix}"
        title = title.replace("_", " ")
        if name == "share":
            config[name] = st.column_config.ProgressColumn(title, format="%.3f", min_value=0.0, max_value=1.0,
                                                           help=helps.get(name))
        elif pd.api.types.is_integer_dtype(frame[name]):
            config[name] = st.column_config.NumberColumn(title, format="localized", help=helps.get(name))
        elif pd.api.types.is_float_dtype(frame[name]):
            config[name] = st.column_config.NumberColumn(title, format="%.3f", help=helps.get(name))
        else:
            config[name] = st.column_config.TextColumn(title, help=helps.get(name))
    return config


def breakdown_section(method: Method, frame: pd.DataFrame, tag: str, *, lead: list[str] | None = None) -> None:
    """The breakdown ``frame``: sentences, the quality-by-group figure, the table and its CSV."""
    for sentence in (lead or []) + list(frame.attrs.get("sentences", [])):
        st.markdown(sentence)
    group = frame.attrs.get("group", frame.columns[0])
    headline = method.capabilities.headline
    if frame.attrs.get("x") in frame and headline in frame:
        title = f"Test {metric_title(headline)} by {method.capabilities.breakdown_by}"
        x_title = frame.attrs.get("x_title", frame.attrs["x"].replace("_", " ") + " (log scale)")
        st.plotly_chart(group_quality_figure(frame, group=group, x=frame.attrs["x"], y=headline, title=title,
                                             x_title=x_title, rare_below=frame.attrs.get("rare_below")),
                        key=f"breakdown-chart-{tag}")
    shown = [c for c in frame.attrs.get("shown", list(frame.columns)) if c in frame]
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config(frame), column_order=shown,
                 height=min(388, (len(frame) + 1) * 35 + 3))
    download_buttons([(f"Download metrics per {method.capabilities.breakdown_by} (CSV)", frame_csv(frame),
                       f"{method.name}-{tag}-breakdown.csv", "text/csv")], key=f"breakdown-dl-{tag}")


def on_request(saved: pd.DataFrame | None, compute: Callable[[], pd.DataFrame], note: str, key: str) -> pd.DataFrame | None:
    """``saved`` when there is one; else ``compute()`` once the user asks for it (a toggle under ``note``)."""
    if saved is not None:
        return saved
    st.caption(note)
    if not st.toggle("Compute the breakdown", key=key):
        return None
    return compute()
