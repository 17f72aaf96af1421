"""Training, evaluation, baselines and the search of ColdNAS, batched over users.

Protocol (every model in the same harness):
* training episodes re-sampled each epoch from every training user's interactions (support min(20, ceil(n/2)),
  query the rest; MovieLens: support min(90, ceil(n/2)), query the rest up to 100); loss = mean over
  users of the query MSE (the original's loss);
* the epoch kept is the one with the lowest mean validation-user MSE; test users are read once, at the end
  (:func:`test_metrics`), never during training, search or selection;
* metrics per user on the query items, then averaged over users: MSE, MAE, nDCG@3 (gain 2^rating - 1, ties averaged,
  0 when every query rating is 0).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch

from backend.core.progress import ProgressEvent
from backend.methods.coldnas.config import ColdNASConfig
from backend.methods.coldnas.model import FILM, NONE, ColdNAS, MAMLPredictor, describe, decode, rank_structures
from backend.recsys.common import Episode, RecData, load_dataset, sample_episodes

log = logging.getLogger(__name__)

BASELINES = {"popularity": "Item popularity", "no_modulation": "Predictor without modulation",
             "film": "FiLM (mul + add everywhere)", "maml": "MAML-style fine-tuning (MeLU-like)"}
POPULARITY_DEFINITION = ("an item's mean rating among the training users' interactions (Last.fm: the share of "
                         "training users' interactions with the artist that are listens); the training users' mean "
                         "rating for an item no training user rated")

_DATA: dict[tuple[str, str], RecData] = {}


def get_data(dataset: str, data_dir=None) -> RecData:
    """The dataset, loaded once per process (tests may put a prepared RecData into ``_DATA``)."""
    key = (dataset, str(data_dir or ""))
    if key not in _DATA:
        _DATA[key] = load_dataset(dataset, data_dir)
    return _DATA[key]


# ------------------------------------------------------------------------------------------ tensors
class Catalog:
    """The dataset's field tensors on a device."""

    def __init__(self, data: RecData, device: torch.device):
        self.data, self.device = data, device
        self.item_fields = {k: torch.as_tensor(v, device=device) for k, v in data.item_fields.items()}
        self.user_fields = {k: torch.as_tensor(v, device=device) for k, v in data.user_fields.items()}
        self.unknown = {k: torch.as_tensor(v, device=device) for k, v in data.unknown_user_row().items()}


def collate(episodes: list[Episode], device) -> dict[str, torch.Tensor]:
    """Episodes -> padded tensors: users [B]; sup_items/sup_r/sup_mask [B, S]; q_items/q_r/q_mask [B, Q]."""
    b = len(episodes)
    s = max(1, max(len(e.support_items) for e in episodes))
    q = max(1, max(len(e.query_items) for e in episodes))
    out = {"users": np.array([e.user for e in episodes], dtype=np.int64),
           "sup_items": np.zeros((b, s), np.int64), "sup_r": np.zeros((b, s), np.float32),
           "sup_mask": np.zeros((b, s), bool), "q_items": np.zeros((b, q), np.int64),
           "q_r": np.zeros((b, q), np.float32), "q_mask": np.zeros((b, q), bool)}
    for i, e in enumerate(episodes):
        ns, nq = len(e.support_items), len(e.query_items)
        out["sup_items"][i, :ns], out["sup_r"][i, :ns], out["sup_mask"][i, :ns] = e.support_items, e.support_ratings, 1
        out["q_items"][i, :nq], out["q_r"][i, :nq], out["q_mask"][i, :nq] = e.query_items, e.query_ratings, 1
    return {k: torch.as_tensor(v, device=device) for k, v in out.items()}


def model_inputs(model, cat: Catalog, batch: dict, user_rows: dict | None = None, user_dropout: float = 0.0,
                 generator: torch.Generator | None = None):
    """(sup_x [B, S, D0], sup_r, sup_mask, query_x [B, Q, D0]). ``user_rows``: field values [B, w] to use instead
    of the users' own (the page's unknown user); ``user_dropout``: hide each user field with this probability."""
    users = batch["users"]
    ufields = user_rows if user_rows is not None else {k: v[users] for k, v in cat.user_fields.items()}
    if user_dropout > 0:
        hidden = {}
        for k, v in ufields.items():
            drop = torch.rand(v.shape[0], generator=generator, device=v.device) < user_dropout
            unknown = torch.full_like(v, -1)
            unknown[:, 0] = cat.data.user_vocab[k]
            hidden[k] = torch.where(drop.unsqueeze(1), unknown, v)
        ufields = hidden
    ue = model.encoder.user(ufields)                                          # [B, Du]

    def rows(items):
        ie = model.encoder.item({k: v[items] for k, v in cat.item_fields.items()})   # [B, n, Di]
        return torch.cat([ie, ue.unsqueeze(1).expand(-1, items.shape[1], -1)], -1)

    return rows(batch["sup_items"]), batch["sup_r"], batch["sup_mask"], rows(batch["q_items"])


