"""Pictures of results: Evidence parts -> pyvis (vis-network) HTML and plotly heatmaps, model cards -> plotly figures.

No streamlit here: pages wrap these with ``ui/components/evidence_view.py`` and
``st.plotly_chart``; the CLI and the README screenshots call them directly.

Safety of the evidence HTML (labels come from datasets, i.e. from outside):

* node/edge data reach the page only through Jinja's ``tojson`` (``<``, ``>``, ``&``, ``'``
  become ``\\u003c`` ...), so no label can close the ``<script>`` block;
* hover titles are built as HTML with every piece of text passed through :func:`html.escape`,
  and are turned into DOM elements by a small script (vis-network would otherwise show the
  entities literally, since it sets string titles with ``innerText``);
* node labels are drawn on the canvas by vis-network (``fillText``), never parsed as HTML, so
  they are passed as plain text (escaping them would print ``&amp;`` on the graph);
* the heading, legend and notes written around the graph are escaped as well; the legend's words
  (what a layer, an edge weight and a path score are) come from the part's :class:`GraphLegend`.
"""
from __future__ import annotations

import html
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from backend.core.evidence import Evidence, EvidenceEdge, EvidenceNode, GraphLegend, GraphPart, StructurePart

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from backend.core.progress import ProgressEvent
    from backend.core.store import Card

# ----------------------------------------------------------------------------------------------
# Evidence -> HTML
# ----------------------------------------------------------------------------------------------

ROLE_COLORS = {"query": "#d1495b", "answer": "#2a9d8f"}
ROLE_SHAPES = {"query": "diamond", "answer": "star"}
OTHER_COLOR = "#8fa8c8"
# colour-blind friendly categorical palette for node kinds (Okabe-Ito without the role colours)
KIND_PALETTE = ["#56b4e9", "#e69f00", "#cc79a7", "#f0e442", "#0072b2", "#b07aa1", "#9c755f",
                "#bab0ac", "#76b7b2", "#edc948"]
EDGE_COLOR = "#7a8793"
EDGE_HIGHLIGHT = "#d1495b"

LAYER_SPACING = 280   # px between layers (x)
ROW_SPACING = 80      # px between nodes of one layer (y)
STAGGER = 60          # px left / right of its column for the nodes of a layer of more than 12
MIN_EDGE_WIDTH, MAX_EDGE_WIDTH = 1.0, 8.0
EDGE_LABEL_PATHS = 3   # relation names are drawn on the edges of the best paths (this many) ...
EDGE_LABEL_TOP = 12    # ... or, when no path matches the drawn edges, on this many heaviest edges
EDGE_LABEL_MAX = 15    # and never on more edges than this (the rest: hover)
LABEL_CHARS = 32       # node labels longer than this are shortened on the canvas (full in hover)
LINE_CHARS = 16        # node labels are wrapped to lines of about this many characters (2 lines at most)
NODE_FONT_PX = 16      # node label size (canvas px); the page enlarges it so that it reads >= MIN_FONT_PX
EDGE_FONT_PX = 14      # edge (relation) label size (canvas px)
MIN_FONT_PX = 14       # node labels are never smaller than this on screen at the initial zoom
MIN_SCALE = 0.5        # the initial zoom never goes below this (the rest of a wide graph: drag to pan)

_ESC = html.escape


#: below this (and from 1e4 up) weights are written in scientific notation
PLAIN_FROM = 1e-6


def format_weight(w: float | None) -> str:
    """A weight or score as a plain number with 3 significant digits and at least 3 decimals:
    0.873 -> '0.873', 0.5 -> '0.500', 0.031490 -> '0.0315', 12.3456 -> '12.346'; scientific notation
    only below 1e-6 or from 1e4 on ('1.23e-07'); None or NaN -> 'n/a'."""
    if w is None or (isinstance(w, float) and math.isnan(w)):
        return "n/a"
    w = float(w)
    if w == 0:
        return "0.000"
    if not PLAIN_FROM <= abs(w) < 1e4:
        return f"{w:.2e}"
    decimals = max(3, 2 - math.floor(math.log10(abs(w))))   # 3 significant digits, at least 3 decimals
    text = f"{w:.{decimals}f}"
    if decimals > 3 and abs(float(text)) >= 10.0 ** (3 - decimals):  # rounded up to a power of ten: 0.000999996
        text = f"{w:.{decimals - 1}f}"                                # -> '0.00100', not '0.001000'
    return text


def _no_href(s: str) -> str:
    # pyvis switches to an innerHTML popup when any node title contains "href"; a zero-width
    # space (an entity, so it is invisible once rendered) keeps it on the safe code path.
    return s.replace("href", "hre&#8203;f")


def edge_widths(weights: Sequence[float]) -> list[float]:
    """Widths in [1, 8] px, linear in weight (min -> 1, max -> 8); all equal -> 3."""
    if not weights:
        return []
    lo, hi = min(weights), max(weights)
    if not hi > lo:
        return [3.0] * len(weights)
    span = MAX_EDGE_WIDTH - MIN_EDGE_WIDTH
    return [round(MIN_EDGE_WIDTH + span * (w - lo) / (hi - lo), 3) for w in weights]


def kind_colors(kinds: Iterable[str], fixed: dict[str, str] | None = None) -> dict[str, str]:
    """A stable colour for each node kind (sorted, so the same kinds always get the same colours);
    ``fixed`` (a legend's node_kinds) gives some kinds their colours, the others take the palette's."""
    kinds, fixed = set(kinds), fixed or {}
    rest = [k for k in sorted(kinds) if k not in fixed]
    return {**{k: c for k, c in fixed.items() if k in kinds},
            **{k: KIND_PALETTE[i % len(KIND_PALETTE)] for i, k in enumerate(rest)}}


def node_color(node: EvidenceNode, kinds: dict[str, str]) -> str:
    return ROLE_COLORS.get(node.role) or kinds.get(node.kind, OTHER_COLOR)


def _graph_of(evidence: Evidence | GraphPart) -> GraphPart:
    """A graph part itself, or an evidence's graph (an empty one when it has none)."""
    if isinstance(evidence, GraphPart):
        return evidence
    return evidence.graph or GraphPart()


def select_top_edges(evidence: Evidence | GraphPart, max_edges: int | None
                     ) -> tuple[list[EvidenceNode], list[EvidenceEdge]]:
    """The ``max_edges`` heaviest edges, the nodes they touch, and the query/answer nodes.

    With ``max_edges=None`` (or at least as many as there are edges) everything is kept.
    Edges keep their original order.
    """
    edges = list(evidence.edges)
    if max_edges is None or max_edges >= len(edges):
        return list(evidence.nodes), edges
    order = sorted(range(len(edges)), key=lambda i: -float(edges[i].weight))
    keep = sorted(order[:max(0, max_edges)])
    kept_edges = [edges[i] for i in keep]
    touched = {e.source for e in kept_edges} | {e.target for e in kept_edges}
    kept_nodes = [n for n in evidence.nodes if n.id in touched or n.role in ("query", "answer")]
    return kept_nodes, kept_edges


def _infer_layers(nodes: list[EvidenceNode], edges: list[EvidenceEdge]) -> dict[str, int] | None:
    """Layer of each node: its own ``layer``, else hops from a query node, else last column.

    None when no node has a layer and there is no query node to count from.
    """
    layers = {n.id: n.layer for n in nodes if n.layer is not None}
    missing = [n.id for n in nodes if n.layer is None]
    if not missing:
        return {k: int(v) for k, v in layers.items()}
    starts = [n.id for n in nodes if n.role == "query"]
    if not layers and not starts:
        return None
    if starts:
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(n.id for n in nodes)
        g.add_edges_from((e.source, e.target) for e in edges)
        dist = nx.multi_source_dijkstra_path_length(g, starts, weight=lambda u, v, d: 1)
        undirected = nx.multi_source_dijkstra_path_length(g.to_undirected(), starts, weight=lambda u, v, d: 1)
        for nid in missing:
            if nid in dist:
                layers[nid] = dist[nid]
            elif nid in undirected:
                layers[nid] = undirected[nid]
    last = max(layers.values(), default=-1) + 1
    return {n.id: int(layers.get(n.id, last)) for n in nodes}


