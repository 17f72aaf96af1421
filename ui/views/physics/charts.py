"""Plotly figures of the Formulas page (no streamlit here)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from backend.core.viz import log_ticks

COLOURS = {"true": "#0072b2", "formula": "#d55e00"}


def pareto_figure(frame: pd.DataFrame, chosen: str | None, selected: int | None) -> go.Figure:
    """Complexity (x) against valid RMSE (y, log) of every evaluated flow; the Pareto front joined by a line."""
    fig = go.Figure()
    front = frame[frame["pareto"]].sort_values("complexity")
    fig.add_trace(go.Scatter(x=front["complexity"], y=front["valid_rmse"], mode="lines", name="Pareto front",
                             line={"color": "#999999", "dash": "dot"}, hoverinfo="skip"))
    is_chosen = frame["canonical"] == chosen if chosen else pd.Series(False, index=frame.index)
    for label, part, colour, size in (("evaluated flow", frame[~is_chosen], "#56b4e9", 11),
                                      ("chosen flow (formulas below)", frame[is_chosen], "#d55e00", 16)):
        fig.add_trace(go.Scatter(
            x=part["complexity"], y=part["valid_rmse"], mode="markers", name=label,
            marker={"color": colour, "size": size, "line": {"width": 1, "color": "#333"}},
            customdata=part["index"], text=part["flow"],
            hovertemplate="flow #%{customdata}<br>%{text}<br>complexity %{x}<br>valid RMSE %{y:.4f}<extra></extra>"))
    if selected is not None and (frame["index"] == selected).any():
        row = frame[frame["index"] == selected].iloc[0]
        fig.add_trace(go.Scatter(x=[row["complexity"]], y=[row["valid_rmse"]], mode="markers", name="selected",
                                 marker={"symbol": "circle-open", "size": 24, "color": "#000", "line": {"width": 2}},
                                 hoverinfo="skip"))
    fig.update_layout(xaxis_title="complexity (Σ width × inputs over the flow's functions)",
                      yaxis_title="valid RMSE (outputs / their std)", yaxis_type="log", height=380,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12})
    errors = frame["valid_rmse"][frame["valid_rmse"] > 0]
    if len(errors):  # 0.05, 0.1, 0.2, ... (plotly's own log ticks label 0.7, 0.8, 0.9 as bare 7, 8, 9)
        ticks = log_ticks(float(errors.min()), float(errors.max()))
        fig.update_yaxes(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return fig


def trajectory_figure(frame: pd.DataFrame) -> go.Figure:
    """Particle paths (x, y) integrated with the true law (solid) and with the formula (dashed)."""
    fig = go.Figure()
    for (source, node), part in frame.groupby(["source", "node"]):
        fig.add_trace(go.Scatter(x=part["x"], y=part["y"], mode="lines", name=f"particle {node} ({source})",
                                 legendgroup=source, showlegend=bool(node == 1),
                                 line={"color": COLOURS[source], "dash": "solid" if source == "true" else "dash",
                                       "width": 2}))
        end = part.iloc[-1]
        fig.add_trace(go.Scatter(x=[end["x"]], y=[end["y"]], mode="markers+text", text=[str(node)],
                                 textposition="top center", marker={"color": COLOURS[source], "size": 8},
                                 showlegend=False, hoverinfo="skip"))
    fig.update_layout(xaxis_title="x (m)", yaxis_title="y (m)", height=420, yaxis_scaleanchor="x",
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.1})
    for trace in fig.data:
        if trace.showlegend:
            trace.name = "true law" if trace.legendgroup == "true" else "found formula"
    return fig


def outputs_figure(frame: pd.DataFrame, unit: str = "") -> go.Figure:
    """Predicted against true output of held-out samples, with the diagonal."""
    fig = go.Figure()
    lo, hi = float(min(frame["true"].min(), frame["predicted"].min())), float(max(frame["true"].max(),
                                                                                  frame["predicted"].max()))
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect", line={"color": "#999", "dash": "dot"}))
    for name, part in frame.groupby("output"):
        fig.add_trace(go.Scatter(x=part["true"], y=part["predicted"], mode="markers", name=str(name),
                                 marker={"size": 5, "opacity": 0.6}))
    fig.update_layout(xaxis_title=f"true output {unit}".strip(), yaxis_title=f"formula's output {unit}".strip(),
                      height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
