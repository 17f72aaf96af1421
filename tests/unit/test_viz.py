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
    ROLES,
    card_headline,
    cards_frame,
    curves_figure,
    edge_widths,
    evidence_legend_html,
    evidence_to_pyvis_html,
    format_params,
    headline_metric,
    log_ticks,
    panel_figure,
    panels_frame,
    parsimony_panels,
    ranking_bar_figure,
    round_sig,
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
        shown = by_id[n.id]["label"]
        assert n.label.startswith(shown.replace("\n", " ").rstrip("…"))   # wrapped (2 lines), maybe shortened
        assert "\n" not in n.label and all(len(line) <= 16 for line in shown.split("\n"))
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
         "params": 1_000_000, "citation": "zhang2023emergnn", "knowledge_aware": True},
        {"method": "pacia", "model": "PACIA", "dataset": "tox21", "metric": "roc_auc", "value": 0.8,
         "params": 5_000, "params_kind": "adaptive", "citation": "wu2024pacia", "std": 0.01, "baseline": False},
        {"method": "redgnn", "model": "RED-GNN", "dataset": "family", "metric": "mrr", "value": None,
         "params": None, "citation": "zhang2022redgnn"},
    ]
    f = cards_frame(cards, refs)
    assert list(f.columns[:12]) == ["method", "model", "dataset", "setting", "metric", "value", "params_total",
                                    "params_trainable", "params_adaptive", "train_seconds", "device", "source"]
    assert list(f["metric"]) == ["mrr", "f1", "r2", "f1", "roc_auc", "mrr"]  # GSR declares R² (its Capabilities)
    assert list(f["value"][:4]) == [0.95, 0.7, 0.98, 0.6]
    assert list(f["source"]) == ["this project"] * 3 + ["paper: zhang2023emergnn", "paper: wu2024pacia",
                                                        "paper: zhang2022redgnn"]
    assert list(f["model"][:4]) == ["RED-GNN", "EmerGNN", "GSR", "SumGNN"]  # this project's cards: the method's title
    assert list(f["area"][:3]) == ["kg", "ddi", "physics"] and f.loc[3, "area"] == "ddi"
    assert list(f["role"]) == [ROLES[0]] * 3 + [ROLES[1], ROLES[2], ROLES[2]]
    assert list(f["baseline"]) == [False, False, False, True, False, True]
    assert f.loc[0, "params_total"] == 30_000 and f.loc[0, "train_seconds"] == 12.0 and f.loc[0, "device"] == "cpu"
    assert math.isnan(f.loc[4, "params_total"]) and f.loc[4, "params_adaptive"] == 5_000
    assert math.isnan(f.loc[5, "value"]) and math.isnan(f.loc[5, "params_total"])
    assert cards_frame([]).empty


def test_a_card_is_ranked_by_its_methods_declared_headline(monkeypatch):
    from backend.core.method import Capabilities, Method
    from backend.registry import METHODS

    monkeypatch.setitem(METHODS, "toy", Method(name="toy", title="Toy", task="Toy regression: a test", explains="",
                                               paper="survey", area="toys",
                                               capabilities=Capabilities(headline="mae", higher_is_better=False)))
    toy = _card("toy", "d", {"r2": 0.9, "mae": 0.2}, 50)
    assert card_headline(toy) == ("mae", 0.2, False)            # declared, though r2 comes first in the old list
    assert card_headline(_card("toy", "d", {"r2": 0.9}, 50)) == ("r2", 0.9, True)   # not recorded: the old list
    assert card_headline(_card("nobody", "d", {"hits@1": 0.3, "mrr": 0.4}, 5)) == ("mrr", 0.4, True)
    assert card_headline(_card("nobody", "d", {"mse": 0.3}, 5)) == ("mse", 0.3, False)
    assert card_headline(toy, priority=("r2",)) == ("r2", 0.9, True)
    f = cards_frame([toy])
    assert (f.loc[0, "metric"], f.loc[0, "higher_is_better"], f.loc[0, "model"]) == ("mae", False, "Toy")


