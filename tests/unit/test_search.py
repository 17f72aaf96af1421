"""Resumable searches (backend/core/search.py) on a toy problem with a known answer.

Toy: maximise -sum((x_i - 3)^2) over x in {0..4}^3. The canonical form is the sorted vector, so the
125 vectors collapse to 35 candidates and the best is "3,3,3" with score 0. ``toy_evaluate`` writes
one line per *finished* evaluation to a log file, which counts how often each candidate was trained.
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from backend.core.progress import RecordingProgress
from backend.core.search import Candidate, LocalProcessExecutor, SearchBusy, SerialExecutor, Trajectory, \
    WorkerDied, candidate_seed, records_frame, run_search

pytestmark = pytest.mark.timeout(120)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DIM, LOW, HIGH = 3, 0, 4
FIELDS = {"index", "candidate", "canonical", "score", "metrics", "seconds", "seed", "time", "attributes", "status"}


# ----------------------------------------------------------------------------------------------
# the toy search (top-level functions: picklable for the process pool)
# ----------------------------------------------------------------------------------------------

def toy_candidate(vec) -> Candidate:
    vec = [int(v) for v in vec]
    return Candidate(spec={"x": vec}, canonical=",".join(map(str, sorted(vec))))


def toy_score(x) -> float:
    return -float(sum((v - 3) ** 2 for v in x))


def exhaustive_propose(history, rng):
    """All 125 vectors in one round (permutations included), then nothing: the space is exhausted."""
    return [] if history else [toy_candidate(v) for v in itertools.product(range(LOW, HIGH + 1), repeat=DIM)]


def evolve_propose(history, rng):
    """Four a round: two one-step mutations of the best so far, then random vectors."""
    ok = [r for r in history if r["status"] == "ok"]
    out = []
    if ok:
        best = max(ok, key=lambda r: r["score"])["candidate"]["x"]
        for _ in range(2):
            v = list(best)
            i = int(rng.integers(DIM))
            v[i] = min(HIGH, max(LOW, v[i] + int(rng.choice([-1, 1]))))
            out.append(toy_candidate(v))
    while len(out) < 4:
        out.append(toy_candidate(rng.integers(LOW, HIGH + 1, size=DIM).tolist()))
    return out


def toy_evaluate(candidate, seed, log=None, fail_on=(), kill_on=(), nan_on=(), exit_after=None):
    """The toy score; ``fail_on`` raises, ``kill_on`` SIGKILLs its own process, ``nan_on`` returns NaN,
    ``exit_after=k`` ends the process (os._exit) when k evaluations are already in the log."""
    x = candidate["x"]
    canonical = ",".join(map(str, sorted(x)))
    if exit_after is not None and log and Path(log).exists() and len(Path(log).read_text().splitlines()) >= exit_after:
        os._exit(3)
    if canonical in kill_on:
        os.kill(os.getpid(), signal.SIGKILL)
    if canonical in fail_on:
        raise ValueError(f"cannot evaluate {canonical}")
    score = float("nan") if canonical in nan_on else toy_score(x)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(canonical + "\n")
    return {"score": score, "metrics": {"sum": sum(x)}, "attributes": {"max": max(x), "zeros": x.count(0)}}


def trained(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def summary(path: Path) -> list[tuple]:
    """What must not depend on workers or interruptions: candidate, canonical, score, seed, status, round."""
    return [(json.dumps(r["candidate"]), r["canonical"], r["score"], r["seed"], r["status"], r.get("round"))
            for r in Trajectory(path).records()]


@pytest.fixture(scope="module")
def pool():
    with LocalProcessExecutor(workers=2) as executor:
        yield executor


# ----------------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------------

def test_exhaustive_search_trains_each_canonical_form_once_and_finds_the_optimum(tmp_path):
    path, log = tmp_path / "trajectory.jsonl", tmp_path / "trained.log"
    result = run_search(exhaustive_propose, functools.partial(toy_evaluate, log=str(log)), path, budget=100)
    records = Trajectory(path).records()
    assert len(records) == 35 == result.evaluated and result.resumed == 0 and result.exhausted
    assert sorted(trained(log)) == sorted({r["canonical"] for r in records})  # 35 distinct, each trained once
    assert [r["index"] for r in records] == list(range(35))
    assert all(FIELDS <= set(r) and r["status"] == "ok" and r["time"].endswith("Z") for r in records)
    assert all(r["seed"] == candidate_seed(0, r["canonical"]) for r in records)
    # the first of each permutation class in proposal order is the one evaluated
    assert records[1]["candidate"] == {"x": [0, 0, 1]} and records[1]["canonical"] == "0,0,1"
    assert result.best["canonical"] == "3,3,3" and result.best["score"] == 0.0
    assert Trajectory(path).best()["index"] == result.best["index"]
    assert Trajectory(path).best("min")["canonical"] == "0,0,0" and Trajectory(path).best("min")["score"] == -27.0
    assert Trajectory(path).done_keys() == set(trained(log))


def test_evolutionary_search_best_so_far_and_progress(tmp_path):
    path, progress = tmp_path / "trajectory.jsonl", RecordingProgress()
    result = run_search(evolve_propose, toy_evaluate, path, budget=20, seed=1, progress=progress)
    records = Trajectory(path).records()
    assert len(records) == 20 and len({r["canonical"] for r in records}) == 20
    brute = max(r["score"] for r in records)
    assert result.best["score"] == brute and result.best == min((r for r in records if r["score"] == brute),
                                                                key=lambda r: r["index"])
    frame = Trajectory(path).to_frame()
    assert list(frame["evaluated"]) == list(range(1, 21))
    assert frame["best_so_far"].is_monotonic_increasing and frame["best_so_far"].iloc[-1] == brute
    assert {"attributes.max", "attributes.zeros", "metrics.sum"} <= set(frame.columns)
    events = progress.events
    assert [e.step for e in events] == list(range(21)) and {e.stage for e in events} == {"search"}
    assert all(e.total == 20 for e in events) and events[-1].metrics["best"] == brute
    assert events[-1].metrics["score"] == records[-1]["score"]
    improvements = int((frame["best_so_far"].diff().fillna(1) > 0).sum())  # the first record counts
    assert sum("new best" in e.message for e in events) == improvements


def test_resume_adds_exactly_the_missing_candidates_and_matches_an_uninterrupted_run(tmp_path):
    path, log = tmp_path / "a" / "trajectory.jsonl", tmp_path / "trained.log"
    evaluate = functools.partial(toy_evaluate, log=str(log))
    first = run_search(evolve_propose, evaluate, path, budget=5, seed=7)
    assert (first.evaluated, first.resumed, len(trained(log))) == (5, 0, 5)
    second = run_search(evolve_propose, evaluate, path, budget=12, seed=7)
    assert (second.evaluated, second.resumed, second.total) == (7, 5, 12)
    assert len(trained(log)) == 12 and len(set(trained(log))) == 12  # 7 new, none trained twice
    again = run_search(evolve_propose, evaluate, path, budget=12, seed=7)
    assert again.evaluated == 0 and len(trained(log)) == 12
    fresh = tmp_path / "b" / "trajectory.jsonl"
    run_search(evolve_propose, toy_evaluate, fresh, budget=12, seed=7)
    assert summary(path) == summary(fresh)


CRASH_SCRIPT = """
import functools, importlib.util, sys
spec = importlib.util.spec_from_file_location("toy_search", sys.argv[1])
toy = importlib.util.module_from_spec(spec); spec.loader.exec_module(toy)
from backend.core.search import run_search
evaluate = functools.partial(toy.toy_evaluate, log=sys.argv[3], exit_after=int(sys.argv[4]))
run_search(toy.evolve_propose, evaluate, sys.argv[2], budget=10, seed=3)
"""


def test_a_killed_search_resumes_without_training_a_finished_candidate_twice(tmp_path):
    path, log = tmp_path / "trajectory.jsonl", tmp_path / "trained.log"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, __file__, str(path), str(log), "6"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr  # died inside the 7th evaluation
    assert len(Trajectory(path).records()) == 6 == len(trained(log))
    result = run_search(evolve_propose, functools.partial(toy_evaluate, log=str(log)), path, budget=10, seed=3)
    assert (result.resumed, result.evaluated) == (6, 4)
    assert len(trained(log)) == 10 and len(set(trained(log))) == 10
    fresh = tmp_path / "fresh" / "trajectory.jsonl"
    run_search(evolve_propose, toy_evaluate, fresh, budget=10, seed=3)
    assert summary(path) == summary(fresh)


def test_an_interrupt_inside_evaluate_stops_the_search_and_loses_only_that_candidate(tmp_path):
    path, log = tmp_path / "trajectory.jsonl", tmp_path / "trained.log"

    def interrupted(candidate, seed):
        if len(trained(log)) == 3:
            raise KeyboardInterrupt
        return toy_evaluate(candidate, seed, log=str(log))

    with pytest.raises(KeyboardInterrupt):
        run_search(evolve_propose, interrupted, path, budget=8, seed=2)
    assert len(Trajectory(path).records()) == 3
    result = run_search(evolve_propose, functools.partial(toy_evaluate, log=str(log)), path, budget=8, seed=2)
    assert (result.resumed, result.evaluated) == (3, 5) and len(set(trained(log))) == len(trained(log)) == 8


def test_a_half_written_last_line_is_ignored_then_cut_before_the_next_append(tmp_path, caplog):
    path = tmp_path / "trajectory.jsonl"
    run_search(exhaustive_propose, toy_evaluate, path, budget=3)
    with open(path, "ab") as fh:
        fh.write(b'{"index": 3, "candidate": {"x": [1, 2')
    with caplog.at_level(logging.WARNING, logger="backend.core.search"):
        records = Trajectory(path).records()
    assert len(records) == 3 and "half-written last line" in caplog.text
    result = run_search(exhaustive_propose, toy_evaluate, path, budget=5)
    assert (result.resumed, result.evaluated) == (3, 2)
    lines = path.read_text().splitlines()
    assert len(lines) == 5 and [json.loads(line)["index"] for line in lines] == [0, 1, 2, 3, 4]


def test_failing_candidates_are_recorded_and_the_search_goes_on(tmp_path):
    path = tmp_path / "trajectory.jsonl"
    evaluate = functools.partial(toy_evaluate, fail_on=("0,0,1",), nan_on=("0,0,2",))
    result = run_search(exhaustive_propose, evaluate, path, budget=10)
    records = Trajectory(path).records()
    assert len(records) == 10 and result.failed == 2
    failed = {r["canonical"]: r for r in records if r["status"] == "failed"}
    assert set(failed) == {"0,0,1", "0,0,2"}
    assert failed["0,0,1"]["error"] == "ValueError: cannot evaluate 0,0,1" and failed["0,0,1"]["score"] is None
    assert "not finite" in failed["0,0,2"]["error"]
    assert all(r["status"] == "ok" for r in records if r["canonical"] not in failed)
    frame = records_frame(records)
    assert frame.loc[frame["status"] == "failed", "score"].isna().all()
    # failed candidates are done: a resumed search does not retry them
    assert {"0,0,1", "0,0,2"} <= Trajectory(path).done_keys()
    assert run_search(exhaustive_propose, evaluate, path, budget=10).evaluated == 0


def test_a_second_search_on_the_same_trajectory_is_refused(tmp_path):
    path = tmp_path / "trajectory.jsonl"
    with FileLock(str(Trajectory(path).run_lock_path)):
        with pytest.raises(SearchBusy):
            run_search(exhaustive_propose, toy_evaluate, path, budget=3)
    assert run_search(exhaustive_propose, toy_evaluate, path, budget=3).evaluated == 3


def _fails_on_two(n: int) -> int:
    if n == 2:
        raise ValueError("two")
    return n * 10


def test_process_pool_map_returns_results_and_exceptions_in_order(pool):
    out = pool.map(_fails_on_two, [0, 1, 2, 3])
    assert out[:2] == [0, 10] and out[3] == 30 and isinstance(out[2], ValueError)


def test_process_pool_writes_the_same_trajectory_as_serial(tmp_path, pool):
    serial, parallel = tmp_path / "serial.jsonl", tmp_path / "parallel.jsonl"
    run_search(evolve_propose, toy_evaluate, serial, budget=12, seed=5, executor=SerialExecutor())
    result = run_search(evolve_propose, toy_evaluate, parallel, budget=12, seed=5, executor=pool)
    assert result.evaluated == 12 and summary(serial) == summary(parallel)
    # a different chunking of the rounds changes nothing either
    chunked = tmp_path / "chunked.jsonl"
    run_search(evolve_propose, toy_evaluate, chunked, budget=12, seed=5, executor=pool, batch_size=3)
    assert summary(chunked) == summary(serial)


def test_a_worker_killed_mid_candidate_is_recorded_as_failed_and_the_search_completes(tmp_path, pool):
    reference = tmp_path / "reference.jsonl"
    run_search(evolve_propose, toy_evaluate, reference, budget=8, seed=4)
    victim = Trajectory(reference).records()[2]["canonical"]
    # the same search where the victim fails in-process: what the pool run must reproduce
    expected = tmp_path / "expected.jsonl"
    run_search(evolve_propose, functools.partial(toy_evaluate, fail_on=(victim,)), expected, budget=8, seed=4)
    path = tmp_path / "killed.jsonl"
    result = run_search(evolve_propose, functools.partial(toy_evaluate, kill_on=(victim,)), path, budget=8, seed=4,
                        executor=pool)
    records = Trajectory(path).records()
    assert result.evaluated == 8 and result.failed == 1
    dead = [r for r in records if r["status"] == "failed"]
    assert [r["canonical"] for r in dead] == [victim] and dead[0]["error"].startswith(WorkerDied.__name__)
    assert summary(path) == summary(expected)
    assert pool.map(_fails_on_two, [1]) == [10]  # the pool was restarted and works


def _dies_on_one(n: int) -> int:
    import time

    if n == 1:
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.5)
    return n


def test_when_a_dead_worker_takes_others_down_only_the_culprit_fails(pool):
    out = pool.map(_dies_on_one, [0, 1, 2])  # 0 is running and 2 waiting when 1 kills its worker
    assert out[0] == 0 and out[2] == 2 and isinstance(out[1], WorkerDied)


def test_a_tail_cut_inside_a_character_is_dropped_and_a_whole_record_without_newline_is_kept(tmp_path):
    path = tmp_path / "trajectory.jsonl"
    run_search(exhaustive_propose, toy_evaluate, path, budget=2)
    torn = '{"index": 2, "canonical": "é"}'.encode("utf-8")
    with open(path, "ab") as fh:
        fh.write(torn[:torn.index("é".encode("utf-8")) + 1])  # half of a two-byte character
    assert len(Trajectory(path).records()) == 2
    Trajectory(path).append({"canonical": "x", "status": "failed", "score": None})
    whole = Trajectory(path).records()
    assert [r["index"] for r in whole] == [0, 1, 2] and whole[2]["canonical"] == "x"
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # only the last newline lost: the record stays
    assert len(Trajectory(path).records()) == 3
    Trajectory(path).append({"canonical": "y", "status": "failed", "score": None})
    assert [r["canonical"] for r in Trajectory(path).records()][2:] == ["x", "y"]


def test_an_unpicklable_evaluate_is_refused_before_any_candidate_fails(tmp_path, pool):
    path = tmp_path / "trajectory.jsonl"
    with pytest.raises(TypeError, match="picklable"):
        run_search(exhaustive_propose, lambda c, s: {"score": 0.0}, path, budget=3, executor=pool)
    assert Trajectory(path).records() == []


def test_a_pool_works_while_main_is_a_script_the_children_cannot_rerun(monkeypatch):
    """Streamlit (and AppTest) replace ``__main__`` by the page's script; spawned workers would re-run it by its
    path and die. The executor hands them a bare ``__main__`` while it starts them."""
    import sys
    import types

    from backend.core.search import LocalProcessExecutor

    script = types.ModuleType("__main__")
    script.__file__, script.__spec__ = "/nonexistent/page_script.py", None
    monkeypatch.setitem(sys.modules, "__main__", script)
    with LocalProcessExecutor(workers=2) as pool:
        assert pool.map(abs, [-1, -2, 3]) == [1, 2, 3]
    assert sys.modules["__main__"] is script  # given back
