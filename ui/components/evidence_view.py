"""The evidence panel: the method's sentences, one renderer per part kind, and downloads.

``show_evidence(evidence, key)`` is all a page needs. It writes the evidence's sentences, then each
part through :data:`RENDERERS` (kind -> renderer; a new kind of part is one entry here and one class in
:mod:`backend.core.evidence`), then one row of downloads: the evidence as JSON, and each part's files
(graph: edges CSV, paths CSV, the graph as HTML; formula: Python source; structure and table: CSV;
molecules: PNG).

Graphs come from :func:`backend.core.viz.evidence_to_pyvis_html` (self-contained, works offline) and are
shown in an iframe (``st.iframe``, which runs the vis-network script; ``st.html`` would strip it); every
label in that HTML is escaped or drawn as plain text, see :mod:`backend.core.viz`. All wording about
what a layer, a weight or a score is comes from the part's legend, written by the method.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import streamlit as st

from backend.core.evidence import (
    Evidence,
    EvidencePart,
    FormulaPart,
    GraphPart,
    MoleculeImage,
    MoleculesPart,
    StructurePart,
    TablePart,
)
from backend.core.viz import evidence_to_pyvis_html, format_weight, structure_figure
from ui.components.downloads import DownloadItem, download_buttons, frame_csv

#: above this many edges the panel offers a "heaviest edges" slider
EDGE_SLIDER_FROM = 40
#: iframe height = graph height + room for the heading and the legend (two lines at 14 px; on a narrow
#: screen the legend wraps further and the page gives the graph less height, see backend.core.viz)
CHROME_PX = 96


@dataclass(frozen=True)
class ViewOptions:
    """How ``show_evidence`` asks a renderer to draw its part.

    height: graph height (px); max_edges: start with only the heaviest edges; top_paths: paths listed;
    layered: the layered layout first; edge_slider: offer the "heaviest edges" slider for large graphs;
    stem: the start of download file names; title: the heading inside a graph's HTML; name: the part's
    name on its download buttons ("Graph (HTML)")."""

    height: int = 560
    max_edges: int | None = None
    top_paths: int = 20
    layered: bool = True
    edge_slider: bool = True
    stem: str = "evidence"
    title: str = ""
    name: str = ""


#: a renderer draws one part and returns the files it offers for download
Renderer = Callable[[EvidencePart, str, ViewOptions], list[DownloadItem]]

_MD_SPECIAL = re.compile(r"([\\`*_$\[\]<>~|])")


def _md(text: str) -> str:
    """Text from a dataset or a method shown literally by st.markdown / st.caption (no markup, no LaTeX)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "evidence"


# ----------------------------------------------------------------------------------------------
# graph
# ----------------------------------------------------------------------------------------------

@st.cache_data(max_entries=64, show_spinner=False)
def _graph_html(part_json: str, title: str, layered: bool, height: int, max_edges: int | None) -> str:
    return evidence_to_pyvis_html(GraphPart.from_dict(json.loads(part_json)), layered=layered, height=f"{height}px",
                                  max_edges=max_edges, title=title)


def show_graph_part(part: GraphPart, key: str, options: ViewOptions = ViewOptions()) -> list[DownloadItem]:
    """The graph (iframe, layered or force-directed, with the heaviest-edges slider for large graphs), its
    legend in the method's words, and the ``options.top_paths`` best paths with plain-number scores."""
    legend = part.legend
    n_edges = len(part.edges)
    c1, c2 = st.columns([1, 2])
    with c1:
        layered = st.toggle("Layered layout", value=options.layered, key=f"{key}-layered",
                            help=f"Left to right by {legend.layer}, from the {legend.role_name('query')} to the "
                                 f"{legend.role_name('answer')}; off: force-directed layout.")
    shown = options.max_edges
    if options.edge_slider and n_edges > EDGE_SLIDER_FROM:
        default = min(n_edges, options.max_edges or EDGE_SLIDER_FROM)
        with c2:
            shown = st.slider("Heaviest edges shown", min_value=1, max_value=n_edges, value=default,
                              key=f"{key}-max-edges")
    title = options.title or part.title
    html_page = _graph_html(json.dumps(part.to_dict()), title, layered, int(options.height), shown)
    st.iframe(html_page, height=int(options.height) + CHROME_PX)
    st.caption(_md(" ".join(legend.sentences(layered))))

    paths = part.paths_frame()
    if not paths.empty:
        st.markdown(f"**Top paths** ({min(options.top_paths, len(paths))} of {len(paths)})")
        listed = paths.head(options.top_paths).assign(score=lambda f: f["score"].map(format_weight))
        st.dataframe(listed, hide_index=True, placeholder="—", key=f"{key}-paths",
                     column_config={"score": st.column_config.TextColumn(help=f"The {legend.path_score}"),
                                    "path": st.column_config.TextColumn(width="large")})
    name, stem = options.name or "Graph", options.stem
    edges_name = "Edges" if name == "Graph" else f"{name}: edges"
    paths_name = "Paths" if name == "Graph" else f"{name}: paths"
    return [
        (f"{edges_name} (CSV)", frame_csv(part.edges_frame()), f"{stem}-edges.csv", "text/csv"),
        (f"{paths_name} (CSV)", frame_csv(paths), f"{stem}-paths.csv", "text/csv"),
        (f"{name} (HTML)", html_page, f"{stem}-graph.html", "text/html"),
    ]


