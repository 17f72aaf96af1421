"""The two searches over block structures, on the resumable search core (backend.core.search.run_search).

Progressive (AutoSF, ICDE 2020; kg.md 2.3): round 0 trains the non-equivalent 4-block structures; afterwards
structures of B = 6, 8, ..., 16 blocks are grown by adding two random blocks to one of the ``parents`` best
structures of the largest smaller size trained, ``sample`` such children are drawn, invalid and already-trained
equivalence classes dropped, the rest ranked by the SRF predictor and the top ``per_round`` trained; a size gets
``per_size`` candidates before the next.
Evolutionary (AutoBLM+, TPAMI 2022): the same start; the population is the ``parents`` best structures trained so far
(a child replaces the worst member when better: the same set); children by cell-wise crossover of two members
(probability 0.5, then mutation with probability 0.2) or by mutation (each cell replaced by a random value in
-4..4 with probability 2/16); ranked by the predictor, top ``per_round`` trained.

Selection uses the candidates' valid MRR only. Every candidate is keyed by its canonical form, so equivalent
structures are trained at most once per trajectory, and a killed search resumes where its file ends.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time
from pathlib import Path

import numpy as np

from backend.core.files import atomic_write_text
from backend.core.search import Candidate, SearchResult, Trajectory, TrajectoryRecord, best_record, is_ok, run_search
from backend.core.store import MODELS_DIR, runs_root

from . import structure as S
from .config import AutoBLMConfig

log = logging.getLogger(__name__)

#: mutation: each cell is redrawn with this probability (AutoBLM+)
MUTATE_CELL = 2 / 16
CROSSOVER = 0.5
MUTATE_AFTER_CROSSOVER = 0.2
#: settings a resumed search must share with the trajectory's start (else its candidates would not compare)
SEARCH_KEYS = ("dataset", "algorithm", "search_dim", "search_epochs", "lr", "lamb", "batch_size", "decay_rate", "seed",
               "per_round", "parents", "sample", "per_size")


# ------------------------------------------------------------------------------------------ predictor
def features(A) -> np.ndarray:
    """SRF features (22) and the block count scaled to [0, 1]: the predictor's input."""
    return np.concatenate([S.srf_features(A), [S.n_blocks(A) / 16.0]])


def fit_predictor(history: list[TrajectoryRecord], seed: int):
    """A small MLP (23 -> 8 -> 1, ReLU; L1 loss; AutoBLM+'s regressor, a little wider) fitted on the trained
    candidates' (features, valid MRR); returns predict(list of A) -> scores. Float64 on the CPU, seeded: the same
    history gives the same predictor (a resumed search proposes what the uninterrupted one did)."""
    import torch

    done = [r for r in history if is_ok(r)]
    if len(done) < 3:
        return lambda structures: np.zeros(len(structures))
    X = torch.tensor(np.stack([features(r["candidate"]["structure"]) for r in done]), dtype=torch.float64)
    y = torch.tensor([float(r["score"]) for r in done], dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    w1 = (torch.randn(X.shape[1], 8, generator=gen, dtype=torch.float64) * 0.3).requires_grad_()
    b1 = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    w2 = (torch.randn(8, 1, generator=gen, dtype=torch.float64) * 0.3).requires_grad_()
    b2 = torch.full((1,), float(y.mean()), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w1, b1, w2, b2], lr=0.02, weight_decay=1e-3)
    for _ in range(300):
        opt.zero_grad()
        pred = (torch.relu(X @ w1 + b1) @ w2 + b2).squeeze(1)
        loss = (pred - y).abs().mean()
        loss.backward()
        opt.step()

    def predict(structures) -> np.ndarray:
        if not structures:
            return np.zeros(0)
        Z = torch.tensor(np.stack([features(A) for A in structures]), dtype=torch.float64)
        with torch.no_grad():
            return (torch.relu(Z @ w1 + b1) @ w2 + b2).squeeze(1).numpy()

    return predict


# ------------------------------------------------------------------------------------------ proposals
def _candidate(A, generation: int) -> Candidate:
    A = S.canonical(A)
    return Candidate(spec={"structure": S.to_vector(A), "blocks": S.n_blocks(A), "generation": generation},
                     canonical=S.canonical_key(A))


def _generation(history: list[TrajectoryRecord]) -> int:
    return 1 + max((int(r.get("round", 0)) for r in history), default=-1)


def _ranked(children: dict[str, np.ndarray], history, rng, n: int, generation: int) -> list[Candidate]:
    """The ``n`` children the predictor ranks highest (ties: drawing order)."""
    if not children:
        return []
    keys = list(children)
    predict = fit_predictor(history, int(rng.integers(2 ** 31)))
    scores = predict([children[k] for k in keys])
    order = np.argsort(-scores, kind="stable")[:n]
    return [_candidate(children[keys[i]], generation) for i in order]


