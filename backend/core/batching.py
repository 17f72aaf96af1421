"""Batch sizes for inference where each item is computed on its own (ranking queries, scoring rows).

On a GPU a large batch is best and the method's configured size is used. On a CPU the best size depends
on the machine's caches and on how much of the graph each query touches: measured on this project's
2-core CPU, RED-GNN evaluates family fastest 16 queries at a time, umls and WN18RR 4, FB15k-237 1, and
the original's 50 is up to 2.4x slower there. So on a CPU the first batches climb from the configured
size, dividing (or multiplying) it by 4 while that is clearly faster; where they stop serves the rest.
Results do not depend on the batch size (up to float rounding, ~1e-6 relative, as matrix kernels differ
with the batch's shape), only the speed does.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch

#: on a CPU, the largest batch tried
CPU_LARGEST = 64
#: each size tried runs at least this many batches and this many items before it is timed
PROBE_BATCHES = 3
PROBE_ITEMS = 64
#: a neighbouring size replaces the current one only when it is this much faster (timings are noisy:
#: queries differ in how much of the graph they reach)
MARGIN = 1.1
#: the climb's step: per halving the gain is often under the noise, per factor 4 it shows
STEP = 4


def tuned_slices(n: int, first: int = 16, largest: int = CPU_LARGEST,
                 clock: Callable[[], float] = time.perf_counter) -> Iterator[slice]:
    """Slices covering range(n) in order. A hill climb: size ``first`` is timed over its first batches (the
    caller's work between two slices is what is timed), then divided by ``STEP`` while that is ``MARGIN``
    faster, else multiplied while that is (up to ``largest``); the size it stops at serves the rest."""
    start = 0
    rates: dict[int, float] = {}

    def probe(size: int) -> Iterator[slice]:
        nonlocal start
        began, done, batches = clock(), 0, 0
        while start < n and (batches < PROBE_BATCHES or done < PROBE_ITEMS):
            stop = min(n, start + size)
            yield slice(start, stop)
            done, start, batches = done + stop - start, stop, batches + 1
        rates[size] = done / max(clock() - began, 1e-9)

    size = max(1, min(largest, int(first)))
    yield from probe(size)
    for step in (1 / STEP, STEP):  # down first; up only if going down did not help
        moved = False
        while start < n and 1 <= int(size * step) <= largest:
            candidate = int(size * step)
            yield from probe(candidate)
            if rates[candidate] < MARGIN * rates[size]:
                break
            size, moved = candidate, True
        if moved:
            break
    while start < n:
        stop = min(n, start + size)
        yield slice(start, stop)
        start = stop


def query_slices(n: int, batch_size: int, device: torch.device | str) -> Iterator[slice]:
    """``batch_size`` items at a time on a GPU; on a CPU the fastest size found by :func:`tuned_slices`,
    starting from ``batch_size``."""
    if torch.device(device).type == "cpu":
        return tuned_slices(n, first=batch_size, largest=max(CPU_LARGEST, batch_size))
    return (slice(s, min(n, s + batch_size)) for s in range(0, n, batch_size))