def test_numbers_are_rounded_for_people():
    assert round_sig(0.546404175) == 0.5464 and round_sig(3900.882) == 3901.0 and round_sig(0.00012345) == 0.0001234
    assert round_sig(0) == 0 and round_sig("x") == "x" and math.isnan(round_sig(math.nan)) and round_sig(True) is True
    assert [format_params(n) for n in (34_855, 11_160_226, 3_000, 950)] == ["34.9k", "11.2M", "3k", "950"]


def _panel_frame():
    cards = [_card("redgnn", "family", {"mrr": 0.95}, 30_000), _card("redgnn", "umls", {"mrr": 0.9}, 40_000),
             _card("redgnn", "WN18RR_v1", {"mrr": 0.72}, 56_000)]
    cards[2].setting = "inductive"
    cards[0].seeds = {"n": 3, "seeds": [1234, 1, 2], "shipped_seed": 1234,
                      "metrics": {"test": {"mrr": {"mean": 0.94, "std": 0.01}}}}
    refs = [
        {"method": "redgnn", "model": "RED-GNN", "dataset": "family", "setting": "transductive", "metric": "mrr",
         "value": 0.99, "params": 26_865, "citation": "zhang2022redgnn", "knowledge_aware": True, "baseline": False},
        {"method": "redgnn", "model": "RotatE", "dataset": "family", "setting": "transductive", "metric": "mrr",
         "value": 0.86, "params": 4_000_000, "citation": "sun2019rotate", "params_source": "computed"},
        {"method": "autoblm", "model": "AutoBLM", "dataset": "family", "setting": "transductive", "metric": "mrr",
         "value": 0.9, "params": None, "citation": "survey", "knowledge_aware": True, "baseline": False},
        {"method": "redgnn", "model": "RED-GNN", "dataset": "WN18RR_v1", "setting": "inductive", "metric": "mrr",
         "value": 0.70, "params": None, "citation": "zhang2022redgnn", "knowledge_aware": True, "baseline": False},
        {"method": "emergnn", "model": "EmerGNN", "dataset": "drugbank", "setting": "S1", "metric": "f1", "value": 0.62,
         "params": 137_164, "citation": "zhang2023emergnn", "knowledge_aware": True, "baseline": False},
        {"method": "emergnn", "model": "EmerGNN", "dataset": "drugbank", "setting": "S1", "metric": "kappa",
         "value": 0.62, "params": 137_164, "citation": "zhang2023emergnn", "knowledge_aware": True, "baseline": False},
        {"method": "emergnn", "model": "SumGNN", "dataset": "drugbank", "setting": "S1", "metric": "f1", "value": 0.35,
         "params": 1_237_628, "citation": "zhang2023emergnn", "knowledge_aware": True, "std": 0.04},
        {"method": "emergnn", "model": "DeepLGF", "dataset": "drugbank", "setting": "S1", "metric": "f1",
         "value": 0.397, "params": 11_160_226, "citation": "zhang2023emergnn", "knowledge_aware": True},
        {"method": "emergnn", "model": "MLP", "dataset": "drugbank", "setting": "S1", "metric": "f1", "value": 0.21,
         "params": None, "citation": "zhang2023emergnn"},
        {"method": "emergnn", "model": "EmerGNN", "dataset": "twosides", "setting": "S2", "metric": "f1",
         "value": 0.5, "params": 150_000, "citation": "zhang2023emergnn", "baseline": False},  # one sized model
        {"method": "par", "model": "Pre-PAR", "dataset": "tox21", "setting": "10-shot", "metric": "roc_auc",
         "value": 0.849, "params": 380_000, "params_kind": "adaptive", "citation": "wang2021par", "baseline": False,
         "knowledge_aware": True},
        {"method": "pacia", "model": "PACIA", "dataset": "tox21", "setting": "10-shot", "metric": "roc_auc",
         "value": None, "params": 3_000, "params_kind": "adaptive", "citation": "wu2024pacia", "baseline": False,
         "knowledge_aware": True},
        {"method": "coldnas", "model": "ColdNAS", "dataset": "lastfm", "setting": "user cold-start", "metric": "mse",
         "value": 0.2091, "params": 514_689, "citation": "survey", "baseline": False, "knowledge_aware": True},
        {"method": "coldnas", "model": "MeLU", "dataset": "lastfm", "setting": "user cold-start", "metric": "mse",
         "value": 0.25, "params": 700_000, "citation": "survey"},
    ]
    return cards_frame(cards, refs)


