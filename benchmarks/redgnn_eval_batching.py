"""CPU evaluation speed of shipped RED-GNN checkpoints: the configured batch size (the original's) against
the size tuned on the first batches (backend/core/batching.py), back to back on the same test split, with the
test MRR of both (equal up to float rounding). Prints one JSON object.

    python benchmarks/redgnn_eval_batching.py umls WN18RR fb237_v4-inductive [--output FILE]
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
from backend.core.files import emit_json  # noqa: E402
from backend.methods.redgnn.explain import load_model  # noqa: E402

# the module (the package's name `train` is its train function)
redgnn_train = importlib.import_module("backend.methods.redgnn.train")


def configured_slices(n: int, batch_size: int, device) -> list[slice]:
    return [slice(s, min(n, s + batch_size)) for s in range(0, n, batch_size)]


def measure(folder: str) -> dict:
    lm = load_model(store.MODELS_DIR / "redgnn" / folder, "cpu")
    kg, kg_ind = redgnn_train.load_data(lm.card.dataset)
    task = redgnn_train.eval_tasks(kg, kg_ind, "cpu")["test"]
    batch = int(lm.card.train["config"]["n_tbatch"])
    out = {"checkpoint": folder, "test_queries": len(task.queries), "configured_batch": batch}
    tuned = redgnn_train.query_slices
    for name, slices in (("configured", configured_slices), ("tuned", tuned)):
        redgnn_train.query_slices = slices  # the evaluation loop's batching, swapped for the measurement
        try:
            start = time.perf_counter()
            metrics = redgnn_train.evaluate_task(lm.model, task, batch, policies=("average",))["average"]
            seconds = time.perf_counter() - start
        finally:
            redgnn_train.query_slices = tuned
        out[name] = {"seconds": round(seconds, 2), "queries_per_s": round(len(task.queries) / seconds, 1),
                     "mrr": metrics["mrr"]}
    out["speedup"] = round(out["configured"]["seconds"] / out["tuned"]["seconds"], 2)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", help="folders under models/redgnn/")
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    result = {"device": "cpu", "threads": torch.get_num_threads(), "torch": torch.__version__,
              "runs": [measure(folder) for folder in args.checkpoints]}
    emit_json(result, args.output)
    return result


if __name__ == "__main__":
    main()
