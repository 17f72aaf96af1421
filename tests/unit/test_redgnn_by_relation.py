"""Test quality per query relation: the rows add up to the card, each row equals an evaluation restricted to
that relation, training-query counts follow the training recipe, the saved file belongs to its weights."""
from __future__ import annotations

import json
import math
import os
import shutil

import pandas as pd
import pytest
import torch

from backend.cli import main
from backend.core import store
from backend.core.metrics import RANKING_RULE
from backend.core.viz import group_quality_figure
from backend.methods.redgnn import by_relation
from backend.methods.redgnn.explain import load_model
from backend.methods.redgnn.train import EvalTask, evaluate_task, load_data

GPU_ONLY = ("fb15k-237",)  # scripts/reevaluate_redgnn_cards.py: re-ranking takes hours on a CPU

pytestmark = [pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set"),
              pytest.mark.slow]  # checkpoints ranked or trained: minutes


@pytest.fixture(scope="module")
def umls_frame(umls):
    return by_relation.metrics_by_relation(umls)


def _weighted(frame: pd.DataFrame, column: str) -> float:
    return float((frame[column] * frame["answers"]).sum() / frame["answers"].sum())


def test_rows_add_up_to_the_cards_test_metrics(umls, umls_frame):
    test = umls.card.flat_metrics("test")
    for column, key in (("mrr", "mrr"), ("hits@1", "hits@1"), ("hits@10", "hits@10"), ("nbfnet_mrr", "nbfnet_mrr")):
        assert _weighted(umls_frame, column) == pytest.approx(test[key], abs=1e-9), column
    assert umls_frame["answers"].sum() == 2 * len(umls.kg.test)  # tail and head answer of every test triple
    assert umls_frame["share"].sum() == pytest.approx(1.0)
    assert umls_frame["answers"].is_monotonic_decreasing
    fully_reached = umls_frame["reached"] == 1.0
    assert fully_reached.any()
    assert umls_frame.loc[fully_reached, "reached_mrr"].tolist() == pytest.approx(
        umls_frame.loc[fully_reached, "mrr"].tolist(), abs=1e-12)


def test_a_row_equals_the_evaluation_of_that_relation_alone(umls, umls_frame):
    """The inverse direction of the biggest relation, evaluated on its own queries only."""
    kg, _ = load_data("umls")
    row = umls_frame.iloc[1]
    r = int(row["relation_id"])
    base = r % kg.n_rel
    task = EvalTask.build(kg, torch.cat([kg.facts, kg.train]), kg.test[kg.test[:, 1] == base], umls.device)
    task.queries = task.queries[task.queries[:, 1] == r]
    alone = evaluate_task(umls.model, task, 50, policies=("average",))["average"]
    assert row["mrr"] == pytest.approx(alone["mrr"], abs=1e-12)
    assert row["hits@10"] == pytest.approx(alone["hits@10"], abs=1e-12)
    assert row["relation"] == f"inverse of {kg.relation_label(base)}"


def test_training_queries_follow_the_recipe(umls_frame):
    """Transductive training re-splits facts ∪ train, each triple asked in both directions; RED-GNN's
    inductive training asks only the training graph's valid triples, its re-split variant all of them."""
    kg, _ = load_data("umls")
    counts = by_relation.training_query_counts(kg, resplits=True)
    assert counts.sum().item() == 2 * (len(kg.facts) + len(kg.train))
    row = umls_frame.iloc[0]
    r = int(row["relation_id"])
    pool = torch.cat([kg.facts, kg.train])
    assert row["training_queries"] == int((pool[:, 1] == r % kg.n_rel).sum())
    kg_ind, _ = load_data("nell_v1")
    ind_counts = by_relation.training_query_counts(kg_ind, resplits=False)
    assert ind_counts.sum().item() == 2 * len(kg_ind.train)
    assert by_relation.training_query_counts(kg_ind, resplits=True).sum().item() == \
        2 * (len(kg_ind.facts) + len(kg_ind.train))
    assert ind_counts[: kg_ind.n_rel].tolist() == torch.bincount(kg_ind.train[:, 1], minlength=kg_ind.n_rel).tolist()


def test_breakdown_summary():
    frame = pd.DataFrame({"relation": ["a", "b", "c"], "answers": [6, 3, 1], "mrr": [0.5, 1.0, 0.0],
                          "training_queries": [100, 2, 0], "reached": [1.0, 0.5, 0.0],
                          "reached_mrr": [0.5, 1.0, float("nan")]})
    summary = by_relation.breakdown_summary(frame)
    assert summary["reached"] == pytest.approx(0.75)
    assert summary["reached_mrr"] == pytest.approx((6 * 0.5 + 1.5 * 1.0) / 7.5)
    assert summary["unreached_mrr"] == pytest.approx((6 * 0.5 + 3 * 1.0 - 4.5) / 2.5)
    assert summary["rare_share"] == pytest.approx(0.4)
    assert summary["rare_mrr"] == pytest.approx(3.0 / 4)
    assert summary["other_mrr"] == pytest.approx(0.5)
    none_rare = by_relation.breakdown_summary(frame.assign(training_queries=10))
    assert none_rare["rare_share"] == 0 and math.isnan(none_rare["rare_mrr"])


