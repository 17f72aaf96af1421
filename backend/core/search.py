"""Searches as first-class, resumable objects: candidates, a trajectory file, a runner, executors.

Three methods search (AutoBLM: bilinear scoring structures, ColdNAS: modulation structures, GSR:
formulas); this module is the machinery they share. No streamlit, no method-specific code.

Candidate
    A JSON-serialisable dict (``Candidate.spec``) describing one thing to evaluate, plus its
    *canonical form* (``Candidate.canonical``, a string): two equivalent candidates (a permuted
    block structure, a formula written two ways) share it and are evaluated at most once per
    trajectory. A plain dict proposed without a canonical form gets its sorted-key JSON.

Trajectory (``trajectory.jsonl``)
    One JSON line per evaluated candidate, in evaluation order::

        {"index": 0, "candidate": {...}, "canonical": "...", "score": 0.41, "metrics": {...},
         "seconds": 1.3, "seed": 123, "time": "2026-01-01T00:00:00Z", "attributes": {...},
         "status": "ok" | "failed", "error": "ValueError: ...", "round": 0}

    Appending is atomic: under a :class:`filelock.FileLock` (``.trajectory.jsonl.lock`` beside it)
    the whole line is written with one ``write``, flushed and fsync'ed; a torn tail left by a crash
    is cut off before the next append, and readers skip it with a logged warning. ``round`` is the
    proposal round the candidate came from (what makes a resumed search identical to an
    uninterrupted one, see :func:`run_search`). A running search also holds
    ``.trajectory.jsonl.run.lock``, so a second search on the same file is refused (:class:`SearchBusy`).

Runner
    :func:`run_search` alternates ``propose(history, rng) -> candidates`` and ``evaluate(candidate,
    seed) -> {"score", "metrics", "attributes"}`` in synchronous rounds until ``budget`` candidates
    are in the trajectory. Resumable; the trajectory is the same for any number of workers.

Executors
    Anything with the :class:`Executor` shape. :class:`SerialExecutor` runs in-process,
    :class:`LocalProcessExecutor` in a ``concurrent.futures`` process pool ("spawn": torch and fork
    don't mix). A later ``RayExecutor`` must implement the same contract:

    * ``workers: int`` -- how many items it evaluates at once (the runner sends rounds in chunks of
      this size unless ``batch_size`` says otherwise, so every finished chunk is on disk at once);
    * ``map(fn, items) -> list`` -- ``fn`` is a picklable top-level function of one argument,
      ``items`` a list of picklable arguments; returns one entry per item, **in item order**: the
      value ``fn(item)`` returned, or the ``BaseException`` instance that stopped it (a task error,
      a dead worker / node as a :class:`WorkerDied`, a pickling error). It must not raise for one
      item's failure and must not re-run an item that finished; it may raise for a failure of the
      executor itself, and lets ``KeyboardInterrupt`` through. (Ray: one ``ray.remote`` task per
      item, ``ray.get`` each ref in order, ``RayTaskError`` -> its ``cause``, ``WorkerCrashedError``
      / ``NodeDiedError`` -> ``WorkerDied``.)
    * ``close()`` -- releases workers; idempotent. The runner closes only executors it created.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import multiprocessing
import os
import pickle
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

from filelock import FileLock, Timeout

from backend.core.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)

Direction = Literal["max", "min"]
#: propose(history, rng) -> the next round's candidates (Candidate or plain JSON dicts)
ProposeFn = Callable[[list["TrajectoryRecord"], "np.random.Generator"], Sequence["Candidate | dict"]]
#: evaluate(candidate spec, seed) -> {"score": float, "metrics": {...}, "attributes": {...}}
EvaluateFn = Callable[[dict, int], dict]

LOCK_TIMEOUT_S = 30.0
MAX_IDLE_ROUNDS = 20  # rounds in a row proposing nothing new before a search counts as exhausted


# ----------------------------------------------------------------------------------------------
# Candidates and records
# ----------------------------------------------------------------------------------------------

def canonical_json(obj: Any) -> str:
    """Compact sorted-key JSON: the default canonical form of a candidate dict."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


@dataclass(frozen=True)
class Candidate:
    """One candidate: ``spec`` (JSON-serialisable dict passed to ``evaluate``) and its canonical form."""

    spec: dict
    canonical: str

    @classmethod
    def of(cls, spec: dict, canonical: str | None = None) -> Candidate:
        """A candidate whose canonical form defaults to :func:`canonical_json` of ``spec``."""
        return cls(spec=spec, canonical=canonical if canonical is not None else canonical_json(spec))