def test_one_parsimony_panel_per_task_dataset_and_setting():
    panels = parsimony_panels(_panel_frame())
    keys = [(p.area, p.dataset, p.setting) for p in panels]
    # this project's datasets first (the registry's order: transductive before inductive), then the papers' own;
    # twosides S2 has a single sized model and no card: left out
    assert keys == [("kg", "family", ""), ("kg", "umls", ""), ("kg", "WN18RR_v1", "inductive"),
                    ("ddi", "drugbank", "S1"), ("molecules", "tox21", "10-shot"),
                    ("recsys", "lastfm", "user cold-start")]
    family, umls, inductive, drugbank, tox21, lastfm = panels
    assert family.metric == "mrr" and family.higher_is_better and family.params == "params_total"
    assert family.task == "Knowledge-graph reasoning" and family.title == "family · Knowledge-graph reasoning"
    assert len(family.plotted()) == 3 and list(family.unsized()["model"]) == ["AutoBLM"]
    assert family.headline == ("RED-GNN (this project): 30k parameters, MRR 0.950 (3 seeds: 0.9400 ± 0.0100); "
                               "the paper's RED-GNN: MRR 0.990 with 26.9k parameters; best baseline with a size: "
                               "RotatE, 4M parameters, MRR 0.860 (133× the parameters).")
    assert family.also == "Also reported, without a parameter count (MRR): AutoBLM 0.900."
    assert umls.headline == "RED-GNN (this project): 40k parameters, MRR 0.900." and umls.also == ""
    assert inductive.reference_line == ("paper's RED-GNN", 0.70) and "the paper's RED-GNN: MRR 0.700." in inductive.headline
    assert drugbank.metric == "f1"  # the metric with the most sized numbers (f1 3, kappa 1)
    assert drugbank.headline == ("EmerGNN (paper): 137k parameters, F1 0.620; best baseline with a size: DeepLGF, "
                                 "11.2M parameters, F1 0.397 (81× the parameters); smallest: SumGNN, 1.24M "
                                 "parameters, F1 0.350 (9× the parameters).")
    assert tox21.params == "params_adaptive" and tox21.params_kind == "adaptive"
    assert list(tox21.size_only()["model"]) == ["PACIA"]
    assert "PACIA: 3k adapted parameters, no ROC-AUC available" in tox21.headline
    assert not lastfm.higher_is_better and "MeLU, 700k parameters, MSE 0.250" in lastfm.headline
    assert parsimony_panels(cards_frame([])) == []
    frame = panels_frame(panels)
    assert len(frame) == sum(len(p.plotted()) + len(p.size_only()) for p in panels)
    assert set(frame["role"]) == set(ROLES)


def test_panel_figure_is_readable_on_a_phone():
    panels = {p.dataset: p for p in parsimony_panels(_panel_frame())}
    fig = panel_figure(panels["family"])
    assert fig.layout.xaxis.type == "log" and "parameters" in fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text == "test MRR"
    assert [tr.name for tr in fig.data] == list(ROLES)      # one legend entry per role, at most three
    assert fig.layout.legend.orientation == "h"
    xs = sorted(x for tr in fig.data for x in tr.x)
    assert xs == [26_865, 30_000, 4_000_000]                  # the number without a size is not a point
    texts = [t for tr in fig.data for t in tr.text]
    assert texts == ["<b>RED-GNN</b>", "<b>RED-GNN (paper)</b>", "RotatE"]  # labels; a method's own numbers bold
    # the two RED-GNN points, 30k and 26.9k: the lower one labelled below, the higher one above
    assert fig.data[0].textposition[0].startswith("bottom") and fig.data[1].textposition[0].startswith("top")
    assert list(fig.layout.xaxis.ticktext) == ["100k", "1M", "10M"]  # whole decades over a wide range, in view
    sizes = [fig.layout.font.size, fig.layout.legend.font.size, fig.layout.xaxis.tickfont.size,
             fig.layout.yaxis.tickfont.size] + [tr.textfont.size for tr in fig.data] + \
            [a.font.size for a in fig.layout.annotations]
    assert min(sizes) >= 11
    lower = panel_figure(panels["lastfm"])
    assert "lower is better" in lower.layout.yaxis.title.text
    tox = panel_figure(panels["tox21"])
    assert "adaptive parameters" in tox.layout.xaxis.title.text
    assert any(sh.x0 == 3_000 for sh in tox.layout.shapes)   # PACIA's size without a value: a dotted line
    assert any("PACIA" in a.text for a in tox.layout.annotations)
    inductive = panel_figure(panels["WN18RR_v1"])
    assert any(sh.y0 == 0.70 for sh in inductive.layout.shapes)  # the paper's number without a size
    drug = panel_figure(panels["drugbank"])
    assert any(tr.error_y.array is not None and 0.04 in tuple(tr.error_y.array) for tr in drug.data)
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