def layered_positions(nodes: list[EvidenceNode], edges: list[EvidenceEdge],
                      layers: dict[str, int]) -> dict[str, tuple[float, float]]:
    """x = layer * LAYER_SPACING (± STAGGER, alternately, in layers of over 12 nodes); nodes of a layer
    spread on y, centred on 0.

    Within a layer nodes are ordered by the weighted mean row of their predecessors in earlier
    layers (one barycentre sweep, fewer crossings), then by score and label.
    """
    by_layer: dict[int, list[EvidenceNode]] = defaultdict(list)
    for n in nodes:
        by_layer[layers[n.id]].append(n)
    incoming: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for e in edges:
        if e.source in layers and e.target in layers and layers[e.source] < layers[e.target]:
            incoming[e.target].append((e.source, abs(float(e.weight)) + 1e-9))
    row: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    for layer in sorted(by_layer):
        members = by_layer[layer]

        def key(n: EvidenceNode) -> tuple:
            preds = [(row[s], w) for s, w in incoming.get(n.id, []) if s in row]
            bary = sum(r * w for r, w in preds) / sum(w for _, w in preds) if preds else 0.0
            role_rank = {"query": 0, "answer": 1}.get(n.role, 2)
            return (bary, role_rank, -(n.score if n.score is not None else -math.inf), n.label, n.id)

        members = sorted(members, key=key)
        k = len(members)
        spacing = ROW_SPACING if k <= 12 else max(36.0, ROW_SPACING * 12 / k)
        # a crowded layer zig-zags left and right of its column, so that neighbours' labels do not overlap
        stagger = STAGGER if k > 12 else 0.0
        for i, n in enumerate(members):
            r = i - (k - 1) / 2
            row[n.id] = r
            pos[n.id] = (float(layer * LAYER_SPACING + stagger * (1 if i % 2 else -1)), float(r * spacing))
    return pos


def _node_title(n: EvidenceNode, layer: int | None, legend: GraphLegend | None = None) -> str:
    legend = legend or GraphLegend()
    lines = [f"<b>{_ESC(n.label)}</b>"]
    if n.kind:
        lines.append(f"kind: {_ESC(n.kind)}")
    if n.role:
        lines.append(f"role: {_ESC(legend.role_name(n.role))}")
    if layer is not None:
        lines.append(f"{_ESC(legend.layer)}: {layer}")
    if n.score is not None:
        lines.append(f"score: {format_weight(n.score)}")
    lines.append(f"<span style='color:#777'>id: {_ESC(n.id)}</span>")
    return _no_href("<br>".join(lines))


def _edge_title(e: EvidenceEdge, labels: dict[str, str], legend: GraphLegend | None = None) -> str:
    legend = legend or GraphLegend()
    head = f"{_ESC(e.relation)} · {_ESC(legend.edge_weight)} {format_weight(e.weight)}"
    tail = f"{_ESC(labels.get(e.source, e.source))} → {_ESC(labels.get(e.target, e.target))}"
    if e.layer is not None:
        tail += f" ({_ESC(legend.layer)} {e.layer})"
    return _no_href(f"{head}<br>{tail}")