def as_candidate(item: Candidate | dict) -> Candidate:
    """A proposed item as a :class:`Candidate` (plain dicts get their JSON as canonical form)."""
    if isinstance(item, Candidate):
        return item
    if isinstance(item, dict):
        return Candidate.of(item)
    raise TypeError(f"propose must return Candidate objects or dicts, got {type(item).__name__}")


class TrajectoryRecord(TypedDict, total=False):
    """One line of ``trajectory.jsonl`` (``metrics``, ``error`` and ``round`` may be absent)."""

    index: int
    candidate: dict
    canonical: str
    score: float | None
    metrics: dict[str, float]
    seconds: float
    seed: int
    time: str
    attributes: dict[str, Any]
    status: Literal["ok", "failed"]
    error: str
    round: int


def candidate_seed(seed: int, canonical: str) -> int:
    """The seed a candidate is evaluated with: a function of the search seed and its canonical form
    only (never of order, worker count or resumption), in [0, 2**31)."""
    digest = hashlib.sha256(f"{seed}:{canonical}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % (2 ** 31)


def utc_now() -> str:
    """'2026-01-01T00:00:00Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_ok(record: TrajectoryRecord) -> bool:
    """A finished record with a finite score."""
    score = record.get("score")
    return record.get("status") == "ok" and isinstance(score, (int, float)) and math.isfinite(score)


def best_record(records: Iterable[TrajectoryRecord], direction: Direction = "max") -> TrajectoryRecord | None:
    """The ok record with the highest (``max``) or lowest (``min``) score; the earliest on ties."""
    _check_direction(direction)
    best = None
    for rec in records:
        if is_ok(rec) and (best is None or _better(rec["score"], best["score"], direction)):
            best = rec
    return best


def records_frame(records: Sequence[TrajectoryRecord], direction: Direction = "max") -> pd.DataFrame:
    """One row per record: index, evaluated (= index + 1), canonical, score, best_so_far, status,
    error, seconds, seed, round, time, candidate (JSON text), then ``metrics.<name>`` and
    ``attributes.<name>`` columns. best_so_far is the running best over ok records (NaN before
    the first one); failed records have a NaN score."""
    import pandas as pd

    _check_direction(direction)
    rows = []
    for rec in records:
        row = {"index": int(rec.get("index", len(rows))), "canonical": rec.get("canonical", ""),
               "score": float(rec["score"]) if is_ok(rec) else math.nan,
               "status": rec.get("status", "ok"), "error": rec.get("error", ""),
               "seconds": rec.get("seconds", math.nan), "seed": rec.get("seed"), "round": rec.get("round", 0),
               "time": rec.get("time", ""), "candidate": canonical_json(rec.get("candidate", {}))}
        row.update({f"metrics.{k}": v for k, v in (rec.get("metrics") or {}).items()})
        row.update({f"attributes.{k}": v for k, v in (rec.get("attributes") or {}).items()})
        rows.append(row)
    base = ["index", "evaluated", "canonical", "score", "best_so_far", "status", "error", "seconds", "seed",
            "round", "time", "candidate"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=base)
    frame["evaluated"] = frame["index"] + 1
    running = frame["score"].cummax() if direction == "max" else frame["score"].cummin()
    frame["best_so_far"] = running.ffill()
    extra = [c for c in frame.columns if c not in base]
    return frame[base + extra]


# ----------------------------------------------------------------------------------------------
# The trajectory file
# ----------------------------------------------------------------------------------------------

class Trajectory:
    """``trajectory.jsonl``: appended atomically under a file lock, read tolerating a torn tail."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")  # guards appends
        self.run_lock_path = self.path.with_name(f".{self.path.name}.run.lock")  # held by a running search
        self._known: tuple[int, int] | None = None  # (file size, line count) after our last append

    def _lock(self) -> FileLock:
        return FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S)

    def records(self) -> list[TrajectoryRecord]:
        """Every complete record, in file order (a half-written last line is skipped with a warning)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        records: list[TrajectoryRecord] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:  # JSONDecodeError, or UnicodeDecodeError of a cut multi-byte character
                log.warning("%s: line %d is not JSON; skipped", self.path, number)
        if tail.strip():
            try:  # a complete record whose newline was lost
                records.append(json.loads(tail))
            except ValueError:
                log.warning("%s: ignoring a half-written last line (%d bytes) left by an interrupted write",
                            self.path, len(tail))
        return records

    def done_keys(self) -> set[str]:
        """Canonical forms already in the trajectory (ok or failed): never evaluated again."""
        return {rec["canonical"] for rec in self.records() if "canonical" in rec}

    def best(self, direction: Direction = "max") -> TrajectoryRecord | None:
        """The best ok record (see :func:`best_record`), or None."""
        return best_record(self.records(), direction)

    def to_frame(self, direction: Direction = "max") -> pd.DataFrame:
        """One row per record with a best_so_far column (see :func:`records_frame`)."""
        return records_frame(self.records(), direction)

    def append(self, record: TrajectoryRecord) -> TrajectoryRecord:
        """Append one record as one line (one write, flush, fsync, under the lock); ``index`` is set to
        its position in the file. Returns the stored record."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            count = self._line_count()
            stored: TrajectoryRecord = {"index": count, **{k: v for k, v in record.items() if k != "index"}}
            line = (json.dumps(stored, default=_json_default, allow_nan=False) + "\n").encode("utf-8")
            with open(self.path, "ab") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
                self._known = (fh.tell(), count + 1)
        return stored

    def _line_count(self) -> int:
        """Complete lines in the file (call under the lock). A torn last line -- only a crashed writer
        leaves one -- is cut off, or given its newline when it is a whole record. The count is cached
        by file size, so a search appending alone does not re-read the file."""
        if not self.path.exists():
            return 0
        size = self.path.stat().st_size
        if self._known is not None and self._known[0] == size:
            return self._known[1]
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            whole = _is_json(data[keep:])
            log.warning("%s: %s a half-written last line (%d bytes) before appending", self.path,
                        "completing" if whole else "removing", len(data) - keep)
            with open(self.path, "r+b") as fh:
                if whole:  # only the newline was lost
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                else:
                    fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            data = data + b"\n" if whole else data[:keep]
        return sum(1 for line in data.split(b"\n") if line.strip())


