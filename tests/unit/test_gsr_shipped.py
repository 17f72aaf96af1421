"""GSR's shipped results reproduce their cards; the exported Python reproduces the formulas; the CLI verbs work."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch

from backend.cli import main
from backend.core import store
from backend.methods.gsr import GSRModel
from backend.methods.gsr.formulas import load_python_module
from backend.methods.gsr.train import to_batch

MODELS = Path(__file__).resolve().parents[2] / "models" / "gsr"
SHIPPED = sorted(p.parent for p in MODELS.glob("*/card.json"))


def test_results_are_shipped():
    assert SHIPPED, "no shipped GSR result (python scripts/gsr_ship.py)"


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_result_reproduces_its_card(folder):
    model = GSRModel(folder)
    card = store.load_card(folder)
    for split in ("valid", "test"):
        got = model.evaluate(split)
        assert got["r2"] == pytest.approx(card.metrics[split]["r2"], rel=1e-6, abs=1e-9)
        assert got["mse"] == pytest.approx(card.metrics[split]["mse"], rel=1e-5)
        assert got["gnn_r2"] == pytest.approx(card.variants["gnn"][split]["r2"], rel=1e-5, abs=1e-6)
    assert card.params["total"] == sum(p.numel() for p in model.formula.parameters() if p.dtype == torch.float64)
    assert card.params["total"] < card.extras["gnn_params"]          # the parsimony picture


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_exported_python_computes_each_component_like_the_model(folder):
    model = GSRModel(folder)
    ns = load_python_module(model.python_source())
    fns = ns["functions"]()
    record = {}
    with torch.no_grad():
        model.formula.double()(to_batch(model.splits()["test"].subset(np.arange(20)), torch.float64), record)
    model.formula.float()
    for key, (x, y) in record.items():
        feats = model.features[key](x.numpy())
        for col, fn in enumerate(fns[key]):
            got = np.broadcast_to(np.asarray(fn(*feats.T), float), (len(feats),))
            np.testing.assert_allclose(got, y[:, col].numpy(), rtol=1e-6, atol=1e-8)
    assert sympy.srepr(ns["COMPONENTS"][next(iter(record))][0])  # SymPy objects


def test_cli_simulate_writes_the_graph_csv_format(tmp_path, capsys):
    assert main(["simulate", "gsr", "--system", "electricity", "--groups", "2", "--draws", "3",
                 "--out", str(tmp_path / "elec")]) == 0
    from backend.physics.graph_csv import read_graph_folder

    data = read_graph_folder(tmp_path / "elec").data
    assert data.n_samples == 6 and data.y_names == ["P"]


def test_cli_search_is_resumable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path))
    args = ["search", "gsr", "--dataset", "electricity", "--groups", "8", "--draws", "5", "--search-epochs", "1",
            "--max-blocks", "1"]
    assert main(args + ["--budget", "2"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["evaluated"] == 2
    assert main(args + ["--budget", "3"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["resumed"], again["evaluated"]) == (2, 1)


def _final_gap(traj):
    last = traj[traj["step"] == traj["step"].max()].pivot(index="node", columns="source", values=["x", "y"])
    return float(np.hypot(last["x"]["true"] - last["x"]["formula"], last["y"]["true"] - last["y"]["formula"]).max())


def test_springs_simulated_with_the_formula_follow_the_truth_and_an_edited_constant_changes_them():
    folder = MODELS / "mechanics-simple"
    if not (folder / "card.json").exists():
        pytest.fail("models/gsr/mechanics-simple is not shipped")
    model = GSRModel(folder)
    traj = model.trajectory(steps=200)
    assert set(traj["source"]) == {"true", "formula"} and traj["node"].nunique() == 5
    gap = _final_gap(traj)
    assert gap < 0.01                                            # metres after 2 s
    values = model.constants()["value"].to_numpy().copy()
    values[np.argmax(np.abs(values))] *= 1.5                     # the largest constant, 50 % larger
    edited = _final_gap(model.trajectory(model.with_constants(values), steps=200))
    assert edited > 10 * gap + 1e-3


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_each_symbolic_function_agrees_with_the_network_it_replaces(folder):
    table = GSRModel(folder).component_r2()
    assert not table.empty and table["r2_vs_network"].min() > 0.9   # held-out inputs of each component
