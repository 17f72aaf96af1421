"""A tiny dummy "training" for testing background jobs and the job panel without any real model.

``python -m backend.dummy --steps 5 --sleep 0.1 --progress-file F [--fail]`` emits one
``ProgressEvent(stage="epoch", step=i, total=steps, metrics={"loss", "valid_mrr"})`` per step
and prints one line per step; ``--fail`` stops with exit code 1 and an error message after
``--fail-at`` steps (default: half of them).
"""
from __future__ import annotations

import argparse
import sys
import time

from backend.core.progress import FileProgress, NullProgress, ProgressCallback, ProgressEvent


class DummyTrainingError(RuntimeError):
    """Raised by :func:`train_dummy` when asked to fail."""


def dummy_metrics(step: int) -> dict[str, float]:
    """Deterministic curves: loss falls as 1/step, valid MRR rises towards 1."""
    return {"loss": round(1.0 / step, 6), "valid_mrr": round(1.0 - 0.5 / step, 6)}


def train_dummy(steps: int, sleep: float = 0.0, progress: ProgressCallback | None = None,
                fail_at: int | None = None) -> dict[str, float]:
    """Pretend to train for ``steps`` epochs; returns the last metrics.

    fail_at: raise :class:`DummyTrainingError` after that many steps (None: never).
    """
    progress = progress or NullProgress()
    metrics: dict[str, float] = {}
    for step in range(1, steps + 1):
        if sleep:
            time.sleep(sleep)
        metrics = dummy_metrics(step)
        progress(ProgressEvent(stage="epoch", step=step, total=steps, metrics=metrics))
        print(f"epoch {step}/{steps} loss={metrics['loss']:.4f} valid_mrr={metrics['valid_mrr']:.4f}", flush=True)
        if fail_at is not None and step >= fail_at:
            raise DummyTrainingError(f"dummy training failed on purpose at epoch {step}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.dummy", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--sleep", type=float, default=0.1, help="seconds per step")
    parser.add_argument("--progress-file", default=None)
    parser.add_argument("--fail", action="store_true", help="exit 1 with an error message")
    parser.add_argument("--fail-at", type=int, default=None, help="step after which --fail fails")
    args = parser.parse_args(argv)
    progress = FileProgress(args.progress_file) if args.progress_file else NullProgress()
    fail_at = None
    if args.fail:
        fail_at = args.fail_at if args.fail_at is not None else max(1, args.steps // 2)
    try:
        metrics = train_dummy(args.steps, args.sleep, progress, fail_at=fail_at)
    except DummyTrainingError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"done: loss={metrics.get('loss', float('nan')):.4f} valid_mrr={metrics.get('valid_mrr', float('nan')):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
