"""EmerGNN's flow-based GNN on batched path subgraphs (Zhang et al., Nat. Comput. Sci. 2023; ddi.md section 4).

For a pair (u, v): h_{u,u}^(0) = z_u, and for l = 1..L
    h_{u,e}^(l) = ReLU( W^(l) sum_{(e', r, e) in hop l} alpha_r^(l)(u, v) * h_{u,e'}^(l-1) (.) h_r^(l) ),
    alpha^(l)(u, v) = sigmoid( A^(l) ReLU( B^(l) [z_u ; z_v] ) )   (one weight per relation type, pair-conditioned)
over the edges of the pair's path subgraph (backend.ddi.graph); the same from v with the same parameters (attention
input kept [z_u ; z_v]); logits = W_out [h_{u,v}^(L) ; h_{v,u}^(L)] (+ [z_u ; z_v] with learned drug embeddings).

Every (query, entity) of a batch is one row of the hidden matrix. The message of an edge factors into its source
row and a coefficient c(pair, relation) = alpha * h_r, so the edges of a hop are grouped by (destination row,
relation): one binary sparse matrix product sums each group's source rows, then each group is scaled by its
coefficient and scatter-added (the hop-2 edges of a batch of 32 pairs, about 430k, fall into about 23k groups: the
edge-by-edge gather + index_add_ moved 19 times more rows). ``edge_mask`` [n_edges] multiplies each edge's message
edge by edge instead (0 removes an edge, a leaf tensor of ones gives each edge's gradient: evidence, faithfulness
checks); both paths give the same logits (tested).
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from backend.ddi.graph import Graph, PathSubgraph, pair_subgraphs


@dataclass
class HopGroups:
    """The edges of one hop grouped by (destination row, relation): group g sums the source rows ``col[crow[g]:crow[g
    + 1]]``; ``dst``, ``rel``, ``pair`` [G] are the group's destination row, relation and pair (0..B-1)."""

    crow: torch.Tensor
    col: torch.Tensor
    dst: torch.Tensor
    rel: torch.Tensor
    pair: torch.Tensor

    def to(self, device) -> "HopGroups":
        return HopGroups(*(getattr(self, f.name).to(device, non_blocking=True) for f in dataclasses.fields(self)))

    def summed_sources(self, h: torch.Tensor, n_rows: int) -> torch.Tensor:
        """[G, d]: the sum of each group's source rows of ``h`` (one sparse x dense product; gradient to ``h``)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
            S = torch.sparse_csr_tensor(self.crow, self.col, torch.ones(self.col.numel(), dtype=h.dtype, device=h.device),
                                        size=(self.dst.numel(), n_rows), check_invariants=False)
            return S @ h


def group_hops(src: np.ndarray, dst: np.ndarray, rel: np.ndarray, hop: np.ndarray, pair: np.ndarray,
               n_rows: int, n_rel_slots: int, n_layer: int) -> list[HopGroups]:
    """Per hop 1..n_layer, the edges (rows of the hidden matrix) grouped by (dst, rel): one stable sort of all
    edges by (hop, dst, rel), no Python loop over edges."""
    key = (hop * n_rows + dst) * n_rel_slots + rel
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
    group_key, group_end = key[first], np.append(first[1:], len(key))
    group_hop = group_key // (n_rows * n_rel_slots)
    t = lambda x: torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64))
    out = []
    for l in range(1, n_layer + 1):
        g0, g1 = np.searchsorted(group_hop, [l, l + 1])          # this hop's groups
        e0 = first[g0] if g0 < g1 else 0                          # and its edges, e0:e1 in sorted order
        e1 = group_end[g1 - 1] if g0 < g1 else 0
        k = group_key[g0:g1]
        out.append(HopGroups(crow=t(np.append(first[g0:g1], e1) - e0), col=t(src[order[e0:e1]]),
                             dst=t(k // n_rel_slots % n_rows), rel=t(k % n_rel_slots), pair=t(pair[order[first[g0:g1]]])))
    return out


@dataclass
class Batch:
    """A batch of pairs as one graph: per edge src/dst (rows of the hidden matrix), rel, hop, query [k]; per query
    its start row and end row [2B] (queries 0..B-1 go u -> v, B..2B-1 go v -> u); ``edges`` the pair subgraphs."""

    pairs: torch.Tensor        # [B, 2] drug ids (for features)
    src: torch.Tensor
    dst: torch.Tensor
    rel: torch.Tensor
    hop: torch.Tensor
    query: torch.Tensor
    start: torch.Tensor
    end: torch.Tensor
    n_rows: int
    subgraphs: list[PathSubgraph]
    edge_offsets: np.ndarray   # [2B + 1] where each query's edges start in the flat edge arrays
    hops: list[HopGroups] = dataclasses.field(default_factory=list)   # per hop, the grouped edges (fast path)

    @property
    def n_edges(self) -> int:
        return int(self.src.numel())

    def to(self, device) -> "Batch":
        """The tensors on ``device`` (the subgraphs stay numpy)."""
        if device is None or str(device) == "cpu":
            return self
        move = {k: getattr(self, k).to(device, non_blocking=True) for k in
                ("pairs", "src", "dst", "rel", "hop", "query", "start", "end")}
        return dataclasses.replace(self, **move, hops=[g.to(device) for g in self.hops])


def make_batch(graph: Graph, pairs: np.ndarray, n_layer: int = 3) -> Batch:
    """Path subgraphs of every pair (both directions) laid out as one graph."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    B = len(pairs)
    fwd, bwd = [], []
    for u, v in pairs:
        a, b = pair_subgraphs(graph, int(u), int(v), n_layer)
        fwd.append(a)
        bwd.append(b)
    subs = fwd + bwd
    sizes = np.array([s.n_edges for s in subs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    # rows of the hidden matrix: each query's entities numbered in entity order, queries one after another
    # (a mark array and a cumulative sum per query: linear in its edges, no sort)
    mark = np.zeros(graph.n_nodes, dtype=bool)
    src_rows, dst_rows, starts, ends, base = [], [], [], [], 0
    for sub in subs:
        mark[:] = False
        mark[sub.src] = True
        mark[sub.dst] = True
        mark[sub.source] = mark[sub.target] = True
        local = np.cumsum(mark, dtype=np.int64) - 1 + base
        src_rows.append(local[sub.src])
        dst_rows.append(local[sub.dst])
        starts.append(local[sub.source])
        ends.append(local[sub.target])
        base = int(local[-1]) + 1
    q = np.repeat(np.arange(2 * B), sizes)
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)
    t = lambda x: torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64))
    src, dst, rel, hop = cat(src_rows), cat(dst_rows), cat([s.rel for s in subs]), cat([s.hop for s in subs])
    hops = group_hops(src, dst, rel, hop, q % max(B, 1), base, graph.self_rel + 1, n_layer)
    return Batch(pairs=t(pairs), src=t(src), dst=t(dst), rel=t(rel), hop=t(hop), query=t(q),
                 start=t(np.array(starts, dtype=np.int64)), end=t(np.array(ends, dtype=np.int64)), n_rows=base,
                 subgraphs=subs, edge_offsets=offsets, hops=hops)


