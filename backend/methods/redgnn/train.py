"""RED-GNN training (softmax cross-entropy over all entities, Adam + exponential decay, per-epoch
3:1 facts/queries re-split) and filtered-ranking evaluation (grouped (h, r) queries, every answer
ranked; average ties as the original, optimistic and pessimistic = NBFNet protocol beside it).
Model selection uses valid MRR only.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from backend.core.batching import query_slices
from backend.core.cuda_graphs import CapturedStep
from backend.core.device import device_label, seed_everything, select_device
from backend.core.metrics import filtered_ranks, ranking_metrics
from backend.core.progress import NullProgress, ProgressCallback, ProgressEvent
from backend.core.files import sha256_file
from backend.core.store import (
    Card, count_parameters, default_model_dir, load_card, load_state_dict, runs_root, save_checkpoint)
from backend.kg.graph import AnswerIndex, EdgeIndex, distinct_queries
from backend.kg.loader import KGData, load_inductive, load_redgnn_layout, with_inverses
from backend.kg.user_graphs import load_user_graph

from .config import RedGNNConfig
from .model import RedGNN, ranking_model, softmax_cross_entropy

log = logging.getLogger(__name__)
POLICIES = ("average", "optimistic", "pessimistic")
PROTOCOL = ("filtered ranking over all entities; tail + inverse-relation (head) queries grouped by (h, r), "
            "every answer ranked; ties: average (RED-GNN); 'nbfnet' = pessimistic ties")


@dataclass
class EvalTask:
    """One split to rank: the graph to propagate over, the grouped queries, their answers, the filter."""

    graph: EdgeIndex
    queries: torch.Tensor      # [Q, 2] (head, relation) in the doubled space
    answers: AnswerIndex       # answers to rank, from the split
    known: AnswerIndex         # every known triple, filtered out of the competition

    @classmethod
    def build(cls, kg: KGData, graph_triples: torch.Tensor, split: torch.Tensor, device) -> "EvalTask":
        all_known = torch.cat([kg.facts, kg.train, kg.valid, kg.test])
        return cls(graph=EdgeIndex(graph_triples.to(device), kg.n_ent, kg.n_rel),
                   queries=distinct_queries(split, kg.n_rel).to(device),
                   answers=AnswerIndex(split, kg.n_ent, kg.n_rel).to(device),
                   known=AnswerIndex(all_known, kg.n_ent, kg.n_rel).to(device))


def is_imported_graph(dataset: str) -> bool:
    """Whether ``dataset`` names a graph the user imported (never one of the datasets RED-GNN knows)."""
    from .config import DATASETS
    from backend.kg.user_graphs import is_user_graph

    return dataset not in DATASETS and is_user_graph(dataset)


def load_data(dataset: str, data_dir=None) -> tuple[KGData, KGData | None]:
    """(training graph data, inductive test-graph data or None)."""
    from .config import INDUCTIVE_DATASETS

    if dataset in INDUCTIVE_DATASETS:
        return load_inductive(dataset, data_dir)
    if is_imported_graph(dataset):
        return load_user_graph(dataset), None
    return load_redgnn_layout(dataset, data_dir), None


def eval_tasks(kg: KGData, kg_ind: KGData | None, device) -> dict[str, EvalTask]:
    """valid/test tasks. Transductive: graph = facts ∪ train. Inductive: valid on the training graph,
    test on the inductive graph (all of its entities are candidates)."""
    if kg_ind is None:
        graph = torch.cat([kg.facts, kg.train])
        return {"valid": EvalTask.build(kg, graph, kg.valid, device), "test": EvalTask.build(kg, graph, kg.test, device)}
    return {"valid": EvalTask.build(kg, kg.facts, kg.valid, device),
            "test": EvalTask.build(kg_ind, kg_ind.facts, kg_ind.test, device)}


@dataclass
class AnswerRanks:
    """Every answer of a split ranked: per tie policy the ranks [K], and each rank's query relation
    (doubled space) [K]; ``reached`` [K] (answer within L hops of the head) when asked for."""

    by_policy: dict[str, torch.Tensor]
    relation: torch.Tensor
    reached: torch.Tensor | None = None


@torch.no_grad()
def answer_ranks(model: RedGNN, task: EvalTask, batch_size: int, policies=POLICIES,
                 with_reached: bool = False) -> AnswerRanks:
    """Filtered rank of every answer of ``task``, ``batch_size`` queries per forward pass on a GPU (on a CPU
    the fastest batch size, found on the first batches). Scores are computed in float64 (``ranking_model``), so the
    ranks are the same for every batch size, thread count and machine."""
    model = ranking_model(model)
    ranks: dict[str, list[torch.Tensor]] = {p: [] for p in policies}
    relations, reached = [], []
    for part in query_slices(len(task.queries), batch_size, task.queries.device):
        q = task.queries[part]
        scores = model(q[:, 0], q[:, 1], task.graph)
        answer_mask = task.answers.mask(q[:, 0], q[:, 1])
        known_mask = task.known.mask(q[:, 0], q[:, 1])
        by_policy = {p: filtered_ranks(scores, answer_mask, known_mask, policy=p)
                     for p in ("optimistic", "pessimistic") if p in policies}
        if "average" in policies:  # average ties = mean of the optimistic and pessimistic ranks
            by_policy["average"] = (by_policy["optimistic"] + by_policy["pessimistic"]) / 2 if len(by_policy) == 2 \
                else filtered_ranks(scores, answer_mask, known_mask, policy="average")
        for p in policies:
            ranks[p].append(by_policy[p].cpu())
        rows = answer_mask.nonzero()  # row-major, the order filtered_ranks returns
        relations.append(q[rows[:, 0], 1].cpu())
        if with_reached:
            reached.append(task.graph.within_hops(q[:, 0], model.n_layer)[answer_mask].cpu())
    return AnswerRanks({p: torch.cat(r) for p, r in ranks.items()}, torch.cat(relations),
                       torch.cat(reached) if with_reached else None)


def evaluate_task(model: RedGNN, task: EvalTask, batch_size: int, policies=POLICIES) -> dict[str, dict[str, float]]:
    """Filtered ranking metrics per tie policy: {"average": {"mrr": ..}, ...}."""
    return policy_metrics(answer_ranks(model, task, batch_size, policies))


def policy_metrics(ranked: AnswerRanks) -> dict[str, dict[str, float]]:
    return {p: ranking_metrics(r) for p, r in ranked.by_policy.items()}


def split_metrics(by_policy: dict[str, dict[str, float]]) -> dict[str, float]:
    """One split's metrics, flat as ``evaluate`` prints them: the average-tie metrics, plus 'nbfnet_*' (pessimistic
    ties) and 'optimistic_*'. A Card given these files the prefixed ones under its ``variants`` ({"nbfnet": {split:
    {...}}, "optimistic": ...}; store.LEGACY_VARIANT_PREFIXES), so the cards training writes are nested."""
    from backend.core.store import variant_key

    out = dict(by_policy["average"])
    for policy, variant in (("pessimistic", "nbfnet"), ("optimistic", "optimistic")):
        out.update({variant_key(variant, key): value for key, value in by_policy.get(policy, {}).items()})
    return out


def build_model(config: RedGNNConfig, n_rel: int) -> RedGNN:
    return RedGNN(n_rel, config.hidden_dim, config.attn_dim, config.n_layer, config.dropout, config.act)


#: dense edge rows (training batch × graph edges) up to which "auto" trains on a GPU with the dense step:
#: family (1.2M) and FB15k-237 (2.8M) train faster so, WN18RR (21M) does not (README's GPU tables)
DENSE_EDGE_ROWS_ON_GPU = 4_000_000


def resolve_propagation(config: RedGNNConfig, device: torch.device, n_edges: int) -> RedGNNConfig:
    """The training forward that propagation "auto" stands for on ``device`` for a graph of ``n_edges`` edges
    (inverses and self-loops included). A small step on a GPU is bound by kernel launches, so there the dense step,
    compiled where Triton is installed and replayed as one CUDA graph, trains family ×3.3 and FB15k-237 ×1.5
    faster than the sparse one (same scores); on a CPU and for large batch × graph products, the sparse one."""
    if config.propagation != "auto":
        return config
    fits_gpu = torch.device(device).type == "cuda" and config.n_batch * n_edges <= DENSE_EDGE_ROWS_ON_GPU
    if not (fits_gpu or config.compile):  # --compile alone asks for the dense step
        return dataclasses.replace(config, propagation="sparse")
    import importlib.util

    return dataclasses.replace(config, propagation="dense",
                               compile=config.compile or importlib.util.find_spec("triton") is not None)


def batch_loss_fn(model: RedGNN, config: RedGNNConfig):
    """(queries [B, 3], graph) -> summed softmax cross-entropy of a training batch, by the configured forward:
    sparse, dense (same scores, fixed shapes) or dense through torch.compile (compiled on the first batch,
    and again for a last, smaller batch)."""
    if config.propagation in ("sparse", "auto"):  # "auto" not resolved for a device (resolve_propagation): sparse
        if config.compile:
            raise ValueError("--compile needs --propagation dense (the sparse forward's shapes change every batch)")
        return lambda q, graph: softmax_cross_entropy(model(q[:, 0], q[:, 1], graph), q[:, 2])
    if config.propagation != "dense":
        raise ValueError(f"--propagation must be auto, sparse or dense, not {config.propagation!r}")

    def dense_loss(heads, q_rels, answers, edges, n_ent):
        return softmax_cross_entropy(model.forward_dense(heads, q_rels, edges, n_ent), answers)

    loss = torch.compile(dense_loss) if config.compile else dense_loss
    return lambda q, graph: loss(q[:, 0], q[:, 1], q[:, 2], graph.batched_edges(len(q)), graph.n_ent)


def uses_cuda_graphs(config: RedGNNConfig, device: torch.device) -> bool:
    """Whether the whole step is replayed as a CUDA graph: the dense forward on a GPU, unless switched off
    (the sparse forward's shapes depend on the data)."""
    return config.propagation == "dense" and config.cuda_graphs and torch.device(device).type == "cuda"


def make_train_step(model: RedGNN, optimizer: torch.optim.Optimizer, config: RedGNNConfig):
    """(queries [B, 3], graph) -> the batch's summed loss: one optimiser step, then the original's NaN guard.
    The loss and the NaN check reach the host in one transfer: one sync with the device per step. With the
    dense forward on a GPU the step (forward, backward, Adam) is captured per epoch graph as one CUDA graph
    and replayed (make_optimizer then builds a capturable Adam)."""
    batch_loss = batch_loss_fn(model, config)
    params = list(model.parameters())

    def device_step(batch: torch.Tensor, graph: EdgeIndex) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = batch_loss(batch, graph)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            has_nan = torch.isnan(torch.stack(torch._foreach_norm(params))).any()
            return torch.stack([loss.detach(), has_nan.to(loss.dtype)])

    run = CapturedStep(device_step, config.n_batch) if uses_cuda_graphs(config, params[0].device) else device_step

    def step(batch: torch.Tensor, graph: EdgeIndex) -> float:
        loss_value, nan = run(batch, graph).tolist()
        if nan:
            _redraw_nan_parameters(model)
        return loss_value

    step.captured = run if isinstance(run, CapturedStep) else None
    return step


def _epoch_queries(kg: KGData, config: RedGNNConfig, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(graph triples, training queries with inverses) for one epoch: the paper's inductive queries
    (the training graph's valid triples), or facts ∪ train re-split ``fact_ratio`` : rest."""
    if not config.resplits:
        queries = with_inverses(kg.train, kg.n_rel)
        return kg.facts, queries[torch.randperm(len(queries), generator=generator)]
    pool = torch.cat([kg.facts, kg.train])
    perm = torch.randperm(len(pool), generator=generator)
    n_facts = int(len(pool) * config.fact_ratio)
    queries = with_inverses(pool[perm[n_facts:]], kg.n_rel)
    return pool[perm[:n_facts]], queries[torch.randperm(len(queries), generator=generator)]


ARCHITECTURE = ("hidden_dim", "attn_dim", "n_layer", "act")


@dataclass
class Resume:
    """Where a continued training starts: the earlier checkpoint's selected weights, epochs and record."""

    folder: str
    state: dict
    epochs: int
    best_epoch: int
    valid_mrr: float
    valid_metrics: dict
    seconds: float
    wall_seconds: float
    history: list
    seed: int | None = None   # the earlier run's seed (the continuation draws its own epochs from config.seed)

    @classmethod
    def load(cls, folder: str, config: RedGNNConfig) -> "Resume":
        card = load_card(folder)
        if card.method != "redgnn" or card.dataset != config.dataset:
            raise ValueError(f"--init-from {folder}: that checkpoint is {card.method} on {card.dataset}, "
                             f"not redgnn on {config.dataset}")
        earlier = (card.train or {}).get("config", {})
        differ = [f"{k} {earlier.get(k)!r} vs {getattr(config, k)!r}" for k in ARCHITECTURE
                  if earlier.get(k) != getattr(config, k)]
        if differ:
            raise ValueError(f"--init-from {folder}: the architecture differs ({'; '.join(differ)})")
        train = card.train or {}
        return cls(folder=str(folder), state=load_state_dict(folder), epochs=int(train.get("epochs", 0)),
                   best_epoch=int(train.get("best_epoch", 0)), valid_mrr=float(card.metrics["valid"]["mrr"]),
                   valid_metrics=card.flat_metrics("valid"),
                   seconds=float(train.get("seconds", 0.0)), wall_seconds=float(train.get("wall_seconds", 0.0)),
                   history=list(train.get("history", [])), seed=train.get("seed"))

    def record(self) -> dict:
        return {"folder": self.folder, "epochs": self.epochs, "best_epoch": self.best_epoch,
                "seconds": self.seconds, "valid_mrr": self.valid_mrr, "seed": self.seed}


@dataclass
class Snapshot:
    """The whole training state in the middle of an epoch: a run cut off (a device's time limit, a killed job)
    continues from it with the same batches, weights and optimiser moments as if it had not stopped."""

    epoch: int                  # the epoch under way (0-based)
    next_batch: int             # its first batch not yet trained
    epoch_generator: torch.Tensor   # the query generator's state before this epoch's draw
    rng: torch.Tensor           # torch's CPU random state (dropout)
    model: dict
    optimizer: dict
    scheduler: dict
    best: dict
    history: list
    train_seconds: float        # the finished epochs' training time
    epoch_seconds: float        # and this epoch's, up to the snapshot
    wall_seconds: float
    total_loss: float
    n_trained: int
    stale: int                  # epochs without a better valid MRR (patience)
    config: dict

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(dataclasses.asdict(self), tmp)
        tmp.replace(path)   # a run killed while writing keeps the previous snapshot

    @classmethod
    def load(cls, path: str | Path, config: RedGNNConfig) -> "Snapshot":
        snap = cls(**torch.load(path, map_location="cpu", weights_only=False))
        differ = [k for k in ("dataset", "seed", "n_batch", *ARCHITECTURE) if snap.config.get(k) != getattr(config, k)]
        if differ:
            raise ValueError(f"--resume-snapshot {path}: the run differs in {', '.join(differ)}")
        return snap


def _snapshot_path(config: RedGNNConfig) -> Path | None:
    if not config.snapshot_every:
        return None
    if config.snapshot_path:
        return Path(config.snapshot_path)
    if not config.output:
        raise ValueError("--snapshot-every needs --output or --snapshot-path")
    return Path(config.output) / "snapshot.pt"


def _budget_too_short(max_seconds: float, spent: float, last_epoch_seconds: float) -> bool:
    """True when a --max-seconds budget cannot cover half of another epoch (as long as the last one).

    Starting such an epoch would stop after a few batches and still pay a full validation pass.
    """
    return bool(max_seconds) and last_epoch_seconds > 0 and max_seconds - spent < 0.5 * last_epoch_seconds


def make_optimizer(model: RedGNN, config: RedGNNConfig, lr: float | None = None) -> torch.optim.Adam:
    """Adam with L2 weight decay, as the original. (fused=True was tried: one launch per step on a GPU, but
    on family it trained consistently worse over 4 seeds of a 250-batch run on this CPU, 0.03 test MRR.)
    When the step is replayed as a CUDA graph: capturable, with the learning rate a device tensor that the
    scheduler fills in place."""
    lr = config.lr if lr is None else lr
    device = next(model.parameters()).device
    if uses_cuda_graphs(config, device):
        return torch.optim.Adam(model.parameters(), lr=torch.tensor(lr, device=device), weight_decay=config.lamb,
                                capturable=True)
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=config.lamb)


@torch.no_grad()
def _redraw_nan_parameters(model: torch.nn.Module) -> None:
    """The original's guard: NaN parameters are re-drawn uniformly from U[0, 1)."""
    for p in model.parameters():
        bad = torch.isnan(p)
        if bad.any():
            p[bad] = torch.rand_like(p)[bad]


def train(config: RedGNNConfig, progress: ProgressCallback | None = None, device=None, data_dir=None) -> Card:
    """Train, select the epoch with the best valid MRR, evaluate test, save model.pt + card.json."""
    progress = progress or NullProgress()
    device = select_device(device)
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    kg, kg_ind = load_data(config.dataset, data_dir)
    # the largest epoch graph: facts and training triples, both directions, and a self-loop per entity
    config = resolve_propagation(config, device, 2 * (len(kg.facts) + len(kg.train)) + kg.n_ent)
    log.info("training step: %s%s on %s", config.propagation, ", compiled" if config.compile else "", device)
    tasks = eval_tasks(kg, kg_ind, device)
    model = build_model(config, kg.n_rel).to(device)
    resume = Resume.load(config.init_from, config) if config.init_from else None
    first_epoch = resume.epochs if resume else 0
    if resume and first_epoch >= config.epochs:
        raise ValueError(f"--init-from {config.init_from} has trained {first_epoch} epochs already; "
                         f"pass --epochs above {first_epoch} (epochs count the earlier ones too)")
    optimizer = make_optimizer(model, config, lr=config.lr * config.decay_rate ** first_epoch)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, config.decay_rate)
    train_step = make_train_step(model, optimizer, config)
    if config.propagation == "dense" and device.type == "cpu":
        log.warning("--propagation dense on a CPU: same results, but it computes every edge for every query "
                    "(for small graphs on a GPU); the sparse forward is much faster here")
    for _ in range(first_epoch):  # the same per-epoch splits as one uninterrupted run
        _epoch_queries(kg, config, generator)

    best = {"mrr": -1.0, "epoch": -1, "state": None, "valid": None}
    history: list[dict] = []
    train_seconds = 0.0
    snap = Snapshot.load(config.resume_snapshot, config) if config.resume_snapshot else None
    snapshot_path = _snapshot_path(config)
    if snap:  # the cut-off run's state replaces the start above (its own --init-from included)
        model.load_state_dict(snap.model)
        optimizer.load_state_dict(snap.optimizer)
        scheduler.load_state_dict(snap.scheduler)
        first_epoch = snap.epoch
        generator.set_state(snap.epoch_generator)
        torch.set_rng_state(snap.rng)
        best, history, train_seconds = snap.best, snap.history, snap.train_seconds
    elif resume:  # continue from the earlier run's selected weights, keeping its record
        model.load_state_dict(resume.state)
        best = {"mrr": resume.valid_mrr, "epoch": resume.best_epoch, "state": copy.deepcopy(resume.state),
                "valid": resume.valid_metrics}
        history, train_seconds = resume.history, resume.seconds
    started = time.perf_counter() - (snap.wall_seconds if snap else resume.wall_seconds if resume else 0.0)
    budget_start = train_seconds + (snap.epoch_seconds if snap else 0.0)   # this run's budget starts now
    stale, last_epoch_seconds = (snap.stale if snap else 0), 0.0
    for epoch in range(first_epoch, config.epochs):
        if _budget_too_short(config.max_seconds, train_seconds - budget_start, last_epoch_seconds):
            log.info("stopping before epoch %d: the time budget left is under half an epoch", epoch + 1)
            break
        t0 = time.perf_counter()
        model.train()
        epoch_generator = generator.get_state()
        graph_triples, queries = _epoch_queries(kg, config, generator)
        graph = EdgeIndex(graph_triples.to(device), kg.n_ent, kg.n_rel)
        queries = queries.to(device)
        n_batches = math.ceil(len(queries) / config.n_batch)
        if config.batches_per_epoch:
            n_batches = min(n_batches, config.batches_per_epoch)
        total_loss, n_trained, out_of_time, first_batch = 0.0, 0, False, 0
        if snap and snap.epoch == epoch:
            total_loss, n_trained, first_batch = snap.total_loss, snap.n_trained, snap.next_batch
            t0 -= snap.epoch_seconds   # the cut-off part of this epoch counts in its time
        for b in range(first_batch, n_batches):
            batch = queries[b * config.n_batch:(b + 1) * config.n_batch]
            loss_value = train_step(batch, graph)
            total_loss += loss_value
            n_trained += len(batch)
            if snapshot_path and (b + 1) % config.snapshot_every == 0 and b + 1 < n_batches:
                Snapshot(epoch, b + 1, epoch_generator, torch.get_rng_state(), copy.deepcopy(model.state_dict()),
                         copy.deepcopy(optimizer.state_dict()), scheduler.state_dict(), best, history,
                         train_seconds, time.perf_counter() - t0, time.perf_counter() - started, total_loss,
                         n_trained, stale, dataclasses.asdict(config)).save(snapshot_path)
            if b % 20 == 0 or b == n_batches - 1:
                progress(ProgressEvent("batch", b + 1, n_batches, {"loss": loss_value / len(batch)}))
            if config.max_seconds and train_seconds - budget_start + time.perf_counter() - t0 > config.max_seconds:
                out_of_time = True
                break
        scheduler.step()
        last_epoch_seconds = time.perf_counter() - t0
        train_seconds += last_epoch_seconds
        valid = split_metrics(evaluate_task(model, tasks["valid"], config.n_tbatch))  # all tie policies: kept for the card
        record = {"epoch": epoch + 1, "loss": total_loss / max(1, n_trained), "queries": n_trained,
                  "valid_mrr": valid["mrr"],
                  "train_seconds": round(train_seconds, 2), "wall_seconds": round(time.perf_counter() - started, 2)}
        if config.track_test:
            record["test_mrr"] = split_metrics(evaluate_task(model, tasks["test"], config.n_tbatch, ("average",)))["mrr"]
        history.append(record)
        if valid["mrr"] > best["mrr"]:
            best = {"mrr": valid["mrr"], "epoch": epoch + 1, "state": copy.deepcopy(model.state_dict()), "valid": valid}
            stale = 0
        else:
            stale += 1
        progress(ProgressEvent("epoch", epoch + 1, config.epochs,
                               {k: v for k, v in record.items() if k in ("loss", "valid_mrr", "test_mrr")}))
        log.info("epoch %d %s", epoch + 1, record)
        if out_of_time or (config.patience and stale >= config.patience):
            break

    model.load_state_dict(best["state"])
    # the selected epoch's valid metrics were measured with these weights already: only test is ranked again,
    # once for the card and the per-relation breakdown saved beside it
    test_ranks = answer_ranks(model, tasks["test"], config.n_tbatch, with_reached=True)
    metrics = {"valid": best["valid"], "test": split_metrics(policy_metrics(test_ranks))}
    folder = Path(config.output) if config.output else (
        runs_root() / "redgnn" / config.dataset if is_imported_graph(config.dataset)  # never beside the shipped ones
        else default_model_dir("redgnn", config.dataset, "inductive" if config.inductive else "default"))
    params = count_parameters(model)
    files = {**kg.files, **(kg_ind.files if kg_ind else {})}
    card = Card(
        method="redgnn", dataset=config.dataset, setting=config.setting, metrics=metrics, protocol=PROTOCOL,
        params={**params, "adaptive": None},
        train={"seconds": round(train_seconds, 1), "wall_seconds": round(time.perf_counter() - started, 1),
               "epochs": len(history), "best_epoch": best["epoch"], "device": device_label(device),
               "cpu_threads": torch.get_num_threads(),
               "seed": config.seed, "config": dataclasses.asdict(config), "history": history,
               **({"init_from": resume.record()} if resume else {})},
        data={"files": {Path(p).name if kg_ind is None else k: sha256_file(p) for k, p in files.items()}},
        reference="zhang2022redgnn",
    )
    save_checkpoint(folder, best["state"], card)
    if snapshot_path and snapshot_path.exists():
        snapshot_path.unlink()   # the finished checkpoint supersedes it
    from . import by_relation  # it builds on this module

    by_relation.save(by_relation.frame_from_ranks(test_ranks, kg, config.resplits), folder)
    progress(ProgressEvent("done", 1, 1, {"test_mrr": metrics["test"]["mrr"]}, message=f"saved to {folder}"))
    return card
