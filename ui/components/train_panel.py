"""Any method's train panel: a dataset, a few fields of its config dataclass as widgets, and `python -m backend
train METHOD` started in the background (the job panel follows it). The command line comes from the config
through cli.config_argv, the CLI's own field-to-flag mapping, so the panel and the terminal never disagree.

The output folder is fixed when Start is pressed; a running job shows the folder it really writes.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from backend.cli import config_argv
from backend.core import store
from backend.core.method import Method
from ui.components.job_panel import job_panel


@dataclasses.dataclass(frozen=True)
class TrainField:
    """A config field the panel offers: its widget label, help, bounds; ``scale`` converts the widget's unit into
    the field's (e.g. minutes on the page, seconds in the config)."""

    name: str
    label: str
    help: str = ""
    low: float = 0
    high: float = 10_000
    step: float = 1
    scale: float = 1.0
    default: float | None = None  # the panel's default, where it differs from the dataset's config


def field_widgets(config, fields: Sequence[TrainField], key: str) -> dict:
    """One number input per field; returns the overrides {field: value in the config's unit}."""
    overrides = {}
    columns = st.columns(len(fields)) if fields else []
    for column, f in zip(columns, fields):
        current = getattr(config, f.name)
        shown = f.default if f.default is not None else current / f.scale
        integer = isinstance(current, int) and not isinstance(current, bool) and float(f.scale).is_integer()
        cast = int if integer else float
        value = column.number_input(f.label, min_value=cast(f.low), max_value=cast(f.high), value=cast(shown),
                                    step=cast(f.step), key=f"{key}-{f.name}", help=f.help or None)
        overrides[f.name] = type(current)(value * f.scale)
    return overrides


def _output_folder(method: Method, dataset: str, key: str) -> Path:
    """A new run folder for ``dataset``, the same one on every rerun until a job is started with it."""
    planned = st.session_state.get(f"{key}__output")
    if not planned or Path(planned).parent.name != method.name or not Path(planned).name.startswith(f"{dataset}-") \
            or Path(planned).exists():
        planned = str(store.runs_root() / method.name / f"{dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
        st.session_state[f"{key}__output"] = planned
    return Path(planned)


def train_panel(method: Method, dataset: str, key: str, fields: Sequence[TrainField], *,
                extra: Callable[[object], dict] | None = None, init_from: str | None = None,
                disabled: bool = False, metric_names: Sequence[str] | None = None) -> None:
    """Widgets for ``fields`` of ``method.config_for(dataset)``, ``extra(config)`` for method-specific choices
    (given the config the widgets chose; returns more overrides), then Start: `train METHOD --dataset D <changed
    flags> --output RUN`."""
    defaults = method.config_for(dataset)
    config = dataclasses.replace(defaults, **field_widgets(defaults, fields, key))
    if extra is not None:
        config = dataclasses.replace(config, **extra(config))
    if init_from:
        config = dataclasses.replace(config, init_from=init_from)
    output = _output_folder(method, dataset, key)
    argv = ["train", method.name, "--dataset", dataset, *config_argv(config, defaults), "--output", str(output)]
    job = job_panel(f"{method.name}/{dataset}", argv, key=f"{key}-{dataset}", start_label="Start training",
                    disabled=disabled, metric_names=metric_names)
    if job is not None and "--output" in job.argv:
        st.caption(f"Output folder: `{job.argv[job.argv.index('--output') + 1]}`")
    else:
        st.caption(f"Output folder: `{output}` · command: `python -m backend {' '.join(argv)}`")
