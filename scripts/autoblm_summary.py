"""The shipped AutoBLM results as a Markdown table (from the cards and trajectories only): per dataset, the
searched structure and the four classic models under the same budget, test MRR mean ± std over seeds, and
whether the searched structure beats the best classic by more than the larger std.

    python scripts/autoblm_summary.py [--json benchmarks/results/autoblm-summary.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.search import Trajectory  # noqa: E402
from backend.core.store import MODELS_DIR, list_cards  # noqa: E402


def summary() -> dict:
    out = {}
    cards = list_cards(method="autoblm")
    for ds in sorted({c.dataset for c in cards}):
        rows = []
        for c in (c for c in cards if c.dataset == ds):
            art = c.artefacts["structure"]["value"]
            seeds = c.seeds["metrics"]["test"]
            rows.append({"model": "searched" if c.setting == "default" else art["name"], "blocks": art["blocks"],
                         "formula": art["formula"], "test_mrr_mean": seeds["mrr"]["mean"],
                         "test_mrr_std": seeds["mrr"]["std"], "valid_mrr_mean": c.seeds["metrics"]["valid"]["mrr"]["mean"],
                         "test_hits@1_mean": seeds["hits@1"]["mean"], "test_hits@10_mean": seeds["hits@10"]["mean"],
                         "params": c.params["total"], "seconds": c.train["seconds"], "seeds": c.seeds["n"],
                         "config": {k: c.train["config"][k] for k in ("dim", "epochs", "lr", "lamb", "batch_size")}})
        searched = next((r for r in rows if r["model"] == "searched"), None)
        classics = [r for r in rows if r["model"] != "searched"]
        verdict = None
        if searched and classics:
            best = max(classics, key=lambda r: r["test_mrr_mean"])
            margin = searched["test_mrr_mean"] - best["test_mrr_mean"]
            larger = max(searched["test_mrr_std"], best["test_mrr_std"])
            verdict = {"best_classic": best["model"], "margin": margin, "larger_std": larger,
                       "beats_by_more_than_std": margin > larger}
        traj = MODELS_DIR / "autoblm" / ds / "trajectory.jsonl"
        records = Trajectory(traj).records() if traj.exists() else []
        out[ds] = {"rows": sorted(rows, key=lambda r: -r["test_mrr_mean"]), "verdict": verdict,
                   "search_candidates": len(records),
                   "search_candidate_seconds": round(sum(r.get("seconds", 0) for r in records), 1)}
    return out


def markdown(s: dict) -> str:
    lines = []
    for ds, d in s.items():
        lines.append(f"\n**{ds}** (test MRR, mean ± std over seeds; same d, epochs, lr, batch for every row)\n")
        lines.append("| model | blocks | test MRR | valid MRR | Hits@1 | Hits@10 | params |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in d["rows"]:
            lines.append(f"| {r['model']} | {r['blocks']} | {r['test_mrr_mean']:.4f} ± {r['test_mrr_std']:.4f} | "
                         f"{r['valid_mrr_mean']:.4f} | {r['test_hits@1_mean']:.4f} | {r['test_hits@10_mean']:.4f} | "
                         f"{r['params']:,} |")
        v = d["verdict"]
        if v:
            lines.append(f"\nSearched − best classic ({v['best_classic']}): {v['margin']:+.4f}; larger std "
                         f"{v['larger_std']:.4f}: {'beats it by more than the std' if v['beats_by_more_than_std'] else 'target missed'}.")
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--json", default=None)
    a = p.parse_args()
    s = summary()
    print(markdown(s))
    if a.json:
        Path(a.json).write_text(json.dumps(s, indent=1) + "\n", encoding="utf-8")