def _short(label: str, n: int = LABEL_CHARS) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def wrap_label(label: str, width: int = LINE_CHARS, lines: int = 2) -> str:
    """A canvas label in at most ``lines`` lines of about ``width`` characters: broken at spaces (a space
    becomes the line break), a longer word cut where it must; what does not fit ends in "…" (the full
    label is in the node's hover title)."""
    label = " ".join(str(label).split())
    out: list[str] = []
    rest = label
    while rest and len(out) < lines:
        if len(rest) <= width:
            out.append(rest)
            rest = ""
            break
        cut = rest.rfind(" ", 0, width + 1)
        if cut <= 0:            # one long word: cut it
            out.append(rest[:width])
            rest = rest[width:]
        else:
            out.append(rest[:cut])
            rest = rest[cut + 1:]
    if rest:
        out[-1] = out[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(out)


_AT_LAYER = re.compile(r"@-?\d+$")


def entity_key(node_id: str) -> str:
    """The entity a node stands for: its id without a trailing ``@<layer>`` (RED-GNN's ``"123@2"`` -> ``"123"``)."""
    return _AT_LAYER.sub("", node_id)


def merge_repeated_entities(nodes: list[EvidenceNode], edges: list[EvidenceEdge]
                            ) -> tuple[list[EvidenceNode], list[EvidenceEdge], dict[str, list[int]]]:
    """One node per entity: the nodes ``"e@0"``, ``"e@1"`` ... of one entity become one node.

    It keeps the id of the query node (its first step, on the left), of the answer node (the last step, on the
    right edge) or else of the entity's first step; the answer is kept apart from the query when the query
    entity is its own answer. Edges are redirected to the merged nodes (an edge to an entity met at an
    earlier step then points back to the left); 'self' edges between two steps of one entity become loops
    and are dropped (the node's hover lists its steps); edges that now join the same two nodes by the same
    relation become one (the heaviest weight). Returns nodes, edges and node id -> the steps it stands for.
    """
    groups: dict[str, list[EvidenceNode]] = defaultdict(list)
    for n in nodes:
        key = entity_key(n.id)
        groups[key + "\x00answer" if n.role == "answer" and any(
            m.role == "query" and entity_key(m.id) == key for m in nodes) else key].append(n)
    rep: dict[str, str] = {}
    merged: list[EvidenceNode] = []
    steps: dict[str, list[int]] = {}
    for members in groups.values():
        first = min(members, key=lambda m: (m.layer if m.layer is not None else math.inf))
        keep = (next((m for m in members if m.role == "answer"), None)
                or next((m for m in members if m.role == "query"), None) or first)
        scores = [m.score for m in members if m.score is not None]
        merged.append(EvidenceNode(keep.id, keep.label, keep.kind, keep.layer, keep.role,
                                   keep.score if keep.score is not None else (max(scores) if scores else None)))
        steps[keep.id] = sorted({m.layer for m in members if m.layer is not None})
        for m in members:
            rep[m.id] = keep.id
    by_pair: dict[tuple[str, str, str], EvidenceEdge] = {}
    for e in edges:
        s, t = rep.get(e.source, e.source), rep.get(e.target, e.target)
        if s == t and e.source != e.target:
            continue                      # a step on the same entity ('self'): a loop once merged
        k = (s, t, e.relation)
        if k not in by_pair or float(e.weight) > float(by_pair[k].weight):
            by_pair[k] = EvidenceEdge(s, t, e.relation, float(e.weight), e.layer)
    kept = [by_pair[k] for k in dict.fromkeys((rep.get(e.source, e.source), rep.get(e.target, e.target), e.relation)
                                               for e in edges) if k in by_pair]
    return merged, kept, steps


def labelled_edges(edges: list[EvidenceEdge], paths: Sequence, labels: dict[str, str],
                   n_paths: int = EDGE_LABEL_PATHS, top: int = EDGE_LABEL_TOP, cap: int = EDGE_LABEL_MAX) -> set[int]:
    """Indices of the edges that carry their relation's name on the canvas: the edges of the ``n_paths`` best
    paths (a path names its nodes by id or by label), or, when none of them matches, the ``top`` heaviest
    edges; at most ``cap`` (the heaviest), never a 'self' loop."""
    def ends(nid: str) -> set[str]:
        return {nid, entity_key(nid), labels.get(nid, nid)}

    def usable(e: EvidenceEdge) -> bool:
        return e.source != e.target

    on_path: set[int] = set()
    for p in sorted(paths, key=lambda p: -float(p.score))[:n_paths]:
        for u, rel, v in zip(p.nodes, p.relations, p.nodes[1:]):
            for i, e in enumerate(edges):
                if usable(e) and e.relation == rel and u in ends(e.source) and v in ends(e.target):
                    on_path.add(i)
    pool = sorted(on_path) if on_path else [i for i, e in enumerate(edges) if usable(e)]
    limit = cap if on_path else min(top, cap)
    return set(sorted(pool, key=lambda i: -float(edges[i].weight))[:limit])


def evidence_legend_html(kinds: Iterable[str] | dict[str, str] = (), legend: GraphLegend | None = None,
                         layered: bool = False) -> str:
    """A one-line legend (HTML fragment) in the legend's words: role colours/shapes, kind colours, what
    edge width is and (layered) what a column is. ``kinds``: the kinds shown, or kind -> colour."""
    legend = legend or GraphLegend()

    def swatch(color: str, text: str, shape: str = "50%") -> str:
        return (f"<span style='display:inline-flex;align-items:center;white-space:nowrap'>"
                f"<span style='display:inline-block;width:13px;height:13px;border-radius:{shape};"
                f"background:{color};margin-right:5px;flex:none'></span>{_ESC(text)}</span>")

    parts = [swatch(ROLE_COLORS["query"], f"{legend.role_name('query')} (◆)", "2px"),
             swatch(ROLE_COLORS["answer"], f"{legend.role_name('answer')} (★)", "2px")]
    kc = dict(kinds) if isinstance(kinds, dict) else kind_colors(kinds, legend.node_kinds)
    parts += [swatch(c, k or "entity") for k, c in kc.items()]
    if not kc:
        parts.append(swatch(OTHER_COLOR, "other"))
    words = [f"edge width ∝ {legend.edge_weight}"]
    if layered:
        words.append(f"columns: {legend.layer}s")
    words += ["relation names on the strongest edges, all on hover (or tap)", "drag to move",
              "ctrl + scroll (or pinch) to zoom"]
    parts += [f"<span style='color:#555'>{_ESC(w)}</span>" for w in words]
    # flex-wrap: the items wrap onto further lines on a narrow screen instead of being cut
    return ("<div class='evidence-legend' style='display:flex;flex-wrap:wrap;align-items:center;"
            "gap:4px 14px;font:14px/1.35 sans-serif;padding:4px 2px;clear:both;max-width:100%;"
            "box-sizing:border-box'>" + "".join(parts) + "</div>")


_BOOTSTRAP_RE = re.compile(r"\s*<link[^>]*bootstrap[^>]*/>\s*<script[^>]*bootstrap[^>]*>\s*</script>", re.S)
_EMPTY_HEADING_RE = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>", re.S)

_TITLE_SCRIPT = """
<script type="text/javascript">
  // titles were built as escaped HTML; show them as such (vis-network uses innerText for strings)
  (function () {
    if (typeof nodes === "undefined" || typeof edges === "undefined") { return; }
    function el(s) { var d = document.createElement("div"); d.innerHTML = s; return d; }
    function convert(ds) {
      ds.update(ds.get().filter(function (x) { return typeof x.title === "string"; })
                        .map(function (x) { return {id: x.id, title: el(x.title)}; }));
    }
    convert(nodes); convert(edges);
  })();
</script>
"""


_WHEEL_ZOOM_SCRIPT = """
<script type="text/javascript">
  // A plain wheel scrolls the page the graph sits in (vis-network's own wheel zoom, switched off
  // with interaction.zoomView, would swallow it); ctrl/cmd + wheel, or a pinch, zooms about the pointer.
  (function () {
    var box = document.getElementById("mynetwork");
    if (typeof network === "undefined" || !network || !box) { return; }
    box.addEventListener("wheel", function (e) {
      if (!(e.ctrlKey || e.metaKey) || e.deltaY === 0) { return; }
      e.preventDefault();
      var r = box.getBoundingClientRect();
      var p = network.DOMtoCanvas({x: e.clientX - r.left, y: e.clientY - r.top});
      var s0 = network.getScale();
      var s1 = Math.min(10, Math.max(0.02, s0 * (e.deltaY < 0 ? 1.1 : 1 / 1.1)));
      var c = network.getViewPosition();
      network.moveTo({scale: s1, position: {x: p.x - (p.x - c.x) * s0 / s1, y: p.y - (p.y - c.y) * s0 / s1}});
    }, {passive: false});
  })();
</script>
"""


_READABLE_SCRIPT = """
<script type="text/javascript">
  // Readable at first sight: the graph gives up height (down to 160 px) so that heading and legend fit in
  // the frame; the view is fitted, but never zoomed out below MIN_SCALE (drag to see the rest); labels are
  // enlarged on the canvas so that they read at least MIN_PX on screen at the current zoom.
  (function () {
    var box = document.getElementById("mynetwork");
    if (typeof network === "undefined" || !network || !box) { return; }
    var MIN_PX = %(min_px)s, MIN_SCALE = %(min_scale)s, EDGE_PX = %(edge_px)s, tall = box.offsetHeight;
    var nodeBase = {}, edgeBase = {};
    nodes.get().forEach(function (n) { nodeBase[n.id] = (n.font && n.font.size) || 14; });
    edges.get().forEach(function (e) { if (e.label) { edgeBase[e.id] = (e.font && e.font.size) || EDGE_PX; } });
    function around() {
      var h = 12;
      [".evidence-head", ".evidence-legend"].forEach(function (q) {
        var el = document.querySelector(q); if (el) { h += el.getBoundingClientRect().height; }
      });
      return h;
    }
    function fonts() {
      var s = network.getScale();
      nodes.update(nodes.get().map(function (n) {
        return {id: n.id, font: Object.assign({}, n.font, {size: Math.max(nodeBase[n.id], Math.ceil((MIN_PX + 1) / s))})};
      }));
      edges.update(Object.keys(edgeBase).map(function (id) {
        var e = edges.get(id);
        return {id: e.id, font: Object.assign({}, e.font, {size: Math.max(edgeBase[id], Math.ceil(MIN_PX / s))})};
      }));
    }
    function view() {
      var want = Math.max(160, Math.min(tall, window.innerHeight - around()));
      if (Math.abs(box.offsetHeight - want) > 1) { box.style.height = want + "px"; network.redraw(); }
      network.fit({animation: false});
      if (network.getScale() < MIN_SCALE) {
        // too wide to read whole: keep the answer (right edge) in view, the paths leading to it on its left
        var at = network.getViewPosition(), star = nodes.get({filter: function (n) { return n.shape === "star"; }});
        if (star.length) {
          var ax = network.getPosition(star[0].id).x, room = (box.clientWidth / 2 - 60) / MIN_SCALE;
          at = {x: Math.min(at.x, ax - room), y: at.y};
          at.x = Math.max(at.x, ax - room);
        }
        network.moveTo({scale: MIN_SCALE, position: at, animation: false});
      }
      fonts();
    }
    view();
    window.addEventListener("resize", view);
    network.on("zoom", fonts);
    box.addEventListener("wheel", function () { setTimeout(fonts, 0); });
  })();
</script>
"""


def evidence_to_pyvis_html(evidence: Evidence | GraphPart, layered: bool = True, height: str = "560px",
                           max_edges: int | None = None, legend: bool = True, title: str | None = None) -> str:
    """A self-contained HTML page (vis-network inlined, no network access needed) of the evidence's graph
    (its first :class:`GraphPart`) or of one graph part; headed by ``title`` (default: the evidence's
    title, or the part's), with the part's legend below (``legend=False``: none).

    layered: nodes at x = layer * 280 px (query at layer 0 on the left, answer on the right),
    physics off; nodes without a layer are placed by hops from the query. Not layered (or no
    layer information at all): force-directed layout. Edge width is linear in weight (1..8 px),
    hover titles give "relation · weight 0.873" for edges and label/kind/score for nodes. A plain
    mouse wheel scrolls the surrounding page; ctrl/cmd + wheel (or a pinch) zooms the graph.
    max_edges: keep only the heaviest edges (plus the nodes they touch, and query/answer nodes).

    For a scientist reading it: one node per entity (a producer that lists an entity at several layers,
    RED-GNN's ``"123@2"``, gets it drawn once at its first layer, the answer once at the right edge; see
    :func:`merge_repeated_entities`); node labels wrapped to two lines and at least ``MIN_FONT_PX`` on screen
    at the first zoom; the relation's name written on the edges of the best paths (:func:`labelled_edges`),
    the others on hover; a legend that wraps on a narrow screen.
    """
    from pyvis.network import Network

    graph = _graph_of(evidence)
    if title is None:
        title = evidence.title if isinstance(evidence, Evidence) else graph.title
    nodes, edges = select_top_edges(graph, max_edges)
    known = {n.id for n in nodes}
    # edges may name nodes the producer did not list: show them as plain nodes
    for e in edges:
        for nid in (e.source, e.target):
            if nid not in known:
                nodes.append(EvidenceNode(id=nid, label=nid))
                known.add(nid)
    n_drawn = len(edges)
    # one node per entity (the answer once, at the right edge): see merge_repeated_entities
    nodes, edges, steps = merge_repeated_entities(nodes, edges)
    labels = {n.id: n.label for n in nodes}
    layers = _infer_layers(nodes, edges) if layered else None
    use_layers = layered and layers is not None
    pos = layered_positions(nodes, edges, layers) if use_layers else {}
    kinds = kind_colors((n.kind for n in nodes if n.role not in ROLE_COLORS), graph.legend.node_kinds)

    net = Network(height=height, width="100%", directed=True, cdn_resources="in_line", bgcolor="#ffffff")
    scores = [n.score for n in nodes if n.score is not None]
    s_lo, s_hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    for n in nodes:
        size = 14.0
        if n.score is not None and s_hi > s_lo:
            size = 10.0 + 10.0 * (n.score - s_lo) / (s_hi - s_lo)
        if n.role in ROLE_COLORS:
            size = 22.0
        color = node_color(n, kinds)
        hover = _node_title(n, layers.get(n.id) if layers else n.layer, graph.legend)
        if len(steps.get(n.id, ())) > 1:
            hover += (f"<br>met at {_ESC(graph.legend.layer)}s {', '.join(map(str, steps[n.id]))} "
                      "(drawn once)")
        opts: dict[str, Any] = dict(
            title=hover,
            color={"background": color, "border": "#2f3e46",
                   "highlight": {"background": color, "border": "#000000"}},
            borderWidth=2 if n.role in ROLE_COLORS else 1,
            size=size,
            font={"size": NODE_FONT_PX + (2 if n.role in ROLE_COLORS else 0), "face": "sans-serif",
                  "strokeWidth": 4, "strokeColor": "#ffffff", "color": "#1b1b1b",
                  "bold": {"color": "#1b1b1b"}},
        )
        if use_layers:
            x, y = pos[n.id]
            opts.update(x=x, y=y, physics=False)
            if layers is not None:
                opts["level"] = layers[n.id]
        net.add_node(n.id, label=wrap_label(_short(n.label) or n.id), shape=ROLE_SHAPES.get(n.role, "dot"), **opts)

    widths = edge_widths([float(e.weight) for e in edges])
    named = labelled_edges(edges, graph.paths, labels)
    seen_pairs: dict[tuple[str, str], int] = defaultdict(int)
    for i, (e, w) in enumerate(zip(edges, widths)):
        pair = tuple(sorted((e.source, e.target)))
        k = seen_pairs[pair]
        seen_pairs[pair] += 1
        smooth: dict[str, Any] = {"enabled": False}
        back = use_layers and layers is not None and layers.get(e.target, 0) <= layers.get(e.source, 0)
        if k or e.source == e.target or back:
            # a second edge between two nodes, a loop, or an edge back to an entity met earlier: curved
            smooth = {"enabled": True, "type": "curvedCW", "roundness": 0.18 * (k + 1) + (0.2 if back else 0.0)}
        opts = dict(
            title=_edge_title(e, labels, graph.legend), width=w, arrows={"to": {"enabled": True, "scaleFactor": 0.6}},
            color={"color": EDGE_COLOR, "highlight": EDGE_HIGHLIGHT, "opacity": 0.85}, smooth=smooth,
            weight=float(e.weight), relation=e.relation,
        )
        if i in named:
            opts.update(label=_short(e.relation, 24),
                        font={"size": EDGE_FONT_PX, "face": "sans-serif", "color": "#263238", "strokeWidth": 0,
                              "background": "rgba(255,255,255,0.88)", "align": "horizontal"})
            opts["color"] = {"color": "#4f5b66", "highlight": EDGE_HIGHLIGHT, "opacity": 0.95}
        net.add_edge(e.source, e.target, **opts)

    net.options = {
        "physics": ({"enabled": False} if use_layers else
                    {"enabled": True, "solver": "forceAtlas2Based",
                     "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 120},
                     "stabilization": {"enabled": True, "iterations": 300, "fit": True}}),
        "interaction": {"hover": True, "tooltipDelay": 80, "navigationButtons": False, "zoomView": False,
                        "multiselect": True, "dragNodes": True},
        "edges": {"smooth": {"enabled": False} if use_layers else {"enabled": True, "type": "continuous"},
                  "selectionWidth": 2},
        "nodes": {"shape": "dot"},
    }
    page = net.generate_html(notebook=False)
    page = _BOOTSTRAP_RE.sub("", page, count=1)
    page = _EMPTY_HEADING_RE.sub("", page)

    head = [f"<div class='evidence-head' style='font:600 14px sans-serif;padding:2px'>{_ESC(title)}"]
    if n_drawn < len(graph.edges):
        head.append(f"<span style='font-weight:400;color:#666'> · showing the {n_drawn} heaviest of "
                    f"{len(graph.edges)} edges</span>")
    head.append("</div>")
    style = "<style>div.vis-tooltip{font-family:sans-serif;font-size:13px;white-space:normal;max-width:420px}</style>"
    page = page.replace("</head>", style + "</head>", 1)
    page = page.replace("<body>", "<body style='margin:4px'>\n" + "".join(head), 1)
    readable = _READABLE_SCRIPT % {"min_px": MIN_FONT_PX, "min_scale": MIN_SCALE, "edge_px": EDGE_FONT_PX}
    tail = (evidence_legend_html(kinds, graph.legend, layered=use_layers) if legend else "") + _TITLE_SCRIPT + \
        _WHEEL_ZOOM_SCRIPT + readable
    page = page.replace("</body>", tail + "</body>", 1)
    return page


def vis_data_from_html(page: str) -> tuple[list[dict], list[dict]]:
    """The vis.js node and edge lists embedded in a page from :func:`evidence_to_pyvis_html`
    (for tests and for checking a saved page)."""
    dec = json.JSONDecoder()
    out = []
    for name in ("nodes", "edges"):
        marker = f"{name} = new vis.DataSet("
        i = page.index(marker) + len(marker)
        obj, _ = dec.raw_decode(page, i)
        out.append(obj)
    return out[0], out[1]


# ----------------------------------------------------------------------------------------------
# Structure part -> plotly heatmap
# ----------------------------------------------------------------------------------------------

def structure_figure(part: StructurePart, height: int | None = None) -> "go.Figure":
    """A labelled heatmap of a :class:`StructurePart`: rows top to bottom as given, each cell written as
    :meth:`StructurePart.value_text`. Numbers use a diverging scale centred on 0 when some are negative
    (AutoBLM's ±k blocks), a sequential one otherwise; a matrix of text colours each distinct value."""
    import plotly.graph_objects as go

    cells = [v for row in part.matrix for v in row]
    numeric = all(v is None or isinstance(v, (int, float)) for v in cells)
    text = [[part.value_text(v) for v in row] for row in part.matrix]
    if numeric:
        z = [[math.nan if v is None else float(v) for v in row] for row in part.matrix]
        values = [x for row in z for x in row if not math.isnan(x)]
        diverging = any(x < 0 for x in values)
        scale = dict(colorscale="RdBu", zmid=0.0) if diverging else dict(colorscale="Blues")
        colorbar = dict(title=dict(text=part.value_meaning[:40] or "value"))
        heat = go.Heatmap(z=z, **scale, colorbar=colorbar)
    else:
        keys = sorted({"" if v is None else str(v) for v in cells})
        code = {k: i for i, k in enumerate(keys)}
        z = [[code["" if v is None else str(v)] for v in row] for row in part.matrix]
        heat = go.Heatmap(z=z, colorscale="Viridis", showscale=False)
    heat.update(x=list(part.column_labels), y=list(part.row_labels), text=text, texttemplate="%{text}",
                hovertemplate="%{y} · %{x}: %{text}<extra></extra>", xgap=2, ygap=2)
    fig = go.Figure(heat)
    n_rows = len(part.row_labels)
    fig.update_layout(title=part.title or None, height=height or max(220, 60 + 44 * n_rows),
                      margin=dict(l=10, r=10, t=40 if part.title else 10, b=10))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    return fig


# ----------------------------------------------------------------------------------------------
# Cards -> frames and figures
# ----------------------------------------------------------------------------------------------

HEADLINE_METRICS = ("mrr", "roc_auc", "f1", "accuracy", "ndcg@3", "r2", "mse")
LOWER_IS_BETTER = {"mse", "mae", "rmse", "mr", "loss"}
METRIC_NAMES = {"mrr": "MRR", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "f1": "F1", "accuracy": "accuracy",
                "ndcg@3": "NDCG@3", "r2": "R²", "mse": "MSE", "mae": "MAE", "kappa": "Cohen's κ",
                "hits@1": "Hits@1", "hits@3": "Hits@3", "hits@10": "Hits@10", "mr": "MR"}
FRAME_COLUMNS = ["method", "model", "dataset", "setting", "metric", "value", "params_total", "params_trainable",
                 "params_adaptive", "train_seconds", "device", "source", "std", "area", "role", "baseline",
                 "higher_is_better", "params_source", "citation", "seeds"]

#: what a point of the parsimony panels is: this project's checkpoint, a paper's number for a knowledge-aware
#: model (the group's methods; baselines that use domain knowledge), or any other baseline; colour and symbol each
ROLES = ("this project", "knowledge-aware (papers)", "other baselines (papers)")
ROLE_STYLE = {"this project": ("#1f6f9f", "circle"), "knowledge-aware (papers)": ("#d9792b", "diamond"),
              "other baselines (papers)": ("#6b7378", "square-open")}

#: metric-name prefixes of the other tie policies in RED-GNN's cards (nbfnet_mrr, optimistic_hits@1, ...)
TIE_POLICY_PREFIXES = {"nbfnet": "NBFNet ties", "optimistic": "optimistic ties"}


def metric_title(name: str) -> str:
    """'hits@10' -> 'Hits@10', 'mr' -> 'MR (lower is better)', 'nbfnet_mrr' -> 'MRR, NBFNet ties'."""
    prefix, _, base = name.partition("_")
    if prefix in TIE_POLICY_PREFIXES and base:
        return f"{metric_title(base)}, {TIE_POLICY_PREFIXES[prefix]}"
    title = METRIC_NAMES.get(name, name)
    return f"{title} (lower is better)" if name in LOWER_IS_BETTER else title


def round_sig(x: Any, digits: int = 4) -> Any:
    """``x`` rounded to ``digits`` significant digits (0.546404 -> 0.5464, 3900.88 -> 3901.0); non-numbers and
    NaN as they are."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x == 0:
        return x
    return round(float(x), digits - 1 - math.floor(math.log10(abs(x))))


def headline_metric(test_metrics: dict[str, float] | None,
                    priority: Sequence[str] = HEADLINE_METRICS) -> tuple[str | None, float]:
    """(name, value) of the first metric of ``priority`` present; else the first metric there is;
    else (None, nan)."""
    test_metrics = test_metrics or {}
    for name in priority:
        if name in test_metrics and test_metrics[name] is not None:
            return name, float(test_metrics[name])
    for name, value in test_metrics.items():
        if value is not None:
            return name, float(value)
    return None, math.nan


def _method(name: str):
    """The registered Method called ``name``, or None (a card of a method this installation does not know)."""
    from backend.registry import METHODS  # late: the registry imports the methods, which import backend.core

    return METHODS.get(name)


def declared_headline(method: str) -> tuple[str | None, bool]:
    """(headline metric, higher is better) that method ``method`` declares (``capabilities``); (None, True) for a
    method the registry does not know."""
    m = _method(method)
    if m is None:
        return None, True
    return m.capabilities.headline, bool(m.capabilities.higher_is_better)


def higher_is_better(metric: str | None, method: str | None = None) -> bool:
    """The direction of ``metric``: the method's declaration when it is that method's headline, else from the
    metric's name (MSE, MAE, MR: lower is better)."""
    declared, higher = declared_headline(method) if method else (None, True)
    if metric is not None and metric == declared:
        return higher
    return metric not in LOWER_IS_BETTER


def card_headline(card: Card, split: str = "test",
                  priority: Sequence[str] | None = None) -> tuple[str | None, float, bool]:
    """(metric, value, higher is better) that ranks ``card``: its method's declared headline
    (``get_method(card.method).capabilities.headline``) when the card has it, else the first of ``priority``
    (default HEADLINE_METRICS) it has."""
    metrics = (card.metrics or {}).get(split) or {}
    declared, higher = declared_headline(card.method)
    if priority is None and declared is not None and metrics.get(declared) is not None:
        return declared, float(metrics[declared]), higher
    name, value = headline_metric(metrics, HEADLINE_METRICS if priority is None else priority)
    return name, value, higher_is_better(name, card.method)


def _num(x: Any) -> float:
    try:
        return math.nan if x is None else float(x)
    except (TypeError, ValueError):
        return math.nan


def _area(method: str) -> str:
    m = _method(method)
    return m.area if m is not None else method


def _title(method: str) -> str:
    m = _method(method)
    return m.title if m is not None else method


def reference_role(row: dict) -> str:
    """The role (ROLES) of a paper's row: knowledge-aware or another baseline."""
    return ROLES[1] if row.get("knowledge_aware") else ROLES[2]


def cards_frame(cards: list[Card], references: list[dict] | None = None,
                priority: Sequence[str] | None = None, split: str = "test") -> pd.DataFrame:
    """One row per card (this project, its headline metric) and per reference dict (the papers, every row).

    Columns: FRAME_COLUMNS. A card's metric is :func:`card_headline`'s: its method's declared headline, or with
    ``priority`` the first of those it has. ``model`` is the method's title for a card; ``seeds`` the card's
    "mean ± std (n seeds)" of that metric ("" without seeds). A reference dict has keys method, dataset, metric,
    value, params, citation, model (e.g. "SumGNN" for a baseline; defaults to the method) and optionally setting,
    std, params_kind, params_source, knowledge_aware and baseline (as from ``references.reference_rows()``); its
    parameter count goes to ``params_adaptive`` when params_kind is "adaptive", else to ``params_total`` (None ->
    NaN); its source is "paper: <citation>". ``area`` is the method's data area (the task); ``role`` one of ROLES;
    ``baseline`` whether a paper's row is a model the paper compares against (False for the method's own numbers
    and this project's cards, unless a card's ``extras`` say ``"baseline": true``); ``std`` the paper's standard
    deviation where given (NaN otherwise). A card's ``extras`` may also set ``model`` (its name in the panel, e.g.
    "DistMult" for a classic model trained by AutoBLM's code) and ``zoo_setting`` (the panel it joins).
    """
    rows = []
    for c in cards:
        name, value, higher = card_headline(c, split, priority)
        params = c.params or {}
        train = c.train or {}
        extras = c.extras if isinstance(c.extras, dict) else {}
        rows.append({  # a card's extras may name its model and panel: a baseline trained by a method's own code
            "method": c.method, "model": extras.get("model") or _title(c.method), "dataset": c.dataset,
            "setting": extras.get("zoo_setting", c.setting),
            "metric": name, "value": value,
            "params_total": _num(params.get("total")), "params_trainable": _num(params.get("trainable")),
            "params_adaptive": _num(params.get("adaptive")), "train_seconds": _num(train.get("seconds")),
            "device": train.get("device", ""), "source": "this project", "std": math.nan,
            "area": _area(c.method), "role": ROLES[0], "baseline": bool(extras.get("baseline", False)),
            "higher_is_better": higher,
            "params_source": "card", "citation": c.reference or "", "seeds": c.seed_text(split, name) if name else "",
        })
    for r in references or []:
        citation = r.get("citation") or "unknown"
        adaptive = r.get("params_kind") == "adaptive"
        method = r.get("method", "")
        rows.append({
            "method": method, "model": r.get("model") or method,
            "dataset": r.get("dataset", ""), "setting": r.get("setting", ""),
            "metric": r.get("metric"), "value": _num(r.get("value")),
            "params_total": math.nan if adaptive else _num(r.get("params")), "params_trainable": math.nan,
            "params_adaptive": _num(r.get("params")) if adaptive else math.nan,
            "train_seconds": math.nan, "device": "", "source": f"paper: {citation}", "std": _num(r.get("std")),
            "area": _area(method), "role": reference_role(r), "baseline": bool(r.get("baseline", True)),
            "higher_is_better": higher_is_better(r.get("metric"), method),
            "params_source": r.get("params_source") or ("paper" if r.get("params") else ""),
            "citation": citation, "seeds": "",
        })
    frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    for col in ("value", "params_total", "params_trainable", "params_adaptive", "train_seconds", "std"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def _empty_figure(message: str, title: str = "") -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#666"})
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, height=320)
    return fig


def _si(count: float) -> str:
    """A parameter count as a tick label: 500, 20k, 1.5M."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= scale:
            return f"{count / scale:g}{suffix}"
    return f"{count:g}"


def format_params(count: float) -> str:
    """A parameter count in a sentence, to 3 significant digits: 34,855 -> '34.9k', 11,160,226 -> '11.2M'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= scale:
            return f"{round_sig(count / scale, 3):g}{suffix}"
    return f"{count:g}"


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 steps per decade from the last one at or below ``low`` to the first at or above ``high`` (log
    axes otherwise label 20k, 30k, … as bare 2, 3, …; ticks outside the drawn range are not shown)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in (1, 2, 5)]
    start = max(i for i, t in enumerate(ticks) if t <= low * (1 + 1e-9))
    end = min(i for i, t in enumerate(ticks) if t >= high * (1 - 1e-9))
    return ticks[start:max(end, start + 1) + 1]


