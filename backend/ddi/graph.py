"""The DDI + biomedical graph in CSR form and the path subgraph of a drug pair.

Facts (h, t, r) become two directed edges: h -> t with relation r and t -> h with the inverse relation r + n_rel
(edge e and its inverse e + m, m = number of facts). Every node also has a self-loop (relation 2 n_rel) so a path may
pause. Messages flow from an edge's ``src`` to its ``dst``: the (src, dst, rel) triple is stored as such throughout,
so the relation a path reports is the relation the model used on that hop (ddi.md pitfall 1: EmerGNN's ``visualize``
read its sparse indices the other way round).

Path subgraph of (s, o) with L hops: at hop l (1..L) the edges a -> b with a within l-1 hops of s and b within L-l hops
of o (self-loops included). Propagating from s over these edges only gives exactly the representation of o that
propagating over the whole graph gives after L steps (ddi.md pitfall 6), at a small fraction of the cost.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of arange(starts[i], starts[i] + lens[i]) without a Python loop."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return offs + np.arange(total, dtype=np.int64)


class Graph:
    """Directed multigraph over ``n_nodes`` entities with inverse edges, CSR by source.

    ``facts``: [m, 3] (h, t, r) with r < n_rel. Edge ids 0..m-1 are h -> t (relation r), m..2m-1 their inverses
    t -> h (relation r + n_rel). ``self_rel`` = 2 n_rel is the self-loop relation.
    """

    def __init__(self, facts: np.ndarray, n_nodes: int, n_rel: int):
        facts = np.asarray(facts, dtype=np.int64).reshape(-1, 3)
        self.n_nodes, self.n_rel, self.m = int(n_nodes), int(n_rel), len(facts)
        self.self_rel = 2 * self.n_rel
        self.src = np.concatenate([facts[:, 0], facts[:, 1]]).astype(np.int64)
        self.dst = np.concatenate([facts[:, 1], facts[:, 0]]).astype(np.int64)
        self.rel = np.concatenate([facts[:, 2], facts[:, 2] + self.n_rel]).astype(np.int64)
        order = np.argsort(self.src, kind="stable")
        self.eid = order                                   # CSR slot -> edge id
        self.ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.src, minlength=self.n_nodes), out=self.ptr[1:])
        self.csr_dst = self.dst[order]

    @property
    def n_edges(self) -> int:
        return 2 * self.m

    def inverse(self, e: np.ndarray) -> np.ndarray:
        return np.where(e < self.m, e + self.m, e - self.m)

    def out_slots(self, nodes: np.ndarray) -> np.ndarray:
        nodes = np.asarray(nodes, dtype=np.int64)
        return _ranges(self.ptr[nodes], self.ptr[nodes + 1] - self.ptr[nodes])

    def neighbourhood(self, x: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N1 mask, N2 mask, CSR slots of N1's out-edges) of node x (masks include x; N1 ⊆ N2)."""
        n1 = np.zeros(self.n_nodes, dtype=bool)
        n1[x] = True
        n1[self.csr_dst[self.ptr[x]:self.ptr[x + 1]]] = True
        slots = self.out_slots(np.flatnonzero(n1))
        n2 = n1.copy()
        n2[self.csr_dst[slots]] = True
        return n1, n2, slots


@dataclass
class PathSubgraph:
    """Edges of one query's path subgraph per hop: src, dst, rel [k] (entity ids) and hop [k] in 1..L; ``eid`` [k]
    the graph's edge id (-1 for a self-loop)."""

    source: int
    target: int
    src: np.ndarray
    dst: np.ndarray
    rel: np.ndarray
    hop: np.ndarray
    eid: np.ndarray

    @property
    def n_edges(self) -> int:
        return int(len(self.src))


def _hop_edges(g: Graph, s: int, o: int, ns: tuple, no: tuple, n_layer: int = 3) -> PathSubgraph:
    """Path subgraph from s to o for L = 3 hops (the configuration EmerGNN uses) or L = 1, 2."""
    n1s, n2s, slots_s = ns
    n1o, n2o, slots_o = no
    within_s = {0: None, 1: n1s, 2: n2s}
    within_o = {0: None, 1: n1o, 2: n2o}
    parts = []
    for hop in range(1, n_layer + 1):
        a_k, b_k = hop - 1, n_layer - hop      # a within a_k hops of s, b within b_k hops of o
        if a_k == 0:                           # edges out of s into N_{b_k}(o)
            slot = np.arange(g.ptr[s], g.ptr[s + 1])
            d = g.csr_dst[slot]
            keep = (d == o) if b_k == 0 else within_o[b_k][d]
            e = g.eid[slot[keep]]
        elif b_k == 0:                         # edges from N_{a_k}(s) into o = inverses of o's out-edges
            slot = np.arange(g.ptr[o], g.ptr[o + 1])
            d = g.csr_dst[slot]
            keep = within_s[a_k][d]
            e = g.inverse(g.eid[slot[keep]])
        elif a_k == 1:                         # edges out of N1(s) into N_{b_k}(o)
            d = g.csr_dst[slots_s]
            e = g.eid[slots_s[within_o[b_k][d]]]
        else:                                  # a_k == 2 and b_k == 1 (L = 4) is not needed for L <= 3
            raise ValueError("path subgraphs are built for L <= 3")
        # self-loops at nodes within a_k of s and b_k of o
        ms = np.zeros(g.n_nodes, dtype=bool)
        if a_k == 0:
            ms[s] = True
        else:
            ms |= within_s[a_k]
        mo = np.zeros(g.n_nodes, dtype=bool)
        if b_k == 0:
            mo[o] = True
        else:
            mo |= within_o[b_k]
        loops = np.flatnonzero(ms & mo)
        parts.append((np.concatenate([g.src[e], loops]), np.concatenate([g.dst[e], loops]),
                      np.concatenate([g.rel[e], np.full(len(loops), g.self_rel)]),
                      np.full(len(e) + len(loops), hop), np.concatenate([e, np.full(len(loops), -1)])))
    cat = [np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(5)]
    return PathSubgraph(s, o, *cat)


