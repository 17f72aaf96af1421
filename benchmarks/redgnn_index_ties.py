"""A shipped RED-GNN checkpoint ranked under the original code's metric before its Aug-2022 "update metric"
commit (kg.md 1.4): ``rankdata(method='ordinal')``, so an answer tied with other candidates is ranked after the
tied candidates of lower entity id only (ties broken by entity index). Printed beside the three tie policies of
the cards (average = the current original code, optimistic, pessimistic = NBFNet) to show how much of a
published figure can come from the tie rule alone. Prints one JSON object.

    python benchmarks/redgnn_index_ties.py WN18RR [--split test] [--output FILE]
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core import store  # noqa: E402
from backend.core.batching import query_slices  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.core.metrics import filtered_ranks, ranking_metrics  # noqa: E402
from backend.methods.redgnn.config import RedGNNConfig  # noqa: E402
from backend.methods.redgnn.explain import load_model  # noqa: E402

redgnn_train = importlib.import_module("backend.methods.redgnn.train")  # the package's `train` is a function


def lower_index_ties(scores: torch.Tensor, competing: torch.Tensor) -> torch.Tensor:
    """[B, N]: for every entity, how many competing entities of a lower id have exactly its score."""
    sorted_scores, order = torch.sort(scores, dim=1, stable=True)  # ties stay in id order
    flags = competing.gather(1, order).long()
    before = torch.cumsum(flags, dim=1) - flags  # competing entities earlier in the sorted row
    block_start = torch.searchsorted(sorted_scores, sorted_scores, right=False)  # first of each tie block
    in_block = before - before.gather(1, block_start)
    out = torch.empty_like(in_block)
    return out.scatter_(1, order, in_block)


def index_tie_ranks(scores: torch.Tensor, answer_mask: torch.Tensor, known_mask: torch.Tensor) -> torch.Tensor:
    """Filtered ranks [K] with ties broken by entity id (row-major answer order, as filtered_ranks)."""
    optimistic = filtered_ranks(scores, answer_mask, known_mask, policy="optimistic")
    return optimistic + lower_index_ties(scores, ~known_mask)[answer_mask].to(torch.float64)


@torch.no_grad()
def rank_split(folder: Path, split: str) -> dict:
    lm = load_model(folder, "cpu")
    config = RedGNNConfig(**lm.card.train["config"])
    kg, kg_ind = redgnn_train.load_data(config.dataset)
    task = redgnn_train.eval_tasks(kg, kg_ind, "cpu")[split]
    lm.model.eval()
    ranks = {p: [] for p in ("average", "optimistic", "pessimistic", "entity_id_order")}
    began = time.perf_counter()
    for part in query_slices(len(task.queries), config.n_tbatch, task.queries.device):
        q = task.queries[part]
        scores = lm.model(q[:, 0], q[:, 1], task.graph)
        answers, known = task.answers.mask(q[:, 0], q[:, 1]), task.known.mask(q[:, 0], q[:, 1])
        for policy in ("average", "optimistic", "pessimistic"):
            ranks[policy].append(filtered_ranks(scores, answers, known, policy=policy))
        ranks["entity_id_order"].append(index_tie_ranks(scores, answers, known))
    metrics = {p: ranking_metrics(torch.cat(r)) for p, r in ranks.items()}
    return {"checkpoint": str(folder.relative_to(store.MODELS_DIR.parent)), "dataset": config.dataset,
            "split": split, "answers": int(sum(r.numel() for r in ranks["average"])),
            "seconds": round(time.perf_counter() - began, 1), "threads": torch.get_num_threads(),
            "card_mrr": lm.card.metrics[split]["mrr"], "by_tie_rule": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="checkpoint folder under models/redgnn, e.g. WN18RR")
    parser.add_argument("--split", default="test", choices=("valid", "test"))
    parser.add_argument("--output")
    args = parser.parse_args()
    emit_json(rank_split(store.MODELS_DIR / "redgnn" / args.folder, args.split), args.output)


if __name__ == "__main__":
    main()
