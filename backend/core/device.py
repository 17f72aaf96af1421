"""Device choice, seeding and the CPU allocator setting for training processes."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import random
import sys

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


_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed tensor memory for reuse instead of returning it to the system.

    By default every CPU tensor above ~32 MiB is a fresh mmap that the kernel zero-fills page by page,
    and freed heap tops are trimmed; message passing over large subgraphs then spends more time in
    the kernel than in arithmetic (fb237_v4 training 6.0 -> 10.6 queries/s on one thread, see README).
    For short-lived CLI/training processes only: the process keeps its peak memory until it exits.
    Returns False (and changes nothing) off glibc or when $PARSIMONY_KEEP_MEMORY=0.
    """
    if os.environ.get("PARSIMONY_KEEP_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        settings = ((_M_MMAP_THRESHOLD, 2**31 - 1), (_M_TRIM_THRESHOLD, 2**31 - 1), (_M_TOP_PAD, 256 << 20))
        return all(libc.mallopt(option, value) == 1 for option, value in settings)
    except (OSError, AttributeError):
        return False
