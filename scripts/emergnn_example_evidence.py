"""Write example_evidence.json (and its prediction) beside each shipped EmerGNN checkpoint: the page shows it when the
DrugBank data are not under the data root. The paper's own example pair: Tapentadol and Dolasetron (Table S6).

    python scripts/emergnn_example_evidence.py [models/emergnn/drugbank-S1 ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.registry import get_method  # noqa: E402

PAIR = {"drug1": "Tapentadol", "drug2": "Dolasetron", "paths": 10}


def main(argv=None) -> int:
    folders = [Path(p) for p in (argv or sys.argv[1:])] or sorted(Path("models/emergnn").glob("drugbank-*"))
    for folder in folders:
        model = get_method("emergnn").open(folder)
        evidence = model.explain(PAIR)
        (folder / "example_evidence.json").write_text(evidence.to_json(), encoding="utf-8")
        print(f"{folder}: {evidence.title} ({len(evidence.edges)} edges, {len(evidence.paths)} paths)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
