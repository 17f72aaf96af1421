"""The evidence panel: interactive graph (pyvis), top paths, and downloads.

``show_evidence(evidence, key)`` is all a page needs; the graph HTML comes from
:func:`backend.core.viz.evidence_to_pyvis_html` (self-contained, works offline) and is shown in an
iframe (``st.iframe``, which runs the vis-network script; ``st.html`` would strip it). Every label
in that HTML is escaped or drawn as plain text, see :mod:`backend.core.viz`.
"""
from __future__ import annotations

import re

import streamlit as st

from backend.core.evidence import Evidence
from backend.core.viz import evidence_to_pyvis_html
from ui.components.downloads import download_buttons, frame_csv

#: above this many edges the panel offers a "heaviest edges" slider
EDGE_SLIDER_FROM = 40
#: iframe height = graph height + room for the heading and legend
CHROME_PX = 72


@st.cache_data(max_entries=64, show_spinner=False)
def _graph_html(evidence_json: str, layered: bool, height: int, max_edges: int | None) -> str:
    return evidence_to_pyvis_html(Evidence.from_json(evidence_json), layered=layered, height=f"{height}px",
                                  max_edges=max_edges)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "evidence"


def show_evidence(evidence: Evidence | None, key: str, height: int = 560, max_edges: int | None = None,
                  top_paths: int = 20, layered: bool = True, file_stem: str | None = None,
                  edge_slider: bool = True) -> None:
    """Render one :class:`Evidence`: graph, the ``top_paths`` best paths, and downloads.

    key: unique on the page (widgets are keyed from it). max_edges: start by showing only the
    heaviest edges (the user can change it when the graph is large, unless ``edge_slider`` is False:
    for evidence the backend has already pruned). The downloads always hold
    the whole evidence: JSON, edges CSV, paths CSV, and the graph as shown (HTML).
    """
    if evidence is None or (not evidence.nodes and not evidence.edges):
        st.info("No evidence to show for this query.")
        return
    n_edges = len(evidence.edges)
    c1, c2 = st.columns([1, 2])
    with c1:
        layered = st.toggle("Layered layout", value=layered, key=f"{key}-layered",
                            help="Left to right by propagation step, from the query to the answer; off: force-directed layout.")
    shown = max_edges
    if edge_slider and n_edges > EDGE_SLIDER_FROM:
        default = min(n_edges, max_edges or EDGE_SLIDER_FROM)
        with c2:
            shown = st.slider("Heaviest edges shown", min_value=1, max_value=n_edges, value=default,
                              key=f"{key}-max-edges")
    html_page = _graph_html(evidence.to_json(), layered, int(height), shown)
    st.iframe(html_page, height=int(height) + CHROME_PX)
    if evidence.summary:
        st.caption(" · ".join(f"{k.replace('_', ' ')}: {v:.4g}" if isinstance(v, float) else f"{k.replace('_', ' ')}: {v}"
                              for k, v in evidence.summary.items()))

    paths = evidence.paths_frame()
    if not paths.empty:
        st.markdown(f"**Top paths** ({min(top_paths, len(paths))} of {len(paths)})")
        st.dataframe(paths.head(top_paths), hide_index=True, placeholder="—", key=f"{key}-paths",
                     column_config={"score": st.column_config.NumberColumn(
                         format="%.3e", help="Product of the attention weights along the path"),
                                    "path": st.column_config.TextColumn(width="large")})

    stem = _slug(file_stem or f"{evidence.method}-{key}")
    download_buttons([
        ("Evidence (JSON)", evidence.to_json(), f"{stem}.json", "application/json"),
        ("Edges (CSV)", frame_csv(evidence.edges_frame()), f"{stem}-edges.csv", "text/csv"),
        ("Paths (CSV)", frame_csv(paths), f"{stem}-paths.csv", "text/csv"),
        ("Graph (HTML)", html_page, f"{stem}-graph.html", "text/html"),
    ], key=key)
