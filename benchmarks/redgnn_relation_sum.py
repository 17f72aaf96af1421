"""CPU speed of RED-GNN's ways to sum a layer's messages (backend/methods/redgnn/model.py): the relation part
gathered per edge, or summed per (target, relation) and multiplied by the relation embeddings
(RELATION_SUM_CELLS_PER_EDGE); and both parts as sparse matrix products with their own backward
(SPARSE_MATMUL_ON_CPU, the CPU default, compared with the summed path). Training steps from the same initial weights and
test-split ranking with a shipped checkpoint, the paths alternated in one process (``--repeats`` rounds, the
machine's noise shows as the spread), with the test MRR of each (equal up to float rounding). Prints one JSON
object.

    python benchmarks/redgnn_relation_sum.py family umls [--threads 1] [--output FILE]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core import store  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.kg.graph import EdgeIndex  # noqa: E402
from backend.methods.redgnn.config import config_for  # noqa: E402
from backend.methods.redgnn.explain import load_model  # noqa: E402

model_module = importlib.import_module("backend.methods.redgnn.model")
redgnn_train = importlib.import_module("backend.methods.redgnn.train")  # the package's `train` is a function
PATHS = {"per_edge": 0, "summed": model_module.RELATION_SUM_CELLS_PER_EDGE}
SPARSE_MATMUL = "sparse_matmul"


def training_rate(dataset: str, n_batches: int) -> float:
    """Training queries/s over n_batches after 2 warm-up batches, from seed-0 weights."""
    config = config_for(dataset)
    kg, _ = redgnn_train.load_data(dataset)
    triples, queries = redgnn_train._epoch_queries(kg, config, torch.Generator().manual_seed(0))
    graph = EdgeIndex(triples, kg.n_ent, kg.n_rel)
    torch.manual_seed(0)
    model = redgnn_train.build_model(config, kg.n_rel)
    step = redgnn_train.make_train_step(model, redgnn_train.make_optimizer(model, config), config)
    bs = config.n_batch
    for b in range(2):
        step(queries[b * bs:(b + 1) * bs], graph)
    began = time.perf_counter()
    for b in range(2, 2 + n_batches):
        step(queries[b * bs:(b + 1) * bs], graph)
    return n_batches * bs / (time.perf_counter() - began)


def ranking(folder: str, n_queries: int) -> tuple[float, float]:
    """(test queries/s, test MRR) of a shipped checkpoint on the first n_queries test queries."""
    lm = load_model(store.MODELS_DIR / "redgnn" / folder, "cpu")
    kg, kg_ind = redgnn_train.load_data(lm.card.dataset)
    task = redgnn_train.eval_tasks(kg, kg_ind, "cpu")["test"]
    task = dataclasses.replace(task, queries=task.queries[:n_queries])
    began = time.perf_counter()
    metrics = redgnn_train.evaluate_task(lm.model, task, int(lm.card.train["config"]["n_tbatch"]), ("average",))
    return len(task.queries) / (time.perf_counter() - began), metrics["average"]["mrr"]


def measure(folder: str, train_batches: int, eval_queries: int, repeats: int) -> dict:
    """Both kinds of rate for each path, on the dataset of the shipped checkpoint ``folder``."""
    dataset = store.load_card(store.MODELS_DIR / "redgnn" / folder).dataset
    rates: dict[str, dict[str, list[float]]] = {p: {"train": [], "eval": []} for p in (*PATHS, SPARSE_MATMUL)}
    mrr: dict[str, float] = {}
    sparse_matmul = model_module.SPARSE_MATMUL_ON_CPU
    try:
        for _ in range(repeats):
            model_module.SPARSE_MATMUL_ON_CPU = False
            for path, cells in PATHS.items():
                model_module.RELATION_SUM_CELLS_PER_EDGE = cells
                rates[path]["train"].append(training_rate(dataset, train_batches))
                rate, mrr[path] = ranking(folder, eval_queries)
                rates[path]["eval"].append(rate)
            model_module.SPARSE_MATMUL_ON_CPU = True
            rates[SPARSE_MATMUL]["train"].append(training_rate(dataset, train_batches))
            rate, mrr[SPARSE_MATMUL] = ranking(folder, eval_queries)
            rates[SPARSE_MATMUL]["eval"].append(rate)
    finally:
        model_module.RELATION_SUM_CELLS_PER_EDGE = PATHS["summed"]
        model_module.SPARSE_MATMUL_ON_CPU = sparse_matmul
    out = {"dataset": dataset, "checkpoint": folder, "train_batches": train_batches, "eval_queries": eval_queries}
    for path in (*PATHS, SPARSE_MATMUL):
        for kind in ("train", "eval"):
            out[f"{path}_{kind}_queries_per_s"] = [round(r, 1) for r in rates[path][kind]]
        out[f"{path}_test_mrr"] = mrr[path]
    speedup = lambda a, b, kind: round(statistics.mean(rates[a][kind]) / statistics.mean(rates[b][kind]), 2)
    for kind in ("train", "eval"):
        out[f"speedup_{kind}"] = speedup("summed", "per_edge", kind)
        out[f"speedup_{kind}_sparse_matmul"] = speedup(SPARSE_MATMUL, "summed", kind)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+", help="shipped checkpoint folders (family, umls, fb237_v4-inductive, ...)")
    ap.add_argument("--train-batches", type=int, default=60)
    ap.add_argument("--eval-queries", type=int, default=800)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {"device": "cpu", "threads": args.threads, "torch": torch.__version__, "repeats": args.repeats,
              "cells_per_edge": PATHS["summed"],
              "datasets": [measure(d, args.train_batches, args.eval_queries, args.repeats) for d in args.datasets]}
    emit_json(result, args.output)
    return result


if __name__ == "__main__":
    main()
