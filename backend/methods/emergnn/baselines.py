"""Two baselines in EmerGNN's harness (same split, same evaluated pairs, same metrics):

- ``MLP on fingerprints`` (CSMDDI-like, [P] Supp. Section 2): a 3-layer MLP per drug on its 1,024-bit Morgan
  fingerprint, then a linear layer on the pair's concatenation -> 86 types. Emerging drugs are reached through their
  fingerprints.
- ``DistMult (DDI + biomedical KG)``: entity and relation embeddings trained jointly on the biomedical triples
  (negative sampling, logistic loss; the test-stage network, whose biomedical edges of emerging drugs are known at
  test time) and on the training DDI pairs (softmax over the 86 type relations of the DistMult score
  <e_u, w_r, e_v>). Emerging drugs are reached only through their biomedical edges.

Each is trained for a few epochs and the epoch with the best valid macro F1 is kept.
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from backend.ddi.network import N_REL


class PairMLP(nn.Module):
    def __init__(self, fingerprints: torch.Tensor, n_types: int, hidden: int = 256, dim: int = 64):
        super().__init__()
        self.register_buffer("fp", fingerprints.float(), persistent=False)
        self.enc = nn.Sequential(nn.Linear(fingerprints.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, dim))
        self.out = nn.Linear(2 * dim, n_types)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.enc(self.fp[pairs[:, 0]]), self.enc(self.fp[pairs[:, 1]])], -1))


class DistMult(nn.Module):
    def __init__(self, n_nodes: int, n_rel: int, n_types: int, dim: int = 64):
        super().__init__()
        self.ent = nn.Embedding(n_nodes, dim)
        self.rel = nn.Embedding(n_rel, dim)
        nn.init.normal_(self.ent.weight, std=0.1)
        nn.init.normal_(self.rel.weight, std=0.1)
        self.n_types = n_types

    def score(self, h, r, t):
        return (self.ent(h) * self.rel(r) * self.ent(t)).sum(-1)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        eu, ev = self.ent(pairs[:, 0]), self.ent(pairs[:, 1])
        return (eu * ev) @ self.rel.weight[:self.n_types].T


def _f1(model, pairs: np.ndarray) -> tuple[float, torch.Tensor]:
    from .train import metrics_of

    with torch.no_grad():
        model.eval()
        logits = torch.cat([model(torch.from_numpy(pairs[i:i + 4096, :2])) for i in range(0, len(pairs), 4096)])
        model.train()
    return metrics_of(pairs, logits)["f1"], logits


def _fit(model, step, epochs, valid, seconds):
    best, t0 = (-1.0, None), time.perf_counter()
    for _ in range(epochs):
        step()
        f1, _ = _f1(model, valid)
        if f1 > best[0]:
            best = (f1, copy.deepcopy(model.state_dict()))
        if time.perf_counter() - t0 > seconds:
            break
    model.load_state_dict(best[1])


def train_mlp(task, valid, seed=0, epochs=30, seconds=240.0):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PairMLP(task.fingerprints, task.n_types)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
    train = task.split.train

    def step():
        perm = rng.permutation(len(train))
        for i in range(0, len(perm), 512):
            b = train[perm[i:i + 512]]
            loss = F.cross_entropy(model(torch.from_numpy(b[:, :2])), torch.from_numpy(b[:, 2]))
            opt.zero_grad()
            loss.backward()
            opt.step()

    _fit(model, step, epochs, valid, seconds)
    return model


def train_distmult(task, valid, seed=0, epochs=6, seconds=300.0, negatives=4, batch=8192):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = DistMult(task.n_nodes, N_REL, task.n_types)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    kg = task.kg["test"]
    train = task.split.train
    n_kg_batches = int(np.ceil(len(kg) / batch))
    ddi_batch = int(np.ceil(len(train) / n_kg_batches))

    def step():
        kperm, dperm = rng.permutation(len(kg)), rng.permutation(len(train))
        for b in range(n_kg_batches):
            k = torch.from_numpy(kg[kperm[b * batch:(b + 1) * batch]])
            h, t, r = k[:, 0], k[:, 1], k[:, 2]
            pos = model.score(h, r, t)
            neg_t = torch.randint(0, task.n_nodes, (len(k), negatives))
            neg = model.score(h[:, None], r[:, None], neg_t)
            loss_kg = F.softplus(-pos).mean() + F.softplus(neg).mean()
            d = train[dperm[b * ddi_batch:(b + 1) * ddi_batch]]
            loss_ddi = F.cross_entropy(model(torch.from_numpy(d[:, :2])), torch.from_numpy(d[:, 2])) if len(d) else 0.0
            loss = loss_kg + loss_ddi
            opt.zero_grad()
            loss.backward()
            opt.step()

    _fit(model, step, epochs, valid, seconds)
    return model


def run_baselines(task, valid_pairs: np.ndarray, test_pairs: np.ndarray, seed: int = 0, seconds: float = 240.0) -> dict:
    from .train import metrics_of

    out = {}
    for name, fit in (("MLP on fingerprints", train_mlp), ("DistMult (DDI + biomedical KG)", train_distmult)):
        t0 = time.perf_counter()
        model = fit(task, valid_pairs, seed=seed, seconds=seconds)
        took = time.perf_counter() - t0
        res = {}
        for split, pairs in (("valid", valid_pairs), ("test", test_pairs)):
            _, logits = _f1(model, pairs)
            res[split] = metrics_of(pairs, logits)
        res["params"] = int(sum(p.numel() for p in model.parameters() if p.requires_grad))
        res["seconds"] = round(took, 1)
        out[name] = res
    return out
