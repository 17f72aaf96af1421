"""Model zoo: checkpoints table, parameters-vs-metric figure, CSV download, paper reference table."""
from __future__ import annotations

import json

import pytest

from backend.core.references import REFERENCE_RESULTS


def _card(method, dataset, metrics, total, seconds, setting="default"):
    return {
        "method": method, "dataset": dataset, "setting": setting,
        "metrics": {"valid": {k: v - 0.01 for k, v in metrics.items()}, "test": metrics},
        "protocol": "hand-made card for a test",
        "params": {"total": total, "trainable": total, "adaptive": None},
        "train": {"seconds": seconds, "epochs": 3, "device": "cpu", "seed": 1234, "config": {"lr": 0.001}},
        "data": {"files": {"train.txt": "a" * 64}},
        "software": {"torch": "2.13.0", "commit": "0123456789abcdef"},
        "created": "2026-01-01T00:00:00Z", "reference": "zhang2022redgnn",
    }


@pytest.fixture
def two_cards(tmp_path, monkeypatch):
    from backend.core import store

    cards = [
        _card("redgnn", "family", {"mrr": 0.981, "hits@1": 0.970, "hits@10": 0.995}, 26_865, 754.2),
        _card("redgnn", "umls", {"mrr": 0.902, "hits@1": 0.850, "hits@10": 0.990}, 44_156, 1503.0),
    ]
    for c in cards:
        folder = tmp_path / c["method"] / c["dataset"]
        folder.mkdir(parents=True)
        (folder / "card.json").write_text(json.dumps(c), encoding="utf-8")
    monkeypatch.setattr(store, "MODELS_DIR", tmp_path)
    return cards


def _figures(at):
    return at.get("plotly_chart")


def _points(chart) -> set[float]:
    """x values (parameter counts) of every trace of a plotly chart element."""
    import base64

    import numpy as np

    def values(x):
        if isinstance(x, dict) and "bdata" in x:  # plotly's typed-array encoding
            return np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"])).tolist()
        return x or []

    spec = json.loads(chart.proto.spec)
    return {float(v) for trace in spec["data"] for v in values(trace.get("x"))}


def _tables(at):
    return [d.value for d in at.dataframe]


def _checkpoints(at):
    """The checkpoints table (the only one with a 'params_trainable' column), or None."""
    found = [t for t in _tables(at) if "params_trainable" in t.columns]
    assert len(found) <= 1
    return found[0] if found else None


def _references(at):
    found = [t for t in _tables(at) if "params_kind" in t.columns]
    assert len(found) == 1
    return found[0]


def test_zoo_with_two_cards(run_page, page_text, two_cards):
    at = run_page("zoo.py")
    assert not at.exception
    table = _checkpoints(at)
    assert len(table) == 2  # one row per checkpoint
    assert set(table["dataset"]) == {"family", "umls"}
    row = table[table["dataset"] == "family"].iloc[0]
    assert row["mrr"] == pytest.approx(0.981)
    assert row["hits@10"] == pytest.approx(0.995)
    assert int(row["params_total"]) == 26_865
    assert int(row["epochs"]) == 3
    assert "params_adaptive" not in table.columns  # empty for every card: left out of the page table
    assert row["train_seconds"] == pytest.approx(754.2)
    assert row["device"] == "cpu"

    assert at.selectbox(key="zoo_metric").value == "mrr"
    figures = _figures(at)
    assert len(figures) == 1
    xs = _points(figures[0])
    assert 26_865 in xs and 44_156 in xs  # this project's points
    assert 57_719 in xs  # the paper's RED-GNN WN18RR point (mrr)
    assert json.loads(figures[0].proto.spec)["layout"]["xaxis"]["type"] == "log"

    download = at.get("download_button")
    assert any("checkpoints" in d.proto.label for d in download)
    text = page_text(at)
    assert "No trained checkpoints" not in text

    # a single card in full, through the shared component
    assert at.selectbox(key="zoo_card").value == "redgnn · family"
    assert any(m.label == "Parameters" and m.value == "26,865" for m in at.metric)


def test_zoo_metric_and_dataset_selectors(run_page, two_cards):
    at = run_page("zoo.py")
    at.selectbox(key="zoo_metric").set_value("f1").run()
    assert not at.exception
    xs = _points(_figures(at)[0])
    assert {137_164, 1_237_628, 11_160_226} <= xs  # EmerGNN vs SumGNN vs DeepLGF on DrugBank S1
    assert 26_865 not in xs
    at.selectbox(key="zoo_metric").set_value("mrr").run()
    at.selectbox(key="zoo_dataset").set_value("family").run()
    xs = _points(_figures(at)[0])
    assert xs == {26_865}  # this project's family card and the paper's family number share the count


def test_zoo_without_cards_shows_reference_table(run_page, page_text, tmp_path, monkeypatch):
    from backend.core import store

    monkeypatch.setattr(store, "MODELS_DIR", tmp_path / "empty")
    at = run_page("zoo.py")
    assert not at.exception
    assert "No trained checkpoints" in page_text(at)
    assert _checkpoints(at) is None
    refs = _references(at)
    assert len(refs) == len(REFERENCE_RESULTS)
    fam = refs[(refs["model"] == "RED-GNN") & (refs["dataset"] == "family")].iloc[0]
    assert fam["value"] == pytest.approx(0.992)
    assert len(_figures(at)) == 1
    at.selectbox(key="zoo_ref_method").set_value("emergnn").run()
    refs = _references(at)
    assert set(refs["method"]) == {"emergnn"}


def test_zoo_with_the_real_models_folder(run_page):
    from backend.core import store

    at = run_page("zoo.py")
    assert not at.exception
    cards = store.list_cards()
    if cards:
        table = _checkpoints(at)
        assert set(table["method"]) == {c.method for c in cards}
    else:
        assert _checkpoints(at) is None
    assert len(_references(at)) > 0
    assert len(_figures(at)) == 1
