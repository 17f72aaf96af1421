"""Search candidates on a Ray cluster: the :class:`~backend.core.search.Executor` contract, on Ray.

``python -m backend search METHOD --dataset D --executor ray --ray-address auto`` runs the same search,
with the same trajectory file, on an existing cluster (``auto``: the one ``ray start`` made on this
machine; ``ray://host:10001``: a remote one); without an address a private local cluster is started.

- One ``ray.remote`` task per candidate; results come back in item order (``ray.get`` per ref).
- A candidate's own error (``RayTaskError``) is that item's result: it is recorded as failed, not retried.
- A worker or node that dies (``WorkerCrashedError``, ``NodeDiedError``, ...) makes Ray run the task again,
  up to ``max_retries`` times; after that the item's result is :class:`~backend.core.search.WorkerDied`.
- A dead *driver* loses nothing finished: :func:`~backend.core.search.run_search` appends each chunk's
  records atomically and resumes from ``trajectory.jsonl``.
- GPU candidates ask for ``num_gpus`` per task, so Ray places them on GPU nodes; CPU-only clusters work
  with ``num_gpus=0``.

Ray is imported only when a :class:`RayExecutor` is made (it is in requirements-dev.txt, not requirements.txt).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backend.core.search import WorkerDied

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def ray_available() -> tuple[bool, str]:
    """(True, "") when ray imports, else (False, the reason)."""
    try:
        import ray  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError or a broken install: both mean "no ray"
        return False, f"ray cannot be imported ({type(exc).__name__}: {exc}); pip install -r requirements-dev.txt"
    return True, ""


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    """What a Ray task runs."""
    return fn(item)


class RayExecutor:
    """Evaluate items as Ray tasks on the cluster at ``address`` (None or "local": a private local cluster
    of ``workers`` CPUs; "auto" or "ray://host:port": an existing one).

    ``workers``: items sent at once (default: the cluster's CPUs / ``num_cpus``); ``num_cpus`` /
    ``num_gpus``: resources one candidate asks for; ``max_retries``: re-runs of a task whose worker died.
    """

    def __init__(self, address: str | None = None, workers: int | None = None, num_cpus: float = 1.0,
                 num_gpus: float = 0.0, max_retries: int = 2, runtime_env: dict | None = None) -> None:
        ok, reason = ray_available()
        if not ok:
            raise RuntimeError(reason)
        import ray

        self._ray = ray
        self.address = None if address in (None, "", "local") else address
        self._started = False
        if not ray.is_initialized():
            env = dict(runtime_env or {})
            if self.address is None:
                # a private cluster: workers import the project (and the test modules) like the driver does
                paths = [str(PROJECT_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
                env.setdefault("env_vars", {}).setdefault("PYTHONPATH", os.pathsep.join(dict.fromkeys(paths)))
                ray.init(num_cpus=max(1, int(workers or os.cpu_count() or 1)), include_dashboard=False,
                         log_to_driver=False, configure_logging=False, runtime_env=env or None)
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False,
                         runtime_env=env or None)
            self._started = True
        self.num_cpus, self.num_gpus, self.max_retries = float(num_cpus), float(num_gpus), int(max_retries)
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        self.workers = max(1, int(workers or cpus // max(self.num_cpus, 1e-9)))
        self._remote = None

    def _task(self):
        """The one remote function: ``_call(fn, item)`` (fn may be any picklable callable, a partial too)."""
        if self._remote is None:
            self._remote = self._ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus,
                                            max_retries=self.max_retries, retry_exceptions=False)(_call)
        return self._remote

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(item) or the exception that stopped it]`` in item order (see search.Executor)."""
        from ray import exceptions as rex

        task = self._task()
        refs = [task.remote(fn, item) for item in items]
        results: list[Any] = []
        try:
            for ref in refs:
                try:
                    results.append(self._ray.get(ref))
                except rex.RayTaskError as exc:  # the candidate's own error
                    cause = getattr(exc, "cause", None)
                    results.append(cause if isinstance(cause, BaseException) else exc)
                except (rex.WorkerCrashedError, rex.NodeDiedError, rex.RaySystemError, rex.ObjectLostError,
                        rex.OwnerDiedError) as exc:
                    results.append(WorkerDied(f"the Ray worker died {self.max_retries + 1} times while evaluating "
                                              f"this candidate ({type(exc).__name__})"))
        except KeyboardInterrupt:
            for ref in refs:
                self._ray.cancel(ref, force=True)
            raise
        return results

    def close(self) -> None:
        """Shut down the cluster connection this executor opened (idempotent)."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
