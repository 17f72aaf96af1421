"""backend.core.viz: evidence HTML (layout, escaping, widths, pruning) and the plotly figures."""
from __future__ import annotations

import html
import math

import pandas as pd
import pytest

from backend.core.evidence import Evidence, EvidenceEdge, EvidenceNode, EvidencePath
from backend.core.progress import ProgressEvent
from backend.core.store import Card
from backend.core.viz import (
    cards_frame,
    curves_figure,
    edge_widths,
    evidence_legend_html,
    evidence_to_pyvis_html,
    headline_metric,
    log_ticks,
    parsimony_figure,
    ranking_bar_figure,
    select_top_edges,
    vis_data_from_html,
)

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def evidence() -> Evidence:
    nodes = [
        EvidenceNode("q", "aspirin", "drug", 0, "query", 1.0),
        EvidenceNode("m1", f"COX-1 {EVIL}", "gene", 1, "", 0.7),
        EvidenceNode("m2", "PTGS2 & \"friends\"", "gene", 1, "", 0.4),
        EvidenceNode("a", "ibuprofen", "drug", 2, "answer", 0.9),
    ]
    edges = [
        EvidenceEdge("q", "m1", "inhibits", 0.873, 1),
        EvidenceEdge("q", "m2", "inhibits", 0.25, 1),
        EvidenceEdge("m1", "a", "inhibited_by", 0.5, 2),
        EvidenceEdge("m2", "a", "binds <b>", 0.1, 2),
    ]
    paths = [EvidencePath(["q", "m1", "a"], ["inhibits", "inhibited_by"], 0.44)]
    return Evidence("redgnn", f"aspirin → ? {EVIL}", nodes, edges, paths, {"rank": 1})


def test_html_is_self_contained_and_escaped(evidence):
    page = evidence_to_pyvis_html(evidence)
    assert page.lstrip().startswith("<html>") and "vis.Network(" in page
    assert "cdnjs" not in page and "jsdelivr" not in page       # vis inlined, no bootstrap CDN
    assert EVIL not in page                                       # the raw tag never appears
    data = page[page.index("nodes = new vis.DataSet("):page.index("var options")]
    assert "<" not in data and ">" not in data                    # data reach the page as \u003c ...
    assert html.escape(f"aspirin → ? {EVIL}") in page            # heading escaped
    nodes, edges = vis_data_from_html(page)
    by_id = {n["id"]: n for n in nodes}
    for n in evidence.nodes:
        # canvas label: plain text (never parsed as HTML); hover title: escaped HTML
        assert by_id[n.id]["label"] == n.label
        assert html.escape(n.label) in by_id[n.id]["title"]
        assert f"kind: {n.kind}" in by_id[n.id]["title"]
    assert "score: 0.700" in by_id["m1"]["title"]
    titles = [e["title"] for e in edges]
    assert titles[0].startswith("inhibits · weight 0.873")
    assert titles[2].startswith("inhibited_by · weight 0.500")
    assert titles[3].startswith("binds &lt;b&gt; · weight 0.100")
    assert all(e["arrows"]["to"]["enabled"] for e in edges)
    # a plain wheel is left to the page around the graph; ctrl + wheel zooms (tests/e2e checks both in chromium)
    assert '"zoomView": false' in page and "e.ctrlKey || e.metaKey" in page


def test_layered_positions_go_left_to_right(evidence):
    nodes, _ = vis_data_from_html(evidence_to_pyvis_html(evidence, layered=True))
    x = {n["id"]: n["x"] for n in nodes}
    y = {n["id"]: n["y"] for n in nodes}
    assert x["q"] < x["m1"] == x["m2"] < x["a"]
    assert y["m1"] != y["m2"]                     # spread within the layer
    assert all(n["physics"] is False for n in nodes)
    # roles: query and answer stand out
    by_id = {n["id"]: n for n in nodes}
    assert by_id["q"]["shape"] == "diamond" and by_id["a"]["shape"] == "star"
    assert by_id["q"]["color"]["background"] != by_id["m1"]["color"]["background"]


def test_missing_layers_are_hops_from_query():
    ev = Evidence("x", "t", [EvidenceNode("q", "Q", role="query"), EvidenceNode("b", "B"), EvidenceNode("c", "C")],
                  [EvidenceEdge("q", "b", "r", 1.0), EvidenceEdge("b", "c", "r", 0.5)])
    nodes, _ = vis_data_from_html(evidence_to_pyvis_html(ev))
    x = {n["id"]: n["x"] for n in nodes}
    assert x["q"] < x["b"] < x["c"]


def test_physics_layout_has_no_fixed_positions(evidence):
    page = evidence_to_pyvis_html(evidence, layered=False)
    nodes, _ = vis_data_from_html(page)
    assert all("x" not in n for n in nodes)
    assert '"physics": {"enabled": true' in page


