"""A user's own knowledge graph, timed end to end; prints one JSON object.

    python benchmarks/kg_own_graph.py [--datasets family fb15k-237] [--train family] [--epochs 5] [--threads 1]

Each dataset's triples (all of its splits, as one table: what a user with that graph would upload) are
written to a TSV and imported with ``backend.kg.user_graphs.import_graph`` (read, checked, de-duplicated,
split 80/10/10 with every held-out triple covered, written): seconds, triples per second, the split.
For ``--train`` datasets RED-GNN then trains on the imported graph with the imported-graph settings for
``--epochs`` epochs, selection on its valid split, and reports the test metrics of its own random split
beside the wall time. The random split's test is not the dataset's official one (its triples' inverses
and neighbours often sit in training), so its MRR is not comparable with the paper's table.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.device import device_label, select_device  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.kg.loader import load_redgnn_layout  # noqa: E402


def dataset_tsv(name: str, dest: Path) -> int:
    """Every triple of ``name`` (facts, train, valid, test) as a head/relation/tail TSV; returns the row count."""
    kg = load_redgnn_layout(name, with_labels=False)
    rows = torch.cat([kg.facts, kg.train, kg.valid, kg.test]).tolist()
    with open(dest, "w", encoding="utf-8") as fh:
        fh.write("head\trelation\ttail\n")
        fh.writelines(f"{kg.entities[h]}\t{kg.relations[r]}\t{kg.entities[t]}\n" for h, r, t in rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["family", "fb15k-237"])
    parser.add_argument("--train", nargs="*", default=["family"], help="datasets to train on once imported")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="own-graph-"))
    os.environ["PARSIMONY_RUNS"] = str(work / "runs")  # never the project's runs/

    from backend.kg.user_graphs import import_graph
    from backend.methods.redgnn.config import config_for
    from backend.methods.redgnn.train import train

    device = select_device("cpu")
    report = {"benchmark": "kg_own_graph", "device": device_label(device), "threads": args.threads, "datasets": {}}
    for name in args.datasets:
        source = work / f"{name}.tsv"
        rows = dataset_tsv(name, source)
        start = time.perf_counter()
        imported = import_graph(source, f"{name}-own")
        seconds = time.perf_counter() - start
        entry = {"rows": rows, "import_seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
                 "duplicates": imported.duplicates, "entities": imported.entities, "relations": imported.relations,
                 "splits": imported.splits, "moved_to_training": imported.moved_to_training}
        if name in args.train:
            config = dataclasses.replace(config_for(f"{name}-own"), epochs=args.epochs)
            start = time.perf_counter()
            card = train(config, device=device)
            entry["training"] = {"epochs": args.epochs, "wall_seconds": round(time.perf_counter() - start, 1),
                                 "best_epoch": card.train.get("best_epoch"),
                                 "valid_mrr": round(card.metrics["valid"]["mrr"], 4),
                                 "test": {k: round(card.metrics["test"][k], 4) for k in ("mrr", "hits@1", "hits@10")},
                                 "params": card.params["total"]}
        report["datasets"][name] = entry
    emit_json(report)


if __name__ == "__main__":
    main()
