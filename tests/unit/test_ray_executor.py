"""The Ray executor (backend/core/ray_executor.py) on a local Ray cluster, on the toy search of test_search.py.

Skips only when ray cannot be imported; under CI=true a missing ray fails (requirements-dev.txt has it).
"""
from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.core.ray_executor import ray_available
from backend.core.search import Trajectory, WorkerDied, run_search

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

available, reason = ray_available()
if not available:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the Ray tests must run)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from test_search import evolve_propose, summary, toy_evaluate, trained  # noqa: E402  (tests/unit on sys.path)


def _double(n: int) -> int:
    if n == 2:
        raise ValueError("two is refused")
    return 2 * n


def _dies_once(marker: str, n: int) -> int:
    """Kills its own worker the first time it runs (the marker file says whether it has)."""
    if not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return n + 100


def _always_dies(n: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return n


def slow_evaluate(candidate, seed, log=None):
    time.sleep(0.4)
    return toy_evaluate(candidate, seed, log=log)


@pytest.fixture(scope="module")
def ray_pool():
    from backend.core.ray_executor import RayExecutor

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE)] + ([saved] if saved else []))  # workers import test_search
    try:
        with RayExecutor(workers=2, max_retries=1) as executor:
            yield executor
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def test_map_returns_values_and_the_tasks_own_errors_in_item_order(ray_pool):
    out = ray_pool.map(_double, [1, 2, 3])
    assert out[0] == 2 and out[2] == 6
    assert isinstance(out[1], ValueError) and "two is refused" in str(out[1])


def test_the_same_search_through_ray_and_serially_writes_the_same_trajectory(tmp_path, ray_pool):
    serial, on_ray = tmp_path / "serial.jsonl", tmp_path / "ray.jsonl"
    run_search(evolve_propose, toy_evaluate, serial, budget=12, seed=5)
    result = run_search(evolve_propose, toy_evaluate, on_ray, budget=12, seed=5, executor=ray_pool)
    assert result.evaluated == 12 and result.failed == 0
    assert summary(on_ray) == summary(serial)  # same candidates, order, seeds, scores and statuses
    keys = [set(r) for r in Trajectory(on_ray).records()]
    assert keys == [set(r) for r in Trajectory(serial).records()]  # same schema


def test_a_killed_worker_is_retried_and_its_candidate_finishes(tmp_path, ray_pool):
    marker = tmp_path / "died-once"
    assert ray_pool.map(functools.partial(_dies_once, str(marker)), [1]) == [101]
    assert marker.exists()  # it really died the first time


def test_a_worker_that_always_dies_is_reported_after_its_retries(ray_pool):
    out = ray_pool.map(_always_dies, [7])
    assert isinstance(out[0], WorkerDied) and "2 times" in str(out[0])
    assert ray_pool.map(_double, [4]) == [8]  # the cluster still works


DRIVER = """
import functools, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import test_ray_executor as t
from backend.core.ray_executor import RayExecutor
from backend.core.search import run_search
with RayExecutor(workers=2) as ex:
    run_search(t.evolve_propose, functools.partial(t.slow_evaluate, log=sys.argv[4]), sys.argv[3], budget=12, seed=7,
               executor=ex)
"""


def test_a_killed_driver_resumes_without_retraining_a_recorded_candidate(tmp_path, ray_pool):
    path, log = tmp_path / "trajectory.jsonl", tmp_path / "trained.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(HERE)]), "CI": ""}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(PROJECT_ROOT), str(HERE), str(path), str(log)],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while len(Trajectory(path).records()) < 4:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the driver recorded nothing in 180 s"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    recorded = [r["canonical"] for r in Trajectory(path).records()]
    assert 4 <= len(recorded) < 12
    result = run_search(evolve_propose, functools.partial(slow_evaluate, log=str(log)), path, budget=12, seed=7,
                        executor=ray_pool)
    assert result.resumed == len(recorded) and result.total == 12
    runs = trained(log)
    assert all(runs.count(c) == 1 for c in recorded), "a candidate recorded before the kill was trained again"
    fresh = tmp_path / "fresh.jsonl"
    run_search(evolve_propose, toy_evaluate, fresh, budget=12, seed=7)
    assert summary(path) == summary(fresh)  # the resumed search is the uninterrupted one


def test_the_search_command_runs_on_ray_and_matches_the_local_trajectory(tmp_path, monkeypatch, capsys, ray_pool):
    import json

    from backend import registry
    from backend.cli import main
    from tests import toy_method

    monkeypatch.setitem(registry.METHODS, "toy", toy_method.METHOD)
    outputs = {}
    for kind in ("local", "ray"):
        folder = tmp_path / kind
        assert main(["search", "toy", "--dataset", "line", "--executor", kind, "--output", str(folder)]) == 0
        outputs[kind] = json.loads(capsys.readouterr().out)
        assert outputs[kind]["evaluated"] == 3 and outputs[kind]["best"]["candidate"] == {"degree": 1}
    assert summary(tmp_path / "ray" / "trajectory.jsonl") == summary(tmp_path / "local" / "trajectory.jsonl")
    assert main(["search", "toy", "--dataset", "line", "--ray-address", "auto"]) == 2  # needs --executor ray
    assert "--ray-address needs --executor ray" in capsys.readouterr().err
