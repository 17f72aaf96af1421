"""Evaluation metrics computed on the device with vectorised torch.

Inputs may be torch tensors, NumPy arrays or lists; scalar metrics return Python floats and are
computed on the device of the first tensor argument. Metric names in the returned dicts are
lower-case as cards show them: mrr, mr, hits@k, accuracy, f1, kappa, roc_auc, pr_auc.

Ranking (knowledge-graph link prediction, see kg.md 1.4):
    rank(t) = 1 + #{e in C : s_e > s_t + tol_t} + c * #{e in C : |s_e - s_t| <= tol_t}
    C = entities that are not filtered and != t;  c = 0.5 (average), 0 (optimistic), 1 (pessimistic);
    tol_t = TIE_TOLERANCE * max(1, |s_t|) for floating-point scores, 0 for integers.
Why a tolerance: scores that are equal in exact arithmetic (entities a model reaches by identical paths) come
out of matrix kernels a few units in the last place apart, and which way they differ depends on the batch's
make-up, the thread count and the machine. Models rank in float64 (summation noise ~1e-14 relative), so a
tolerance of 1e-9 makes every such tie a tie on every machine and batch size, while it stays far below any
difference a float32-trained model can express (float32's resolution is ~1e-7).
The classification / regression metrics reproduce scikit-learn (ties included).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray, Sequence]

TIE_POLICIES = ("average", "optimistic", "pessimistic")
#: relative tolerance under which two floating-point scores are tied (module docstring)
TIE_TOLERANCE = 1e-9
#: the rule in words, recorded beside saved ranks so results of an older rule are recognised
RANKING_RULE = f"float64 scores; ties within {TIE_TOLERANCE:g} relative"
_TIE_WEIGHT = {"average": 0.5, "optimistic": 0.0, "pessimistic": 1.0}

# Default bound on rows x entities materialised at once by `filtered_ranks` (~16.8M elements).
DEFAULT_CHUNK_ELEMENTS = 1 << 24


# --------------------------------------------------------------------------- helpers
def _as_tensor(x: ArrayLike, device: torch.device | None = None) -> torch.Tensor:
    """Tensor view of `x` (no copy for tensors already on `device`)."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        t = torch.as_tensor(np.asarray(x))
    return t if device is None else t.to(device)


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Two tensors on the same device (the first tensor's), same length, flattened to [n]."""
    device = a.device if isinstance(a, torch.Tensor) else (b.device if isinstance(b, torch.Tensor) else None)
    ta, tb = _as_tensor(a, device).reshape(-1), _as_tensor(b, device).reshape(-1)
    if ta.numel() != tb.numel():
        raise ValueError(f"inputs have different lengths: {ta.numel()} and {tb.numel()}")
    if ta.numel() == 0:
        raise ValueError("inputs are empty")
    return ta, tb


def _check_finite_scores(scores: torch.Tensor, name: str = "scores") -> None:
    if scores.is_floating_point() and bool(torch.isnan(scores).any()):
        raise ValueError(f"{name} contain NaN")


def _binary_labels(y_true: torch.Tensor) -> torch.Tensor:
    """Bool [n] of positives; the larger of exactly two distinct values is the positive class."""
    values = torch.unique(y_true)
    if values.numel() > 2:
        raise ValueError(f"y_true must be binary, got {values.numel()} distinct values")
    if values.numel() < 2:
        raise ValueError(
            f"only one class ({values[0].item()!r}) present in y_true; the metric is undefined"
        )
    return y_true == values[1]


def _segment_sum(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """Sum `values` [m] into `n` bins given by `index` [m]."""
    return torch.zeros(n, dtype=values.dtype, device=values.device).index_add_(0, index, values)


# --------------------------------------------------------------------------- ranking
def filtered_ranks(
    scores: ArrayLike,
    answer_mask: ArrayLike,
    filter_mask: ArrayLike | None = None,
    policy: str = "average",
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    tie_tolerance: float = TIE_TOLERANCE,
) -> torch.Tensor:
    """Filtered rank of every answer.

    scores [B, N] float; answer_mask [B, N] bool (answers to rank, several per row allowed);
    filter_mask [B, N] bool or None (known true entities removed from the competition; the
    ranked answer never competes with itself). Returns float64 ranks [K], K = answer_mask.sum(),
    in row-major order (the order of answer_mask.nonzero()), on the device of `scores`.

    Rows are processed in chunks of at most `chunk_elements` // N rows: each chunk sorts its
    competitor scores once and binary-searches every score of the chunk, so memory is
    O(rows_per_chunk x N) whatever the number of answers. NaN scores raise ValueError. Two scores are
    tied when they differ by at most ``tie_tolerance * max(1, |s_t|)`` (module docstring; 0: exact equality).
    """
    if policy not in _TIE_WEIGHT:
        raise ValueError(f"unknown tie policy {policy!r}; choose one of {TIE_POLICIES}")
    s = _as_tensor(scores)
    if s.dim() != 2:
        raise ValueError(f"scores must be [batch, n_entities], got shape {tuple(s.shape)}")
    if s.dtype == torch.bool:
        s = s.to(torch.float32)
    _check_finite_scores(s)
    device = s.device
    ans = _as_tensor(answer_mask, device).to(torch.bool)
    filt = (
        torch.zeros_like(ans) if filter_mask is None else _as_tensor(filter_mask, device).to(torch.bool)
    )
    if ans.shape != s.shape or filt.shape != s.shape:
        raise ValueError(
            f"shape mismatch: scores {tuple(s.shape)}, answer_mask {tuple(ans.shape)}, "
            f"filter_mask {tuple(filt.shape)}"
        )
    B, N = s.shape
    c = _TIE_WEIGHT[policy]
    # Filtered entries are replaced by the dtype's lowest value; the equal-count is corrected
    # below when a ranked score equals that sentinel itself.
    low = -math.inf if s.is_floating_point() else torch.iinfo(s.dtype).min
    rows_per_chunk = max(1, int(chunk_elements) // max(N, 1))
    out: list[torch.Tensor] = []
    for start in range(0, B, rows_per_chunk):  # loop over row chunks, not items
        sl = slice(start, min(start + rows_per_chunk, B))
        a = ans[sl]
        if not bool(a.any()):
            continue
        sc, fl = s[sl], filt[sl]
        competitors = torch.sort(sc.masked_fill(fl, low), dim=1).values  # [r, N] ascending
        tol = _tie_band(sc, tie_tolerance)
        n_gt = N - torch.searchsorted(competitors, sc + tol, right=True)  # [r, N]: # > s_t + tol
        n_ge = N - torch.searchsorted(competitors, sc - tol, right=False)  # [r, N]: # >= s_t - tol
        n_eq = n_ge - n_gt
        n_eq = n_eq - (~fl).long()  # t itself, when not filtered, sits in its own tie block
        n_filtered = fl.sum(dim=1, keepdim=True)
        n_eq = n_eq - torch.where(sc == low, n_filtered, torch.zeros_like(n_filtered))
        ranks = 1.0 + n_gt[a].to(torch.float64) + c * n_eq[a].to(torch.float64)
        out.append(ranks)
    if not out:
        return torch.empty(0, dtype=torch.float64, device=device)
    return torch.cat(out)


def _tie_band(scores: torch.Tensor, tie_tolerance: float) -> torch.Tensor | float:
    """Per score, the half-width of its tie band: tie_tolerance * max(1, |s|) (0 for integers and infinities)."""
    if not scores.is_floating_point() or tie_tolerance <= 0:
        return 0
    band = tie_tolerance * scores.abs().clamp_min(1.0)
    return torch.where(torch.isfinite(scores), band, torch.zeros_like(band))


def ranks_from_target(
    scores: ArrayLike,
    target: ArrayLike,
    filter_mask: ArrayLike | None = None,
    policy: str = "average",
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    tie_tolerance: float = TIE_TOLERANCE,
) -> torch.Tensor:
    """Filtered ranks [B] for one answer per row: scores [B, N], target [B] long entity ids."""
    s = _as_tensor(scores)
    tgt = _as_tensor(target, s.device).long().reshape(-1)
    if s.dim() != 2 or tgt.numel() != s.shape[0]:
        raise ValueError(f"need scores [B, N] and target [B]; got {tuple(s.shape)} and {tuple(tgt.shape)}")
    ans = torch.zeros(s.shape, dtype=torch.bool, device=s.device)
    ans[torch.arange(s.shape[0], device=s.device), tgt] = True
    return filtered_ranks(s, ans, filter_mask, policy, chunk_elements, tie_tolerance)


def target_ranks(
    scores: ArrayLike,
    target: ArrayLike,
    filter_mask: ArrayLike | None = None,
    policy: str = "average",
    tie_tolerance: float = TIE_TOLERANCE,
) -> torch.Tensor:
    """The same ranks as :func:`ranks_from_target` (one answer per row, same tie rule), by counting instead of
    sorting: O(B x N) comparisons, no sort -- the fast path when every row ranks a single answer (embedding
    models' 1-vs-all evaluation). scores [B, N], target [B] -> float64 ranks [B]."""
    if policy not in _TIE_WEIGHT:
        raise ValueError(f"unknown tie policy {policy!r}; choose one of {TIE_POLICIES}")
    s = _as_tensor(scores)
    tgt = _as_tensor(target, s.device).long().reshape(-1)
    if s.dim() != 2 or tgt.numel() != s.shape[0]:
        raise ValueError(f"need scores [B, N] and target [B]; got {tuple(s.shape)} and {tuple(tgt.shape)}")
    if s.dtype == torch.bool:
        s = s.to(torch.float32)
    _check_finite_scores(s)
    rows = torch.arange(s.shape[0], device=s.device)
    st = s[rows, tgt].unsqueeze(1)
    tol = _tie_band(st, tie_tolerance)
    competes = torch.ones_like(s, dtype=torch.bool) if filter_mask is None else \
        ~_as_tensor(filter_mask, s.device).to(torch.bool)
    competes[rows, tgt] = False
    n_gt = ((s > st + tol) & competes).sum(1)
    n_eq = ((s >= st - tol) & (s <= st + tol) & competes).sum(1)
    return 1.0 + n_gt.to(torch.float64) + _TIE_WEIGHT[policy] * n_eq.to(torch.float64)


def ranking_metrics(ranks: ArrayLike, ks: Iterable[int] = (1, 3, 10)) -> dict[str, float]:
    """{"mrr", "mr", "hits@k" for k in ks} (fractions) from ranks [K] (K > 0)."""
    r = _as_tensor(ranks).reshape(-1).to(torch.float64)
    if r.numel() == 0:
        raise ValueError("no ranks to summarise")
    out = {"mrr": (1.0 / r).mean().item(), "mr": r.mean().item()}
    for k in ks:
        out[f"hits@{k}"] = (r <= k).to(torch.float64).mean().item()
    return out


class RankingAccumulator:
    """Running ranking metrics over batches: add(ranks [K]) repeatedly, then result().

    Sums stay on the device of the ranks (no host sync per batch).
    """

    def __init__(self, ks: Iterable[int] = (1, 3, 10)) -> None:
        self.ks = tuple(ks)
        self._n = 0
        self._sums: torch.Tensor | None = None  # [2 + len(ks)]: sum 1/r, sum r, hits@k counts

    @property
    def count(self) -> int:
        """Number of ranks added so far."""
        return self._n

    def add(self, ranks: ArrayLike) -> None:
        """Add a batch of ranks [K]."""
        r = _as_tensor(ranks).reshape(-1).to(torch.float64)
        if r.numel() == 0:
            return
        parts = [(1.0 / r).sum(), r.sum()] + [(r <= k).sum().to(torch.float64) for k in self.ks]
        batch = torch.stack(parts)
        self._sums = batch if self._sums is None else self._sums + batch.to(self._sums.device)
        self._n += r.numel()

    def result(self) -> dict[str, float]:
        """ranking_metrics over every rank added."""
        if self._n == 0 or self._sums is None:
            raise ValueError("no ranks added")
        vals = (self._sums / self._n).tolist()
        out = {"mrr": vals[0], "mr": vals[1]}
        for k, v in zip(self.ks, vals[2:]):
            out[f"hits@{k}"] = v
        return out


# --------------------------------------------------------------------------- binary scores
def roc_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """ROC AUC of scores [n] for binary labels [n] (Mann-Whitney U, average ranks for ties).

    Equals sklearn.metrics.roc_auc_score; the larger label is the positive class. Raises
    ValueError when only one class is present.
    """
    y, s = _pair(y_true, y_score)
    _check_finite_scores(s, "y_score")
    pos = _binary_labels(y)
    ranks = _average_ranks(s.to(torch.float64))  # 1-based, ascending score
    n_pos = pos.sum().to(torch.float64)
    n_neg = pos.numel() - n_pos
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2
    return (u / (n_pos * n_neg)).item()


def _average_ranks(x: torch.Tensor) -> torch.Tensor:
    """1-based ascending ranks [n] of x [n], tied values get the mean of their positions."""
    sorted_x, order = torch.sort(x, stable=True)
    _, inverse, counts = torch.unique_consecutive(sorted_x, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).to(torch.float64)  # last 1-based position of each tie block
    block_rank = ends - (counts.to(torch.float64) - 1) / 2
    ranks = torch.empty_like(x, dtype=torch.float64)
    ranks[order] = block_rank[inverse]
    return ranks


def pr_auc(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Average precision of scores [n] for binary labels [n], as sklearn average_precision_score.

    AP = sum_i (R_i - R_{i-1}) P_i over the distinct score thresholds in decreasing order (tied
    scores form one step). Raises ValueError if there is no positive sample.
    """
    y, s = _pair(y_true, y_score)
    _check_finite_scores(s, "y_score")
    values = torch.unique(y)
    if values.numel() > 2:
        raise ValueError(f"y_true must be binary, got {values.numel()} distinct values")
    pos = (y == values[-1]) if values.numel() == 2 else (y.to(torch.float64) > 0)
    if not bool(pos.any()):
        raise ValueError("no positive sample in y_true; average precision is undefined")
    sorted_s, order = torch.sort(s.to(torch.float64), descending=True, stable=True)
    tps_all = torch.cumsum(pos[order].to(torch.float64), 0)
    last = torch.ones_like(sorted_s, dtype=torch.bool)
    last[:-1] = sorted_s[1:] != sorted_s[:-1]  # last position of each tie block
    tps = tps_all[last]
    n_seen = (torch.nonzero(last).reshape(-1) + 1).to(torch.float64)
    precision = tps / n_seen
    recall = tps / tps[-1]
    d_recall = torch.diff(recall, prepend=recall.new_zeros(1))
    return (d_recall * precision).sum().item()


# --------------------------------------------------------------------------- labels
def _confusion(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Confusion matrix [C, C] (rows true, cols predicted) over labels in y_true ∪ y_pred, sorted."""
    labels, inverse = torch.unique(torch.cat([y_true, y_pred]), return_inverse=True)
    n, C = y_true.numel(), labels.numel()
    idx = inverse[:n] * C + inverse[n:]
    return torch.bincount(idx, minlength=C * C).reshape(C, C).to(torch.float64)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of y_pred [n] equal to y_true [n]."""
    y, p = _pair(y_true, y_pred)
    return (y == p).to(torch.float64).mean().item()


def f1_macro(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None) -> float:
    """Macro F1 of labels [n] over the labels present in y_true ∪ y_pred (zero_division=0).

    Same as sklearn f1_score(average="macro"). `n_classes`, if given, only validates that labels
    lie in [0, n_classes); classes absent from both arrays are not averaged in.
    """
    y, p = _pair(y_true, y_pred)
    if n_classes is not None:
        lo, hi = min(y.min().item(), p.min().item()), max(y.max().item(), p.max().item())
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"labels must lie in [0, {n_classes}), got range [{lo}, {hi}]")
    cm = _confusion(y, p)
    tp = torch.diagonal(cm)
    denom = cm.sum(0) + cm.sum(1)  # 2TP + FP + FN
    f1 = torch.where(denom > 0, 2 * tp / denom.clamp_min(1), torch.zeros_like(tp))
    return f1.mean().item()


def f1_binary(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """F1 of the positive class (label 1 / True) for binary labels [n]; 0 when undefined."""
    y, p = _pair(y_true, y_pred)
    y, p = y.to(torch.bool), p.to(torch.bool)
    tp = (y & p).sum().to(torch.float64)
    denom = y.sum() + p.sum()
    return (2 * tp / denom).item() if int(denom) > 0 else 0.0


def cohen_kappa(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Cohen's kappa of labels [n] (unweighted), as sklearn cohen_kappa_score; NaN if undefined."""
    y, p = _pair(y_true, y_pred)
    cm = _confusion(y, p)
    expected = torch.outer(cm.sum(1), cm.sum(0)) / cm.sum()
    off = 1.0 - torch.eye(cm.shape[0], dtype=cm.dtype, device=cm.device)
    denom = (off * expected).sum()
    if float(denom) == 0.0:
        return float("nan")
    return (1.0 - (off * cm).sum() / denom).item()


def multiclass_metrics(y_true: ArrayLike, logits_or_pred: ArrayLike) -> dict[str, float]:
    """{"accuracy", "f1" (macro), "kappa"} from labels [n] and logits [n, C] or predictions [n]."""
    out = _as_tensor(logits_or_pred)
    pred = out.argmax(dim=-1) if out.dim() == 2 else out
    return {
        "accuracy": accuracy(y_true, pred),
        "f1": f1_macro(y_true, pred),
        "kappa": cohen_kappa(y_true, pred),
    }


def binary_metrics(y_true: ArrayLike, y_score: ArrayLike, threshold: float = 0.5) -> dict[str, float]:
    """{"roc_auc", "pr_auc", "accuracy", "f1"} from 0/1 labels [n] and probabilities [n].

    accuracy and f1 (positive class) use predictions y_score >= threshold.
    """
    y, s = _pair(y_true, y_score)
    pos = _binary_labels(y)
    pred = s >= threshold
    return {
        "roc_auc": roc_auc(pos, s),
        "pr_auc": pr_auc(pos, s),
        "accuracy": accuracy(pos, pred),
        "f1": f1_binary(pos, pred),
    }


# --------------------------------------------------------------------------- regression
def _regression_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    device = y_true.device if isinstance(y_true, torch.Tensor) else None
    y = _as_tensor(y_true, device).to(torch.float64)
    p = _as_tensor(y_pred, y.device).to(torch.float64)
    if y.shape != p.shape:
        raise ValueError(f"shape mismatch: y_true {tuple(y.shape)}, y_pred {tuple(p.shape)}")
    if y.numel() == 0:
        raise ValueError("inputs are empty")
    return y, p


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error over all elements of [n] or [n, d]."""
    y, p = _regression_pair(y_true, y_pred)
    return ((y - p) ** 2).mean().item()


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error over all elements of [n] or [n, d]."""
    y, p = _regression_pair(y_true, y_pred)
    return (y - p).abs().mean().item()


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination, as sklearn r2_score (force_finite, uniform average over d).

    y [n] or [n, d]. A constant target column scores 1.0 if predicted exactly, else 0.0;
    fewer than two samples gives NaN.
    """
    y, p = _regression_pair(y_true, y_pred)
    if y.shape[0] < 2:
        return float("nan")
    y2, p2 = (y[:, None], p[:, None]) if y.dim() == 1 else (y.reshape(y.shape[0], -1), p.reshape(p.shape[0], -1))
    ss_res = ((y2 - p2) ** 2).sum(0)
    ss_tot = ((y2 - y2.mean(0)) ** 2).sum(0)
    score = torch.where(
        ss_tot > 0,
        1 - ss_res / torch.where(ss_tot > 0, ss_tot, torch.ones_like(ss_tot)),
        torch.where(ss_res == 0, torch.ones_like(ss_res), torch.zeros_like(ss_res)),
    )
    return score.mean().item()


# --------------------------------------------------------------------------- NDCG
def mean_ndcg_at_k(
    y_true_relevance: ArrayLike,
    y_score: ArrayLike,
    group: ArrayLike | None = None,
    k: int | None = None,
) -> float:
    """Mean over query groups of NDCG@k, each group weighted equally.

    y_true_relevance [n] (non-negative gains, linear), y_score [n], group [n] integer query ids
    (None = one query). Per group, as sklearn ndcg_score(ignore_ties=False):
        DCG@k = sum over tie blocks T of mean_{i in T} rel_i * sum_{positions p in T, p < k} 1/log2(p+2)
    (scores sorted decreasing, positions 0-based within the group; tied items share their block's
    mean gain), IDCG@k = DCG@k of the relevance-sorted list, NDCG = DCG / IDCG, and 0 when
    IDCG = 0. For 2-D inputs [Q, m] each row is a query (equal to sklearn ndcg_score on them).
    k=None means no cutoff.
    """
    rel_t = _as_tensor(y_true_relevance)
    if rel_t.dim() == 2 and group is None:
        group = torch.arange(rel_t.shape[0]).repeat_interleave(rel_t.shape[1])
    rel, s = _pair(rel_t, y_score)
    rel, s = rel.to(torch.float64), s.to(torch.float64)
    _check_finite_scores(s, "y_score")
    if bool((rel < 0).any()):
        raise ValueError("relevance values must be non-negative")
    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    device = s.device
    n = s.numel()
    g = torch.zeros(n, dtype=torch.long, device=device) if group is None else _as_tensor(group, device).reshape(-1)
    if g.numel() != n:
        raise ValueError(f"group has {g.numel()} entries, expected {n}")
    _, g = torch.unique(g, return_inverse=True)  # dense ids 0..G-1
    G = int(g.max().item()) + 1

    def order_within_groups(key: torch.Tensor) -> torch.Tensor:
        """Permutation sorting by group, then key decreasing."""
        o1 = torch.sort(key, descending=True, stable=True).indices
        o2 = torch.sort(g[o1], stable=True).indices
        return o1[o2]

    sizes = torch.bincount(g, minlength=G)
    starts = torch.cumsum(sizes, 0) - sizes
    g_sorted = torch.sort(g, stable=True).values  # same group sequence for any within-group order
    pos = torch.arange(n, device=device) - starts[g_sorted]
    discount = 1.0 / torch.log2(pos.to(torch.float64) + 2.0)
    if k is not None:
        discount = torch.where(pos < k, discount, torch.zeros_like(discount))

    # DCG with tie-averaged gains
    o = order_within_groups(s)
    s_o, rel_o = s[o], rel[o]
    new_block = torch.ones(n, dtype=torch.bool, device=device)
    new_block[1:] = (s_o[1:] != s_o[:-1]) | (g_sorted[1:] != g_sorted[:-1])
    block = torch.cumsum(new_block.long(), 0) - 1
    n_blocks = int(block[-1].item()) + 1
    block_mean = _segment_sum(rel_o, block, n_blocks) / torch.bincount(block, minlength=n_blocks)
    dcg = _segment_sum(block_mean[block] * discount, g_sorted, G)

    # Ideal DCG (ties in relevance do not change it)
    rel_ideal = rel[order_within_groups(rel)]
    idcg = _segment_sum(rel_ideal * discount, g_sorted, G)
    ndcg = torch.where(idcg > 0, dcg / torch.where(idcg > 0, idcg, torch.ones_like(idcg)), torch.zeros_like(dcg))
    return ndcg.mean().item()


def ndcg_at_k(y_true_relevance: ArrayLike, y_score: ArrayLike, k: int | None = None) -> float:
    """NDCG@k of one ranked list: relevance [n], scores [n]; sklearn ndcg_score on one query."""
    rel = _as_tensor(y_true_relevance).reshape(-1)
    return mean_ndcg_at_k(rel, y_score, None, k)
