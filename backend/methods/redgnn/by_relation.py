"""Test quality by query relation: where a checkpoint is right, and how that follows the training data.

One row per relation of the doubled space (``inverse of r`` asks for heads): its answers, their MRR and
Hits (average ties, as the card; the NBFNet MRR beside), the share reached in L hops, and how many
training queries asked that relation. The answer-weighted mean of the rows is the card's metric.
Saved next to a checkpoint (``by_relation.json``, keyed by the weights' checksum) so the page shows it
at once for shipped checkpoints.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import torch

from backend.core.files import sha256_file
from backend.kg.loader import KGData

from .config import RedGNNConfig
from .explain import LoadedModel
from .train import AnswerRanks, answer_ranks, eval_tasks

FILE_NAME = "by_relation.json"
#: a relation asked by fewer training queries than this is "rarely trained" in the page's summary
RARE_QUERIES = 5
COLUMNS = ["relation", "relation_id", "answers", "share", "mrr", "hits@1", "hits@10", "nbfnet_mrr", "reached",
           "reached_mrr", "training_queries"]


def training_query_counts(kg: KGData, resplits: bool) -> torch.Tensor:
    """[2 · n_rel] training queries per relation of the doubled space. Re-splitting training (transductive,
    or inductive on request) draws its queries from facts ∪ train each epoch, so every such triple is a
    query in about a quarter of the epochs; RED-GNN's inductive training asks only the training graph's
    valid triples."""
    pool = torch.cat([kg.facts, kg.train]) if resplits else kg.train
    counts = torch.bincount(pool[:, 1], minlength=kg.n_rel)
    return torch.cat([counts, counts])  # each triple is asked in both directions


@torch.no_grad()
def metrics_by_relation(lm: LoadedModel, split: str = "test") -> pd.DataFrame:
    """One row per relation with answers in ``split`` of the data ``lm`` evaluates on (its dataset, or the graph
    it was applied to), most answers first (columns: ``COLUMNS``; training queries: the checkpoint's own)."""
    config = RedGNNConfig(**lm.card.train["config"])
    task = eval_tasks(*lm.data, lm.device)[split]
    ranked = answer_ranks(lm.model, task, config.n_tbatch, ("average", "pessimistic"), with_reached=True)
    return frame_from_ranks(ranked, lm.training, config.resplits)


def frame_from_ranks(ranked: AnswerRanks, kg: KGData, resplits: bool) -> pd.DataFrame:
    """The breakdown of answers already ranked (``answer_ranks`` with the average and pessimistic policies and
    ``with_reached``); ``kg`` is the training graph (its relation names and training queries)."""
    rel = ranked.relation
    n_rel2 = 2 * kg.n_rel
    answers = torch.bincount(rel, minlength=n_rel2).double()

    def total(values: torch.Tensor) -> torch.Tensor:
        return torch.zeros(n_rel2, dtype=torch.float64).index_add_(0, rel, values.double())

    def per_relation(values: torch.Tensor) -> torch.Tensor:
        return total(values) / answers.clamp(min=1)

    average, pessimistic = ranked.by_policy["average"], ranked.by_policy["pessimistic"]
    trained = training_query_counts(kg, resplits)
    columns = {"relation": [kg.relation_label(r) for r in range(n_rel2)],
               "relation_id": list(range(n_rel2)), "answers": answers.long().tolist(),
               "share": (answers / answers.sum()).tolist(), "mrr": per_relation(1 / average).tolist(),
               "hits@1": per_relation(average <= 1).tolist(), "hits@10": per_relation(average <= 10).tolist(),
               "nbfnet_mrr": per_relation(1 / pessimistic).tolist(), "reached": per_relation(ranked.reached).tolist(),
               "reached_mrr": (total(ranked.reached / average) / total(ranked.reached)).tolist(),  # NaN: none reached
               "training_queries": trained.tolist()}
    frame = pd.DataFrame(columns)
    frame = frame[frame["answers"] > 0].sort_values(["answers", "relation_id"], ascending=[False, True])
    return frame.reset_index(drop=True)


def breakdown_summary(frame: pd.DataFrame, rare: int = RARE_QUERIES) -> dict[str, float]:
    """Over all answers: the share reached in L hops and the MRR of the reached and of the unreached
    answers (those score 0); the share whose relation had fewer than ``rare`` training queries, and the MRR
    of those answers and of the others (NaN where a group is empty)."""
    is_rare = frame["training_queries"] < rare
    total = frame["answers"].sum()
    n_reached = frame["reached"] * frame["answers"]
    reached_rr = (frame["reached_mrr"].fillna(0.0) * n_reached).sum()
    all_rr = (frame["mrr"] * frame["answers"]).sum()

    def mrr(rows: pd.DataFrame) -> float:
        n = rows["answers"].sum()
        return float((rows["mrr"] * rows["answers"]).sum() / n) if n else float("nan")

    return {"reached": float(n_reached.sum() / total),
            "reached_mrr": float(reached_rr / n_reached.sum()) if n_reached.sum() else float("nan"),
            "unreached_mrr": float((all_rr - reached_rr) / (total - n_reached.sum()))
            if total - n_reached.sum() > 0.5 else float("nan"),
            "rare_share": float(frame.loc[is_rare, "answers"].sum() / total), "rare_mrr": mrr(frame[is_rare]),
            "other_mrr": mrr(frame[~is_rare])}


def save(frame: pd.DataFrame, model_dir: str | Path, split: str = "test") -> Path:
    """Write ``by_relation.json`` next to the weights it was computed from."""
    model_dir = Path(model_dir)
    path = model_dir / FILE_NAME
    payload = {"model_sha256": sha256_file(model_dir / "model.pt"), "split": split,
               "rows": json.loads(frame[COLUMNS].to_json(orient="records", double_precision=15))}  # NaN -> null
    path.write_text(json.dumps(payload, indent=0) + "\n", encoding="utf-8")
    return path


def load_saved(model_dir: str | Path, split: str = "test") -> pd.DataFrame | None:
    """The saved breakdown when it belongs to these very weights and this split, else None."""
    model_dir = Path(model_dir)
    path = model_dir / FILE_NAME
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("split") != split or payload.get("model_sha256") != sha256_file(model_dir / "model.pt"):
        return None
    if not payload.get("rows") or set(COLUMNS) - set(payload["rows"][0]):  # written by an older version
        return None
    return pd.DataFrame(payload["rows"], columns=COLUMNS)
