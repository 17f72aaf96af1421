"""Helpers shared by the page tests and the browser tests."""
from __future__ import annotations

import dataclasses
from pathlib import Path


def tiny_family_checkpoint(dest: Path, data_root: Path | str | None = None) -> Path:
    """A real RED-GNN checkpoint on family from 20 training batches (a few seconds on a CPU).

    Its card holds the metrics this short run really reached; pages only need a loadable model.
    """
    from backend.methods.redgnn.config import config_for
    from backend.methods.redgnn.train import train

    config = dataclasses.replace(config_for("family"), epochs=1, batches_per_epoch=20, output=str(dest))
    train(config, data_dir=str(data_root) if data_root else None)
    return dest


def page_text(at) -> str:
    """All the text an AppTest run shows: titles, headers, markdown, captions and alerts."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    return "\n".join(parts)
