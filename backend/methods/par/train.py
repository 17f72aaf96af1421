"""Meta-training PAR on the training tasks, model selection on the held-out training tasks, card on the test tasks."""
from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from backend.core.progress import ProgressEvent
from backend.core.store import Card, default_model_dir, save_checkpoint
from backend.mol.datasets import VALIDATION_TASKS, load_dataset
from backend.mol.episodes import sample_meta_batch
from backend.mol.fewshot import evaluate_fewshot

from .config import PARConfig
from .learner import PAR, build_encoder

PROTOCOL = ("2-way K-shot episodes (support: K negatives + K positives, re-sampled per evaluation seed; queries: "
            "every other labelled molecule of the task); ROC-AUC per meta-test task averaged over the tasks, then "
            "mean ± std over the evaluation seeds (backend/mol/fewshot.py); one selective-update step on the "
            "support before predicting (PAR's test protocol); model selection on held-out training tasks only")


def _report(progress, step: int, total: int, message: str, metrics: dict | None = None, stage: str = "step"):
    if progress is not None:
        progress(ProgressEvent(stage, step, total, dict(metrics or {}), message=message))


def head_state_for_saving(model: PAR) -> dict:
    """What the checkpoint stores: the head and the trained encoder layers in float16 (pretrained frozen layers
    are re-read from the shipped pretrain-gnns file named in the card)."""
    state = {}
    for n, t in model.state_dict().items():
        if n.startswith("head."):
            state[n] = t
        elif n.startswith("encoder.gnn."):
            rest = n[len("encoder.gnn."):]
            parts = rest.split(".")
            trained_layer = parts[0] in ("gnns", "batch_norms") and int(parts[1]) >= model.frozen_layers
            if trained_layer or not model.config.pretrained or model.config.encoder == "gin":
                state[n] = t
    return {n: (t.half() if t.is_floating_point() else t) for n, t in state.items()}


def restore_state(model: PAR, state: dict):
    """Load a checkpoint state (float16 saved) into ``model`` (float32), strictly for the keys stored."""
    own = model.state_dict()
    unknown = set(state) - set(own)
    if unknown:
        raise KeyError(f"checkpoint keys not in the model: {sorted(unknown)[:5]}")
    for n, t in state.items():
        if own[n].shape != t.shape:
            raise ValueError(f"checkpoint {n}: shape {tuple(t.shape)} != model {tuple(own[n].shape)}")
        own[n].copy_(t.to(own[n].dtype))
    model.clear_cache()


def _round_trip(model: PAR):
    """Put the model's weights through the float16 storage so the card measures the shipped weights."""
    restore_state(model, head_state_for_saving(model))


def train(config: PARConfig, progress=None, device=None, data_dir=None) -> Card:
    t_wall = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    data = load_dataset(config.dataset, data_dir)
    from backend.core.device import select_device

    dev = select_device(device) if device is not None else torch.device("cpu")
    model = PAR(config, build_encoder(config, data_dir)).to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.meta_lr, weight_decay=config.weight_decay)
    tasks = data.meta_train_tasks
    val_ids = list(VALIDATION_TASKS[config.dataset])
    history, best, best_state, best_step = [], -1.0, None, 0
    train_seconds, step = 0.0, 0
    k = config.shots
    _report(progress, 0, config.steps, f"PAR on {config.dataset}, {k}-shot: meta-training on {len(tasks)} tasks")
    for step in range(1, config.steps + 1):
        t0 = time.perf_counter()
        model.train()
        episodes = sample_meta_batch(tasks, k, config.n_query, config.batch_task, rng)
        idx = np.concatenate([np.concatenate([e.support, e.query]) for e in episodes])
        emb = model.embed(data.store, idx)
        losses, a = [], 0
        for e in episodes:
            s, q = len(e.support), len(e.query)
            g_s, g_q = emb[a:a + s], emb[a + s:a + s + q]
            a += s + q
            losses.append(model.episode_loss(g_s, torch.as_tensor(e.support_labels, device=dev), g_q,
                                             torch.as_tensor(e.query_labels, device=dev), k))
        loss = torch.stack(losses).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        train_seconds += time.perf_counter() - t0
        out_of_time = config.max_seconds and train_seconds >= config.max_seconds
        if step % config.eval_every == 0 or step == config.steps or out_of_time:
            model.clear_cache()
            val = evaluate_fewshot(model.predict_episode, data, k, seeds=range(100, 100 + config.val_seeds),
                                   tasks=val_ids, max_query=config.val_max_query)
            history.append({"step": step, "loss": loss.item(), "val_roc_auc": val["roc_auc"],
                            "train_seconds": round(train_seconds, 1)})
            if val["roc_auc"] > best:
                best, best_step = val["roc_auc"], step
                best_state = copy.deepcopy(model.state_dict())
            _report(progress, step, config.steps,
                    f"step {step}/{config.steps}: loss {loss.item():.3f}, validation ROC-AUC {val['roc_auc']:.4f} "
                    f"(best {best:.4f} at step {best_step})", {"loss": loss.item(), "val_roc_auc": val["roc_auc"]})
        if out_of_time:
            break
    model.load_state_dict(best_state)
    model.cpu()
    _round_trip(model)
    _report(progress, 1, 1, f"evaluating on the meta-test tasks ({config.test_seeds} seeds)", stage="eval")
    card = evaluate_card(model, data, config, data_dir, steps_done=step)
    card.train = {"seconds": round(train_seconds, 1), "wall_seconds": round(time.perf_counter() - t_wall, 1),
                  "steps": step, "epochs": step, "best_step": best_step, "device": str(dev), "seed": config.seed,
                  "threads": torch.get_num_threads(), "config": dataclasses.asdict(config), "history": history}
    out = Path(config.output) if config.output else default_model_dir("par", config.dataset, config.setting)
    save_checkpoint(out, head_state_for_saving(model), card)
    _report(progress, 1, 1, f"saved to {out}", {"test_roc_auc": card.metrics["test"]["roc_auc"]}, stage="done")
    return card