# ----------------------------------------------------------------------------------------------
# The parsimony panels: one per (task, dataset, setting)
# ----------------------------------------------------------------------------------------------

_PLAIN_SETTINGS = ("", "default", "transductive")


def _setting(setting: Any) -> str:
    return "" if setting is None or str(setting) in _PLAIN_SETTINGS else str(setting)


from dataclasses import dataclass  # noqa: E402  (the card half of this module)


@dataclass
class ParsimonyPanel:
    """The models of one task on one dataset (and setting), quality against size.

    ``rows``: the frame's rows of that task, dataset and setting in ``metric``; ``params``: the column on the x
    axis ("params_total", or "params_adaptive" where the panel's counts are per-task adapted parameters);
    ``headline``: the panel's sentence; ``also``: numbers reported without a parameter count."""

    area: str
    task: str
    dataset: str
    setting: str
    metric: str
    higher_is_better: bool
    params: str
    rows: pd.DataFrame
    headline: str = ""
    also: str = ""
    reference_line: tuple[str, float] | None = None  # (label, value): the paper's own number without a size

    @property
    def title(self) -> str:
        return f"{self.dataset}" + (f" ({self.setting})" if self.setting else "") + f" · {self.task}"

    @property
    def key(self) -> str:
        return f"{self.area}/{self.dataset}/{self.setting}"

    @property
    def params_kind(self) -> str:
        return "adaptive" if self.params == "params_adaptive" else "total"

    def plotted(self) -> pd.DataFrame:
        """Rows with a parameter count and a value: the points."""
        return self.rows[self.rows[self.params].gt(0) & self.rows["value"].notna()]

    def size_only(self) -> pd.DataFrame:
        """Rows with a parameter count and no value (e.g. PACIA): drawn as a vertical line."""
        return self.rows[self.rows[self.params].gt(0) & self.rows["value"].isna()]

    def unsized(self) -> pd.DataFrame:
        """Rows with a value and no parameter count: named under the panel."""
        return self.rows[~self.rows[self.params].gt(0) & self.rows["value"].notna()]


