"""Would a validation drawn from the inductive test graph select RED-GNN checkpoints better?

RED-GNN's inductive protocol selects on the *training* graph's held-out triples, which on the nell splits do not
track the unseen test graph (kg.md, models/redgnn/README.md). The test graph's own valid.txt is part of the test
queries there, so it cannot be used. What a user does have at inference time is the test graph's facts: this
script holds out a fixed share of them (no test triple is read or filtered with), ranks each held-out fact over
the remaining facts, and compares, for several checkpoints of one split (seeds, recipes), which one each
criterion would select and what that one scores on test. On small graphs a tenth of the facts is few: disjoint
folds of that share are held out in turn until at least ``--min-held-out`` facts have been ranked, and the
holdout MRR is over all of them. Prints one JSON object.

    python benchmarks/redgnn_inductive_selection.py CKPT_DIR [CKPT_DIR ...] [--holdout 0.1] [--min-held-out 500]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.files import emit_json  # noqa: E402
from backend.core.metrics import ranking_metrics  # noqa: E402
from backend.methods.redgnn.config import RedGNNConfig  # noqa: E402
from backend.methods.redgnn.explain import load_model  # noqa: E402

redgnn_train = importlib.import_module("backend.methods.redgnn.train")  # the package's `train` is a function


def holdout_folds(facts: torch.Tensor, share: float, min_held_out: int = 1, seed: int = 0) -> list[tuple]:
    """[(held-out facts, the other facts)] per fold: disjoint folds of ``share`` of the facts in a fixed random
    order, as many as it takes to hold out at least ``min_held_out`` (the first fold does not depend on it)."""
    order = torch.randperm(len(facts), generator=torch.Generator().manual_seed(seed))
    fold_size = max(1, int(round(share * len(facts))))
    n_folds = min(len(facts) // fold_size, max(1, -(-min_held_out // fold_size)))
    folds = []
    for fold in range(n_folds):
        held_ids = order[fold * fold_size:(fold + 1) * fold_size]
        kept_mask = torch.ones(len(facts), dtype=torch.bool)
        kept_mask[held_ids] = False
        folds.append((facts[held_ids], facts[kept_mask]))
    return folds


def holdout_tasks(dataset: str, share: float, min_held_out: int = 1) -> tuple[list, int, int]:
    """One EvalTask per fold of the test graph's facts: its held-out facts ranked over the graph of the others,
    filtered with the graph's facts only (no test triple is read)."""
    _, kg_ind = redgnn_train.load_data(dataset)
    empty = torch.empty(0, 3, dtype=torch.long)
    folds = holdout_folds(kg_ind.facts, share, min_held_out)
    tasks = [redgnn_train.EvalTask.build(dataclasses.replace(kg_ind, facts=kept, train=empty, valid=held, test=empty),
                                         kept, held, "cpu") for held, kept in folds]
    return tasks, sum(len(held) for held, _ in folds), len(kg_ind.facts)


def score_checkpoint(folder: Path, tasks: list) -> dict:
    """A checkpoint's recipe, seed, card valid and test MRR, and its MRR over every fold's held-out facts."""
    lm = load_model(folder, "cpu")
    config = RedGNNConfig(**lm.card.train["config"])
    ranks = [redgnn_train.answer_ranks(lm.model, task, config.n_tbatch, policies=("average",)).by_policy["average"]
             for task in tasks]
    return {"checkpoint": str(folder), "recipe": config.inductive_queries, "seed": config.seed,
            "epochs": lm.card.train["epochs"], "valid_mrr": lm.card.metrics["valid"]["mrr"],
            "holdout_mrr": ranking_metrics(torch.cat(ranks))["mrr"],
            "test_mrr": lm.card.metrics["test"]["mrr"]}


def selections(rows: list[dict]) -> dict:
    """Test MRR of the checkpoint each criterion selects, against the best and the worst on test."""
    def pick(key):
        best = max(rows, key=lambda r: r[key])
        return {"checkpoint": best["checkpoint"], "test_mrr": best["test_mrr"]}

    tests = [r["test_mrr"] for r in rows]
    return {"by_valid": pick("valid_mrr"), "by_holdout": pick("holdout_mrr"),
            "test_best": max(tests), "test_worst": min(tests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--holdout", type=float, default=0.1, help="share of the test graph's facts held out")
    parser.add_argument("--min-held-out", type=int, default=1,
                        help="hold out further disjoint folds until this many facts are ranked")
    parser.add_argument("--output")
    args = parser.parse_args()
    by_dataset: dict[str, list[Path]] = defaultdict(list)
    for folder in args.checkpoints:
        by_dataset[RedGNNConfig(**load_model(folder, "cpu").card.train["config"]).dataset].append(folder)
    began = time.perf_counter()
    splits = {}
    for dataset, folders in sorted(by_dataset.items()):
        tasks, n_held, n_facts = holdout_tasks(dataset, args.holdout, args.min_held_out)
        rows = [score_checkpoint(f, tasks) for f in folders]
        splits[dataset] = {"held_out_facts": n_held, "facts": n_facts, "checkpoints": rows, **selections(rows)}
    emit_json({"holdout_share": args.holdout, "min_held_out": args.min_held_out, "threads": torch.get_num_threads(),
               "seconds": round(time.perf_counter() - began, 1), "splits": splits}, args.output)


if __name__ == "__main__":
    main()
