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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch


from backend.core.files import atomic_write_text

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = PROJECT_ROOT / "models"


#: metric-name prefixes under which older cards kept a metric's variants beside it ("nbfnet_mrr": the MRR under
#: NBFNet's pessimistic ties, "optimistic_hits@1" ...). Cards now nest them (``Card.variants``); reading an older
#: card moves these keys, and only these, out of ``metrics`` (a metric such as ``roc_auc`` is never split).
LEGACY_VARIANT_PREFIXES = ("nbfnet", "optimistic")


def variant_key(variant: str, metric: str) -> str:
    """The flat name of ``metric`` under ``variant`` ("nbfnet", "mrr" -> "nbfnet_mrr"; "" -> the metric itself)."""
    return f"{variant}_{metric}" if variant else metric


def split_variant_keys(flat: dict[str, float]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Flat split metrics -> (plain metrics, {variant: metrics}) for the LEGACY_VARIANT_PREFIXES, order kept."""
    plain: dict[str, float] = {}
    variants: dict[str, dict[str, float]] = {}
    for key, value in flat.items():
        prefix, sep, base = key.partition("_")
        if sep and base and prefix in LEGACY_VARIANT_PREFIXES:
            variants.setdefault(prefix, {})[base] = value
        else:
            plain[key] = value
    return plain, variants


@dataclass
class Card:
    """Provenance and results of one trained model.

    ``metrics``: {split: {metric: value}}, the method's own protocol. ``variants``: the same metrics under another
    protocol, {variant: {split: {metric: value}}} (RED-GNN: {"nbfnet": ..., "optimistic": ...}, the other tie
    policies; ``Method.capabilities.variants`` titles them). ``seeds``: the metrics over several training seeds of
    the same configuration (:func:`seed_summary`), beside the shipped checkpoint's own. ``artefacts``: what a
    method produces besides weights, {name: {"kind": "formula" | "structure" | ..., "value": ...}}.

    A card built or read with flat variant keys ("nbfnet_mrr" in ``metrics[split]``, the layout before variants
    were nested) has them moved into ``variants``; :meth:`flat_metrics` gives the flat form back.
    """

    method: str
    dataset: str
    setting: str = "default"
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    variants: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    seeds: dict[str, Any] = field(default_factory=dict)
    protocol: str = ""
    params: dict[str, int | None] = field(default_factory=lambda: {"total": 0, "trainable": 0, "adaptive": None})
    train: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    software: dict[str, str] = field(default_factory=dict)
    created: str = ""
    reference: str = ""
    artefacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    path: str | None = None  # folder the card was loaded from (not saved)

    def __post_init__(self):
        metrics, variants = {}, {v: {s: dict(m) for s, m in by_split.items()}
                                 for v, by_split in (self.variants or {}).items()}
        for split, values in (self.metrics or {}).items():
            if not isinstance(values, dict):
                metrics[split] = values
                continue
            plain, moved = split_variant_keys(values)
            metrics[split] = plain
            for variant, found in moved.items():
                into = variants.setdefault(variant, {}).setdefault(split, {})
                clash = {k for k in found if k in into and into[k] != found[k]}
                if clash:
                    raise ValueError(f"card {self.method}/{self.dataset}: {variant} {split} {sorted(clash)} given "
                                     "twice with different values (flat and nested)")
                into.update(found)
        self.metrics, self.variants = metrics, variants

    def to_dict(self) -> dict:
        """The card.json form, variants nested. Flat variant keys put into ``metrics`` after the card was built
        (``card.metrics[split].update(model.evaluate(split))``) are filed under ``variants`` too, over the values
        they replace."""
        d = asdict(self)
        d.pop("path")
        for split, values in list(d["metrics"].items()):
            if isinstance(values, dict):
                d["metrics"][split], moved = split_variant_keys(values)
                for variant, found in moved.items():
                    d["variants"].setdefault(variant, {}).setdefault(split, {}).update(found)
        return d

    @classmethod
    def from_dict(cls, d: dict, path: str | None = None) -> "Card":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "path"}
        return cls(**known, path=path)

    @property
    def folder_name(self) -> str:
        return self.dataset if self.setting in ("", "default", "transductive") else f"{self.dataset}-{self.setting}"

    def metric(self, split: str, name: str, variant: str = "") -> float | None:
        """``name`` on ``split`` under ``variant`` ("" = the card's own protocol); None where not recorded."""
        source = self.metrics if not variant else (self.variants or {}).get(variant, {})
        return (source.get(split) or {}).get(name)

    def flat_metrics(self, split: str) -> dict[str, float]:
        """The older flat layout of ``split``: the plain metrics, then "<variant>_<metric>" for every variant."""
        out = dict((self.metrics or {}).get(split) or {})
        for variant, by_split in (self.variants or {}).items():
            out.update({variant_key(variant, k): v for k, v in (by_split.get(split) or {}).items()})
        return out

    def seed_text(self, split: str, name: str, digits: int = 4, variant: str = "") -> str:
        """'0.7206 ± 0.0007 (3 seeds)' for ``name`` on ``split`` over the card's seeds; '' without them."""
        summary = seed_metric(self.seeds, split, name, variant)
        if summary is None:
            return ""
        n = self.seeds.get("n") or len(self.seeds.get("seeds") or [])
        std = summary.get("std")
        spread = f" ± {std:.{digits}f}" if std is not None else ""
        return f"{summary['mean']:.{digits}f}{spread} ({n} seed{'s' if n != 1 else ''})"


def seed_metric(seeds: dict | None, split: str, name: str, variant: str = "") -> dict | None:
    """{"mean", "std"} of ``name`` on ``split`` (under ``variant``) in a card's ``seeds``; None if absent."""
    if not seeds:
        return None
    source = seeds.get("metrics") if not variant else (seeds.get("variants") or {}).get(variant)
    return ((source or {}).get(split) or {}).get(name)


def _run_of(item: Any) -> tuple[Any, dict, dict]:
    """(seed, {split: metrics}, {variant: {split: metrics}}) of one run: a Card or a dict with "seed" and either
    "metrics" (+ optional "variants") or split keys holding flat metrics (benchmarks/redgnn_seeds.py's runs)."""
    if isinstance(item, Card):
        return (item.train or {}).get("seed"), item.metrics, item.variants
    seed = item.get("seed")
    if "metrics" in item:
        card = Card(method="", dataset="", metrics=item["metrics"], variants=item.get("variants") or {})
    else:
        card = Card(method="", dataset="", metrics={k: v for k, v in item.items() if isinstance(v, dict)})
    return seed, card.metrics, card.variants


def _mean_std(values: list[float]) -> dict[str, float | None]:
    import statistics

    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else None}


def seed_summary(runs: list[Any], shipped_seed: int) -> dict[str, Any]:
    """Mean and sample standard deviation (ddof=1) of every metric over runs of one configuration with different
    seeds: {"n", "seeds", "shipped_seed", "metrics": {split: {metric: {"mean", "std"}}}, "variants": {variant:
    {split: {metric: {"mean", "std"}}}} (only where some run has variants)}.

    ``runs``: Cards, or dicts with "seed" and "metrics" (+ "variants"), or with "seed" and flat split metrics
    ({"seed": 1, "test": {"mrr": .., "nbfnet_mrr": ..}}). A metric enters only where every run has it (so every
    mean is over all n seeds); ``std`` is None for a single run. ``shipped_seed`` must be one of the runs' seeds.
    """
    parsed = [_run_of(r) for r in runs]
    seeds = [s for s, _, _ in parsed]
    if not parsed:
        raise ValueError("seed_summary needs at least one run")
    if any(s is None for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"every run needs its own seed, got {seeds}")
    if shipped_seed not in seeds:
        raise ValueError(f"the shipped seed {shipped_seed} is not among the runs' seeds {seeds}")

    def summarise(tables: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, dict]]:
        out = {}
        for split in tables[0]:
            names = [n for n in (tables[0].get(split) or {})
                     if all(t.get(split, {}).get(n) is not None for t in tables)]
            if names:
                out[split] = {n: _mean_std([float(t[split][n]) for t in tables]) for n in names}
        return out

    summary: dict[str, Any] = {"n": len(seeds), "seeds": seeds, "shipped_seed": shipped_seed,
                               "metrics": summarise([m for _, m, _ in parsed])}
    names = [v for v in (parsed[0][2] or {}) if all(v in (p[2] or {}) for p in parsed)]
    variants = {v: summarise([p[2][v] for p in parsed]) for v in names}
    if any(variants.values()):
        summary["variants"] = {v: s for v, s in variants.items() if s}
    return summary


