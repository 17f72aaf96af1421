"""Print the results tables of models/coldnas/README.md from the shipped cards (so the README's numbers are the
cards'): test MSE / MAE / nDCG@3 mean ± std over seeds for ColdNAS and each baseline, paired-test p-values, the
search's candidates and timing.

    PYTHONPATH=. python scripts/coldnas_results.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("mse", "mae", "ndcg@3")


def cell(summary: dict | None, plain: dict | None, metric: str) -> str:
    s = ((summary or {}).get("metrics", {}).get("test", {}) or {}).get(metric)
    if s and s.get("std") is not None:
        return f"{s['mean']:.4f} ± {s['std']:.4f}"
    v = (plain or {}).get(metric)
    return "—" if v is None else f"{v:.4f}"


def main() -> None:
    for folder in sorted((ROOT / "models" / "coldnas").iterdir()):
        card_path = folder / "card.json"
        if not card_path.is_file():
            continue
        card = json.loads(card_path.read_text())
        seeds = card.get("seeds") or {}
        print(f"\n### {card['dataset']} (test users; {seeds.get('n', 1)} seeds, mean ± std)\n")
        print("| model | MSE | MAE | nDCG@3 | paired Wilcoxon p (MSE) | Δ MSE (ColdNAS − baseline) |")
        print("|---|---|---|---|---|---|")
        s = card["artefacts"]["structure"]["text"]
        print(f"| **ColdNAS** ({s}) | " + " | ".join(cell(seeds, card["metrics"]["test"], m) for m in METRICS)
              + " | | |")
        for name, b in card["extras"]["baselines"].items():
            p = b.get("paired_test_mse") or {}
            print(f"| {b['title']} | " + " | ".join(cell(b.get("seeds"), b["metrics"]["test"], m) for m in METRICS)
                  + f" | {p.get('wilcoxon_p', float('nan')):.2g} (t-test {p.get('ttest_p', float('nan')):.2g}) "
                    f"| {p.get('mean_difference', float('nan')):+.4f} |")
        sh = card["metrics"]
        print(f"\nShipped seed {card['train']['seed']}: valid MSE {sh['valid']['mse']:.4f}, test MSE "
              f"{sh['test']['mse']:.4f} / MAE {sh['test']['mae']:.4f} / nDCG@3 {sh['test']['ndcg@3']:.4f}; "
              f"best epoch {card['train']['best_epoch']} of {card['train']['epochs']}.")
        search = card["extras"].get("search")
        if search:
            traj = [json.loads(x) for x in (folder / "trajectory.jsonl").read_text().splitlines()]
            print(f"\nSearch: supernet {search['supernet_epochs']} epochs ({search['supernet_seconds']} s, gates of "
                  f"epoch {search['supernet_best_epoch']}), top {len(traj)} structures retrained "
                  f"{card['train']['config']['candidate_epochs']} epochs each, chosen on validation MSE:\n")
            print("| structure | code | gate log-likelihood | validation MSE | seconds |")
            print("|---|---|---|---|---|")
            for r in traj:
                mark = " **(chosen)**" if r["candidate"]["structure"] == search["chosen"] else ""
                print(f"| {r['candidate']['text']}{mark} | {r['candidate']['structure']} | "
                      f"{r['candidate']['log_likelihood']:.3f} | {r['score']:.4f} | {r['seconds']:.1f} |")
            print(f"\nTime to choose the structure {search['seconds_to_choose']} s; final training (all models and "
                  f"seeds) {search.get('retrain_seconds', '—')} s.")


if __name__ == "__main__":
    sys.exit(main())
