"""RED-GNN (Zhang & Yao, WWW 2022): query-dependent propagation over the r-digraph.

For a batch of queries (e_q, r_q), layer ℓ holds every (query, entity) pair within ℓ hops of e_q.
Per edge (s, r, o) out of layer ℓ-1:

    α = σ( w_αᵀ ReLU(W_s h_s + W_r h_r + W_q h_{r_q} + b) + b_α )        (attention, scalar)
    m = α · (h_s + h_r)                                                   (message)
    h̃_o = act( W_h Σ_{edges into o} m ),   h_o = GRU(dropout(h̃_o), state_o)

with relation embeddings per layer (2R+1 rows: relations, inverses, self-loop), a GRU shared
by all layers, and score(e) = w_finalᵀ h^L_e; entities not reached in L hops score 0.
Node sets are (query, entity) keys made unique on the device; no Python loop over edges. The sum over edges is
a scatter on a GPU and two sparse matrix products on a CPU (SparseMessageSum).
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.utils import scatter

from backend.kg.graph import EdgeIndex

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "idd": nn.Identity}


@dataclass
class LayerTrace:
    """What one layer did, for explanations: edges with their attention."""

    query: torch.Tensor      # [E] query index in the batch
    source: torch.Tensor     # [E] source entity
    relation: torch.Tensor   # [E] relation id (doubled space, self-loop = 2R)
    target: torch.Tensor     # [E] target entity
    attention: torch.Tensor  # [E] α
    edge: torch.Tensor | None = None  # [E] row of the edge in EdgeIndex (set when a mask or weight is given)


def dedup_keys(key: torch.Tensor, n_keys: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted distinct keys of ``key`` (values in [0, n_keys)) and the rank [n_keys] of each distinct key,
    so that ``rank[key]`` is each key's row in the distinct list (same result as torch.unique).

    Marks keys in an n_keys-long mask (n_keys = batch × entities): a few kernels and one host sync, no sort.
    As fast as torch.unique on this project's CPU; on an H100 its effect is not isolated yet (README).
    """
    mark = torch.zeros(n_keys, dtype=torch.bool, device=key.device)
    mark[key] = True
    return mark.nonzero().squeeze(1), torch.cumsum(mark, 0) - 1


#: where the sparse products below are off (a GPU, the dense step), a layer sums the relation part of its
#: messages per (target node, relation) first, then multiplies that table by the relation embeddings, when the
#: table has at most this many cells per edge: it replaces a gathered [E, d] block and its backward (training and
#: ranking ~1.15-1.3x faster on this CPU for family and umls, before the sparse products); on large graphs
#: (FB15k-237's later layers) the table would be the bigger one
RELATION_SUM_CELLS_PER_EDGE = 4


#: on a CPU a layer sums its messages as sparse matrix products, Σ_e α_e (h_s + rel_r) = A_ent @ hidden +
#: A_rel @ rel_table (A's rows the targets, CSR), and its backward likewise (SparseMessageSum): no [E, d] block
#: is gathered or scattered, for training and ranking (README: speed on a CPU)
SPARSE_MATMUL_ON_CPU = True
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")  # CSR @ dense is stable


def _csr(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int],
         order: torch.Tensor | None) -> torch.Tensor:
    """CSR matrix of the entries (rows[i], cols[i], values[i]); ``order`` sorts them by row (None: sorted)."""
    crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=shape[0]), 0, out=crow[1:])
    if order is not None:
        cols, values = cols[order], values[order]
    return torch.sparse_csr_tensor(crow, cols, values, shape, check_invariants=False)


def _row_order(rows: torch.Tensor) -> torch.Tensor | None:
    """The permutation that sorts ``rows`` (int32 sorts ~2x faster), None when they are sorted already."""
    if len(rows) < 2 or bool((rows[1:] >= rows[:-1]).all()):
        return None
    return torch.argsort(rows.to(torch.int32), stable=True)


