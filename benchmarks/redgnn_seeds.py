"""RED-GNN over several seeds: train each (valid-only selection), report test metrics per seed and mean ± std.

    python benchmarks/redgnn_seeds.py --dataset family --seeds 1234 1 2 --epochs 12 --patience 3 \
        --output benchmarks/results/redgnn-family-seeds-cpu.json
    python benchmarks/redgnn_seeds.py --dataset fb237_v4 --seeds 1 --inductive-queries resplit \
        --init-from FOLDER --epochs 25        # each seed continues the same checkpoint

Checkpoints go to a temporary folder, or KEEP/<seed> with --keep (the shipped one is never replaced);
prints one JSON object.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.device import device_label, keep_freed_memory, select_device  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.core.store import settings_kept_when_continued  # noqa: E402
from backend.methods.redgnn.config import INDUCTIVE_QUERIES, config_for  # noqa: E402
from backend.methods.redgnn.train import train  # noqa: E402

METRICS = ("mrr", "hits@1", "hits@10", "nbfnet_mrr")


def summarise(runs: list[dict]) -> dict:
    """mean and sample std (0 for one run) of each metric over the runs."""
    out = {}
    for m in METRICS:
        values = [r["test"][m] for r in runs]
        out[m] = {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="family")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1234, 1, 2])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--patience", type=int, default=0)
    parser.add_argument("--inductive-queries", default=None, choices=INDUCTIVE_QUERIES,
                        help="inductive training queries: RED-GNN's valid triples (the default), or a re-split "
                             "each epoch; with --init-from, the checkpoint's own unless given")
    parser.add_argument("--init-from", default="",
                        help="continue this checkpoint in every seed (--epochs then counts its epochs too)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output", default=None, help="also write the JSON here")
    parser.add_argument("--keep", default=None, help="keep each seed's checkpoint in KEEP/<seed> (default: discard)")
    args = parser.parse_args()
    keep_freed_memory()
    device = select_device(args.device)
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        for seed in args.seeds:
            config = config_for(args.dataset)
            config.seed, config.patience, config.init_from = seed, args.patience, args.init_from
            if args.init_from:  # continuing keeps the checkpoint's recipe, as `train --init-from` does
                config = dataclasses.replace(config, **settings_kept_when_continued(config, args.init_from))
            if args.inductive_queries:
                config.inductive_queries = args.inductive_queries
            if args.epochs:
                config.epochs = args.epochs
            config.output = str(Path(tmp) / str(seed))
            t0 = time.perf_counter()
            card = train(config, device=device, data_dir=args.data_dir)
            runs.append({"seed": seed, "test": {m: card.flat_metrics("test")[m] for m in METRICS},
                         "valid_mrr": card.metrics["valid"]["mrr"], "best_epoch": card.train["best_epoch"],
                         "epochs": card.train["epochs"], "train_seconds": card.train["seconds"],
                         "wall_seconds": round(time.perf_counter() - t0, 1)})
            if args.output:  # after each seed: a run stopped later keeps the seeds it finished
                Path(args.output).write_text(json.dumps(report(args.dataset, device, config, runs), indent=1) + "\n")
    emit_json(report(args.dataset, device, config, runs))  # the file was written after the last seed


def report(dataset: str, device, config, runs: list[dict]) -> dict:
    """The JSON this script prints: the runs so far and their mean ± std."""
    return {"dataset": dataset, "device": device_label(device), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "n_seeds": len(runs),
            "config": {k: v for k, v in dataclasses.asdict(config).items() if k not in ("seed", "output")},
            "selection": "epoch with the best valid MRR, per seed", "runs": runs, "test": summarise(runs)}


if __name__ == "__main__":
    main()
