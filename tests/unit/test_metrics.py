"""Metrics against scikit-learn and brute-force Python references (ties everywhere)."""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from backend.core import metrics as M

SEEDS = [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- ranking references
def brute_ranks(scores, answer_mask, filter_mask, policy):
    """Loop reference: rank = 1 + #{s > s_t} + c * #{s == s_t} over unfiltered e != t."""
    c = {"average": 0.5, "optimistic": 0.0, "pessimistic": 1.0}[policy]
    out = []
    B, N = len(scores), len(scores[0])
    for b in range(B):
        for t in range(N):
            if not answer_mask[b][t]:
                continue
            gt = eq = 0
            for e in range(N):
                if e == t or filter_mask[b][e]:
                    continue
                if scores[b][e] > scores[b][t]:
                    gt += 1
                elif scores[b][e] == scores[b][t]:
                    eq += 1
            out.append(1 + gt + c * eq)
    return out


def random_ranking_case(seed, B=6, N=40, n_levels=5):
    g = np.random.default_rng(seed)
    scores = g.integers(0, n_levels, size=(B, N)).astype(np.float32)  # many ties
    answers = g.random((B, N)) < 0.15
    answers[0, :] = False  # a row without answers
    answers[1, g.integers(0, N)] = True
    # filter: all known answers plus some other known true entities; leave some answers unfiltered
    filt = answers | (g.random((B, N)) < 0.2)
    filt &= ~((g.random((B, N)) < 0.3) & answers)
    return scores, answers, filt


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("policy", M.TIE_POLICIES)
def test_filtered_ranks_match_brute_force(seed, policy):
    scores, answers, filt = random_ranking_case(seed)
    got = M.filtered_ranks(torch.from_numpy(scores), answers, filt, policy=policy)
    want = brute_ranks(scores.tolist(), answers.tolist(), filt.tolist(), policy)
    assert got.shape == (int(answers.sum()),)
    assert got.tolist() == pytest.approx(want, abs=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_filtered_ranks_without_filter_and_with_infinities(seed):
    g = np.random.default_rng(seed)
    levels = np.array([-np.inf, -1.0, 0.0, 2.5, np.inf])
    scores = levels[g.integers(0, 5, size=(4, 25))]
    answers = g.random((4, 25)) < 0.3
    filt = g.random((4, 25)) < 0.3  # filters include -inf-scored entities
    for policy in M.TIE_POLICIES:
        got = M.filtered_ranks(scores, answers, None, policy=policy).tolist()
        assert got == brute_ranks(scores.tolist(), answers.tolist(), np.zeros_like(answers).tolist(), policy)
        got = M.filtered_ranks(scores, answers, filt, policy=policy).tolist()
        assert got == brute_ranks(scores.tolist(), answers.tolist(), filt.tolist(), policy)


def test_filtered_ranks_integer_scores():
    scores = torch.tensor([[5, 2, 2, 7, 2]])
    answers = torch.tensor([[False, True, False, False, True]])
    filt = torch.tensor([[False, True, False, True, True]])
    # t=1: competitors {0:5, 2:2} -> 1 greater, 1 equal; t=4: same competitors
    assert M.filtered_ranks(scores, answers, filt, "average").tolist() == [2.5, 2.5]
    assert M.filtered_ranks(scores, answers, filt, "pessimistic").tolist() == [3.0, 3.0]


def test_hand_computed_example():
    scores = [[3.0, 1.0, 1.0, 1.0, 0.0]]
    answers = [[False, False, True, False, False]]
    filt = [[True, False, False, False, False]]
    # competitors of entity 2: e1 (1.0, tie), e3 (1.0, tie), e4 (0.0, below); e0 filtered
    assert M.filtered_ranks(scores, answers, filt, "average").tolist() == [2.0]
    assert M.filtered_ranks(scores, answers, filt, "optimistic").tolist() == [1.0]
    assert M.filtered_ranks(scores, answers, filt, "pessimistic").tolist() == [3.0]
    # unfiltered: e0 (3.0) is above -> every rank shifts by one
    assert M.filtered_ranks(scores, answers, None, "average").tolist() == [3.0]


def test_unreached_tie_block_kg_1_4():
    """kg.md 1.4: an unreached answer among U tied zeros gets (U+1)/2 (average), U (pessimistic)."""
    U = 7
    reached = [0.9, 0.5, 0.2]  # the three reached entities are other known answers -> filtered
    scores = torch.tensor([reached + [0.0] * U])
    answers = torch.zeros_like(scores, dtype=torch.bool)
    answers[0, 5] = True  # an unreached answer inside the zero block
    filt = torch.zeros_like(answers)
    filt[0, :3] = True
    filt[0, 5] = True
    rank = {p: M.filtered_ranks(scores, answers, filt, p).item() for p in M.TIE_POLICIES}
    assert rank == {"average": (U + 1) / 2, "optimistic": 1.0, "pessimistic": float(U)}
    # reached entities not filtered: they all sit above the block
    rank = {p: M.filtered_ranks(scores, answers, None, p).item() for p in M.TIE_POLICIES}
    assert rank == {"average": 3 + (U + 1) / 2, "optimistic": 4.0, "pessimistic": 3.0 + U}


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_chunking_is_identical(seed):
    g = np.random.default_rng(seed)
    B, N = 9, 3000
    scores = torch.from_numpy(g.integers(0, 20, size=(B, N)).astype(np.float32))
    answers = torch.from_numpy(g.random((B, N)) < 0.1)
    filt = answers | torch.from_numpy(g.random((B, N)) < 0.05)
    for policy in M.TIE_POLICIES:
        full = M.filtered_ranks(scores, answers, filt, policy, chunk_elements=B * N)
        for chunk in (1, N, 2 * N + 7, 4 * N):
            part = M.filtered_ranks(scores, answers, filt, policy, chunk_elements=chunk)
            assert torch.equal(full, part)


def test_order_is_row_major():
    scores = torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    answers = torch.tensor([[True, False, True], [True, True, False]])
    got = M.filtered_ranks(scores, answers, None, "average").tolist()
    assert got == [3.0, 1.0, 1.0, 2.0]  # (0,0), (0,2), (1,0), (1,1)


def test_nan_raises_and_bad_policy():
    scores = torch.tensor([[0.1, float("nan"), 0.3]])
    answers = torch.tensor([[True, False, False]])
    with pytest.raises(ValueError, match="NaN"):
        M.filtered_ranks(scores, answers)
    with pytest.raises(ValueError, match="tie policy"):
        M.filtered_ranks(torch.zeros(1, 3), answers, policy="random")
    with pytest.raises(ValueError, match="shape"):
        M.filtered_ranks(torch.zeros(1, 3), torch.zeros(1, 4, dtype=torch.bool))


def test_empty_answers():
    out = M.filtered_ranks(torch.zeros(2, 5), torch.zeros(2, 5, dtype=torch.bool))
    assert out.shape == (0,)


@pytest.mark.parametrize("seed", SEEDS)
def test_ranks_from_target(seed):
    g = np.random.default_rng(seed)
    scores = g.integers(0, 4, size=(7, 15)).astype(np.float64)
    target = g.integers(0, 15, size=7)
    filt = g.random((7, 15)) < 0.3
    answers = np.zeros((7, 15), dtype=bool)
    answers[np.arange(7), target] = True
    for policy in M.TIE_POLICIES:
        got = M.ranks_from_target(scores, target, filt, policy).tolist()
        assert got == brute_ranks(scores.tolist(), answers.tolist(), filt.tolist(), policy)


def test_ranking_metrics_and_accumulator():
    ranks = [1.0, 2.0, 3.5, 10.0, 11.0, 1.0]
    want = {
        "mrr": sum(1 / r for r in ranks) / 6,
        "mr": sum(ranks) / 6,
        "hits@1": 2 / 6,
        "hits@3": 3 / 6,
        "hits@10": 5 / 6,
    }
    got = M.ranking_metrics(torch.tensor(ranks))
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-12)
    acc = M.RankingAccumulator()
    acc.add(torch.tensor(ranks[:2]))
    acc.add(np.array([]))
    acc.add(ranks[2:])
    assert acc.count == 6
    res = acc.result()
    for key in want:
        assert res[key] == pytest.approx(want[key], abs=1e-12)
    with pytest.raises(ValueError):
        M.RankingAccumulator().result()
    with pytest.raises(ValueError):
        M.ranking_metrics([])


# --------------------------------------------------------------------------- binary scores
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_levels", [3, 10, 1000])
def test_roc_auc_and_pr_auc_match_sklearn(seed, n_levels):
    g = np.random.default_rng(seed)
    n = 300
    y = g.integers(0, 2, size=n)
    s = g.integers(0, n_levels, size=n).astype(np.float64) + 0.3 * y  # ties plus some signal
    assert M.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-6)
    assert M.pr_auc(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-6)
    # tensors and bool labels give the same
    assert M.roc_auc(torch.from_numpy(y.astype(bool)), torch.from_numpy(s)) == pytest.approx(
        skm.roc_auc_score(y, s), abs=1e-6
    )