class EmerGNN(nn.Module):
    """``features``: "morgan" (z = Linear(fingerprint), S1/S2) or "embedding" (learned per-drug z, S0).
    ``n_rel_slots`` = 2 n_rel + 1 (relations, inverses, self-loop)."""

    def __init__(self, n_types: int, n_rel_slots: int, fingerprints: torch.Tensor | None, n_drugs: int,
                 dim: int = 64, n_layer: int = 3, attn_dim: int = 5, features: str = "morgan"):
        super().__init__()
        self.n_types, self.n_rel_slots, self.dim, self.n_layer, self.features = n_types, n_rel_slots, dim, n_layer, features
        if features == "morgan":
            if fingerprints is None:
                raise ValueError("morgan features need the fingerprint matrix")
            self.register_buffer("fingerprints", fingerprints.float(), persistent=False)
            self.encoder = nn.Linear(fingerprints.shape[1], dim)
        else:
            self.embedding = nn.Embedding(n_drugs, dim)
        self.rel_emb = nn.Parameter(torch.empty(n_layer, n_rel_slots, dim))
        nn.init.xavier_uniform_(self.rel_emb.view(-1, dim))
        self.W = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_layer))
        self.attn_in = nn.ModuleList(nn.Linear(2 * dim, attn_dim) for _ in range(n_layer))
        self.attn_out = nn.ModuleList(nn.Linear(attn_dim, n_rel_slots) for _ in range(n_layer))
        self.readout = nn.Linear((2 if features == "morgan" else 4) * dim, n_types)

    def drug_features(self, drugs: torch.Tensor, fingerprints: torch.Tensor | None = None) -> torch.Tensor:
        """z [n, d] of drug ids ([n]); ``fingerprints`` [n, bits] overrides the stored rows (a new drug's SMILES)."""
        if self.features == "morgan":
            fp = fingerprints if fingerprints is not None else self.fingerprints[drugs]
            return self.encoder(fp)
        return self.embedding(drugs)

    def attention(self, zu: torch.Tensor, zv: torch.Tensor) -> torch.Tensor:
        """[L, B, n_rel_slots] pair-conditioned relation weights."""
        x = torch.cat([zu, zv], -1)
        return torch.stack([torch.sigmoid(self.attn_out[l](torch.relu(self.attn_in[l](x)))) for l in range(self.n_layer)])

    def forward(self, batch: Batch, edge_mask: torch.Tensor | None = None, fingerprints: torch.Tensor | None = None,
                return_attention: bool = False):
        """[B, n_types] logits. ``fingerprints`` [B, 2, bits] replaces the stored fingerprints of the pair's drugs."""
        B = batch.pairs.shape[0]
        fu = fingerprints[:, 0] if fingerprints is not None else None
        fv = fingerprints[:, 1] if fingerprints is not None else None
        zu, zv = self.drug_features(batch.pairs[:, 0], fu), self.drug_features(batch.pairs[:, 1], fv)
        alpha = self.attention(zu, zv)                                  # [L, B, R]
        pair_of_query = batch.query % B
        h = zu.new_zeros(batch.n_rows, self.dim)
        h = h.index_put((batch.start,), torch.cat([zu, zv], 0))
        reached = torch.zeros(batch.n_rows, dtype=torch.bool, device=h.device).index_fill_(0, batch.start, True)
        for l in range(self.n_layer):
            if edge_mask is None and batch.hops:
                g = batch.hops[l]
                coef = alpha[l, g.pair, g.rel].unsqueeze(-1) * self.rel_emb[l, g.rel]
                agg = h.new_zeros(batch.n_rows, self.dim).index_add_(0, g.dst, g.summed_sources(h, batch.n_rows) * coef)
                live = g.summed_sources(reached.to(h.dtype).unsqueeze(-1), batch.n_rows).squeeze(-1) > 0
                reached = torch.zeros_like(reached).index_fill_(0, g.dst[live], True)
                h = torch.relu(self.W[l](agg)) * reached.unsqueeze(-1).to(h.dtype)
                continue
            sel = batch.hop == l + 1
            src, dst, rel, q = batch.src[sel], batch.dst[sel], batch.rel[sel], pair_of_query[sel]
            w = alpha[l, q, rel]
            live = reached[src]
            if edge_mask is not None:
                w = w * edge_mask[sel]
                live = live & (edge_mask[sel].detach() != 0)
            msg = h[src] * self.rel_emb[l, rel] * w.unsqueeze(-1)
            agg = h.new_zeros(batch.n_rows, self.dim).index_add_(0, dst, msg)
            # a row holds a value only once a message can have reached it (an edge masked to 0 carries none), so a
            # masked edge is the same as a deleted fact and W's bias never lights up unreached rows
            reached = torch.zeros_like(reached).index_fill_(0, dst[live], True)
            h = torch.relu(self.W[l](agg)) * reached.unsqueeze(-1).to(h.dtype)
        h_end = h[batch.end]
        out = [h_end[:B], h_end[B:]]
        if self.features != "morgan":
            out = [zu, zv] + out
        logits = self.readout(torch.cat(out, -1))
        return (logits, alpha) if return_attention else logits
