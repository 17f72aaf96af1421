"""How long the KG page makes a user wait, per shipped RED-GNN checkpoint; prints one JSON object.

    python benchmarks/redgnn_interactive.py [--datasets family umls ...] [--queries 20] [--threads 1]

For each checkpoint: opening it (weights + its knowledge graph read from the data root, the page's
first wait), building the entity search list, then for test queries (h, r, t) drawn with a fixed seed:
ranking every entity for (h, r, ?) (the answers table), tracing the evidence for t (r-digraph, top paths,
the drawn edges) right after, as the page does (the ranking's forward pass is reused), and tracing it
alone, with its own forward pass (the CLI's `explain`). Median and 90th percentile in milliseconds, the
calls the page makes (`ui/views/kg_reasoning.py`) without Streamlit's caches.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.device import device_label, select_device  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.methods.redgnn.explain import explain_query, load_model, rank_answers  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models" / "redgnn"


def quantiles_ms(seconds: list[float]) -> dict:
    """Median and 90th percentile (nearest rank) of the timings, in milliseconds."""
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    return {"median_ms": round(1000 * statistics.median(ordered), 1), "p90_ms": round(1000 * p90, 1),
            "n": len(ordered)}


def sample_queries(test: torch.Tensor, n: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """n test triples without replacement, the same ones on every run."""
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randperm(len(test), generator=generator)[:n]
    return [tuple(int(x) for x in test[i].tolist()) for i in picks]


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def measure(model_dir: Path, n_queries: int, device, data_dir=None) -> dict:
    start = time.perf_counter()
    lm = load_model(model_dir, device, data_dir)
    open_seconds = time.perf_counter() - start
    kg = lm.kg
    search_seconds = timed(lambda: [kg.entity_text(i) for i in range(kg.n_ent)])
    queries = sample_queries(kg.test, n_queries)
    rank_answers(lm, *queries[0][:2], top=20)  # first call pays one-off set-up (allocator, lookups)
    ranking, after_ranking, alone = [], [], []
    for h, r, t in queries:
        lm._recent.clear()  # a new query
        ranking.append(timed(rank_answers, lm, h, r, top=20))
        after_ranking.append(timed(explain_query, lm, h, r, t))  # shares the ranking's forward pass
        lm._recent.clear()
        alone.append(timed(explain_query, lm, h, r, t))  # its own pass, as `python -m backend explain`
    return {"checkpoint": model_dir.name, "entities": kg.n_ent, "graph_edges": lm.graph.n_edges, "layers": lm.model.n_layer,
            "open_s": round(open_seconds, 2), "entity_list_s": round(search_seconds, 3),
            "rank_answers": quantiles_ms(ranking), "explain_after_ranking": quantiles_ms(after_ranking),
            "explain_alone": quantiles_ms(alone)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=None, help="checkpoint folders (default: all shipped)")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (a laptop shares its cores)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output", default=None, help="also write the JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = select_device(args.device)
    folders = sorted(p for p in MODELS.iterdir() if (p / "card.json").exists())
    if args.datasets:
        wanted = set(args.datasets)
        folders = [p for p in folders if p.name in wanted or p.name.removesuffix("-inductive") in wanted]
    rows = []
    for folder in folders:
        rows.append(measure(folder, args.queries, device, args.data_dir))
        print(f"{folder.name}: {rows[-1]}", file=sys.stderr)
    emit_json({"device": device_label(device), "threads": args.threads, "queries_per_checkpoint": args.queries,
               "checkpoints": rows}, args.output)


if __name__ == "__main__":
    main()
