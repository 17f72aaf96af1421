"""2-way K-shot episodes (PAR / PACIA sampler, reference notes section 4), seeded.

- support: K negatives then K positives of the task, uniformly without replacement (with replacement only when
  a class has fewer than K molecules); always ordered [negatives..., positives...];
- training query: ``n_query`` (16) molecules uniformly from the task's remaining molecules (not class-balanced);
- test query: ALL the task's other labelled molecules (or a seeded random subset of ``max_query`` of them; a
  subset that happens to hold one class only is redrawn with one molecule of the other class, so ROC-AUC exists).

Public API (stable): :class:`Episode`, :func:`sample_support`, :func:`sample_episode`,
:func:`sample_test_episode`, :func:`sample_meta_batch`, :func:`episode_rng`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.mol.datasets import Task


@dataclass
class Episode:
    task: Task
    shots: int
    support: np.ndarray          # molecule indices, K negatives then K positives
    support_labels: np.ndarray   # [0]*K + [1]*K
    query: np.ndarray            # molecule indices
    query_labels: np.ndarray


def episode_rng(seed: int, task_id: int = 0, salt: int = 0) -> np.random.Generator:
    """A generator determined by (seed, task id, salt): the same seed gives the same support for a task whatever
    other tasks are evaluated."""
    return np.random.default_rng([int(seed), int(task_id), int(salt)])


def _draw(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(pool, size=k, replace=len(pool) < k)


def sample_support(task: Task, shots: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into ``task.molecules``) of K negatives then K positives."""
    neg = np.flatnonzero(task.labels == 0)
    pos = np.flatnonzero(task.labels == 1)
    if len(neg) == 0 or len(pos) == 0:
        raise ValueError(f"task {task.name!r} lacks a class (negatives {len(neg)}, positives {len(pos)})")
    pick = np.concatenate([_draw(neg, shots, rng), _draw(pos, shots, rng)])
    return pick, task.labels[pick]


def sample_episode(task: Task, shots: int, n_query: int = 16, rng: np.random.Generator | None = None) -> Episode:
    """Meta-training episode: balanced support + ``n_query`` uniformly drawn other molecules."""
    rng = rng or np.random.default_rng()
    pick, lab = sample_support(task, shots, rng)
    rest = np.setdiff1d(np.arange(len(task.molecules)), pick)
    q = rng.choice(rest, size=min(n_query, len(rest)), replace=False)
    return Episode(task, shots, task.molecules[pick], lab, task.molecules[q], task.labels[q])


def sample_test_episode(task: Task, shots: int, rng: np.random.Generator | None = None,
                        max_query: int | None = None) -> Episode:
    """Meta-test episode: balanced support + all other labelled molecules of the task as queries (or a seeded
    uniform subset of ``max_query`` of them)."""
    rng = rng or np.random.default_rng()
    pick, lab = sample_support(task, shots, rng)
    rest = np.setdiff1d(np.arange(len(task.molecules)), pick)
    if max_query is not None and len(rest) > max_query:
        picked = np.sort(rng.choice(rest, size=max_query, replace=False))
        if len(np.unique(task.labels[picked])) < 2 and len(np.unique(task.labels[rest])) == 2:
            # a subset with one class has no ROC-AUC: draw again keeping one molecule of the missing class
            rest_labels = task.labels[rest]  # (not `lab`: that is the support's labels, returned below)
            minority = 1 if rest_labels.mean() < 0.5 else 0
            one = rng.choice(rest[rest_labels == minority], size=1)
            others = rng.choice(rest[rest_labels != minority], size=max_query - 1, replace=False)
            picked = np.sort(np.concatenate([one, others]))
        rest = picked
    return Episode(task, shots, task.molecules[pick], lab, task.molecules[rest], task.labels[rest])


def sample_meta_batch(tasks: list[Task], shots: int, n_query: int = 16, batch_task: int = 9,
                      rng: np.random.Generator | None = None) -> list[Episode]:
    """``batch_task`` tasks without replacement (all of them when fewer), one training episode each."""
    rng = rng or np.random.default_rng()
    chosen = rng.choice(len(tasks), size=min(batch_task, len(tasks)), replace=False)
    return [sample_episode(tasks[i], shots, n_query, rng) for i in chosen]


__all__ = ["Episode", "episode_rng", "sample_support", "sample_episode", "sample_test_episode", "sample_meta_batch"]
