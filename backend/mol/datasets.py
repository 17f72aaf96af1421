"""The four MoleculeNet few-shot benchmarks (Tox21, SIDER, MUV, ToxCast) as per-task lists, PAR's task split.

Files (``$PARSIMONY_DATA/molecules/datasets/``, see its README): ``<name>.csv[.gz]`` (wide: smiles + one 0/1/empty
column per task, PAR task id = column index - 1) and ``tasks.csv`` (task id, name, split train|test|dropped).

Public API (stable):

- :data:`DATASETS`, :data:`VALIDATION_TASKS` (held-out *training* task ids used for model selection; the
  remaining training tasks are meta-trained on; test tasks are never used for selection).
- :func:`load_dataset` (name, data_dir=None) -> :class:`FewShotDataset` (cached per process and on disk):
  ``smiles`` / ``store`` (one graph per unique parsable molecule), ``tasks`` (list of :class:`Task`),
  ``invalid`` ([(csv row, smiles, RDKit's reason)]), ``train_tasks`` / ``val_tasks`` / ``test_tasks`` /
  ``meta_train_tasks`` (train minus validation), :meth:`FewShotDataset.task` (by id or name).
- :func:`data_sha256` (name, data_dir=None): sha256 of the dataset CSV (for cards).
"""
from __future__ import annotations

import csv
import hashlib

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from backend.mol.featurise import GraphStore

DATASETS = ("tox21", "sider", "muv", "toxcast")
FILES = {"tox21": "molecules/datasets/tox21.csv.gz", "sider": "molecules/datasets/sider.csv",
         "muv": "molecules/datasets/muv.csv.gz", "toxcast": "molecules/datasets/toxcast.csv.gz"}
TASKS_FILE = "molecules/datasets/tasks.csv"

#: held-out meta-training tasks for model selection (never the test tasks): the last training task(s) by id
VALIDATION_TASKS: dict[str, tuple[int, ...]] = {
    "tox21": (8,),             # SR-ATAD5
    "sider": (19, 20),
    "muv": (11,),
    "toxcast": tuple(range(420, 450)),   # ids 420-449 (none of them in the drop list)
}


@dataclass
class Task:
    """One property: molecule indices (into the dataset's store) with their 0/1 labels."""

    dataset: str
    task_id: int
    name: str
    split: str                 # "train" | "test" | "dropped" (from tasks.csv)
    molecules: np.ndarray      # int64 indices into FewShotDataset.store
    labels: np.ndarray         # int64 0/1, same length
    n_invalid: int = 0         # labelled rows skipped because RDKit cannot parse their SMILES

    @property
    def negatives(self) -> np.ndarray:
        return self.molecules[self.labels == 0]

    @property
    def positives(self) -> np.ndarray:
        return self.molecules[self.labels == 1]

    def __repr__(self) -> str:
        return (f"Task({self.dataset}:{self.task_id} {self.name!r}, {self.split}, "
                f"{int((self.labels == 0).sum())} neg / {int(self.labels.sum())} pos)")


@dataclass
class FewShotDataset:
    name: str
    smiles: list[str]
    store: GraphStore
    tasks: list[Task]
    invalid: list[tuple[int, str, str]] = field(default_factory=list)   # (csv data row, 1-based), smiles, reason
    sha256: str = ""

    @property
    def train_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.split == "train"]

    @property
    def val_tasks(self) -> list[Task]:
        held = set(VALIDATION_TASKS.get(self.name, ()))
        return [t for t in self.train_tasks if t.task_id in held]

    @property
    def meta_train_tasks(self) -> list[Task]:
        held = set(VALIDATION_TASKS.get(self.name, ()))
        return [t for t in self.train_tasks if t.task_id not in held]

    @property
    def test_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.split == "test"]

    def split_tasks(self, split: str) -> list[Task]:
        """"train" (all training tasks), "meta_train", "val" or "test"."""
        return {"train": self.train_tasks, "meta_train": self.meta_train_tasks, "val": self.val_tasks,
                "validation": self.val_tasks, "test": self.test_tasks}[split]

    def task(self, key) -> Task:
        """A task by PAR id (int or digit string) or by name (case-insensitive)."""
        if isinstance(key, (int, np.integer)) or (isinstance(key, str) and key.strip().isdigit()):
            k = int(key)
            for t in self.tasks:
                if t.task_id == k:
                    return t
        else:
            for t in self.tasks:
                if t.name.lower() == str(key).strip().lower():
                    return t
        raise KeyError(f"{self.name} has no task {key!r}; tasks: {', '.join(t.name for t in self.tasks)}")