def _edge_dots(pattern: torch.Tensor, left: torch.Tensor, right: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
               order: torch.Tensor | None) -> torch.Tensor:
    """[E] left[rows_e]·right[cols_e] in edge order. Where the matrix has at most 4 cells per edge, the dense
    product gathered (SDDMM also refuses more entries than cells); else sampled on ``pattern``, the edges' CSR
    sorted by ``order``."""
    n_rows, n_cols = pattern.shape
    if n_rows * n_cols <= 4 * len(rows):
        return (left @ right.t()).view(-1)[rows * n_cols + cols]
    dots = torch.sparse.sampled_addmm(pattern, left, right.t(), beta=0.0).values()
    if order is None:
        return dots
    in_edge_order = torch.empty_like(dots)
    in_edge_order[order] = dots
    return in_edge_order


class SparseMessageSum(torch.autograd.Function):
    """agg [n_out, d] = per target, Σ over its in-edges e of α_e·(hidden[src_e] + rel_table[rel_e]).

    Forward: two CSR products over the edges sorted by target. Backward: ∂hidden = Aᵀ @ g and ∂rel_table =
    A_relᵀ @ g as CSR products too, ∂α_e = g[dst_e]·(hidden[src_e] + rel_table[rel_e]) as sampled dense
    products (SDDMM) on A's pattern. Same values as gathering and scattering per edge, up to float order."""

    @staticmethod
    def forward(ctx, alpha, hidden, rel_table, src, rel, dst, n_out: int):
        by_target = _row_order(dst)
        a_ent = _csr(dst, src, alpha, (n_out, hidden.shape[0]), by_target)
        a_rel = _csr(dst, rel, alpha, (n_out, rel_table.shape[0]), by_target)
        ctx.save_for_backward(alpha, hidden, rel_table, src, rel, dst)
        ctx.by_target, ctx.a_ent, ctx.a_rel = by_target, a_ent, a_rel
        return a_ent @ hidden + a_rel @ rel_table

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        alpha, hidden, rel_table, src, rel, dst = ctx.saved_tensors
        grad = grad.contiguous()
        g_alpha = g_hidden = g_rel = None
        if ctx.needs_input_grad[0]:
            g_alpha = (_edge_dots(ctx.a_ent, grad, hidden, dst, src, ctx.by_target)
                       + _edge_dots(ctx.a_rel, grad, rel_table, dst, rel, ctx.by_target))
        if ctx.needs_input_grad[1]:
            g_hidden = _csr(src, dst, alpha, (hidden.shape[0], len(grad)), _row_order(src)) @ grad
        if ctx.needs_input_grad[2]:
            g_rel = _csr(rel, dst, alpha, (rel_table.shape[0], len(grad)), _row_order(rel)) @ grad
        return g_alpha, g_hidden, g_rel, None, None, None, None


