"""backend.core.evidence: typed parts (graph, formula, structure, table, molecules), their JSON round trips,
the graph-only format of older files, and what each part computes (LaTeX, Python source, frames, pictures)."""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from backend.core.evidence import (
    Evidence,
    EvidenceEdge,
    EvidenceNode,
    EvidencePath,
    FormulaPart,
    GraphLegend,
    GraphPart,
    MoleculesPart,
    StructurePart,
    TablePart,
    UnknownPart,
    part_from_dict,
)

#: written by backend/core/evidence.py before parts existed (graph-only Evidence.to_json, RED-GNN on family)
LEGACY_JSON = json.dumps({
    "method": "redgnn", "title": "Why 7 answers (3, son, ?)",
    "nodes": [{"id": "3@0", "label": "3", "kind": "entity", "layer": 0, "role": "query", "score": None},
              {"id": "5@1", "label": "5", "kind": "entity", "layer": 1, "role": "", "score": None},
              {"id": "7@2", "label": "7", "kind": "entity", "layer": 2, "role": "answer", "score": 0.91}],
    "edges": [{"source": "3@0", "target": "5@1", "relation": "brother", "weight": 0.8, "layer": 1},
              {"source": "5@1", "target": "7@2", "relation": "son", "weight": 0.0394, "layer": 2}],
    "paths": [{"nodes": ["3", "5", "7"], "relations": ["brother", "son"], "score": 0.03152}],
    "summary": {"head": "3", "relation": "son", "answer": "7", "score": 0.91, "filtered_rank": 1.0, "known_fact": True,
                "n_layers": 2, "dataset": "family", "r_digraph_edges": 2, "edges_shown": 2}}, indent=1)


def graph_part() -> GraphPart:
    nodes = [EvidenceNode("q", "aspirin", "drug", 0, "query"), EvidenceNode("g", "PTGS2", "gene", 1),
             EvidenceNode("a", "ibuprofen", "drug", 2, "answer", 0.9)]
    edges = [EvidenceEdge("q", "g", "inhibits", 0.8, 1), EvidenceEdge("g", "a", "inhibited by", 0.25, 2)]
    legend = GraphLegend(layer="propagation step", edge_weight="attention",
                         path_score="product of the attention along the path", node_kinds={"drug": "#e69f00"},
                         roles={"query": "query drug"}, notes=["Self edges stay."])
    return GraphPart(nodes, edges, [EvidencePath(["q", "g", "a"], ["inhibits", "inhibited by"], 0.2)], legend)


def every_part() -> list:
    return [
        graph_part(),
        FormulaPart.from_sympy("x**2 + sin(y)", {"x": "distance (m)", "y": "angle (rad)"}, reference="x**2",
                               reference_name="the true law", title="Found law"),
        StructurePart([[1, 0, -2, 0], [0, 3, 0, -4], [0, 0, 1, 0], [2, 0, 0, -1]], row_labels=list("hhhh"),
                      column_labels=["t1", "t2", "t3", "t4"], value_meaning="block entry: ±k uses ±r_k, 0 none",
                      value_labels={"-2": "−r₂"}),
        TablePart([{"item": "film 1", "score": 0.5, "seen": False}, {"item": "film 2", "score": 0.25, "seen": True}],
                  columns=["item", "score", "seen"], help={"score": "predicted rating"}, caption="top items"),
        MoleculesPart(["CCO", "c1ccccc1O"], labels=["ethanol", "phenol"], values=[0.12, 0.87], value_name="P(toxic)",
                      highlight_atoms=[[0], [6]]),
    ]


def test_evidence_with_every_kind_of_part_round_trips_through_json():
    ev = Evidence("demo", "all parts", summary={"n": 1}, parts=every_part(), sentences=["One.", "Two."])
    text = ev.to_json()
    back = Evidence.from_json(text)
    assert back == ev
    assert [p.kind for p in back.parts] == ["graph", "formula", "structure", "table", "molecules"]
    assert Evidence.from_json(back.to_json()).to_json() == text
    # the evidence's graph sits at the top level, where graph-only readers look for it; its part only points there
    d = json.loads(text)
    assert len(d["edges"]) == 2 and d["paths"][0]["score"] == 0.2
    assert d["parts"][0] == {"kind": "graph", "main": True, "legend": graph_part().legend.to_dict(), "title": "",
                             "caption": ""}


@pytest.mark.parametrize("part", every_part(), ids=lambda p: p.kind)
def test_each_part_round_trips_alone(part):
    d = json.loads(json.dumps(part.to_dict()))
    assert d["kind"] == part.kind
    assert part_from_dict(d) == part


