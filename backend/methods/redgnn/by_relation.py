"""Test quality by query relation: where a checkpoint is right, and how that follows the training data.

One row per relation of the doubled space (``inverse of r`` asks for heads): its answers, their MRR and
Hits (average ties, as the card; the NBFNet MRR beside), the share reached in L hops, and how many
training queries asked that relation. The answer-weighted mean of the rows is the card's metric.
Saved next to a checkpoint (``by_relation.json``, keyed by the weights' checksum) so the page shows it
at once for shipped checkpoints.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import torch

from backend.core.files import atomic_write_text, sha256_file
from backend.core.metrics import RANKING_RULE
from backend.kg.loader import KGData

from .config import RedGNNConfig
from .explain import LoadedModel
from .train import AnswerRanks, answer_ranks, eval_tasks

FILE_NAME = "by_relation.json"
#: the ranking rule of files that do not name one: float32 scores, ties by exact equality
EARLIER_RULE = "float32 scores; ties by exact equality"
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


#: what the breakdown's columns mean (the page's column help; the generic breakdown section reads it from attrs)
COLUMN_HELP = {
    "relation": "'inverse of r' asks for the head of r",
    "answers": "test answers asking this relation",
    "share": "share of the test's answers",
    "mrr": "mean reciprocal rank, average ties, as the card",
    "hits@1": "share of answers ranked first",
    "hits@10": "share of answers in the top 10",
    "reached": "share of the answers within L hops of the head (the others score 0)",
    "reached_mrr": "MRR over the reached answers only",
    "training_queries": "training triples asking this relation",
}
#: the columns the page shows (the download has every column, NBFNet-tie MRR and relation ids too)
SHOWN = ("relation", "answers", "share", "mrr", "hits@1", "hits@10", "reached", "reached_mrr", "training_queries")


def described(frame: pd.DataFrame, lm: LoadedModel) -> pd.DataFrame:
    """``frame`` with what a page needs to show it (attrs): the group column, the columns shown and their help,
    the figure's x axis and cut, and sentences that read the numbers."""
    frame.attrs.update({"group": "relation", "shown": list(SHOWN), "column_help": COLUMN_HELP,
                        "x": "training_queries", "x_title": "training queries asking it (log scale)",
                        "rare_below": RARE_QUERIES,
                        "sentences": summary_sentences(frame, lm.model.n_layer)})
    return frame


def _small(x: float) -> str:
    return f"{x:.3f}" if x >= 0.001 else "below 0.001"


def summary_sentences(frame: pd.DataFrame, n_layer: int) -> list[str]:
    """How the test divides into relations, how many answers lie beyond the propagation's reach, and how
    rarely trained relations do (markdown)."""
    if frame.empty:
        return ["No query relation has test answers."]
    summary = breakdown_summary(frame)
    out = [f"**{len(frame)} query relations** have test answers ({int(frame['answers'].sum()):,} in all); "
           f"the largest, *{frame['relation'].iloc[0]}*, holds {frame['share'].iloc[0]:.0%} of them."]
    unreached = 1.0 - summary["reached"]
    if unreached > 0:
        out.append(f"**{unreached:.1%} of the test answers** lie more than {n_layer} hops from their head, score 0 "
                   f"and rank among the other unreached entities (their MRR: {_small(summary['unreached_mrr'])}); "
                   f"the reached ones score MRR **{summary['reached_mrr']:.3f}**.")
    if summary["rare_share"] > 0:
        rest = (f", against **{summary['other_mrr']:.3f}** for the rest." if not math.isnan(summary["other_mrr"])
                else ".")
        out.append(f"**{summary['rare_share']:.0%} of the test answers** ask a relation that fewer than "
                   f"{RARE_QUERIES} training queries asked: their MRR is **{summary['rare_mrr']:.3f}**" + rest)
    else:
        out.append(f"Every relation of the test was asked by at least {RARE_QUERIES} training queries.")
    return out


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
    payload = {"model_sha256": sha256_file(model_dir / "model.pt"), "split": split, "ranking_rule": RANKING_RULE,
               "rows": json.loads(frame[COLUMNS].to_json(orient="records", double_precision=15))}  # NaN -> null
    atomic_write_text(path, json.dumps(payload, indent=0) + "\n")
    return path


def load_saved(model_dir: str | Path, split: str = "test") -> pd.DataFrame | None:
    """The saved breakdown when it belongs to these very weights and this split, else None. ``attrs["ranking_rule"]``
    says which rule ranked it (a file from before the rule was recorded: EARLIER_RULE; only FB15k-237's, whose
    re-ranking takes hours on a CPU, is left so: scripts/reevaluate_redgnn_cards.py)."""
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
    frame = pd.DataFrame(payload["rows"], columns=COLUMNS)
    frame.attrs["ranking_rule"] = payload.get("ranking_rule", EARLIER_RULE)
    return frame
