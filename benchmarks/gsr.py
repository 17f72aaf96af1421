"""GSR benchmark: one whole system end to end (simulate, search, regress, fine-tune) on this machine, with the stage
times and peak memory against the paper's Table 2 (minutes; hardware not stated).

    OMP_NUM_THREADS=1 python benchmarks/gsr.py [--system mechanics-simple] [--out benchmarks/results/gsr.json]

Prints one JSON object. The load average of the machine is recorded (the 2-core machine is shared).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: GSR's Table 2, total minutes (stage 1 search, stage 2 SR + fine-tune)
PAPER_MINUTES = {"mechanics-simple": (11.59, 68.75), "mechanics-complex": (18.42, 93.12),
                 "electricity": (11.26, 28.96), "thermology-simple": (11.37, 30.88),
                 "thermology-complex": (12.68, 45.27)}


def main(argv=None) -> int:
    import torch

    from backend.methods.gsr.pipeline import GSRConfig, run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", default="mechanics-simple", choices=sorted(PAPER_MINUTES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gsr.json"))
    parser.add_argument("--from-card", action="store_true",
                        help="report the shipped models/gsr/<system> run (its recorded stage times) instead of "
                             "running again")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    if args.from_card:
        from backend.core import store

        card = store.load_card(ROOT / "models" / "gsr" / args.system)
        wall = float(card.train["seconds"])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            card = run(GSRConfig(dataset=args.system, seed=args.seed, output=tmp))
            wall = time.perf_counter() - began
    search_min, sr_min = PAPER_MINUTES[args.system]
    stages = card.train["stage_seconds"]
    result = {
        "system": args.system, "seed": args.seed, "wall_seconds": round(wall, 1),
        "source": "shipped card (models/gsr)" if args.from_card else "fresh run",
        "stage_seconds": stages,
        "peak_rss_mb": None if args.from_card else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_python_mb": card.train.get("peak_python_mb"),
        "samples": card.train.get("samples"), "candidates": card.train.get("candidates"),
        "test_r2": card.metrics["test"]["r2"], "gnn_test_r2": card.variants["gnn"]["test"]["r2"],
        "formula_constants": card.params["total"], "gnn_params": card.extras.get("gnn_params"),
        "paper_minutes": {"search": search_min, "sr_and_finetune": sr_min, "total": round(search_min + sr_min, 2)},
        "speedup_vs_paper": round((search_min + sr_min) * 60 / wall, 2),
        "under_10_minutes": wall < 600,
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "config": card.train["config"],
    }
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
