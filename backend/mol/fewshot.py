"""The shared few-shot evaluation protocol, so PAR, PACIA and the baselines are judged identically.

For each evaluation seed s (default 10 seeds: 0..9) and each task t (default: the dataset's meta-test tasks):
draw a balanced K+K support with ``episode_rng(s, t.task_id)`` (re-sampled per seed), take ALL the task's
other labelled molecules as queries (or a seeded subset of ``max_query``), call
``predict_episode(support_graphs, support_labels, query_graphs) -> probabilities of class 1`` and compute the
ROC-AUC of the task. Per seed, the task ROC-AUCs are averaged; the reported figure is the mean ± std (population
std, ddof=0) of that average over the seeds. Fractions in [0, 1] (cards and references store fractions).

Model selection uses ``tasks="val"`` (held-out *training* tasks, :data:`backend.mol.datasets.VALIDATION_TASKS`,
named in the card), never the test tasks.

Public API (stable): :func:`evaluate_fewshot`, :func:`summarise`, :data:`DEFAULT_SEEDS`.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Sequence

import numpy as np

from backend.mol.datasets import FewShotDataset, Task
from backend.mol.episodes import episode_rng, sample_test_episode
from backend.mol.featurise import GraphSet

DEFAULT_SEEDS = tuple(range(10))

PredictEpisode = Callable[[GraphSet, np.ndarray, GraphSet], "np.ndarray"]


def _resolve_tasks(dataset: FewShotDataset, tasks) -> list[Task]:
    if tasks is None:
        return dataset.test_tasks
    if isinstance(tasks, str):
        return dataset.split_tasks(tasks)
    return [t if isinstance(t, Task) else dataset.task(t) for t in tasks]


def summarise(values: Sequence[float]) -> dict:
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()) if a.size else float("nan"), "std": float(a.std()) if a.size else float("nan"),
            "n": int(a.size)}


def evaluate_fewshot(predict_episode: PredictEpisode, dataset: FewShotDataset, shots: int,
                     seeds: Iterable[int] = DEFAULT_SEEDS, tasks=None, max_query: int | None = None,
                     progress: Callable[[int, int], None] | None = None) -> dict:
    """ROC-AUC per task averaged over evaluation seeds (supports re-sampled per seed).

    ``tasks``: None (the meta-test tasks), a split name ("val", "test", "train", "meta_train"), or a list of Task
    objects / ids / names. ``max_query``: evaluate on a seeded random subset of at most that many queries per
    task and seed (None: all other labelled molecules, the papers' protocol).

    Returns ``{"roc_auc": mean over seeds, "roc_auc_std": std over seeds, "per_seed": [...],
    "per_task": {name: {"mean", "std", "n"}}, "seeds": [...], "shots", "tasks": [names], "n_queries",
    "max_query", "seconds", "queries_per_second"}``.
    """
    from sklearn.metrics import roc_auc_score

    seeds = list(seeds)
    task_list = _resolve_tasks(dataset, tasks)
    if not task_list:
        raise ValueError(f"{dataset.name}: no tasks to evaluate")
    per_seed, per_task = [], {t.name: [] for t in task_list}
    n_queries, done, total = 0, 0, len(seeds) * len(task_list)
    t0 = time.perf_counter()
    for seed in seeds:
        aucs = []
        for task in task_list:
            ep = sample_test_episode(task, shots, episode_rng(seed, task.task_id), max_query=max_query)
            probs = np.asarray(predict_episode(dataset.store.subset(ep.support), ep.support_labels,
                                               dataset.store.subset(ep.query)), dtype=float).reshape(-1)
            if probs.shape[0] != len(ep.query):
                raise ValueError(f"predict_episode returned {probs.shape[0]} probabilities for {len(ep.query)} queries")
            if not np.isfinite(probs).all():
                raise ValueError("predict_episode returned non-finite probabilities")
            auc = float(roc_auc_score(ep.query_labels, probs))
            aucs.append(auc)
            per_task[task.name].append(auc)
            n_queries += len(ep.query)
            done += 1
            if progress:
                progress(done, total)
        per_seed.append(float(np.mean(aucs)))
    seconds = time.perf_counter() - t0
    s = summarise(per_seed)
    return {"roc_auc": s["mean"], "roc_auc_std": s["std"], "per_seed": per_seed,
            "per_task": {k: summarise(v) for k, v in per_task.items()}, "seeds": seeds, "shots": shots,
            "tasks": [t.name for t in task_list], "n_queries": n_queries, "max_query": max_query,
            "seconds": seconds, "queries_per_second": n_queries / seconds if seconds > 0 else float("nan")}


__all__ = ["evaluate_fewshot", "summarise", "DEFAULT_SEEDS"]