def test_edge_widths_monotone_in_weight(evidence):
    _, edges = vis_data_from_html(evidence_to_pyvis_html(evidence))
    pairs = sorted((e["weight"], e["width"]) for e in edges)
    widths = [w for _, w in pairs]
    assert widths == sorted(widths) and len(set(widths)) == len(widths)
    assert widths[0] == pytest.approx(1.0) and widths[-1] == pytest.approx(8.0)
    assert edge_widths([0.2, 0.2]) == [3.0, 3.0]


def test_max_edges_keeps_the_heaviest(evidence):
    nodes, edges = select_top_edges(evidence, 2)
    assert [e.weight for e in edges] == [0.873, 0.5]
    assert {n.id for n in nodes} == {"q", "m1", "a"}          # m2 only touched by light edges
    vn, ve = vis_data_from_html(evidence_to_pyvis_html(evidence, max_edges=2))
    assert sorted(e["weight"] for e in ve) == [0.5, 0.873]
    assert {n["id"] for n in vn} == {"q", "m1", "a"}
    assert "showing the 2 heaviest of 4 edges" in evidence_to_pyvis_html(evidence, max_edges=2)


def test_unknown_edge_endpoint_becomes_a_node():
    ev = Evidence("x", "t", [EvidenceNode("q", "Q", layer=0, role="query")],
                  [EvidenceEdge("q", "zz", "r", 1.0)])
    nodes, edges = vis_data_from_html(evidence_to_pyvis_html(ev))
    assert {n["id"] for n in nodes} == {"q", "zz"} and len(edges) == 1


def test_legend_escapes_kinds():
    legend = evidence_legend_html([EVIL, "gene"])
    assert EVIL not in legend and html.escape(EVIL) in legend and "gene" in legend


def _card(method, dataset, test, total, seconds=12.0):
    return Card(method=method, dataset=dataset, metrics={"valid": {"mrr": 0.9}, "test": test},
                params={"total": total, "trainable": total, "adaptive": None},
                train={"seconds": seconds, "device": "cpu"})


def test_headline_metric_priority():
    assert headline_metric({"hits@1": 0.3, "mrr": 0.4}) == ("mrr", 0.4)
    assert headline_metric({"accuracy": 0.8, "f1": 0.7}) == ("f1", 0.7)
    assert headline_metric({"mae": 0.2}) == ("mae", 0.2)        # nothing listed: first there is
    name, value = headline_metric({})
    assert name is None and math.isnan(value)


def test_cards_frame_and_references():
    cards = [
        _card("redgnn", "family", {"mrr": 0.95, "hits@1": 0.9, "hits@10": 0.99}, 30_000),
        _card("emergnn", "drugbank", {"accuracy": 0.8, "f1": 0.7, "kappa": 0.6}, 500_000),
        _card("gsr", "springs", {"mse": 0.01, "r2": 0.98}, 120),
    ]
    refs = [
        {"method": "emergnn", "model": "SumGNN", "dataset": "drugbank", "metric": "f1", "value": 0.6,
         "params": 1_000_000, "citation": "zhang2023emergnn"},
        {"method": "pacia", "model": "PACIA", "dataset": "tox21", "metric": "roc_auc", "value": 0.8,
         "params": 5_000, "params_kind": "adaptive", "citation": "wu2024pacia", "std": 0.01},
        {"method": "redgnn", "model": "RED-GNN", "dataset": "family", "metric": "mrr", "value": None,
         "params": None, "citation": "zhang2022redgnn"},
    ]
    f = cards_frame(cards, refs)
    assert list(f.columns[:12]) == ["method", "model", "dataset", "setting", "metric", "value", "params_total",
                                    "params_trainable", "params_adaptive", "train_seconds", "device", "source"]
    assert list(f["metric"]) == ["mrr", "f1", "r2", "f1", "roc_auc", "mrr"]
    assert list(f["value"][:4]) == [0.95, 0.7, 0.98, 0.6]
    assert list(f["source"]) == ["this project"] * 3 + ["paper: zhang2023emergnn", "paper: wu2024pacia",
                                                        "paper: zhang2022redgnn"]
    assert list(f["model"][:4]) == ["redgnn", "emergnn", "gsr", "SumGNN"]
    assert f.loc[0, "params_total"] == 30_000 and f.loc[0, "train_seconds"] == 12.0 and f.loc[0, "device"] == "cpu"
    assert math.isnan(f.loc[4, "params_total"]) and f.loc[4, "params_adaptive"] == 5_000
    assert math.isnan(f.loc[5, "value"]) and math.isnan(f.loc[5, "params_total"])
    assert cards_frame([]).empty


