"""Training and evaluation of EmerGNN (and its two baselines) on one DrugBank setting; the card."""
from __future__ import annotations

import copy
import dataclasses
import math
import resource
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from backend.core import store
from backend.core.metrics import multiclass_metrics
from backend.core.progress import NullProgress, ProgressEvent

from .config import EmerGNNConfig
from .model import EmerGNN, make_batch
from .task import Task

#: the first test pairs of the evaluated subset whose metrics the card keeps for the reproduction test
CHECK_PAIRS = 128
PROTOCOL = ("multi-class over the 86 DrugBank interaction types: prediction = argmax; macro F1 (classes present in "
            "truth or prediction), accuracy, Cohen's kappa (backend/core/metrics.py, = sklearn); model selected on "
            "valid macro F1; percent = value x 100")


def build_model(config: EmerGNNConfig, task: Task) -> EmerGNN:
    return EmerGNN(task.n_types, task.n_rel_slots, task.fingerprints if config.features == "morgan" else None,
                   task.n_drugs, dim=config.dim, n_layer=config.n_layer, attn_dim=config.attn_dim,
                   features=config.features)


@torch.no_grad()
def predict_logits(model: EmerGNN, graph, pairs: np.ndarray, batch_size: int = 64, progress=None) -> torch.Tensor:
    model.eval()
    out = []
    n = len(pairs)
    device = next(model.parameters()).device
    for i in range(0, n, batch_size):
        out.append(model(make_batch(graph, pairs[i:i + batch_size, :2], model.n_layer).to(device)).cpu())
        if progress:
            progress(min(i + batch_size, n), n)
    return torch.cat(out) if out else torch.zeros(0, model.n_types)


def metrics_of(pairs: np.ndarray, logits: torch.Tensor) -> dict[str, float]:
    if not len(pairs):
        return {}
    m = multiclass_metrics(torch.from_numpy(pairs[:, 2]), logits)
    return {"f1": m["f1"], "accuracy": m["accuracy"], "kappa": m["kappa"], "pairs": int(len(pairs))}