def _root(data_dir) -> Path:
    from backend.core.data import resolve_data_root

    return resolve_data_root(data_dir)


def dataset_path(name: str, data_dir=None) -> Path:
    """The dataset CSV under the data root (DataMissingError naming the fetch command when absent)."""
    from backend.core.data import data_file

    if name not in FILES:
        raise KeyError(f"unknown molecule dataset {name!r}; known: {', '.join(DATASETS)}")
    return data_file(_root(data_dir), FILES[name])


def data_sha256(name: str, data_dir=None) -> str:
    from backend.core.files import sha256_file

    return sha256_file(dataset_path(name, data_dir))


def read_task_table(data_dir=None) -> list[dict]:
    """Rows of tasks.csv as dicts (task_id, n_neg, n_pos, n_invalid_smiles as ints)."""
    from backend.core.data import data_file, open_text

    with open_text(data_file(_root(data_dir), TASKS_FILE)) as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in ("task_id", "n_neg", "n_pos", "n_invalid_smiles"):
            r[k] = int(r[k])
    return rows


def _cache_dir() -> Path:
    env = os.environ.get("PARSIMONY_MOL_CACHE", "").strip()
    if env:
        return Path(env)
    import platformdirs

    from backend.core.data import APP_NAME

    return Path(platformdirs.user_cache_dir(APP_NAME)) / "mol"


def _featurised(name: str, raw: bytes, smiles_rows: list[str], sha: str):
    """(store, invalid) for the rows' SMILES; cached on disk by file sha256 (one graph per unique molecule)."""
    path = _cache_dir() / f"{name}-{sha[:16]}-v1.pt"
    if path.is_file():
        try:
            blob = torch.load(path, weights_only=False)
            store = GraphStore.__new__(GraphStore)
            store.__dict__.update(blob["store"])
            return store, blob["invalid"]
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt
            pass
    store, problems = GraphStore.from_smiles(smiles_rows)
    invalid = [(i + 1, s, reason) for i, s, reason in problems]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"store": store.__dict__, "invalid": invalid}, tmp)
        os.replace(tmp, path)
    except OSError:
        pass
    return store, invalid


@lru_cache(maxsize=8)
def _load(name: str, root: str) -> FewShotDataset:
    from backend.core.data import open_text

    path = dataset_path(name, root)
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    with open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    smiles_rows = [r[0].strip() for r in rows]
    store, invalid = _featurised(name, raw, smiles_rows, sha)
    mol_of_row = np.array([store.index.get(s, -1) for s in smiles_rows], dtype=np.int64)
    table = {r["task_id"]: r for r in read_task_table(root) if r["dataset"] == name}
    cells = np.array([r[1:] for r in rows], dtype=object)
    tasks = []
    for t, task_name in enumerate(header[1:]):
        col = cells[:, t]
        is0, is1 = col == "0", col == "1"
        labelled = (is0 | is1)
        ok = labelled & (mol_of_row >= 0)
        info = table.get(t, {})
        tasks.append(Task(dataset=name, task_id=t, name=task_name, split=info.get("split", "train"),
                          molecules=mol_of_row[ok], labels=is1[ok].astype(np.int64),
                          n_invalid=int((labelled & (mol_of_row < 0)).sum())))
    return FewShotDataset(name=name, smiles=store.smiles, store=store, tasks=tasks, invalid=invalid, sha256=sha)


def load_dataset(name: str, data_dir=None) -> FewShotDataset:
    """The dataset ``name`` featurised (one graph per unique parsable molecule) with its task split.

    Invalid SMILES are listed in ``.invalid`` with RDKit's reason and left out of every task.
    """
    name = name.lower()
    if name not in FILES:
        raise KeyError(f"unknown molecule dataset {name!r}; known: {', '.join(DATASETS)}")
    return _load(name, str(_root(data_dir)))


__all__ = ["DATASETS", "VALIDATION_TASKS", "Task", "FewShotDataset", "load_dataset", "data_sha256",
           "dataset_path", "read_task_table"]


