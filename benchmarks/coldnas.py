"""ColdNAS search + retrain on Last.fm: wall time per stage and peak memory, beside the original code's 110 s
(79 s search + 30 s retrain, measured-originals.md). Prints one JSON object and writes it to
benchmarks/results/coldnas-<dataset>-<device>.json.

    OMP_NUM_THREADS=1 python benchmarks/coldnas.py [--dataset lastfm] [--device cpu] [--top-k 5]

The search runs exactly as `python -m backend search coldnas` does (supernet -> top-k structures retrained briefly
and compared on validation users -> the best retrained from scratch and evaluated once on test users), without
the baselines and with one seed, into a temporary folder. The machine's load average is recorded: the 2-core CPU
of this project is shared, so the wall times are upper bounds of the method's own cost.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ORIGINAL = {"search_seconds": 79.0, "retrain_seconds": 30.0, "total_seconds": 110.0, "peak_rss_mib": 836,
            "test_mse_final_epoch": 0.2559, "test_mae_final_epoch": 0.3549, "test_ndcg@3_final_epoch": 0.797,
            "source": "measured-originals.md: LARS-research/ColdNAS ca5a9fc, 100 + 100 epochs, this CPU"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="lastfm")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--output", default=None, help="results JSON (default: benchmarks/results/...)")
    parser.add_argument("--quick", action="store_true", help="one epoch per stage, two candidates (a dry run)")
    args = parser.parse_args()

    import torch

    from backend.methods.coldnas.config import config_for
    import importlib

    cn_train = importlib.import_module("backend.methods.coldnas.train")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    load_before = os.getloadavg()
    began = time.perf_counter()
    cn_train.get_data(args.dataset)  # loaded once, timed apart from the search
    load_seconds = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(config_for(args.dataset), baselines=False, seeds=1, output=tmp)
        if args.top_k:
            cfg = dataclasses.replace(cfg, top_k=args.top_k)
        if args.quick:
            cfg = dataclasses.replace(cfg, search_epochs=1, candidate_epochs=1, epochs=1, top_k=2)
        t0 = time.perf_counter()
        result = cn_train.search(cfg, device=args.device)
        total = time.perf_counter() - t0
        card = json.loads((Path(tmp) / "card.json").read_text())
        supernet = json.loads((Path(tmp) / "supernet.json").read_text())
    search = card["extras"]["search"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "method": "coldnas", "dataset": args.dataset, "device": args.device, "threads": torch.get_num_threads(),
        "data_load_seconds": round(load_seconds, 2),
        "supernet_seconds": round(supernet["seconds"], 1), "supernet_epochs": cfg.search_epochs,
        "candidates": cfg.top_k, "candidate_epochs": cfg.candidate_epochs,
        "candidates_seconds": round(result.seconds, 1),
        "search_seconds": search["seconds_to_choose"], "retrain_seconds": search["retrain_seconds"],
        "retrain_epochs": cfg.epochs, "total_seconds": round(total, 1),
        "peak_rss_mib": round(peak, 0),
        "chosen": search["chosen"], "chosen_text": card["artefacts"]["structure"]["text"],
        "test": card["metrics"]["test"], "valid": card["metrics"]["valid"],
        "original": ORIGINAL if args.dataset == "lastfm" else None,
        "speedup_total": round(ORIGINAL["total_seconds"] / total, 2) if args.dataset == "lastfm" else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(), "torch": torch.__version__,
        "note": "2-core CPU shared with other jobs: see the load averages",
    }
    path = Path(args.output or ROOT / "benchmarks" / "results" / f"coldnas-{args.dataset}-{args.device}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