def predict_batch(model, cat: Catalog, batch: dict, **kw) -> torch.Tensor:
    return model(*model_inputs(model, cat, batch, **kw))


def masked_user_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over users of each user's mean squared error on its (masked) query items."""
    m = mask.to(pred.dtype)
    return ((((pred - target) ** 2) * m).sum(1) / m.sum(1).clamp(min=1)).mean()


# ------------------------------------------------------------------------------------------ metrics
def episode_metrics(preds: list[np.ndarray], truths: list[np.ndarray], k: int = 3) -> dict[str, float]:
    """MSE, MAE, nDCG@k per user, averaged over users (gain 2^r - 1; see the module docstring)."""
    from backend.core.metrics import mean_ndcg_at_k

    mse = float(np.mean([np.mean((p - t) ** 2) for p, t in zip(preds, truths)]))
    mae = float(np.mean([np.mean(np.abs(p - t)) for p, t in zip(preds, truths)]))
    group = np.concatenate([np.full(len(t), i) for i, t in enumerate(truths)])
    rel = np.concatenate([2.0 ** t - 1 for t in truths])
    ndcg = mean_ndcg_at_k(rel, np.concatenate(preds).astype(np.float64), group, k=k)
    return {"mse": mse, "mae": mae, f"ndcg@{k}": float(ndcg)}


@torch.no_grad()
def predict_episodes(model, cat: Catalog, episodes: list[Episode], batch_size: int = 256) -> list[np.ndarray]:
    """Predicted query ratings, one array per episode."""
    model.eval()
    out = []
    for start in range(0, len(episodes), batch_size):
        part = episodes[start:start + batch_size]
        batch = collate(part, cat.device)
        pred = predict_batch(model, cat, batch).cpu().numpy()
        out += [pred[i, :len(e.query_items)] for i, e in enumerate(part)]
    return out


def popularity_table(data: RecData) -> np.ndarray:
    """[n_items] popularity predictions (see POPULARITY_DEFINITION)."""
    _, items, ratings = data.interactions["train"]
    count = np.bincount(items, minlength=data.n_items)
    total = np.bincount(items, weights=ratings, minlength=data.n_items)
    return np.where(count > 0, total / np.maximum(count, 1), float(ratings.mean())).astype(np.float32)


# ------------------------------------------------------------------------------------------ training
def build(kind: str, data: RecData, cfg: ColdNASConfig, structure: int | None = None, seed: int | None = None):
    """'coldnas' (``structure``; None = supernet), 'no_modulation', 'film', 'maml'; initialised from ``seed`` (so a
    model's start does not depend on what the process drew before it)."""
    if seed is not None:
        torch.manual_seed(seed)
    common = dict(d=cfg.embedding_dim, hidden=cfg.hidden_sizes, rating_max=data.rating_max)
    if kind == "maml":
        return MAMLPredictor(data.item_vocab, data.user_vocab, steps=cfg.maml_steps, inner_lr=cfg.maml_lr, **common)
    code = {"no_modulation": NONE, "film": FILM}.get(kind, structure)
    return ColdNAS(data.item_vocab, data.user_vocab, structure=code, **common)


def episode_rule(data: RecData) -> dict:
    """Training episodes: support min(max_support, ceil(n/2)), query the rest (at most max_query). MovieLens's
    evaluation episodes keep MeLU's 10 query ratings, but training on half of each user's ratings as query gives
    the few epochs ten times more supervised ratings."""
    return {"max_support": 90, "max_query": 100, "min_interactions": 6} if data.name == "movielens" else {}


