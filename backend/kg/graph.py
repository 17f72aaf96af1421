"""Device-side graph indexes: grouped lookups (CSR-like) for neighbour expansion and answer filters.

Everything is a tensor operation on the device; no scipy, no Python loops over edges.
"""
from __future__ import annotations

import torch


class GroupedIndex:
    """Values grouped by an integer key: ``lookup(keys)`` returns every (query position, value) pair.

    keys [E] int64, values [E] int64 (any order). Sorted once; lookups use searchsorted.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        order = torch.argsort(keys, stable=True)
        self.keys = keys[order].contiguous()
        self.values = values[order].contiguous()

    def to(self, device) -> "GroupedIndex":
        self.keys, self.values = self.keys.to(device), self.values.to(device)
        return self

    def ranges(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[M] keys -> (start [M], count [M]) into the sorted value array."""
        query = query.contiguous()
        start = torch.searchsorted(self.keys, query, right=False)
        end = torch.searchsorted(self.keys, query, right=True)
        return start, end - start

    def lookup(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[M] keys -> (position in query [K], value [K]) for all K matches, grouped by query position."""
        start, count = self.ranges(query)
        pos = torch.repeat_interleave(torch.arange(len(query), device=query.device), count)
        first = torch.cumsum(count, 0) - count
        offset = torch.arange(len(pos), device=query.device) - first[pos]
        return pos, self.values[start[pos] + offset]


class EdgeIndex:
    """The graph RED-GNN propagates over: (h, r, t) edges incl. inverses and one self-loop per entity.

    ``expand(entities)`` gives all out-edges of a set of entities at once: (source position [K],
    relation [K], tail [K]).
    """

    def __init__(self, triples: torch.Tensor, n_ent: int, n_rel: int, device=None) -> None:
        device = device or triples.device
        triples = triples.to(device)
        inverse = torch.stack([triples[:, 2], triples[:, 1] + n_rel, triples[:, 0]], 1)
        ent = torch.arange(n_ent, device=device)
        loops = torch.stack([ent, torch.full_like(ent, 2 * n_rel), ent], 1)
        edges = torch.cat([triples, inverse, loops])
        edges = edges[torch.argsort(edges[:, 0], stable=True)]
        self.n_ent, self.n_rel, self.self_rel = n_ent, n_rel, 2 * n_rel
        self.head, self.rel, self.tail = edges[:, 0], edges[:, 1], edges[:, 2]
        self.index = GroupedIndex(self.head, torch.arange(len(edges), device=device))
        self._batched: dict[int, tuple[torch.Tensor, ...]] = {}

    @property
    def n_edges(self) -> int:
        return len(self.head)

    def expand(self, entities: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pos, edge = self.index.lookup(entities)
        return pos, self.rel[edge], self.tail[edge]

    def within_hops(self, heads: torch.Tensor, n_hops: int) -> torch.Tensor:
        """[B, n_ent] bool: the entities within ``n_hops`` of each head (RED-GNN's unreached score exactly 0)."""
        mask = torch.zeros(len(heads), self.n_ent, dtype=torch.bool, device=heads.device)
        mask[torch.arange(len(heads), device=heads.device), heads] = True
        for _ in range(n_hops):
            node = torch.nonzero(mask)
            src, _, tail = self.expand(node[:, 1])
            mask[node[src, 0], tail] = True
        return mask

    def batched_edges(self, copies: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """All edges once per query of a batch, in a [copies · n_ent] node space (query b's entity e is
        row b · n_ent + e): (source row, relation, query, target row), each [copies · n_edges]. Cached."""
        if copies not in self._batched:
            query = torch.arange(copies, device=self.head.device).repeat_interleave(self.n_edges)
            offset = query * self.n_ent
            self._batched[copies] = (self.head.repeat(copies) + offset, self.rel.repeat(copies), query,
                                     self.tail.repeat(copies) + offset)
        return self._batched[copies]


class AnswerIndex:
    """Known answers per query (h, r) in the doubled relation space, for filtered ranking.

    Built from triples [n, 3]; inverse queries (t, r + n_rel) -> h are added.
    """

    def __init__(self, triples: torch.Tensor, n_ent: int, n_rel: int) -> None:
        both = torch.cat([triples, torch.stack([triples[:, 2], triples[:, 1] + n_rel, triples[:, 0]], 1)])
        both = torch.unique(both, dim=0)
        self.n_ent, self.n_rel2 = n_ent, 2 * n_rel
        self.index = GroupedIndex(both[:, 0] * self.n_rel2 + both[:, 1], both[:, 2])

    def to(self, device) -> "AnswerIndex":
        self.index.to(device)
        return self

    def mask(self, heads: torch.Tensor, rels: torch.Tensor) -> torch.Tensor:
        """[B] heads, [B] relations -> [B, n_ent] bool, True where (h, r, e) is known."""
        pos, ans = self.index.lookup(heads * self.n_rel2 + rels)
        out = torch.zeros(len(heads), self.n_ent, dtype=torch.bool, device=heads.device)
        out[pos, ans] = True
        return out


def distinct_queries(triples: torch.Tensor, n_rel: int) -> torch.Tensor:
    """Evaluation queries: the distinct (h, r) of triples and their inverses, [Q, 2] (RED-GNN groups
    answers by query; each answer is ranked separately)."""
    both = torch.cat([triples, torch.stack([triples[:, 2], triples[:, 1] + n_rel, triples[:, 0]], 1)])
    return torch.unique(both[:, :2], dim=0)
