"""Model zoo: one parsimony panel per task and dataset with its headline sentence, the checkpoints table, the
downloads (rounded numbers, readable durations, citations), the papers' table and a card in full."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from backend.core.references import CITATIONS, REFERENCE_RESULTS

SEEDS = {"n": 3, "seeds": [1234, 1, 2], "shipped_seed": 1234,
         "metrics": {"test": {"mrr": {"mean": 0.97654321, "std": 0.00412345}}}}


def _card(method, dataset, metrics, total, seconds, setting="default", **more):
    return {
        "method": method, "dataset": dataset, "setting": setting,
        "metrics": {"valid": {k: v - 0.01 for k, v in metrics.items()}, "test": metrics},
        "protocol": "hand-made card for a test",
        "params": {"total": total, "trainable": total, "adaptive": None},
        "train": {"seconds": seconds, "epochs": 3, "device": "cpu", "seed": 1234, "config": {"lr": 0.001}},
        "data": {"files": {"train.txt": "a" * 64}},
        "software": {"torch": "2.13.0", "commit": "0123456789abcdef"},
        "created": "2026-01-01T00:00:00Z", "reference": "zhang2022redgnn", **more,
    }


@pytest.fixture
def two_cards(tmp_path, monkeypatch):
    from backend.core import store

    cards = [
        _card("redgnn", "family", {"mrr": 0.98123456, "hits@1": 0.970, "hits@10": 0.995, "nbfnet_mrr": 0.9801},
              26_865, 754.2, seeds=SEEDS,
              artefacts={"scoring function": {"kind": "formula", "value": r"\sum_i h_i r_i t_i"},
                         "blocks": {"kind": "structure", "value": "[[1, 0], [0, 2]]"}}),
        _card("redgnn", "umls", {"mrr": 0.902, "hits@1": 0.850, "hits@10": 0.990}, 44_156, 1503.0),
    ]
    for c in cards:
        folder = tmp_path / c["method"] / c["dataset"]
        folder.mkdir(parents=True)
        (folder / "card.json").write_text(json.dumps(c), encoding="utf-8")
    monkeypatch.setattr(store, "MODELS_DIR", tmp_path)
    return cards


@pytest.fixture
def downloads(monkeypatch):
    """{file name: bytes} of every st.download_button's data, as the page hands it to Streamlit."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes):
            seen[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


def _panels(at) -> dict[str, object]:
    """The parsimony panels' charts by their key ('kg/family/', 'ddi/drugbank/S1', ...)."""
    charts = at.get("plotly_chart")
    return {c.proto.id.split("zoo_panel_", 1)[1]: c for c in charts if "zoo_panel_" in c.proto.id}


def _spec(chart) -> dict:
    return json.loads(chart.proto.spec)


def _points(chart) -> set[float]:
    """x values (parameter counts) of every trace of a plotly chart element."""
    import base64

    import numpy as np

    def values(x):
        if isinstance(x, dict) and "bdata" in x:  # plotly's typed-array encoding
            return np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"])).tolist()
        return x or []

    return {float(v) for trace in _spec(chart)["data"] for v in values(trace.get("x"))}


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


def test_zoo_panels_tell_the_parsimony_story(run_page, page_text, two_cards):
    at = run_page("zoo.py")
    assert not at.exception
    panels = _panels(at)
    # one panel per dataset with a card, then the papers' own comparisons (drugbank, twosides, tox21, lastfm)
    assert list(panels)[:2] == ["kg/family/", "kg/umls/"]
    assert {"ddi/drugbank/S1", "molecules/tox21/10-shot"} <= set(panels)
    family = panels["kg/family/"]
    assert {26_865.0} == _points(family)  # this project's family card and the paper's share the count
    spec = _spec(family)
    assert spec["layout"]["xaxis"]["type"] == "log" and spec["layout"]["legend"]["orientation"] == "h"
    assert len(spec["data"]) <= 3  # one legend entry per role
    assert {137_164.0, 1_237_628.0, 11_160_226.0} <= _points(panels["ddi/drugbank/S1"])  # EmerGNN, SumGNN, DeepLGF
    text = page_text(at)
    assert ("RED-GNN (this project): 26.9k parameters, MRR 0.981 (3 seeds: 0.9765 ± 0.0041); the paper's RED-GNN: "
            "MRR 0.992 with 26.9k parameters.") in text
    assert "RED-GNN (this project): 44.2k parameters, MRR 0.902; the paper's RED-GNN: MRR 0.964 with 80.1k" in text
    assert ("EmerGNN (paper): 137k parameters, F1 0.620; best baseline with a size: DeepLGF, 11.2M parameters, "
            "F1 0.397 (81× the parameters); smallest: SumGNN, 1.24M parameters") in text
    assert "Pre-PAR (paper): 380k adapted parameters, ROC-AUC 0.849; PACIA: 3k adapted parameters" in text

    at.selectbox(key="zoo_task").set_value("Drug-drug interaction prediction for emerging drugs").run()
    assert set(_panels(at)) == {"ddi/drugbank/S1", "ddi/twosides/S1"}


def test_zoo_checkpoints_table_and_downloads(run_page, page_text, two_cards, downloads):
    at = run_page("zoo.py")
    table = _checkpoints(at)
    assert len(table) == 2  # one row per checkpoint
    row = table[table["dataset"] == "family"].iloc[0]
    assert row["mrr"] == pytest.approx(0.98123456) and row["hits@10"] == pytest.approx(0.995)
    assert row["over_seeds"] == "0.9765 ± 0.0041 (3 seeds)" and row["headline"] == "MRR"
    assert int(row["params_total"]) == 26_865 and int(row["epochs"]) == 3
    assert row["training_time"] == "12 min 34 s" and row["device"] == "cpu"
    assert "params_adaptive" not in table.columns  # empty for every card: left out of the page table
    assert "nbfnet_mrr" not in table.columns       # a variant: in the CSV and behind the toggle
    at.toggle(key="zoo_all_metrics").set_value(True).run()
    assert _checkpoints(at).set_index("dataset").loc["family", "nbfnet_mrr"] == pytest.approx(0.9801)

    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Download the panels' numbers (CSV)", "Download checkpoints table (CSV)",
                      "Download reference numbers (CSV)"]
    checkpoints = downloads["model_zoo.csv"].decode()
    assert checkpoints.startswith("method,dataset,setting,")
    csv = pd.read_csv(io.StringIO(checkpoints))
    family = csv[csv["dataset"] == "family"].iloc[0]
    assert family["mrr"] == 0.9812 and family["nbfnet_mrr"] == 0.9801          # 4 significant digits
    assert family["training_time"] == "12 min 34 s" and "train_seconds" not in csv.columns
    assert family["over_seeds"] == "0.9765 ± 0.0041 (3 seeds)"
    assert family["reference"] == CITATIONS["zhang2022redgnn"]
    assert "0.98123456" not in checkpoints

    refs = pd.read_csv(io.StringIO(downloads["paper_reference_numbers.csv"].decode()))
    assert list(refs.columns[:6]) == ["method", "model", "dataset", "setting", "metric", "value"]
    assert "note" not in refs.columns and refs["source"].notna().all()       # no internal note names
    assert set(refs["citation"]) <= set(CITATIONS.values())                  # the citation, not its key
    rot = refs[(refs["model"] == "RotatE") & (refs["dataset"] == "WN18RR") & (refs["metric"] == "mrr")].iloc[0]
    assert rot["params"] == 40_948_500 and rot["params_source"] == "computed"
    assert all(len(f"{v:.10g}".lstrip("0.").replace(".", "")) <= 4 for v in refs["value"].dropna())

    panels = pd.read_csv(io.StringIO(downloads["parsimony_panels.csv"].decode()))
    ours = panels[(panels["dataset"] == "family") & (panels["role"] == "this project")].iloc[0]
    assert ours["value"] == 0.9812 and ours["params"] == 26_865 and ours["seeds"] == "0.9765 ± 0.0041 (3 seeds)"
    assert ours["citation"] == f"this project ({CITATIONS['zhang2022redgnn']})"
    deeplgf = panels[(panels["model"] == "DeepLGF") & (panels["dataset"] == "drugbank")].iloc[0]
    assert deeplgf["value"] == 0.397 and deeplgf["params"] == 11_160_226
    assert deeplgf["citation"] == CITATIONS["zhang2023emergnn"]

    # a card in full, through the shared component: its seeds and its artefacts
    assert at.selectbox(key="zoo_card").value == "redgnn · family"
    assert any(m.label == "Parameters" and m.value == "26,865" for m in at.metric)
    text = page_text(at)
    assert "Over 3 training seeds (1234, 1, 2; this checkpoint: seed 1234), test: mrr 0.9765 ± 0.0041" in text
    assert [e.value.strip("$\n") for e in at.get("latex")] == [r"\sum_i h_i r_i t_i"]  # st.latex wraps it in $$
    assert "[[1, 0], [0, 2]]" in [c.value for c in at.code]  # (the sidebar shows the data root as code too)
    at.selectbox(key="zoo_card").set_value("redgnn · umls").run()
    assert not at.get("latex") and "Over 3 training seeds" not in page_text(at)


