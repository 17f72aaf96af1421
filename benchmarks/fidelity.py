"""Is RED-GNN's evidence faithful? Fidelity+ of the top-5 evidence facts vs 5 random facts, over many queries.

For each sampled query (h, r, t) of a split (tail queries and their inverse head queries, answer = the true
entity; queries whose answer the propagation does not reach are counted and left out: no evidence exists), every
ranking of the r-digraph's facts (backend/methods/redgnn/fidelity.py RANKINGS) is tested in one batch: the score
drop when its top-5 facts are removed (fidelity+), against 5 random facts of the r-digraph and 5 random facts of the
whole L-hop neighbourhood (10 seeded draws each, their mean per query). Reported per ranking: mean drops, the ratio
evidence / random with a bootstrap 95% interval over queries, mean rank change, and how often the answer lost first
place. Choose the ranking on ``--split valid``; report ``--split test``.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 python benchmarks/fidelity.py --split valid --n 100
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 python benchmarks/fidelity.py --split test --n 500 \
        --seconds 900     # per dataset: stops early and says how many queries it measured
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.core.fidelity import bootstrap_ratio, random_orders  # noqa: E402
from backend.methods.redgnn.fidelity import DEFAULT_RANKING, RANKINGS, RedGNNRescorer, attribute  # noqa: E402

DATASETS = {"family": "family", "umls": "umls", "WN18RR": "WN18RR", "WN18RR_v1": "WN18RR_v1-inductive",
            "fb237_v1": "fb237_v1-inductive"}
K, DRAWS, TARGET = 5, 10, 3.0


def sample_queries(kg, split: str, n: int, seed: int) -> torch.Tensor:
    """[n, 3] (head, relation in the doubled space, answer): the split's triples and their inverses, shuffled."""
    triples = getattr(kg, split)
    both = torch.cat([triples, torch.stack([triples[:, 2], triples[:, 1] + kg.n_rel, triples[:, 0]], 1)])
    gen = torch.Generator().manual_seed(seed)
    return both[torch.randperm(len(both), generator=gen)][:n]


def measure_query(lm, h: int, r: int, a: int, seed: int) -> dict | None:
    att = attribute(lm, h, r, a)
    if len(att.facts) == 0:
        return None
    resc = RedGNNRescorer(lm, h, r, a)
    rows = []
    for name in RANKINGS:
        row = torch.zeros(resc.n_edges, dtype=torch.bool)
        row[att.ranked(name)[:K].cpu()] = True
        rows.append(row)
    for candidates in (att.facts, att.neighbourhood):
        orders = random_orders(candidates, DRAWS, K, seed)
        for o in orders:
            row = torch.zeros(resc.n_edges, dtype=torch.bool)
            row[o] = True
            rows.append(row)
    scores, ranks = resc.rescore(torch.stack(rows))
    scores, ranks = scores.double().cpu().numpy(), ranks.double().cpu().numpy()
    n_r = len(RANKINGS)
    out = {"score": att.score, "rank": att.rank, "r_digraph_facts": len(att.facts),
           "neighbourhood_facts": len(att.neighbourhood), "seconds": att.seconds}
    for i, name in enumerate(RANKINGS):
        out[name] = {"drop": att.score - scores[i], "rank_after": ranks[i]}
    rd, nb = slice(n_r, n_r + DRAWS), slice(n_r + DRAWS, n_r + 2 * DRAWS)
    out["random_r_digraph"] = {"drop": float(att.score - scores[rd].mean()), "rank_after": float(ranks[rd].mean())}
    out["random_neighbourhood"] = {"drop": float(att.score - scores[nb].mean()),
                                   "rank_after": float(ranks[nb].mean())}
    return out


def summarise(per_query: list[dict]) -> dict:
    """All reached queries, and (the headline) those whose r-digraph has more than K facts: with K or fewer, any K
    facts are all of them, so the evidence and the random draw remove the same facts and cannot differ."""
    out = summarise_subset(per_query)
    out["more_than_k_facts"] = summarise_subset([q for q in per_query if q["r_digraph_facts"] > K])
    return out


