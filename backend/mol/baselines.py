"""Few-shot baselines on the same encoder and in the same harness as PAR and PACIA (reference notes section 7).

- ProtoNet (Snell et al. 2017): encoder -> class prototypes (mean support embedding per class) -> softmax over
  negative squared Euclidean distances; meta-trained episodically. Nothing is adapted per task except the two
  prototypes (2 x 300 values computed from the support).
- MAML (Finn et al. 2017): encoder + linear head (300 -> 2); inner loop = SGD on the support cross-entropy over
  ALL parameters (PAR's inner settings: lr 0.1, 1 step; first-order meta-gradient on this CPU); at test time the
  same inner steps on the support, then the queries are scored. Adaptive parameters = all of them.
- Fine-tuning (pretrain-gnns style): the pretrained encoder + a new linear head trained on the support only (Adam
  lr 1e-3, full batch, ``finetune_steps`` steps, dropout 0.5); no meta-training. Adaptive parameters = all.

Every baseline answers ``predict_episode(support_graphs, support_labels, query_graphs) -> P(label 1)``, so
:func:`backend.mol.fewshot.evaluate_fewshot` judges them exactly as PAR and PACIA (evaluation seeds, test tasks,
query cap). Selection (ProtoNet, MAML): ROC-AUC on the held-out training tasks every ``eval_every`` steps.

Public API: :class:`BaselineConfig`, :func:`run_baseline` (-> result dict), :func:`build_baseline`.
"""
from __future__ import annotations

import copy
import dataclasses
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BASELINES = ("protonet", "maml", "finetune")


@dataclasses.dataclass
class BaselineConfig:
    baseline: str = "protonet"       # protonet | maml | finetune
    dataset: str = "tox21"
    shots: int = 10
    encoder: str = "gcn"
    pretrained: str = "supervised_contextpred"
    dropout: float = 0.5
    steps: int = 100                 # meta-training steps (protonet, maml); finetune has none
    max_seconds: float = 0.0
    lr: float = 1e-3                 # meta / outer learning rate (Adam)
    inner_lr: float = 0.1            # maml
    inner_steps: int = 1             # maml, training and test
    finetune_steps: int = 20         # finetune: Adam steps on the support per episode
    finetune_lr: float = 1e-3
    n_query: int = 16
    batch_task: int = 9
    eval_every: int = 25
    val_seeds: int = 3
    val_max_query: int = 300
    eval_seeds: int = 10
    eval_max_query: int = 0
    seed: int = 0


class _Base(nn.Module):
    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder


class ProtoNet(_Base):
    """Logits of a query = -||z_q - c_k||^2 for the class prototypes c_0, c_1."""

    def logits(self, zs, ys, zq):
        protos = torch.stack([zs[ys == c].mean(0) for c in (0, 1)])        # [2, d]
        return -torch.cdist(zq, protos).pow(2)

    def episode_loss(self, mb, s, q, ys, yq):
        z = self.encoder(mb)
        return F.cross_entropy(self.logits(z[:s], ys, z[s:]), yq)

    @torch.no_grad()
    def predict(self, support, labels, queries, chunk=512):
        self.eval()
        ys = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        zs = self.encoder(support.batch())
        out = [self.logits(zs, ys, self.encoder(part.batch())).softmax(-1)[:, 1] for part in queries.chunks(chunk)]
        return torch.cat(out).numpy()


