"""A search trajectory as a plotly figure: score against candidates evaluated, with the best so far.

No streamlit here (like :mod:`backend.core.viz`, kept apart from it so searches have their own
module): ``ui/components/trajectory.py`` wraps it with ``st.plotly_chart``; the CLI, notebooks
and README screenshots call it directly. Every point carries its record index as ``customdata``,
so a selection event names the candidate whatever trace it came from.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from backend.core.search import Direction, TrajectoryRecord, records_frame

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

#: colour-blind friendly categorical palette (Okabe-Ito)
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
POINT_COLOR = "#0072b2"
BEST_LINE_COLOR = "#d1495b"
REFERENCE_COLOR = "#7a8793"
CONTINUOUS_MIN_VALUES = 11  # a numeric attribute with at least this many values gets a colour scale
CANONICAL_CHARS = 60        # canonical forms longer than this are shortened in hover labels


def as_frame(frame_or_records: pd.DataFrame | Sequence[TrajectoryRecord], direction: Direction = "max") -> pd.DataFrame:
    """A trajectory frame (see :func:`backend.core.search.records_frame`) from a frame or records."""
    if isinstance(frame_or_records, pd.DataFrame):
        return frame_or_records
    return records_frame(list(frame_or_records), direction)


def attribute_names(frame: pd.DataFrame) -> list[str]:
    """Names of the ``attributes.<name>`` columns, in column order."""
    return [c.split(".", 1)[1] for c in frame.columns if c.startswith("attributes.")]


def _color_column(frame: pd.DataFrame, color_by: str | None) -> str | None:
    if not color_by:
        return None
    for column in (f"attributes.{color_by}", color_by):
        if column in frame.columns:
            return column
    raise KeyError(f"no attribute {color_by!r} in the trajectory (attributes: {attribute_names(frame)})")


def _short(text: str) -> str:
    return text if len(text) <= CANONICAL_CHARS else text[:CANONICAL_CHARS - 1] + "…"


def _points(frame: pd.DataFrame, name: str, score_label: str, **marker: Any) -> go.Scatter:
    import plotly.graph_objects as go

    return go.Scatter(x=frame["evaluated"], y=frame["score"], mode="markers", name=name,
                      customdata=frame["index"], text=[_short(str(c)) for c in frame["canonical"]],
                      marker={"size": 8, "opacity": 0.85, **marker},
                      hovertemplate=f"#%{{x}}<br>{score_label} %{{y:.4g}}<br>%{{text}}<extra>{name}</extra>")


def _point_traces(ok: pd.DataFrame, column: str | None, score_label: str) -> list[go.Scatter]:
    """One trace (plain or on a colour scale) or one per category of ``column``."""
    if column is None:
        return [_points(ok, "candidates", score_label, color=POINT_COLOR)]
    values = ok[column]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique(dropna=True) >= CONTINUOUS_MIN_VALUES:
        label = column.split(".", 1)[-1]
        return [_points(ok, "candidates", score_label, color=values, colorscale="Viridis", showscale=True,
                        colorbar={"title": {"text": label}})]
    keys = values.map(lambda v: "missing" if pd.isna(v) else v)
    order = sorted(keys.unique(), key=lambda v: (isinstance(v, str), v))
    label = column.split(".", 1)[-1]
    return [_points(ok[keys == v], f"{label} = {v}", score_label, color=PALETTE[i % len(PALETTE)])
            for i, v in enumerate(order)]


def trajectory_figure(frame: pd.DataFrame | Sequence[TrajectoryRecord], direction: Direction = "max",
                      color_by: str | None = None, reference_points: Sequence[dict] | None = None,
                      score_label: str = "score", height: int = 440) -> go.Figure:
    """Scatter of score against candidates evaluated (x = index + 1), a best-so-far step line, the
    best candidate starred, and ``reference_points`` ([{"label", "score"}]) as labelled dashed lines.

    color_by: an attribute name (or any frame column); None draws one colour. Failed candidates
    have no score and are not drawn. Every point's ``customdata`` is its record index.
    """
    import plotly.graph_objects as go

    frame = as_frame(frame, direction)
    fig = go.Figure()
    ok = frame[frame["status"].eq("ok") & frame["score"].notna()] if not frame.empty else frame
    for trace in _point_traces(ok, _color_column(frame, color_by), score_label):
        fig.add_trace(trace)
    best = best_row(frame, direction)
    if best is not None:
        fig.add_trace(_best_line(frame, direction, score_label))
        fig.add_trace(_best_marker(best, score_label))
    for ref in reference_points or []:
        fig.add_hline(y=float(ref["score"]), line_dash="dash", line_color=REFERENCE_COLOR, line_width=1,
                      annotation_text=str(ref["label"]), annotation_position="top left",
                      annotation_font_color=REFERENCE_COLOR)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, clickmode="event+select",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      xaxis_title="candidates evaluated", yaxis_title=score_label)
    return fig


def best_row(frame: pd.DataFrame, direction: Direction = "max") -> pd.Series | None:
    """The best ok row of a trajectory frame (the earliest on ties), or None."""
    ok = frame[frame["status"].eq("ok") & frame["score"].notna()]
    if ok.empty:
        return None
    return ok.loc[ok["score"].idxmax() if direction == "max" else ok["score"].idxmin()]


def _best_marker(best: pd.Series, score_label: str) -> go.Scatter:
    import plotly.graph_objects as go

    return go.Scatter(x=[best["evaluated"]], y=[best["score"]], mode="markers", name="best",
                      customdata=[best["index"]], text=[_short(str(best["canonical"]))],
                      marker={"symbol": "star", "size": 16, "color": BEST_LINE_COLOR,
                              "line": {"width": 1, "color": "white"}},
                      hovertemplate=f"best: #%{{x}}<br>{score_label} %{{y:.4g}}<br>%{{text}}<extra></extra>")


def _best_line(frame: pd.DataFrame, direction: Direction, score_label: str) -> go.Scatter:
    """The running best as a step line; each step's customdata is the record that set it (the earliest on ties)."""
    import plotly.graph_objects as go

    seen = frame[frame["best_so_far"].notna()]
    before = seen["best_so_far"].shift()
    better = seen["score"].gt(before) if direction == "max" else seen["score"].lt(before)
    improved = seen["score"].notna() & (before.isna() | better)
    setter = seen["index"].where(improved).ffill().astype(int)
    return go.Scatter(x=seen["evaluated"], y=seen["best_so_far"], mode="lines", line_shape="hv", name="best so far",
                      line={"color": BEST_LINE_COLOR, "width": 2}, customdata=setter,
                      hovertemplate=f"best so far after %{{x}}: {score_label} %{{y:.4g}}<extra></extra>")
