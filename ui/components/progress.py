"""Long computations on a page: a progress bar with the time left, and the result kept for the session.

``st.cache_data`` would replay a progress bar drawn inside the cached function, so these results live in
``st.session_state`` instead (the last few per kind), keyed by whatever decides the result.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from ui.components.model_card import format_seconds

T = TypeVar("T")
#: a computation's progress callback: (done, total, optional name of what was just done)
Progress = Callable[..., None]


def progress_line(what: str, unit: str, done: int, total: int, spent: float, name: str = "") -> str:
    """'Scoring the triples: 64 of 469 distinct queries · about 1 min 33 s left' (the time left once 2 s have
    passed; ``name``: what was just done, shown as '(last: name)')."""
    left = f" · about {format_seconds(spent * (total - done) / done)} left" if spent > 2 and 0 < done < total else ""
    last = f" (last: {name})" if name else ""
    return f"{what}: {done:,} of {total:,} {unit}{last}{left}"


def kept_with_progress(kind: str, key: Hashable, what: str, unit: str, compute: Callable[[Progress], T],
                       kept: int = 8) -> T:
    """``compute(progress)``'s result for ``key``, computed once per session while a bar shows ``what`` and its
    progress counted in ``unit``; the ``kept`` most recent results of this ``kind`` are kept."""
    results = st.session_state.setdefault(f"kept-results-{kind}", {})
    if key in results:
        return results[key]
    bar, began = st.progress(0.0, text=f"{what}…"), time.perf_counter()

    def progress(done: int, total: int, name: str = "") -> None:
        bar.progress(done / total if total else 1.0,
                     text=progress_line(what, unit, done, total, time.perf_counter() - began, name))

    try:
        result = compute(progress)
    finally:
        bar.empty()
    results[key] = result
    while len(results) > kept:
        results.pop(next(iter(results)))
    return result