def test_graph_fields_are_a_view_of_the_first_graph_part():
    g = graph_part()
    second = GraphPart([EvidenceNode("x", "X")], title="another graph")
    ev = Evidence("demo", "t", parts=[TablePart([{"a": 1}]), g, second])
    assert ev.graph is g and ev.nodes is g.nodes and ev.edges is g.edges and ev.paths is g.paths
    assert ev.labels["g"] == "PTGS2"
    assert ev.paths_frame().iloc[0]["path"] == "aspirin -[inhibits]-> PTGS2 -[inhibited by]-> ibuprofen"
    back = Evidence.from_json(ev.to_json())
    assert back == ev and back.parts[2].nodes == [EvidenceNode("x", "X")]      # a second graph keeps its own
    # the graph-only constructor makes the graph the first part; giving it twice is an error
    old = Evidence("redgnn", "t", g.nodes, g.edges, g.paths, {"rank": 1})
    assert old.parts == [GraphPart(g.nodes, g.edges, g.paths)] and old.summary == {"rank": 1}
    with pytest.raises(ValueError, match="not both"):
        Evidence("x", "t", nodes=g.nodes, parts=[g])
    # writing the graph fields of an evidence without a graph makes one
    ev2 = Evidence("x", "t", parts=[TablePart([{"a": 1}])])
    assert ev2.nodes == [] and ev2.paths_frame().empty
    ev2.edges = g.edges
    assert ev2.parts[0].edges == g.edges and isinstance(ev2.parts[0], GraphPart)


def test_legacy_graph_only_json_still_loads():
    ev = Evidence.from_json(LEGACY_JSON)
    assert ev.method == "redgnn" and ev.title == "Why 7 answers (3, son, ?)"
    assert len(ev.parts) == 1 and isinstance(ev.graph, GraphPart) and ev.graph.legend == GraphLegend()
    assert [n.id for n in ev.nodes] == ["3@0", "5@1", "7@2"] and ev.nodes[2].score == 0.91
    assert ev.edges[1] == EvidenceEdge("5@1", "7@2", "son", 0.0394, 2)
    assert ev.paths_frame().iloc[0].to_dict() == {"rank": 1, "score": 0.03152, "length": 2,
                                                  "path": "3 -[brother]-> 5 -[son]-> 7"}
    assert ev.summary["r_digraph_edges"] == 2 and ev.sentences == []
    # written again, the old keys are where they were, with the same content
    old, new = json.loads(LEGACY_JSON), json.loads(ev.to_json())
    for k in ("method", "title", "nodes", "edges", "paths", "summary"):
        assert new[k] == old[k], k
    assert Evidence.from_json(ev.to_json()) == ev
    # an old file without any graph loads without parts
    empty = '{"method": "x", "title": "t", "nodes": [], "edges": [], "paths": [], "summary": {}}'
    assert Evidence.from_json(empty).parts == []


def test_unknown_kind_is_kept_and_written_back():
    d = json.loads(Evidence("x", "t", parts=[TablePart([{"a": 1}])]).to_json())
    d["parts"].append({"kind": "hologram", "beams": [1, 2], "title": "later"})
    ev = Evidence.from_dict(d)
    assert isinstance(ev.parts[1], UnknownPart) and ev.parts[1].title == "later"
    assert json.loads(ev.to_json())["parts"][1] == {"kind": "hologram", "beams": [1, 2], "title": "later"}


def test_formula_latex_and_python_source_compute_the_expression():
    import sympy

    part = FormulaPart.from_sympy("x**2 + sin(y)", {"x": "distance", "y": "angle"}, reference="x**2")
    x, y = sympy.symbols("x y")
    assert part.to_sympy() == x**2 + sympy.sin(y)
    assert part.expression == sympy.srepr(x**2 + sympy.sin(y))
    assert part.latex == r"x^{2} + \sin{\left(y \right)}"
    assert part.reference_sympy() == x**2 and part.reference_latex == "x^{2}"
    assert "lambda x, y:" in part.python and "numpy.sin(y)" in part.python
    f = part.function()
    assert f(3.0, 0.5) == pytest.approx(9 + math.sin(0.5), rel=1e-15)
    xs, ys = np.linspace(-2, 2, 7), np.linspace(0, 3, 7)
    np.testing.assert_allclose(f(xs, ys), sympy.lambdify((x, y), x**2 + sympy.sin(y))(xs, ys), rtol=1e-15)
    # the source stands alone: it runs in a fresh namespace
    ns: dict = {}
    exec(part.python, ns)
    assert ns["f"](1.0, 0.0) == 1.0
    # variables fix the argument order; free symbols not named follow, sorted
    g = FormulaPart.from_sympy("b/a + c", {"c": "offset"})
    assert "lambda c, a, b:" in g.python and g.function()(1.0, 2.0, 4.0) == pytest.approx(3.0)


def test_structure_frame_labels_and_values():
    part = StructurePart(np.array([[0, -1], [2, 0]]), row_labels=["h1", "h2"], column_labels=["t1", "t2"],
                         value_labels={"-1": "−r₁"})
    assert part.matrix == [[0, -1], [2, 0]] and all(type(v) is int for row in part.matrix for v in row)
    frame = part.to_frame()
    assert list(frame.index) == ["h1", "h2"] and list(frame.columns) == ["t1", "t2"] and frame.loc["h2", "t1"] == 2
    assert part.value_text(-1) == "−r₁" and part.value_text(2.0) == "2" and part.value_text(0.25) == "0.25"
    assert StructurePart([["skip", "mlp"]]).row_labels == ["1"]
    with pytest.raises(ValueError, match="labels"):
        StructurePart([[1, 2]], row_labels=["a", "b"])
    with pytest.raises(ValueError, match="differ"):
        StructurePart([[1, 2], [3]])


