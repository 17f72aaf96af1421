"""Train the shipped PAR checkpoints on this CPU (one configuration per call; see models/par/README.md).

    OMP_NUM_THREADS=1 python scripts/par_train_cards.py '{"dataset": "tox21", "shots": 10, "steps": 150}'
"""
from __future__ import annotations

import json
import sys
import time

from backend.methods.par.config import PARConfig


def main(argv: list[str]) -> int:
    from backend.methods.par.train import train

    overrides = json.loads(argv[0]) if argv else {}
    config = PARConfig(**overrides)
    t0 = time.time()
    card = train(config, progress=lambda e: print(f"[{time.time() - t0:7.1f}s] {e.message}", flush=True))
    print(json.dumps({"path": card.path, "test": card.metrics["test"], "val": card.metrics["val"],
                      "params": card.params, "train": {k: card.train[k] for k in ("seconds", "steps", "best_step")}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
