"""Training a FlowGNN on a GraphSet (the search's lower level) and the batching it needs."""
from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch

from backend.methods.gsr.flows import Dims
from backend.methods.gsr.model import FlowGNN
from backend.physics.graphs import GraphSet


def dims_of(data: GraphSet) -> Dims:
    return Dims(data.v.shape[1], data.e.shape[1], data.u.shape[1], data.y.shape[1], data.level)


def scales_of(data: GraphSet) -> dict[str, torch.Tensor]:
    """Standard deviation of every input and output column (the paper divides by it, A.8)."""
    def std(a):
        return torch.tensor(a.std(0) if a.shape[1] else np.zeros(0), dtype=torch.float32).reshape(-1)
    return {"v": std(data.v), "e": std(data.e), "u": std(data.u), "y": std(data.y)}


def to_batch(data: GraphSet, dtype=torch.float32) -> dict:
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype)  # noqa: E731
    return {"v": t(data.v), "e": t(data.e), "u": t(data.u), "y": t(data.y),
            "src": torch.as_tensor(data.edge_index[0], dtype=torch.long),
            "dst": torch.as_tensor(data.edge_index[1], dtype=torch.long),
            "node_sample": torch.as_tensor(data.node_sample, dtype=torch.long), "n_samples": data.n_samples}


def batches(data: GraphSet, size: int, seed: int) -> list[dict]:
    """A fixed partition of the samples into batches of ``size`` (shuffled once with ``seed``)."""
    order = np.random.default_rng(seed).permutation(data.n_samples)
    return [to_batch(data.subset(np.sort(order[i:i + size]))) for i in range(0, data.n_samples, size)]


def rmse(model: FlowGNN, batch: dict) -> float:
    """RMSE of the normalised output (outputs divided by their std)."""
    with torch.no_grad():
        pred = model(batch)
        return float(torch.sqrt(((pred - batch["y"] / model.y_scale) ** 2).mean()))


def fit(model: torch.nn.Module, train: list[dict], valid: dict, epochs: int = 60, lr: float = 3e-3,
        patience: int = 10, seed: int = 0, max_seconds: float | None = None, params=None) -> dict:
    """Adam on the MSE of normalised outputs with early stopping on valid RMSE (patience in epochs); the best
    valid state is kept. Returns {"valid_rmse", "epochs", "seconds"}."""
    torch.manual_seed(seed)
    params = list(params if params is not None else model.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * len(train)))
    best, best_state, bad, began = math.inf, None, 0, time.perf_counter()
    rng = np.random.default_rng(seed)
    done = 0
    for epoch in range(epochs):
        for k in rng.permutation(len(train)):
            batch = train[k]
            opt.zero_grad()
            loss = ((model(batch) - batch["y"] / model.y_scale) ** 2).mean()
            if not torch.isfinite(loss):
                continue
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
            sched.step()
        done = epoch + 1
        err = rmse(model, valid)
        if err < best - 1e-6:
            best, best_state, bad = err, copy.deepcopy(model.state_dict()), 0
        else:
            bad += 1
            if bad >= patience:
                break
        if max_seconds is not None and time.perf_counter() - began > max_seconds:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"valid_rmse": best, "epochs": done, "seconds": time.perf_counter() - began}
