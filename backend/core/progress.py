"""The progress-callback protocol shared by training code, the CLI and the dashboard.

Training code calls ``progress(ProgressEvent(...))``; the CLI passes a :class:`TqdmProgress`,
background jobs a :class:`FileProgress` (JSON lines the page polls), pages a Streamlit adapter
(``ui/components``), tests a :class:`RecordingProgress`.
"""
from __future__ import annotations

import json
import sys
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class ProgressEvent:
    """One step of a long computation.

    stage: what is counted ("epoch", "batch", "eval", "search", ...); step of total (total may be
    None when unknown); metrics: numbers to plot (loss, valid MRR, ...); message: free text.
    """

    stage: str
    step: int
    total: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    time: float = field(default_factory=time.time)

    @property
    def fraction(self) -> float | None:
        """Completed fraction in [0, 1], or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.step / self.total))


class ProgressCallback(Protocol):
    def __call__(self, event: ProgressEvent) -> None: ...


class NullProgress:
    """Ignores every event."""

    def __call__(self, event: ProgressEvent) -> None:
        return None


class RecordingProgress:
    """Keeps every event in memory (tests, notebooks)."""

    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)


class TqdmProgress:
    """One tqdm bar per stage; metrics shown as the bar's postfix."""

    def __init__(self, **tqdm_kwargs) -> None:
        self._bars: dict[str, object] = {}
        self._kwargs = tqdm_kwargs

    def __call__(self, event: ProgressEvent) -> None:
        from tqdm.auto import tqdm

        bar = self._bars.get(event.stage)
        if bar is None or (event.total is not None and bar.total != event.total) or event.step < bar.n:
            if bar is not None:
                bar.close()
            bar = tqdm(total=event.total, desc=event.stage, leave=event.stage == "epoch", **self._kwargs)
            self._bars[event.stage] = bar
        bar.update(event.step - bar.n)
        if event.metrics:
            bar.set_postfix({k: round(v, 4) for k, v in event.metrics.items()}, refresh=False)
        if event.message:
            bar.write(event.message, file=sys.stderr)  # stdout stays for the command's result
        if event.total is not None and event.step >= event.total:
            bar.close()
            del self._bars[event.stage]

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


class FileProgress:
    """Appends each event as one JSON line to a file (read by :mod:`backend.core.jobs`)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: ProgressEvent) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(event)) + "\n")
            fh.flush()


class TeeProgress:
    """Sends every event to several callbacks."""

    def __init__(self, *callbacks: ProgressCallback) -> None:
        self.callbacks = callbacks

    def __call__(self, event: ProgressEvent) -> None:
        for cb in self.callbacks:
            cb(event)


def read_progress_file(path: str | os.PathLike) -> list[ProgressEvent]:
    """Events written by :class:`FileProgress`; a half-written last line is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(ProgressEvent(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return events
