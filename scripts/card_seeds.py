"""Fill ``seeds`` (metrics over training seeds) into the shipped RED-GNN cards from the committed seed runs.

    python scripts/card_seeds.py            # write the cards whose recipe the seed runs share
    python scripts/card_seeds.py --dry-run  # only say which cards match and why the others do not

The seed runs are the reports of ``benchmarks/redgnn_seeds.py`` under ``benchmarks/results/`` (``*seed*.json``:
one run per seed, each with its test metrics and valid MRR). A report counts for a card only when its training
configuration is the card's, up to the seed and to settings that do not change the model trained (where the
checkpoint goes, the training forward's implementation, a time budget that did not stop the run). The shipped
checkpoint enters with its own card metrics under its seed; the reports' runs of the other seeds join it; a card
gets ``seeds`` only with two seeds or more. Only the ``seeds`` key of a card.json changes (``store.update_card``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.core import store  # noqa: E402
from backend.methods.redgnn.config import RedGNNConfig  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
#: configuration entries that do not change the model a run trains: the seed (the point of the exercise), where
#: the checkpoint goes, whether test was also tracked, and how the same forward is computed
NOT_RECIPE = {"seed", "output", "track_test", "propagation", "compile", "cuda_graphs", "max_seconds", "init_from"}
DEFAULTS = {f.name: f.default for f in dataclasses.fields(RedGNNConfig) if f.default is not dataclasses.MISSING}


def recipe(config: dict) -> dict:
    """The entries of a training configuration that decide what is trained (missing ones at their default)."""
    full = {**{k: v for k, v in DEFAULTS.items()}, **config}
    return {k: v for k, v in full.items() if k not in NOT_RECIPE}


def mismatch(card: store.Card, report: dict) -> str:
    """'' when ``report``'s runs train what ``card``'s run trained; else why not."""
    train = card.train or {}
    mine, theirs = recipe(train.get("config") or {}), recipe(report.get("config") or {})
    differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    if differ:
        return "configuration differs: " + ", ".join(f"{k} {mine.get(k)!r} vs {theirs.get(k)!r}" for k in differ)
    config = train.get("config") or {}
    if config.get("max_seconds") and train.get("epochs") != config.get("epochs"):
        return (f"the shipped run was stopped by a time budget ({config['max_seconds']:g} s) after "
                f"{train.get('epochs')} of {config.get('epochs')} epochs")
    mine_from, theirs_from = str(config.get("init_from") or ""), str((report.get("config") or {}).get("init_from") or "")
    if bool(mine_from) != bool(theirs_from) or not theirs_from.startswith(mine_from):
        return f"continued from another checkpoint ({mine_from or 'none'} vs {theirs_from or 'none'})"
    return ""


def seed_runs(card: store.Card, reports: dict[Path, dict]) -> tuple[list, list[str], list[str]]:
    """(runs for store.seed_summary: the card itself, then one dict per other seed; the reports used; notes)."""
    shipped = (card.train or {}).get("seed")
    runs, used, notes, seen = [card], [], [], {shipped}
    for path, report in reports.items():
        if report.get("dataset") != (card.train.get("config") or {}).get("dataset", card.dataset):
            continue
        why = mismatch(card, report)
        if why:
            notes.append(f"{path.name}: not used, {why}")
            continue
        used.append(path.relative_to(ROOT).as_posix())
        for run in report.get("runs", []):
            if run["seed"] == shipped:
                own = card.metric("test", "mrr")
                if abs(run["test"]["mrr"] - own) > 1e-3:
                    notes.append(f"{path.name}: its seed-{shipped} run (test MRR {run['test']['mrr']:.4f}) is another "
                                 f"run of the shipped seed; the shipped checkpoint's own {own:.4f} is used")
                continue
            if run["seed"] in seen:
                continue
            seen.add(run["seed"])
            runs.append({"seed": run["seed"], "test": dict(run["test"]), "valid": {"mrr": run["valid_mrr"]}})
    return runs, used, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    reports = {p: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("redgnn-*seed*.json"))}
    for card in store.list_cards(method="redgnn"):
        runs, used, notes = seed_runs(card, reports)
        name = card.folder_name
        if len(runs) < 2:
            print(f"{name}: no seeds ({'; '.join(notes) or 'no seed runs of this dataset'})")
            continue
        summary = store.seed_summary(runs, card.train["seed"])
        summary["source"] = used
        if any("another run" in n for n in notes):
            summary["note"] = "; ".join(n.split(": ", 1)[1] for n in notes if "another run" in n)
        test = summary["metrics"]["test"]["mrr"]
        print(f"{name}: seeds {summary['seeds']} test MRR {test['mean']:.4f} ± {test['std']:.4f} "
              f"(shipped {card.metric('test', 'mrr'):.4f}) from {', '.join(used)}"
              + "".join(f"\n    {n}" for n in notes))
        if not args.dry_run:
            store.update_card(card.path, seeds=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