def _task_titles() -> dict[str, str]:
    """area -> the task of the first registered method of that area, up to its colon ('Knowledge-graph
    reasoning'), and the registry's order of areas."""
    from backend.registry import METHODS

    titles: dict[str, str] = {}
    for m in METHODS.values():
        titles.setdefault(m.area, m.task.split(":")[0].strip())
    return titles


def _panel_metric(group: pd.DataFrame, params_ok: pd.Series) -> str | None:
    """This project's headline where the group has a card; else a method's declared headline that its papers
    report; else the metric with the most sized numbers (ties: HEADLINE_METRICS order)."""
    ours = group[group["role"] == ROLES[0]]
    if not ours.empty and ours["metric"].notna().any():
        return ours["metric"].dropna().value_counts().index[0]
    for method in dict.fromkeys(group["method"]):
        declared, _ = declared_headline(method)
        if declared is not None and (group["metric"] == declared).any():
            return declared
    sized = group[params_ok & group["metric"].notna()]
    pool = sized if not sized.empty else group[group["metric"].notna()]
    if pool.empty:
        return None
    counts = pool["metric"].value_counts()
    rank = {m: i for i, m in enumerate(HEADLINE_METRICS)}
    return min(counts.index, key=lambda m: (-counts[m], rank.get(m, len(rank)), m))