def test_saved_breakdown_belongs_to_its_weights(umls_frame, tmp_path):
    folder = tmp_path / "umls"
    shutil.copytree(store.MODELS_DIR / "redgnn" / "umls", folder)
    (folder / by_relation.FILE_NAME).unlink(missing_ok=True)
    assert by_relation.load_saved(folder) is None
    by_relation.save(umls_frame, folder)
    pd.testing.assert_frame_equal(by_relation.load_saved(folder), umls_frame[by_relation.COLUMNS])
    assert by_relation.load_saved(folder, split="valid") is None
    with open(folder / "model.pt", "ab") as f:  # other weights: the saved rows no longer apply
        f.write(b"\0")
    assert by_relation.load_saved(folder) is None


def test_shipped_breakdowns_are_current():
    """Every by_relation.json shipped beside a checkpoint was computed from those very weights."""
    saved = sorted((store.MODELS_DIR / "redgnn").glob(f"*/{by_relation.FILE_NAME}"))
    if not saved:
        pytest.skip("no breakdown shipped")
    for path in saved:
        frame = by_relation.load_saved(path.parent)
        assert frame is not None, f"{path} is stale: python scripts/relation_breakdowns.py {path.parent.name}"
        card = store.load_card(path.parent)
        if frame.attrs["ranking_rule"] != RANKING_RULE:  # re-ranked on a GPU only (benchmarks/gpu_redgnn.sh)
            assert path.parent.name in GPU_ONLY and "ranking" not in card.extras, path
            continue
        # the same ranks as the card's (float64 scores, tie rule); a weighted mean of per-relation means: rounding
        assert _weighted(frame, "mrr") == pytest.approx(card.metrics["test"]["mrr"], abs=1e-9), path


def test_cli_breakdown_and_metrics_files(tmp_path, capsys):
    out = tmp_path / "by-relation.csv"
    assert main(["evaluate", "redgnn", "--dataset", "umls", "--breakdown", "--output", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == by_relation.COLUMNS and frame["answers"].sum() > 0
    assert "one per query relation" in capsys.readouterr().out
    metrics = tmp_path / "metrics.json"
    assert main(["evaluate", "redgnn", "--dataset", "umls", "--output", str(metrics)]) == 0
    card = load_model(store.MODELS_DIR / "redgnn" / "umls", "cpu").card
    assert json.loads(metrics.read_text())["mrr"] == pytest.approx(card.metrics["test"]["mrr"], abs=1e-9)


def test_group_quality_figure_draws_zero_counts_at_the_left_edge():
    frame = pd.DataFrame({"relation": ["never asked", "often"], "training_queries": [0, 1500], "mrr": [0.1, 0.9],
                          "answers": [40, 10]})
    fig = group_quality_figure(frame)
    trace = fig.data[0]
    assert list(trace.x) == [0.5, 1500] and list(trace.text) == ["never asked", "often"]
    assert fig.layout.xaxis.ticktext[0] == "0" and fig.layout.xaxis.tickvals[0] == 0.5
    assert fig.layout.xaxis.ticktext[-1] == "10,000"  # one decade above the largest count
    assert trace.marker.size[0] > trace.marker.size[1]
    assert group_quality_figure(frame.iloc[:0]).layout.annotations[0].text == "Nothing to show."
    # counts within one decade (family: 948-3,029) get 2 and 5 ticks too, so more than one label shows
    narrow = frame.assign(training_queries=[948, 3029])
    ticks = list(group_quality_figure(narrow).layout.xaxis.ticktext)
    assert {"1,000", "2,000", "5,000"} <= set(ticks) and "500" in ticks


def test_script_writes_the_breakdown_once(tmp_path, capsys):
    from scripts.relation_breakdowns import main as write_breakdowns

    folder = tmp_path / "umls"
    shutil.copytree(store.MODELS_DIR / "redgnn" / "umls", folder)
    (folder / by_relation.FILE_NAME).unlink(missing_ok=True)
    assert write_breakdowns([str(folder)]) == 0
    assert "umls: 72 relations" in capsys.readouterr().out  # umls has 46 relations; 72 of the 92 have test answers
    assert by_relation.load_saved(folder) is not None
    assert write_breakdowns([str(folder)]) == 0
    assert capsys.readouterr().out.strip() == "umls: current"