def test_pr_auc_all_tied_and_all_positive():
    y = np.array([0, 1, 1, 0, 1])
    s = np.zeros(5)
    assert M.pr_auc(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert M.roc_auc(y, s) == pytest.approx(0.5)
    assert M.pr_auc([1, 1, 1], [0.2, 0.1, 0.2]) == pytest.approx(1.0)


def test_single_class_and_nan_raise():
    with pytest.raises(ValueError, match="one class"):
        M.roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="positive"):
        M.pr_auc([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        M.roc_auc([0, 1, 1], [0.1, float("nan"), 0.3])
    with pytest.raises(ValueError, match="binary"):
        M.roc_auc([0, 1, 2], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics(seed):
    g = np.random.default_rng(seed)
    y = g.integers(0, 2, size=200)
    p = np.round(g.random(200), 1)  # probabilities with ties, some exactly 0.5
    pred = (p >= 0.5).astype(int)
    got = M.binary_metrics(y, p)
    assert got.keys() == {"roc_auc", "pr_auc", "accuracy", "f1"}
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-6)
    assert got["pr_auc"] == pytest.approx(skm.average_precision_score(y, p), abs=1e-6)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, zero_division=0), abs=1e-12)


# --------------------------------------------------------------------------- labels
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_classes", [2, 5, 12])
def test_label_metrics_match_sklearn(seed, n_classes):
    g = np.random.default_rng(seed)
    n = 150
    y = g.integers(0, n_classes, size=n)
    p = np.where(g.random(n) < 0.5, y, g.integers(0, n_classes + 2, size=n))  # extra labels in pred
    assert M.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p), abs=1e-12)
    assert M.f1_macro(y, p) == pytest.approx(skm.f1_score(y, p, average="macro", zero_division=0), abs=1e-6)
    assert M.cohen_kappa(y, p) == pytest.approx(skm.cohen_kappa_score(y, p), abs=1e-6)
    logits = g.normal(size=(n, n_classes))
    logits[np.arange(n), y] += 1.0
    pred = logits.argmax(1)
    got = M.multiclass_metrics(torch.from_numpy(y), torch.from_numpy(logits))
    assert got == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y, pred),
            "f1": skm.f1_score(y, pred, average="macro", zero_division=0),
            "kappa": skm.cohen_kappa_score(y, pred),
        },
        abs=1e-6,
    )
    assert M.multiclass_metrics(y, pred) == pytest.approx(got, abs=1e-12)


