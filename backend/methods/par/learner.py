"""PAR = molecular encoder + PARHead, with the MAML selective update (train) and adapt-then-predict (test)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from backend.mol.encoders import GNN, GraphEncoder, Propagation, load_pretrained, mean_pool
from backend.mol.featurise import GraphSet, GraphStore

from .config import PARConfig
from .model import PARHead, adaptive_names, query_loss, support_loss

EMBED_CHUNK = 256       # molecules per encoder forward at inference (small batches keep the tensors in cache)
QUERY_CHUNK = 256       # query graphs per relation forward at inference


def build_encoder(config: PARConfig, data_dir=None, pretrained: bool | None = None) -> GraphEncoder:
    use_pre = config.pretrained if pretrained is None else pretrained
    if use_pre and config.encoder != "gin":
        gnn = load_pretrained(config.encoder, data_dir, drop_ratio=config.enc_dropout)
    else:
        gnn = GNN(5, 300, config.encoder, config.enc_dropout)
    return GraphEncoder(gnn)


class PAR(nn.Module):
    def __init__(self, config: PARConfig, encoder: GraphEncoder):
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.head = PARHead(encoder.emb_dim, config.map_dim, config.rel_layers, config.rel_hidden,
                            map_dropout=config.map_dropout, rel_dropout=config.rel_dropout)
        self.frozen_layers = encoder.gnn.num_layer - config.tune_layers
        gnn = encoder.gnn
        if self.frozen_layers > 0:
            for p in list(gnn.x_embedding1.parameters()) + list(gnn.x_embedding2.parameters()):
                p.requires_grad_(False)
            for layer in range(self.frozen_layers):
                for p in list(gnn.gnns[layer].parameters()) + list(gnn.batch_norms[layer].parameters()):
                    p.requires_grad_(False)
        self._adaptive = adaptive_names(self.head)
        self._node_cache: dict[int, tuple[GraphStore, torch.Tensor]] = {}
        self._emb_cache: dict[int, tuple[GraphStore, torch.Tensor, torch.Tensor]] = {}   # store, table, done

    @property
    def device(self) -> torch.device:
        return next(self.head.parameters()).device

    # ------------------------------------------------------------------ parameters
    def parameter_counts(self) -> dict:
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        adaptive = sum(p.numel() for n, p in self.head.named_parameters() if n in self._adaptive)
        return {"total": int(total), "trainable": int(trainable), "adaptive": int(adaptive)}

    def train(self, mode: bool = True):
        super().train(mode)
        # the frozen lower layers always run as at inference (their batch-norm statistics stay the pretrained ones)
        for layer in range(max(self.frozen_layers, 0)):
            self.encoder.gnn.batch_norms[layer].eval()
        return self

    # ------------------------------------------------------------------ embeddings
    def _frozen_states(self, store: GraphStore) -> torch.Tensor:
        """Node states after the frozen layers for every molecule of ``store`` (computed once per store)."""
        key = id(store)
        hit = self._node_cache.get(key)
        if hit is not None and hit[0] is store:
            return hit[1]
        gnn, out = self.encoder.gnn, []
        was = gnn.training
        gnn.eval()
        with torch.no_grad():
            for a in range(0, len(store), EMBED_CHUNK):
                b = store.batch(np.arange(a, min(a + EMBED_CHUNK, len(store)))).to(self.device)
                h = gnn.input_embedding(b.x)
                graph = Propagation(b.edge_index, b.edge_attr, h.shape[0])
                for layer in range(self.frozen_layers):
                    h = gnn.batch_norms[layer](gnn.gnns[layer](h, graph))
                    h = torch.relu(h) if layer < gnn.num_layer - 1 else h
                out.append(h)
        gnn.train(was)
        states = torch.cat(out) if out else torch.zeros((0, gnn.emb_dim), device=self.device)
        if len(self._node_cache) > 4:
            self._node_cache.clear()
        self._node_cache[key] = (store, states)
        return states

    def embed(self, store: GraphStore, indices) -> torch.Tensor:
        """Graph embeddings of molecules ``indices`` of ``store`` (gradients flow into the tuned layers)."""
        batch = store.batch(indices).to(self.device)
        if self.frozen_layers <= 0:
            return self.encoder(batch)
        h = self._frozen_states(store)[batch.node_ids]
        if self.frozen_layers >= self.encoder.gnn.num_layer:
            return mean_pool(h, batch.batch, batch.num_graphs)
        h = self.encoder.gnn.forward_from(h, batch.edge_index, batch.edge_attr, self.frozen_layers)
        return mean_pool(h, batch.batch, batch.num_graphs)

    @torch.no_grad()
    def embed_eval(self, graphs: GraphSet) -> torch.Tensor:
        """Inference embeddings of a GraphSet (memoised per store in one table; call clear_cache after training)."""
        store = graphs.store
        key = id(store)
        hit = self._emb_cache.get(key)
        if hit is None or hit[0] is not store:
            if len(self._emb_cache) > 4:
                self._emb_cache.clear()
            hit = (store, torch.zeros((len(store), self.encoder.emb_dim), device=self.device),
                   torch.zeros(len(store), dtype=torch.bool))
            self._emb_cache[key] = hit
        _, table, done = hit
        idx = torch.as_tensor(np.ascontiguousarray(graphs.indices, dtype=np.int64))
        need = torch.unique(idx[~done[idx]])
        was = self.training
        self.eval()
        for a in range(0, len(need), EMBED_CHUNK):
            chunk = need[a:a + EMBED_CHUNK]
            # in eval mode the full forward equals the cached-lower-layers path, and needs only these molecules
            table[chunk.to(self.device)] = self.encoder(store.batch(chunk).to(self.device))
            done[chunk] = True
        self.train(was)
        return table[idx.to(self.device)]

    def clear_cache(self):
        self._node_cache.clear()
        self._emb_cache.clear()

    # ------------------------------------------------------------------ selective update
    def adapt(self, g_s, y_s, g_ctx, k: int, create_graph: bool, steps: int | None = None,
              support_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The property-aware parameters after the inner loop on the support loss (queries ``g_ctx`` as context)."""
        cfg = self.config
        params = {n: p for n, p in self.head.named_parameters() if n in self._adaptive}
        for _ in range(cfg.inner_steps if steps is None else steps):
            logits, sim, _ = functional_call(self.head, params, (g_s, y_s, g_ctx, k), {"node_mask": support_mask})
            loss = support_loss(logits, sim, y_s, cfg.reg_adj)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph)
            params = {n: p - cfg.inner_lr * g for (n, p), g in zip(params.items(), grads)}
        return params

    def episode_loss(self, g_s, y_s, g_q, y_q, k: int) -> torch.Tensor:
        """Outer (query) loss of one training episode after the inner loop."""
        params = self.adapt(g_s, y_s, g_q, k, create_graph=self.config.second_order)
        logits, sim, _ = functional_call(self.head, params, (g_s, y_s, g_q, k), {"query_only": True})
        return query_loss(logits, sim, y_s, y_q, self.config.reg_adj)

    # ------------------------------------------------------------------ inference
    def predict_embeddings(self, g_s, y_s, g_q, k: int | None = None, context: int = 16, seed: int = 0,
                           support_mask: torch.Tensor | None = None, return_graph: bool = False):
        """P(class 1) for every query after one selective update on the support (``context`` random queries as
        the support graphs' context, PAR's test protocol). ``support_mask`` switches support molecules off.
        With ``return_graph``: also the last round's similarities and adjacency [Q, S+1, S+1]."""
        k = self.config.shots if k is None else k
        self.eval()
        gen = torch.Generator().manual_seed(seed)
        ctx = g_q[torch.randperm(g_q.shape[0], generator=gen)[:context].to(g_q.device)]
        y_s = y_s.to(g_s.device)
        if support_mask is not None:
            support_mask = support_mask.to(g_s.device)
        with torch.enable_grad():
            params = self.adapt(g_s, y_s, ctx, k, create_graph=False, support_mask=support_mask)
        params = {n: p.detach() for n, p in params.items()}
        probs, sims, adjs = [], [], []
        with torch.no_grad():
            for a in range(0, g_q.shape[0], QUERY_CHUNK):
                logits, sim, adj = functional_call(self.head, params, (g_s, y_s, g_q[a:a + QUERY_CHUNK], k),
                                                   {"node_mask": support_mask, "query_only": not return_graph})
                probs.append(torch.softmax(logits[:, -1], dim=-1)[:, 1])
                if return_graph:
                    sims.append(sim)
                    adjs.append(adj)
        p = torch.cat(probs).cpu() if probs else torch.zeros(0)
        if return_graph:
            return p, torch.cat(sims).cpu(), torch.cat(adjs).cpu()
        return p

    def predict_episode(self, support: GraphSet, support_labels, queries: GraphSet, **kw) -> np.ndarray:
        """The shared protocol's ``predict_episode``: probabilities of class 1 for the queries."""
        g_s = self.embed_eval(support)
        g_q = self.embed_eval(queries)
        y_s = torch.as_tensor(np.asarray(support_labels), dtype=torch.long, device=self.device)
        return self.predict_embeddings(g_s, y_s, g_q, **kw).numpy()


@dataclass
class Prediction:
    probabilities: np.ndarray
    similarities: torch.Tensor | None = None
    adjacency: torch.Tensor | None = None