def _seen(history) -> set[str]:
    return {r["canonical"] for r in history if "canonical" in r}


def _add_blocks(A: np.ndarray, rng, count: int = 2) -> np.ndarray:
    child = A.copy()
    free = np.flatnonzero(child.reshape(-1) == 0)
    if len(free) < count:
        return child
    cells = rng.choice(free, size=count, replace=False)
    child.reshape(-1)[cells] = rng.integers(1, S.K + 1, size=count) * rng.choice([-1, 1], size=count)
    return child


def propose_progressive(config: dict, history: list[TrajectoryRecord], rng) -> list[Candidate]:
    """AutoSF's greedy: the 4-block structures first, then two more blocks at a time (module docstring)."""
    generation = _generation(history)
    if not history:
        return [_candidate(A, 0) for A in S.base_structures()]
    ok = [r for r in history if is_ok(r)]
    sizes = {}
    for r in history:
        sizes.setdefault(int(r["candidate"]["blocks"]), []).append(r)
    target = 6
    while target < 16 and len(sizes.get(target, [])) >= config["per_size"]:
        target += 2
    smaller = [r for r in ok if r["candidate"]["blocks"] < target]
    if not smaller:
        return []
    parent_size = max(r["candidate"]["blocks"] for r in smaller)
    parents = sorted((r for r in smaller if r["candidate"]["blocks"] == parent_size), key=lambda r: -r["score"])
    parents = [np.array(r["candidate"]["structure"]).reshape(4, 4) for r in parents[:config["parents"]]]
    seen = _seen(history)
    children: dict[str, np.ndarray] = {}
    for _ in range(config["sample"]):
        child = _add_blocks(parents[int(rng.integers(len(parents)))], rng, target - parent_size)
        if S.n_blocks(child) != target or not S.is_valid(child):
            continue
        key = S.canonical_key(child)
        if key not in seen and key not in children:
            children[key] = child
    return _ranked(children, history, rng, config["per_round"], generation)


def _mutate(A: np.ndarray, rng) -> np.ndarray:
    child = A.copy().reshape(-1)
    redraw = rng.random(child.size) < MUTATE_CELL
    child[redraw] = rng.integers(-S.K, S.K + 1, size=int(redraw.sum()))
    return child.reshape(S.K, S.K)


def propose_evolutionary(config: dict, history: list[TrajectoryRecord], rng) -> list[Candidate]:
    """AutoBLM+'s evolution (module docstring)."""
    generation = _generation(history)
    if not history:
        return [_candidate(A, 0) for A in S.base_structures()]
    ok = sorted((r for r in history if is_ok(r)), key=lambda r: -r["score"])
    population = [np.array(r["candidate"]["structure"]).reshape(4, 4) for r in ok[:config["parents"]]]
    if not population:
        return []
    seen = _seen(history)
    children: dict[str, np.ndarray] = {}
    for _ in range(config["sample"] * 20):
        if len(children) >= config["sample"]:
            break
        if len(population) > 1 and rng.random() < CROSSOVER:
            a, b = rng.choice(len(population), size=2, replace=False)
            pick = rng.random((S.K, S.K)) < 0.5
            child = np.where(pick, population[a], population[b])
            if rng.random() < MUTATE_AFTER_CROSSOVER:
                child = _mutate(child, rng)
        else:
            child = _mutate(population[int(rng.integers(len(population)))], rng)
        if not S.is_valid(child):
            continue
        key = S.canonical_key(child)
        if key not in seen and key not in children:
            children[key] = child
    return _ranked(children, history, rng, config["per_round"], generation)


PROPOSERS = {"progressive": propose_progressive, "evolutionary": propose_evolutionary}


# ------------------------------------------------------------------------------------------ evaluation
def evaluate_candidate(settings: dict, spec: dict, seed: int) -> dict:
    """Train one candidate with the search settings; score = valid MRR (top-level: picklable for worker processes)."""
    import torch

    from .train import TrainSettings, load_splits, train_structure

    torch.set_num_threads(settings.get("threads", 1))
    data = load_splits(settings["dataset"], settings.get("data_root"))
    A = np.array(spec["structure"]).reshape(4, 4)
    result = train_structure(A, data, TrainSettings(**settings["train"]), seed, device=settings.get("device"))
    return {"score": result.valid["mrr"], "metrics": {f"valid_{k}": v for k, v in result.valid.items()},
            "attributes": {"blocks": int(spec["blocks"]), "generation": int(spec.get("generation", 0)),
                           "formula": S.formula_text(A), "epochs": result.epochs,
                           "triples_per_s": round(result.triples_per_second, 1)}}


