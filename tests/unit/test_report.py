"""backend.core.report: a self-contained HTML (no network resource, plotly.js inlined once, graphs with their
script) and its JSON twin; a method without its own sections gets the generic ones (the toy method)."""
from __future__ import annotations

import html as html_lib
import json
import re

import pandas as pd
import plotly.graph_objects as go
import pytest

from backend.core.evidence import EvidenceEdge, EvidenceNode, GraphPart
from backend.core.report import Figure, Graph, Numbers, Report, Section, Table, Text, card_section, method_report
from backend.core.store import Card


NETWORK_RESOURCE = r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//"""


def small_report() -> Report:
    part = GraphPart([EvidenceNode("a@0", "aspirin", "entity", 0, "query"),
                      EvidenceNode("b@1", "COX-1 <inhibitor>", "entity", 1, "answer")],
                     [EvidenceEdge("a@0", "b@1", "inhibits", 0.9, 1)])
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3.0, 1.0, 0.5], name="deletion"))
    card = Card("toy", "line", metrics={"test": {"mse": 0.01}}, train={"epochs": 3, "seed": 0, "config": {"a": 1}},
                software={"commit": "abc123"}, data={"files": {"x.txt": "0" * 64}})
    return Report("A <report> & more", [
        Section("Numbers", [Text(["One **bold** line & <tag>."]), Numbers({"fidelity+": 1.25, "rank": 3.0},
                                                                         notes={"rank": "after"})], key="nums"),
        Section("Figure", [Figure(fig, caption="A curve.")]),
        Section("Graph", [Graph(part, caption="An edge."), Table(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))]),
        card_section(card)], meta={"method": "Toy", "dataset": "line", "created": "2026-01-01T00:00:00Z",
                                   "commit": "abc123"})


def test_html_is_self_contained(tmp_path):
    report = small_report()
    page = report.to_html()
    # no resource from the network: no script, style sheet, image or frame loaded from http(s)
    assert not re.search(NETWORK_RESOURCE, page)
    assert page.count("<script type='text/javascript'>") == 1 and "Plotly" in page  # plotly.js once, inlined
    frames = re.findall(r'srcdoc="([^"]*)"', page)
    assert len(frames) == 1
    inner = html_lib.unescape(frames[0])
    assert "new vis.DataSet" in inner and "vis-network" in inner.lower()  # the graph's library is inlined
    assert not re.search(NETWORK_RESOURCE, inner)
    assert "A &lt;report&gt; &amp; more" in page and "<b>bold</b>" in page and "&lt;tag&gt;" in page
    assert "fig-b1-0" in page  # the figure's div
    html_path, json_path = report.save(tmp_path / "out" / "r.html")
    assert html_path.read_text(encoding="utf-8") == page
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert [s["key"] for s in data["sections"]] == ["nums", "Figure", "Graph", "model_card"]
    blocks = [b for s in data["sections"] for b in s["blocks"]]
    assert {b["type"] for b in blocks} == {"text", "numbers", "figure", "graph", "table"}
    fig = next(b for b in blocks if b["type"] == "figure")
    assert fig["plotly"]["data"][0]["y"] == [3.0, 1.0, 0.5]
    graph = next(b for b in blocks if b["type"] == "graph")
    assert graph["evidence"]["edges"][0]["relation"] == "inhibits"
    assert data["meta"]["commit"] == "abc123"


@pytest.mark.slow
def test_generic_sections_for_a_method_without_its_own(tmp_path):
    from tests.toy_method import METHOD, ToyConfig, train

    card = train(ToyConfig(output=str(tmp_path / "toy")))
    loaded = METHOD.load(card.path)
    report = method_report(METHOD, loaded, {"x": "1.5"})
    keys = [s.key for s in report.sections]
    assert keys == ["answers", "evidence", "model_card"]
    assert report.meta["method"] == METHOD.title and report.meta["created"] and report.meta["commit"]
    assert "<h2>Model card and provenance</h2>" in report.to_html()
