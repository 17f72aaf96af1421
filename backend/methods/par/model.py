"""PAR (Wang et al., NeurIPS 2021): property-aware embeddings, a query-dependent relation graph, selective update.

Per episode (support embeddings g_s [2K, D] ordered negatives then positives, query embeddings g_q [Q, D]):

1. ``encode_projection`` (property-aware embedding, W_p): class prototypes c0, c1 = class means of g_s; for every
   molecule, 1-head self-attention over the tokens [g_i, c0, c1] (qkv Linear(D, 3D) without bias, scale D^-1/2,
   attention dropout 0.1), output at token 0 concatenated with g_i -> MLP 2D -> 128 -> 128 (LeakyReLU, dropout).
2. ``relation`` (query-dependent relation graph, W_r, and classifier W_c = fc1, fc2): one graph per query over
   its 2K+1 molecules (support + the query, the query last). Each of ``rel_layers`` rounds: similarity
   s_ij = sigmoid(MLP(exp(-|h_i - h_j|))) for every pair (computed once per unordered pair), diagonal 0, the
   top-k per row kept (k = K), rows L1-normalised, h_i <- LeakyReLU(W [h_i || sum_j A_ij h_j]). Then
   fc1 + LeakyReLU + dropout + fc2 give 2 logits per node.
3. Selective update: the inner loop adapts only the property-aware parts (``encode_projection.*``,
   ``relation.fc1.*``, ``relation.fc2.*``: 380,210 parameters at D = 300); the encoder and the relation's
   edge/node layers stay fixed within a task (second-order MAML in the outer loop).

All queries of an episode go through the relation module as one batch of graphs (no loop over queries or edges).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ADAPTIVE_PREFIXES = ("encode_projection.", "relation.fc1.", "relation.fc2.")


class ContextProjection(nn.Module):
    """Property-aware embedding: attention of each molecule to the two class prototypes, then an MLP."""

    def __init__(self, dim: int = 300, map_dim: int = 128, attn_dropout: float = 0.1, map_dropout: float = 0.1):
        super().__init__()
        self.dim = dim
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.attn_dropout = attn_dropout
        self.mlp = nn.Sequential(nn.Linear(2 * dim, map_dim), nn.LeakyReLU(), nn.Dropout(map_dropout),
                                 nn.Linear(map_dim, map_dim))

    def forward(self, g: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        """g [M, D], prototypes [2, D] -> [M, map_dim]."""
        tokens = torch.cat([g.unsqueeze(1), prototypes.unsqueeze(0).expand(g.shape[0], -1, -1)], dim=1)  # [M,3,D]
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        att = torch.softmax((q[:, :1] @ k.transpose(1, 2)) / math.sqrt(self.dim), dim=-1)   # [M, 1, 3]
        att = F.dropout(att, self.attn_dropout, self.training)
        out = (att @ v)[:, 0]                                                                 # [M, D]
        return self.mlp(torch.cat([out, g], dim=-1))


class EdgeMLP(nn.Module):
    def __init__(self, dim: int = 128, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 2 * hidden, bias=False), nn.LeakyReLU(),
                                 nn.Linear(2 * hidden, hidden, bias=False), nn.LeakyReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class RelationGraph(nn.Module):
    """The query-dependent relation graph and the node classifier (fc1, fc2)."""

    def __init__(self, dim: int = 128, hidden: int = 128, layers: int = 2, dropout: float = 0.2):
        super().__init__()
        self.edges = nn.ModuleList([EdgeMLP(dim, hidden) for _ in range(layers)])
        self.nodes = nn.ModuleList([nn.Linear(2 * dim, dim, bias=False) for _ in range(layers)])
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, 2)
        self.dropout = dropout

    @staticmethod
    def _pairs(edge_mlp, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(edge_mlp(torch.exp(-(a - b).abs())))

    def forward(self, h: torch.Tensor, k: int, node_mask: torch.Tensor | None = None, shared_prefix: int = 0,
                query_only: bool = False):
        """h [B, N, dim] -> (logits [B, N, 2], similarities [B, N, N] of the last round (before top-k),
        adjacency [B, N, N] of the last round (top-k kept, row-normalised)).

        ``node_mask`` [N] (bool): nodes switched off take part in nothing (no edges to or from them).
        ``shared_prefix`` S: the first S nodes have the same input features in every graph of the batch (the
        support set), so the first round computes their S(S-1)/2 similarities once, not once per graph (exact).
        ``query_only``: only the last node's (the query's) outputs are wanted (prediction, and the outer loss of
        training): the last round computes that node's row alone (N - 1 similarities per graph instead of
        N(N-1)/2; exact, dropout draws included) and returns (logits [B, 1, 2], similarities [B, 1, N],
        adjacency [B, 1, N]): the query's rows."""
        b, n, _ = h.shape
        rows = torch.arange(b, device=h.device)[:, None]
        iu, ju = torch.triu_indices(n, n, 1, device=h.device)
        k = max(1, min(k, n - 1))
        sim = adj = None
        last = len(self.edges) - 1
        for r, (edge_mlp, node_lin) in enumerate(zip(self.edges, self.nodes)):
            if query_only and r == last:
                return self._query_round(h, edge_mlp, node_lin, k, node_mask)
            sim = h.new_zeros(b, n, n)
            if r == 0 and 1 < shared_prefix < n:
                sp = shared_prefix
                inside = ju < sp                                   # pairs within the shared prefix
                i_in, j_in = iu[inside], ju[inside]
                s_in = self._pairs(edge_mlp, h[0, i_in], h[0, j_in]).unsqueeze(0).expand(b, -1)
                i_out, j_out = iu[~inside], ju[~inside]
                s_out = self._pairs(edge_mlp, h[:, i_out], h[:, j_out])
                ii, jj = torch.cat([i_in, i_out]), torch.cat([j_in, j_out])
                s = torch.cat([s_in, s_out], dim=1)
            else:
                ii, jj = iu, ju
                s = self._pairs(edge_mlp, h[:, iu], h[:, ju])                               # [B, P]
            sim = sim.index_put((rows, ii[None], jj[None]), s)
            sim = sim.index_put((rows, jj[None], ii[None]), s)
            masked = sim
            if node_mask is not None:
                keep = node_mask.to(h.dtype)
                masked = sim * keep[None, :, None] * keep[None, None, :]
            top = masked.topk(k, dim=-1).indices
            adj = torch.zeros_like(masked).scatter(-1, top, 1.0) * masked
            adj = adj / adj.sum(-1, keepdim=True).clamp_min(1e-8)
            h = F.leaky_relu(node_lin(torch.cat([h, adj @ h], dim=-1)))
        return self._classify(h), sim, adj

    def _classify(self, h):
        out = F.dropout(F.leaky_relu(self.fc1(F.dropout(h, self.dropout, self.training))), self.dropout, self.training)
        return self.fc2(out)

    def _dropout_last_node(self, x, n: int):
        """F.dropout of the last node's features ``x`` [B, d] as if applied to all n nodes [B, n, d]: the same
        random draws (so training takes the full path's random stream and values), only the last row used."""
        if not self.training or self.dropout == 0:
            return x
        noise = x.new_empty(x.shape[0], n, x.shape[1]).bernoulli_(1 - self.dropout).div_(1 - self.dropout)
        return x * noise[:, -1]

    def _query_round(self, h, edge_mlp, node_lin, k: int, node_mask):
        """The last round for the query node (the last node) only: its similarity row, top-k, node update and
        logits -> (logits [B, 1, 2], similarities [B, 1, N], adjacency [B, 1, N]), equal to those rows of the
        full round."""
        n = h.shape[1]
        hq = h[:, -1]
        sim = torch.cat([self._pairs(edge_mlp, h[:, :-1], hq.unsqueeze(1)), hq.new_zeros(hq.shape[0], 1)], 1)
        row = sim if node_mask is None else sim * node_mask.to(h.dtype)[None, :]
        top = row.topk(k, dim=-1).indices
        adj = torch.zeros_like(row).scatter(-1, top, 1.0) * row
        adj = adj / adj.sum(-1, keepdim=True).clamp_min(1e-8)
        msg = torch.bmm(adj.unsqueeze(1), h)[:, 0]
        hq = F.leaky_relu(node_lin(torch.cat([hq, msg], dim=-1)))
        out = self._dropout_last_node(F.leaky_relu(self.fc1(self._dropout_last_node(hq, n))), n)
        return self.fc2(out).unsqueeze(1), sim.unsqueeze(1), adj.unsqueeze(1)


