"""Is the evidence real? Faithfulness of graph evidence, measured by re-scoring the query without it.

A method's graph evidence is a ranking of edges (facts) by how much they supposedly matter for one answer. This
module checks that claim the same way for every method: the model re-scores the query with some edges switched off
inside its own forward pass (a boolean mask, no rebuilt data files; :class:`MaskableModel`), many masks in one
batch, and the answer's score and rank are compared with the unmasked ones.

Definitions (GraphXAI: Agarwal et al., "Evaluating explainability for graph neural networks", Scientific Data
2023; the probability form of Amara et al., GraphFramEx, LoG 2022), with s(·) the model's raw score of the answer,
G the graph and S_k the k highest-ranked evidence edges:

- **fidelity+** (necessity) = s(G) − s(G ∖ S_k): how much the score drops when the evidence is *removed*.
  High is good: the answer needed that evidence.
- **fidelity−** (sufficiency) = s(G) − s(S_k): how much the score drops when *only* the evidence is kept (every
  other edge of the graph removed). Low is good: the evidence alone supports the answer.
- **rank change**: the answer's filtered rank with the edges removed (or only kept) minus its rank in G.
- **deletion curve**: s(G ∖ S_k) for k = 1..K, beside the same curve for k random edges of the candidate
  subgraph (``draws`` seeded draws; each draw is a random order of the subgraph, so its k edges grow with k).

The random baseline draws from the same candidate subgraph the evidence comes from (RED-GNN: the r-digraph, the
edges on some path from the query entity to the answer), so a ratio fidelity+(evidence) / fidelity+(random) > 1
says the ranking found the edges the score flows through, not merely edges near the answer.

Every model that implements :class:`MaskableModel` (a ``rescore`` taking a [M, n_edges] mask) gets the whole
curve from :func:`measure_fidelity` in one batched call; :func:`deletion_curve_figure` draws it, and
:func:`bootstrap_ratio` gives a ratio of means with a bootstrap interval over queries (benchmarks/fidelity.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np
import torch

#: what the page and the report print under the numbers
DEFINITIONS = {
    "fidelity+": "score drop when the evidence is removed from the graph: s(G) − s(G without the top-k edges). "
                 "High: the answer needed the evidence.",
    "fidelity−": "score drop when only the evidence is kept: s(G) − s(top-k edges alone). Low: the evidence "
                 "alone supports the answer.",
    "rank change": "the answer's filtered rank after the edit minus its rank before (positive: it fell).",
    "deletion curve": "the answer's score as the k top evidence edges are removed, k = 1, 2, …, beside k random "
                      "edges of the same subgraph (mean of the seeded draws).",
}
SOURCE = ("GraphXAI (Agarwal et al., Scientific Data 2023) and GraphFramEx (Amara et al., LoG 2022), "
          "probability form on the model's raw score")


@runtime_checkable
class MaskableModel(Protocol):
    """A model that re-scores one query's answer with edges switched off inside its own forward pass.

    ``removed`` is a [M, n_edges] bool tensor over the model's edge ids (True: the edge is not in the graph for
    that row); the M masks run as one batch. Returns the answer's score [M] and its filtered rank [M] (float).
    ``n_edges`` is the size of the edge-id space (RED-GNN: the graph's facts, a fact and its inverse one id)."""

    n_edges: int

    def rescore(self, removed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ...


@dataclass
class FidelityResult:
    """The whole deletion / sufficiency comparison of one answer.

    ``deletion[k-1]``: the answer's score with the top-k evidence edges removed; ``deletion_random[d, k-1]``: with
    k random candidate-subgraph edges removed in draw d; ``sufficiency*`` likewise with only those edges kept;
    ``*_rank`` the filtered ranks. ``ranking``: which evidence ranking was tested (e.g. "path contribution")."""

    ranking: str
    base_score: float
    base_rank: float
    ks: list[int]
    deletion: list[float]
    deletion_rank: list[float]
    deletion_random: list[list[float]]
    deletion_random_rank: list[list[float]]
    sufficiency: list[float]
    sufficiency_rank: list[float]
    sufficiency_random: list[list[float]]
    sufficiency_random_rank: list[list[float]]
    n_candidates: int                       # edges in the candidate subgraph the random draws come from
    n_evidence: int                         # edges the evidence ranking holds
    seed: int = 0
    draws: int = 10
    evidence_edges: list[Any] = field(default_factory=list)  # what the top-K edges are (method's own description)
    unreached_score: float | None = None     # the score of an answer the model cannot reach (RED-GNN: 0)
    seconds: float | None = None

    # ---------------------------------------------------------------------------------------------- per k
    def _at(self, k: int) -> int:
        if k not in self.ks:
            k = min(self.ks, key=lambda x: abs(x - k))
        return self.ks.index(k)

    def fidelity_plus(self, k: int) -> float:
        return self.base_score - self.deletion[self._at(k)]

    def fidelity_plus_random(self, k: int) -> float:
        return self.base_score - float(np.mean([d[self._at(k)] for d in self.deletion_random]))

    def fidelity_minus(self, k: int) -> float:
        return self.base_score - self.sufficiency[self._at(k)]

    def fidelity_minus_random(self, k: int) -> float:
        return self.base_score - float(np.mean([d[self._at(k)] for d in self.sufficiency_random]))

    def rank_after_deletion(self, k: int) -> float:
        return self.deletion_rank[self._at(k)]

    def rank_after_random_deletion(self, k: int) -> float:
        """Median over the draws (a rank's mean is dragged by one draw that cuts the answer off)."""
        return float(np.median([d[self._at(k)] for d in self.deletion_random_rank]))

    def summary(self, k: int = 5) -> dict[str, float]:
        """The numbers of one k, for tables and JSON."""
        k = self.ks[self._at(k)]
        return {"k": k, "ranking": self.ranking, "score": self.base_score, "rank": self.base_rank,
                "fidelity_plus": self.fidelity_plus(k), "fidelity_plus_random": self.fidelity_plus_random(k),
                "fidelity_minus": self.fidelity_minus(k), "fidelity_minus_random": self.fidelity_minus_random(k),
                "rank_after_deletion": self.rank_after_deletion(k),
                "rank_after_random_deletion": self.rank_after_random_deletion(k),
                "rank_with_evidence_only": self.sufficiency_rank[self._at(k)]}

    def sentence(self, k: int = 5, noun: str = "facts") -> str:
        """One line a scientist reads: 'Removing these 5 facts drops the answer from rank 1 to rank 240; removing
        5 random facts of the same subgraph leaves it at rank 2 (median of 10 draws).'"""
        k = self.ks[self._at(k)]
        n = min(k, self.n_evidence)
        before, after = _rank_text(self.base_rank), _rank_text(self.rank_after_deletion(k))
        rnd = _rank_text(self.rank_after_random_deletion(k))
        verb = "drops" if self.rank_after_deletion(k) > self.base_rank else "leaves"
        first = (f"Removing these {n} {noun} {verb} the answer from rank {before} to rank {after}" if verb == "drops"
                 else f"Removing these {n} {noun} leaves the answer at rank {after}")
        m = min(k, self.n_candidates)
        rverb = "moves it to" if self.rank_after_random_deletion(k) != self.base_rank else "leaves it at"
        return (f"{first} (score {self.base_score:.3g} → {self.deletion[self._at(k)]:.3g}); removing {m} random "
                f"{noun} of the same subgraph {rverb} rank {rnd} (median of {self.draws} draws, score "
                f"{self.base_score - self.fidelity_plus_random(k):.3g}).")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FidelityResult":
        return cls(**data)


def _rank_text(rank: float) -> str:
    return f"{rank:,.0f}" if float(rank).is_integer() else f"{rank:,.1f}"


def random_orders(candidates: torch.Tensor, draws: int, k_max: int, seed: int) -> torch.Tensor:
    """[draws, min(k_max, C)] random orders of the candidate edge ids (seeded, on the CPU so that every device
    draws the same edges): draw d removes its first k edges at step k."""
    gen = torch.Generator().manual_seed(int(seed))
    cand = candidates.detach().cpu()
    k = min(k_max, len(cand))
    if k == 0:
        return torch.zeros(draws, 0, dtype=torch.long)
    orders = torch.stack([torch.randperm(len(cand), generator=gen)[:k] for _ in range(draws)])
    return cand[orders]


def prefix_masks(orders: torch.Tensor, ks: Sequence[int], n_edges: int) -> torch.Tensor:
    """[len(orders) · len(ks), n_edges] bool: row (i, k) marks the first k edges of order i (vectorised)."""
    n_orders = orders.shape[0]
    width = orders.shape[1] if orders.dim() == 2 else 0
    masks = torch.zeros(n_orders, len(ks), n_edges, dtype=torch.bool)
    if width:
        ks_t = torch.tensor([min(k, width) for k in ks])
        take = torch.arange(width).unsqueeze(0) < ks_t.unsqueeze(1)            # [K, width]
        rows = torch.arange(n_orders).view(-1, 1, 1).expand(-1, len(ks), width)
        kk = torch.arange(len(ks)).view(1, -1, 1).expand(n_orders, -1, width)
        cols = orders.unsqueeze(1).expand(-1, len(ks), -1)
        sel = take.unsqueeze(0).expand(n_orders, -1, -1)
        masks[rows[sel], kk[sel], cols[sel]] = True
    return masks.view(n_orders * len(ks), n_edges)


def measure_fidelity(model: MaskableModel, evidence: torch.Tensor, candidates: torch.Tensor, k_max: int = 10,
                     draws: int = 10, seed: int = 0, ranking: str = "", sufficiency: bool = True,
                     keep_always: torch.Tensor | None = None, base: tuple[float, float] | None = None,
                     evidence_edges: list | None = None, unreached_score: float | None = None) -> FidelityResult:
    """Deletion and sufficiency curves of one answer, k = 1..k_max, all masks in one ``model.rescore`` batch.

    evidence: edge ids ranked by the evidence's weight, best first; candidates: the candidate subgraph's edge ids
    (the random edges come from it); keep_always: edges never removed in the sufficiency rows (none by default:
    "only the evidence kept" removes every other edge of the graph). ``base``: the unmasked (score, rank) when
    the caller has them (else one more row is scored)."""
    import time

    t0 = time.perf_counter()
    ks = list(range(1, k_max + 1))
    n = int(model.n_edges)
    ev = evidence.detach().cpu().long()[:k_max].unsqueeze(0)
    rnd = random_orders(candidates, draws, k_max, seed)
    removed_top = prefix_masks(ev, ks, n)                                   # [K, n]
    removed_rnd = prefix_masks(rnd, ks, n)                                  # [draws·K, n]
    blocks = [removed_top, removed_rnd]
    if sufficiency:
        keep_top, keep_rnd = prefix_masks(ev, ks, n), prefix_masks(rnd, ks, n)
        if keep_always is not None:
            keep_top[:, keep_always.cpu()] = True
            keep_rnd[:, keep_always.cpu()] = True
        blocks += [~keep_top, ~keep_rnd]
    if base is None:
        blocks.insert(0, torch.zeros(1, n, dtype=torch.bool))
    scores, ranks = model.rescore(torch.cat(blocks))
    scores, ranks = scores.detach().double().cpu(), ranks.detach().double().cpu()
    if base is None:
        base = (float(scores[0]), float(ranks[0]))
        scores, ranks = scores[1:], ranks[1:]
    K, D = len(ks), draws
    parts_s = torch.split(scores, [K, D * K] + ([K, D * K] if sufficiency else []))
    parts_r = torch.split(ranks, [K, D * K] + ([K, D * K] if sufficiency else []))
    empty = [[math.nan] * K for _ in range(D)]
    return FidelityResult(
        ranking=ranking, base_score=float(base[0]), base_rank=float(base[1]), ks=ks,
        deletion=parts_s[0].tolist(), deletion_rank=parts_r[0].tolist(),
        deletion_random=parts_s[1].view(D, K).tolist(), deletion_random_rank=parts_r[1].view(D, K).tolist(),
        sufficiency=parts_s[2].tolist() if sufficiency else [math.nan] * K,
        sufficiency_rank=parts_r[2].tolist() if sufficiency else [math.nan] * K,
        sufficiency_random=parts_s[3].view(D, K).tolist() if sufficiency else empty,
        sufficiency_random_rank=parts_r[3].view(D, K).tolist() if sufficiency else empty,
        n_candidates=int(len(candidates)), n_evidence=int(len(evidence)), seed=int(seed), draws=int(draws),
        evidence_edges=list(evidence_edges or []), unreached_score=unreached_score,
        seconds=time.perf_counter() - t0)


def bootstrap_ratio(numerator: Sequence[float], denominator: Sequence[float], n_boot: int = 2000, seed: int = 0,
                    level: float = 0.95) -> dict[str, float]:
    """mean(numerator) / mean(denominator) over paired per-query values, with a percentile bootstrap interval
    (queries resampled with replacement, ``n_boot`` times, seeded). Infinite when the denominator's mean is 0."""
    a, b = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    if len(a) == 0:
        return {"ratio": math.nan, "low": math.nan, "high": math.nan, "n": 0}

    def ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, x / np.where(y > 0, y, 1.0), np.where(x > 0, np.inf, np.nan))

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n_boot, len(a)))
    boots = ratio(a[idx].mean(1), b[idx].mean(1))
    boots = boots[~np.isnan(boots)]
    alpha = (1 - level) / 2
    # no interpolation between order statistics: an infinite ratio (a resample whose denominator's mean is not
    # positive) makes the bound infinite, not NaN
    low, high = (np.quantile(boots, [alpha, 1 - alpha], method="inverted_cdf") if len(boots)
                 else (math.nan, math.nan))
    return {"ratio": float(ratio(np.array([a.mean()]), np.array([b.mean()]))[0]), "low": float(low),
            "high": float(high), "n": int(len(a)), "mean_numerator": float(a.mean()),
            "mean_denominator": float(b.mean())}


