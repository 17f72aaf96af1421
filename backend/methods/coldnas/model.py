"""ColdNAS's networks (Wu et al., WWW 2023): field embeddings, the adaptation hypernetwork, the modulated predictor,
the supernet's gates, and the MAML-style (MeLU-like) baseline. Everything is batched over users (episodes).

Shapes: B users, S support rows, Q query rows (padded; masks say which are real), D0 = input width
(item fields + user fields) x d, positions' widths (D0, h1, h2, h3).

Modulation at position k with the chosen subset of (max, min, mul, add), in this fixed order::

    x <- max(x, phi_max);  x <- min(x, phi_min);  x <- x * relu(phi_mul);  x <- x + phi_add

The supernet mixes each operation with its gate a = sigmoid(alpha[k, op]) (the 2023 version of the public code,
without its later L1 normalisation): x <- a * op(x) + (1 - a) * x, in the same order.
"""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

OPS = ("max", "min", "mul", "add")
N_POSITIONS = 4
N_STRUCTURES = 2 ** (len(OPS) * N_POSITIONS)   # 65,536


# ------------------------------------------------------------------------------------------ structures
def encode(structure: list[list[str]] | tuple) -> int:
    """[[ops at position 0], ..., [ops at position 3]] -> int in [0, 65535]; bit (4k + j) = op j at position k
    (position-major, op order max, min, mul, add; position 0's max is the most significant bit)."""
    if len(structure) != N_POSITIONS:
        raise ValueError(f"a structure has {N_POSITIONS} positions, got {len(structure)}")
    code = 0
    for ops in structure:
        bad = set(ops) - set(OPS)
        if bad:
            raise ValueError(f"unknown modulation operation(s) {sorted(bad)}; known: {', '.join(OPS)}")
        for op in OPS:
            code = (code << 1) | int(op in ops)
    return code


def decode(code: int) -> list[list[str]]:
    """The inverse of :func:`encode`."""
    code = int(code)
    if not 0 <= code < N_STRUCTURES:
        raise ValueError(f"a structure code is in [0, {N_STRUCTURES - 1}], got {code}")
    bits = [(code >> (len(OPS) * N_POSITIONS - 1 - i)) & 1 for i in range(len(OPS) * N_POSITIONS)]
    return [[op for j, op in enumerate(OPS) if bits[len(OPS) * k + j]] for k in range(N_POSITIONS)]


def mask_of(code: int) -> torch.Tensor:
    """[4 positions, 4 ops] 0/1 float mask of a structure code."""
    ops = decode(code)
    return torch.tensor([[float(op in ops[k]) for op in OPS] for k in range(N_POSITIONS)])


def describe(code: int) -> str:
    """'add | add | max+add | none' (positions 0..3)."""
    return " | ".join("+".join(ops) if ops else "none" for ops in decode(code))


FILM = encode([["mul", "add"]] * N_POSITIONS)
NONE = 0


def rank_structures(gates: torch.Tensor, k: int) -> list[tuple[int, float]]:
    """The k structures most likely under independent Bernoulli(gate) choices, [(code, log-likelihood)], best first:
    log P(S) = sum over (position, op) of log a if op in S else log(1 - a). All 65,536 are scored (vectorised)."""
    a = gates.detach().double().clamp(1e-6, 1 - 1e-6).reshape(-1)           # [16] position-major
    bits = torch.tensor(list(itertools.product((0, 1), repeat=a.numel())), dtype=torch.float64)  # [65536, 16]
    ll = bits @ a.log() + (1 - bits) @ (1 - a).log()
    top = torch.topk(ll, k)
    return [(int(c), float(v)) for c, v in zip(top.indices, top.values)]


