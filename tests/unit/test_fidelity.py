"""backend.core.fidelity on a model whose answer score is known in closed form, and the bootstrap ratio against
a brute-force computation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.core.fidelity import (
    FidelityResult,
    MaskableModel,
    bootstrap_ratio,
    deletion_curve_figure,
    measure_fidelity,
    prefix_masks,
    random_orders,
)


class AdditiveModel:
    """score = Σ of the weights of the edges kept; rank = 1 + how many of the fixed rival scores beat it."""

    def __init__(self, weights, rivals=(5.0, 1.0)):
        self.w = torch.tensor(weights, dtype=torch.float64)
        self.n_edges = len(weights)
        self.rivals = torch.tensor(rivals, dtype=torch.float64)
        self.calls = 0

    def rescore(self, removed):
        self.calls += 1
        score = (self.w * (~removed).double()).sum(1)
        rank = 1.0 + (self.rivals.unsqueeze(0) > score.unsqueeze(1)).sum(1).double()
        return score, rank


def test_protocol_and_closed_form_curves():
    model = AdditiveModel([4.0, 3.0, 2.0, 1.0, 0.0, 0.0])
    assert isinstance(model, MaskableModel)
    evidence = torch.tensor([0, 1, 2, 3])       # ranked by weight, as a faithful explanation would be
    candidates = torch.arange(6)
    res = measure_fidelity(model, evidence, candidates, k_max=4, draws=7, seed=3, ranking="weight")
    assert model.calls == 1  # one batch for every curve
    assert res.base_score == 10.0 and res.base_rank == 1.0
    assert res.deletion == [6.0, 3.0, 1.0, 0.0]                      # top-k removed
    assert [res.fidelity_plus(k) for k in (1, 2, 3, 4)] == [4.0, 7.0, 9.0, 10.0]
    assert res.sufficiency == [4.0, 7.0, 9.0, 10.0]                   # only top-k kept
    assert [res.fidelity_minus(k) for k in (1, 2, 3, 4)] == [6.0, 3.0, 1.0, 0.0]
    assert res.deletion_rank == [1.0, 2.0, 2.0, 3.0]
    # random draws: each a prefix of one random order of the candidates; brute force per draw
    orders = random_orders(candidates, 7, 4, 3)
    for d in range(7):
        for k in range(1, 5):
            kept = [i for i in range(6) if i not in orders[d, :k].tolist()]
            assert res.deletion_random[d][k - 1] == pytest.approx(float(model.w[kept].sum()))
            assert res.sufficiency_random[d][k - 1] == pytest.approx(float(model.w[orders[d, :k]].sum()))
    # the evidence beats random draws of the same subgraph at every k (the weights are sorted)
    assert all(res.fidelity_plus(k) >= res.fidelity_plus_random(k) for k in range(1, 5))
    assert "Removing these 2 facts drops the answer from rank 1 to rank 2" in res.sentence(2)
    again = FidelityResult.from_dict(res.to_dict())
    assert again.summary(3) == res.summary(3)
    fig = deletion_curve_figure(res)
    assert {t.name for t in fig.data} >= {"top-k evidence removed (weight)", "k random edges removed (mean)"}


def test_seeded_draws_are_deterministic_and_seed_dependent():
    cand = torch.arange(100, 140)
    a, b, c = random_orders(cand, 10, 10, 0), random_orders(cand, 10, 10, 0), random_orders(cand, 10, 10, 1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert all(len(set(row.tolist())) == 10 and set(row.tolist()) <= set(cand.tolist()) for row in a)
    model = AdditiveModel(list(np.linspace(0, 1, 140)))
    r1 = measure_fidelity(model, cand[:10], cand, seed=5)
    r2 = measure_fidelity(model, cand[:10], cand, seed=5)
    assert r1.deletion_random == r2.deletion_random and r1.sufficiency_random == r2.sufficiency_random


def test_prefix_masks_match_brute_force():
    orders = torch.tensor([[4, 1, 3], [0, 2, 5]])
    masks = prefix_masks(orders, [1, 2, 3, 5], 7)
    assert masks.shape == (8, 7)
    for i in range(2):
        for j, k in enumerate([1, 2, 3, 5]):
            want = torch.zeros(7, dtype=torch.bool)
            want[orders[i, :min(k, 3)]] = True
            assert torch.equal(masks[i * 4 + j], want)


def test_small_candidate_sets_and_base_row():
    model = AdditiveModel([1.0, 2.0])
    res = measure_fidelity(model, torch.tensor([1, 0]), torch.tensor([0, 1]), k_max=4, draws=3)
    assert res.ks == [1, 2, 3, 4] and res.deletion == [1.0, 0.0, 0.0, 0.0]  # k beyond the evidence: all removed
    assert res.n_candidates == 2 and res.n_evidence == 2


def test_bootstrap_ratio_against_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.gamma(3.0, size=80), rng.gamma(1.0, size=80)
    out = bootstrap_ratio(a, b, n_boot=500, seed=4)
    assert out["ratio"] == pytest.approx(a.mean() / b.mean())
    idx = np.random.default_rng(4).integers(0, 80, size=(500, 80))
    boots = a[idx].mean(1) / b[idx].mean(1)
    assert out["low"] == pytest.approx(np.quantile(boots, 0.025, method="inverted_cdf"))
    assert out["high"] == pytest.approx(np.quantile(boots, 0.975, method="inverted_cdf"))
    assert out["low"] <= out["ratio"] <= out["high"]
    assert bootstrap_ratio([1.0], [0.0])["ratio"] == float("inf")
    mixed = bootstrap_ratio([1.0, 1.0, 1.0], [0.5, -0.4, 0.0], n_boot=200)  # some resamples: mean random <= 0
    assert mixed["ratio"] == pytest.approx(30.0) and mixed["high"] == float("inf") and mixed["low"] > 0