def deletion_curve_figure(result: FidelityResult, title: str | None = None, height: int = 340):
    """Plotly figure: the answer's score as the top-k evidence edges are removed (and as only they are kept),
    beside k random edges of the candidate subgraph (mean and the range of the draws)."""
    import plotly.graph_objects as go

    ks = result.ks
    rnd = np.asarray(result.deletion_random, dtype=float)
    fig = go.Figure()
    if rnd.size:
        fig.add_trace(go.Scatter(x=ks + ks[::-1], y=list(rnd.max(0)) + list(rnd.min(0))[::-1], fill="toself",
                                 fillcolor="rgba(150,150,150,0.25)", line={"width": 0}, hoverinfo="skip",
                                 name=f"random edges: range of {result.draws} draws"))
        fig.add_trace(go.Scatter(x=ks, y=rnd.mean(0), mode="lines+markers", line={"color": "#7f7f7f", "dash": "dash"},
                                 name="k random edges removed (mean)"))
    fig.add_trace(go.Scatter(x=ks, y=result.deletion, mode="lines+markers", line={"color": "#d55e00", "width": 3},
                             name=f"top-k evidence removed ({result.ranking})" if result.ranking else
                             "top-k evidence removed",
                             customdata=np.asarray(result.deletion_rank),
                             hovertemplate="k=%{x}: score %{y:.3g}, rank %{customdata:g}<extra></extra>"))
    if not all(math.isnan(x) for x in result.sufficiency):
        fig.add_trace(go.Scatter(x=ks, y=result.sufficiency, mode="lines+markers",
                                 line={"color": "#0072b2", "dash": "dot"}, name="only the top-k evidence kept",
                                 customdata=np.asarray(result.sufficiency_rank),
                                 hovertemplate="k=%{x}: score %{y:.3g}, rank %{customdata:g}<extra></extra>"))
    fig.add_hline(y=result.base_score, line={"color": "#009e73", "width": 1},
                  annotation_text="score with every fact", annotation_position="top left")
    if result.unreached_score is not None:
        fig.add_hline(y=result.unreached_score, line={"color": "#999", "width": 1, "dash": "dot"},
                      annotation_text="score of an unreached answer", annotation_position="bottom left")
    fig.update_layout(title=title or "Deletion curve: the answer's score as evidence is removed", height=height,
                      xaxis_title="k (edges removed or kept)", yaxis_title="answer's score",
                      legend={"orientation": "h", "y": -0.25}, margin={"l": 50, "r": 20, "t": 50, "b": 40},
                      template="plotly_white")
    fig.update_xaxes(dtick=1)
    return fig