class PARHead(nn.Module):
    """Everything of PAR above the molecular encoder (the encoder's embeddings come in)."""

    def __init__(self, emb_dim: int = 300, map_dim: int = 128, rel_layers: int = 2, rel_hidden: int = 128,
                 attn_dropout: float = 0.1, map_dropout: float = 0.1, rel_dropout: float = 0.2):
        super().__init__()
        self.encode_projection = ContextProjection(emb_dim, map_dim, attn_dropout, map_dropout)
        self.relation = RelationGraph(map_dim, rel_hidden, rel_layers, rel_dropout)

    def forward(self, g_s: torch.Tensor, y_s: torch.Tensor, g_q: torch.Tensor, k: int,
                node_mask: torch.Tensor | None = None, query_only: bool = False):
        """g_s [S, D] with labels y_s [S] (0/1), g_q [Q, D] -> (logits [Q, S+1, 2] (node S = the query),
        sim [Q, S+1, S+1], adj [Q, S+1, S+1]); with ``query_only`` only the query's rows: [Q, 1, 2], [Q, 1, S+1],
        [Q, 1, S+1] (see RelationGraph)."""
        y = y_s.to(g_s.dtype)
        c1 = (g_s * y[:, None]).sum(0) / y.sum().clamp_min(1)
        c0 = (g_s * (1 - y)[:, None]).sum(0) / (1 - y).sum().clamp_min(1)
        protos = torch.stack([c0, c1])
        h = self.encode_projection(torch.cat([g_s, g_q]), protos)
        hs, hq = h[: g_s.shape[0]], h[g_s.shape[0]:]
        sets = torch.cat([hs.unsqueeze(0).expand(hq.shape[0], -1, -1), hq.unsqueeze(1)], dim=1)   # [Q, S+1, m]
        if node_mask is not None:
            node_mask = torch.cat([node_mask.to(torch.bool), node_mask.new_ones(1, dtype=torch.bool)])
        return self.relation(sets, k, node_mask, shared_prefix=g_s.shape[0], query_only=query_only)


