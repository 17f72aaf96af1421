"""Helpers shared by the page tests and the browser tests."""
from __future__ import annotations

import dataclasses
import random
from pathlib import Path


def tiny_family_checkpoint(dest: Path, data_root: Path | str | None = None) -> Path:
    """A real RED-GNN checkpoint on family from 20 training batches (a few seconds on a CPU).

    Its card holds the metrics this short run really reached; pages only need a loadable model.
    """
    from backend.methods.redgnn.config import config_for
    from backend.methods.redgnn.train import train

    config = dataclasses.replace(config_for("family"), epochs=1, batches_per_epoch=20, output=str(dest))
    train(config, data_dir=str(data_root) if data_root else None)
    return dest


def page_text(at) -> str:
    """All the text an AppTest run shows: titles, headers, markdown, captions and alerts."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    return "\n".join(parts)


def tree_graph(n: int = 240, seed: int = 0) -> list[tuple[str, str, str]]:
    """Triples of a random family tree: 'parent of' for every child and 'grandparent of' = parent of a parent.

    A grandparent answer is two 'parent of' hops away, so a model that learns the rule ranks it first."""
    rng = random.Random(seed)
    parent = {i: rng.randrange(i // 2, i) for i in range(1, n)}
    rows = [(f"person {p}", "parent of", f"person {c}") for c, p in parent.items()]
    rows += [(f"person {parent[p]}", "grandparent of", f"person {c}") for c, p in parent.items() if p in parent]
    return rows


def triples_tsv(rows) -> str:
    """A TSV with a head, relation, tail header."""
    return "head\trelation\ttail\n" + "".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows)
