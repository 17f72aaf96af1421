"""The pretrain-gnns molecular encoders (Hu et al. 2020) in plain PyTorch: GIN, GCN, GraphSAGE, GAT.

Module names follow pretrain-gnns ``GNN`` exactly (``x_embedding1``, ``x_embedding2``, ModuleList ``gnns`` with
per-layer ``edge_embedding1`` / ``edge_embedding2``, ModuleList ``batch_norms``), so the shipped state dicts in
``$PARSIMONY_DATA/molecules/pretrain_gnns/model_architecture/`` load with ``strict=True``.

Layer l: h = Conv_l(h); h = BatchNorm(h); h = dropout(ReLU(h)) (last layer: dropout(h), no ReLU); JK = last.
Every conv adds one self loop per node with bond attribute [4, 0]. Messages flow along ``edge_index[0] ->
edge_index[1]``. GIN / GCN / GraphSAGE aggregate with sparse products built once per forward and shared by the
layers (:class:`Propagation`: no [edges, dim] message tensor; equal to the per-edge gather + ``index_add_`` up
to float rounding, tests/unit/test_mol_speed_equivalence.py); GAT gathers per edge (attention per edge) and
uses ``scatter_reduce``. No Python loops, no PyG needed.

Public API (stable):

- :class:`GNN` (num_layer=5, emb_dim=300, gnn_type="gin"|"gcn"|"graphsage"|"gat", drop_ratio=0.5, JK="last");
  ``forward(x, edge_index, edge_attr, layer_hook=None)`` -> node representations [N, emb_dim]; the convs take
  ``(x, edge_index, edge_attr)`` or ``(x, propagation)`` (a prepared :class:`Propagation`);
  ``layer_hook(l, h) -> h`` runs after each layer (after BN/activation/dropout): the place for FiLM-style
  modulation (PACIA).
- :class:`GraphEncoder` (gnn, pooling="mean"): ``forward(batch: MolBatch, layer_hook=None)`` -> [num_graphs, emb_dim].
- :func:`load_pretrained` (name, data_dir=None, drop_ratio=0.5) -> GNN with the shipped weights loaded strictly.
- :func:`pretrained_path`, :data:`PRETRAINED` (the nine shipped names), :func:`build_encoder`.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from backend.mol.featurise import (NUM_ATOM_TYPE, NUM_BOND_DIRECTION, NUM_BOND_TYPE, NUM_CHIRALITY_TAG,
                                   SELF_LOOP_BOND_TYPE, MolBatch)

GNN_TYPES = ("gin", "gcn", "graphsage", "gat")
PRETRAINED = tuple(f"{g}_{k}" for g in ("gcn", "graphsage", "gat")
                   for k in ("contextpred", "supervised", "supervised_contextpred"))
PRETRAINED_DIR = "molecules/pretrain_gnns/model_architecture"


def _with_self_loops(edge_index: torch.Tensor, edge_attr: torch.Tensor, n: int):
    loops = torch.arange(n, device=edge_index.device)
    ei = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
    la = torch.zeros((n, 2), dtype=edge_attr.dtype, device=edge_attr.device)
    la[:, 0] = SELF_LOOP_BOND_TYPE
    return ei, torch.cat([edge_attr, la], dim=0)


class Propagation:
    """A batch's edges with one self loop per node, prepared once and shared by every layer of a forward.

    Aggregations are sparse products instead of per-edge gathers: ``sum_e w_e (h[src_e] + E1[type_e] +
    E2[dir_e])`` into dst = ``A_w @ h + C_type @ E1 + C_dir @ E2`` with A_w the [N, N] edge-weight matrix and C the
    per-node weighted counts of bond types and directions (no [E, dim] tensor is built). The weights ``w`` are
    "sum" (1), "gcn" (deg^-1/2 deg^-1/2, degrees over the source ends as pretrain-gnns) or "mean" (1 / in-degree).
    """

    def __init__(self, edge_index: torch.Tensor, edge_attr: torch.Tensor, n: int):
        self.n = n
        self.edge_index, self.edge_attr = _with_self_loops(edge_index, edge_attr, n)
        self._ops: dict[str, tuple] = {}

    def weights(self, kind: str) -> torch.Tensor:
        src, dst = self.edge_index
        ones = torch.ones(src.shape[0], dtype=torch.float32, device=src.device)
        if kind == "sum":
            return ones
        if kind == "gcn":
            deg = torch.zeros(self.n, dtype=ones.dtype, device=src.device).index_add_(0, src, ones)
            dis = deg.pow(-0.5)
            dis[torch.isinf(dis)] = 0
            return dis[src] * dis[dst]
        if kind == "mean":
            cnt = torch.zeros(self.n, dtype=ones.dtype, device=src.device).index_add_(0, dst, ones)
            return 1.0 / cnt.clamp(min=1)[dst]
        raise ValueError(f"unknown aggregation {kind!r}")

    def operators(self, kind: str):
        """(A_w sparse [N, N], C [N, NUM_BOND_TYPE + NUM_BOND_DIRECTION]: per node, the weighted counts of its
        incoming bond types then bond directions) for weights ``kind``."""
        if kind not in self._ops:
            src, dst = self.edge_index
            w = self.weights(kind)
            a = torch.sparse_coo_tensor(torch.stack([dst, src]), w, (self.n, self.n), check_invariants=False)
            width = NUM_BOND_TYPE + NUM_BOND_DIRECTION
            slots = torch.cat([dst * width + self.edge_attr[:, 0], dst * width + NUM_BOND_TYPE + self.edge_attr[:, 1]])
            c = torch.zeros(self.n * width, dtype=w.dtype, device=w.device).index_add_(0, slots, torch.cat([w, w]))
            self._ops[kind] = (a.coalesce(), c.view(self.n, width))
        return self._ops[kind]


def _as_propagation(x, edge_index, edge_attr) -> Propagation:
    return edge_index if isinstance(edge_index, Propagation) else Propagation(edge_index, edge_attr, x.shape[0])


class _EdgeEmbedding(nn.Module):
    """Mixin: per-layer bond-type and bond-direction tables."""

    def _edge_tables(self, dim: int):
        self.edge_embedding1 = nn.Embedding(NUM_BOND_TYPE, dim)
        self.edge_embedding2 = nn.Embedding(NUM_BOND_DIRECTION, dim)
        nn.init.xavier_uniform_(self.edge_embedding1.weight.data)
        nn.init.xavier_uniform_(self.edge_embedding2.weight.data)

    def _edges(self, edge_attr):
        return self.edge_embedding1(edge_attr[:, 0]) + self.edge_embedding2(edge_attr[:, 1])

    def _aggregate(self, h, graph: Propagation, kind: str):
        """sum over incoming edges (self loop included) of w_e (h[src] + bond embedding), as sparse products."""
        a, counts = graph.operators(kind)
        tables = torch.cat([self.edge_embedding1.weight, self.edge_embedding2.weight])
        return torch.addmm(torch.sparse.mm(a, h), counts, tables)


class GINConv(_EdgeEmbedding):
    def __init__(self, emb_dim: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.ReLU(), nn.Linear(2 * emb_dim, emb_dim))
        self._edge_tables(emb_dim)

    def forward(self, x, edge_index, edge_attr=None):
        """``edge_index`` [2, E] with ``edge_attr`` [E, 2], or a prepared :class:`Propagation`."""
        return self.mlp(self._aggregate(x, _as_propagation(x, edge_index, edge_attr), "sum"))


class GCNConv(_EdgeEmbedding):
    def __init__(self, emb_dim: int):
        super().__init__()
        self.linear = nn.Linear(emb_dim, emb_dim)
        self._edge_tables(emb_dim)

    def forward(self, x, edge_index, edge_attr=None):
        return self._aggregate(self.linear(x), _as_propagation(x, edge_index, edge_attr), "gcn")


class GraphSAGEConv(_EdgeEmbedding):
    def __init__(self, emb_dim: int):
        super().__init__()
        self.linear = nn.Linear(emb_dim, emb_dim)
        self._edge_tables(emb_dim)

    def forward(self, x, edge_index, edge_attr=None):
        out = self._aggregate(self.linear(x), _as_propagation(x, edge_index, edge_attr), "mean")
        return F.normalize(out, p=2, dim=-1)


class GATConv(_EdgeEmbedding):
    def __init__(self, emb_dim: int, heads: int = 2, negative_slope: float = 0.2):
        super().__init__()
        self.emb_dim, self.heads, self.negative_slope = emb_dim, heads, negative_slope
        self.weight_linear = nn.Linear(emb_dim, heads * emb_dim)
        self.att = nn.Parameter(torch.empty(1, heads, 2 * emb_dim))
        self.bias = nn.Parameter(torch.zeros(emb_dim))
        nn.init.xavier_uniform_(self.att)
        self._edge_tables(heads * emb_dim)

    def forward(self, x, edge_index, edge_attr=None):
        n = x.shape[0]
        graph = _as_propagation(x, edge_index, edge_attr)
        ei, ea = graph.edge_index, graph.edge_attr
        h = self.weight_linear(x).view(n, self.heads, self.emb_dim)
        e = self._edges(ea).view(-1, self.heads, self.emb_dim)
        x_j = h[ei[0]] + e
        x_i = h[ei[1]]
        alpha = (torch.cat([x_i, x_j], dim=-1) * self.att).sum(-1)          # [E, heads]
        alpha = F.leaky_relu(alpha, self.negative_slope)
        # softmax over the edges of each aggregation node, shifted by the per-node maximum
        idx = ei[1].unsqueeze(-1).expand_as(alpha)
        amax = torch.full((n, self.heads), float("-inf"), dtype=alpha.dtype, device=alpha.device)
        amax = amax.scatter_reduce(0, idx, alpha, reduce="amax", include_self=True)
        ex = (alpha - amax[ei[1]]).exp()
        den = torch.zeros((n, self.heads), dtype=alpha.dtype, device=alpha.device).index_add_(0, ei[1], ex)
        a = ex / den[ei[1]]
        out = torch.zeros((n, self.heads, self.emb_dim), dtype=h.dtype, device=h.device)
        out = out.index_add_(0, ei[1], x_j * a.unsqueeze(-1))
        return out.mean(dim=1) + self.bias


_CONVS = {"gin": GINConv, "gcn": GCNConv, "graphsage": GraphSAGEConv, "gat": GATConv}


class GNN(nn.Module):
    """pretrain-gnns ``GNN``: atom/chirality embeddings, ``num_layer`` convs with batch norm, JK = last."""

    def __init__(self, num_layer: int = 5, emb_dim: int = 300, gnn_type: str = "gin", drop_ratio: float = 0.5,
                 JK: str = "last"):
        super().__init__()
        if gnn_type not in _CONVS:
            raise ValueError(f"unknown gnn_type {gnn_type!r}; known: {', '.join(GNN_TYPES)}")
        if num_layer < 1:
            raise ValueError("num_layer must be at least 1")
        self.num_layer, self.emb_dim, self.gnn_type, self.drop_ratio, self.JK = (num_layer, emb_dim, gnn_type,
                                                                                 drop_ratio, JK)
        self.x_embedding1 = nn.Embedding(NUM_ATOM_TYPE, emb_dim)
        self.x_embedding2 = nn.Embedding(NUM_CHIRALITY_TAG, emb_dim)
        nn.init.xavier_uniform_(self.x_embedding1.weight.data)
        nn.init.xavier_uniform_(self.x_embedding2.weight.data)
        self.gnns = nn.ModuleList([_CONVS[gnn_type](emb_dim) for _ in range(num_layer)])
        self.batch_norms = nn.ModuleList([nn.BatchNorm1d(emb_dim) for _ in range(num_layer)])

    def input_embedding(self, x) -> torch.Tensor:
        """h0 = atom-type embedding + chirality embedding."""
        return self.x_embedding1(x[:, 0]) + self.x_embedding2(x[:, 1])

    def forward(self, x, edge_index, edge_attr, layer_hook=None):
        return self.forward_from(self.input_embedding(x), edge_index, edge_attr, 0, layer_hook)

    def forward_from(self, h, edge_index, edge_attr, start_layer: int = 0, layer_hook=None):
        """Run layers ``start_layer..num_layer-1`` from node states ``h`` (the output of layer start_layer - 1,
        or h0 when 0): lets a model cache the frozen lower layers and train the top ones. JK must be "last"
        when start_layer > 0."""
        if start_layer and self.JK != "last":
            raise ValueError("forward_from(start_layer > 0) needs JK='last'")
        hs = [h]
        graph = _as_propagation(h, edge_index, edge_attr)      # self loops and aggregation operators, built once
        for layer in range(start_layer, self.num_layer):
            h = self.batch_norms[layer](self.gnns[layer](hs[-1], graph))
            if layer == self.num_layer - 1:
                h = F.dropout(h, self.drop_ratio, training=self.training)
            else:
                h = F.dropout(F.relu(h), self.drop_ratio, training=self.training)
            if layer_hook is not None:
                h = layer_hook(layer, h)
            hs.append(h)
        if self.JK == "last":
            return hs[-1]
        if self.JK == "sum":
            return torch.stack(hs[1:]).sum(0)
        if self.JK == "max":
            return torch.stack(hs[1:]).max(0).values
        if self.JK == "concat":
            return torch.cat(hs, dim=1)
        raise ValueError(f"unknown JK {self.JK!r}")


def mean_pool(h: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
    out = torch.zeros((num_graphs, h.shape[1]), dtype=h.dtype, device=h.device).index_add_(0, batch, h)
    cnt = torch.zeros(num_graphs, dtype=h.dtype, device=h.device).index_add_(0, batch, torch.ones_like(batch, dtype=h.dtype))
    return out / cnt.clamp(min=1).unsqueeze(-1)


class GraphEncoder(nn.Module):
    """GNN + mean pooling: a MolBatch -> one embedding per molecule."""

    def __init__(self, gnn: GNN, pooling: str = "mean"):
        super().__init__()
        if pooling != "mean":
            raise ValueError("only mean pooling (PAR/PACIA's enc_pooling) is implemented")
        self.gnn = gnn
        self.emb_dim = gnn.emb_dim

    def node_embeddings(self, batch: MolBatch, layer_hook=None) -> torch.Tensor:
        return self.gnn(batch.x, batch.edge_index, batch.edge_attr, layer_hook=layer_hook)

    def forward(self, batch: MolBatch, layer_hook=None) -> torch.Tensor:
        return mean_pool(self.node_embeddings(batch, layer_hook), batch.batch, batch.num_graphs)


def pretrained_path(name: str, data_dir=None) -> Path:
    """File of a shipped encoder: ``gcn`` / ``graphsage`` / ``gat`` mean ``<gnn>_supervised_contextpred``."""
    from backend.core.data import DataMissingError, data_file, resolve_data_root

    full = f"{name}_supervised_contextpred" if name in ("gcn", "graphsage", "gat") else name
    if full.startswith("gin"):
        raise DataMissingError("the pretrain-gnns GIN weights (chem/model_gin/*.pth) are not in the data mirror "
                               "(see molecules/README.md, 'Missing: the GIN weights'); use gcn, graphsage or gat, "
                               "or a GIN pretrained here")
    if full not in PRETRAINED:
        raise KeyError(f"unknown pretrained encoder {name!r}; known: gcn, graphsage, gat, {', '.join(PRETRAINED)}")
    return data_file(resolve_data_root(data_dir), f"{PRETRAINED_DIR}/{full}.pth")


def load_pretrained(name: str, data_dir=None, drop_ratio: float = 0.5) -> GNN:
    """A GNN (5 layers, 300-d) with a shipped pretrain-gnns state dict loaded strictly (every key and shape)."""
    path = pretrained_path(name, data_dir)
    gnn_type = name.split("_", 1)[0]
    gnn = GNN(num_layer=5, emb_dim=300, gnn_type=gnn_type, drop_ratio=drop_ratio)
    state = torch.load(path, map_location="cpu", weights_only=True)
    gnn.load_state_dict(state, strict=True)
    return gnn


def build_encoder(gnn_type: str = "gin", pretrained: str | None = None, num_layer: int = 5, emb_dim: int = 300,
                  drop_ratio: float = 0.5, data_dir=None) -> GraphEncoder:
    """A GraphEncoder: from a shipped state dict when ``pretrained`` names one, else randomly initialised."""
    if pretrained:
        return GraphEncoder(load_pretrained(pretrained, data_dir, drop_ratio))
    return GraphEncoder(GNN(num_layer, emb_dim, gnn_type, drop_ratio))


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


__all__ = ["GNN", "GraphEncoder", "Propagation", "GINConv", "GCNConv", "GraphSAGEConv", "GATConv", "GNN_TYPES",
           "PRETRAINED", "load_pretrained", "pretrained_path", "build_encoder", "mean_pool", "count_parameters"]