def modulate(x: torch.Tensor, phi: torch.Tensor, weights) -> torch.Tensor:
    """x [B, Q, D], phi [B, 4 ops, D] (mul row already non-negative), weights: 4 floats/0-d tensors (0 = skip)."""
    for j, w in enumerate(weights):
        if isinstance(w, (int, float)) and w == 0:
            continue
        p = phi[:, j].unsqueeze(1)
        y = torch.maximum(x, p) if j == 0 else torch.minimum(x, p) if j == 1 else x * p if j == 2 else x + p
        x = y if (isinstance(w, (int, float)) and w == 1) else w * y + (1 - w) * x
    return x


# ------------------------------------------------------------------------------------------ embeddings
class FieldEmbedding(nn.Module):
    """Mean of the embeddings of a row's indices, per field, concatenated: [N, width] indices per field (-1 pads)
    -> [N, n_fields * d]. A multi-hot field is the mean of its entries (MeLU's divided linear layer)."""

    def __init__(self, vocab: dict[str, int], d: int):
        super().__init__()
        self.names = list(vocab)
        self.tables = nn.ModuleDict({k: nn.Embedding(v + 1, d) for k, v in vocab.items()})  # + 'unknown' slot

    @property
    def width(self) -> int:
        return len(self.names) * next(iter(self.tables.values())).embedding_dim

    def forward(self, fields: dict[str, torch.Tensor]) -> torch.Tensor:
        out = []
        for k in self.names:
            idx = fields[k]
            mask = (idx >= 0).unsqueeze(-1).to(torch.float32)
            e = self.tables[k](idx.clamp(min=0)) * mask
            out.append(e.sum(-2) / mask.sum(-2).clamp(min=1.0))
        return torch.cat(out, -1)