def subset_metrics(task: Task, pairs: np.ndarray, logits: torch.Tensor) -> dict[str, dict]:
    """Metrics on the pairs with a drug that has no Hetionet node (fingerprint-linked) and on the others."""
    no_het = ~task.net.drug_in_hetionet
    touch = no_het[pairs[:, 0]] | no_het[pairs[:, 1]]
    return {"with a drug without a Hetionet node (fingerprint-linked)": metrics_of(pairs[touch], logits[touch]),
            "both drugs Hetionet compounds": metrics_of(pairs[~touch], logits[~touch])}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def train(config: EmerGNNConfig, progress=None, device=None, data_dir=None) -> store.Card:
    progress = progress or NullProgress()
    config = config.resolved()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    t_wall = time.perf_counter()
    task = Task(config.setting, config.split_kind, data_dir)
    from backend.core.device import select_device

    device = select_device(device)
    model = build_model(config, task).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max")
    valid_pairs = task.subset("valid", config.valid_pairs, seed=0)
    valid_graph = task.graph("valid")
    best = (-1.0, None, 0)
    history, train_seconds, pairs_seen, since_best = [], 0.0, 0, 0
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        graph, targets, _ = task.epoch(rng, config.emerging_ratio)
        targets = targets[rng.permutation(len(targets))]
        if config.targets_per_epoch:
            targets = targets[:config.targets_per_epoch]
        model.train()
        total, n_batches = 0.0, math.ceil(len(targets) / config.batch_size)
        for b in range(n_batches):
            chunk = targets[b * config.batch_size:(b + 1) * config.batch_size]
            logits = model(make_batch(graph, chunk[:, :2], config.n_layer).to(device))
            loss = F.cross_entropy(logits, torch.from_numpy(chunk[:, 2]).to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(chunk)
            pairs_seen += len(chunk)
            if (b + 1) % 20 == 0 or b + 1 == n_batches:
                progress(ProgressEvent("batch", b + 1, n_batches, {"loss": total / max(1, (b + 1) * config.batch_size)}))
            if config.max_seconds and train_seconds + time.perf_counter() - t0 > config.max_seconds:
                break
        train_seconds += time.perf_counter() - t0
        valid = metrics_of(valid_pairs, predict_logits(model, valid_graph, valid_pairs))
        sched.step(valid["f1"])
        history.append({"epoch": epoch, "loss": total / max(1, len(targets)), "valid_f1": valid["f1"],
                        "valid_accuracy": valid["accuracy"], "targets": int(min(len(targets), pairs_seen)),
                        "train_seconds": round(train_seconds, 2), "wall_seconds": round(time.perf_counter() - t_wall, 2)})
        progress(ProgressEvent("epoch", epoch, config.epochs, {"loss": history[-1]["loss"], "valid_f1": valid["f1"]}))
        if valid["f1"] > best[0]:
            best, since_best = (valid["f1"], copy.deepcopy(model.state_dict()), epoch), 0
        else:
            since_best += 1
        if config.max_seconds and train_seconds >= config.max_seconds:
            break
        if config.patience and since_best >= config.patience:
            break
    model.load_state_dict(best[1])
    return finish(config, task, model, history, train_seconds, pairs_seen, best[2], t_wall, progress, data_dir,
                  str(device))


def finish(config, task, model, history, train_seconds, pairs_seen, best_epoch, t_wall, progress, data_dir,
           device="cpu"):
    valid_pairs = task.subset("valid", config.valid_pairs, seed=0)
    test_pairs = task.subset("test", config.test_pairs, seed=0)
    t0 = time.perf_counter()
    valid_logits = predict_logits(model, task.graph("valid"), valid_pairs)
    test_logits = predict_logits(model, task.graph("test"), test_pairs,
                                 progress=lambda i, n: progress(ProgressEvent("eval", i, n)))
    eval_seconds = time.perf_counter() - t0
    metrics = {"valid": metrics_of(valid_pairs, valid_logits), "test": metrics_of(test_pairs, test_logits)}
    counts = store.count_parameters(model)
    n_check = min(CHECK_PAIRS, len(test_pairs))
    check = {"pairs": n_check, "metrics": metrics_of(test_pairs[:n_check], test_logits[:n_check]),
             "logit_sum": float(test_logits[:n_check].double().sum())}
    n_total = {"valid": len(task.split.valid), "test": len(task.split.test)}
    extras = {
        "subsets": {"test": subset_metrics(task, test_pairs, test_logits)},
        "network": {"source": task.net.source, "edges": int(task.net.n_edges), "counts": task.net.counts},
        "speed": {"train_pairs_per_s": pairs_seen / max(train_seconds, 1e-9),
                  "eval_pairs_per_s": (len(valid_pairs) + len(test_pairs)) / max(eval_seconds, 1e-9),
                  "peak_rss_gib": peak_rss_gib()},
        "check": check,
        "evaluated_pairs": {s: {"used": int(len(p)), "of": n_total[s]} for s, p in
                            (("valid", valid_pairs), ("test", test_pairs))},
    }
    notes = [
        f"Setting {config.setting} on the {'SumGNN split (EmerGNN S0)' if config.split_kind == 'sumgnn' else 'DDI-Bench ' + config.split_kind + ' re-split'}"
        + ("" if config.split_kind == "sumgnn" else " - not one of EmerGNN's five Zenodo seed splits, so not directly "
           "comparable with the paper's Table 1") + ".",
        f"Biomedical network: Hetionet {task.net.source} copy ({task.net.n_edges:,} edges incl. "
        f"{task.net.counts.get('fingerprint_links', 0):,} fingerprint links for drugs without a Hetionet node"
        + ("; DpS, GpCC, GpMF and part of AeG absent: 80.4% of EmerGNN's edges)." if task.net.source == "mirror" else ")."),
    ]
    for s, p in (("valid", valid_pairs), ("test", test_pairs)):
        if len(p) < n_total[s]:
            notes.append(f"{s}: a fixed random subset of {len(p):,} of the {n_total[s]:,} pairs (seed 0).")
    if config.targets_per_epoch:
        notes.append(f"Each epoch trains on a random {config.targets_per_epoch:,} of its target pairs (CPU budget).")
    if config.max_seconds:
        notes.append(f"Training budget: {config.max_seconds:.0f} s of training time on this CPU.")
    if config.baselines:
        progress(ProgressEvent("baselines", 0, 2, message="MLP and DistMult baselines"))
        from .baselines import run_baselines

        extras["baselines"] = run_baselines(task, valid_pairs, test_pairs, seed=config.seed,
                                           seconds=config.baseline_seconds)
        for name, res in extras["baselines"].items():
            notes.append(f"Baseline {name} on the same split and pairs: test F1 {res['test']['f1']:.3f}, "
                         f"accuracy {res['test']['accuracy']:.3f}, kappa {res['test']['kappa']:.3f} "
                         f"({res['params']:,} parameters, {res['seconds']:.0f} s).")
    card = store.Card(
        method="emergnn", dataset=config.dataset, setting=config.setting, metrics=metrics, protocol=PROTOCOL,
        params={"total": counts["trainable"], "trainable": counts["trainable"], "adaptive": None},
        train={"seconds": round(train_seconds, 1), "wall_seconds": round(time.perf_counter() - t_wall, 1),
               "epochs": len(history), "best_epoch": best_epoch, "device": device, "seed": config.seed,
               "threads": torch.get_num_threads(), "pairs_seen": int(pairs_seen),
               "config": dataclasses.asdict(config), "history": history},
        data={"files": task.db.file_hashes(config.setting, config.split_kind), "network": task.net.source},
        reference="zhang2023emergnn", extras={**extras, "notes": notes})
    folder = Path(config.output or store.runs_root() / "emergnn" / f"{config.dataset}-{config.setting}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    store.save_checkpoint(folder, state, card)
    progress(ProgressEvent("done", 1, 1, {"test_f1": metrics["test"]["f1"]}, message=f"saved to {folder}"))
    return card
