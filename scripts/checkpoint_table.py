"""Print the README's table of shipped checkpoints for one method, read from the cards under models/.

    python scripts/checkpoint_table.py redgnn
"""
from __future__ import annotations

import argparse

from backend.core import store
from backend.core.references import reference_rows
from backend.methods.redgnn.config import inductive_queries_of
from ui.components.model_card import format_seconds, trained_on


def _number(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def checkpoint_rows(method: str) -> list[str]:
    """Markdown rows: transductive checkpoints first, then inductive, by dataset name."""
    papers = {(r["dataset"], r["setting"]): r["value"] for r in reference_rows(method)
              if r["metric"] == "mrr" and r["citation"] != "survey"}
    cards = sorted((c for c in store.list_cards() if c.method == method),
                   key=lambda c: (c.setting == "inductive", c.dataset.lower()))
    rows = ["| dataset | test MRR | Hits@1 | Hits@10 | MRR, NBFNet ties | paper MRR | params | "
            "best epoch (valid) | training time | device |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for c in cards:
        test = c.flat_metrics("test")
        train = c.train or {}
        resplit = inductive_queries_of(train) == "resplit"
        name = c.dataset + (" (inductive, re-split)" if resplit else " (inductive)" if c.setting == "inductive" else "")
        rows.append(
            f"| {name} | {_number(test.get('mrr'))} | {_number(test.get('hits@1'))} | {_number(test.get('hits@10'))} "
            f"| {_number(test.get('nbfnet_mrr'))} | {_number(papers.get((c.dataset, c.setting)))} "
            f"| {c.params.get('total', 0):,} | {train.get('best_epoch')} of {train.get('epochs')} "
            f"| {format_seconds(train.get('seconds'))} | {trained_on(train)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method")
    print("\n".join(checkpoint_rows(parser.parse_args().method)))


if __name__ == "__main__":
    main()
