"""Save each shipped RED-GNN checkpoint's test metrics per query relation next to it (by_relation.json),
so the Knowledge-graph page shows them at once. Skips checkpoints whose saved breakdown is current.

    PYTHONPATH=. python scripts/relation_breakdowns.py [DATASET_FOLDER ...]   (default: all shipped)
"""
from __future__ import annotations

import sys
import time

from backend.core import store
from backend.methods.redgnn import by_relation
from backend.methods.redgnn.explain import load_model


def main(names: list[str]) -> int:
    root = store.MODELS_DIR / "redgnn"
    folders = [root / n for n in names] if names else sorted(p.parent for p in root.glob("*/card.json"))
    for folder in folders:
        if by_relation.load_saved(folder) is not None:
            print(f"{folder.name}: current")
            continue
        start = time.time()
        frame = by_relation.metrics_by_relation(load_model(folder, "cpu"))
        path = by_relation.save(frame, folder)
        print(f"{folder.name}: {len(frame)} relations, {time.time() - start:.0f} s -> {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