def count_parameters(model: "torch.nn.Module") -> dict[str, int]:
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
    import torch  # here, not at the top: pages that only list cards stay free of torch's import time

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
    import torch

    torch.save({k: v.detach().cpu() if torch.is_tensor(v) else v for k, v in state_dict.items()}, tmp)
    os.replace(tmp, folder / "model.pt")
    atomic_write_text(folder / "card.json", card_json(card.to_dict()))
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


def card_json(d: dict) -> str:
    """The text of a card.json: 2-space indented JSON, keys in the card's order, a final newline."""
    return json.dumps(d, indent=2, sort_keys=False) + "\n"


def update_card(folder_or_file: str | os.PathLike, **fields: Any) -> Card:
    """Set top-level ``fields`` of a saved card.json and leave the rest of the file byte for byte as it was (an
    older card keeps its flat variant keys: only the named keys change; a new key goes where ``Card.to_dict``
    puts it). Returns the card as read back."""
    p = Path(folder_or_file)
    if p.is_dir():
        p = p / "card.json"
    text = p.read_text(encoding="utf-8")
    raw = json.loads(text)
    if card_json(raw) != text:
        raise ValueError(f"{p} is not laid out as the store writes cards; save it with save_checkpoint instead")
    order = [f for f in Card.__dataclass_fields__ if f != "path"]
    unknown = set(fields) - set(order)
    if unknown:
        raise ValueError(f"not card fields: {', '.join(sorted(unknown))}")
    rank = {name: i for i, name in enumerate(order)}
    pending = sorted((k for k in fields if k not in raw), key=rank.__getitem__)
    updated: dict[str, Any] = {}
    for key, value in raw.items():
        while pending and key in rank and rank[pending[0]] < rank[key]:
            name = pending.pop(0)
            updated[name] = fields[name]
        updated[key] = fields.get(key, value)
    updated.update({k: fields[k] for k in pending})
    text = card_json(updated)
    if json.loads(text) != updated:  # e.g. a NaN or a tuple that JSON would not give back
        raise ValueError(f"{p}: {', '.join(sorted(fields))} would not read back as given")
    card = Card.from_dict(updated, path=str(p.parent))  # a card that does not read is never written
    atomic_write_text(p, text)
    return card


def settings_kept_when_continued(config, folder: str | os.PathLike) -> dict:
    """The training settings that continuing the checkpoint in ``folder`` keeps from its card unless given again
    (the config class's KEPT_WHEN_CONTINUED, e.g. RED-GNN's training-query recipe); {} without a readable card."""
    names = getattr(type(config), "KEPT_WHEN_CONTINUED", ())
    try:
        earlier = (load_card(folder).train or {}).get("config") or {}
    except (FileNotFoundError, ValueError, KeyError):
        return {}  # the trainer names the missing or foreign checkpoint
    return {name: earlier[name] for name in names if name in earlier}


def load_state_dict(folder: str | os.PathLike, map_location: "str | torch.device" = "cpu") -> dict:
    p = Path(folder)
    if p.is_dir():
        p = p / "model.pt"
    import torch

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
        except (OSError, ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
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