def fit(model, data: RecData, cat: Catalog, cfg: ColdNASConfig, epochs: int, seed: int, progress=None,
        stage: str = "epoch", record_gates: bool = False) -> dict:
    """Train on re-sampled training episodes; keep the state of the epoch with the lowest validation MSE.
    Returns {"best_epoch", "best_valid_mse", "history": [{epoch, loss, valid_mse(, gates)}], "seconds"}."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=cat.device).manual_seed(seed)
    gate_params = [p for n, p in model.named_parameters() if n == "alpha"]
    other = [p for n, p in model.named_parameters() if n != "alpha"]
    groups = [{"params": other, "lr": cfg.lr, "weight_decay": cfg.weight_decay}]
    if gate_params:
        groups.append({"params": gate_params, "lr": cfg.gate_lr, "weight_decay": 0.0})
    opt = torch.optim.Adam(groups)
    valid = data.episodes["valid"]
    valid_t = [e.query_ratings for e in valid]
    best = {"best_epoch": 0, "best_valid_mse": math.inf, "history": [], "state": None}
    began = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        episodes = sample_episodes(data, "train", rng, **episode_rule(data))
        order = rng.permutation(len(episodes))
        losses = []
        for start in range(0, len(order), cfg.batch_size):
            batch = collate([episodes[i] for i in order[start:start + cfg.batch_size]], cat.device)
            pred = predict_batch(model, cat, batch, user_dropout=cfg.user_dropout, generator=gen)
            loss = masked_user_mse(pred, batch["q_r"], batch["q_mask"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        v = episode_metrics(predict_episodes(model, cat, valid), valid_t)
        row = {"epoch": epoch, "loss": float(np.mean(losses)), "valid_mse": v["mse"], "valid_mae": v["mae"],
               "valid_ndcg@3": v["ndcg@3"]}
        if record_gates:
            row["gates"] = model.gates().detach().cpu().tolist()
        best["history"].append(row)
        if v["mse"] < best["best_valid_mse"]:
            best.update(best_epoch=epoch, best_valid_mse=v["mse"], state=copy.deepcopy(model.state_dict()))
        if progress is not None:
            progress(ProgressEvent(stage=stage, step=epoch, total=epochs,
                                   metrics={"loss": row["loss"], "valid_mse": v["mse"]}))
    model.load_state_dict(best.pop("state"))
    best["seconds"] = time.perf_counter() - began
    return best


def valid_metrics(model, data: RecData, cat: Catalog) -> dict[str, float]:
    return episode_metrics(predict_episodes(model, cat, data.episodes["valid"]),
                           [e.query_ratings for e in data.episodes["valid"]])


def test_predictions(model, data: RecData, cat: Catalog) -> list[np.ndarray]:
    """The final (and only) read of the test users."""
    return predict_episodes(model, cat, data.episodes["test"])


def final_evaluation(models: dict, data: RecData, cat: Catalog) -> dict:
    """The only read of the test users: every model's test metrics and per-item squared errors, and the popularity
    baseline's. Called once, after all training and every choice made on validation users."""
    episodes = data.episodes["test"]
    truth = [e.query_ratings for e in episodes]
    flat = np.concatenate(truth)
    out = {"metrics": {}, "squared_errors": {}}
    for key, model in models.items():
        preds = test_predictions(model, data, cat)
        out["metrics"][key] = episode_metrics(preds, truth)
        out["squared_errors"][key] = (np.concatenate(preds) - flat) ** 2
    pop = popularity_table(data)
    pop_preds = [pop[e.query_items] for e in episodes]
    out["popularity"] = episode_metrics(pop_preds, truth)
    out["popularity_squared_errors"] = (np.concatenate(pop_preds) - flat) ** 2
    return out


def paired_tests(errors_a: np.ndarray, errors_b: np.ndarray) -> dict[str, float]:
    """Paired tests over query items of squared errors a (ColdNAS) vs b (baseline): Wilcoxon signed-rank and
    paired t (two-sided), and the mean difference a - b."""
    from scipy import stats

    diff = errors_a - errors_b
    return {"mean_difference": float(diff.mean()), "wilcoxon_p": float(stats.wilcoxon(errors_a, errors_b).pvalue),
            "ttest_p": float(stats.ttest_rel(errors_a, errors_b).pvalue), "items": int(len(diff))}


# ------------------------------------------------------------------------------------------ train verb
def _seed_run(kind: str, data, cat, cfg, seed, progress=None, structure=None):
    model = build(kind, data, cfg, structure, seed=seed).to(cat.device)
    info = fit(model, data, cat, cfg, cfg.epochs, seed, progress, stage=f"{kind} seed {seed}")
    return model, info