def summarise_subset(per_query: list[dict]) -> dict:
    if not per_query:
        return {"queries": 0}
    rd = [q["random_r_digraph"]["drop"] for q in per_query]
    nb = [q["random_neighbourhood"]["drop"] for q in per_query]
    rd_rank = [q["random_r_digraph"]["rank_after"] - q["rank"] for q in per_query]
    out = {"queries": len(per_query),
           "answer_first": int(sum(q["rank"] == 1 for q in per_query)),
           "mean_r_digraph_facts": float(np.mean([q["r_digraph_facts"] for q in per_query])),
           "mean_neighbourhood_facts": float(np.mean([q["neighbourhood_facts"] for q in per_query])),
           "random_r_digraph": {"mean_drop": float(np.mean(rd)), "mean_rank_change": float(np.mean(rd_rank))},
           "random_neighbourhood": {"mean_drop": float(np.mean(nb))}, "rankings": {}}
    for name in RANKINGS:
        drop = [q[name]["drop"] for q in per_query]
        change = [q[name]["rank_after"] - q["rank"] for q in per_query]
        first = [q for q in per_query if q["rank"] == 1]
        out["rankings"][name] = {
            "mean_drop": float(np.mean(drop)), "mean_rank_change": float(np.mean(change)),
            "ratio_vs_random_r_digraph": bootstrap_ratio(drop, rd, seed=1),
            "ratio_vs_random_neighbourhood": bootstrap_ratio(drop, nb, seed=1),
            "rank_change_ratio_vs_random_r_digraph": (float(np.mean(change) / np.mean(rd_rank))
                                                      if np.mean(rd_rank) > 0 else None),
            "score_rose": int(sum(d < 0 for d in drop)),
            "first_lost": int(sum(q[name]["rank_after"] > 1 for q in first)),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", choices=["valid", "test"])
    parser.add_argument("--n", type=int, default=500, help="queries per dataset")
    parser.add_argument("--seconds", type=float, default=900, help="time limit per dataset")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None)
    parser.add_argument("--merge", action="store_true", help="update these datasets in an existing output file")
    args = parser.parse_args()
    from backend.registry import get_method

    method = get_method("redgnn")
    result = {"split": args.split, "k": K, "draws": DRAWS, "target_ratio": TARGET, "seed": args.seed,
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other "
                         f"jobs, torch threads {torch.get_num_threads()}", "load_average": os.getloadavg(),
              "rankings": RANKINGS, "datasets": {}}
    out_path = Path(args.output or ROOT / "benchmarks" / "results" / f"fidelity-{args.split}-cpu.json")
    if args.merge and out_path.is_file():
        kept = json.loads(out_path.read_text())["datasets"]
        result["datasets"] = {**kept, **result["datasets"]}
        result["merged"] = f"{', '.join(args.datasets)} measured again at {time.strftime('%H:%M UTC', time.gmtime())}"
    for ds in args.datasets:
        lm = method.load(ROOT / "models" / "redgnn" / DATASETS[ds], device="cpu")
        queries = sample_queries(lm.kg, args.split, args.n, args.seed)
        t0, per_query, unreached = time.perf_counter(), [], 0
        curve_seconds = []
        for i, (h, r, a) in enumerate(queries.tolist()):
            if time.perf_counter() - t0 > args.seconds:
                break
            q = measure_query(lm, h, r, a, args.seed + i)
            if q is None:
                unreached += 1
                continue
            per_query.append(q)
        seconds = time.perf_counter() - t0
        # one query's whole curve (K = 10, 10 draws, deletion and sufficiency) timed on 5 queries
        from backend.methods.redgnn.fidelity import answer_fidelity

        attribution_seconds = []
        for h, r, a in queries[:1 if lm.graph.n_edges > 100_000 else 5].tolist():
            t1 = time.perf_counter()
            res, _ = answer_fidelity(lm, h, r, a, ranking=DEFAULT_RANKING)
            curve_seconds.append(res.seconds)
            attribution_seconds.append(time.perf_counter() - t1 - res.seconds)
        summary = summarise(per_query) if per_query else {"queries": 0}
        summary["per_query"] = {  # what the ratios are computed from (greedy and attention top-5, the random means)
            "r_digraph_facts": [q["r_digraph_facts"] for q in per_query], "score": [q["score"] for q in per_query],
            "rank": [q["rank"] for q in per_query],
            **{f"{name}_drop": [float(q[name]["drop"]) for q in per_query] for name in ("greedy", "attention")},
            "random_r_digraph_drop": [q["random_r_digraph"]["drop"] for q in per_query],
            "random_neighbourhood_drop": [q["random_neighbourhood"]["drop"] for q in per_query]}
        summary.update({"sampled": len(queries), "measured": len(per_query) + unreached, "unreached": unreached,
                        "seconds": round(seconds, 1), "stopped_by_time_limit": len(per_query) + unreached < len(queries),
                        "curve_seconds_median": float(np.median(curve_seconds)), "curve_seconds": curve_seconds,
                        "curve_ranking": DEFAULT_RANKING, "attribution_seconds": attribution_seconds,
                        "load_average_after": os.getloadavg()})
        result["datasets"][ds] = summary
        best = {n: s["ratio_vs_random_r_digraph"]["ratio"]
                for n, s in summary.get("more_than_k_facts", {}).get("rankings", {}).items()}
        print(ds, summary["queries"], "queries", f"{seconds:.0f}s", {k: round(v, 2) for k, v in best.items()},
              flush=True)
        out_path.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
