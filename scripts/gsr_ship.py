"""Run GSR end to end on every simulated system and ship the results in models/gsr/<system>/.

    OMP_NUM_THREADS=1 python scripts/gsr_ship.py [system ...]

Each system: simulate (seeded), prune-search the flow, train it, regress every component with pyoperon, fine-tune
the constants; the card records the stage times, the budget and the seed (GSRConfig defaults, seed 0).
"""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.methods.gsr.pipeline import GSRConfig, run  # noqa: E402
from backend.physics.systems import SYSTEMS  # noqa: E402


def main(names: list[str]) -> int:
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.WARNING)
    for name in names or list(SYSTEMS):
        def progress(ev, name=name):
            if ev.message:
                print(f"[{name} {ev.stage} {ev.step}/{ev.total}] {ev.message}", flush=True)

        began = time.perf_counter()
        card = run(GSRConfig(dataset=name, output=str(ROOT / "models" / "gsr" / name)), progress)
        print(json.dumps({"system": name, "seconds": round(time.perf_counter() - began, 1), "metrics": card.metrics,
                          "gnn": card.variants.get("gnn"), "stages": card.train["stage_seconds"],
                          "formula": card.artefacts["formula"]["value"]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