def test_parsimony_figure_log_axis_one_point_per_row():
    cards = [_card("redgnn", "family", {"mrr": 0.95}, 30_000), _card("autoblm", "family", {"mrr": 0.9}, 2_000_000)]
    refs = [{"method": "redgnn", "model": "RotatE", "dataset": "family", "metric": "mrr", "value": 0.86,
             "params": 4_000_000, "citation": "zhang2022redgnn"},
            {"method": "redgnn", "model": "X", "dataset": "family", "metric": "mrr", "value": 0.5,
             "params": None, "citation": "zhang2022redgnn"}]
    f = cards_frame(cards, refs)
    fig = parsimony_figure(f)
    assert fig.layout.xaxis.type == "log"
    assert "parameters" in fig.layout.xaxis.title.text and "MRR" in fig.layout.yaxis.title.text
    xs = sorted(x for tr in fig.data for x in tr.x)
    assert xs == [30_000, 2_000_000, 4_000_000]                 # the row without params is left out
    symbols = {tr.marker.symbol for tr in fig.data}
    assert symbols == {"circle", "diamond-open"}
    assert any(a.text.startswith("not plotted: 1 row(s)") for a in fig.layout.annotations)
    assert list(fig.layout.xaxis.ticktext) == ["20k", "50k", "100k", "200k", "500k", "1M", "2M", "5M"]  # 30k .. 4M

    mixed = cards_frame(cards + [_card("gsr", "springs", {"mse": 0.01}, 100)])
    fig2 = parsimony_figure(mixed)
    assert sum(len(tr.x) for tr in fig2.data) == 3
    facet_titles = {a.text for a in fig2.layout.annotations}
    assert {"MRR", "MSE (lower is better)"} <= facet_titles
    assert all(ax.type == "log" for ax in (fig2.layout.xaxis, fig2.layout.xaxis2))
    assert parsimony_figure(cards_frame([])).data == ()
    many = cards_frame([_card("redgnn", f"graph{i}", {"mrr": 0.5}, 1000 * (i + 1)) for i in range(16)])
    many["model"] = [f"RED-GNN ({d})" for d in many["dataset"]]
    colours = [tr.marker.color for tr in parsimony_figure(many).data]
    assert len(colours) == 16 == len(set(colours))  # more models than the default palette: no colour repeats
    assert log_ticks(1, 1) == [1, 2] and log_ticks(2, 5) == [2, 5] and log_ticks(800, 3000) == [500, 1000, 2000, 5000]


def test_curves_figure_two_axes():
    events = [ProgressEvent("epoch", i, 5, {"loss": 1.0 / i, "valid_mrr": 0.1 * i}) for i in range(1, 6)]
    events.insert(2, ProgressEvent("batch", 3, 10, {"loss": 9.9}))   # other stages are ignored
    fig = curves_figure(events)
    assert [tr.name for tr in fig.data] == ["loss", "valid_mrr"]
    assert list(fig.data[0].x) == [1, 2, 3, 4, 5] and fig.data[0].y[0] == 1.0
    assert fig.data[0].yaxis == "y" and fig.data[1].yaxis == "y2"
    frame = pd.DataFrame({"step": [1, 2], "loss": [0.5, 0.4]})
    fig2 = curves_figure(frame, ys=("loss", "valid_mrr"))
    assert [tr.name for tr in fig2.data] == ["loss"] and "valid_mrr not recorded" in fig2.layout.title.text
    assert curves_figure([]).data == ()


def test_ranking_bar_figure():
    df = pd.DataFrame({"label": list("abcde"), "score": [0.1, 0.5, 0.3, 0.9, 0.2]})
    fig = ranking_bar_figure(df, top=3)
    assert list(fig.data[0].y) == ["c", "b", "d"]              # best at the top (plotted last)


def test_metric_titles_name_the_tie_policy():
    from backend.core.viz import metric_title

    assert metric_title("hits@3") == "Hits@3"
    assert metric_title("mr") == "MR (lower is better)"
    assert metric_title("nbfnet_mrr") == "MRR, NBFNet ties"
    assert metric_title("optimistic_hits@10") == "Hits@10, optimistic ties"
    assert metric_title("roc_auc") == "ROC-AUC"  # an underscore inside a metric's own name is not a prefix


def test_a_crowded_layer_zig_zags_so_labels_do_not_collide():
    """Over 12 nodes in one layer: alternate nodes sit left and right of the column (rows stay in order,
    every node stays between its neighbouring layers); 12 or fewer stay on the column."""
    from backend.core.viz import LAYER_SPACING, STAGGER

    def layer_xs(k):
        mids = [EvidenceNode(f"m{i}", f"M{i}", layer=1) for i in range(k)]
        ev = Evidence("x", "t", [EvidenceNode("q", "Q", role="query", layer=0), *mids,
                                 EvidenceNode("a", "A", role="answer", layer=2)],
                      [EvidenceEdge("q", m.id, "r", 1.0) for m in mids] + [EvidenceEdge(m.id, "a", "r", 1.0) for m in mids])
        nodes, _ = vis_data_from_html(evidence_to_pyvis_html(ev, layered=True))
        return sorted(((n["y"], n["x"]) for n in nodes if n["id"].startswith("m")))

    assert {x for _, x in layer_xs(12)} == {LAYER_SPACING}
    crowded = layer_xs(27)
    xs = [x for _, x in crowded]
    assert set(xs) == {LAYER_SPACING - STAGGER, LAYER_SPACING + STAGGER}
    assert all(a != b for a, b in zip(xs, xs[1:]))  # neighbours on opposite sides
    assert 0 < min(xs) and max(xs) < 2 * LAYER_SPACING
