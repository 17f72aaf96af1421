"""The page "Molecular properties (few-shot)": a user's table -> predictions with structures, the relation graph,
the evidence tests; bad rows listed with their line and RDKit's reason, the valid rows kept; a demo task."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.par_support import make_par_checkpoint
from tests.support import page_text

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "molecules.py")
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

GOOD = ("smiles,label\nCC(=O)O,1\nOC(=O)c1ccccc1,1\nCCO,0\nCCN(CC)CC,0\n"
        "OC(=O)c1ccncc1,\nCCCCCCCC(=O)O,\nOCc1ccccc1,\n")
BAD = GOOD + "C1CC,\nCCO,1\nc1ccccc1,7\n"


@pytest.fixture
def page(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    if not os.environ.get("PARSIMONY_DATA"):
        monkeypatch.setenv("PARSIMONY_DATA", str(DATA))
    folder = make_par_checkpoint(tmp_path / "runs" / "par" / "tox21-test", shots=2)
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="mol-method").set_value("par")
    at.run()
    at.selectbox(key="mol-checkpoint-par").set_value(str(folder))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_user_table_is_predicted_with_structures_and_evidence(page):
    at = page
    at.text_area(key="mol-in-user-text").set_value(GOOD)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Support set: 2 labelled 0 and 2 labelled 1; 3 molecule(s) to predict." in text
    frames = [d.value for d in at.dataframe]
    preds = next(f for f in frames if "probability" in f.columns)
    assert len(preds) == 3 and preds["structure"].str.startswith("data:image/png;base64,").all()
    assert preds["probability"].between(0, 1).all()
    assert "Why: the relation graph of one query" in text and "Evidence you can test" in text
    assert any("most related" in str(m.label) for m in at.metric)


def test_bad_rows_are_listed_and_the_valid_rows_kept(page):
    at = page
    at.text_area(key="mol-in-user-text").set_value(BAD)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warning = "\n".join(str(w.value) for w in at.warning)
    assert "row 9, column smiles" in warning and "unclosed ring" in warning
    assert "row 10, column smiles" in warning and "duplicate molecule: same as row 4" in warning
    assert "row 11, column label" in warning and "must be 0 or 1" in warning
    preds = next(d.value for d in at.dataframe if "probability" in d.value.columns)
    assert len(preds) == 3


def test_one_class_only_is_a_clear_message(page):
    at = page
    at.text_area(key="mol-in-user-text").set_value("smiles,label\nCCO,1\nCCN,1\nCCC,\n")
    at.run()
    assert any("at least one molecule labelled 0" in str(e.value) for e in at.error)
