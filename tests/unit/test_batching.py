"""Inference batch sizes: every item exactly once and in order, GPU batches as configured, and on a CPU the
size that the timed first batches found fastest."""
from __future__ import annotations

import os

import pytest

from backend.core import batching
from backend.core.batching import STEP, query_slices, tuned_slices


class FakeClock:
    """Time advances only when the consumer 'works' on a slice: cost(size) seconds per batch."""

    def __init__(self, cost):
        self.now, self.cost = 0.0, cost

    def __call__(self) -> float:
        return self.now

    def work(self, part: slice) -> None:
        self.now += self.cost(part.stop - part.start)


def run(n: int, cost, first: int = 16, largest: int = 64) -> list[int]:
    clock = FakeClock(cost)
    sizes, covered = [], []
    for part in tuned_slices(n, first, largest, clock):
        covered.extend(range(part.start, part.stop))
        sizes.append(part.stop - part.start)
        clock.work(part)
    assert covered == list(range(n))  # every item once, in order
    return sizes


@pytest.mark.parametrize("first", [1, 16, 64])
@pytest.mark.parametrize("best", [1, 4, 16, 64])
def test_the_fastest_size_serves_the_rest(best, first):
    """Time per item is lowest at ``best`` and grows by 30 % per doubling or halving away from it (the
    sizes are powers of 4, so the climb's steps land on ``best``)."""
    import math

    def cost(size):
        return size * (1.0 + 0.3 * abs(math.log2(size) - math.log2(best)))

    sizes = run(5000, cost, first=first)
    assert max(set(sizes), key=sizes.count) == best  # the rest runs at the best size
    tried = set(sizes[:-1])  # the last batch may be a remainder
    assert min(tried) >= min(first, best) // STEP and max(tried) <= max(first, best) * STEP  # one step past, at most


def test_the_climb_tries_few_sizes():
    """From 16 with 16 best: one step down and one up are tried, nothing else; a size that is only a little
    faster (< 10 %) does not replace the configured one."""
    sizes = run(5000, lambda size: size * (1.0 + abs(size - 16) / 16))
    assert set(sizes[:-1]) == {4, 16, 64}  # the last batch may be a remainder
    sizes = run(5000, lambda size: size * (1.0 - 0.05 * (size == 12)), first=50)
    assert max(set(sizes), key=sizes.count) == 50
    sizes = run(5000, lambda size: 0.001 * size * size, first=16)  # 1 is best: 16, 4, 1, then no larger size
    assert set(sizes[:-1]) == {1, 4, 16}


def test_short_inputs_and_the_gpu_path():
    assert run(0, lambda s: 1.0) == []
    assert run(5, lambda s: 1.0, first=1) == [1, 1, 1, 1, 1]
    assert run(5, lambda s: 1.0, first=50) == [5]  # fewer items than one batch
    gpu = list(query_slices(7, 3, "cuda"))  # configured size, no timing
    assert gpu == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert sum(p.stop - p.start for p in query_slices(100, 50, "cpu")) == 100
    assert batching.CPU_LARGEST >= 32


@pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")
def test_the_benchmark_compares_both_batchings_on_a_shipped_checkpoint(tmp_path, capsys):
    """benchmarks/redgnn_eval_batching.py: both batchings rank the same test split to the same MRR."""
    import importlib.util
    import json

    from backend.core import store

    if not (store.MODELS_DIR / "redgnn" / "nell_v1-inductive" / "card.json").exists():
        pytest.skip("nell_v1-inductive is not shipped")
    path = store.PROJECT_ROOT / "benchmarks" / "redgnn_eval_batching.py"
    spec = importlib.util.spec_from_file_location("redgnn_eval_batching", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "batching.json"
    result = module.main(["nell_v1-inductive", "--output", str(out)])
    run = result["runs"][0]
    assert run["configured"]["mrr"] == pytest.approx(run["tuned"]["mrr"], abs=1e-12)  # same ranks (float64 scores, tie rule): equal up to a mean's last bit
    card = store.load_card(store.MODELS_DIR / "redgnn" / "nell_v1-inductive")
    assert run["configured"]["mrr"] == pytest.approx(card.metrics["test"]["mrr"], abs=1e-12)
    assert run["speedup"] > 0 and json.loads(out.read_text()) == json.loads(capsys.readouterr().out)