class MAMLNet(_Base):
    """Encoder + Linear(300, 2); ``adapt`` takes SGD steps on the support over all parameters."""

    def __init__(self, encoder, inner_lr=0.1, inner_steps=1):
        super().__init__(encoder)
        self.head = nn.Linear(encoder.emb_dim, 2)
        self.inner_lr, self.inner_steps = inner_lr, inner_steps

    def _forward(self, params, mb):
        from torch.func import functional_call

        return functional_call(self, params, (mb,))

    def forward(self, mb):
        return self.head(self.encoder(mb))

    def adapt(self, mb_support, ys, create_graph=False):
        params = dict(self.named_parameters())
        for _ in range(self.inner_steps):
            loss = F.cross_entropy(self._forward(params, mb_support), ys)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph, allow_unused=True)
            params = {k: (v - self.inner_lr * g if g is not None else v) for (k, v), g in zip(params.items(), grads)}
        return params

    def episode_loss(self, mb_support, ys, mb_query, yq):
        params = self.adapt(mb_support, ys)
        params = {k: v.detach().requires_grad_() for k, v in params.items()}       # first-order
        loss = F.cross_entropy(self._forward(params, mb_query), yq)
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        for p, g in zip(self.parameters(), grads):
            if g is not None:
                p.grad = g if p.grad is None else p.grad + g
        return loss.detach()

    def predict(self, support, labels, queries, chunk=512):
        self.eval()
        ys = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        params = {k: v.detach() for k, v in self.adapt(support.batch(), ys).items()}
        with torch.no_grad():
            out = [self._forward(params, part.batch()).softmax(-1)[:, 1] for part in queries.chunks(chunk)]
        return torch.cat(out).numpy()


