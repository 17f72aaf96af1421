"""The Formulas page (GSR) with AppTest: a shipped system, its Pareto front, formulas, constants, downloads and the
upload section with the example files."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import page_text

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "physics.py")
MODELS = Path(__file__).resolve().parents[2] / "models" / "gsr"


@pytest.fixture
def app(tmp_path, monkeypatch):
    if not any(MODELS.glob("*/card.json")):
        pytest.fail("no shipped GSR result under models/gsr (python scripts/gsr_ship.py)")
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_formulas_page_shows_a_system_its_search_and_its_formulas(app):
    at = app
    assert at.title[0].value == "Formulas"
    latex = [x.value for x in at.get("latex")]
    assert any("=" in x for x in latex), latex                  # the assembled formula
    assert any(r"\sum" in x for x in latex), latex               # aggregation rendered as a sum
    text = page_text(at)
    assert "Each point is a message-passing flow" in text
    assert "is the flow the pruning chose" in text
    assert at.get("plotly_chart"), "no Pareto / simulation chart"
    at.selectbox(key="gsr-flow").select_index(0).run()   # flow #0: the full block the pruning starts from
    assert not at.exception, [e.value for e in at.exception]
    assert "was evaluated during the search but not chosen" in page_text(at)
    labels = [b.label for b in at.get("download_button")]
    assert {"Formulas (LaTeX)", "Formulas (Python, SymPy)", "Pareto table (CSV)"} <= set(labels), labels


def test_every_shipped_system_renders(app):
    at = app
    options = list(at.selectbox(key="gsr-checkpoint").options)
    assert len(options) >= 5, options                            # the five simulated systems
    for i, option in enumerate(options[:6]):
        at.selectbox(key="gsr-checkpoint").select_index(i).run()
        assert not at.exception, (option, [e.value for e in at.exception])
        assert any("=" in x.value for x in at.get("latex")), option


def test_upload_section_reads_the_example_and_offers_the_job(app):
    at = app
    at.toggle(key="gsr-example").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("2 graphs read" in s.value for s in at.success), [s.value for s in at.success]
    assert any(b.label == "Search and regress" for b in at.button)
