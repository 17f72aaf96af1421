"""One model card (card.json) rendered for people: metrics, size, training, data checksums, software.

Used by the model zoo and by every method page (``show_card(card)``).
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from backend.core.references import CITATIONS
from backend.core.store import Card


def format_seconds(seconds: float | None) -> str:
    """1234.5 -> '20 min 34 s'; None -> '—'."""
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_count(n: int | None) -> str:
    return "—" if n is None else f"{int(n):,}"


def metrics_frame(card: Card) -> pd.DataFrame:
    """Rows = metrics (the card's own, then each variant's as "<variant>_<metric>"), columns = splits."""
    splits = list(card.metrics or {}) + [s for by_split in (card.variants or {}).values() for s in by_split]
    frame = pd.DataFrame({split: card.flat_metrics(split) for split in dict.fromkeys(splits)
                          if isinstance((card.metrics or {}).get(split, {}), dict)})
    if frame.empty:
        return frame
    order = [c for c in ("train", "valid", "test") if c in frame.columns] + \
            [c for c in frame.columns if c not in ("train", "valid", "test")]
    frame = frame[order]
    frame.index.name = "metric"
    return frame


def seeds_sentence(card: Card, split: str = "test") -> str:
    """'Over 3 training seeds (1234, 1, 2; this checkpoint: seed 1234), test: mrr 0.9871 ± 0.0009, ...'; '' when
    the card has no seeds."""
    seeds = card.seeds or {}
    names = list(((seeds.get("metrics") or {}).get(split) or {}))
    if not names:
        return ""
    listed = ", ".join(str(s) for s in seeds.get("seeds", []))
    values = ", ".join(f"{name} {card.seed_text(split, name).rsplit(' (', 1)[0]}" for name in names)
    for variant, by_split in (seeds.get("variants") or {}).items():
        values += "".join(f", {variant} {name} {card.seed_text(split, name, variant=variant).rsplit(' (', 1)[0]}"
                          for name in (by_split.get(split) or {}))
    return (f"Over {seeds.get('n', len(seeds.get('seeds', [])))} training seeds ({listed}; this checkpoint: seed "
            f"{seeds.get('shipped_seed')}), {split}: {values} (mean ± sample std).")


def compact_text(value) -> str:
    """A structure as short text: a string as it is, a list of rows one row a line, anything else as one-line JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        return "\n".join(json.dumps(row, ensure_ascii=False) for row in value)
    return json.dumps(value, ensure_ascii=False)


def show_structure(value) -> None:
    """A structure artefact: its LaTeX where it has one, its short fields in a line, the rest as compact text."""
    if not isinstance(value, dict):
        st.code(compact_text(value), language=None)
        return
    if value.get("latex"):
        st.latex(str(value["latex"]))
    scalars = {k: v for k, v in value.items() if k not in ("latex", "formula") and not isinstance(v, (dict, list))}
    if scalars:
        st.caption(" · ".join(f"{k}: `{v}`" for k, v in scalars.items()))
    for key, part in value.items():
        if isinstance(part, (dict, list)):
            st.caption(key)
            st.code(compact_text(part), language=None)


def show_artefacts(card: Card) -> None:
    """A method's own artefacts (``card.artefacts``): a formula as LaTeX, a structure as LaTeX and short text,
    anything else as JSON."""
    for name, artefact in (card.artefacts or {}).items():
        kind, value = artefact.get("kind", ""), artefact.get("value")
        st.markdown(f"**{name}**" + (f" · {kind}" if kind and kind != name else ""))
        if kind == "formula":
            st.latex(str(value))
        elif kind == "structure":
            show_structure(value)
        else:
            st.json(value, expanded=False)


def checksums_frame(card: Card) -> pd.DataFrame:
    files = (card.data or {}).get("files", {}) or {}
    return pd.DataFrame([{"file": name, "sha256": digest} for name, digest in files.items()])


def trained_on(train: dict, short: bool = False) -> str:
    """'cpu (1 thread)', 'cuda:NVIDIA H100 80GB HBM3', ... from a card's train record; ``short`` names a GPU
    by its model alone ('H100 GPU') and leaves out CPU threads, for narrow places such as a metric tile."""
    device, threads = str(train.get("device", "unknown device")), train.get("cpu_threads")
    if threads and device.startswith("cpu") and not short:
        device += f" ({threads} thread{'s' if threads != 1 else ''})"
    if short and device.startswith("cuda"):
        words = device.partition(":")[2].replace("NVIDIA", "").split()
        device = f"{words[0]} GPU" if words else "GPU"
    return device


def training_summary(card: Card) -> str:
    """One line: device (threads), best epoch, seed, wall time, creation date."""
    train = card.train or {}
    parts = [f"Trained on **{trained_on(train)}**"]
    if train.get("best_epoch") is not None and train.get("epochs"):
        parts.append(f"model selected on valid: epoch {train['best_epoch']} of {train['epochs']}")
    if train.get("init_from"):
        earlier = train["init_from"]
        parts.append(f"continued after epoch {earlier.get('epochs')} from `{earlier.get('folder')}` "
                     f"(its selected epoch {earlier.get('best_epoch')})")
    if train.get("seed") is not None:
        parts.append(f"seed {train['seed']}")
    if train.get("wall_seconds") is not None:
        parts.append(f"{format_seconds(train['wall_seconds'])} wall time with evaluation")
    if card.created:
        parts.append(f"created {card.created}")
    return "; ".join(parts) + "."


def show_card(card: Card, *, title: str | None = None) -> None:
    """Render ``card`` (metrics table, size, training, provenance)."""
    label = title or f"{card.method} · {card.folder_name}"
    st.markdown(f"##### {label}")
    if card.protocol:
        st.caption(f"Protocol: {card.protocol}")

    left, right = st.columns([3, 2])
    with left:
        frame = metrics_frame(card)
        if frame.empty:
            st.info("This card records no metrics.")
        else:
            st.dataframe(frame.style.format("{:.4f}", na_rep="—"), width="stretch", placeholder="—")
        seeds = seeds_sentence(card)
        if seeds:
            st.caption(seeds)
    with right:
        params = card.params or {}
        train = card.train or {}
        # two tiles a row: three in a column this narrow cut a count like 1,081,976
        a, b = st.columns(2)
        a.metric("Parameters", format_count(params.get("total")))
        b.metric("Trainable", format_count(params.get("trainable")))
        c, d = st.columns(2)
        c.metric("Adaptive", format_count(params.get("adaptive")))
        d.metric("Epochs", format_count(train.get("epochs")))
        st.metric("Training time", format_seconds(train.get("seconds")))
        st.caption(training_summary(card))

    if card.artefacts:
        st.markdown("###### What the method produced besides weights")
        show_artefacts(card)

    with st.expander("Provenance: data checksums, software, configuration"):
        software = card.software or {}
        if software:
            st.markdown("  \n".join(f"**{k}**: `{v}`" for k, v in software.items()))
        sums = checksums_frame(card)
        if sums.empty:
            st.caption("No data checksums recorded.")
        else:
            st.dataframe(sums, hide_index=True, width="stretch", placeholder="—")
        extra_data = {k: v for k, v in (card.data or {}).items() if k != "files"}
        if extra_data:
            st.json(extra_data, expanded=False)
        config = (card.train or {}).get("config")
        if config:
            st.markdown("**Configuration**")
            st.json(config, expanded=False)
        if card.reference:
            st.caption("Paper: " + CITATIONS.get(card.reference, card.reference))
        if card.path:
            st.caption(f"Folder: `{card.path}`")
