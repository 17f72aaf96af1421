"""Shared helpers of the EmerGNN tests: the data root check and the shipped checkpoints."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {s: PROJECT_ROOT / "models" / "emergnn" / f"drugbank-{s}" for s in ("S0", "S1", "S2")}


def require_ddi(data_root) -> Path:
    root = Path(data_root) / "ddi"
    if not (root / "drugbank" / "emergnn" / "node2id.json").exists() or not (root / "hetionet" / "edges").is_dir():
        pytest.skip(f"the ddi data are not under {data_root}: python -m backend fetch-data drugbank hetionet")
    return root


def require_shipped(setting: str) -> Path:
    folder = SHIPPED[setting]
    if not (folder / "card.json").exists():
        pytest.skip(f"no shipped EmerGNN {setting} checkpoint at {folder}")
    return folder


def fresh_checkpoint(folder: Path, data_root, setting: str = "S1") -> Path:
    """An EmerGNN checkpoint with freshly initialised weights (seed 0) and a minimal card: enough to load, predict
    and explain (the page and CSV tests need no trained model)."""
    import dataclasses

    import torch

    from backend.core import store
    from backend.methods.emergnn.config import config_for
    from backend.methods.emergnn.task import Task
    from backend.methods.emergnn.train import build_model

    folder = Path(folder)
    if (folder / "card.json").exists():
        return folder
    config = dataclasses.replace(config_for("drugbank", setting), valid_pairs=64, test_pairs=64).resolved()
    torch.manual_seed(0)
    model = build_model(config, Task(config.setting, config.split_kind, str(data_root)))
    card = store.Card("emergnn", "drugbank", setting, metrics={"test": {"f1": 0.0, "accuracy": 0.0, "kappa": 0.0}},
                      params={"total": 0, "trainable": 0, "adaptive": None},
                      train={"device": "cpu", "seed": 0, "epochs": 0, "config": dataclasses.asdict(config)},
                      extras={"notes": ["untrained weights (tests)"]})
    store.save_checkpoint(folder, model.state_dict(), card)
    return folder


@functools.lru_cache(maxsize=2)
def fresh_model(data_root: str, setting: str = "S1"):
    """A loaded freshly initialised checkpoint, shared by every test of the session (loading costs seconds)."""
    import tempfile

    from backend.registry import get_method

    folder = fresh_checkpoint(Path(tempfile.mkdtemp(prefix="emergnn-fresh-")) / setting, data_root, setting)
    return get_method("emergnn").open(folder, data_dir=data_root)


@functools.lru_cache(maxsize=2)
def shipped_model(data_root: str, setting: str):
    from backend.registry import get_method

    return get_method("emergnn").open(require_shipped(setting), data_dir=data_root)
