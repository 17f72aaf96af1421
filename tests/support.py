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


def renamed_family_rows(data_root, relation_names=None) -> list[tuple[str, str, str]]:
    """family's triples (facts, train, valid, test) with every entity renamed 'person N' and each relation
    renamed by ``relation_names`` (default: upper case): a graph RED-GNN's family checkpoint never saw by name."""
    from backend.kg.loader import load_redgnn_layout

    import torch

    kg = load_redgnn_layout("family", Path(data_root))
    rename = relation_names or {r: r.upper() for r in kg.relations}
    triples = torch.cat([kg.facts, kg.train, kg.valid, kg.test])
    return [(f"person {kg.entities[h]}", rename[kg.relations[r]], f"person {kg.entities[t]}")
            for h, r, t in triples.tolist()]


def people_labels(rows) -> str:
    """A name,label TSV giving every 'person N' of ``rows`` a made-up full name (seeded, unique)."""
    first = ("Ada Alan Alice Amir Anna Ben Carla Chen Dora Emil Eva Farah Gus Hana Ines Ivan Jon Kai Lara Leo Lina "
             "Marc Mia Nora Omar Pia Rosa Sam Tara Ugo Vera Wim Yara Zoe").split()
    last = "Moreau Okafor Silva Novak Berg Tanaka Costa Weber Haddad Lind Ruiz Kowal Meyer Rossi Dubois Sato".split()
    rng = random.Random(0)
    people = sorted({x for h, _, t in rows for x in (h, t)}, key=lambda p: int(p.split()[-1]))
    used: set[str] = set()
    lines = ["name\tlabel"]
    for person in people:
        name = f"{rng.choice(first)} {rng.choice(last)}"
        if name in used:
            name = f"{name} {person.split()[-1]}"
        used.add(name)
        lines.append(f"{person}\t{name}")
    return "\n".join(lines) + "\n"