def notes_text(config: PARConfig, data, steps_done: int) -> str:
    queries = (f"a seeded random subset of {config.test_max_query} of each test task's other molecules per seed "
               "(the papers use all of them)" if config.test_max_query else "all of each test task's other molecules")
    return (f"Encoder: {config.encoder} "
            + ("(pretrain-gnns supervised_contextpred weights)" if config.pretrained and config.encoder != "gin"
               else "(random initialisation)")
            + f", top {config.tune_layers} of 5 layers trained, the others frozen. Model selection on the held-out "
              f"training task(s) {', '.join(t.name for t in data.val_tasks)} (ids {list(VALIDATION_TASKS[data.name])});"
              f" meta-trained on the other {len(data.meta_train_tasks)} training tasks. CPU budget: {steps_done} "
              f"meta-steps of {min(config.batch_task, len(data.meta_train_tasks))} tasks (PAR: 5000), "
              f"{'second' if config.second_order else 'first'}-order inner loop. Test queries: {queries}.")


def evaluate_card(model: PAR, data, config: PARConfig, data_dir=None, steps_done: int | None = None) -> Card:
    from backend.mol.encoders import pretrained_path

    k = config.shots
    model.clear_cache()
    val = evaluate_fewshot(model.predict_episode, data, k, seeds=range(config.test_seeds), tasks="val",
                           max_query=config.val_max_query)
    test = evaluate_fewshot(model.predict_episode, data, k, seeds=range(config.test_seeds), tasks="test",
                            max_query=config.test_max_query or None)
    check = evaluate_fewshot(model.predict_episode, data, k, seeds=range(config.check_seeds), tasks="test",
                             max_query=config.check_max_query)
    counts = model.parameter_counts()
    files = {f"molecules/datasets/{Path(data.name).name}": data.sha256}
    if config.pretrained and config.encoder != "gin":
        import hashlib

        p = pretrained_path(config.encoder, data_dir)
        files[f"pretrain_gnns/{p.name}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    metrics = {"val": {"roc_auc": val["roc_auc"]},
               "test": {"roc_auc": test["roc_auc"], "roc_auc_std": test["roc_auc_std"]}}
    per_task = {name: v["mean"] for name, v in test["per_task"].items()}
    notes = notes_text(config, data, config.steps if steps_done is None else steps_done)
    return Card(
        method="par", dataset=data.name, setting=config.setting, metrics=metrics,

        protocol=PROTOCOL, params=counts,
        data={"files": files, "invalid_smiles": len(data.invalid), "validation_tasks": [t.name for t in data.val_tasks],
              "test_tasks": [t.name for t in data.test_tasks]},
        reference="wang2021par",
        extras={"evaluation_seeds": {"n": len(test["seeds"]), "seeds": test["seeds"],
                                     "what": "one trained model; support sets re-sampled per evaluation seed",
                                     "test": {"roc_auc": {"mean": test["roc_auc"], "std": test["roc_auc_std"]}},
                                     "val": {"roc_auc": {"mean": val["roc_auc"], "std": val["roc_auc_std"]}}},
                "per_task_test_roc_auc": per_task, "per_seed_test_roc_auc": test["per_seed"],
                "test_queries": test["n_queries"], "eval_seconds": round(test["seconds"], 1),
                "eval_queries_per_second": round(test["queries_per_second"], 1),
                "check": {"seeds": check["seeds"], "max_query": config.check_max_query, "roc_auc": check["roc_auc"]},
                "encoder": config.encoder, "pretrained": config.pretrained, "notes": notes,
                "paper_params": {"total": 2_310_000, "adaptive": 380_000,
                                 "code_total_gin": 2_434_976, "code_adaptive": 380_210}},
    )
