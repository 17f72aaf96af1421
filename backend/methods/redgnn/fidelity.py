"""RED-GNN's evidence, tested: facts switched off inside the propagation (backend.core.fidelity), the r-digraph's
facts ranked by their measured contribution to the answer's score, and what-if edits of the graph.

Units. RED-GNN propagates over edges: every fact (h, r, t) of the graph is two edges (h→t under r and t→h under
'inverse of r') and every entity has a self-loop. A *fact* is the unit removed here (both of its edges, in every
layer; self-loops are never removed): :func:`fact_index` numbers the graph's distinct facts, and
:class:`RedGNNRescorer` turns a [M, n_facts] mask into a [M, n_edges] edge mask for ``RedGNN.forward``, which drops
those edges from the propagation exactly as if the facts were not in the graph.

Rankings of the r-digraph's facts (``RANKINGS``), each a view of "which facts the answer rests on":

- ``attention``: the largest attention α of the fact's edges in the r-digraph (RED-GNN's own weight). α depends
  only on the source's state, the edge's relation and the query relation, so many edges tie.
- ``path``: the facts of the strongest paths (product of attention), path by path.
- ``gradient``: gradient × input of the answer's score with respect to a weight on each fact's edges (1 = the
  graph as it is): the first-order change of the score if the fact were removed.
- ``greedy``: greedy deletion: the fact whose removal drops the score most, then the one that drops it most given
  the first removed, ... (GREEDY_ROUNDS rounds over the GREEDY_CANDIDATES strongest facts by occlusion, or all the
  occlusion candidates in an r-digraph of at most GREEDY_ALL_BELOW facts; the rest by occlusion). Top-k sets
  with parallel paths need one fact of each path, which one-at-a-time occlusion does not see.
- ``occlusion``: the exact drop of the answer's score when the fact alone is removed (one batched re-score of
  the candidate facts over the r-digraph alone, which holds everything the answer's score depends on). The
  candidates: the OCCLUSION_MAX / 2 strongest facts by path and by |gradient|; the others follow by gradient.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from backend.core.fidelity import FidelityResult, measure_fidelity
from backend.core.metrics import filtered_ranks
from backend.kg.graph import EdgeIndex

from . import DEFAULT_RANKING, RANKINGS  # one definition; the default chosen on valid queries (benchmarks/fidelity.py)
from .explain import LoadedModel, k_best_paths, r_digraph

#: r-digraph facts whose removal is measured one by one: the OCCLUSION_MAX / 2 strongest by path and by |gradient|
#: (the rest are ranked after them by gradient)
OCCLUSION_MAX = 64
#: rounds of the greedy ranking (its first GREEDY_ROUNDS facts chosen given the ones before; the rest by occlusion)
GREEDY_ROUNDS = 5
#: facts each greedy round after the first weighs: the strongest by occlusion (one re-score of each per round)
GREEDY_CANDIDATES = 16
#: r-digraphs with at most this many facts keep every occlusion candidate in every greedy round
GREEDY_ALL_BELOW = 300
#: the weight of the first fact of an order-type ranking (path, greedy): the i-th gets ORDER_TOP - i
ORDER_TOP = 1e6
#: masks re-scored in one forward batch (bounds memory: rows × edges booleans and rows × entities scores)
MAX_MASK_CELLS = 60_000_000


def fact_index(graph: EdgeIndex) -> tuple[torch.Tensor, torch.Tensor]:
    """(fact_of_edge [n_edges]: the fact id of each edge, -1 for self-loops; facts [F, 3]: (h, r, t) per id, r in
    the graph's relations). A fact and its inverse edge share one id; repeated triples are one fact. Cached on the
    graph."""
    cached = getattr(graph, "_fact_index", None)
    if cached is not None:
        return cached
    h, r, t = graph.head, graph.rel, graph.tail
    n_rel, n_ent = graph.n_rel, graph.n_ent
    inverse = (r >= n_rel) & (r < 2 * n_rel)
    loop = r == graph.self_rel
    ch, cr, ct = torch.where(inverse, t, h), torch.where(inverse, r - n_rel, r), torch.where(inverse, h, t)
    key = (ch * n_rel + cr) * n_ent + ct
    distinct, inv = torch.unique(key[~loop], return_inverse=True)
    fact_of_edge = torch.full_like(key, -1)
    fact_of_edge[~loop] = inv
    facts = torch.stack([distinct // (n_rel * n_ent), (distinct // n_ent) % n_rel, distinct % n_ent], 1)
    graph._fact_index = (fact_of_edge, facts)
    return graph._fact_index


class RedGNNRescorer:
    """backend.core.fidelity.MaskableModel for one (head, relation) query and one answer of a loaded RED-GNN:
    ``rescore(removed [M, n_facts] bool)`` -> (answer's score [M], filtered rank [M]), the M graphs in batches."""

    def __init__(self, lm: LoadedModel, head: int, relation: int, answer: int, graph: EdgeIndex | None = None):
        self.lm, self.head, self.relation, self.answer = lm, int(head), int(relation), int(answer)
        self.graph = graph or lm.graph
        self.fact_of_edge, self.facts = fact_index(self.graph)
        self.n_edges = len(self.facts)
        dev = lm.device
        self.known = lm.known.mask(torch.tensor([self.head], device=dev), torch.tensor([self.relation], device=dev))[0]
        self.last_scores: torch.Tensor | None = None

    @torch.no_grad()
    def rescore(self, removed: torch.Tensor, keep_scores: bool = False,
                ranks: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """removed [M, n_facts] bool -> (answer's score [M], its filtered rank [M]; None when ``ranks`` is False);
        ``keep_scores``: every entity's scores [M, n_ent] kept in ``last_scores``."""
        dev, graph = self.lm.device, self.graph
        removed = removed.to(dev)
        loops = self.fact_of_edge < 0
        idx = self.fact_of_edge.clamp(min=0)
        rows = max(1, MAX_MASK_CELLS // max(graph.n_edges, graph.n_ent))
        out_s, out_r, kept = [], [], []
        n_ent = graph.n_ent
        for chunk in removed.split(rows):
            m = len(chunk)
            edge_mask = ~chunk[:, idx]
            edge_mask[:, loops] = True
            scores = self.lm.model(torch.full((m,), self.head, device=dev), torch.full((m,), self.relation, device=dev),
                                   graph, edge_mask=edge_mask)
            answer = torch.zeros(m, n_ent, dtype=torch.bool, device=dev)
            answer[:, self.answer] = True
            out_s.append(scores[:, self.answer])
            if ranks:
                out_r.append(filtered_ranks(scores, answer, self.known.expand(m, -1)))
            if keep_scores:
                kept.append(scores)
        if keep_scores:
            self.last_scores = torch.cat(kept)
        return torch.cat(out_s), (torch.cat(out_r) if ranks else None)


@dataclass
class Attribution:
    """The r-digraph's facts of one answer, each with the weight of every ranking (a row per fact)."""

    head: int
    relation: int
    answer: int
    score: float
    rank: float
    facts: torch.Tensor                 # [F_r] fact ids of the r-digraph (self-loops excluded)
    weights: dict[str, torch.Tensor]    # ranking -> [F_r] weight (higher: more evidence)
    neighbourhood: torch.Tensor         # fact ids of every edge the propagation expanded (the L-hop neighbourhood)
    layers: torch.Tensor                # [F_r] first propagation step (1-based) the fact is used at
    seconds: dict[str, float] = field(default_factory=dict)

    def ranked(self, ranking: str) -> torch.Tensor:
        """Fact ids, best first (ties: the order of the r-digraph's edges, which is fixed)."""
        order = torch.argsort(-self.weights[ranking], stable=True)
        return self.facts[order]

    def frame(self, lm: LoadedModel, graph: EdgeIndex | None = None, ranking: str = DEFAULT_RANKING,
              top: int | None = None) -> pd.DataFrame:
        """One row per fact (names, not ids), best first by ``ranking``: head, relation, tail, step, and each
        ranking's weight."""
        _, facts = fact_index(graph or lm.graph)
        order = torch.argsort(-self.weights[ranking], stable=True)[:top]
        kg = lm.kg
        rows = []
        for i in order.tolist():
            h, r, t = facts[self.facts[i]].tolist()
            row = {"head": kg.entity_label(h), "relation": kg.relation_label(r), "tail": kg.entity_label(t),
                   "step": int(self.layers[i]), "head_id": h, "relation_id": r, "tail_id": t}
            for name, w in self.weights.items():  # path and greedy weights are orders: shown as 1, 2, ... (or none)
                if name in ("path", "greedy"):
                    row[f"{name}_order"] = int(ORDER_TOP - float(w[i])) + 1 if float(w[i]) > ORDER_TOP / 2 else None
                else:
                    row[name] = float(w[i])
            rows.append(row)
        return pd.DataFrame(rows)


def attribute(lm: LoadedModel, head: int, relation: int, answer: int, graph: EdgeIndex | None = None,
              rankings: tuple[str, ...] = tuple(RANKINGS), occlusion_max: int = OCCLUSION_MAX,
              greedy_rounds: int | None = None) -> Attribution:
    """Every ranking of the r-digraph's facts of (head, relation, answer), from one forward and backward pass
    (attention, path, gradient) and one batched re-score (occlusion)."""
    graph = graph or lm.graph
    dev, model = lm.device, lm.model
    fact_of_edge, facts = fact_index(graph)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    weight = torch.ones(1, graph.n_edges, dtype=model.W_final.weight.dtype, device=dev, requires_grad=True)
    traces = []
    with torch.enable_grad():
        scores = model(torch.tensor([head], device=dev), torch.tensor([relation], device=dev), graph, trace=traces,
                       edge_weight=weight)[0]
        grad, = torch.autograd.grad(scores[answer], weight) if scores.requires_grad else (torch.zeros_like(weight),)
    scores = scores.detach()
    seconds["forward+gradient"] = time.perf_counter() - t0
    known = lm.known.mask(torch.tensor([head], device=dev), torch.tensor([relation], device=dev))
    one = torch.zeros(1, graph.n_ent, dtype=torch.bool, device=dev)
    one[0, answer] = True
    rank = float(filtered_ranks(scores.unsqueeze(0), one, known)[0])
    keep = r_digraph(traces, answer)
    # per r-digraph edge: layer, fact, attention
    e_layer = torch.cat([torch.full((len(k),), i + 1, device=dev) for i, k in enumerate(keep)])
    e_fact = torch.cat([fact_of_edge[t.edge[k]] for t, k in zip(traces, keep)])
    e_att = torch.cat([t.attention[k] for t, k in zip(traces, keep)])
    real = e_fact >= 0
    r_facts, e_pos = torch.unique(e_fact[real], return_inverse=True)
    n = len(r_facts)
    neighbourhood = torch.unique(torch.cat([fact_of_edge[t.edge] for t in traces]))
    neighbourhood = neighbourhood[neighbourhood >= 0]
    layers = torch.full((n,), 10**6, dtype=torch.long, device=dev).scatter_reduce(
        0, e_pos, e_layer[real].long(), reduce="amin")
    dtype = torch.float64
    weights: dict[str, torch.Tensor] = {}
    if "attention" in rankings:
        weights["attention"] = torch.zeros(n, dtype=dtype, device=dev).scatter_reduce(
            0, e_pos, e_att[real].to(dtype), reduce="amax", include_self=False)
    fact_grad = torch.zeros(len(facts), dtype=dtype, device=dev).index_add_(
        0, fact_of_edge.clamp(min=0), grad[0].to(dtype) * (fact_of_edge >= 0))
    if "gradient" in rankings or "occlusion" in rankings:
        weights["gradient"] = fact_grad[r_facts]
    if "path" in rankings and n:
        t1 = time.perf_counter()
        # path rank: facts in the order the strongest paths first use them (later facts: by attention)
        raw = k_best_paths(traces, keep, head, answer, k=64)
        order: dict[int, int] = {}
        for _, _, _, used in raw:
            for layer, e in enumerate(used):
                f = int(fact_of_edge[traces[layer].edge[e]])
                if f >= 0 and f not in order:
                    order[f] = len(order)
        pos = torch.searchsorted(r_facts, torch.tensor(list(order), dtype=torch.long, device=dev))
        path_w = weights.get("attention", torch.zeros(n, dtype=dtype, device=dev)).clone() - 2.0
        path_w[pos] = -torch.tensor(list(order.values()), dtype=dtype, device=dev)  # 0, -1, -2, ... (> -2 + att)
        path_w[pos] = path_w[pos] + ORDER_TOP
        weights["path"] = path_w
        seconds["path"] = time.perf_counter() - t1
    if "occlusion" in rankings and n:
        t1 = time.perf_counter()
        # the candidates measured: the strongest facts by path and by |gradient| (cheap pre-rankings), the
        # measured ones ranked by their drop, the rest after them by gradient
        pre = [torch.argsort(-weights["gradient"].abs(), stable=True)[:occlusion_max // 2]]
        if "path" in weights:
            pre.insert(0, torch.argsort(-weights["path"], stable=True)[:occlusion_max // 2])
        chosen = torch.unique(torch.cat(pre))
        rescorer = RedGNNRescorer(lm, head, relation, answer, graph)
        # the answer's score depends on the r-digraph's facts only: each row keeps them less one, so the
        # propagation runs over the r-digraph alone (exact, and far smaller than the neighbourhood)
        removed = torch.ones(len(chosen), rescorer.n_edges, dtype=torch.bool, device=dev)
        removed[:, r_facts] = False
        removed[torch.arange(len(chosen), device=dev), r_facts[chosen]] = True
        after = rescorer.rescore(removed, ranks=False)[0]
        occ = weights["gradient"].clone() - (weights["gradient"].abs().max() + float(scores[answer]) ** 2 + 1e9)
        occ[chosen] = float(scores[answer]) - after.to(dtype)   # the measured drop; unmeasured facts after them
        weights["occlusion"] = occ
        seconds["occlusion"] = time.perf_counter() - t1
        if "greedy" in rankings:
            t1 = time.perf_counter()
            weights["greedy"] = _greedy(rescorer, r_facts, chosen, removed[0].clone(), float(scores[answer]), after,
                                        occ, greedy_rounds)
            seconds["greedy"] = time.perf_counter() - t1
    if "gradient" not in rankings:
        weights.pop("gradient", None)
    for name in rankings:  # an r-digraph without facts (the answer is the head itself, reached by self-loops)
        weights.setdefault(name, torch.zeros(n, dtype=dtype, device=dev))
    return Attribution(head, relation, answer, float(scores[answer]), rank, r_facts, weights, neighbourhood, layers,
                       seconds)


def _greedy(rescorer: RedGNNRescorer, r_facts: torch.Tensor, chosen: torch.Tensor, template: torch.Tensor,
            score: float, first_after: torch.Tensor, occlusion: torch.Tensor, rounds: int | None) -> torch.Tensor:
    """Greedy deletion: round 1 takes the fact whose removal alone drops the score most (occlusion), each next
    round the candidate whose removal drops it most given the facts already taken (one batched re-score of the
    remaining candidates over the r-digraph per round), for ``rounds`` rounds (default GREEDY_ROUNDS); the other
    facts follow by occlusion. Stops early once the answer is cut off (its score 0: nothing more to take)."""
    rounds = GREEDY_ROUNDS if rounds is None else rounds
    dev = r_facts.device
    template[r_facts[chosen]] = False         # the r-digraph with nothing removed (row 0 had one fact removed)
    # later rounds weigh the GREEDY_CANDIDATES facts whose removal alone dropped the score most
    wide = len(r_facts) <= GREEDY_ALL_BELOW  # a small r-digraph: every measured fact stays a candidate (cheap)
    best_first = torch.argsort(first_after, stable=True)[:len(chosen) if wide else GREEDY_CANDIDATES]
    left, taken, after = chosen[best_first], [], first_after[best_first]
    for _ in range(rounds):
        if len(left) == 0:
            break
        if taken:
            rows = template.unsqueeze(0).repeat(len(left), 1)
            rows[:, r_facts[torch.stack(taken)]] = True
            rows[torch.arange(len(left), device=dev), r_facts[left]] = True
            after = rescorer.rescore(rows, ranks=False)[0]
        best = int(torch.argmin(after))       # the lowest score left: the largest drop (first on ties)
        taken.append(left[best])
        if float(after[best]) == 0.0 and score != 0.0:  # cut off: the unreached score
            break
        keep = torch.ones(len(left), dtype=torch.bool, device=dev)
        keep[best] = False
        left, after = left[keep], after[keep]
    weights = occlusion.clone() - (occlusion.abs().max() + 1.0) * 2
    for i, f in enumerate(taken):
        weights[f] = ORDER_TOP - i
    return weights


def answer_fidelity(lm: LoadedModel, head: int, relation: int, answer: int, ranking: str = DEFAULT_RANKING,
                    k_max: int = 10, draws: int = 10, seed: int = 0, graph: EdgeIndex | None = None,
                    attribution: Attribution | None = None, sufficiency: bool = True,
                    random_from: str = "r-digraph") -> tuple[FidelityResult, Attribution]:
    """Deletion and sufficiency curves of ``answer`` under ``ranking`` (k = 1..k_max; random facts drawn from the
    r-digraph, or ``random_from="neighbourhood"``: from every fact the propagation expanded), in one batch."""
    graph = graph or lm.graph
    att = attribution or attribute(lm, head, relation, answer, graph, rankings=_needed(ranking))
    _, facts = fact_index(graph)
    kg = lm.kg
    ranked = att.ranked(ranking) if len(att.facts) else att.facts
    described = [f"{kg.entity_label(h)} —{kg.relation_label(r)}→ {kg.entity_label(t)}"
                 for h, r, t in facts[ranked[:k_max]].tolist()]
    candidates = att.facts if random_from == "r-digraph" else att.neighbourhood
    result = measure_fidelity(RedGNNRescorer(lm, head, relation, answer, graph), ranked, candidates, k_max=k_max,
                              draws=draws, seed=seed, ranking=ranking, sufficiency=sufficiency,
                              base=(att.score, att.rank), evidence_edges=described, unreached_score=0.0)
    return result, att


def _needed(ranking: str) -> tuple[str, ...]:
    return {"greedy": tuple(RANKINGS), "occlusion": ("attention", "path", "gradient", "occlusion"),
            "path": ("attention", "path")}.get(ranking, (ranking,))


# ---------------------------------------------------------------------------------------------------- what-if
@dataclass(frozen=True)
class Edit:
    """One what-if edit of the graph: add or remove the fact (head, relation, tail); relation in the graph's
    relations or 'inverse of r' (r + n_rel: read as (tail, r, head))."""

    action: str   # "add" | "remove"
    head: int
    relation: int
    tail: int

    def canonical(self, n_rel: int) -> tuple[int, int, int]:
        if self.relation >= n_rel:
            return self.tail, self.relation - n_rel, self.head
        return self.head, self.relation, self.tail


def parse_edit(lm: LoadedModel, action: str, text: str) -> Edit:
    """'h|r|t' (names, labels or 'label · name'; r may be 'inverse of r') -> Edit; ValueError names the bad part."""
    if action not in ("add", "remove"):
        raise ValueError(f"a what-if edit adds or removes a fact, not {action!r}")
    parts = [p.strip() for p in str(text).split("|")]
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"--{action} expects 'head|relation|tail', got {text!r}")
    return Edit(action, lm.entity_id(parts[0]), lm.relation_id(parts[1]), lm.entity_id(parts[2]))


def edited_graph(lm: LoadedModel, edits: tuple[Edit, ...] | list[Edit]) -> EdgeIndex:
    """The loaded graph with the edits applied in order (a fact removed with its inverse; one already there or
    already absent: no change). No edits: the loaded graph itself (the same object, so the same scores)."""
    if not edits:
        return lm.graph
    fact_of_edge, facts = fact_index(lm.graph)
    n_rel = lm.kg.n_rel
    present = {tuple(f) for f in facts.tolist()}
    for e in edits:
        triple = e.canonical(n_rel)
        if triple[1] >= n_rel or triple[1] < 0:
            raise ValueError("the self-loop is not a fact that can be edited")
        if e.action == "add":
            present.add(triple)
        else:
            present.discard(triple)
    triples = torch.tensor(sorted(present), dtype=torch.long, device=lm.device).view(-1, 3)
    return EdgeIndex(triples, lm.kg.n_ent, n_rel)


def edit_exists(lm: LoadedModel, edit: Edit) -> bool:
    """Whether the edit's fact is in the loaded graph now."""
    _, facts = fact_index(lm.graph)
    h, r, t = edit.canonical(lm.kg.n_rel)
    return bool(((facts[:, 0] == h) & (facts[:, 1] == r) & (facts[:, 2] == t)).any())


@torch.no_grad()
def scores_on(lm: LoadedModel, head: int, relation: int, graph: EdgeIndex) -> torch.Tensor:
    """[n_ent] scores of (head, relation, ?) over ``graph`` (the loaded graph: the memoised pass, bit for bit)."""
    if graph is lm.graph:
        return lm.propagate(head, relation)[0]
    dev = lm.device
    return lm.model(torch.tensor([head], device=dev), torch.tensor([relation], device=dev), graph)[0]


def what_if(lm: LoadedModel, head: int | str, relation: int | str, edits: list[Edit], top: int = 20) -> pd.DataFrame:
    """Answers of (head, relation, ?) before and after ``edits``, side by side: one row per entity in either top
    ``top``, with score and filtered rank before and after and the rank change (positive: the answer fell)."""
    h, r = lm.entity_id(head), lm.relation_id(relation)
    before = scores_on(lm, h, r, lm.graph)
    after = scores_on(lm, h, r, edited_graph(lm, edits))
    dev = lm.device
    known = lm.known.mask(torch.tensor([h], device=dev), torch.tensor([r], device=dev))
    every = torch.ones(1, lm.kg.n_ent, dtype=torch.bool, device=dev)
    rank_b = filtered_ranks(before.unsqueeze(0), every, known)
    rank_a = filtered_ranks(after.unsqueeze(0), every, known)
    order_b = torch.argsort(before, descending=True, stable=True)[:top]
    order_a = torch.argsort(after, descending=True, stable=True)[:top]
    shown = list(dict.fromkeys(order_b.tolist() + order_a.tolist()))
    rows = [{"entity": lm.kg.entities[e], "label": lm.kg.entity_label(e), "known_fact": bool(known[0, e]),
             "score_before": float(before[e]), "rank_before": float(rank_b[e]),
             "score_after": float(after[e]), "rank_after": float(rank_a[e]),
             "rank_change": float(rank_a[e] - rank_b[e])} for e in shown]
    frame = pd.DataFrame(rows).sort_values(["rank_after", "rank_before"], kind="stable").reset_index(drop=True)
    frame.attrs["edits"] = [describe_edit(lm, e) + ("" if edit_exists(lm, e) != (e.action == "add") else
                                                    " (already in the graph: no change)" if e.action == "add" else
                                                    " (not in the graph: no change)") for e in edits]
    return frame


def describe_edit(lm: LoadedModel, e: Edit) -> str:
    h, r, t = e.canonical(lm.kg.n_rel)
    kg = lm.kg
    return f"{'added' if e.action == 'add' else 'removed'}: ({kg.entity_label(h)}, {kg.relation_label(r)}, " \
           f"{kg.entity_label(t)})"


# ---------------------------------------------------------------------------------------------------- benchmark
#: benchmarks/fidelity.py's test-split results (the page and the card's readers quote them)
BENCHMARK_FILE = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "fidelity-test-cpu.json"
BENCHMARK_NAMES = {"WN18RR_v1_ind": "WN18RR_v1", "fb237_v1_ind": "fb237_v1"}


def benchmark_line(dataset: str, ranking: str = DEFAULT_RANKING) -> str | None:
    """One sentence on how faithful ``ranking``'s top-5 facts are over the dataset's test queries (from
    benchmarks/fidelity.py's JSON), saying so when the target ratio (3x the random r-digraph facts) is missed;
    None when the dataset was not measured."""
    import json
    import math

    if not BENCHMARK_FILE.is_file():
        return None
    data = json.loads(BENCHMARK_FILE.read_text(encoding="utf-8"))
    found = data.get("datasets", {}).get(BENCHMARK_NAMES.get(dataset, dataset))
    if not found or not found.get("queries"):
        return None
    sub = found.get("more_than_k_facts") or found
    row = sub.get("rankings", {}).get(ranking)
    if not row:
        return None
    k, target = data.get("k", 5), data.get("target_ratio", 3.0)
    ratio = row["ratio_vs_random_r_digraph"]
    rnd = sub["random_r_digraph"]["mean_drop"]
    if math.isinf(ratio["ratio"]) or rnd <= 0:
        times = f"while {k} random facts of the r-digraph do not lower it on average ({rnd:+.3g})"
        verdict = "met"
    else:
        high = ratio["high"]
        high = f"{high:.1f}" if high is not None and math.isfinite(high) else "∞"  # resamples whose random mean ≤ 0
        times = (f"{ratio['ratio']:.1f}× the drop of {k} random r-digraph facts (95% interval "
                 f"{ratio['low']:.1f}–{high})")
        verdict = "met" if ratio["low"] >= target else ("met on the mean, not on the interval's low end"
                                                        if ratio["ratio"] >= target else "missed")
    return (f"Over {sub['queries']:,} test queries of {dataset} (benchmarks/fidelity.py), removing the top {k} "
            f"{ranking} facts lowers the answer's score by {row['mean_drop']:.3g} on average, {times}; "
            f"the target of {target:g}× is {verdict}.")