# ------------------------------------------------------------------------------------------ the search verb
def default_trajectory(config: AutoBLMConfig) -> Path:
    """runs/autoblm/<dataset>-<algorithm>/trajectory.jsonl; for "best", the shipped search when there is no run."""
    if config.trajectory:
        return Path(config.trajectory)
    own = runs_root() / "autoblm" / f"{config.dataset}-{config.algorithm}" / "trajectory.jsonl"
    shipped = MODELS_DIR / "autoblm" / config.dataset / "trajectory.jsonl"
    return own if own.exists() or not shipped.exists() else shipped


def run_trajectory(config: AutoBLMConfig) -> Path:
    """Where a search writes: --trajectory, else runs/autoblm/<dataset>-<algorithm>/trajectory.jsonl."""
    if config.trajectory:
        return Path(config.trajectory)
    return runs_root() / "autoblm" / f"{config.dataset}-{config.algorithm}" / "trajectory.jsonl"


def best_of_trajectory(path: str | Path) -> TrajectoryRecord:
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no search trajectory at {path}: run `python -m backend search autoblm --dataset ...` "
                         "first, or name a structure (DistMult, ComplEx, ... or 16 numbers)")
    best = best_record(Trajectory(path).records())
    if best is None:
        raise ValueError(f"{path} holds no finished candidate")
    return best


def search_settings(config: AutoBLMConfig, data_dir=None, device=None) -> dict:
    from .train import settings_of

    return {"dataset": config.dataset, "data_root": str(data_dir) if data_dir else None,
            "device": str(device) if device else None, "threads": 1,
            "train": dataclasses.asdict(settings_of(config, search=True))}


def _meta(config: AutoBLMConfig) -> dict:
    d = dataclasses.asdict(config)
    return {k: d.get(k, config_extra(config, k)) for k in SEARCH_KEYS}


def config_extra(config, key):
    return getattr(config, key, None)


def search(config: AutoBLMConfig, progress=None, device=None, data_dir=None, executor=None) -> SearchResult:
    """Run (or with ``config.resume``, continue) the search until ``config.budget`` candidates are trained."""
    path = run_trajectory(config)
    meta_path = path.with_name("search.json")
    meta = _meta(config)
    if path.exists() and Trajectory(path).records():
        if not config.resume:
            aside = path.with_name(f"trajectory-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
            path.rename(aside)
            log.warning("a search was there: kept as %s (pass --resume to continue one)", aside)
        elif meta_path.exists():
            earlier = json.loads(meta_path.read_text(encoding="utf-8"))
            differ = {k: (earlier.get(k), v) for k, v in meta.items() if earlier.get(k) != v}
            if differ:
                raise ValueError("--resume with other settings than the search started with: " + ", ".join(
                    f"{k} {a!r} (now {b!r})" for k, (a, b) in differ.items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(meta_path, json.dumps({**meta, "budget": config.budget}, indent=1) + "\n")
    propose = functools.partial(PROPOSERS[config.algorithm], meta)
    evaluate = functools.partial(evaluate_candidate, search_settings(config, data_dir, device))
    result = run_search(propose, evaluate, path, config.budget, executor=executor, direction="max", seed=config.seed,
                        progress=progress)
    if config.classics:
        classic_references(path, evaluate, config.seed, progress)
    return result


def classic_references(path: Path, evaluate, seed: int, progress=None) -> dict:
    """The classic structures' valid MRR under the search's candidate settings (the trajectory's record where the
    search trained one of them, else trained now with the seed a candidate of that class would get); written to
    classics.json beside the trajectory, so a page places them in the trajectory."""
    from backend.core.progress import ProgressEvent
    from backend.core.search import candidate_seed

    out_path = path.with_name("classics.json")
    done = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
    by_key = {r["canonical"]: r for r in Trajectory(path).records() if is_ok(r)}
    for n, name in enumerate(S.CLASSICS):
        A = S.canonical(S.as_matrix(name))
        key = S.canonical_key(A)
        if name in done and done[name].get("canonical") == key:
            continue
        if key in by_key:
            rec = by_key[key]
            done[name] = {"canonical": key, "score": rec["score"], "from": f"trajectory #{rec['index'] + 1}"}
        else:
            spec = {"structure": S.to_vector(A), "blocks": S.n_blocks(A), "generation": -1}
            result = evaluate(spec, candidate_seed(seed, key))
            done[name] = {"canonical": key, "score": result["score"], "from": "trained beside the search"}
        atomic_write_text(out_path, json.dumps(done, indent=1) + "\n")
        if progress is not None:
            progress(ProgressEvent("classics", n + 1, len(S.CLASSICS), {"valid_mrr": done[name]["score"]},
                                   message=f"{name}: valid MRR {done[name]['score']:.4f}"))
    return done
