"""Plotly figures of the cold-start page: influence bars, gate heatmap, the predictor's layer stack."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

OPS = ("max", "min", "mul", "add")
POSITIONS = ("input embedding", "hidden layer 1", "hidden layer 2", "hidden layer 3")
OP_TEXT = {"max": "max(x, φ)", "min": "min(x, φ)", "mul": "x · relu(φ)", "add": "x + φ"}


def influence_figure(frame: pd.DataFrame, recommendation: str) -> go.Figure:
    """Horizontal bars: for one recommendation, each rated item's influence (with minus without its rating)."""
    part = frame[frame["recommendation"] == recommendation].sort_values("influence")
    colours = ["#2e7d32" if v > 0 else "#c62828" for v in part["influence"]]
    fig = go.Figure(go.Bar(x=part["influence"], y=part["rated item"], orientation="h", marker_color=colours,
                           customdata=part[["your rating", "without this rating"]].to_numpy(),
                           hovertemplate="%{y}<br>your rating %{customdata[0]:g}<br>influence %{x:+.4f}<br>"
                                         "predicted without it %{customdata[1]:.3f}<extra></extra>"))
    fig.update_layout(height=max(220, 32 * len(part) + 90), margin=dict(l=10, r=10, t=40, b=40),
                      title=dict(text=f"What moved “{recommendation}”", font=dict(size=15)),
                      xaxis_title="change of the predicted rating due to this rating", yaxis_title=None,
                      font=dict(size=14))
    fig.add_vline(x=0, line_color="#555")
    return fig


def gate_heatmap(gates: list[list[float]], epoch: int) -> go.Figure:
    """Positions x operations, gate values in [0, 1] at one supernet epoch."""
    fig = go.Figure(go.Heatmap(z=gates, x=list(OPS), y=list(POSITIONS), zmin=0, zmax=1, colorscale="Blues",
                               text=[[f"{v:.2f}" for v in row] for row in gates], texttemplate="%{text}",
                               textfont=dict(size=15), colorbar=dict(title="gate")))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), font=dict(size=14),
                      title=dict(text=f"Supernet gates after epoch {epoch}", font=dict(size=15)),
                      yaxis=dict(autorange="reversed"))
    return fig


def structure_figure(structure: list[list[str]], widths: list[int], rating_max: float) -> go.Figure:
    """The predictor as a stack of layers (bottom: input) with the modulations applied at each position."""
    fig = go.Figure()
    layers = ["input: item + user embeddings", "LeakyReLU → fc1", "LeakyReLU → fc2", "LeakyReLU → fc3"]
    y = 0.0
    for k in range(4):
        fig.add_shape(type="rect", x0=0, x1=4, y0=y, y1=y + 0.8, fillcolor="#e3f2fd", line=dict(color="#1565c0"))
        fig.add_annotation(x=2, y=y + 0.4, text=f"<b>{layers[k]}</b> ({widths[k]} units)", showarrow=False,
                           font=dict(size=14, color="#111"))
        ops = structure[k]
        text = " → ".join(OP_TEXT[o] for o in ops) if ops else "no modulation"
        fig.add_shape(type="rect", x0=4.3, x1=9.5, y0=y, y1=y + 0.8,
                      fillcolor="#fff3e0" if ops else "#f5f5f5", line=dict(color="#ef6c00" if ops else "#9e9e9e"))
        fig.add_annotation(x=6.9, y=y + 0.4, text=f"position {k}: {text}", showarrow=False,
                           font=dict(size=14, color="#111"))
        fig.add_annotation(x=4.3, y=y + 0.4, ax=4.0, ay=y + 0.4, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, text="")
        y += 1.1
    fig.add_shape(type="rect", x0=0, x1=4, y0=y, y1=y + 0.8, fillcolor="#e8f5e9", line=dict(color="#2e7d32"))
    fig.add_annotation(x=2, y=y + 0.4, text=f"<b>output</b>: {rating_max:g} · sigmoid(w · LeakyReLU(h) + b)",
                       showarrow=False, font=dict(size=14, color="#111"))
    fig.update_xaxes(visible=False, range=[-0.2, 9.7])
    fig.update_yaxes(visible=False, range=[-0.2, y + 1.0])
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white",
                      title=dict(text="The predictor, bottom to top, with the searched modulations (φ from the "
                                      "hypernetwork)", font=dict(size=14)))
    return fig


def movement(current: pd.DataFrame, previous: pd.DataFrame | None) -> list[str]:
    """For each current recommendation: '▲ 2' (rose 2 places), '▼ 1', '=' or 'new' versus the previous list."""
    if previous is None or previous.empty:
        return [""] * len(current)
    before = {item: rank for item, rank in zip(previous["item"], previous["rank"])}
    out = []
    for item, rank in zip(current["item"], current["rank"]):
        if item not in before:
            out.append("new")
        elif before[item] > rank:
            out.append(f"▲ {before[item] - rank}")
        elif before[item] < rank:
            out.append(f"▼ {rank - before[item]}")
        else:
            out.append("=")
    return out