def train(config: ColdNASConfig, progress=None, device=None, data_dir=None, extra_card: dict | None = None):
    """Train the structure ``config.structure`` (and the baselines) over ``config.seeds`` seeds; save the first
    seed's checkpoint and a card with every model's valid/test metrics (mean ± std over seeds), paired tests and
    the structure."""
    from backend.core import store
    from backend.core.device import device_label, select_device

    dev = select_device(device)
    data = get_data(config.dataset, data_dir)
    cat = Catalog(data, dev)
    seeds = [config.seed + i for i in range(max(1, config.seeds))]
    kinds = ["coldnas"] + (["no_modulation", "film", "maml"] if config.baselines else [])
    truths = [e.query_ratings for e in data.episodes["valid"]]
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    sq_err: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    shipped, shipped_info, began = None, None, time.perf_counter()
    models_by_seed = {}
    for seed in seeds:
        for kind in kinds:
            model, info = _seed_run(kind, data, cat, config, seed, progress, structure=config.structure)
            runs[kind].append({"seed": seed, "valid": valid_metrics(model, data, cat), "info": info})
            models_by_seed[(kind, seed)] = model
            if kind == "coldnas" and seed == seeds[0]:
                shipped, shipped_info = model, info
    train_seconds = time.perf_counter() - began
    # ---- the one read of the test users: every trained model, after all training and selection is over
    test = final_evaluation(models_by_seed, data, cat)
    for (kind, seed), metrics in test["metrics"].items():
        next(r for r in runs[kind] if r["seed"] == seed)["test"] = metrics
        sq_err[kind].append(test["squared_errors"][(kind, seed)])
    pop_metrics = {"valid": episode_metrics([popularity_table(data)[e.query_items] for e in data.episodes["valid"]],
                                            truths), "test": test["popularity"]}
    pop_err = test["popularity_squared_errors"]

    summary = {k: store.seed_summary([{"seed": r["seed"], "valid": r["valid"], "test": r["test"]} for r in v],
                                     seeds[0]) for k, v in runs.items()}
    ours = np.mean(sq_err["coldnas"], axis=0)
    baselines = {"popularity": {"title": BASELINES["popularity"], "definition": POPULARITY_DEFINITION,
                                "metrics": pop_metrics, "seeds": None,
                                "paired_test_mse": paired_tests(ours, pop_err)}}
    for kind in kinds[1:]:
        first = runs[kind][0]
        baselines[kind] = {"title": BASELINES[kind], "metrics": {"valid": first["valid"], "test": first["test"]},
                           "seeds": summary[kind], "paired_test_mse": paired_tests(ours, np.mean(sq_err[kind], 0)),
                           "best_epochs": [r["info"]["best_epoch"] for r in runs[kind]]}
    first = runs["coldnas"][0]
    params = store.count_parameters(shipped)
    used = params["total"] if shipped.uses_hyper else params["total"] - sum(
        p.numel() for n, p in shipped.named_parameters() if n.startswith("hyper"))
    hyper = sum(p.numel() for n, p in shipped.named_parameters() if n.startswith("hyper")) if shipped.uses_hyper else 0
    cfg_dict = dataclasses.asdict(config)
    card = store.Card(
        method="coldnas", dataset=config.dataset, metrics={"valid": first["valid"], "test": first["test"]},
        seeds=summary["coldnas"],
        protocol=("user cold-start; per-user MSE / MAE / nDCG@3 (gain 2^r-1, ties averaged) on query items, averaged "
                  "over users; epoch and structure chosen on validation users; test read once. " + data.split_rule),
        params={"total": params["total"], "trainable": params["trainable"], "adaptive": hyper, "used": used},
        train={"seconds": round(train_seconds, 1), "epochs": config.epochs, "best_epoch": shipped_info["best_epoch"],
               "device": device_label(dev), "seed": seeds[0], "config": cfg_dict,
               "seeds_trained": len(seeds), "models_trained_per_seed": kinds,
               "history": shipped_info["history"]},
        data={"files": data.files, "split": data.split_rule, "user_features": data.user_feature_note,
              "redistribution": ("MovieLens data may not be redistributed (GroupLens licence): this folder holds only "
                                 "weights and metrics computed from it and an example evidence file that names a few "
                                 "movie titles; no ratings, no user or movie files"
                                 if config.dataset == "movielens" else
                                 "HetRec 2011 Last.fm-2k: non-commercial use")},
        reference="wu2023coldnas",
        artefacts={"structure": {"kind": "structure", "code": int(config.structure),
                                 "value": decode(config.structure), "text": describe(config.structure)}},
        extras={"baselines": baselines, "rating_range": [data.rating_min, data.rating_max],
                "input_width": shipped.widths[0],
                **(extra_card or {})})
    folder = Path(config.output or store.runs_root() / "coldnas" / config.dataset)
    store.save_checkpoint(folder, shipped.state_dict(), card)
    if progress is not None:
        progress(ProgressEvent(stage="done", step=1, total=1, message=f"saved {folder}"))
    return card


