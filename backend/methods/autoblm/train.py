"""Training one block structure (AutoSF's candidate training, kg.md 2.4) and saving its checkpoint.

Per batch of training triples (h, r, t): softmax cross-entropy over all tails of (h, r, ?) and over all heads of
(?, r, t), summed over the batch, + lamb · Σ‖r‖² over the batch's relation embeddings; Adagrad; ExponentialLR per
epoch; after every step the entity rows are projected onto the unit ball. Evaluation: filtered ranks of the tail
and of the head of every triple among all entities (filter: train ∪ valid ∪ test), float64 scores, average ties
(backend.core.metrics.filtered_ranks). The epoch kept is the evaluated one with the best valid MRR.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from backend.core.data import resolve_data_root
from backend.core.device import device_label, select_device
from backend.core.files import sha256_file
from backend.core.metrics import RankingAccumulator, target_ranks
from backend.core.progress import NullProgress, ProgressCallback, ProgressEvent
from backend.core.store import Card, count_parameters, default_model_dir, save_checkpoint, seed_summary
from backend.kg.graph import AnswerIndex
from backend.kg.loader import KGData, load_redgnn_layout

from . import structure as S
from .config import AutoBLMConfig
from .model import BilinearKGE

log = logging.getLogger(__name__)

PROTOCOL = ("filtered ranking over all entities, tail and head of every triple, float64 scores, average ties; "
            "filter: train ∪ valid ∪ test")
REFERENCE = "zhang2022autoblm"
#: rows scored at once in evaluation
EVAL_BATCH = 512


@dataclass
class KGSplits:
    """A dataset as AutoSF trains on it: train = the whole original training split (RED-GNN's facts ∪ train)."""

    kg: KGData
    train: torch.Tensor
    known: AnswerIndex
    files: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=4)
def load_splits(dataset: str, data_root: str | None = None) -> KGSplits:
    """The dataset (RED-GNN layout: the same names as RED-GNN's page) with AutoSF's training split; cached per
    process (search workers train many candidates on it)."""
    root = resolve_data_root(data_root)
    kg = load_redgnn_layout(dataset, root)
    train = torch.cat([kg.facts, kg.train])
    known = AnswerIndex(torch.cat([train, kg.valid, kg.test]), kg.n_ent, kg.n_rel)
    return KGSplits(kg=kg, train=train, known=known, files=dict(kg.files))


@dataclass
class TrainSettings:
    dim: int
    epochs: int
    lr: float
    lamb: float
    batch_size: int
    decay_rate: float
    eval_every: int = 5
    max_seconds: float = 0.0


@dataclass
class TrainResult:
    model: BilinearKGE
    valid: dict[str, float]
    best_epoch: int
    epochs: int
    seconds: float
    history: list[dict]
    triples_per_second: float


@torch.no_grad()
def evaluate_split(model: BilinearKGE, data: KGSplits, split: str, batch: int = EVAL_BATCH,
                   policy: str = "average") -> dict[str, float]:
    """Filtered MRR, MR, Hits@1/3/10 of ``split`` (tail and head of every triple; float64 scores)."""
    triples = getattr(data.kg, split).to(model.entity.weight.device)
    n_rel = data.kg.n_rel
    acc = RankingAccumulator()
    known = data.known
    for start in range(0, len(triples), batch):
        part = triples[start:start + batch]
        h, r, t = part[:, 0], part[:, 1], part[:, 2]
        entities = torch.cat([h, t])
        rels2 = torch.cat([r, r + n_rel])
        targets = torch.cat([t, h])
        scores = model.score_queries(entities, rels2, dtype=torch.float64)
        filt = known.mask(entities.cpu(), rels2.cpu()).to(scores.device)
        acc.add(target_ranks(scores, targets, filt, policy=policy))
    return acc.result()


