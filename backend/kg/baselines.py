"""The bar a trained KG model must clear: rank every candidate tail by how often it is a tail of the query's
relation in the training graph (no reasoning at all). A model whose valid MRR is not above this baseline's has
learned nothing about the query entity."""
from __future__ import annotations

import torch

from backend.core.metrics import filtered_ranks, ranking_metrics
from backend.kg.graph import AnswerIndex
from backend.kg.loader import KGData, with_inverses

#: queries ranked at once (rows x entities materialised per chunk)
CHUNK_ROWS = 1024


def relation_frequency(kg: KGData) -> torch.Tensor:
    """[2·n_rel, n_ent] float64: how often each entity is the tail of each relation (inverse relations: the head)
    among the training graph's triples (facts and train)."""
    both = with_inverses(torch.cat([kg.facts, kg.train]).cpu(), kg.n_rel)
    counts = torch.zeros(2 * kg.n_rel * kg.n_ent, dtype=torch.float64)
    counts.index_add_(0, both[:, 1] * kg.n_ent + both[:, 2], torch.ones(len(both), dtype=torch.float64))
    return counts.view(2 * kg.n_rel, kg.n_ent)


def frequency_baseline(kg: KGData, split: str = "valid") -> dict[str, float]:
    """Filtered-ranking metrics (average ties, as the cards) of the relation-frequency ranking on ``split``: every
    triple asked in both directions, the other known answers set aside."""
    triples = getattr(kg, split).cpu()
    if not len(triples):
        raise ValueError(f"{kg.name} has no {split} triples")
    counts = relation_frequency(kg)
    known = AnswerIndex(torch.cat([kg.facts, kg.train, kg.valid, kg.test]).cpu(), kg.n_ent, kg.n_rel)
    asked = with_inverses(triples, kg.n_rel)
    ranks = []
    for start in range(0, len(asked), CHUNK_ROWS):
        part = asked[start:start + CHUNK_ROWS]
        answer = torch.zeros(len(part), kg.n_ent, dtype=torch.bool)
        answer[torch.arange(len(part)), part[:, 2]] = True
        ranks.append(filtered_ranks(counts[part[:, 1]], answer, known.mask(part[:, 0], part[:, 1])))
    return ranking_metrics(torch.cat(ranks))
