"""Save each RED-GNN checkpoint's test metrics per query relation next to it (by_relation.json), so the
Knowledge-graph page shows them at once. Skips checkpoints whose saved breakdown is current.

    PYTHONPATH=. python scripts/relation_breakdowns.py [--device cuda] [FOLDER ...]
        FOLDER: a checkpoint folder, or a name under models/redgnn/ (default: every shipped checkpoint)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from backend.core import store
from backend.methods.redgnn import by_relation
from backend.methods.redgnn.explain import load_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    root = store.MODELS_DIR / "redgnn"
    folders = [Path(f) if Path(f).is_dir() else root / f for f in args.folders] if args.folders \
        else sorted(p.parent for p in root.glob("*/card.json"))
    for folder in folders:
        if by_relation.load_saved(folder) is not None:
            print(f"{folder.name}: current")
            continue
        start = time.time()
        frame = by_relation.metrics_by_relation(load_model(folder, args.device))
        path = by_relation.save(frame, folder)
        print(f"{folder.name}: {len(frame)} relations, {time.time() - start:.0f} s on {args.device} -> {path}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