def train_structure(A, data: KGSplits, settings: TrainSettings, seed: int, device=None,
                    progress: ProgressCallback | None = None) -> TrainResult:
    """Train structure ``A`` on ``data.train``; keep the evaluated epoch with the best valid MRR."""
    progress = progress or NullProgress()
    device = torch.device(device) if device is not None else torch.device("cpu")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    kg = data.kg
    model = BilinearKGE(kg.n_ent, kg.n_rel, settings.dim, A).to(device)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=settings.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, settings.decay_rate)
    train = data.train.to(device)
    n = len(train)
    best = {"mrr": -1.0, "epoch": 0, "state": None, "valid": None}
    history: list[dict] = []
    seconds = 0.0
    trained = 0
    every = max(1, settings.eval_every)
    for epoch in range(1, settings.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        total = 0.0
        for start in range(0, n, settings.batch_size):
            batch = train[order[start:start + settings.batch_size]]
            h, r, t = batch[:, 0], batch[:, 1], batch[:, 2]
            # tails of (h, r, ?) and heads of (?, r, t) in one [2B, n_ent] product and one softmax
            queries = torch.cat([model.tail_query(h, r), model.head_query(t, r)])
            loss = F.cross_entropy(queries @ model.entity.weight.T, torch.cat([t, h]), reduction="sum")
            if settings.lamb:
                loss = loss + settings.lamb * model.relation.weight[r].pow(2).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            model.project_entities()
            total += float(loss.detach())
        scheduler.step()
        seconds += time.perf_counter() - t0
        trained += n
        out_of_time = bool(settings.max_seconds) and seconds >= settings.max_seconds
        record = {"epoch": epoch, "loss": total / n, "train_seconds": round(seconds, 3)}
        if epoch % every == 0 or epoch == settings.epochs or out_of_time:
            model.eval()
            valid = evaluate_split(model, data, "valid")
            record["valid_mrr"] = valid["mrr"]
            if valid["mrr"] > best["mrr"]:
                best = {"mrr": valid["mrr"], "epoch": epoch, "state": copy.deepcopy(model.state_dict()),
                        "valid": valid}
        history.append(record)
        progress(ProgressEvent("epoch", epoch, settings.epochs,
                               {k: v for k, v in record.items() if k in ("loss", "valid_mrr")}))
        if out_of_time:
            break
    model.load_state_dict(best["state"])
    model.eval()
    return TrainResult(model=model, valid=best["valid"], best_epoch=best["epoch"], epochs=len(history),
                       seconds=seconds, history=history, triples_per_second=trained / max(seconds, 1e-9))


def settings_of(config: AutoBLMConfig, search: bool = False) -> TrainSettings:
    if search:
        return TrainSettings(dim=config.search_dim, epochs=config.search_epochs, lr=config.lr, lamb=config.lamb,
                             batch_size=config.batch_size, decay_rate=config.decay_rate,
                             eval_every=config.search_epochs, max_seconds=0.0)
    return TrainSettings(dim=config.dim, epochs=config.epochs, lr=config.lr, lamb=config.lamb,
                         batch_size=config.batch_size, decay_rate=config.decay_rate, eval_every=config.eval_every,
                         max_seconds=config.max_seconds)


def resolve_structure(config: AutoBLMConfig) -> tuple[np.ndarray, str, dict]:
    """(A, a name for the card, where it came from) of ``config.structure``."""
    text = config.structure.strip()
    named = {n.lower(): n for n in (*S.AUTOSF_LISTS, *S.PUBLISHED_LISTS)}
    if text.lower() in named:
        name = named[text.lower()]
        kind = "classic" if name in S.AUTOSF_LISTS else "published"
        return S.as_matrix(name), name, {"kind": kind, "name": name}
    if text == "best" or text.endswith(".jsonl"):
        from .search import best_of_trajectory, default_trajectory

        path = Path(text) if text != "best" else default_trajectory(config)
        best = best_of_trajectory(path)
        return S.as_matrix(best["candidate"]["structure"]), "searched", {
            "kind": "searched", "trajectory": str(path), "index": best["index"], "search_valid_mrr": best["score"]}
    A = S.as_matrix(text)
    return A, "custom", {"kind": "custom"}


def _check_valid(A) -> None:
    reason = S.invalid_reason(A)
    if reason:
        raise ValueError(f"structure {S.to_vector(A)} is not valid: {reason}")


def default_folder(config: AutoBLMConfig, name: str) -> Path:
    """models/autoblm/<dataset> for a searched or custom structure, models/autoblm/<dataset>-<name> for a classic
    or published one."""
    if name in ("searched", "custom"):
        return default_model_dir("autoblm", config.dataset)
    return default_model_dir("autoblm", config.dataset, name.lower())


def structure_artefact(A, name: str, origin: dict) -> dict:
    return {"kind": "structure", "value": {"matrix": S.as_matrix(A).tolist(), "name": name,
                                           "canonical": S.canonical_key(A), "formula": S.formula_text(A),
                                           "latex": S.formula_latex(A), "blocks": S.n_blocks(A), **origin}}


def train(config: AutoBLMConfig, progress: ProgressCallback | None = None, device=None, data_dir=None) -> Card:
    """Train ``config.structure`` with ``config.seeds`` seeds; save the first seed's checkpoint (the others' metrics
    in the card's ``seeds``)."""
    progress = progress or NullProgress()
    device = select_device(device)
    A, name, origin = resolve_structure(config)
    _check_valid(A)
    data = load_splits(config.dataset, str(data_dir) if data_dir else None)
    settings = settings_of(config)
    runs, shipped = [], None
    began = time.perf_counter()
    for offset in range(max(1, config.seeds)):
        seed = config.seed + offset
        result = train_structure(A, data, settings, seed, device=device, progress=progress)
        test = evaluate_split(result.model, data, "test")
        runs.append({"seed": seed, "metrics": {"valid": result.valid, "test": test}})
        progress(ProgressEvent("seed", offset + 1, config.seeds, {"valid_mrr": result.valid["mrr"],
                                                                   "test_mrr": test["mrr"]}))
        if shipped is None:
            shipped = (result, test)
    result, test = shipped
    folder = Path(config.output) if config.output else default_folder(config, name)
    params = count_parameters(result.model)
    card = Card(
        method="autoblm", dataset=config.dataset, setting="default" if name in ("searched", "custom") else name.lower(),
        metrics={"valid": result.valid, "test": test},
        seeds=seed_summary(runs, config.seed) if len(runs) > 1 else {},
        protocol=PROTOCOL, params={**params, "adaptive": None},
        train={"seconds": round(result.seconds, 2), "wall_seconds": round(time.perf_counter() - began, 1),
               "epochs": result.epochs, "best_epoch": result.best_epoch, "device": device_label(device),
               "cpu_threads": torch.get_num_threads(), "seed": config.seed,
               "triples_per_second": round(result.triples_per_second, 1),
               "config": dataclasses.asdict(config), "history": result.history},
        data={"files": {Path(p).name: sha256_file(p) for p in data.files.values()}},
        reference=REFERENCE,
        artefacts={"structure": structure_artefact(A, name, origin)},
        # a classic or published structure is a baseline beside the searched one, in the same zoo panel
        extras={} if name in ("searched", "custom") else {"model": name, "zoo_setting": "default", "baseline": True},
    )
    save_checkpoint(folder, result.model.state_dict(), card)
    progress(ProgressEvent("done", 1, 1, {"test_mrr": test["mrr"]}, message=f"saved to {folder}"))
    return card