def _three_hop_subgraph(g: Graph, s: int, o: int) -> PathSubgraph:
    """Path subgraph from s to o for L = 3 without any 2-hop neighbourhood: the middle hop is the edges from N1(s)
    into N1(o) (read from whichever side has fewer out-edges), and a node is within 2 hops of o exactly when it
    starts a middle-hop edge (within 2 of s: ends one), which gives hops 1 and 3."""
    n1s, n1o = np.zeros(g.n_nodes, dtype=bool), np.zeros(g.n_nodes, dtype=bool)
    for mask, x in ((n1s, s), (n1o, o)):
        mask[x] = True
        mask[g.csr_dst[g.ptr[x]:g.ptr[x + 1]]] = True
    side_s, side_o = np.flatnonzero(n1s), np.flatnonzero(n1o)
    degree = lambda nodes: int((g.ptr[nodes + 1] - g.ptr[nodes]).sum())
    if degree(side_s) <= degree(side_o):
        slots = g.out_slots(side_s)
        e2 = g.eid[slots[n1o[g.csr_dst[slots]]]]
    else:                                      # the inverses of N1(o)'s edges into N1(s)
        slots = g.out_slots(side_o)
        e2 = g.inverse(g.eid[slots[n1s[g.csr_dst[slots]]]])
    loops2 = np.flatnonzero(n1s & n1o)
    starts_mid, ends_mid = np.zeros(g.n_nodes, dtype=bool), np.zeros(g.n_nodes, dtype=bool)
    starts_mid[g.src[e2]] = starts_mid[loops2] = True
    ends_mid[g.dst[e2]] = ends_mid[loops2] = True
    slot = np.arange(g.ptr[s], g.ptr[s + 1])
    e1 = g.eid[slot[starts_mid[g.csr_dst[slot]]]]
    slot = np.arange(g.ptr[o], g.ptr[o + 1])
    e3 = g.inverse(g.eid[slot[ends_mid[g.csr_dst[slot]]]])
    loops = (np.array([s] if starts_mid[s] else [], dtype=np.int64), loops2,
             np.array([o] if ends_mid[o] else [], dtype=np.int64))
    parts = [(np.concatenate([g.src[e], lp]), np.concatenate([g.dst[e], lp]),
              np.concatenate([g.rel[e], np.full(len(lp), g.self_rel)]), np.full(len(e) + len(lp), hop),
              np.concatenate([e, np.full(len(lp), -1)])) for hop, e, lp in zip((1, 2, 3), (e1, e2, e3), loops)]
    return PathSubgraph(s, o, *(np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(5)))


def reversed_subgraph(g: Graph, sub: PathSubgraph, n_layer: int = 3) -> PathSubgraph:
    """The o -> s path subgraph from the s -> o one: every walk reversed, so each edge becomes its inverse and hop l
    becomes hop L + 1 - l (self-loops stay self-loops)."""
    loop = sub.eid < 0
    rel = np.where(loop, sub.rel, np.where(sub.rel < g.n_rel, sub.rel + g.n_rel, sub.rel - g.n_rel))
    eid = np.where(loop, -1, g.inverse(np.maximum(sub.eid, 0)))
    flip = lambda x: np.ascontiguousarray(x[::-1])
    return PathSubgraph(sub.target, sub.source, flip(sub.dst), flip(sub.src), flip(rel), flip(n_layer + 1 - sub.hop),
                        flip(eid))


def pair_subgraphs(g: Graph, u: int, v: int, n_layer: int = 3) -> tuple[PathSubgraph, PathSubgraph]:
    """(u -> v subgraph, v -> u subgraph): the second is the first reversed."""
    if n_layer > 3:
        raise ValueError("path subgraphs are built for L <= 3")
    if n_layer == 3:
        fwd = _three_hop_subgraph(g, u, v)
    else:
        fwd = _hop_edges(g, u, v, g.neighbourhood(u), g.neighbourhood(v), n_layer)
    return fwd, reversed_subgraph(g, fwd, n_layer)


def brute_force_paths(facts: np.ndarray, n_nodes: int, n_rel: int, s: int, o: int, n_layer: int = 3) -> set:
    """Every walk s -> o of exactly n_layer hops (self-loops allowed) as a set of (hop, src, dst, rel) edges used:
    the reference the tests compare the subgraph with (small graphs only)."""
    g = Graph(facts, n_nodes, n_rel)
    out = [[(int(g.dst[e]), int(g.rel[e])) for e in g.eid[g.ptr[x]:g.ptr[x + 1]]] + [(x, g.self_rel)]
           for x in range(n_nodes)]
    used = set()

    def walk(x, hop, trail):
        if hop == n_layer:
            if x == o:
                used.update(trail)
            return
        for y, r in out[x]:
            walk(y, hop + 1, trail + [(hop + 1, x, y, r)])

    walk(s, 0, [])
    return used
