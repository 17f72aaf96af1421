"""The cold-start recommendation page (ColdNAS) under AppTest, on a tiny searched checkpoint of a synthetic dataset
(two tastes: even or odd items), so the test needs no data mirror and reads nothing shipped."""
from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.methods.coldnas.config import ColdNASConfig
from tests.coldnas_support import tiny_data
from tests.support import page_text

cn_train = importlib.import_module("backend.methods.coldnas.train")
pytestmark = pytest.mark.slow  # a tiny search first (about 10 s on a loaded 2-core CPU)
PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "recsys.py")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("coldnas") / "run"
    cn_train._DATA[("tiny", "")] = tiny_data()
    cfg = ColdNASConfig(dataset="tiny", embedding_dim=8, hidden="16,8,8", epochs=20, search_epochs=5,
                        candidate_epochs=2, top_k=3, batch_size=8, lr=1e-2, output=str(folder))
    cn_train.search(cfg, device="cpu")
    return folder


@pytest.fixture
def page(tiny_checkpoint, tmp_path, monkeypatch):
    from backend.core import store
    from backend.core.data import resolve_data_root

    models = tmp_path / "models"
    shutil.copytree(tiny_checkpoint, models / "coldnas" / "tiny")
    monkeypatch.setattr(store, "MODELS_DIR", models)
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("PARSIMONY_DEVICE", "cpu")
    monkeypatch.setitem(cn_train._DATA, ("tiny", str(resolve_data_root(None))), cn_train._DATA[("tiny", "")])
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at, *columns):
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found


def test_rating_items_updates_recommendations_with_the_previous_list(page):
    at = page
    assert at.title[0].value == "Cold-start recommendation"
    text = page_text(at)
    assert "Before your last change" in text and "The search that chose the structure" in text
    first = frame_with(at, "item", "predicted_rating", "change")[0]
    assert len(first) == 10 and first["predicted_rating"].is_monotonic_decreasing
    # rate two even items as liked: the list changes and the previous one stays beside it
    at.selectbox(key="recsys-item-tiny").set_value("Item 0").run()
    at.button(key="recsys-add-tiny").click().run()
    assert not at.exception
    at.selectbox(key="recsys-item-tiny").set_value("Item 2").run()
    at.button(key="recsys-add-tiny").click().run()
    assert not at.exception
    now = frame_with(at, "item", "predicted_rating", "change")[0]
    before = [f for f in frame_with(at, "item", "predicted_rating") if "change" not in f.columns][0]
    assert "Item 0" not in set(now["item"]) and "Item 2" not in set(now["item"])
    assert list(before["predicted_rating"]) != list(now["predicted_rating"])   # the second rating moved them
    assert set(now["change"]) <= {"=", "new"} | {f"{a} {n}" for a in "▲▼" for n in range(1, 20)}
    ratings = frame_with(at, "item", "your rating")[0]
    assert list(ratings["item"]) == ["Item 0", "Item 2"]
    # the influence chart and evidence for a recommendation, the search heatmap and trajectory, the baselines
    charts = at.get("plotly_chart")
    assert len(charts) >= 3
    assert "what each of your ratings did" in page_text(at)
    labels = [b.label for b in at.get("download_button")]
    assert "Download recommendations (CSV)" in labels and "Download trajectory (JSON lines)" in labels
    baselines = frame_with(at, "model", "MSE")[0]
    assert list(baselines["model"])[1:] == ["Item popularity", "Predictor without modulation",
                                            "FiLM (mul + add everywhere)", "MAML-style fine-tuning (MeLU-like)"]
    # the supernet epoch slider moves the heatmap
    at.slider(key="recsys-epoch-tiny").set_value(1).run()
    assert not at.exception


def test_removing_a_rating(page):
    at = page
    at.selectbox(key="recsys-item-tiny").set_value("Item 3").run()
    at.button(key="recsys-add-tiny").click().run()
    at.selectbox(key="recsys-remove-tiny").set_value("Item 3").run()
    at.button(key="recsys-remove-btn-tiny").click().run()
    assert not at.exception
    assert not [d for d in at.dataframe if "your rating" in d.value.columns]
