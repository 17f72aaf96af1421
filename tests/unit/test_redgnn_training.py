"""CPU training smoke test on family, CLI round trip (train -> evaluate reproduces the card)."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backend.methods.redgnn import METHOD
from backend.methods.redgnn.config import config_for
from backend.methods.redgnn.train import EvalTask, evaluate_task, load_data

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("redgnn") / "family"
    config = dataclasses.replace(config_for("family"), epochs=1, batches_per_epoch=150, output=str(out))
    card = METHOD.train(config)
    return out, card


def test_short_training_learns_the_easiest_family_relation(short_run):
    """husband is the inverse of wife: one hop suffices, so 150 batches (3,000 queries) must solve it."""
    out, card = short_run
    from backend.methods.redgnn.explain import load_model

    lm = load_model(out)
    kg, _ = load_data("family")
    husband = kg.relations.index("husband")
    sub = kg.test[kg.test[:, 1] == husband]
    task = EvalTask.build(kg, torch.cat([kg.facts, kg.train]), sub, lm.device)
    mrr = evaluate_task(lm.model, task, 50, policies=("average",))["average"]["mrr"]
    assert mrr >= 0.9, mrr
    assert card.metrics["test"]["mrr"] > 0.3  # all relations after 150 batches; random ranking gives < 0.01
    assert card.params["total"] == 26_865     # kg.md §1.1: family has 26,865 parameters


def test_card_records_provenance_and_protocols(short_run):
    out, card = short_run
    saved = json.loads((out / "card.json").read_text())
    assert saved["method"] == "redgnn" and saved["dataset"] == "family" and saved["setting"] == "transductive"
    test = saved["metrics"]["test"]
    assert test["optimistic_mrr"] >= test["mrr"] >= test["nbfnet_mrr"]
    assert set(saved["data"]["files"]) >= {"entities.txt", "relations.txt"}
    assert saved["train"]["config"]["hidden_dim"] == 48 and saved["train"]["device"] == "cpu"


def test_cli_evaluate_reproduces_the_card_and_predict_explain_work(short_run, tmp_path):
    out, card = short_run
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "backend", *a], capture_output=True, text=True,
                                    cwd=ROOT, env=env, timeout=300)
    res = run("evaluate", "redgnn", "--model", str(out), "--split", "test")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["mrr"] == pytest.approx(card.metrics["test"]["mrr"], abs=1e-6)
    res = run("predict", "redgnn", "--model", str(out), "--query", "head=1", "relation=husband", "--top", "5")
    assert res.returncode == 0, res.stderr
    assert "score" in res.stdout
    ev_path = tmp_path / "ev.json"
    res = run("explain", "redgnn", "--model", str(out), "--query", "head=1", "relation=husband",
              "--output", str(ev_path))
    assert res.returncode == 0, res.stderr
    ev = json.loads(ev_path.read_text())
    assert ev["edges"] and ev["paths"] and ev["summary"]["r_digraph_edges"] >= len(ev["edges"])
    res = run("predict", "redgnn", "--model", str(out), "--query", "head=no-such-entity", "relation=husband")
    assert res.returncode == 2 and "unknown entity 'no-such-entity'" in res.stderr and "Traceback" not in res.stderr