# ----------------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------------

class WorkerDied(RuntimeError):
    """The process (or node) evaluating an item died before returning (signal, out of memory, ...)."""


class Executor(Protocol):
    """Evaluates items, possibly in parallel (the contract is in the module docstring)."""

    workers: int

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(item) or the exception it raised, ...]`` in item order."""
        ...

    def close(self) -> None: ...


class SerialExecutor:
    """In this process, one item after another (tests, tiny searches). ``KeyboardInterrupt`` passes."""

    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        results: list[Any] = []
        for item in items:
            try:
                results.append(fn(item))
            except Exception as exc:  # noqa: BLE001 - per-item failures are results
                results.append(exc)
        return results

    def close(self) -> None:
        return None

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def _importable_main():
    """While spawning workers, a ``__main__`` the children can rebuild. A spawned child re-runs its parent's
    ``__main__`` from its file unless the parent ran a module (``python -m``); a Streamlit script (or an
    AppTest's temporary one) is no such file, so the children see a bare ``__main__`` instead."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None):
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class LocalProcessExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes started with ``context`` ("spawn" or
    "forkserver"; never fork, torch and fork don't mix).

    A dead worker breaks the whole pool: the pool is restarted; when one item was unfinished it is
    the culprit (:class:`WorkerDied`), when several were, each is run again alone to find it.
    """

    def __init__(self, workers: int = 2, context: str = "spawn", initializer: Callable[..., None] | None = None,
                 initargs: tuple = ()) -> None:
        if context == "fork":
            raise ValueError("LocalProcessExecutor does not fork (torch and fork don't mix); use spawn or forkserver")
        self.workers = max(1, int(workers))
        self._context = multiprocessing.get_context(context)
        self._initializer, self._initargs = initializer, initargs
        self._pool: ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context,
                                             initializer=self._initializer, initargs=self._initargs)
        return self._pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        log.warning("process pool restarted after a worker died")

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        items = list(items)
        results: list[Any] = [None] * len(items)
        broken = self._run(fn, items, list(range(len(items))), results)
        if broken:
            self._restart()
            if len(broken) == 1:
                results[broken[0]] = WorkerDied("the worker process died while evaluating this candidate "
                                                "(killed by a signal or out of memory?)")
            else:
                for i in broken:  # one at a time: only the culprit breaks its pool again
                    if self._run(fn, items, [i], results):
                        self._restart()
                        results[i] = WorkerDied("the worker process died while evaluating this candidate "
                                                "(killed by a signal or out of memory?)")
        return results

    def _run(self, fn: Callable[[Any], Any], items: list, positions: list[int], results: list) -> list[int]:
        """Evaluate ``items[positions]`` into ``results``; returns the positions a broken pool lost."""
        futures = {}
        for i in positions:
            with _importable_main():  # workers start on demand, at a submit
                try:
                    futures[i] = self._ensure_pool().submit(fn, items[i])
                except BrokenProcessPool:
                    self._restart()
                    futures[i] = self._ensure_pool().submit(fn, items[i])
        broken = []
        for i, future in futures.items():
            try:
                results[i] = future.result()
            except BrokenProcessPool:
                broken.append(i)
            except Exception as exc:  # noqa: BLE001 - fn's error or a pickling error: this item's result
                results[i] = exc
        return broken

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalProcessExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_executor(kind: str = "local", workers: int | None = None, address: str | None = None,
                  gpus_per_candidate: float = 0.0) -> Executor:
    """The executor a search command asks for: ``local`` (serial for one worker, the default, else a process pool)
    or ``ray`` (:class:`backend.core.ray_executor.RayExecutor` at ``address``: None/"local", "auto", "ray://...";
    ``workers`` None: as many candidates at once as the cluster has CPUs)."""
    if kind == "ray":
        from backend.core.ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers, num_gpus=gpus_per_candidate)
    if kind != "local":
        raise ValueError(f"unknown executor {kind!r}: local or ray")
    return SerialExecutor() if (workers or 1) <= 1 else LocalProcessExecutor(workers=workers)


# ----------------------------------------------------------------------------------------------
# The runner
# ----------------------------------------------------------------------------------------------

class SearchBusy(RuntimeError):
    """Another search is already writing this trajectory."""


@dataclass
class SearchResult:
    """What :func:`run_search` did: the trajectory, its best record, candidates evaluated in this
    call vs found in the file at the start, wall seconds, and whether the proposals ran dry."""

    trajectory: Path
    best: TrajectoryRecord | None
    evaluated: int
    resumed: int
    seconds: float
    exhausted: bool = False
    failed: int = 0

    @property
    def total(self) -> int:
        """Records in the trajectory now."""
        return self.resumed + self.evaluated


@dataclass
class _Task:
    """What a worker receives: the evaluate function, one candidate spec and its seed (picklable)."""

    evaluate: EvaluateFn
    spec: dict
    seed: int


@dataclass
class _Outcome:
    """What a worker returns: the evaluate result or the error text, and the seconds it took."""

    seconds: float
    result: dict | None = None
    error: str = ""
    trace: str = field(default="", repr=False)


def _evaluate_task(task: _Task) -> _Outcome:
    """Runs in the worker: times ``evaluate``; an ``Exception`` becomes an error outcome."""
    began = time.perf_counter()
    try:
        result = task.evaluate(task.spec, task.seed)
    except Exception as exc:  # noqa: BLE001 - a failing candidate is a result
        return _Outcome(seconds=time.perf_counter() - began, error=f"{type(exc).__name__}: {exc}",
                        trace=traceback.format_exc())
    return _Outcome(seconds=time.perf_counter() - began, result=result)


def run_search(propose: ProposeFn, evaluate: EvaluateFn, trajectory_path: str | os.PathLike, budget: int,
               executor: Executor | None = None, direction: Direction = "max", seed: int = 0,
               progress: ProgressCallback | None = None, batch_size: int | None = None) -> SearchResult:
    """Evaluate proposed candidates until ``budget`` records (ok or failed) are in the trajectory.

    Round r: ``propose(history, rng)`` with history = the records of rounds < r (in file order)
    and ``rng = numpy.random.default_rng([seed, r])``; proposals are made unique by canonical
    form, those already in the file are dropped, the rest (cut to the budget left) go to the
    executor in chunks of ``batch_size`` (default ``executor.workers``) and each chunk's records are
    appended in proposal order. ``evaluate(spec, seed)`` gets :func:`candidate_seed`; one that raises
    (or returns no finite ``score``) is recorded as failed and the search goes on.

    Resuming: the file is read first; the search restarts at the last round it holds, re-proposes
    it from the same history and rng and skips what is done, so a search interrupted (even killed)
    and resumed writes the same trajectory as one that never stopped, whatever the worker count.
    The search stops early (``exhausted``) when propose returns nothing, or nothing new for
    ``MAX_IDLE_ROUNDS`` rounds. ``executor=None`` runs serially; a given executor is not closed.
    """
    _check_direction(direction)
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    trajectory = Trajectory(trajectory_path)
    trajectory.path.parent.mkdir(parents=True, exist_ok=True)
    run_lock = FileLock(str(trajectory.run_lock_path), timeout=0)
    try:
        run_lock.acquire()
    except Timeout:
        raise SearchBusy(f"another search is writing {trajectory.path}") from None
    own_executor = executor is None
    executor = executor if executor is not None else SerialExecutor()
    began = time.perf_counter()
    try:
        _check_picklable(evaluate, executor)
        records = trajectory.records()
        resumed = len(records)
        state = _State(records=records, budget=budget, direction=direction, progress=progress)
        state.emit(message=f"resumed {resumed} candidates from {trajectory.path}" if resumed else "search started")
        chunk = max(1, int(batch_size or getattr(executor, "workers", 1) or 1))
        exhausted = _search_rounds(propose, evaluate, trajectory, state, executor, seed, chunk)
        return SearchResult(trajectory=trajectory.path, best=best_record(records, direction),
                            evaluated=len(records) - resumed, resumed=resumed,
                            seconds=time.perf_counter() - began, exhausted=exhausted,
                            failed=sum(1 for rec in records[resumed:] if rec.get("status") == "failed"))
    finally:
        if own_executor:
            executor.close()
        run_lock.release()


def _search_rounds(propose: ProposeFn, evaluate: EvaluateFn, trajectory: Trajectory, state: _State,
                   executor: Executor, seed: int, chunk: int) -> bool:
    """Rounds until the budget is spent; True when the proposals ran dry first (see :func:`run_search`)."""
    import numpy as np

    records = state.records
    round_no = max((_round(rec) for rec in records), default=0)
    idle = 0
    while len(records) < state.budget:
        history = [rec for rec in records if _round(rec) < round_no]
        proposed = [_checked_candidate(c) for c in propose(history, np.random.default_rng([seed, round_no]))]
        if not proposed:
            log.info("propose returned no candidates in round %d: search space exhausted", round_no)
            return True
        pending = _new_candidates(proposed, {rec["canonical"] for rec in records if "canonical" in rec})
        pending = pending[:state.budget - len(records)]
        resumed_round = any(_round(rec) == round_no for rec in records)
        idle = 0 if pending or resumed_round else idle + 1
        if idle >= MAX_IDLE_ROUNDS:
            log.warning("no new candidate in %d rounds: stopping at %d of %d", idle, len(records), state.budget)
            return True
        for start in range(0, len(pending), chunk):
            _evaluate_chunk(pending[start:start + chunk], evaluate, trajectory, state, executor, seed, round_no)
        round_no += 1
    return False


def _evaluate_chunk(part: list[Candidate], evaluate: EvaluateFn, trajectory: Trajectory, state: _State,
                    executor: Executor, seed: int, round_no: int) -> None:
    """One ``executor.map`` call; the records are appended in proposal order."""
    tasks = [_Task(evaluate, c.spec, candidate_seed(seed, c.canonical)) for c in part]
    outcomes = executor.map(_evaluate_task, tasks)
    if len(outcomes) != len(tasks):
        raise RuntimeError(f"{type(executor).__name__}.map returned {len(outcomes)} results for {len(tasks)} items")
    for cand, task, outcome in zip(part, tasks, outcomes):
        stored = trajectory.append(_record(cand, task.seed, round_no, outcome))
        state.records.append(stored)
        state.add(stored)


def _round(record: TrajectoryRecord) -> int:
    return int(record.get("round", 0))


def _check_picklable(evaluate: EvaluateFn, executor: Executor) -> None:
    """Out-of-process executors need a picklable (top-level) evaluate: say so before any candidate fails."""
    if isinstance(executor, SerialExecutor):
        return
    try:
        pickle.dumps(evaluate)
    except Exception as exc:  # noqa: BLE001 - PicklingError, AttributeError, TypeError ...
        raise TypeError(f"evaluate must be picklable (a top-level function or a functools.partial of one) "
                        f"to run in {type(executor).__name__}: {exc}") from exc


@dataclass
class _State:
    """Running best and progress events of one run."""

    records: list[TrajectoryRecord]
    budget: int
    direction: Direction
    progress: ProgressCallback | None
    best: float | None = None

    def __post_init__(self) -> None:
        found = best_record(self.records, self.direction)
        self.best = found["score"] if found else None

    def add(self, record: TrajectoryRecord) -> None:
        """One event per record; a message only for a new best or a failure (the CLI prints messages)."""
        metrics: dict[str, float] = {}
        message = ""
        if is_ok(record):
            metrics["score"] = float(record["score"])
            if self.best is None or _better(record["score"], self.best, self.direction):
                self.best = float(record["score"])
                message = f"#{record['index'] + 1} new best {record['score']:.4g}: {record['canonical']}"
        else:
            message = f"#{record['index'] + 1} failed: {record['canonical']} ({record.get('error', '')})"
        self.emit(message=message, metrics=metrics)

    def emit(self, message: str, metrics: dict[str, float] | None = None) -> None:
        if self.progress is None:
            return
        metrics = dict(metrics or {})
        if self.best is not None:
            metrics["best"] = float(self.best)
        self.progress(ProgressEvent(stage="search", step=min(len(self.records), self.budget), total=self.budget,
                                    metrics=metrics, message=message))


def _checked_candidate(item: Candidate | dict) -> Candidate:
    """A proposed item as a Candidate whose spec is strict JSON (a programming error otherwise)."""
    cand = as_candidate(item)
    try:
        json.dumps(cand.spec, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"candidate {cand.canonical!r} is not JSON-serialisable: {exc}") from exc
    if not isinstance(cand.canonical, str):
        raise TypeError(f"a canonical form must be a string, got {type(cand.canonical).__name__}")
    return cand


def _new_candidates(proposed: Sequence[Candidate], done: set[str]) -> list[Candidate]:
    """Proposal order kept; the first of each canonical form not in ``done``."""
    seen = set(done)
    fresh = []
    for cand in proposed:
        if cand.canonical not in seen:
            seen.add(cand.canonical)
            fresh.append(cand)
    return fresh


def _record(cand: Candidate, seed: int, round_no: int, outcome: Any) -> TrajectoryRecord:
    """The trajectory record of one outcome (an :class:`_Outcome`, or an exception from the executor)."""
    record: TrajectoryRecord = {"candidate": cand.spec, "canonical": cand.canonical, "score": None, "metrics": {},
                                "seconds": 0.0, "seed": seed, "time": utc_now(), "attributes": {},
                                "status": "failed", "round": round_no}
    if isinstance(outcome, BaseException):
        record["error"] = f"{type(outcome).__name__}: {outcome}"
    elif not isinstance(outcome, _Outcome):
        record["error"] = f"executor returned {type(outcome).__name__}, not an outcome"
    else:
        record["seconds"] = round(outcome.seconds, 6)
        if outcome.error:
            record["error"] = outcome.error
            log.debug("candidate %s failed:\n%s", cand.canonical, outcome.trace)
        else:
            record.update(_checked_result(outcome.result))
    if record["status"] == "failed":
        log.warning("candidate %s failed: %s", cand.canonical, record.get("error", ""))
    return record


def _checked_result(result: Any) -> dict:
    """score / metrics / attributes of an evaluate result, or a failure saying what is wrong with it."""
    if not isinstance(result, dict) or "score" not in result:
        return {"error": f"evaluate returned {type(result).__name__} without a 'score'"}
    try:
        score = float(result["score"])
    except (TypeError, ValueError):
        return {"error": f"score is not a number: {result['score']!r}"}
    metrics = {k: _plain(v) for k, v in (result.get("metrics") or {}).items()}
    attributes = {k: _plain(v) for k, v in (result.get("attributes") or {}).items()}
    if not math.isfinite(score):
        return {"error": f"score is not finite: {score}", "metrics": metrics, "attributes": attributes}
    try:
        json.dumps([metrics, attributes], allow_nan=False)
    except (TypeError, ValueError) as exc:
        return {"error": f"metrics or attributes are not JSON: {exc}"}
    return {"score": score, "metrics": metrics, "attributes": attributes, "status": "ok"}


def _plain(value: Any) -> Any:
    """numpy / torch scalars as Python numbers; non-finite floats as None (strict JSON)."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if hasattr(obj, "tolist") and callable(obj.tolist):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return False
    return True


def _better(a: float, b: float, direction: Direction) -> bool:
    return a > b if direction == "max" else a < b


def _check_direction(direction: str) -> None:
    if direction not in ("max", "min"):
        raise ValueError(f"direction must be 'max' or 'min', got {direction!r}")
