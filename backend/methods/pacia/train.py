"""Meta-training and inference for PACIA on the shared molecule package (backend/mol).

One meta-step: ``batch_task`` training episodes (K+K support, 16 queries each) go through the encoder in ONE
batched pass (every node modulated by its own task's FiLM), the predictor scores all T*16 query sets at once,
loss = expected cross-entropy over depths, AdamW with gradient-norm clip 1. No inner loop, no gradient at test
time. Model selection: ROC-AUC on the dataset's held-out *training* task(s) (backend.mol.datasets.VALIDATION_TASKS)
every ``eval_every`` steps; the test tasks are evaluated once, at the end, with the shared protocol
(backend.mol.fewshot.evaluate_fewshot, 10 evaluation seeds).
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from backend.core import store as card_store
from backend.methods.pacia.config import PaciaConfig
from backend.methods.pacia.model import PACIA, chosen_probability, expected_depth_loss, parameter_counts

log = logging.getLogger(__name__)

CHECK_SEEDS = (0, 1)        # the card's quick reproducibility figure (tests re-evaluate it)
CHECK_MAX_QUERY = 64


# --------------------------------------------------------------------------- model

def build_model(cfg: PaciaConfig, data_dir=None, load_weights: bool = True) -> PACIA:
    """PACIA on the configured encoder (pretrained weights loaded strictly when ``load_weights``)."""
    from backend.mol.encoders import GNN, GraphEncoder, build_encoder

    if cfg.pretrained and load_weights:
        name = cfg.pretrained if cfg.pretrained.startswith(cfg.encoder) else f"{cfg.encoder}_{cfg.pretrained}"
        encoder = build_encoder(cfg.encoder, pretrained=name, drop_ratio=cfg.dropout, data_dir=data_dir)
    else:
        encoder = GraphEncoder(GNN(5, 300, cfg.encoder, cfg.dropout))
    return PACIA(encoder, hyper=cfg.hyper, map_dim=cfg.map_dim, rel_layers=cfg.rel_layers,
                 top_k=cfg.top_k or cfg.shots, rel_dropout=cfg.rel_dropout, prototype_skip=cfg.prototype_skip,
                 freeze_encoder=not cfg.tune_encoder)


def faithful_and_shared_counts(cfg: PaciaConfig) -> dict:
    """Parameter counts of both hypernetwork variants on this configuration (no weights loaded)."""
    out = {}
    for hyper in ("per_layer", "shared"):
        m = build_model(dataclasses.replace(cfg, hyper=hyper), load_weights=False)
        out[hyper] = parameter_counts(m)
    return out


# --------------------------------------------------------------------------- episodes -> tensors

def batch_episodes(episodes, store, device="cpu"):
    """Episodes with equal support and query sizes -> (MolBatch, support_index [T, S], onehot [T, S, 2],
    query_index [T, Q], query labels [T*Q])."""
    s, q = len(episodes[0].support), len(episodes[0].query)
    mols = np.concatenate([np.concatenate([e.support, e.query]) for e in episodes])
    mb = store.batch(mols).to(device)
    base = torch.arange(len(episodes)).unsqueeze(1) * (s + q)
    support_index = (base + torch.arange(s)).to(device)
    query_index = (base + s + torch.arange(q)).to(device)
    labels = torch.as_tensor(np.stack([e.support_labels for e in episodes]), dtype=torch.long)
    onehot = F.one_hot(labels, 2).float().to(device)
    y = torch.as_tensor(np.concatenate([e.query_labels for e in episodes]), dtype=torch.long, device=device)
    return mb, support_index, onehot, query_index, y


# --------------------------------------------------------------------------- inference (no gradients)

@dataclasses.dataclass
class SupportState:
    """What a support set fixes for its task: FiLM per layer, support embeddings [1, S, d], labels [1, S, 2]."""

    film: list
    emb: torch.Tensor
    onehot: torch.Tensor


@torch.no_grad()
def support_state(model: PACIA, support, labels, device="cpu") -> SupportState:
    """support: a GraphSet (or anything with .batch()); labels: 0/1 array [S], both classes present."""
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=device)
    mb = support.batch().to(device)
    s = mb.num_graphs
    onehot = F.one_hot(labels, 2).float().unsqueeze(0)
    emb, film = model.encode(mb, torch.zeros(s, dtype=torch.long, device=device),
                             torch.arange(s, device=device).unsqueeze(0), onehot)
    return SupportState(film, emb.unsqueeze(0), onehot)


@torch.no_grad()
def predict_queries(model: PACIA, state: SupportState, queries, chunk: int = 64, device="cpu",
                    keep_adj: bool = False) -> dict:
    """Every query scored against the support: {"p": P(active) at the chosen depth [Q], "depth": chosen depth
    (1-based) [Q], "depth_probs": softmax of the depth scores [Q, L], "p_by_depth": [Q, L]} (NumPy), and
    "adjacency" (every round, [Q, L, S+1, S+1]) when ``keep_adj``."""
    ps, depths, dprobs, pdepth, adjs = [], [], [], [], []
    for part in queries.chunks(chunk):
        mb = part.batch().to(device)
        emb, _ = model.encode(mb, torch.zeros(mb.num_graphs, dtype=torch.long, device=device), film=state.film)
        out = model.predictor(state.emb, state.onehot, emb.unsqueeze(0), keep_adj=keep_adj)
        p, d = chosen_probability(out)
        ps.append(p)
        depths.append(d + 1)
        dprobs.append(out.scores.softmax(-1))
        pdepth.append(out.logits.softmax(-1)[..., 1])
        if keep_adj:
            adjs.append(torch.stack(out.adjacency, 1))
    res = {"p": torch.cat(ps).cpu().numpy(), "depth": torch.cat(depths).cpu().numpy(),
           "depth_probs": torch.cat(dprobs).cpu().numpy(), "p_by_depth": torch.cat(pdepth).cpu().numpy()}
    if keep_adj:
        res["adjacency"] = torch.cat(adjs).cpu().numpy()
    return res


def episode_predictor(model: PACIA, device="cpu", chunk: int = 64):
    """predict_episode(support_graphs, support_labels, query_graphs) -> P(active) [Q] for evaluate_fewshot."""
    def predict_episode(support, labels, queries):
        model.eval()
        state = support_state(model, support, labels, device)
        return predict_queries(model, state, queries, chunk, device)["p"]

    return predict_episode


# --------------------------------------------------------------------------- training

def _seed_everything(seed: int):
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def validate(model, dataset, cfg, device="cpu") -> float:
    from backend.mol.fewshot import evaluate_fewshot

    res = evaluate_fewshot(episode_predictor(model, device), dataset, cfg.shots, seeds=range(100, 100 + cfg.val_seeds),
                           tasks="val", max_query=cfg.val_max_query or None)
    return res["roc_auc"]


def train(cfg: PaciaConfig, progress=None, device=None, data_dir=None, dataset=None, model=None) -> card_store.Card:
    """Meta-train PACIA on the dataset's training tasks minus the held-out ones, select on the held-out ones,
    evaluate on the test tasks (10 evaluation seeds), save model.pt + card.json into cfg.output."""
    from backend.mol.datasets import data_sha256, load_dataset
    from backend.mol.episodes import sample_meta_batch
    from backend.mol.fewshot import evaluate_fewshot

    device = device or "cpu"
    _seed_everything(cfg.seed)
    t_load = time.perf_counter()
    dataset = dataset if dataset is not None else load_dataset(cfg.dataset, data_dir)
    featurise_s = time.perf_counter() - t_load
    model = (model if model is not None else build_model(cfg, data_dir)).to(device)
    earlier_steps, earlier_seconds = 0, 0.0
    if cfg.init_from:
        earlier = card_store.load_card(cfg.init_from)
        model.load_trained_state(card_store.load_state_dict(cfg.init_from))
        earlier_steps = int((earlier.train or {}).get("total_steps") or (earlier.train or {}).get("epochs") or 0)
        earlier_seconds = float((earlier.train or {}).get("total_seconds") or (earlier.train or {}).get("seconds") or 0)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.meta_lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    tasks = dataset.meta_train_tasks
    history, best, best_step, best_state = [], -1.0, 0, None
    if cfg.init_from:   # the checkpoint continued from competes in the selection with its own held-out figure
        best = float((earlier.metrics.get("valid") or {}).get("roc_auc", -1.0))
        best_state = copy.deepcopy(model.state_dict())
    t0 = time.perf_counter()
    step = 0
    train_seconds = 0.0
    molecules_seen = 0
    for step in range(1, cfg.steps + 1):
        ts = time.perf_counter()
        model.train()
        episodes = sample_meta_batch(tasks, cfg.shots, cfg.n_query, cfg.batch_task, rng)
        mb, sidx, onehot, qidx, y = batch_episodes(episodes, dataset.store, device)
        out, _ = model.forward_episode(mb, sidx, onehot, qidx)
        loss = expected_depth_loss(out, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        train_seconds += time.perf_counter() - ts
        molecules_seen += mb.num_graphs
        record = {"step": step, "loss": float(loss.detach())}
        out_of_time = cfg.max_seconds and time.perf_counter() - t0 > cfg.max_seconds
        if step % cfg.eval_every == 0 or step == cfg.steps or out_of_time:
            record["val_roc_auc"] = validate(model, dataset, cfg, device)
            if record["val_roc_auc"] > best:
                best, best_step = record["val_roc_auc"], step
                best_state = copy.deepcopy(model.state_dict())
            log.info("step %d loss %.4f val %.4f", step, record["loss"], record["val_roc_auc"])
        history.append(record)
        if progress:
            from backend.core.progress import ProgressEvent

            progress(ProgressEvent("meta-step", step, cfg.steps, {k: v for k, v in record.items() if k != "step"},
                                   message=f"meta-step {step}/{cfg.steps}: loss {record['loss']:.3f}"
                                   + (f", held-out ROC-AUC {record['val_roc_auc']:.4f} (best {best:.4f})"
                                      if "val_roc_auc" in record else "")))
        if out_of_time:
            break
    wall = time.perf_counter() - t0
    if best_state is not None:
        model.load_state_dict(best_state)
    model.load_trained_state(model.trained_state())     # the float16 round trip of the checkpoint, before evaluating
    model.eval()
    test = evaluate_fewshot(episode_predictor(model, device), dataset, cfg.shots, seeds=range(cfg.eval_seeds),
                            tasks="test", max_query=cfg.eval_max_query or None)
    check = evaluate_fewshot(episode_predictor(model, device), dataset, cfg.shots, seeds=CHECK_SEEDS, tasks="test",
                             max_query=CHECK_MAX_QUERY)
    counts = parameter_counts(model)
    both = faithful_and_shared_counts(cfg) if model.encoder.gnn.emb_dim == 300 else {}
    card = card_store.Card(
        method="pacia", dataset=cfg.dataset, setting=cfg.setting,
        metrics={"valid": {"roc_auc": best}, "test": {"roc_auc": test["roc_auc"], "roc_auc_std": test["roc_auc_std"]}},
        seeds={"n": len(test["seeds"]), "seeds": test["seeds"], "shipped_seed": cfg.seed, "kind": "evaluation seeds",
               "metrics": {"test": {"roc_auc": {"mean": test["roc_auc"], "std": test["roc_auc_std"]}}},
               "per_seed": {"test": {"roc_auc": test["per_seed"]}}},
        protocol=(f"2-way {cfg.shots}-shot; ROC-AUC per test task ({', '.join(test['tasks'])}) with all other "
                  f"labelled molecules as queries, averaged over tasks, mean ± std (ddof 0) over "
                  f"{len(test['seeds'])} evaluation seeds (support re-sampled per seed; backend.mol.fewshot); "
                  f"selection on held-out training task(s) {', '.join(t.name for t in dataset.val_tasks)}"),
        params={"total": counts["total"], "trainable": sum(p.numel() for p in params), "adaptive": counts["adaptive"],
                "parts": counts, "variants": {k: {"total": v["total"], "adaptive": v["adaptive"]}
                                              for k, v in both.items()}},
        train={"seconds": round(wall, 1), "epochs": step, "unit": "meta-steps", "device": str(device),
               "total_steps": earlier_steps + step, "total_seconds": round(earlier_seconds + wall, 1),
               "continued_from": cfg.init_from or None,
               "seed": cfg.seed, "config": dataclasses.asdict(cfg), "selected_step": best_step,
               "budget": f"{earlier_steps + step} meta-steps of {cfg.batch_task} episodes ({cfg.shots}+{cfg.shots} "
                         f"support, {cfg.n_query} queries), {earlier_seconds + wall:.0f} s on {device}"
                         + (f" (this run {step} steps, continuing {earlier_steps})" if earlier_steps else ""),
               "train_seconds_excl_validation": round(train_seconds, 1),
               "molecules_per_second": round(molecules_seen / max(train_seconds, 1e-9), 1),
               "featurise_seconds": round(featurise_s, 2)},
        data={"files": {f"molecules/datasets/{cfg.dataset}": dataset.sha256 or data_sha256(cfg.dataset, data_dir)},
              "invalid_smiles_skipped": len(dataset.invalid)},
        reference="wu2024pacia",
        extras={"per_task": {"test": test["per_task"]},
                "check": {"seeds": list(CHECK_SEEDS), "max_query": CHECK_MAX_QUERY, "roc_auc": check["roc_auc"],
                          "what": "a quick reproducibility figure: test tasks, these seeds, this query cap"}, "test_queries": test["n_queries"],
                "eval_seconds": round(test["seconds"], 1),
                "notes": [f"hypernetwork variant: {cfg.hyper} ('per_layer' = the authors' ten encoder "
                          "hypernetworks; 'shared' = one hypernetwork for all layers, told the layer by a one-hot)",
                          "parameter totals of both variants on this encoder: "
                          + "; ".join(f"{k} {v['total']:,} total / {v['adaptive']:,} adaptive"
                                      for k, v in both.items()),
                          "the authors' code as configured counts 9,307,546 / 3,000 (GIN encoder, unused modules "
                          "included); the paper quotes 3.28M / 3.00K"]},
    )
    folder = Path(cfg.output or card_store.runs_root() / "pacia" / f"{cfg.dataset}-{cfg.setting}")
    card_store.save_checkpoint(folder, model.trained_state(), card)
    import json

    lines = []
    if cfg.init_from and (Path(cfg.init_from) / "trajectory.jsonl").is_file():
        lines = (Path(cfg.init_from) / "trajectory.jsonl").read_text().splitlines()
    lines += [json.dumps({**r, "step": r["step"] + earlier_steps}) for r in history]
    (folder / "trajectory.jsonl").write_text("".join(line + "\n" for line in lines))
    return card
