"""A user's table of triples (or queries) scored in batches by a RED-GNN checkpoint.

Each row (head, relation, tail) gets the tail's score and its filtered rank among all entities of the
graph (average ties, the evaluation protocol: other known answers of (head, relation) do not compete),
whether the tail is reached in L hops and whether the triple is already known, beside the model's best
answer. Rows without a tail get the top answers instead. Distinct (head, relation) queries run once each,
``n_tbatch`` at a time. Names, readable labels, 'label · name' and 'inverse of <relation>' are accepted; a cell that
names nothing in the graph is a problem naming its row and column, and the other rows are still scored.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch

from backend.core.batching import query_slices
from backend.core.metrics import filtered_ranks
from backend.core.tables import Column, Problem, Table, read_table

from .explain import LoadedModel

COLUMNS = [Column("head", ("h", "subject", "source", "head_entity")),
           Column("relation", ("r", "rel", "predicate", "relation_name")),
           Column("tail", ("t", "object", "target", "answer", "tail_entity"), required=False)]
#: the page reads at most this many rows of an upload (the CLI reads them all)
PAGE_MAX_ROWS = 5000


def read_triples(lm: LoadedModel, source, max_rows: int | None = None) -> Table:
    """Read a CSV/TSV (path, bytes or text) of head, relation[, tail] and resolve every cell to an id
    (columns head_id, relation_id[, tail_id]); unresolvable cells become problems, their rows are dropped."""
    table = read_table(source, COLUMNS, max_rows)
    ids: dict[str, list[int]] = {}
    problems: list[Problem] = []
    lookups = {"head": lm.entity_id, "relation": lm.relation_id, "tail": lm.entity_id}
    for column, lookup in lookups.items():
        if column not in table.rows:
            continue
        resolved = []
        for row, text in zip(table.rows["row"], table.rows[column]):
            try:
                resolved.append(lookup(text))
            except ValueError as err:
                problems.append(Problem(int(row), column, text, str(err)))
                resolved.append(-1)
        ids[f"{column}_id"] = resolved
    table.rows = table.rows.assign(**ids)
    problems.sort(key=lambda p: p.row)
    return table.drop(problems)


@torch.no_grad()
def score_triples(lm: LoadedModel, table: Table, top: int = 5, batch_size: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """One output row per input row with a tail (score, rank, reached, known fact, best answer), or ``top``
    output rows per input row without one (the best answers). ``progress(done, total)`` after each batch of
    distinct queries."""
    rows = table.rows
    out_columns = ["row", "head", "relation", "tail", "score", "rank", "reached", "known_fact",
                   "best_answer", "best_score"]
    if rows.empty:
        return pd.DataFrame(columns=out_columns if "tail" in rows else
                            ["row", "head", "relation", "answer_rank", "answer", "score", "known_fact", "reached"])
    device, n_rel2 = lm.device, 2 * lm.kg.n_rel
    heads = torch.tensor(rows["head_id"].tolist(), device=device)
    rels = torch.tensor(rows["relation_id"].tolist(), device=device)
    tails = torch.tensor(rows["tail_id"].tolist(), device=device) if "tail" in rows else None
    keys, inverse = torch.unique(heads * n_rel2 + rels, return_inverse=True)
    batch_size = batch_size or int(lm.card.train["config"].get("n_tbatch", 50))
    parts: list[pd.DataFrame] = []
    for part in query_slices(len(keys), batch_size, device):
        start, q = part.start, keys[part]
        q_heads, q_rels = q // n_rel2, q % n_rel2
        scores = lm.model(q_heads, q_rels, lm.graph)                       # [b, N]
        known = lm.known.mask(q_heads, q_rels)
        reached = lm.graph.within_hops(q_heads, lm.model.n_layer)
        members = torch.nonzero((inverse >= start) & (inverse < start + len(q))).squeeze(1)
        local = inverse[members] - start
        if tails is not None:
            parts.append(_triple_rows(lm, rows.iloc[members.cpu().numpy()], scores[local], known[local],
                                      reached[local], tails[members]))
        else:
            parts.append(_answer_rows(lm, rows.iloc[members.cpu().numpy()], scores[local], known[local],
                                      reached[local], top))
        if progress is not None:
            progress(start + len(q), len(keys))
    frame = pd.concat(parts, ignore_index=True)
    sort = ["row", "answer_rank"] if tails is None else ["row"]
    return frame.sort_values(sort, kind="stable").reset_index(drop=True)


def _labels(lm: LoadedModel, ids: list[int]) -> list[str]:
    return [lm.kg.entity_text(i) for i in ids]


def _triple_rows(lm, rows, scores, known, reached, tails) -> pd.DataFrame:
    answer = torch.zeros_like(known)
    answer[torch.arange(len(tails), device=tails.device), tails] = True
    ranks = filtered_ranks(scores, answer, known)                          # one per row, in row order
    best = scores.argmax(1)
    pick = torch.arange(len(tails), device=tails.device)
    return pd.DataFrame({
        "row": rows["row"].to_numpy(), "head": _labels(lm, rows["head_id"].tolist()),
        "relation": [lm.kg.relation_label(r) for r in rows["relation_id"].tolist()],
        "tail": _labels(lm, rows["tail_id"].tolist()),
        "score": scores[pick, tails].cpu().numpy(), "rank": ranks.cpu().numpy(),
        "reached": reached[pick, tails].cpu().numpy(), "known_fact": known[pick, tails].cpu().numpy(),
        "best_answer": _labels(lm, best.tolist()), "best_score": scores[pick, best].cpu().numpy()})


def _answer_rows(lm, rows, scores, known, reached, top) -> pd.DataFrame:
    k = min(top, scores.shape[1])
    best = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]     # [n, k]
    pick = torch.arange(len(best), device=best.device)[:, None].expand(-1, k)
    n = len(rows)
    return pd.DataFrame({
        "row": rows["row"].to_numpy().repeat(k),
        "head": [h for h in _labels(lm, rows["head_id"].tolist()) for _ in range(k)],
        "relation": [lm.kg.relation_label(r) for r in rows["relation_id"].tolist() for _ in range(k)],
        "answer_rank": list(range(1, k + 1)) * n,
        "answer": _labels(lm, best.flatten().tolist()),
        "score": scores[pick, best].flatten().cpu().numpy(),
        "known_fact": known[pick, best].flatten().cpu().numpy(),
        "reached": reached[pick, best].flatten().cpu().numpy()})


def mean_reciprocal_rank(frame: pd.DataFrame) -> float:
    """MRR of a scored triple table (rows with a rank)."""
    return float((1.0 / frame["rank"]).mean()) if len(frame) else float("nan")


def summary_sentences(frame: pd.DataFrame) -> list[str]:
    """What a scored table says, in a sentence (markdown): MRR and Hits of the triples, known facts and
    unreached tails; or how many queries got their best answers."""
    if frame.empty:
        return ["No row could be scored."]
    if "rank" not in frame:
        n = frame["row"].nunique()
        return [f"**{n:,} {'query' if n == 1 else 'queries'} answered** (their best answers each)."]
    ranks, known, unreached = frame["rank"], int(frame["known_fact"].sum()), int((~frame["reached"]).sum())
    return [f"**{len(frame):,} triples scored**: MRR {mean_reciprocal_rank(frame):.3f}, Hits@1 {(ranks <= 1).mean():.3f}, "
            f"Hits@10 {(ranks <= 10).mean():.3f}; {known:,} known fact{'' if known == 1 else 's'}, {unreached:,} "
            f"tail{'' if unreached == 1 else 's'} not reached (score 0)."]
