"""The molecules page with PACIA selected (AppTest), on the shipped Tox21 10-shot checkpoint: the example
episode predicted, the depth per query in the table, and PACIA's evidence (the 3,000 generated FiLM values and the
depth chosen per query) on the page; the parameter chart beside PAR."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import page_text

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "ui" / "views" / "molecules.py")
SHIPPED = ROOT / "models" / "pacia" / "tox21-10-shot"


@pytest.fixture
def page(tmp_path, monkeypatch):
    if not (SHIPPED / "card.json").is_file():
        pytest.skip("no shipped PACIA checkpoint")
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("PARSIMONY_DEVICE", "cpu")
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_molecules_page_with_pacia(page):
    at = page
    at.radio(key="mol-method").set_value("pacia").run()
    assert not at.exception, [e.value for e in at.exception]
    next(b for b in at.button if "example" in b.label.lower()).click().run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [d.value for d in at.dataframe if {"smiles", "probability", "depth"} <= set(d.value.columns)]
    assert frames, [list(d.value.columns) for d in at.dataframe]
    pred = frames[0]
    assert len(pred) == 6 and pred["probability"].between(0, 1).all() and pred["depth"].between(1, 5).all()
    text = page_text(at)
    assert "3,000 values" in text                      # the adaptive parameters generated for this task
    assert "relation rounds" in text or "depth" in text
    assert "PACIA" in text
    assert "Traceback" not in text
