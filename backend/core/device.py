"""Device choice and seeding."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def select_device(requested: str | None = None) -> torch.device:
    """`requested` (e.g. from --device), else $PARSIMONY_DEVICE, else cuda when available, else cpu.

    Asking for cuda on a machine without it raises a ValueError naming what is available.
    """
    name = requested or os.environ.get("PARSIMONY_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here; use --device cpu")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def device_label(device: torch.device) -> str:
    """Human-readable device name for cards: 'cpu' or 'cuda:NVIDIA H100 80GB HBM3'."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"