def test_zoo_without_cards_shows_the_papers(run_page, page_text, tmp_path, monkeypatch):
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
    panels = _panels(at)
    assert "ddi/drugbank/S1" in panels and "kg/WN18RR/" in panels  # RED-GNN's paper number beside RotatE
    assert {57_719.0, 40_948_500.0} <= _points(panels["kg/WN18RR/"])
    assert not any(key.startswith("kg/WN18RR_v") for key in panels)  # a single number without a size: no panel
    at.selectbox(key="zoo_ref_method").set_value("emergnn").run()
    refs = _references(at)
    assert set(refs["method"]) == {"emergnn"}


def test_zoo_with_the_real_models_folder(run_page, page_text):
    from backend.core import store
    from backend.core.viz import METRIC_NAMES, card_headline

    at = run_page("zoo.py")
    assert not at.exception
    cards = store.list_cards()
    panels = _panels(at)
    text = page_text(at)
    if cards:
        table = _checkpoints(at)
        assert set(table["method"]) == {c.method for c in cards}
        for c in cards:  # one panel per dataset with a shipped card, its headline sentence above it
            shown = (c.extras or {}).get("zoo_setting", c.setting)  # a baseline card may join its method's panel
            setting = "" if shown in ("", "default", "transductive") else shown
            assert f"{c.dataset}/{setting}" in {k.split("/", 1)[1] for k in panels}, c.dataset
            name, value, _ = card_headline(c)
            assert f"{METRIC_NAMES.get(name, name)} {value:.3f}" in text and "(this project): " in text
            if c.seeds:
                assert c.seed_text("test", name).rsplit(" (", 1)[0] in text, c.dataset
    else:
        assert _checkpoints(at) is None
    assert len(_references(at)) > 0
    assert panels
