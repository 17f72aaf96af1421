"""Checkpoints on disk: ``model.pt`` (a state dict, loaded with weights_only=True) + ``card.json``.

A card records what a run produced and how (see DESIGN.md, "Model cards"). Cards live in
``models/<method>/<dataset>[-<setting>]/``; :func:`list_cards` finds them all.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from backend.core.files import atomic_write_text

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = PROJECT_ROOT / "models"


@dataclass
class Card:
    """Provenance and results of one trained model."""

    method: str
    dataset: str
    setting: str = "default"
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    protocol: str = ""
    params: dict[str, int | None] = field(default_factory=lambda: {"total": 0, "trainable": 0, "adaptive": None})
    train: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    software: dict[str, str] = field(default_factory=dict)
    created: str = ""
    reference: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    path: str | None = None  # folder the card was loaded from (not saved)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("path")
        return d

    @classmethod
    def from_dict(cls, d: dict, path: str | None = None) -> "Card":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "path"}
        return cls(**known, path=path)

    @property
    def folder_name(self) -> str:
        return self.dataset if self.setting in ("", "default", "transductive") else f"{self.dataset}-{self.setting}"


def count_parameters(model: torch.nn.Module) -> dict[str, int]:
    """{'total': all parameters, 'trainable': those with requires_grad}."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": int(total), "trainable": int(trainable)}


def git_commit() -> str:
    """The project's current git sha, or 'unknown' outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def software_info() -> dict[str, str]:
    return {"torch": torch.__version__, "commit": git_commit()}


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def save_checkpoint(folder: str | os.PathLike, state_dict: dict, card: Card, extras: dict[str, Any] | None = None) -> Path:
    """Save ``model.pt`` and ``card.json`` (and JSON extras such as example evidence) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not card.created:
        card.created = utc_now()
    if not card.software:
        card.software = software_info()
    tmp = folder / ".model.pt.tmp"
    torch.save({k: v.detach().cpu() if torch.is_tensor(v) else v for k, v in state_dict.items()}, tmp)
    os.replace(tmp, folder / "model.pt")
    atomic_write_text(folder / "card.json", json.dumps(card.to_dict(), indent=2, sort_keys=False) + "\n")
    for name, obj in (extras or {}).items():
        atomic_write_text(folder / name, json.dumps(obj, indent=1) + "\n")
    card.path = str(folder)
    return folder


def load_card(folder_or_file: str | os.PathLike) -> Card:
    p = Path(folder_or_file)
    if p.is_dir():
        p = p / "card.json"
    if not p.exists():
        raise FileNotFoundError(f"no card.json at {p}")
    return Card.from_dict(json.loads(p.read_text(encoding="utf-8")), path=str(p.parent))


def settings_kept_when_continued(config, folder: str | os.PathLike) -> dict:
    """The training settings that continuing the checkpoint in ``folder`` keeps from its card unless given again
    (the config class's KEPT_WHEN_CONTINUED, e.g. RED-GNN's training-query recipe); {} without a readable card."""
    names = getattr(type(config), "KEPT_WHEN_CONTINUED", ())
    try:
        earlier = (load_card(folder).train or {}).get("config") or {}
    except (FileNotFoundError, ValueError, KeyError):
        return {}  # the trainer names the missing or foreign checkpoint
    return {name: earlier[name] for name in names if name in earlier}


def load_state_dict(folder: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    p = Path(folder)
    if p.is_dir():
        p = p / "model.pt"
    return torch.load(p, map_location=map_location, weights_only=True)


def list_cards(root: str | os.PathLike | None = None, method: str | None = None) -> list[Card]:
    """Every card.json under ``root`` (default: the project's models/), sorted by method and dataset.

    An unreadable card is skipped (and logged), never fatal.
    """
    import logging

    root = Path(root) if root is not None else MODELS_DIR
    cards = []
    for p in sorted(root.glob("**/card.json")):
        try:
            card = load_card(p)
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            logging.getLogger(__name__).warning("skipping unreadable card %s: %s", p, exc)
            continue
        if method is None or card.method == method:
            cards.append(card)
    return sorted(cards, key=lambda c: (c.method, c.dataset, c.setting))


def runs_root() -> Path:
    """Where the user's own work goes (trainings started from a page, imported graphs): ``$PARSIMONY_RUNS``,
    else ``<project>/runs`` (git-ignored); shipped checkpoints stay under ``models/``."""
    env = os.environ.get("PARSIMONY_RUNS", "").strip()
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / "runs"


def default_model_dir(method: str, dataset: str, setting: str = "default") -> Path:
    name = dataset if setting in ("", "default", "transductive") else f"{dataset}-{setting}"
    return MODELS_DIR / method / name