# ----------------------------------------------------------------------------------------------
# formula, structure, table, molecules
# ----------------------------------------------------------------------------------------------

#: the longest colour-bar title kept on a structure's heatmap (the figure keeps its first 40 characters)
COLOURBAR_TITLE_CHARS = 40
#: printed characters (see :func:`latex_width`) of a formula that still fits half the page's width
HALF_WIDTH_LATEX = 32


def latex_width(latex: str) -> int:
    """Roughly how many characters wide ``latex`` prints: commands, braces and scripts markers left out, a fraction
    counted by its wider part."""
    while True:
        frac = re.search(r"\\frac\{((?:[^{}]|\{[^{}]*\})*)\}\{((?:[^{}]|\{[^{}]*\})*)\}", latex)  # braces 1 deep
        if frac is None:
            break
        wider = max(frac.group(1), frac.group(2), key=lambda s: latex_width(s))
        latex = latex[:frac.start()] + wider + latex[frac.end():]
    return len(re.sub(r"\\[a-zA-Z]+|[{}^_\s\\]", "", latex))


def column_label(name: str) -> str:
    """A table column's name for its header: 'r2_vs_network' -> 'R² vs network'."""
    return re.sub(r"\br2\b", "R²", name.replace("_", " "))


def show_formula_part(part: FormulaPart, key: str, options: ViewOptions = ViewOptions()) -> list[DownloadItem]:
    """The formula in LaTeX (beside its reference law when it has one), what each variable means, and its
    Python source in an expander."""
    if part.reference_latex:
        # side by side only when the found formula fits half the width (KaTeX cuts a longer one off)
        beside = latex_width(part.latex) <= HALF_WIDTH_LATEX
        left, right = st.columns(2) if beside else (st.container(), st.container())
        with left:
            st.caption("Found")
            st.latex(part.latex)
        with right:
            st.caption(_md(part.reference_name or "Reference"))
            st.latex(part.reference_latex)
    else:
        st.latex(part.latex)
    if part.variables:
        st.markdown("\n".join(f"- `{name}`: {_md(meaning)}" for name, meaning in part.variables.items()))
    with st.expander("Python source"):
        st.code(part.python, language="python")
    return [(f"{options.name or 'Formula'} (Python)", part.python, f"{options.stem}-formula.py", "text/x-python")]


def show_structure_part(part: StructurePart, key: str, options: ViewOptions = ViewOptions()) -> list[DownloadItem]:
    """The matrix as a labelled heatmap, with what its values mean."""
    fig = structure_figure(part)
    if part.title:  # already the part's heading above the figure; inside it, it ran into the column labels
        fig.update_layout(title=None, margin={"t": 10})
    if len(part.value_meaning or "") > COLOURBAR_TITLE_CHARS:  # cut off on the colour bar; whole in the caption below
        fig.update_traces(colorbar_title_text="", selector={"type": "heatmap"})
    st.plotly_chart(fig, key=f"{key}-structure")
    if part.value_meaning:
        st.caption(_md(part.value_meaning))
    frame = part.to_frame().rename_axis("row").reset_index()
    return [(f"{options.name or 'Structure'} (CSV)", frame_csv(frame), f"{options.stem}-structure.csv", "text/csv")]


def show_table_part(part: TablePart, key: str, options: ViewOptions = ViewOptions()) -> list[DownloadItem]:
    """The table, with each column's help text on its header."""
    frame = part.to_frame()
    config = {c: st.column_config.Column(column_label(c), help=part.help.get(c)) for c in frame.columns}
    st.dataframe(frame, hide_index=True, placeholder="—", key=f"{key}-table", column_config=config)
    return [(f"{options.name or 'Table'} (CSV)", frame_csv(frame), f"{options.stem}-table.csv", "text/csv")]