class Encoder(nn.Module):
    """Item and user field embeddings; ``items(ids)`` [..., Di], ``users(ids)`` [..., Du] from the catalog tensors."""

    def __init__(self, item_vocab: dict[str, int], user_vocab: dict[str, int], d: int):
        super().__init__()
        self.item = FieldEmbedding(item_vocab, d)
        self.user = FieldEmbedding(user_vocab, d)

    @property
    def width(self) -> int:
        return self.item.width + self.user.width

    def forward(self, item_fields: dict[str, torch.Tensor], user_fields: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([self.item(item_fields), self.user(user_fields)], -1)


# ------------------------------------------------------------------------------------------ ColdNAS
class ColdNAS(nn.Module):
    """Embeddings + adaptation network + predictor with 4 modulation positions.

    ``structure``: a code (fixed structure; the hypernetwork is still built but unused when the code is 0) or None
    for the supernet (gate logits ``alpha`` [4, 4], a = sigmoid(alpha)).
    """

    def __init__(self, item_vocab, user_vocab, d: int = 32, hidden=(128, 64, 32), rating_max: float = 1.0,
                 structure: int | None = FILM):
        super().__init__()
        self.encoder = Encoder(item_vocab, user_vocab, d)
        d0 = self.encoder.width
        self.widths = [d0, *hidden]
        self.rating_max = float(rating_max)
        self.fc = nn.ModuleList([nn.Linear(a, b) for a, b in zip(self.widths[:-1], self.widths[1:])])
        self.out = nn.Linear(self.widths[-1], 1)
        self.structure = structure
        if structure is None:
            self.alpha = nn.Parameter(torch.zeros(N_POSITIONS, len(OPS)))
        self.uses_hyper = structure is None or structure != NONE
        if self.uses_hyper:
            self.hyper_in = nn.Linear(d0 + 1, 8 * d)
            self.hyper_out = nn.Linear(8 * d, len(OPS) * sum(self.widths))
            with torch.no_grad():  # the mul rows start at 1 (identity) instead of relu(~0) = 0
                self.hyper_out.bias.view(len(OPS), -1)[2].fill_(1.0)
        self._weights = None if structure is None else mask_of(structure).tolist()

    def gates(self) -> torch.Tensor:
        """[4, 4] gate values (supernet) or the 0/1 structure mask."""
        return torch.sigmoid(self.alpha) if self.structure is None else torch.tensor(self._weights)

    def phi(self, sup_x: torch.Tensor, sup_r: torch.Tensor, sup_mask: torch.Tensor) -> list[torch.Tensor]:
        """Support rows x [B, S, D0], ratings [B, S], mask [B, S] -> per position [B, 4 ops, width_k]."""
        c = F.leaky_relu(self.hyper_in(torch.cat([sup_x, (sup_r / self.rating_max).unsqueeze(-1)], -1)))
        m = sup_mask.unsqueeze(-1).to(c.dtype)
        pooled = (c * m).sum(1) / m.sum(1).clamp(min=1.0)              # [B, 8d]
        phi = self.hyper_out(pooled).view(pooled.shape[0], len(OPS), -1)
        phi = torch.cat([phi[:, :2], F.relu(phi[:, 2:3]), phi[:, 3:]], 1)
        return list(torch.split(phi, self.widths, dim=-1))

    def forward(self, sup_x, sup_r, sup_mask, query_x) -> torch.Tensor:
        """-> predicted ratings [B, Q] in [0, rating_max]."""
        weights = list(self.gates()) if self.structure is None else self._weights
        phis = self.phi(sup_x, sup_r, sup_mask) if self.uses_hyper else [None] * N_POSITIONS
        h = query_x
        for k in range(N_POSITIONS):
            if k > 0:
                h = self.fc[k - 1](F.leaky_relu(h))
            if phis[k] is not None:
                h = modulate(h, phis[k], weights[k])
        return self.rating_max * torch.sigmoid(self.out(F.leaky_relu(h))).squeeze(-1)


# ------------------------------------------------------------------------------------------ MAML baseline
class MAMLPredictor(nn.Module):
    """MeLU-like: embeddings + the same MLP, no hypernetwork; per user, ``steps`` gradient steps of lr ``inner_lr``
    on the support MSE update the MLP's layers (not the embeddings), batched over users (per-user weight copies);
    first-order MAML: the query loss's gradient at the adapted weights updates the shared initialisation."""

    def __init__(self, item_vocab, user_vocab, d: int = 32, hidden=(128, 64, 32), rating_max: float = 1.0,
                 steps: int = 2, inner_lr: float = 0.5):
        super().__init__()
        self.encoder = Encoder(item_vocab, user_vocab, d)
        widths = [self.encoder.width, *hidden, 1]
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])])
        self.rating_max, self.steps, self.inner_lr = float(rating_max), steps, inner_lr

    def _mlp(self, x: torch.Tensor, params: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        for i, (w, b) in enumerate(params):  # w [B, out, in], b [B, out]
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
            if i < len(params) - 1:
                x = F.leaky_relu(x)
        return self.rating_max * torch.sigmoid(x.squeeze(-1))

    def forward(self, sup_x, sup_r, sup_mask, query_x) -> torch.Tensor:
        b = sup_x.shape[0]
        params = [(l.weight.unsqueeze(0).expand(b, -1, -1), l.bias.unsqueeze(0).expand(b, -1)) for l in self.layers]
        m = sup_mask.to(sup_x.dtype)
        create = torch.is_grad_enabled()
        with torch.enable_grad():
            if not create:
                params = [(w.detach().requires_grad_(), bb.detach().requires_grad_()) for w, bb in params]
            for _ in range(self.steps):
                pred = self._mlp(sup_x, params) / self.rating_max
                loss = (((pred - sup_r / self.rating_max) ** 2) * m).sum(1) / m.sum(1).clamp(min=1)
                flat = [t for pair in params for t in pair]
                grads = torch.autograd.grad(loss.sum(), flat)
                flat = [t - self.inner_lr * g for t, g in zip(flat, grads)]
                params = list(zip(flat[0::2], flat[1::2]))
        out = self._mlp(query_x, params)
        return out if create else out.detach()