class RedGNNLayer(nn.Module):
    """One propagation step with query-relation-aware edge attention."""

    def __init__(self, hidden_dim: int, attn_dim: int, n_rel: int, act: str) -> None:
        super().__init__()
        self.rela_embed = nn.Embedding(2 * n_rel + 1, hidden_dim)
        self.Ws_attn = nn.Linear(hidden_dim, attn_dim, bias=False)
        self.Wr_attn = nn.Linear(hidden_dim, attn_dim, bias=False)
        self.Wqr_attn = nn.Linear(hidden_dim, attn_dim)
        self.w_alpha = nn.Linear(attn_dim, 1)
        self.W_h = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.act = ACTIVATIONS[act]()

    def forward(self, hidden: torch.Tensor, src: torch.Tensor, rel: torch.Tensor, query: torch.Tensor,
                q_rels: torch.Tensor, dst: torch.Tensor, n_out: int,
                edge_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """hidden [n_in, d]; per edge: src [E] (row of hidden), rel [E], query [E] (row of q_rels), dst [E].
        q_rels [B] query relations. Returns (new hidden [n_out, d], attention [E]).
        ``edge_mask`` [E] (0/1) switches edges off (the dense propagation: edges out of unreached nodes).

        The attention's linear maps are applied to nodes, relations and queries before gathering
        per edge (same result, E·d·a work becomes (n + R + B)·d·a); the relation and query-relation
        terms are summed in a [B, 2R+1, a] table first, so each edge gathers one row of it.
        """
        rel_table = self.rela_embed.weight
        n_rel2 = rel_table.shape[0]
        rel_query = (self.Wr_attn(rel_table).unsqueeze(0)
                     + self.Wqr_attn(rel_table.index_select(0, q_rels)).unsqueeze(1)).flatten(0, 1)
        # index_select (backward: index_add) is much faster than advanced indexing (backward: index_put)
        pre = self.Ws_attn(hidden).index_select(0, src) + rel_query.index_select(0, query * n_rel2 + rel)
        alpha = torch.sigmoid(self.w_alpha(torch.relu(pre)))
        if edge_mask is not None:
            alpha = alpha * edge_mask.unsqueeze(1)
        if SPARSE_MATMUL_ON_CPU and hidden.device.type == "cpu" and edge_mask is None:
            agg = SparseMessageSum.apply(alpha.squeeze(-1), hidden, rel_table, src, rel, dst, n_out)
        elif n_out * n_rel2 <= RELATION_SUM_CELLS_PER_EDGE * len(src):
            # Σ_e α_e·rel[r_e] per target = (α summed per (target, relation)) @ rel: no [E, d] relation rows
            rel_alpha = alpha.new_zeros(n_out * n_rel2).index_add_(0, dst * n_rel2 + rel, alpha.squeeze(-1))
            agg = scatter(alpha * hidden.index_select(0, src), dst, dim=0, dim_size=n_out, reduce="sum") \
                + rel_alpha.view(n_out, n_rel2) @ rel_table
        else:
            message = alpha * (hidden.index_select(0, src) + rel_table.index_select(0, rel))
            agg = scatter(message, dst, dim=0, dim_size=n_out, reduce="sum")
        return self.act(self.W_h(agg)), alpha.squeeze(-1)


class RedGNN(nn.Module):
    def __init__(self, n_rel: int, hidden_dim: int, attn_dim: int, n_layer: int, dropout: float, act: str) -> None:
        super().__init__()
        self.n_rel, self.hidden_dim, self.n_layer = n_rel, hidden_dim, n_layer
        self.layers = nn.ModuleList(RedGNNLayer(hidden_dim, attn_dim, n_rel, act) for _ in range(n_layer))
        self.dropout = nn.Dropout(dropout)
        self.W_final = nn.Linear(hidden_dim, 1, bias=False)
        self.gate = nn.GRU(hidden_dim, hidden_dim)

    def _gru_step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step of the shared GRU (its nn.GRU weights) as a GRU cell: on a GPU the fused cell kernel
        is far faster than cuDNN's sequence GRU for one step over 10^5–10^6 nodes (the profile of
        WN18RR training on an H100 put 75% of GPU time in cuDNN's GRU)."""
        g = self.gate
        return torch.gru_cell(x, h, g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0)

    def forward(self, heads: torch.Tensor, q_rels: torch.Tensor, graph: EdgeIndex,
                trace: list[LayerTrace] | None = None, edge_mask: torch.Tensor | None = None,
                edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        """heads, q_rels [B] -> scores [B, n_ent] (0 for entities not reached in L hops).

        When ``trace`` is a list, each layer appends its edges and attentions to it.
        ``edge_mask`` [B, n_edges] bool (columns: the rows of ``graph``): query b propagates only over the edges
        its row keeps, in every layer, exactly as if the others were not in the graph (an entity reached only
        through dropped edges is not reached: score 0; self-loops are always kept). One batch can so re-score one query under many masks
        (backend.core.fidelity). ``edge_weight`` [B, n_edges] float multiplies each edge's attention (1: no
        change); its gradient is the gradient × input attribution of the edges.
        """
        n_ent = graph.n_ent
        B = len(heads)
        device, dtype = heads.device, self.W_final.weight.dtype
        node_query = torch.arange(B, device=device)       # [n] query index of each node
        node_ent = heads                                   # [n] entity of each node
        hidden = torch.zeros(B, self.hidden_dim, device=device, dtype=dtype)
        state = torch.zeros(B, self.hidden_dim, device=device, dtype=dtype)
        masked = edge_mask is not None or edge_weight is not None
        for layer in self.layers:
            weight = eid = None
            if masked:
                src, eid = graph.index.lookup(node_ent)
                q = node_query[src]
                if edge_mask is not None:
                    keep = edge_mask[q, eid] | (graph.rel[eid] == graph.self_rel)  # self-loops carry the state
                    src, eid, q = src[keep], eid[keep], q[keep]
                rel, tail = graph.rel[eid], graph.tail[eid]
                if edge_weight is not None:
                    weight = edge_weight[q, eid]
            else:
                src, rel, tail = graph.expand(node_ent)
                q = node_query[src]
            key = q * n_ent + tail
            new_keys, rank = dedup_keys(key, B * n_ent)
            hidden, alpha = layer(hidden, src, rel, q, q_rels, rank[key], len(new_keys), edge_mask=weight)
            hidden = self.dropout(hidden)
            # nodes of the previous layer keep their GRU state (self-loops make them a subset)
            old_pos = rank[node_query * n_ent + node_ent]
            new_state = torch.zeros(len(new_keys), self.hidden_dim, device=device, dtype=dtype)
            new_state[old_pos] = state
            hidden = state = self._gru_step(hidden, new_state)
            if trace is not None:
                trace.append(LayerTrace(q, node_ent[src], rel, tail, alpha.detach(), eid))
            node_query, node_ent = new_keys // n_ent, new_keys % n_ent
        scores = torch.zeros(B, n_ent, device=device, dtype=dtype)
        scores[node_query, node_ent] = self.W_final(hidden).squeeze(-1)
        return scores

    def forward_dense(self, heads: torch.Tensor, q_rels: torch.Tensor, edges: tuple[torch.Tensor, ...],
                      n_ent: int) -> torch.Tensor:
        """The same propagation over fixed shapes: every query holds a row for every entity and every edge
        (``edges`` = EdgeIndex.batched_edges(B), [B · n_ent] nodes). Edges out of nodes not reached yet are
        masked off and unreached nodes keep a zero state, so the scores equal the sparse forward's (up to
        the order of float sums). No node-set bookkeeping and no host sync, so torch.compile can fuse it:
        for small graphs on a GPU, where the sparse step is bound by kernel launches, not arithmetic."""
        B = len(heads)
        src, rel, query, dst = edges
        n_rows = B * n_ent
        dtype = self.W_final.weight.dtype
        reached = torch.zeros(n_rows, device=heads.device, dtype=dtype)
        # index_fill_ takes the 1 as a kernel argument: `reached[...] = 1.0` copies a host scalar to the device,
        # which CUDA-graph capture refuses
        reached.index_fill_(0, torch.arange(B, device=heads.device) * n_ent + heads, 1.0)
        hidden = state = torch.zeros(n_rows, self.hidden_dim, device=heads.device, dtype=dtype)
        for layer in self.layers:
            active = reached.index_select(0, src)
            hidden, _ = layer(hidden, src, rel, query, q_rels, dst, n_rows, edge_mask=active)
            reached = torch.zeros_like(reached).index_add_(0, dst, active).clamp_(max=1.0)
            hidden = self.dropout(hidden)
            hidden = state = self._gru_step(hidden, state) * reached.unsqueeze(1)
        return self.W_final(hidden).view(B, n_ent)  # unreached rows are zero and W_final has no bias


#: models rank in float64: summation noise (~1e-14) then sits far inside the metrics' tie tolerance, so ranks do not
#: depend on the batch's make-up, the thread count or the machine (backend/core/metrics.py, TIE_TOLERANCE)
RANKING_DTYPE = torch.float64


def ranking_model(model: RedGNN) -> RedGNN:
    """``model`` itself when it already computes in RANKING_DTYPE, else a copy that does, in eval mode (the
    weights are a few tens of thousands of numbers: copying costs microseconds)."""
    if model.W_final.weight.dtype == RANKING_DTYPE and not model.training:
        return model
    return copy.deepcopy(model).to(RANKING_DTYPE).eval()


def softmax_cross_entropy(scores: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of −s(answer) + logsumexp over all entities (as the original code)."""
    pos = scores.gather(1, answers.unsqueeze(1)).squeeze(1)
    return (torch.logsumexp(scores, dim=1) - pos).sum()
