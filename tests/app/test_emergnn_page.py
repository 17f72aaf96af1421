"""The Drug interactions page (EmerGNN) under AppTest, on a freshly initialised checkpoint in a temporary runs folder
(the shipped checkpoints are not read): a pair by name, its prediction and evidence, a CSV with bad rows (an unknown
name gets its closest names). A name typed into the list (accept_new_options) cannot be driven by AppTest; the
Playwright test and tests/unit/test_emergnn_predict.py cover it."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.emergnn_support import fresh_checkpoint, require_ddi
from tests.support import page_text

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "ddi.py")
TIMEOUT = 240
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, data_root):
    require_ddi(data_root)
    return fresh_checkpoint(tmp_path_factory.mktemp("emergnn-page") / "S1", data_root, "S1")


@pytest.fixture
def page(tmp_path, monkeypatch, checkpoint):
    import shutil

    from backend.core import store

    models, runs = tmp_path / "models", tmp_path / "runs"
    models.mkdir()
    shutil.copytree(checkpoint, runs / "emergnn" / "drugbank-test")
    monkeypatch.setattr(store, "MODELS_DIR", models)
    monkeypatch.setenv("PARSIMONY_RUNS", str(runs))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_pair_prediction_and_evidence(page):
    at = page
    text = page_text(at)
    assert "Drug interactions" in text and "CC BY-NC 4.0" in text
    assert at.selectbox(key="ddi-1-name").value == "Tapentadol (DB06204)"
    assert "Most likely interaction types" in text
    assert "Tapentadol" in text and "Dolasetron" in text
    assert "Top paths" in text and "Removing the" in text
    at.selectbox(key="ddi-1-name").set_value("Warfarin (DB00682)").run()
    assert not at.exception
    assert "Warfarin" in page_text(at)


def test_csv_with_bad_rows(page):
    at = page
    at.text_area(key="batch-text-ddi").input("drug1,drug2\nWarfarin,Tapentadol\nWarfarn,Tapentadol\n"
                                            "Tapentadol,Tapentadol\nwarfarin,tapentadol\n").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "row 3" in warnings and "Warfarin" in warnings and "itself" in warnings and "duplicate of row 2" in warnings
    assert "1 pair predicted" in page_text(at)
