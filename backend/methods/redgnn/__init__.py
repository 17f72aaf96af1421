"""RED-GNN: knowledge-graph reasoning over relational digraphs (Zhang & Yao, WWW 2022)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from backend.core.evidence import Evidence
from backend.core.method import Method

from .config import DATASETS, RedGNNConfig, config_for


def train(config: RedGNNConfig, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def evaluate(model_dir: str | Path, split: str = "test", device=None, data_dir=None, graph: str | None = None) -> dict:
    """Recompute a checkpoint's filtered-ranking metrics on ``split`` (reproduces its card); with ``graph`` (an
    imported graph), on that graph's ``split``, the checkpoint reasoning over it untrained."""
    from .explain import load_model
    from .train import eval_tasks, evaluate_task, split_metrics

    lm = load_model(model_dir, device, data_dir, graph=graph)
    task = eval_tasks(*lm.data, lm.device)[split]
    metrics = split_metrics(evaluate_task(lm.model, task, RedGNNConfig(**lm.card.train["config"]).n_tbatch))
    if lm.applied is not None:
        from backend.kg.align import seen_share

        metrics["relations_matched"] = len(lm.applied.matched)
        metrics["triples_left_out"] = lm.applied.n_left_out
        metrics["answers"] = len(getattr(lm.kg, split))  # the split's triples it could answer
        metrics["seen_in_training"] = seen_share(lm.kg, split, lm.training)  # share of the split's triples
    return metrics


def breakdown(model_dir: str | Path, split: str = "test", device=None, data_dir=None,
              graph: str | None = None) -> pd.DataFrame:
    """The split's filtered-ranking metrics per query relation, with its training queries (saved next to
    the checkpoint when computed for these weights before; ``graph``: on that imported graph instead)."""
    from . import by_relation
    from .explain import load_model

    saved = None if graph else by_relation.load_saved(model_dir, split)
    if saved is not None:
        return saved
    return by_relation.metrics_by_relation(load_model(model_dir, device, data_dir, graph=graph), split)


def predict(model_dir: str | Path, query: dict, data_dir=None, device=None, graph: str | None = None) -> pd.DataFrame:
    """Ranked answers for query {"head": entity, "relation": relation, "top": n}; or, for {"input": table},
    every row (head, relation, tail) of a CSV/TSV scored and ranked (rows without a tail: the top answers).
    Rows that cannot be read are listed in ``frame.attrs["problems"]``; the others are still scored.
    ``graph``: answer over that imported graph instead of the checkpoint's own."""
    from .explain import load_model, rank_answers
    from .triples import read_triples, score_triples

    if query.get("input"):
        lm = load_model(model_dir, device, data_dir, graph=graph)
        table = read_triples(lm, Path(query["input"]))
        frame = score_triples(lm, table, top=int(query.get("top", 5)))
        frame.attrs["problems"] = table.summary(limit=len(table.problems))
        return frame
    _require(query, ("head", "relation"))
    lm = load_model(model_dir, device, data_dir, graph=graph)
    return rank_answers(lm, query["head"], query["relation"], top=int(query.get("top", 20)))


def explain(model_dir: str | Path, query: dict, data_dir=None, device=None, graph: str | None = None) -> Evidence:
    """r-digraph evidence for {"head", "relation", "answer" (optional: the top answer)}; ``graph``: over that
    imported graph instead of the checkpoint's own."""
    from .explain import explain_query, load_model

    _require(query, ("head", "relation"))
    lm = load_model(model_dir, device, data_dir, graph=graph)
    return explain_query(lm, query["head"], query["relation"], query.get("answer") or query.get("tail"),
                         top_paths=int(query.get("paths", 10)), max_edges=int(query.get("max_edges", 60)))


def compare_on_graph(graph: str, split: str = "valid", device=None, data_dir=None, progress=None):
    """(every checkpoint that knows a relation of imported graph ``graph``, ranked on its ``split`` triples,
    best first; the checkpoints left out and why)."""
    from .choose import compare_checkpoints

    return compare_checkpoints(graph, split=split, device=device, data_dir=data_dir, progress=progress)


def _require(query: dict, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if not query.get(k)]
    if missing:
        raise ValueError(f"RED-GNN query needs {', '.join(missing)} (e.g. --query head=NAME relation=NAME)")


METHOD = Method(
    name="redgnn",
    title="RED-GNN",
    task="Knowledge-graph reasoning: answer (head, relation, ?) queries",
    explains="r-digraph evidence paths from the query entity to the answer, weighted by attention",
    paper="zhang2022redgnn",
    area="kg",
    datasets=DATASETS,
    imports_graphs=True,
    applies_to_graphs=True,
    compare_on_graph=compare_on_graph,
    config_for=config_for,
    train=train,
    evaluate=evaluate,
    predict=predict,
    explain=explain,
    breakdown=breakdown,
    breakdown_by="query relation",
    query_fields=("head", "relation", "answer", "top", "paths", "max_edges"),
    input_help=("CSV/TSV of triples to rank: columns head, relation, tail (header optional; names, labels or "
                "'inverse of <relation>'); without a tail column, the top answers of each (head, relation)"),
    page="kg-reasoning",
)
