"""Which checkpoint suits an imported graph: every RED-GNN checkpoint that knows some of the graph's relations,
run on the graph untrained and ranked on its **valid** triples (never its test; those stay for the end).

A checkpoint answers only the triples whose relation it knows, so the table gives both the MRR over the valid
triples it can answer and ``mrr_all``, the MRR over all of the graph's valid triples with the others counted as
reciprocal rank 0; the table is sorted by ``mrr_all``. A run trained on the graph itself competes too (its epoch
was chosen on the same valid triples, so its figure is a little optimistic); ``seen_in_training`` is the share of
the valid triples a checkpoint was trained on (its dataset holds them by name), whose figure is optimistic too.
"""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from backend.core.data import DataMissingError
from backend.core.store import list_cards, load_card, runs_root
from backend.kg.user_graphs import load_user_graph

COLUMNS = ["checkpoint", "dataset", "setting", "relations_known", "coverage", "mrr_all", "mrr", "hits@1", "hits@10",
           "answers", "seen_in_training", "seconds", "path"]


def candidate_folders() -> list[Path]:
    """The shipped RED-GNN checkpoints, then the user's runs."""
    shipped = [Path(c.path) for c in list_cards(method="redgnn")]
    own_root = runs_root() / "redgnn"
    own = [Path(c.path) for c in list_cards(own_root, method="redgnn")] if own_root.is_dir() else []
    return shipped + own


def compare_checkpoints(graph: str, folders: list[Path] | None = None, split: str = "valid", device=None,
                        data_dir=None, progress=None) -> tuple[pd.DataFrame, list[str]]:
    """(one row per checkpoint that knows a relation of ``graph``, best ``mrr_all`` first; one line per
    checkpoint left out and why). ``progress(done, total, name)`` is called after each checkpoint."""
    from . import METHOD  # the package's verb: one path from checkpoint and graph to metrics

    if split == "test":
        raise ValueError("checkpoints are compared on the graph's valid triples; its test triples stay for the end")
    own = load_user_graph(graph)
    total = len(getattr(own, split))
    folders = candidate_folders() if folders is None else [Path(f) for f in folders]
    rows, skipped = [], []
    for i, folder in enumerate(folders):
        name = _name(folder)
        try:
            began = time.perf_counter()
            metrics = METHOD.evaluate(folder, split, device=device, data_dir=data_dir, graph=graph)
        except DataMissingError as exc:
            skipped.append(f"{name}: its dataset is not under the data root ({exc})")
        except ValueError as exc:
            skipped.append(f"{name}: " + (f"knows none of its {own.n_rel} relations" if str(exc).startswith("none of")
                                          else str(exc)))
        else:
            card = load_card(folder)
            coverage = metrics["answers"] / total if total else 0.0
            rows.append({"checkpoint": name, "dataset": card.dataset, "setting": card.setting,
                         "relations_known": f"{metrics['relations_matched']} of {own.n_rel}", "coverage": coverage,
                         "mrr_all": metrics["mrr"] * coverage, "mrr": metrics["mrr"], "hits@1": metrics["hits@1"],
                         "hits@10": metrics["hits@10"], "answers": metrics["answers"],
                         "seen_in_training": metrics["seen_in_training"], "seconds": time.perf_counter() - began,
                         "path": str(folder)})
        if progress is not None:
            progress(i + 1, len(folders), name)
    frame = pd.DataFrame(rows, columns=COLUMNS).sort_values(["mrr_all", "mrr"], ascending=False, kind="stable")
    return frame.reset_index(drop=True), skipped


def _name(folder: Path) -> str:
    """'family', 'WN18RR_v1 (inductive)' for shipped checkpoints; 'runs/redgnn/<run>' for the user's runs."""
    try:
        return f"runs/redgnn/{folder.relative_to(runs_root() / 'redgnn')}"
    except ValueError:
        name = folder.name
        return name.replace("-inductive", " (inductive)") if name.endswith("-inductive") else name
