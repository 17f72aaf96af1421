"""Pictures of results: Evidence -> pyvis (vis-network) HTML, model cards -> plotly figures.

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
* the heading, legend and notes written around the graph are escaped as well.
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

from backend.core.evidence import Evidence, EvidenceEdge, EvidenceNode

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
EDGE_LABEL_LIMIT = 40  # draw relation names on edges only when at most this many edges are shown
LABEL_CHARS = 32       # node labels longer than this are shortened on the canvas (full in hover)

_ESC = html.escape


def format_weight(w: float | None) -> str:
    """0.873 -> '0.873'; tiny values in scientific notation; None -> 'n/a'."""
    if w is None or (isinstance(w, float) and math.isnan(w)):
        return "n/a"
    w = float(w)
    if w == 0 or 1e-3 <= abs(w) < 1e4:
        return f"{w:.3f}"
    return f"{w:.2e}"


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


def kind_colors(kinds: Iterable[str]) -> dict[str, str]:
    """A stable colour for each node kind (sorted, so the same kinds always get the same colours)."""
    return {k: KIND_PALETTE[i % len(KIND_PALETTE)] for i, k in enumerate(sorted(set(kinds)))}


def node_color(node: EvidenceNode, kinds: dict[str, str]) -> str:
    return ROLE_COLORS.get(node.role) or kinds.get(node.kind, OTHER_COLOR)


def select_top_edges(evidence: Evidence, max_edges: int | None) -> tuple[list[EvidenceNode], list[EvidenceEdge]]:
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


def _node_title(n: EvidenceNode, layer: int | None) -> str:
    lines = [f"<b>{_ESC(n.label)}</b>"]
    if n.kind:
        lines.append(f"kind: {_ESC(n.kind)}")
    if n.role:
        lines.append(f"role: {_ESC(n.role)}")
    if layer is not None:
        lines.append(f"layer: {layer}")
    if n.score is not None:
        lines.append(f"score: {format_weight(n.score)}")
    lines.append(f"<span style='color:#777'>id: {_ESC(n.id)}</span>")
    return _no_href("<br>".join(lines))


def _edge_title(e: EvidenceEdge, labels: dict[str, str]) -> str:
    head = f"{_ESC(e.relation)} · weight {format_weight(e.weight)}"
    tail = f"{_ESC(labels.get(e.source, e.source))} → {_ESC(labels.get(e.target, e.target))}"
    if e.layer is not None:
        tail += f" (layer {e.layer})"
    return _no_href(f"{head}<br>{tail}")


def _short(label: str, n: int = LABEL_CHARS) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def evidence_legend_html(kinds: Iterable[str] = ()) -> str:
    """A one-line legend (HTML fragment): role colours/shapes, kind colours, edge width meaning."""
    def swatch(color: str, text: str, shape: str = "50%") -> str:
        return (f"<span style='display:inline-flex;align-items:center;margin-right:14px'>"
                f"<span style='display:inline-block;width:12px;height:12px;border-radius:{shape};"
                f"background:{color};margin-right:5px'></span>{_ESC(text)}</span>")

    parts = [swatch(ROLE_COLORS["query"], "query (◆)", "2px"), swatch(ROLE_COLORS["answer"], "answer (★)", "2px")]
    kc = kind_colors(kinds)
    parts += [swatch(c, k or "entity") for k, c in kc.items()]
    if not kc:
        parts.append(swatch(OTHER_COLOR, "other"))
    parts.append("<span style='color:#555'>edge width ∝ weight · hover for details · drag to move · "
                 "ctrl + scroll (or pinch) to zoom</span>")
    return ("<div class='evidence-legend' style='font:13px sans-serif;padding:4px 2px;"
            "clear:both'>" + "".join(parts) + "</div>")


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


def evidence_to_pyvis_html(evidence: Evidence, layered: bool = True, height: str = "560px",
                           max_edges: int | None = None, legend: bool = True) -> str:
    """A self-contained HTML page (vis-network inlined, no network access needed) of the evidence.

    layered: nodes at x = layer * 280 px (query at layer 0 on the left, answer on the right),
    physics off; nodes without a layer are placed by hops from the query. Not layered (or no
    layer information at all): force-directed layout. Edge width is linear in weight (1..8 px),
    hover titles give "relation · weight 0.873" for edges and label/kind/score for nodes. A plain
    mouse wheel scrolls the surrounding page; ctrl/cmd + wheel (or a pinch) zooms the graph.
    max_edges: keep only the heaviest edges (plus the nodes they touch, and query/answer nodes).
    Node ids are used as given: a producer that shows one entity at several layers (RED-GNN)
    gives each (entity, layer) its own id, e.g. ``"e:123@2"``.
    """
    from pyvis.network import Network

    nodes, edges = select_top_edges(evidence, max_edges)
    known = {n.id for n in nodes}
    # edges may name nodes the producer did not list: show them as plain nodes
    for e in edges:
        for nid in (e.source, e.target):
            if nid not in known:
                nodes.append(EvidenceNode(id=nid, label=nid))
                known.add(nid)
    labels = {n.id: n.label for n in nodes}
    layers = _infer_layers(nodes, edges) if layered else None
    use_layers = layered and layers is not None
    pos = layered_positions(nodes, edges, layers) if use_layers else {}
    kinds = kind_colors(n.kind for n in nodes if n.role not in ROLE_COLORS)

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
        opts: dict[str, Any] = dict(
            title=_node_title(n, layers.get(n.id) if layers else n.layer),
            color={"background": color, "border": "#2f3e46",
                   "highlight": {"background": color, "border": "#000000"}},
            borderWidth=2 if n.role in ROLE_COLORS else 1,
            size=size,
            font={"size": 15 if n.role in ROLE_COLORS else 13, "face": "sans-serif",
                  "strokeWidth": 3, "strokeColor": "#ffffff"},
        )
        if use_layers:
            x, y = pos[n.id]
            opts.update(x=x, y=y, physics=False)
            if layers is not None:
                opts["level"] = layers[n.id]
        net.add_node(n.id, label=_short(n.label) or n.id, shape=ROLE_SHAPES.get(n.role, "dot"), **opts)

    widths = edge_widths([float(e.weight) for e in edges])
    show_labels = len(edges) <= EDGE_LABEL_LIMIT
    seen_pairs: dict[tuple[str, str], int] = defaultdict(int)
    for e, w in zip(edges, widths):
        pair = tuple(sorted((e.source, e.target)))
        k = seen_pairs[pair]
        seen_pairs[pair] += 1
        smooth: dict[str, Any] = {"enabled": False}
        if k or e.source == e.target:
            smooth = {"enabled": True, "type": "curvedCW", "roundness": 0.18 * (k + 1)}
        opts = dict(
            title=_edge_title(e, labels), width=w, arrows={"to": {"enabled": True, "scaleFactor": 0.6}},
            color={"color": EDGE_COLOR, "highlight": EDGE_HIGHLIGHT, "opacity": 0.85}, smooth=smooth,
            weight=float(e.weight), relation=e.relation,
        )
        if show_labels:
            opts.update(label=_short(e.relation, 24),
                        font={"size": 10, "color": "#444444", "strokeWidth": 3, "strokeColor": "#ffffff",
                              "align": "horizontal"})
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

    head = [f"<div class='evidence-head' style='font:600 14px sans-serif;padding:2px'>{_ESC(evidence.title)}"]
    if len(edges) < len(evidence.edges):
        head.append(f"<span style='font-weight:400;color:#666'> · showing the {len(edges)} heaviest of "
                    f"{len(evidence.edges)} edges</span>")
    head.append("</div>")
    style = "<style>div.vis-tooltip{font-family:sans-serif;font-size:13px;white-space:normal;max-width:420px}</style>"
    page = page.replace("</head>", style + "</head>", 1)
    page = page.replace("<body>", "<body style='margin:4px'>\n" + "".join(head), 1)
    tail = (evidence_legend_html(kinds) if legend else "") + _TITLE_SCRIPT + _WHEEL_ZOOM_SCRIPT
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
# Cards -> frames and figures
# ----------------------------------------------------------------------------------------------

HEADLINE_METRICS = ("mrr", "roc_auc", "f1", "accuracy", "ndcg@3", "r2", "mse")
LOWER_IS_BETTER = {"mse", "mae", "rmse", "mr", "loss"}
METRIC_NAMES = {"mrr": "MRR", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "f1": "F1", "accuracy": "accuracy",
                "ndcg@3": "NDCG@3", "r2": "R²", "mse": "MSE", "mae": "MAE", "kappa": "Cohen's κ",
                "hits@1": "Hits@1", "hits@3": "Hits@3", "hits@10": "Hits@10", "mr": "MR"}
FRAME_COLUMNS = ["method", "model", "dataset", "setting", "metric", "value", "params_total", "params_trainable",
                 "params_adaptive", "train_seconds", "device", "source", "std"]


#: metric-name prefixes of the other tie policies in RED-GNN's cards (nbfnet_mrr, optimistic_hits@1, ...)
TIE_POLICY_PREFIXES = {"nbfnet": "NBFNet ties", "optimistic": "optimistic ties"}


def metric_title(name: str) -> str:
    """'hits@10' -> 'Hits@10', 'mr' -> 'MR (lower is better)', 'nbfnet_mrr' -> 'MRR, NBFNet ties'."""
    prefix, _, base = name.partition("_")
    if prefix in TIE_POLICY_PREFIXES and base:
        return f"{metric_title(base)}, {TIE_POLICY_PREFIXES[prefix]}"
    title = METRIC_NAMES.get(name, name)
    return f"{title} (lower is better)" if name in LOWER_IS_BETTER else title


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


def _num(x: Any) -> float:
    try:
        return math.nan if x is None else float(x)
    except (TypeError, ValueError):
        return math.nan


def cards_frame(cards: list[Card], references: list[dict] | None = None,
                priority: Sequence[str] = HEADLINE_METRICS, split: str = "test") -> pd.DataFrame:
    """One row per card (this project) and per reference dict (the papers), headline metric only.

    Columns: FRAME_COLUMNS. A card's headline metric is the first of ``priority`` found in
    ``card.metrics[split]``. A reference dict has keys method, dataset, metric, value, params,
    citation, model (e.g. "SumGNN" for a baseline; defaults to the method) and optionally setting,
    std and params_kind (as from ``references.reference_rows()``); its parameter count goes to
    ``params_adaptive`` when params_kind is "adaptive", else to ``params_total`` (None -> NaN);
    its source is "paper: <citation>". ``model`` is the name plotted: the method for this
    project's cards. ``std`` is the paper's standard deviation where given (NaN otherwise).
    """
    rows = []
    for c in cards:
        name, value = headline_metric((c.metrics or {}).get(split), priority)
        params = c.params or {}
        train = c.train or {}
        rows.append({
            "method": c.method, "model": c.method, "dataset": c.dataset, "setting": c.setting,
            "metric": name, "value": value,
            "params_total": _num(params.get("total")), "params_trainable": _num(params.get("trainable")),
            "params_adaptive": _num(params.get("adaptive")), "train_seconds": _num(train.get("seconds")),
            "device": train.get("device", ""), "source": "this project", "std": math.nan,
        })
    for r in references or []:
        citation = r.get("citation") or "unknown"
        adaptive = r.get("params_kind") == "adaptive"
        rows.append({
            "method": r.get("method", ""), "model": r.get("model") or r.get("method", ""),
            "dataset": r.get("dataset", ""), "setting": r.get("setting", ""),
            "metric": r.get("metric"), "value": _num(r.get("value")),
            "params_total": math.nan if adaptive else _num(r.get("params")), "params_trainable": math.nan,
            "params_adaptive": _num(r.get("params")) if adaptive else math.nan,
            "train_seconds": math.nan, "device": "", "source": f"paper: {citation}", "std": _num(r.get("std")),
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


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 steps per decade from the last one at or below ``low`` to the first at or above ``high`` (log
    axes otherwise label 20k, 30k, … as bare 2, 3, …; ticks outside the drawn range are not shown)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in (1, 2, 5)]
    start = max(i for i, t in enumerate(ticks) if t <= low * (1 + 1e-9))
    end = min(i for i, t in enumerate(ticks) if t >= high * (1 - 1e-9))
    return ticks[start:max(end, start + 1) + 1]


def parsimony_figure(frame: pd.DataFrame, title: str = "Parameters vs. test metric",
                     params: str = "params_total", facet_wrap: int = 3) -> go.Figure:
    """Scatter of parameter count (log x) against the headline metric (y).

    One point per row of :func:`cards_frame` that has a positive ``params`` column ("params_total",
    or "params_adaptive" to compare the per-task adapted parameters of PAR/PACIA) and a value;
    colour = model, symbol = source (this project: filled circle, a paper: open diamond), error
    bars where a paper gives a standard deviation. Rows mixing several metric names get one
    panel per metric (facet, own y-axis each), since MRR and MSE do not share a scale; to compare
    datasets, filter the frame first (hover shows the dataset). Rows left out (no count or no
    value) are counted in a note on the figure.
    """
    import plotly.express as px

    if frame is None or frame.empty:
        return _empty_figure("No model cards or reference numbers to plot yet.", title)
    df = frame.copy()
    df["source_kind"] = ["this project" if s == "this project" else "paper" for s in df["source"]]
    ok = df[params].gt(0) & df["value"].notna() & df["metric"].notna()
    dropped = int((~ok).sum())
    df = df[ok].reset_index(drop=True)
    if df.empty:
        return _empty_figure("No row has both a parameter count and a metric value.", title)
    df["params"] = df[params]
    has_std = "std" in df and df["std"].notna().any()
    metrics = list(dict.fromkeys(df["metric"]))
    facet = len(metrics) > 1
    kind = "adaptive" if params == "params_adaptive" else "total"
    hover = {"method": True, "dataset": True, "setting": True, "metric": True, "value": ":.4f",
             "params": ":,.0f", "source": True, "source_kind": False, "model": False}
    n_models = df["model"].nunique()
    palette = px.colors.qualitative.Plotly if n_models <= 10 else (px.colors.qualitative.Dark24
                                                                    + px.colors.qualitative.Light24)
    fig = px.scatter(
        df, x="params", y="value", color="model", symbol="source_kind", color_discrete_sequence=palette,
        symbol_map={"this project": "circle", "paper": "diamond-open"},
        category_orders={"source_kind": ["this project", "paper"], "metric": metrics},
        facet_col="metric" if facet else None, facet_col_wrap=min(facet_wrap, len(metrics)) if facet else 0,
        facet_col_spacing=0.07, facet_row_spacing=0.12, error_y="std" if has_std else None,
        log_x=True, hover_name="model", hover_data=hover,
        labels={"params": f"parameters ({kind}, log scale)", "value": "test value", "model": "model",
                "source_kind": "source"},
    )
    fig.update_traces(marker={"size": 11, "line": {"width": 1.5}})
    ticks = log_ticks(df["params"].min(), df["params"].max())
    fig.update_xaxes(title_text=f"parameters ({kind}, log scale)", tickvals=ticks, ticktext=[_si(t) for t in ticks])
    if facet:
        fig.update_yaxes(matches=None, showticklabels=True, title_text="")
        fig.update_xaxes(showticklabels=True)
        fig.for_each_annotation(lambda a: a.update(text=metric_title(a.text.split("=", 1)[-1])))
        fig.update_yaxes(title_text="test value", col=1)
    else:
        fig.update_yaxes(title_text=f"test {metric_title(metrics[0])}")
    n_rows = -(-len(metrics) // facet_wrap) if facet else 1
    n_legend = len(fig.data)  # one legend row per (model, source) trace: the figure grows to show them all
    fig.update_layout(title=title, height=max(380 * n_rows + 60, 24 * n_legend + 200),
                      legend_title_text="model, source",
                      margin={"t": 80})
    if dropped:
        fig.add_annotation(text=f"not plotted: {dropped} row(s) without a {kind} parameter count or a value "
                                "(they are in the tables)",
                           showarrow=False, xref="paper", yref="paper", x=1, y=1.06, xanchor="right",
                           font={"size": 11, "color": "#777"})
    return fig


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
