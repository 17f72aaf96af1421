"""The README table generator reads the shipped cards."""
from __future__ import annotations

from backend.core import store


def test_checkpoint_table_has_one_row_per_redgnn_card_with_its_numbers():
    from scripts.checkpoint_table import checkpoint_rows

    cards = [c for c in store.list_cards() if c.method == "redgnn"]
    rows = checkpoint_rows("redgnn")
    assert len(rows) == len(cards) + 2
    family = next(c for c in cards if c.dataset == "family")
    row = next(r for r in rows if r.startswith("| family |"))
    assert f"| {family.metrics['test']['mrr']:.3f} |" in row
    assert "| 0.992 |" in row  # the WWW 2022 paper's family MRR


def test_seeds_report_gives_mean_and_sample_std_of_the_runs_so_far():
    """benchmarks/redgnn_seeds.py writes this report after each seed, so a stopped run keeps what it finished."""
    import importlib.util

    import pytest
    import torch

    from backend.methods.redgnn.config import config_for

    spec = importlib.util.spec_from_file_location("redgnn_seeds", store.PROJECT_ROOT / "benchmarks" / "redgnn_seeds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runs = [{"seed": s, "test": {"mrr": m, "hits@1": m - 0.1, "hits@10": m + 0.1, "nbfnet_mrr": m}}
            for s, m in ((1234, 0.46), (1, 0.47), (2, 0.51))]
    one = module.report("fb237_v1", torch.device("cpu"), config_for("fb237_v1"), runs[:1])
    assert one["n_seeds"] == 1 and one["test"]["mrr"] == {"mean": 0.46, "std": 0.0}
    three = module.report("fb237_v1", torch.device("cpu"), config_for("fb237_v1"), runs)
    assert three["test"]["mrr"]["mean"] == pytest.approx(0.48)
    assert three["test"]["mrr"]["std"] == pytest.approx(0.026458, abs=1e-6)  # sample std of .46 .47 .51
    assert "seed" not in three["config"] and "output" not in three["config"]
