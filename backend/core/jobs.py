"""Background jobs for the dashboard: one detached process per job, a log, a progress file.

A job lives in its own folder ``<jobs_dir>/<id>/``::

    job.json        id, label, argv, module, command, pid (supervisor = process group), child_pid,
                    started, status (+ ended, exit_code, cancelled)
    progress.jsonl  ProgressEvent lines written by the job (:class:`~backend.core.progress.FileProgress`)
    log.txt         the job's stdout and stderr
    exit_code       written by the supervisor when the command ends (absent while it runs)
    .lock           filelock guarding job.json (supervisor and ``cancel_job`` both update it)

:func:`start_job` runs ``python -m backend.core.jobs _start <jobdir> -- <command...>``, which forks a
supervisor into a new session (so it outlives the Streamlit page that started it and is never a
zombie child of the page), prints the supervisor's pid and returns at once. The supervisor runs
the command in its own process group, waits for it and records the exit code. ``cancel_job``
signals the whole group. Every JSON file is written to a temporary name and renamed into place.

This module deliberately imports neither torch nor streamlit: the page polls it every two seconds
and the supervisor should start fast.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from backend.core.files import atomic_write_text
from backend.core.progress import ProgressEvent, read_progress_file

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATES = ("running", "finished", "failed", "cancelled")
LOG_TAIL_LINES = 40
_LOG_TAIL_BYTES = 64 * 1024


class JobNotFound(LookupError):
    """No job with that id under the jobs folder."""


@dataclass
class Job:
    """A started job. ``pid`` is the supervisor's pid, which is also its process-group id."""

    id: str
    dir: Path
    label: str
    argv: list[str]
    pid: int
    started: float
    module: str = "backend"

    @property
    def progress_file(self) -> Path:
        return self.dir / "progress.jsonl"

    @property
    def log_file(self) -> Path:
        return self.dir / "log.txt"


@dataclass
class JobStatus:
    """What a page shows about a job at one moment.

    state: one of running / finished / failed / cancelled; exit_code: None while running (or when
    the process vanished without recording one); events: every ProgressEvent so far; fraction:
    completed fraction of the outermost stage (None if unknown); log_tail: last lines of the log;
    elapsed: seconds since start (until the end for a job that is over); message: a sentence for
    the user when something went wrong.
    """

    state: str
    exit_code: int | None
    events: list[ProgressEvent] = field(default_factory=list)
    fraction: float | None = None
    log_tail: str = ""
    elapsed: float = 0.0
    message: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def done(self) -> bool:
        return self.state != "running"

    @property
    def last_event(self) -> ProgressEvent | None:
        return self.events[-1] if self.events else None


# ----------------------------------------------------------------------------- files


def default_jobs_dir() -> Path:
    """``$PARSIMONY_JOBS`` if set, else ``<project>/jobs``."""
    env = os.environ.get("PARSIMONY_JOBS")
    return Path(env).expanduser() if env else PROJECT_ROOT / "jobs"


def _jobs_dir(jobs_dir: str | os.PathLike | None) -> Path:
    return Path(jobs_dir) if jobs_dir is not None else default_jobs_dir()


def _lock(jobdir: Path) -> FileLock:
    return FileLock(str(jobdir / ".lock"), timeout=10)


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _update_job_json(jobdir: Path, **changes) -> dict:
    """Read-modify-write job.json under the job's lock; returns the new content."""
    with _lock(jobdir):
        meta = _read_json(jobdir / "job.json")
        meta.update(changes)
        atomic_write_text(jobdir / "job.json", json.dumps(meta, indent=1) + "\n")
    return meta


def _job_from_meta(meta: dict, jobdir: Path) -> Job:
    return Job(id=str(meta["id"]), dir=jobdir, label=str(meta.get("label", "")), argv=list(meta.get("argv", [])),
               pid=int(meta["pid"]), started=float(meta["started"]), module=str(meta.get("module", "backend")))


