"""The CPU trainings behind the shipped EmerGNN cards (models/emergnn/drugbank-S0, -S1, -S2): one seed each, with
the budgets stated here and on the cards. Full-budget, 3-seed trainings: benchmarks/gpu_emergnn.sh.

    OMP_NUM_THREADS=1 python scripts/emergnn_train_cpu.py S1 --seconds 2400 --targets-per-epoch 0 --valid-pairs 2000 --test-pairs 0
    OMP_NUM_THREADS=1 python scripts/emergnn_train_cpu.py S2 --seconds 1200 --epochs 150 --targets-per-epoch 0 \
        --valid-pairs 0 --test-pairs 0 --lr 1e-3
    OMP_NUM_THREADS=1 python scripts/emergnn_train_cpu.py S0 --seconds 2400 --targets-per-epoch 9000 --valid-pairs 2000 \
        --test-pairs 8000 --batch-size 32
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core import store  # noqa: E402
from backend.core.progress import ProgressEvent  # noqa: E402
from backend.methods.emergnn.config import config_for  # noqa: E402
from backend.methods.emergnn.train import train  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("setting", choices=["S0", "S1", "S2"])
    ap.add_argument("--seconds", type=float, default=720)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--targets-per-epoch", type=int, default=2000)
    ap.add_argument("--valid-pairs", type=int, default=600)
    ap.add_argument("--test-pairs", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=0, help="0: the paper's (S0 128, S1/S2 32)")
    ap.add_argument("--baseline-seconds", type=float, default=240)
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    c = config_for("drugbank", args.setting)
    c.max_seconds, c.targets_per_epoch, c.epochs = args.seconds, args.targets_per_epoch, args.epochs
    c.valid_pairs, c.test_pairs, c.lr, c.seed = args.valid_pairs, args.test_pairs, args.lr, args.seed
    c.baseline_seconds = args.baseline_seconds
    c.batch_size = args.batch_size
    c.output = args.output or str(store.default_model_dir("emergnn", "drugbank", args.setting))

    def show(e: ProgressEvent):
        if e.stage != "batch" or e.step % 20 == 0:
            print(e.stage, e.step, e.total, {k: round(v, 4) for k, v in e.metrics.items()}, e.message, flush=True)

    card = train(c, progress=show)
    print(card.metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