def _value_text(metric: str, value: float) -> str:
    return f"{METRIC_NAMES.get(metric, metric)} {value:.3f}"


def _best(rows: pd.DataFrame, higher: bool) -> pd.Series | None:
    rows = rows[rows["value"].notna()]
    if rows.empty:
        return None
    return rows.loc[rows["value"].idxmax() if higher else rows["value"].idxmin()]


def _headline(panel: ParsimonyPanel) -> tuple[str, set]:
    """One sentence: this project's model(s) (or the lead paper model) with size and metric, the paper's own number
    for it, the best baseline with its size and how many times larger it is (and the smallest sized baseline when
    that is another one), and sizes reported without a value; with the row indices it names."""
    rows, x, higher, metric = panel.rows, panel.params, panel.higher_is_better, panel.metric
    kind = "" if x == "params_total" else " adapted"
    ours = rows[rows["role"] == ROLES[0]]
    own_models = set(ours["model"])
    parts, named, lead_size = [], set(), math.nan

    def sized(r) -> str:
        return f"{format_params(r[x])}{kind} parameters"

    if not ours.empty:
        for i, r in ours.sort_values("value", ascending=not higher).iterrows():
            size = f"{sized(r)}, " if r[x] > 0 else ""
            many = re.fullmatch(r"(.*) \((\d+ seeds?)\)", r["seeds"] or "")
            seeds = f" ({many[2]}: {many[1]})" if many else ""
            parts.append(f"{r['model']} (this project): {size}{_value_text(metric, r['value'])}{seeds}")
            named.add(i)
            lead_size = r[x] if math.isnan(lead_size) and r[x] > 0 else lead_size
        same = rows[(rows["role"] != ROLES[0]) & rows["model"].isin(own_models) & rows["value"].notna()]
        if not same.empty:
            i = same.sort_values(x, na_position="last").index[0]  # a sized number first
            paper = rows.loc[i]
            size = f" with {sized(paper)}" if paper[x] > 0 else ""
            parts.append(f"the paper's {paper['model']}: {_value_text(metric, paper['value'])}{size}")
            named.add(i)
            if not paper[x] > 0:
                panel.reference_line = (f"paper's {paper['model']}", float(paper["value"]))
    else:
        own = rows[~rows["baseline"].astype(bool) & rows["value"].notna()]
        lead = _best(own[own[x].gt(0)], higher)
        lead = lead if lead is not None else _best(own, higher)
        if lead is not None:
            size = f"{sized(lead)}, " if lead[x] > 0 else ""
            parts.append(f"{lead['model']} (paper): {size}{_value_text(metric, lead['value'])}")
            own_models, lead_size = {lead["model"]}, lead[x]
            named.add(lead.name)
    baselines = rows[rows["baseline"].astype(bool) & ~rows["model"].isin(own_models)]
    with_size = baselines[baselines[x].gt(0) & baselines["value"].notna()]

    def times(r) -> str:
        return f" ({r[x] / lead_size:,.0f}× the parameters)" if lead_size > 0 and r[x] >= 2 * lead_size else ""

    best = _best(with_size, higher)
    if best is not None:
        parts.append(f"best baseline with a size: {best['model']}, {sized(best)}, "
                     f"{_value_text(metric, best['value'])}{times(best)}")
        named.add(best.name)
        smallest = with_size.loc[with_size[x].idxmin()]
        if smallest.name != best.name:
            parts.append(f"smallest: {smallest['model']}, {sized(smallest)}, "
                         f"{_value_text(metric, smallest['value'])}{times(smallest)}")
            named.add(smallest.name)
    else:
        best = _best(baselines, higher)
        if best is not None:
            parts.append(f"best baseline: {best['model']}, {_value_text(metric, best['value'])} (size not given)")
            named.add(best.name)
    for i, r in panel.size_only().iterrows():
        if r["model"] not in own_models:
            parts.append(f"{r['model']}: {sized(r)}, no {METRIC_NAMES.get(metric, metric)} available")
            named.add(i)
    return ("; ".join(parts) + "." if parts else ""), named


def _also(panel: ParsimonyPanel, named: set) -> str:
    """The numbers reported without a parameter count that the headline does not name, best first."""
    unsized = panel.unsized()
    unsized = unsized[~unsized.index.isin(named)].sort_values("value", ascending=not panel.higher_is_better)
    if unsized.empty:
        return ""
    twice = set(panel.rows["model"][panel.rows["model"].duplicated()])
    items = [f"{r['model']} {r['value']:.3f}" + (f" ({r['citation']})" if r["model"] in twice else "")
             for _, r in unsized.iterrows()]
    return f"Also reported, without a parameter count ({METRIC_NAMES.get(panel.metric, panel.metric)}): " + \
        ", ".join(items) + "."


