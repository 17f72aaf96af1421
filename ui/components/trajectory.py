"""A search trajectory on a page: best score, the score-vs-candidates chart, one candidate's details, CSV.

Usage in a page::

    from backend.core.search import Trajectory
    from ui.components.trajectory import trajectory_view

    trajectory_view(Trajectory(path).records(), direction="max", score_label="valid MRR",
                    reference_points=[{"label": "DistMult", "score": 0.24}], key="autoblm-fb237")

Clicking a point selects that candidate (the chart's selection callback writes its record index into
the "Candidate" selectbox, which also works with the keyboard); its JSON, score, metrics and
attributes show below the chart. The figure itself is :func:`backend.core.search_viz.trajectory_figure`.
"""
from __future__ import annotations

import json
import math
from functools import partial
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from backend.core.search import Direction, TrajectoryRecord
from backend.core.search_viz import as_frame, attribute_names, best_row, trajectory_figure
from ui.components.downloads import frame_download
from ui.components.model_card import format_seconds

NO_COLOUR = "none"


def format_score(value: float | None) -> str:
    """'0.4123', '1.23e-05', '—' for a missing score."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    return f"{value:.3g}" if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3) else f"{value:.4f}"


def summary_line(frame: pd.DataFrame, direction: Direction = "max", score_label: str = "score") -> str:
    """'**Best score: 0.9100** (candidate #7 of 12; 1 failed)' or a sentence saying none succeeded."""
    failed = int(frame["status"].eq("failed").sum())
    tail = f"; {failed} failed" if failed else ""
    best = best_row(frame, direction)
    if best is None:
        return f"No candidate finished with a {score_label} yet ({len(frame)} evaluated{tail})."
    return f"**Best {score_label}: {format_score(best['score'])}** (candidate #{int(best['evaluated'])} " \
           f"of {len(frame)}{tail})"


def selected_record_index(selection: Mapping | None) -> int | None:
    """The record index of the first selected point of a plotly selection state (its customdata,
    else its x = index + 1), or None when nothing is selected."""
    points = (selection or {}).get("points") or []
    if not points:
        return None
    point = points[0]
    custom = point.get("customdata")
    if isinstance(custom, (list, tuple)):
        custom = custom[0] if custom else None
    if custom is not None:
        return int(custom)
    return int(point["x"]) - 1 if point.get("x") is not None else None


def _on_select(chart_key: str, candidate_key: str) -> None:
    """Chart selection callback: the clicked point becomes the selectbox's candidate."""
    state = st.session_state.get(chart_key)
    index = selected_record_index(getattr(state, "selection", None) if state is not None else None)
    if index is not None:
        st.session_state[candidate_key] = index


def _candidate_label(row: pd.Series) -> str:
    status = format_score(row["score"]) if row["status"] == "ok" else "failed"
    canonical = str(row["canonical"])
    return f"#{int(row['evaluated'])} · {status} · {canonical[:60] + ('…' if len(canonical) > 60 else '')}"


def _candidate_details(row: pd.Series, score_label: str) -> None:
    """The selected candidate: score (or error), metrics, attributes, its JSON."""
    if row["status"] == "ok":
        st.markdown(f"Candidate #{int(row['evaluated'])}: {score_label} **{format_score(row['score'])}** "
                    f"· {format_seconds(row['seconds'])} · seed {row['seed']}")
    else:
        st.error(f"Candidate #{int(row['evaluated'])} failed: {row['error']}")
    extras = {prefix: {c.split('.', 1)[1]: _plain(row[c]) for c in row.index
                       if c.startswith(prefix + ".") and not _missing(row[c])}
              for prefix in ("metrics", "attributes")}
    for prefix, values in extras.items():
        if values:
            st.caption(f"{prefix}: " + " · ".join(f"{readable(k)} {format_score(v) if isinstance(v, float) else v}"
                                                  for k, v in values.items()))
    st.caption(f"canonical form: `{row['canonical']}`")
    with st.expander("The candidate as recorded (JSON)"):
        st.json(json.loads(row["candidate"]), expanded=True)


def readable(name: str) -> str:
    """'valid_hits@1' -> 'valid hits@1', 'triples_per_s' -> 'triples per s': a recorded name for people."""
    return name.replace("_", " ")


def tidy_figure(fig, frame: pd.DataFrame, color_by: str | None) -> None:
    """Whole-number ticks on the candidates axis of a short search; colour groups named by their value under a
    legend title, not 'attr_name = value' each."""
    if len(frame) <= 12:
        fig.update_xaxes(dtick=1)
    if color_by:
        prefix = f"{color_by} = "
        fig.for_each_trace(lambda t: t.update(name=t.name[len(prefix):]) if (t.name or "").startswith(prefix)
                           else None)
        fig.update_layout(legend_title_text=readable(color_by.removesuffix("_text")))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def trajectory_view(frame_or_records: pd.DataFrame | Sequence[TrajectoryRecord], direction: Direction = "max",
                    color_by: str | None = None, reference_points: Sequence[dict] | None = None,
                    key: str = "trajectory", score_label: str = "score",
                    file_name: str = "trajectory.csv") -> int | None:
    """Best score line, the trajectory chart (colour by ``color_by``, or a "Colour by" selectbox of the
    attributes present when None), the selected candidate's details and a CSV download.

    key: a prefix unique on the page (widgets: ``{key}-colour``, ``{key}-chart``, ``{key}-candidate``,
    ``{key}-csv``). Returns the selected record index (None for an empty trajectory).
    """
    frame = as_frame(frame_or_records, direction)
    if frame.empty:
        st.info("No candidate evaluated yet.")
        return None
    st.markdown(summary_line(frame, direction, score_label))
    attributes = attribute_names(frame)
    if color_by is None and attributes:
        choice = st.selectbox("Colour by", [NO_COLOUR, *attributes], index=1, key=f"{key}-colour")
        color_by = None if choice == NO_COLOUR else choice
    chart_key, candidate_key = f"{key}-chart", f"{key}-candidate"
    fig = trajectory_figure(frame, direction, color_by, reference_points, score_label=score_label)
    tidy_figure(fig, frame, color_by)
    st.plotly_chart(fig, key=chart_key, on_select=partial(_on_select, chart_key, candidate_key),
                    selection_mode="points")
    indices = [int(i) for i in frame["index"]]
    best = best_row(frame, direction)
    if st.session_state.get(candidate_key) not in indices:
        st.session_state[candidate_key] = int(best["index"]) if best is not None else indices[-1]
    rows = frame.set_index(frame["index"].astype(int), drop=False)
    selected = st.selectbox("Candidate", indices, key=candidate_key,
                            format_func=lambda i: _candidate_label(rows.loc[i]),
                            help="Click a point in the chart, or pick a candidate here.")
    _candidate_details(rows.loc[selected], score_label)
    frame_download(frame, file_name, key=f"{key}-csv", label="Download trajectory (CSV)")
    return int(selected)