class FineTune(_Base):
    """A fresh linear head on the pretrained encoder, both trained on the support only, per episode."""

    def __init__(self, encoder, steps=20, lr=1e-3):
        super().__init__(encoder)
        self.steps, self.lr = steps, lr
        self.head = nn.Linear(encoder.emb_dim, 2)

    def predict(self, support, labels, queries, chunk=512, seed=0):
        torch.manual_seed(seed)
        model = copy.deepcopy(self)
        nn.init.xavier_uniform_(model.head.weight)
        nn.init.zeros_(model.head.bias)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        ys = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        mb = support.batch()
        model.train()
        for _ in range(self.steps):
            loss = F.cross_entropy(model.head(model.encoder(mb)), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            out = [model.head(model.encoder(part.batch())).softmax(-1)[:, 1] for part in queries.chunks(chunk)]
        return torch.cat(out).numpy()


def build_baseline(cfg: BaselineConfig, data_dir=None) -> _Base:
    from backend.mol.encoders import build_encoder

    name = f"{cfg.encoder}_{cfg.pretrained}" if cfg.pretrained else None
    encoder = build_encoder(cfg.encoder, pretrained=name, drop_ratio=cfg.dropout, data_dir=data_dir)
    if cfg.baseline == "protonet":
        return ProtoNet(encoder)
    if cfg.baseline == "maml":
        return MAMLNet(encoder, cfg.inner_lr, cfg.inner_steps)
    if cfg.baseline == "finetune":
        return FineTune(encoder, cfg.finetune_steps, cfg.finetune_lr)
    raise ValueError(f"unknown baseline {cfg.baseline!r}; known: {', '.join(BASELINES)}")


def adaptive_count(model: _Base) -> int:
    """Parameters (or values) set per task: ProtoNet's 2 prototypes; all parameters for MAML and fine-tuning."""
    if isinstance(model, ProtoNet):
        return 2 * model.encoder.emb_dim
    return sum(p.numel() for p in model.parameters())


def _predictor(model):
    return lambda support, labels, queries: model.predict(support, labels, queries)


def run_baseline(cfg: BaselineConfig, data_dir=None, progress=None, dataset=None, model=None) -> dict:
    """Meta-train (protonet, maml) with selection on the held-out training tasks, evaluate on the test tasks with
    the shared protocol; returns a JSON-ready dict (metrics, params, budget, config)."""
    from backend.mol.datasets import load_dataset
    from backend.mol.episodes import sample_meta_batch
    from backend.mol.fewshot import evaluate_fewshot

    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    dataset = dataset if dataset is not None else load_dataset(cfg.dataset, data_dir)
    model = model if model is not None else build_baseline(cfg, data_dir)
    rng = np.random.default_rng(cfg.seed)
    best, best_step, best_state, steps_done = None, 0, None, 0
    t0 = time.perf_counter()
    history = []

    def validate():
        return evaluate_fewshot(_predictor(model), dataset, cfg.shots, seeds=range(100, 100 + cfg.val_seeds),
                                tasks="val", max_query=cfg.val_max_query or None)["roc_auc"]

    if cfg.baseline in ("protonet", "maml"):
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        for step in range(1, cfg.steps + 1):
            model.train()
            opt.zero_grad()
            losses = []
            for ep in sample_meta_batch(dataset.meta_train_tasks, cfg.shots, cfg.n_query, cfg.batch_task, rng):
                ys = torch.as_tensor(ep.support_labels, dtype=torch.long)
                yq = torch.as_tensor(ep.query_labels, dtype=torch.long)
                if cfg.baseline == "protonet":
                    mb = dataset.store.batch(np.concatenate([ep.support, ep.query]))
                    loss = model.episode_loss(mb, len(ep.support), len(ep.query), ys, yq) / cfg.batch_task
                    loss.backward()
                else:
                    loss = model.episode_loss(dataset.store.batch(ep.support), ys, dataset.store.batch(ep.query), yq)
                losses.append(float(loss.detach()))
            if cfg.baseline == "maml":
                for p in model.parameters():
                    if p.grad is not None:
                        p.grad /= cfg.batch_task
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            steps_done = step
            rec = {"step": step, "loss": float(np.mean(losses))}
            late = cfg.max_seconds and time.perf_counter() - t0 > cfg.max_seconds
            if step % cfg.eval_every == 0 or step == cfg.steps or late:
                rec["val_roc_auc"] = validate()
                if best is None or rec["val_roc_auc"] > best:
                    best, best_step, best_state = rec["val_roc_auc"], step, copy.deepcopy(model.state_dict())
            history.append(rec)
            if progress:
                from backend.core.progress import ProgressEvent

                progress(ProgressEvent("meta-step", step, cfg.steps, {"loss": rec["loss"]},
                                       message=f"{cfg.baseline} meta-step {step}/{cfg.steps}"))
            if late:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
    else:
        best = validate()
    train_seconds = time.perf_counter() - t0
    test = evaluate_fewshot(_predictor(model), dataset, cfg.shots, seeds=range(cfg.eval_seeds), tasks="test",
                            max_query=cfg.eval_max_query or None)
    total = sum(p.numel() for p in model.parameters())
    return {"model": {"protonet": "ProtoNet", "maml": "MAML", "finetune": "Fine-tuning"}[cfg.baseline],
            "dataset": cfg.dataset, "setting": f"{cfg.shots}-shot",
            "metrics": {"valid": {"roc_auc": best}, "test": {"roc_auc": test["roc_auc"],
                                                             "roc_auc_std": test["roc_auc_std"]}},
            "per_task": test["per_task"], "per_seed": test["per_seed"], "seeds": test["seeds"],
            "params": {"total": int(total), "trainable": int(total), "adaptive": int(adaptive_count(model))},
            "train": {"seconds": round(train_seconds, 1), "steps": steps_done, "selected_step": best_step,
                      "device": "cpu", "config": dataclasses.asdict(cfg), "history": history},
            "eval_seconds": round(test["seconds"], 1), "test_queries": test["n_queries"]}


def baseline_records(models_dir=None) -> list[dict]:
    """The shipped baseline results (models/pacia/baselines-<dataset>-<K>-shot.json, written by
    scripts/pacia_baselines.py) as flat records for charts and tables: model, dataset, setting, roc_auc,
    roc_auc_std, params_total, params_adaptive, steps, file."""
    import json
    from pathlib import Path

    from backend.core import store

    root = Path(models_dir) if models_dir is not None else store.MODELS_DIR
    out = []
    for path in sorted((root / "pacia").glob("baselines-*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for r in doc.get("rows", []):
            test = (r.get("metrics") or {}).get("test") or {}
            out.append({"model": r["model"], "dataset": r["dataset"], "setting": r["setting"],
                        "roc_auc": test.get("roc_auc"), "roc_auc_std": test.get("roc_auc_std"),
                        "params_total": (r.get("params") or {}).get("total"),
                        "params_adaptive": (r.get("params") or {}).get("adaptive"),
                        "steps": (r.get("train") or {}).get("steps"), "file": path.name})
    return out


__all__ = ["baseline_records", "BaselineConfig", "BASELINES", "ProtoNet", "MAMLNet", "FineTune", "build_baseline", "run_baseline",
           "adaptive_count"]