def parsimony_panels(frame: pd.DataFrame, min_models: int = 2) -> list[ParsimonyPanel]:
    """The frame of :func:`cards_frame` cut into one panel per (task = area, dataset, setting).

    A panel's metric is its cards' headline (their method's declared one), or for a dataset with papers' numbers
    only a declared headline they report, else the metric with most sized numbers. Its x axis counts adapted
    parameters where most of its sized numbers do (PAR, PACIA), else all parameters. A panel is kept when it has
    one of this project's cards, or at least ``min_models`` models with a parameter count; panels with cards
    come first, in the registry's order of tasks. Driven by the registry and the references only."""
    if frame is None or frame.empty:
        return []
    titles = _task_titles()
    order = {a: i for i, a in enumerate(titles)}
    df = frame.copy()
    df["setting_key"] = [_setting(s) for s in df["setting"]]
    panels = []
    for (area, dataset, setting), group in df.groupby(["area", "dataset", "setting_key"], sort=False):
        params_ok = group["params_total"].gt(0) | group["params_adaptive"].gt(0)
        metric = _panel_metric(group, params_ok)
        if metric is None:
            continue
        rows = group[group["metric"] == metric].drop(columns="setting_key")
        valued = rows["value"].notna()  # a parameter count quoted without a metric value does not choose the axis
        n_total = int((rows["params_total"].gt(0) & valued).sum())
        n_adaptive = int((rows["params_adaptive"].gt(0) & valued).sum())
        x = "params_adaptive" if n_adaptive > n_total else "params_total"
        ours = (rows["role"] == ROLES[0]).any()
        sized_models = rows.loc[rows[x].gt(0), "model"].nunique()
        if not ours and sized_models < min_models:
            continue
        methods = [m for m in dict.fromkeys(rows["method"])]
        higher = higher_is_better(metric, methods[0] if methods else None)
        panel = ParsimonyPanel(area, titles.get(area, area), dataset, setting, metric, higher, x,
                               rows.reset_index(drop=True))
        if panel.plotted().empty and not ours:
            continue
        panel.headline, named = _headline(panel)
        panel.also = _also(panel, named)
        panels.append(panel)
    panels.sort(key=lambda p: (not (p.rows["role"] == ROLES[0]).any(), order.get(p.area, len(order)),
                               _dataset_rank(p)))
    return panels


def _dataset_rank(panel: ParsimonyPanel) -> int:
    """Where the panel's dataset stands in its first method's list of datasets (the registry's order: e.g.
    RED-GNN's transductive graphs before the inductive splits); unknown ones last, in the frame's order."""
    for method in dict.fromkeys(panel.rows["method"]):
        m = _method(method)
        if m is not None and panel.dataset in m.datasets:
            return m.datasets.index(panel.dataset)
    return 10_000


def _label_positions(xs: list[float], ys: list[float], span: tuple[float, float], near: float = 0.35) -> list[str]:
    """Where each point's label goes, so the labels of models of about the same size (within ``near`` decades) do
    not overlap: the highest of such a group above its point, the lowest below, any between beside it (right and
    left in turn); a point alone above. Starting at the point near the left edge of the log axis ``span`` and
    ending at it near the right edge, so no label runs off."""
    logs = [math.log10(v) for v in xs]
    width = span[1] - span[0]
    out = []
    for i, (lx, y) in enumerate(zip(logs, ys)):
        side = "right" if lx - span[0] < 0.3 * width else "left" if span[1] - lx < 0.3 * width else "center"
        group = sorted((j for j in range(len(xs)) if abs(lx - logs[j]) < near), key=lambda j: (-ys[j], j))
        rank = group.index(i)
        if rank == 0:
            out.append(f"top {side}")
        elif rank == len(group) - 1:
            out.append(f"bottom {side}")
        else:
            beside = "right" if rank % 2 else "left"
            out.append(f"middle {'left' if side == 'left' else 'right' if side == 'right' else beside}")
    return out


def _merge_coincident_labels(points, x: str, text: dict, near: float = 0.35, close: float = 0.04) -> dict:
    """Labels of points of one role that sit on each other (within ``near`` decades and ``close`` of the value
    range: ComplEx 0.680 and Analogy 0.669 at the same size) become one label on the highest, "ComplEx, Analogy";
    the others' labels are empty."""
    values = points["value"]
    tol = close * max(float(values.max() - values.min()), 1e-12)
    out = dict(text)
    for _, sub in points.groupby("role", sort=False):
        leaders: list = []
        for i in sub.sort_values("value", ascending=False).index:
            lx = math.log10(points.at[i, x])
            lead = next((j for j in leaders if abs(math.log10(points.at[j, x]) - lx) < near
                         and points.at[j, "value"] - points.at[i, "value"] <= tol), None)
            if lead is None:
                leaders.append(i)
            else:
                out[lead], out[i] = f"{out[lead]}, {out[i]}", ""
    return out