@st.cache_data(max_entries=32, show_spinner=False)
def _molecules_png(part_json: str) -> MoleculeImage:
    return MoleculesPart.from_dict(json.loads(part_json)).grid_png()


def show_molecules_part(part: MoleculesPart, key: str, options: ViewOptions = ViewOptions()) -> list[DownloadItem]:
    """The molecules drawn in a grid (RDKit), each SMILES that cannot be read named with the reason."""
    picture = _molecules_png(json.dumps(part.to_dict()))
    if picture.png is not None:
        st.image(picture.png)
    for problem in picture.problems:
        st.warning(_md(problem))
    if picture.png is None:
        return []
    return [(f"{options.name or 'Molecules'} (PNG)", picture.png, f"{options.stem}-molecules.png", "image/png")]


def show_unknown_part(part: EvidencePart, key: str, options: ViewOptions = ViewOptions()) -> list[DownloadItem]:
    st.info(_md(f"This evidence has a part of kind '{part.kind}' that this version cannot show; "
                "it is kept in the JSON download."))
    return []


#: part kind -> renderer
RENDERERS: dict[str, Renderer] = {
    "graph": show_graph_part,
    "formula": show_formula_part,
    "structure": show_structure_part,
    "table": show_table_part,
    "molecules": show_molecules_part,
}


# ----------------------------------------------------------------------------------------------
# the whole evidence
# ----------------------------------------------------------------------------------------------

def show_sentences(evidence: Evidence) -> None:
    """What the evidence is about and what it says: the summary's text entries on one line (head: … ·
    relation: … · answer: …), then the method's sentences. Evidence without sentences (files from before
    they existed) shows its whole summary on that line instead."""
    summary = {k: v for k, v in evidence.summary.items() if k != "note"}
    if evidence.sentences:
        summary = {k: v for k, v in summary.items() if isinstance(v, str)}
    line = " · ".join(f"{k.replace('_', ' ')}: {v:.4g}" if isinstance(v, float) else f"{k.replace('_', ' ')}: {v}"
                      for k, v in summary.items())
    if line:
        st.caption(_md(line))
    if evidence.sentences:
        st.markdown(_md(" ".join(evidence.sentences)))


def show_evidence(evidence: Evidence | None, key: str, height: int = 560, max_edges: int | None = None,
                  top_paths: int = 20, layered: bool = True, file_stem: str | None = None,
                  edge_slider: bool = True) -> None:
    """Render one :class:`Evidence`: its sentences, every part (through :data:`RENDERERS`), and downloads.

    key: unique on the page (widgets are keyed from it; the evidence's graph uses it as is, other parts
    ``f"{key}-{i}"``). height, max_edges, top_paths, layered, edge_slider: for graphs (max_edges: start by
    showing only the heaviest edges; the user can change it when the graph is large, unless
    ``edge_slider`` is False: for evidence the backend has already pruned). The downloads hold the whole
    evidence (JSON) and each part's files.
    """
    if evidence is None or evidence.empty:
        st.info("No evidence to show for this query.")
        return
    stem = _slug(file_stem or f"{evidence.method}-{key}")
    show_sentences(evidence)
    base = ViewOptions(height=int(height), max_edges=max_edges, top_paths=int(top_paths), layered=layered,
                       edge_slider=edge_slider)
    counts = Counter(p.kind for p in evidence.parts)
    main = evidence.graph
    items: list[DownloadItem] = [("Evidence (JSON)", evidence.to_json(), f"{stem}.json", "application/json")]
    for i, part in enumerate(evidence.parts):
        if part.empty:
            continue
        own = part is main
        if part.title and not isinstance(part, GraphPart):  # a graph's title heads its picture
            st.markdown(f"**{_md(part.title)}**")
        if part.caption:
            st.caption(_md(part.caption))
        several = counts[part.kind] > 1 and not own
        options = replace(base, stem=stem if counts[part.kind] == 1 or own else f"{stem}-{i + 1}",
                          title=evidence.title if own else part.title,
                          name=(part.title or f"{part.kind.capitalize()} {i + 1}") if several else "")
        items += RENDERERS.get(part.kind, show_unknown_part)(part, key if own else f"{key}-{i}", options)
    download_buttons(items, key=key)