def test_f1_n_classes_validates_and_kappa_undefined():
    assert M.f1_macro([0, 1, 2], [0, 1, 1], n_classes=3) == pytest.approx(
        skm.f1_score([0, 1, 2], [0, 1, 1], average="macro", zero_division=0)
    )
    with pytest.raises(ValueError):
        M.f1_macro([0, 1, 3], [0, 1, 1], n_classes=3)
    assert math.isnan(M.cohen_kappa([1, 1, 1], [1, 1, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(skm.cohen_kappa_score([1, 1, 1], [1, 1, 1]))


# --------------------------------------------------------------------------- regression
@pytest.mark.parametrize("seed", SEEDS)
def test_regression_match_sklearn(seed):
    g = np.random.default_rng(seed)
    y = g.integers(0, 5, size=80).astype(np.float64)
    p = y + g.normal(size=80)
    assert M.mse(y, p) == pytest.approx(skm.mean_squared_error(y, p), abs=1e-9)
    assert M.mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p), abs=1e-9)
    assert M.r2(y, p) == pytest.approx(skm.r2_score(y, p), abs=1e-9)
    y2, p2 = g.normal(size=(50, 3)), g.normal(size=(50, 3))
    assert M.r2(torch.from_numpy(y2), p2) == pytest.approx(skm.r2_score(y2, p2), abs=1e-9)
    assert M.mse(y2, p2) == pytest.approx(skm.mean_squared_error(y2, p2), abs=1e-9)


def test_r2_constant_target():
    assert M.r2([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == skm.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    assert M.r2([2.0, 2.0, 2.0], [2.0, 1.0, 2.0]) == skm.r2_score([2.0, 2.0, 2.0], [2.0, 1.0, 2.0]) == 0.0


# --------------------------------------------------------------------------- NDCG
def brute_ndcg(rel, score, k):
    """Average DCG over every ordering of tied scores, divided by the ideal DCG."""

    def dcg(order):
        return sum(rel[i] / math.log2(p + 2) for p, i in enumerate(order) if k is None or p < k)

    blocks = [[i for i in range(len(score)) if score[i] == v] for v in sorted(set(score), reverse=True)]
    total = count = 0
    for perms in itertools.product(*(itertools.permutations(b) for b in blocks)):
        total += dcg([i for block in perms for i in block])
        count += 1
    ideal = dcg(sorted(range(len(rel)), key=lambda i: -rel[i]))
    return 0.0 if ideal == 0 else total / count / ideal


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3, 5, None])
def test_ndcg_single_query(seed, k):
    g = np.random.default_rng(seed)
    rel = g.integers(0, 4, size=7).astype(float)
    score = g.integers(0, 3, size=7).astype(float)  # heavy ties
    want = skm.ndcg_score(rel[None], score[None], k=k)
    assert M.ndcg_at_k(rel, score, k) == pytest.approx(want, abs=1e-6)
    assert M.ndcg_at_k(rel, score, k) == pytest.approx(brute_ndcg(rel.tolist(), score.tolist(), k), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_ndcg_groups(seed):
    g = np.random.default_rng(seed)
    rel = g.integers(0, 3, size=(6, 9)).astype(float)
    rel[2] = 0  # a query without relevant items counts as 0 (like sklearn)
    score = g.integers(0, 4, size=(6, 9)).astype(float)
    assert M.mean_ndcg_at_k(rel, score, k=3) == pytest.approx(skm.ndcg_score(rel, score, k=3), abs=1e-6)
    # unequal groups, shuffled order, non-contiguous ids == mean of per-group ndcg_at_k
    sizes = [1, 4, 7, 2, 5]
    group = np.repeat(np.array([10, 3, 7, 42, 5]), sizes)
    n = len(group)
    r, s = g.integers(0, 3, size=n).astype(float), g.integers(0, 3, size=n).astype(float)
    perm = g.permutation(n)
    want = np.mean([M.ndcg_at_k(r[group == q], s[group == q], 3) for q in np.unique(group)])
    assert M.mean_ndcg_at_k(r[perm], s[perm], group[perm], k=3) == pytest.approx(want, abs=1e-12)
    want_brute = np.mean([brute_ndcg(r[group == q].tolist(), s[group == q].tolist(), 3) for q in np.unique(group)])
    assert want == pytest.approx(want_brute, abs=1e-9)


def test_ndcg_bad_input():
    with pytest.raises(ValueError):
        M.ndcg_at_k([1, -1, 0], [0.1, 0.2, 0.3], 2)
    with pytest.raises(ValueError):
        M.ndcg_at_k([1, 0, 0], [0.1, 0.2, 0.3], 0)
