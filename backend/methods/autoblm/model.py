"""The bilinear model of one block structure: entity and relation embeddings scored by f_A (structure.py).

    f(h, r, t) = sum_{i,k,j} M[i, k, j] <h_i, r_k, t_j>,   M[i, k, j] = sign(A[i, j]) if |A[i, j]| = k + 1 else 0

Scoring all tails of a batch of (h, r) queries is one contraction and one matrix product:
q[b, j] = sum_{i,k} M[i, k, j] h_i ⊙ r_k  ([B, 4, d/4]), scores = q · Eᵀ  ([B, n_ent]); all heads of (?, r, t):
p[b, i] = sum_{k,j} M[i, k, j] r_k ⊙ t_j, scores = p · Eᵀ.
"""
from __future__ import annotations

import torch
from torch import nn

from .structure import K, as_matrix, block_tensor


class BilinearKGE(nn.Module):
    """Entity table [n_ent, d], relation table [n_rel, d] (d divisible by 4), the structure's sign tensor M."""

    def __init__(self, n_ent: int, n_rel: int, dim: int, structure) -> None:
        super().__init__()
        if dim % K:
            raise ValueError(f"the embedding dimension must be divisible by {K}, got {dim}")
        self.n_ent, self.n_rel, self.dim = n_ent, n_rel, dim
        self.entity = nn.Embedding(n_ent, dim)
        self.relation = nn.Embedding(n_rel, dim)
        nn.init.xavier_uniform_(self.entity.weight)
        nn.init.xavier_uniform_(self.relation.weight)
        self.structure = as_matrix(structure)
        self.register_buffer("blocks", torch.tensor(block_tensor(self.structure), dtype=torch.float32),
                             persistent=False)

    def _chunks(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(*x.shape[:-1], K, self.dim // K)

    def tail_query(self, heads: torch.Tensor, rels: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """[B] heads, [B] relations -> q [B, d] with f(h, r, t) = q · t."""
        E = self.entity.weight if weight is None else weight
        h, r = self._chunks(E[heads]), self._chunks(self.relation.weight.to(E.dtype)[rels])
        hr = (h.unsqueeze(2) * r.unsqueeze(1)).reshape(len(heads), K * K, -1)       # [B, (i,k), d/4]
        q = torch.matmul(self.blocks.to(E.dtype).reshape(K * K, K).T, hr)         # [B, j, d/4]
        return q.reshape(len(heads), self.dim)

    def head_query(self, tails: torch.Tensor, rels: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """[B] tails, [B] relations -> p [B, d] with f(h, r, t) = p · h."""
        E = self.entity.weight if weight is None else weight
        t, r = self._chunks(E[tails]), self._chunks(self.relation.weight.to(E.dtype)[rels])
        rt = (r.unsqueeze(2) * t.unsqueeze(1)).reshape(len(tails), K * K, -1)       # [B, (k,j), d/4]
        p = torch.matmul(self.blocks.to(E.dtype).reshape(K, K * K), rt)           # [B, i, d/4]
        return p.reshape(len(tails), self.dim)

    def score_tails(self, heads: torch.Tensor, rels: torch.Tensor, dtype=None) -> torch.Tensor:
        """[B, n_ent]: f(h_b, r_b, e) for every entity e (``dtype``: e.g. float64 for ranking)."""
        E = self.entity.weight if dtype is None else self.entity.weight.to(dtype)
        return self.tail_query(heads, rels, E) @ E.T

    def score_heads(self, tails: torch.Tensor, rels: torch.Tensor, dtype=None) -> torch.Tensor:
        """[B, n_ent]: f(e, r_b, t_b) for every entity e."""
        E = self.entity.weight if dtype is None else self.entity.weight.to(dtype)
        return self.head_query(tails, rels, E) @ E.T

    def score(self, heads: torch.Tensor, rels: torch.Tensor, tails: torch.Tensor) -> torch.Tensor:
        """[B]: f(h_b, r_b, t_b)."""
        return (self.tail_query(heads, rels) * self.entity.weight[tails]).sum(-1)

    def score_queries(self, entities: torch.Tensor, rels2: torch.Tensor, dtype=None) -> torch.Tensor:
        """Queries in the doubled relation space (r < n_rel: tails of (e, r, ?); r >= n_rel: heads of (?, r - n_rel,
        e)) -> [B, n_ent]."""
        E = self.entity.weight if dtype is None else self.entity.weight.to(dtype)
        forward = rels2 < self.n_rel
        base = torch.where(forward, rels2, rels2 - self.n_rel)
        q = torch.where(forward[:, None], self.tail_query(entities, base, E), self.head_query(entities, base, E))
        return q @ E.T

    @torch.no_grad()
    def project_entities(self) -> None:
        """Entity rows onto the unit ball (row norm > 1 -> divided by its norm), after every step (AutoSF)."""
        w = self.entity.weight
        w.div_(w.norm(dim=1, keepdim=True).clamp_min(1.0))
