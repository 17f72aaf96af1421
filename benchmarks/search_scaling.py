"""How a search scales with workers and executors: candidates/hour with 1 and 2 workers, local processes vs Ray,
and each executor's overhead per candidate on a candidate that does nothing.

    python benchmarks/search_scaling.py [--seconds 1.0] [--candidates 8] [--output benchmarks/results/search-scaling-cpu.json]

The working candidate does a fixed amount of work (numpy sorts, calibrated to ``--seconds`` of one core at the
start), so on an idle machine with W free cores W workers give up to W times the candidates/hour; the overhead is (wall time of N empty candidates) / N.
Prints one JSON object (and writes it with --output).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.search import make_executor, run_search  # noqa: E402


def busy_evaluate(candidate: dict, seed: int) -> dict:
    """A fixed amount of work (candidate["iterations"] sorts of 20,000 numbers); the score is the candidate's number."""
    import numpy as np

    x = np.random.default_rng(seed).random(20_000)
    for _ in range(int(candidate["iterations"])):
        x = np.sort(x)[::-1].copy()
    return {"score": float(candidate["n"])}


def calibrate(seconds: float) -> int:
    """Sorts that take about ``seconds`` on one core of this machine now."""
    began = time.perf_counter()
    busy_evaluate({"n": 0, "iterations": 200}, 0)
    return max(1, int(200 * seconds / (time.perf_counter() - began)))


def empty_evaluate(candidate: dict, seed: int) -> dict:
    return {"score": float(candidate["n"])}


def _proposer(count: int, iterations: int):
    def propose(history, rng):
        return [] if history else [{"n": i, "iterations": iterations} for i in range(count)]
    return propose


def measure(kind: str, workers: int, evaluate, count: int, iterations: int) -> dict:
    executor = make_executor(kind, workers)
    try:
        executor.map(sys.modules['benchmarks.search_scaling']._warm, [0] * executor.workers)  # start the workers before the clock
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            result = run_search(_proposer(count, iterations), evaluate, Path(tmp) / "trajectory.jsonl", count,
                                executor=executor)
            wall = time.perf_counter() - began
    finally:
        executor.close()
    assert result.evaluated == count and result.failed == 0, result
    return {"executor": kind, "workers": workers, "candidates": count, "wall_s": round(wall, 3),
            "candidates_per_hour": round(count / wall * 3600, 1), "seconds_per_candidate": round(wall / count, 4)}


def _warm(_: int) -> int:
    return os.getpid()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="CPU seconds one working candidate burns")
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--empty", type=int, default=40, help="empty candidates for the overhead figure")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    from backend.core.ray_executor import ray_available

    import benchmarks.search_scaling as this  # workers unpickle the functions by this name, not __main__

    kinds = ["local"] + (["ray"] if ray_available()[0] else [])
    load_before = os.getloadavg()
    iterations = calibrate(args.seconds)
    throughput = [measure(k, w, this.busy_evaluate, args.candidates, iterations) for k in kinds for w in (1, 2)]
    overhead = [measure(k, w, this.empty_evaluate, args.empty, 0) for k in kinds for w in (1, 2)]
    for row in overhead:
        row["overhead_ms_per_candidate"] = round(row.pop("seconds_per_candidate") * 1000, 2)
    by = {(r["executor"], r["workers"]): r for r in throughput}
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_before": [round(v, 2) for v in load_before], "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "candidate": f"{iterations} sorts of 20,000 numbers (about {args.seconds} s of one core when calibrated)", "throughput": throughput, "overhead": overhead,
        "speedup_2_workers": {k: round(by[(k, 1)]["wall_s"] / by[(k, 2)]["wall_s"], 2) for k in kinds},
    }
    if "ray" in kinds:
        report["ray_vs_local_2_workers"] = round(by[("local", 2)]["wall_s"] / by[("ray", 2)]["wall_s"], 2)
    text = json.dumps(report, indent=1)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