def test_structure_figure_is_a_labelled_heatmap():
    from backend.core.viz import structure_figure

    part = StructurePart([[1, 0], [0, -4]], row_labels=["h1", "h2"], column_labels=["t1", "t2"],
                         value_labels={"-4": "−r₄"})
    heat = structure_figure(part).data[0]
    assert heat.type == "heatmap" and list(heat.x) == ["t1", "t2"] and list(heat.y) == ["h1", "h2"]
    assert heat.text[1][1] == "−r₄" and heat.zmid == 0.0      # negative entries: diverging scale around 0
    gates = structure_figure(StructurePart([["mlp", "skip"]], column_labels=["p1", "p2"])).data[0]
    assert list(gates.text[0]) == ["mlp", "skip"] and gates.z[0][0] != gates.z[0][1]


def test_table_from_frame_and_back():
    frame = pd.DataFrame({"item": ["a", "b"], "p": [np.float64(0.1234567890123), np.nan], "n": np.array([1, 2])})
    part = TablePart.from_frame(frame, help={"p": "probability"})
    assert part.columns == ["item", "p", "n"] and part.records[1]["p"] is None
    json.dumps(part.to_dict())  # plain JSON values only
    back = part.to_frame()
    assert list(back.columns) == ["item", "p", "n"]
    assert back["p"].iloc[0] == pytest.approx(0.1234567890123, rel=1e-14) and pd.isna(back["p"].iloc[1])
    assert back["n"].tolist() == [1, 2]
    assert TablePart([{"b": 1}, {"a": 2, "b": 3}]).columns == ["b", "a"]   # order of first appearance


def test_molecules_valid_drawn_invalid_named():
    from PIL import Image

    part = MoleculesPart(["c1ccccc1O", "C1CC", "C(C)(C)(C)(C)C"], labels=["phenol", "open ring", "five bonds"],
                         values=[0.87, None, 0.1], value_name="P(active)")
    picture = part.grid_png(size=(200, 160))
    assert picture.drawn == [0]
    assert picture.png is not None and picture.png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(picture.png)).size == (200, 160)
    assert len(picture.problems) == 2
    assert picture.problems[0].startswith("molecule 2 (open ring): SMILES 'C1CC'")
    assert "molecule 3 (five bonds)" in picture.problems[1] and "valence" in picture.problems[1].lower()
    assert part.legend_of(0) == "phenol · P(active) 0.870" and part.legend_of(1) == "open ring"
    # nothing readable: no picture, every SMILES named
    none = MoleculesPart(["not a smiles"]).grid_png()
    assert none.png is None and none.problems == ["molecule 1: SMILES 'not a smiles' could not be parsed"]
    # atoms to highlight outside the molecule are named, the molecule still drawn
    hl = MoleculesPart(["CCO"], highlight_atoms=[[0, 7]]).grid_png()
    assert hl.png is not None and "[7]" in hl.problems[0]
    with pytest.raises(ValueError, match="2 labels for 1 molecules"):
        MoleculesPart(["C"], labels=["a", "b"])


def test_format_weight_writes_plain_numbers():
    from backend.core.viz import format_weight

    assert format_weight(0.03149) == "0.0315" and format_weight(0.873) == "0.873" and format_weight(0.5) == "0.500"
    assert format_weight(0.000012345) == "0.0000123" and format_weight(0.0999996) == "0.100"
    assert format_weight(12.3456) == "12.346" and format_weight(0) == "0.000" and format_weight(None) == "n/a"
    assert format_weight(1.5e-9) == "1.50e-09" and format_weight(-0.000999996) == "-0.00100"


def test_legend_wording_reaches_the_graph_html():
    from backend.core.viz import evidence_legend_html, evidence_to_pyvis_html, vis_data_from_html

    part = graph_part()
    page = evidence_to_pyvis_html(Evidence("demo", "why", parts=[part]))
    assert "edge width ∝ attention</span>" in page and "columns: propagation steps</span>" in page
    assert "query drug (◆)" in page
    nodes, edges = vis_data_from_html(page)
    assert edges[0]["title"].startswith("inhibits · attention 0.800") and "(propagation step 1)" in edges[0]["title"]
    by_id = {n["id"]: n for n in nodes}
    assert by_id["g"]["color"]["background"] != "#e69f00" and by_id["a"]["color"]["background"] != "#e69f00"
    assert "propagation step: 1" in by_id["g"]["title"]
    # a part alone, with its own title; the legend's fixed colour for a kind is used
    alone = evidence_to_pyvis_html(part, title="graph alone", layered=False)
    assert "graph alone" in alone and "columns:" not in alone
    assert "#e69f00" in evidence_legend_html(["drug", "gene"], part.legend)
    assert part.legend.sentences()[0] == "Edge width is the attention."
