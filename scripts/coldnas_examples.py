"""Write each shipped ColdNAS checkpoint's example evidence (models/coldnas/<dataset>/example_evidence.json): the
page shows it when the data is missing. The example user's ratings are fixed below (a handful of well-known names).

    PYTHONPATH=. python scripts/coldnas_examples.py [lastfm movielens]
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLES = {
    "lastfm": "Pink Floyd=1; Linkin Park=0; Arctic Monkeys=1; The Pussycat Dolls=0; Kings of Leon=1",
    "movielens": "Toy Story (1995)=5; Star Wars: Episode IV - A New Hope=5; Titanic (1997)=2; Fargo (1996)=4",
}


def main(datasets: list[str]) -> None:
    from backend.registry import get_method

    method = get_method("coldnas")
    for ds in datasets:
        folder = ROOT / "models" / "coldnas" / ds
        model = method.open(folder, device="cpu")
        query = {"ratings": EXAMPLES[ds], "top": 5}
        ratings, problems, _ = model.read_ratings(query)
        if problems:
            raise SystemExit(f"{ds}: example ratings not all known: {[str(p) for p in problems]}")
        evidence = model.explain(query)
        evidence.sentences.insert(0, f"Example user: {EXAMPLES[ds]}.")
        (folder / "example_evidence.json").write_text(evidence.to_json() + "\n", encoding="utf-8")
        print(f"wrote {folder / 'example_evidence.json'}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["lastfm", "movielens"])
