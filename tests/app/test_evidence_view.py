"""ui/components/evidence_view.py under AppTest: an Evidence with one part of every kind, an old graph-only file,
and empty evidence, rendered by ``show_evidence`` the way a page calls it."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from backend.core.evidence import Evidence
from tests.support import page_text
from tests.unit.test_evidence_parts import LEGACY_JSON, every_part

TIMEOUT = 60


def _script(evidence_json: str | None) -> None:
    from backend.core.evidence import Evidence
    from ui.components.evidence_view import show_evidence

    evidence = None if evidence_json is None else Evidence.from_json(evidence_json)
    show_evidence(evidence, key="ev", max_edges=60, top_paths=5, layered=True, file_stem="demo", edge_slider=False)


def run(evidence: Evidence | None) -> AppTest:
    at = AppTest.from_function(_script, args=(None if evidence is None else evidence.to_json(),),
                               default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_every_kind_of_part_is_rendered():
    parts = every_part()
    graph, formula, structure, table, molecules = parts
    molecules.smiles[1] = "C1CC"          # one unreadable molecule: named, the other still drawn
    ev = Evidence("demo", "Why ibuprofen", summary={"head": "aspirin", "answer": "ibuprofen", "rank": 1.0},
                  parts=parts, sentences=["The answer is a known fact (in the test split).",
                                          "The strongest path scores 0.0315."])
    at = run(ev)
    text = page_text(at).replace("\\", "")  # text from outside reaches st.markdown escaped: r_k arrives as r\_k
    # sentences written by the method, and the summary's names (not its numbers)
    assert "The answer is a known fact (in the test split). The strongest path scores 0.0315." in text
    assert "head: aspirin · answer: ibuprofen" in text and "rank:" not in text
    # graph: iframe, the legend in the part's words, paths with plain-number scores and the legend's help
    frame = at.get("iframe")[0].proto
    assert frame.srcdoc and "edge width ∝ attention" in frame.srcdoc and "Why ibuprofen" in frame.srcdoc
    assert "Edge width is the attention. Columns are propagation steps, left to right, from the query drug" in text
    assert "Self edges stay." in text
    paths = next(d.value for d in at.dataframe if "path" in d.value.columns)
    assert paths["score"].tolist() == ["0.200"]
    assert at.toggle(key="ev-layered").proto.help.startswith("Left to right by propagation step")
    # formula: LaTeX beside the reference law, variables, the Python source in an expander
    latex = [e.value for e in at.get("latex")]
    assert formula.latex in " ".join(latex) and formula.reference_latex in " ".join(latex)
    assert "the true law" in text and "distance (m)" in text
    assert any(e.label == "Python source" for e in at.expander)
    assert at.code[0].value.strip() == formula.python.strip()
    # structure: a plotly heatmap with its labels, and what its values mean
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "heatmap" and spec["data"][0]["x"] == ["t1", "t2", "t3", "t4"]
    assert "block entry: ±k uses ±r_k, 0 none" in text
    # table: the records in column order, column help, caption
    shown = next(d.value for d in at.dataframe if "item" in d.value.columns)
    assert list(shown.columns) == ["item", "score", "seen"] and shown["score"].tolist() == [0.5, 0.25]
    assert "top items" in text
    # molecules: one picture, the unreadable SMILES named
    assert len(at.get("image")) == 1
    assert any("molecule 2 (phenol): SMILES 'C1CC' could not be parsed" in w.value for w in at.warning)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Evidence (JSON)", "Edges (CSV)", "Paths (CSV)", "Graph (HTML)", "Formula (Python)",
                      "Structure (CSV)", "Table (CSV)", "Molecules (PNG)"]


def test_old_graph_only_file_renders_with_its_summary():
    at = run(Evidence.from_json(LEGACY_JSON))
    text = page_text(at)
    assert at.get("iframe") and "edge width ∝ weight" in at.get("iframe")[0].proto.srcdoc
    assert "head: 3 · relation: son · answer: 7 · score: 0.91" in text   # no sentences: the summary as it was
    assert "A path's score is the score of the path." in text
    assert [b.label for b in at.get("download_button")][:4] == ["Evidence (JSON)", "Edges (CSV)", "Paths (CSV)",
                                                                 "Graph (HTML)"]


def test_no_evidence_is_a_message():
    for ev in (None, Evidence("x", "nothing")):
        at = run(ev)
        assert [i.value for i in at.info] == ["No evidence to show for this query."]
        assert not at.get("download_button")
