"""The README table generator reads the shipped cards; the benchmark scripts summarise what they measure."""
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
    import pytest
    import torch

    from backend.methods.redgnn.config import config_for

    module = _benchmark_module("redgnn_seeds")
    runs = [{"seed": s, "test": {"mrr": m, "hits@1": m - 0.1, "hits@10": m + 0.1, "nbfnet_mrr": m}}
            for s, m in ((1234, 0.46), (1, 0.47), (2, 0.51))]
    one = module.report("fb237_v1", torch.device("cpu"), config_for("fb237_v1"), runs[:1])
    assert one["n_seeds"] == 1 and one["test"]["mrr"] == {"mean": 0.46, "std": 0.0}
    three = module.report("fb237_v1", torch.device("cpu"), config_for("fb237_v1"), runs)
    assert three["test"]["mrr"]["mean"] == pytest.approx(0.48)
    assert three["test"]["mrr"]["std"] == pytest.approx(0.026458, abs=1e-6)  # sample std of .46 .47 .51
    assert "seed" not in three["config"] and "output" not in three["config"]


def _benchmark_module(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, store.PROJECT_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_interactive_benchmark_reports_median_and_nearest_rank_p90_in_ms_on_fixed_queries():
    import torch

    module = _benchmark_module("redgnn_interactive")
    seconds = [0.001 * k for k in (10, 1, 9, 2, 8, 3, 7, 4, 6, 5)]
    assert module.quantiles_ms(seconds) == {"median_ms": 5.5, "p90_ms": 9.0, "n": 10}
    assert module.quantiles_ms([0.25]) == {"median_ms": 250.0, "p90_ms": 250.0, "n": 1}
    test = torch.arange(30).reshape(10, 3)
    picked = module.sample_queries(test, 4)
    assert picked == module.sample_queries(test, 4) and len(set(picked)) == 4
    assert all(h % 3 == 0 and r == h + 1 and t == h + 2 for h, r, t in picked)


def test_entity_id_tie_ranks_equal_the_original_codes_pre_2022_ordinal_metric():
    """benchmarks/redgnn_index_ties.py reproduces RED-GNN's old cal_ranks (scipy rankdata 'ordinal'), written
    out here as the original did it, on random tied scores; and it differs from the average ties."""
    import numpy as np
    import torch
    from scipy.stats import rankdata

    module = _benchmark_module("redgnn_index_ties")
    generator = torch.Generator().manual_seed(0)
    differs = 0
    for _ in range(50):
        scores = torch.randint(-2, 3, (4, 15), generator=generator).float()
        answers = torch.rand(4, 15, generator=generator) < 0.2
        answers[:, 3] |= ~answers.any(dim=1)
        known = answers | (torch.rand(4, 15, generator=generator) < 0.2)
        shifted = scores.numpy() - scores.numpy().min(axis=1, keepdims=True) + 1e-8
        full_rank = rankdata(-shifted, method="ordinal", axis=1)
        filter_rank = rankdata(-shifted * known.numpy(), method="ordinal", axis=1)
        expected = (full_rank - filter_rank + 1)[answers.numpy()]
        ranks = module.index_tie_ranks(scores, answers, known)
        np.testing.assert_array_equal(ranks.numpy(), expected)
        average = module.filtered_ranks(scores, answers, known, policy="average")
        differs += int(not torch.equal(ranks, average))
    assert differs > 25


def test_test_graph_holdout_folds_are_disjoint_cover_enough_facts_and_never_read_test_triples():
    """benchmarks/redgnn_inductive_selection.py: each fold ranks its held-out facts over the other facts of the
    inductive graph; folds are disjoint, at least min_held_out facts are ranked, only facts are known."""
    import importlib

    import torch

    module = _benchmark_module("redgnn_inductive_selection")
    redgnn_train = importlib.import_module("backend.methods.redgnn.train")
    _, kg_ind = redgnn_train.load_data("nell_v1")
    facts = kg_ind.facts
    folds = module.holdout_folds(facts, 0.1, min_held_out=200)
    fold_size = round(0.1 * len(facts))
    assert len(folds) == 3 and 3 * fold_size >= 200

    def keys(triples):
        return set((triples[:, 0] * 10**6 + triples[:, 1] * 10**3 + triples[:, 2]).tolist())

    seen: set = set()
    for held, kept in folds:
        assert len(held) == fold_size and len(held) + len(kept) == len(facts)
        assert keys(held) | keys(kept) == keys(facts) and not keys(held) & seen
        seen |= keys(held)
    assert torch.equal(module.holdout_folds(facts, 0.1)[0][0], folds[0][0])  # fold 1 does not depend on the count

    tasks, n_held, n_facts = module.holdout_tasks("nell_v1", 0.1, min_held_out=200)
    assert (len(tasks), n_held, n_facts) == (3, 3 * fold_size, len(facts))
    task, (held, kept) = tasks[0], folds[0]
    heads, rels = task.queries[:, 0], task.queries[:, 1]
    n_known = int(task.known.mask(heads, rels).sum())
    full = redgnn_train.EvalTask.build(kg_ind, facts, held, "cpu")  # its filter holds the test triples too
    assert n_known == int(redgnn_train.EvalTask.build(
        type(kg_ind)(**{**kg_ind.__dict__, "test": facts[:0], "valid": facts[:0]}), facts, held, "cpu"
    ).known.mask(heads, rels).sum())
    assert n_known < int(full.known.mask(heads, rels).sum())
    assert int(task.answers.mask(heads, rels).sum()) == 2 * len(held)


def test_own_graph_benchmark_uploads_every_triple_of_the_dataset(data_root, tmp_path, monkeypatch):
    """benchmarks/kg_own_graph.py writes a dataset's splits as one table; imported, it holds them all."""
    from backend.kg.loader import load_redgnn_layout
    from backend.kg.user_graphs import import_graph
    from benchmarks.kg_own_graph import dataset_tsv

    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("PARSIMONY_GRAPHS", raising=False)
    kg = load_redgnn_layout("umls", data_root, with_labels=False)
    n = sum(len(getattr(kg, s)) for s in ("facts", "train", "valid", "test"))
    assert dataset_tsv("umls", tmp_path / "umls.tsv") == n
    report = import_graph(tmp_path / "umls.tsv", "umls-own")
    assert sum(report.splits.values()) + report.duplicates == n and not report.problem_rows
    assert (report.entities, report.relations) == (kg.n_ent, kg.n_rel)