# ------------------------------------------------------------------------------------------ search
def evaluate_candidate(spec: dict, seed: int, config: dict, device=None, data_dir=None) -> dict:
    """Retrain one structure briefly (``candidate_epochs``) and score it on the validation users (never test)."""
    from backend.core.device import select_device

    cfg = ColdNASConfig(**config)
    dev = select_device(device)
    data = get_data(cfg.dataset, data_dir)
    cat = Catalog(data, dev)
    model = build("coldnas", data, cfg, int(spec["structure"]), seed=seed).to(dev)
    info = fit(model, data, cat, cfg, cfg.candidate_epochs, seed)
    v = valid_metrics(model, data, cat)
    return {"score": v["mse"], "metrics": {f"valid_{k}": x for k, x in v.items()},
            "attributes": {"best_epoch": info["best_epoch"], "structure_text": describe(int(spec["structure"]))}}


def run_supernet(config: ColdNASConfig, progress=None, device=None, data_dir=None) -> dict:
    """Train the supernet (gates and weights jointly); the gates of the epoch with the lowest validation MSE rank the
    structures. Returns {"gates": [4][4], "history": [...], "best_epoch", "seconds", "ranked": [(code, ll)]}."""
    from backend.core.device import select_device

    dev = select_device(device)
    data = get_data(config.dataset, data_dir)
    cat = Catalog(data, dev)
    model = build("coldnas", data, config, None, seed=config.seed).to(dev)
    info = fit(model, data, cat, config, config.search_epochs, config.seed, progress, stage="supernet",
               record_gates=True)
    gates = model.gates().detach().cpu()
    ranked = rank_structures(gates, min(10, max(1, config.top_k)))
    return {"gates": gates.tolist(), "history": info["history"], "best_epoch": info["best_epoch"],
            "seconds": info["seconds"], "ranked": ranked}


def search(config: ColdNASConfig, progress=None, device=None, data_dir=None, executor=None):
    """Supernet -> top-k structures by gate likelihood -> each retrained briefly and scored on validation users
    (trajectory.jsonl, resumable) -> the best retrained from scratch (``train``), saved with its card in the same
    folder. Test users are read only by that final ``train``."""
    import json

    from backend.core import store
    from backend.core.files import atomic_write_text
    from backend.core.search import Candidate, run_search

    if not 1 <= config.top_k <= 10:
        raise ValueError(f"top_k must be between 1 and 10, got {config.top_k}")
    folder = Path(config.output or store.runs_root() / "coldnas" / f"{config.dataset}-search")
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    supernet_file = folder / "supernet.json"
    key = {k: getattr(config, k) for k in ("dataset", "embedding_dim", "hidden", "search_epochs", "gate_lr", "lr",
                                           "batch_size", "seed", "top_k")}
    supernet = json.loads(supernet_file.read_text()) if supernet_file.exists() else None
    if supernet is None or supernet.get("config") != key:
        supernet = {"config": key, **run_supernet(config, progress, device, data_dir)}
        atomic_write_text(supernet_file, json.dumps(supernet, indent=1) + "\n")
    ranked = [(int(c), float(ll)) for c, ll in supernet["ranked"]][:config.top_k]

    def propose(history, rng):
        return [Candidate.of({"structure": c, "text": describe(c), "log_likelihood": round(ll, 6)}, canonical=str(c))
                for c, ll in ranked]

    evaluate = functools.partial(evaluate_candidate, config=dataclasses.asdict(config), device=device,
                                 data_dir=str(data_dir) if data_dir else None)
    result = run_search(propose, evaluate, folder / "trajectory.jsonl", budget=len(ranked), executor=executor,
                        direction="min", seed=config.seed, progress=progress)
    search_seconds = time.perf_counter() - began
    if result.best is None:
        raise RuntimeError("every candidate structure failed; see trajectory.jsonl")
    chosen = int(result.best["candidate"]["structure"])
    final = dataclasses.replace(config, structure=chosen, output=str(folder))
    extra = {"search": {"supernet_epochs": config.search_epochs, "supernet_best_epoch": supernet["best_epoch"],
                        "supernet_seconds": round(supernet["seconds"], 1), "gates": supernet["gates"],
                        "top_k": [{"code": c, "text": describe(c), "log_likelihood": ll} for c, ll in ranked],
                        "chosen": chosen, "chosen_on": "validation users' MSE after a brief retraining",
                        "seconds_to_choose": round(search_seconds, 1)}}
    t0 = time.perf_counter()
    card = train(final, progress, device, data_dir, extra_card=extra)
    card.extras["search"]["retrain_seconds"] = round(time.perf_counter() - t0, 1)
    store.update_card(folder, extras=card.extras)
    return result