def _repeated() -> Evidence:
    """RED-GNN's shape: one node per (entity, step), ids "entity@step"; the answer entity also at step 1, the
    query entity again at step 1 (a 'self' edge), one long label."""
    long = "a protein with a very long name indeed (kinase)"
    nodes = [EvidenceNode("1@0", "aspirin", "entity", 0, "query"),
             EvidenceNode("1@1", "aspirin", "entity", 1),
             EvidenceNode("7@1", "ibuprofen", "entity", 1),
             EvidenceNode("5@1", long, "entity", 1),
             EvidenceNode("9@1", "gene 9", "entity", 1),
             EvidenceNode("7@2", "ibuprofen", "entity", 2, "answer", 0.9),
             EvidenceNode("5@2", long, "entity", 2)]
    edges = [EvidenceEdge("1@0", "1@1", "self", 0.9, 1), EvidenceEdge("1@0", "7@1", "similar", 0.8, 1),
             EvidenceEdge("1@0", "5@1", "inhibits", 0.7, 1), EvidenceEdge("1@0", "9@1", "binds", 0.05, 1),
             EvidenceEdge("1@1", "7@2", "treats_same", 0.6, 2), EvidenceEdge("5@1", "7@2", "inhibited_by", 0.5, 2),
             EvidenceEdge("7@1", "7@2", "self", 0.4, 2), EvidenceEdge("9@1", "5@2", "binds", 0.02, 2),
             EvidenceEdge("5@1", "5@2", "self", 0.3, 2)]
    paths = [EvidencePath(["aspirin", long, "ibuprofen"], ["inhibits", "inhibited_by"], 0.35),
             EvidencePath(["aspirin", "ibuprofen"], ["treats_same"], 0.54)]
    return Evidence("redgnn", "Why ibuprofen", nodes, edges, paths)


def test_each_entity_is_drawn_once_the_answer_at_the_right_edge():
    nodes, edges = vis_data_from_html(evidence_to_pyvis_html(_repeated(), layered=True))
    labels = [n["label"].replace("\n", " ") for n in nodes]
    assert labels.count("ibuprofen") == 1 and labels.count("aspirin") == 1
    by_id = {n["id"]: n for n in nodes}
    assert [n["shape"] for n in nodes].count("star") == 1 and by_id["7@2"]["shape"] == "star"
    assert by_id["7@2"]["x"] == max(n["x"] for n in nodes)                 # the answer: right edge
    assert by_id["1@0"]["x"] == min(n["x"] for n in nodes)                 # the query: left edge
    assert "5@2" not in by_id and "7@1" not in by_id and "1@1" not in by_id
    assert "met at propagation steps 1, 2" in by_id["5@1"]["title"] or "met at layers 1, 2" in by_id["5@1"]["title"]
    ends = {(e["from"], e["to"]) for e in edges}
    assert ("1@0", "7@2") in ends and ("5@1", "7@2") in ends and ("9@1", "5@1") in ends  # redirected
    assert all(e["from"] != e["to"] for e in edges)                          # 'self' steps are no loops