def adaptive_names(module: nn.Module, prefix: str = "") -> list[str]:
    """Names (under ``prefix``) of the parameters the inner loop adapts."""
    return [n for n, _ in module.named_parameters() if n.startswith(tuple(prefix + p for p in ADAPTIVE_PREFIXES))]


def label_equality(y_a: torch.Tensor, y_b: torch.Tensor) -> torch.Tensor:
    return (y_a[:, None] == y_b[None, :]).to(torch.float32)


def support_loss(logits, sim, y_s, reg_adj: float = 1.0, support_mask: torch.Tensor | None = None):
    """Inner-loop loss: CE on the support nodes of every query's graph + reg_adj x MSE of the support-support
    similarities against label equality (diagonal excluded)."""
    s = y_s.shape[0]
    ce = F.cross_entropy(logits[:, :s].reshape(-1, 2), y_s.repeat(logits.shape[0]))
    target = label_equality(y_s, y_s)
    off = ~torch.eye(s, dtype=torch.bool, device=y_s.device)
    mse = ((sim[:, :s, :s] - target) ** 2)[:, off].mean()
    return ce + reg_adj * mse


def query_loss(logits, sim, y_s, y_q, reg_adj: float = 1.0):
    """Outer loss: CE on the queries + reg_adj x MSE of each query's similarities to the support nodes against
    label equality."""
    s = y_s.shape[0]
    ce = F.cross_entropy(logits[:, -1], y_q)          # the query is the last node (of the full or query-only output)
    mse = ((sim[:, -1, :s] - label_equality(y_q, y_s)) ** 2).mean()
    return ce + reg_adj * mse