def _read_exit_code(jobdir: Path) -> int | None:
    try:
        return int((jobdir / "exit_code").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- processes


def _pid_alive(pid: int, jobdir: Path | None = None) -> bool:
    """True if ``pid`` is a live (non-zombie) process — and, where /proc tells, this job's supervisor."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        if jobdir is not None:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            return jobdir.name in cmdline  # guards against a recycled pid
    except (OSError, IndexError):
        pass
    return True


def _group_alive(pgid: int) -> bool:
    """True while any non-zombie process is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields: state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def start_job(argv: list[str], jobs_dir: str | os.PathLike | None = None, label: str = "",
              module: str = "backend") -> Job:
    """Start ``python -m <module> <argv...> --progress-file <jobdir>/progress.jsonl`` in the background.

    The command runs with cwd = project root, PYTHONUNBUFFERED=1, stdout+stderr to log.txt, in a
    new session, under a supervisor that records its exit code. Returns at once.
    """
    root = _jobs_dir(jobs_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    jobdir = root / job_id
    jobdir.mkdir()
    progress = jobdir / "progress.jsonl"
    command = [sys.executable, "-m", module, *map(str, argv), "--progress-file", str(progress)]
    started = time.time()
    meta = {"id": job_id, "label": label, "argv": [str(a) for a in argv], "module": module, "command": command,
            "pid": None, "started": started, "status": "starting"}
    atomic_write_text(jobdir / "job.json", json.dumps(meta, indent=1) + "\n")
    (jobdir / "log.txt").touch()

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    launcher = [sys.executable, "-m", "backend.core.jobs", "_start", str(jobdir), "--", *command]
    out = subprocess.run(launcher, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=60)
    try:
        pid = int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        _update_job_json(jobdir, status="failed")
        atomic_write_text(jobdir / "exit_code", "-1\n")
        raise RuntimeError(f"could not start job {job_id}: {(out.stderr or out.stdout).strip()[-500:]}") from None
    with _lock(jobdir):
        # The supervisor may already have finished (a very short job) and set status/ended.
        meta = _read_json(jobdir / "job.json")
        meta["pid"] = pid
        if meta.get("status") == "starting":
            meta["status"] = "running"
        atomic_write_text(jobdir / "job.json", json.dumps(meta, indent=1) + "\n")
    log.info("started job %s (pid %d): %s", job_id, pid, " ".join(command))
    return _job_from_meta(meta, jobdir)


def cancel_job(job: Job, grace: float = 5.0) -> None:
    """Mark the job cancelled, SIGTERM its process group, SIGKILL whatever is left after ``grace`` s."""
    meta = _update_job_json(job.dir, status="cancelled", cancelled=time.time())
    pgid = int(meta.get("pid") or job.pid)
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        log.warning("not allowed to signal job %s (pgid %d)", job.id, pgid)
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            break
        time.sleep(0.05)
    else:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5.0
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
    if _read_exit_code(job.dir) is None:
        _update_job_json(job.dir, ended=time.time())


# ----------------------------------------------------------------------------- queries


def load_job(job_id: str, jobs_dir: str | os.PathLike | None = None) -> Job:
    """The job with this id; raises :class:`JobNotFound`."""
    if not job_id or "/" in job_id or "\\" in job_id or job_id.startswith("."):
        raise JobNotFound(f"not a job id: {job_id!r}")
    jobdir = _jobs_dir(jobs_dir) / job_id
    try:
        meta = _read_json(jobdir / "job.json")
        if meta.get("pid") is None:
            meta["pid"] = 0
        return _job_from_meta(meta, jobdir)
    except (OSError, ValueError, KeyError) as exc:
        raise JobNotFound(f"no job {job_id!r} under {jobdir.parent}") from exc


def list_jobs(jobs_dir: str | os.PathLike | None = None) -> list[Job]:
    """Every job under the jobs folder, newest first (unreadable folders are skipped)."""
    root = _jobs_dir(jobs_dir)
    if not root.is_dir():
        return []
    jobs = []
    for entry in root.iterdir():
        if entry.is_dir() and (entry / "job.json").is_file():
            try:
                jobs.append(load_job(entry.name, root))
            except JobNotFound:
                continue
    jobs.sort(key=lambda j: (j.started, j.id), reverse=True)
    return jobs


def _tail(path: Path, n: int = LOG_TAIL_LINES) -> str:
    """Last ``n`` lines of a log; carriage-return progress bars reduced to their last state."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL_BYTES))
            data = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = []
    for line in data.split("\n"):  # not splitlines(): a lone \r is a progress-bar redraw, not a line
        parts = [p for p in line.split("\r") if p.strip()]
        lines.append(parts[-1] if parts else "")
    if size > _LOG_TAIL_BYTES and lines:
        lines = lines[1:]  # the first line is probably cut
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines[-n:])


def pass_time_left(events: list[ProgressEvent], least_seconds: float = 5.0) -> tuple[str, float] | None:
    """(stage, seconds) still to go in the pass now running: the last event's stage (say "batch" of an epoch).

    Only batches measured in this pass count: the rate is (steps, seconds) between the pass's first event and its
    last, so neither the time before the first batch finished (start-up, loading, a validation in between), nor an
    earlier pass's rate, nor a shipped card's timing is mixed in; on a loaded machine the estimate follows what
    the pass really does now. The pass is the run of events of that stage and total whose steps rise (an event of
    another stage, another total, a higher step or a later time before it ends it). None until the pass has run
    ``least_seconds`` and moved, when its total is unknown, or when it is done."""
    if not events or events[-1].total is None:
        return None
    last = events[-1]
    first = last
    for e in reversed(events[:-1]):
        if (e.stage != last.stage or e.total != last.total  # another stage or another kind of pass
                or e.step > first.step or e.time > first.time):  # the previous pass of this one
            break
        first = e
    seconds, steps = last.time - first.time, last.step - first.step
    if seconds < least_seconds or steps <= 0 or last.step >= last.total:
        return None
    return last.stage, (last.total - last.step) * seconds / steps


def _fraction(events: list[ProgressEvent]) -> float | None:
    """Completed fraction of the outermost stage: the 'epoch' stage if any, else the first stage seen."""
    if not events:
        return None
    stages = [e.stage for e in events]
    main = "epoch" if "epoch" in stages else stages[0]
    for e in reversed(events):
        if e.stage == main and e.fraction is not None:
            return e.fraction
    for e in reversed(events):
        if e.fraction is not None:
            return e.fraction
    return None


def _state(job: Job) -> tuple[str, int | None, str, dict]:
    """(state, exit code, message, job.json content) from the job's folder and process table."""
    try:
        meta = _read_json(job.dir / "job.json")
    except (OSError, ValueError):
        meta = {}
    pid = int(meta.get("pid") or job.pid or 0)
    cancelled = meta.get("status") == "cancelled"
    code = _read_exit_code(job.dir)
    if code is None:
        starting = meta.get("status") == "starting" and time.time() - job.started < 60
        if starting or _pid_alive(pid, job.dir):
            return "running", None, "", meta
        code = _read_exit_code(job.dir)  # it may have finished between the two checks
        if code is None:
            if cancelled:
                return "cancelled", None, "", meta
            return "failed", None, "the job's process ended without recording an exit code (killed or crashed)", meta
    if cancelled:
        return "cancelled", code, "", meta
    if code == 0:
        return "finished", 0, "", meta
    return "failed", code, f"the job exited with code {code}", meta


def job_state(job: Job) -> str:
    """Only the state (running / finished / failed / cancelled): cheap, for scanning many jobs."""
    return _state(job)[0]


def job_status(job: Job, tail_lines: int = LOG_TAIL_LINES) -> JobStatus:
    """Current state of ``job`` from its folder (never raises for a half-written job)."""
    state, code, message, meta = _state(job)
    # read after the state: for a job that is over, the events and the log are complete
    events = read_progress_file(job.progress_file)
    tail = _tail(job.log_file, tail_lines)
    ended = meta.get("ended")
    if state != "running" and ended is None:
        try:
            ended = (job.dir / "exit_code").stat().st_mtime
        except OSError:
            ended = meta.get("cancelled") or (events[-1].time if events else job.started)
    elapsed = (float(ended) if state != "running" else time.time()) - job.started
    fraction = _fraction(events)
    if state == "finished":
        fraction = 1.0
    return JobStatus(state=state, exit_code=code, events=events, fraction=fraction, log_tail=tail,
                     elapsed=max(0.0, elapsed), message=message)


# ----------------------------------------------------------------------------- supervisor


def _supervise(jobdir: Path, command: list[str]) -> int:
    """Run ``command``, wait, record its exit code; SIGTERM/SIGINT are passed on to the command."""
    procs: list[subprocess.Popen] = []

    def forward(signum, _frame):
        for proc in procs:
            try:
                proc.send_signal(signum)
            except OSError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        procs.append(subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL))
    except OSError as exc:
        print(f"error: could not run {command[0]}: {exc}", file=sys.stderr, flush=True)
        code = 127
    else:
        try:
            _update_job_json(jobdir, child_pid=procs[0].pid)
        except (OSError, ValueError) as exc:
            print(f"warning: could not record the child pid: {exc}", file=sys.stderr, flush=True)
        code = procs[0].wait()
    with _lock(jobdir):
        atomic_write_text(jobdir / "exit_code", f"{code}\n")
        meta = _read_json(jobdir / "job.json")
        if meta.get("status") != "cancelled":
            meta["status"] = "finished" if code == 0 else "failed"
        meta["exit_code"] = code
        meta["ended"] = time.time()
        atomic_write_text(jobdir / "job.json", json.dumps(meta, indent=1) + "\n")
    return code


def _start(jobdir: Path, command: list[str]) -> int:
    """Fork a supervisor into a new session, print its pid, return (the launcher exits at once)."""
    pid = os.fork()
    if pid > 0:
        print(pid, flush=True)
        return 0
    # supervisor: detach from the launcher's session and pipes
    try:
        os.setsid()
        log_fd = os.open(jobdir / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(null_fd)
        os.close(log_fd)
        code = _supervise(jobdir, command)
    except BaseException as exc:  # noqa: BLE001 - the supervisor must never die silently
        try:
            print(f"error: job supervisor failed: {exc!r}", file=sys.stderr, flush=True)
            if _read_exit_code(jobdir) is None:
                atomic_write_text(jobdir / "exit_code", "-1\n")
        finally:
            os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if code == 0 else 1)


def _main(args: list[str]) -> int:
    if len(args) >= 3 and args[0] in ("_start", "_run") and args[2] == "--" and len(args) > 3:
        jobdir, command = Path(args[1]), args[3:]
        return _start(jobdir, command) if args[0] == "_start" else _supervise(jobdir, command)
    print("usage: python -m backend.core.jobs _start|_run JOBDIR -- COMMAND...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