def test_relation_names_on_the_strongest_edges_only():
    _, edges = vis_data_from_html(evidence_to_pyvis_html(_repeated(), layered=True))
    named = {(e["from"], e["to"]): e["label"] for e in edges if e.get("label")}
    # the edges of the best paths carry their relation's name, readable; the others only on hover
    assert named == {("1@0", "5@1"): "inhibits", ("5@1", "7@2"): "inhibited_by", ("1@0", "7@2"): "treats_same"}
    assert all(e["font"]["size"] >= 14 for e in edges if e.get("label"))
    assert all(e["title"] for e in edges)


def test_without_paths_the_heaviest_edges_are_named():
    from backend.core.viz import EDGE_LABEL_TOP

    ev = Evidence("x", "t", [EvidenceNode("q", "Q", layer=0, role="query")] +
                  [EvidenceNode(f"m{i}", f"M{i}", layer=1) for i in range(30)],
                  [EvidenceEdge("q", f"m{i}", f"r{i}", float(i)) for i in range(30)])
    _, edges = vis_data_from_html(evidence_to_pyvis_html(ev))
    named = sorted(e["weight"] for e in edges if e.get("label"))
    assert named == [float(i) for i in range(30 - EDGE_LABEL_TOP, 30)]


def test_node_labels_are_readable_and_wrapped():
    from backend.core.viz import MIN_FONT_PX, wrap_label

    page = evidence_to_pyvis_html(_repeated(), layered=True)
    nodes, _ = vis_data_from_html(page)
    assert all(n["font"]["size"] >= 14 for n in nodes)
    long = next(n for n in nodes if n["id"] == "5@1")
    lines = long["label"].split("\n")
    assert len(lines) == 2 and lines[-1].endswith("…") and all(len(x) <= 16 for x in lines)
    assert "a protein with a very long name indeed (kinase)" in long["title"]   # full label on hover
    assert wrap_label("ibuprofen") == "ibuprofen" and wrap_label("x" * 40).count("\n") == 1
    # on screen: fonts grow as the view zooms out, never below MIN_FONT_PX (the script in the page)
    assert f"MIN_PX = {MIN_FONT_PX}" in page and 'network.on("zoom", fonts)' in page


def test_legend_wraps_on_a_narrow_screen():
    legend = evidence_legend_html(["entity"], layered=True)
    assert "flex-wrap:wrap" in legend and "display:flex" in legend
    assert "font:14px" in legend
    assert "flex-wrap:wrap" in evidence_to_pyvis_html(_repeated())


def test_labels_of_models_of_one_size_do_not_share_a_side():
    """Four classics of the same size (AutoBLM's family panel): one label above, one below, two beside; a model
    far away keeps its label above."""
    from backend.core.viz import _label_positions

    xs, ys = [1e5, 1e5, 1e5, 1e5, 1e3], [0.68, 0.70, 0.60, 0.66, 0.9]
    pos = _label_positions(xs, ys, (2.5, 7.5))
    assert pos[1].startswith("top") and pos[2].startswith("bottom") and pos[4].startswith("top")
    assert {pos[0], pos[3]} == {"middle right", "middle left"}


def test_labels_of_points_on_each_other_are_merged():
    """ComplEx and Analogy at one size and 0.011 apart (of a 0.5-wide range) share one label; SimplE, far below,
    keeps its own; a paper's point at the same place is another role and keeps its own."""
    import pandas as pd

    from backend.core.viz import _merge_coincident_labels

    pts = pd.DataFrame({"params": [9.66e4, 9.66e4, 9.66e4, 2.7e4, 9.66e4],
                        "value": [0.680, 0.669, 0.535, 0.986, 0.681],
                        "role": ["this project"] * 4 + ["papers"]})
    text = {0: "ComplEx", 1: "Analogy", 2: "SimplE", 3: "RED-GNN", 4: "ComplEx (paper)"}
    out = _merge_coincident_labels(pts, "params", text)
    assert out == {0: "ComplEx, Analogy", 1: "", 2: "SimplE", 3: "RED-GNN", 4: "ComplEx (paper)"}