def _param_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log parameter axis: 1-2-5 steps within 1.3 decades, whole decades beyond (a phone-wide
    axis has room for about six labels)."""
    if math.log10(high / low) <= 1.3:
        return log_ticks(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [10.0 ** e for e in range(first, last + 1)]


def panel_figure(panel: ParsimonyPanel, height: int = 400, title: str | None = None) -> go.Figure:
    """One panel: parameters (log x) against the panel's metric, a trace per role (ROLES: colour and symbol; the
    legend below the plot, horizontal, at most three entries), each point labelled with its model (the method's own
    numbers in bold); a paper's standard deviation as an error bar; the paper's number for this project's model
    without a size as a dotted horizontal line, a parameter count without a value as a dotted vertical one; every
    font 11 px or more."""
    import plotly.graph_objects as go

    points = panel.plotted()
    lines = panel.size_only()
    if points.empty and lines.empty:
        return _empty_figure("No number with a parameter count here yet.", title or "")
    x = panel.params
    counts = [c for c in list(points[x]) + list(lines[x]) if c > 0]
    low, high = min(counts), max(counts)
    span = (math.log10(low) - 0.4, math.log10(high) + 0.4)
    text = {}
    for i, m, baseline, role in zip(points.index, points["model"], points["baseline"], points["role"]):
        label = html.escape(str(m)) + (" (paper)" if role != ROLES[0] and (points["model"] == m).sum() > 1 else "")
        text[i] = label if baseline else f"<b>{label}</b>"
    text = _merge_coincident_labels(points, x, text)
    shown = [i for i in points.index if text[i]]
    positions = dict.fromkeys(points.index, "top center")
    positions.update(zip(shown, _label_positions(list(points.loc[shown, x]), list(points.loc[shown, "value"]), span)))
    fig = go.Figure()
    for role in ROLES:
        sub = points[points["role"] == role]
        if sub.empty:
            continue
        colour, symbol = ROLE_STYLE[role]
        labels = [text[i] for i in sub.index]
        hover = [f"<b>{html.escape(str(m))}</b><br>{html.escape(role)}<br>"
                 f"{METRIC_NAMES.get(panel.metric, panel.metric)} {v:.4f}"
                 + (f" ± {s:.3f}" if s == s else "")
                 + (f"<br>over seeds: {html.escape(str(seeds))}" if seeds else "")
                 + f"<br>{p:,.0f} {panel.params_kind} parameters"
                 + (f" ({html.escape(str(src))})" if src and src != "card" else "")
                 + (f"<br>{html.escape(str(c))}" if role != ROLES[0] else "")
                 for m, v, s, seeds, p, src, c in zip(sub["model"], sub["value"], sub["std"], sub["seeds"], sub[x],
                                                      sub["params_source"], sub["citation"])]
        has_std = sub["std"].notna().any()
        fig.add_trace(go.Scatter(
            x=sub[x], y=sub["value"], mode="markers+text", name=role, text=labels,
            textposition=[positions[i] for i in sub.index], textfont={"size": 12, "color": colour},
            cliponaxis=False,
            marker={"size": 12, "color": colour, "symbol": symbol, "line": {"width": 1.5, "color": colour}},
            error_y={"type": "data", "array": sub["std"].fillna(0).tolist(), "visible": True, "thickness": 1,
                     "color": colour} if has_std else None,
            hovertext=hover, hoverinfo="text"))
    ticks = [t for t in _param_ticks(low, high) if span[0] <= math.log10(t) <= span[1]]
    for _, r in lines.iterrows():
        colour = ROLE_STYLE[r["role"]][0]
        fig.add_vline(x=r[x], line={"dash": "dot", "color": colour, "width": 1.5})
        fig.add_annotation(x=math.log10(r[x]), y=1.0, yref="paper", yanchor="bottom", xanchor="left",
                           showarrow=False, text=f"{html.escape(str(r['model']))}: {format_params(r[x])}, no value",
                           font={"size": 11, "color": colour})
    values = points["value"].dropna()
    if panel.reference_line is not None:
        label, value = panel.reference_line
        colour = ROLE_STYLE[ROLES[1]][0]
        fig.add_hline(y=value, line={"dash": "dot", "color": colour, "width": 1.5})
        fig.add_annotation(x=1, xref="paper", xanchor="right", y=value, yanchor="top", showarrow=False,
                           text=f"{html.escape(label)}: {value:.3f} (size not given)",
                           font={"size": 11, "color": colour})
        values = pd.concat([values, pd.Series([value])])
    y_title = metric_title(panel.metric)
    if not panel.higher_is_better and "lower is better" not in y_title:
        y_title += " (lower is better)"
    grid = "#e3e6e4"
    yaxis = {"title": {"text": f"test {y_title}", "font": {"size": 12}}, "tickfont": {"size": 12},
             "automargin": True, "gridcolor": grid, "zeroline": False}
    if not values.empty:
        pad = max(0.03, 0.2 * float(values.max() - values.min()))
        yaxis["range"] = [float(values.min()) - pad, float(values.max()) + pad]
    fig.update_layout(
        title={"text": title, "font": {"size": 15}} if title else None, height=height,
        font={"size": 12, "color": "#1f2a30"}, showlegend=True, template="plotly_white",
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0, "x": 0.0,
                "font": {"size": 12}, "itemwidth": 30},
        margin={"l": 10, "r": 16, "t": 48 if title else 20, "b": 96},
        xaxis={"type": "log", "title": {"text": f"{panel.params_kind} parameters (log scale)", "font": {"size": 12}},
               "tickvals": ticks, "ticktext": [_si(t) for t in ticks], "range": list(span),
               "tickfont": {"size": 12}, "gridcolor": grid, "automargin": True},
        yaxis=yaxis, hoverlabel={"font": {"size": 12}},
    )
    return fig


def panels_frame(panels: list[ParsimonyPanel]) -> pd.DataFrame:
    """Every point and size-only line of ``panels``, one row each: task, dataset, setting, model, role, metric,
    value, std, params, params_kind, params_source, seeds, citation key (for the download: rounded there)."""
    rows = []
    for p in panels:
        for _, r in pd.concat([p.plotted(), p.size_only()]).iterrows():
            rows.append({"task": p.task, "dataset": p.dataset, "setting": p.setting, "model": r["model"],
                         "role": r["role"], "metric": p.metric, "value": r["value"], "std": r["std"],
                         "params": r[p.params], "params_kind": p.params_kind, "params_source": r["params_source"],
                         "seeds": r["seeds"], "citation": r["citation"]})
    return pd.DataFrame(rows, columns=["task", "dataset", "setting", "model", "role", "metric", "value", "std",
                                       "params", "params_kind", "params_source", "seeds", "citation"])


# ----------------------------------------------------------------------------------------------
# Training curves and rankings
# ----------------------------------------------------------------------------------------------

def progress_frame(events: Iterable[ProgressEvent] | pd.DataFrame) -> pd.DataFrame:
    """Progress events -> one row per event: stage, step, total, time, elapsed (s), *metrics."""
    if isinstance(events, pd.DataFrame):
        return events.copy()
    rows = []
    for ev in events:
        get = ev.get if isinstance(ev, dict) else lambda k, d=None, ev=ev: getattr(ev, k, d)
        row = {"stage": get("stage", ""), "step": get("step", 0), "total": get("total"), "time": get("time")}
        row.update(get("metrics", {}) or {})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if not frame.empty and frame["time"].notna().any():
        frame["elapsed"] = frame["time"] - frame["time"].min()
    return frame


def curves_figure(events: Iterable[ProgressEvent] | pd.DataFrame, x: str = "step",
                  ys: Sequence[str] = ("loss", "valid_mrr"), stage: str | None = None,
                  title: str = "Training curves") -> go.Figure:
    """Lines of ``ys[0]`` (left axis) and the other ``ys`` (right axis) against ``x``.

    events: ProgressEvents (or their dicts) or a frame with those columns. stage: keep only
    events of this stage; default "epoch" when there are epoch events with any of ``ys``.
    Names in ``ys`` that never occur are skipped (a note says which).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    df = progress_frame(events)
    if df.empty:
        return _empty_figure("No progress recorded yet.", title)
    if stage is None and "stage" in df and (df["stage"] == "epoch").any():
        ep = df[df["stage"] == "epoch"]
        if any(y in ep and ep[y].notna().any() for y in ys):
            stage = "epoch"
    if stage is not None and "stage" in df:
        df = df[df["stage"] == stage]
    present = [y for y in ys if y in df and df[y].notna().any()]
    if not present or x not in df:
        return _empty_figure(f"None of {', '.join(ys)} recorded yet.", title)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    for i, y in enumerate(present):
        sub = df[[x, y]].dropna().sort_values(x)
        fig.add_trace(go.Scatter(x=sub[x], y=sub[y], name=y, mode="lines+markers" if len(sub) < 60 else "lines",
                                 line={"color": colors[i % len(colors)]}),
                      secondary_y=i > 0)
    fig.update_xaxes(title_text={"step": stage or "step", "elapsed": "seconds"}.get(x, x))
    fig.update_yaxes(title_text=present[0], secondary_y=False)
    if len(present) > 1:
        fig.update_yaxes(title_text=", ".join(present[1:]), secondary_y=True)
    missing = [y for y in ys if y not in present]
    fig.update_layout(title=title + (f" ({', '.join(missing)} not recorded)" if missing else ""),
                      height=360, legend={"orientation": "h", "y": -0.2}, margin={"t": 60})
    return fig


def ranking_bar_figure(frame: pd.DataFrame, label: str = "label", score: str = "score", top: int = 20,
                       title: str = "Top-ranked answers") -> go.Figure:
    """Horizontal bars of the ``top`` highest scores, best at the top."""
    import plotly.graph_objects as go

    if frame is None or frame.empty or label not in frame or score not in frame:
        return _empty_figure("No ranked answers.", title)
    df = frame.nlargest(top, score).iloc[::-1]
    fig = go.Figure(go.Bar(x=df[score], y=df[label].astype(str), orientation="h", marker_color="#2a9d8f",
                           hovertemplate="%{y}<br>" + score + " %{x:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=score, yaxis_title="", height=120 + 24 * len(df),
                      margin={"l": 10, "t": 50})
    return fig


def group_quality_figure(frame: pd.DataFrame, group: str = "relation", x: str = "training_queries",
                         y: str = "mrr", size: str = "answers", title: str = "Test MRR by query relation",
                         x_title: str = "training queries asking it (log scale)",
                         rare_below: float | None = None) -> go.Figure:
    """One marker per group (a query relation, a task, ...): quality ``y`` against how much training data
    asked it ``x`` (log axis, 0 drawn at the left edge), marker area proportional to ``size``; where some
    group has fewer than ``rare_below``, a dotted line there marks the rarely trained ones (left of it)."""
    import plotly.graph_objects as go

    if frame is None or frame.empty or not {group, x, y, size} <= set(frame.columns):
        return _empty_figure("Nothing to show.", title)
    counts = frame[x].astype(float)
    x_plot = counts.clip(lower=0.5)  # log axis: zero sits half a decade left of 1, ticked "0"
    top = max(1.0, float(counts.max()))
    # decades; within a narrow range (under two decades) also 2 and 5 of each, or a single tick may show
    narrow = math.log10(top / float(x_plot.min())) < 2
    ticks = [0.5] + [m * 10.0 ** k for k in range(0, int(math.log10(top)) + 2) for m in ((1, 2, 5) if narrow else (1,))]
    area = frame[size].astype(float)
    fig = go.Figure(go.Scatter(
        x=x_plot, y=frame[y], mode="markers", text=frame[group].astype(str),
        customdata=frame[[size, x]].to_numpy(),
        marker={"size": area, "sizemode": "area", "sizeref": 2.0 * float(area.max()) / 40.0 ** 2, "sizemin": 4,
                "color": "#2a9d8f", "opacity": 0.7, "line": {"width": 1, "color": "#1d6f65"}},
        hovertemplate="%{text}<br>" + y.upper() + " %{y:.3f}<br>" + size + " %{customdata[0]:,}<br>"
                      + x.replace("_", " ") + " %{customdata[1]:,}<extra></extra>"))
    fig.update_layout(title=title, height=420, margin={"l": 10, "t": 50},
                      xaxis={"type": "log", "title": x_title, "tickvals": ticks,
                             "ticktext": ["0"] + [f"{int(t):,}" for t in ticks[1:]]},
                      yaxis={"title": METRIC_NAMES.get(y, y), "range": [-0.03, 1.03]})
    if rare_below is not None and counts.min() < rare_below:
        fig.add_vline(x=rare_below, line={"dash": "dot", "color": "#999", "width": 1})
        # annotations on a log axis take log10 of the value (add_vline's own annotation does not)
        fig.add_annotation(x=math.log10(rare_below), y=1.0, yref="paper", xanchor="right", yanchor="bottom",
                           showarrow=False, text=f"fewer than {rare_below:g} ←", font={"size": 11, "color": "#777"})
    return fig
