"""A reusable Streamlit panel that runs a backend command as a background job and follows it.

Usage in a page::

    from ui.components.job_panel import job_panel

    job_panel("redgnn/family", ["train", "redgnn", "--dataset", "family", "--epochs", "3"],
              key="train_redgnn_family")

The panel shows a Start button; once started it polls the job every two seconds in an
``st.fragment`` (progress bar, metric curves, log tail, Cancel) and ends with a success, warning
or error box. The job id is kept in ``st.session_state[key]``; after a browser reload or a page
switch the newest *running* job with the same label is picked up again from the jobs folder.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from backend.core.jobs import Job, JobNotFound, JobStatus, cancel_job, job_state, job_status, list_jobs, load_job, \
    pass_time_left, start_job
from backend.core.progress import ProgressEvent
from ui.components.model_card import format_seconds

_ACRONYMS = {"mrr": "MRR", "auc": "AUC", "roc": "ROC", "pr": "PR", "mse": "MSE", "mae": "MAE", "rmse": "RMSE",
             "f1": "F1", "r2": "R²", "ndcg": "NDCG", "lr": "LR"}
_FAIL_LOG_LINES = 15


def metric_label(name: str) -> str:
    """'valid_mrr' -> 'valid MRR', 'hits@10' -> 'Hits@10', 'roc_auc' -> 'ROC AUC'."""
    words = []
    for word in name.replace("-", "_").split("_"):
        base, _, suffix = word.partition("@")
        if base.lower() in _ACRONYMS:
            base = _ACRONYMS[base.lower()]
        elif suffix:
            base = base.capitalize()
        words.append(base + ("@" + suffix if suffix else ""))
    return " ".join(words)


def _format_value(value: float) -> str:
    if isinstance(value, float) and (abs(value) >= 1000 or (value != 0 and abs(value) < 0.001)):
        return f"{value:.3g}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _main_stage(events: Sequence[ProgressEvent]) -> str | None:
    stages = [e.stage for e in events]
    if not stages:
        return None
    return "epoch" if "epoch" in stages else stages[0]


def progress_text(status: JobStatus, metric_names: Sequence[str] | None = None) -> str:
    """One line such as 'epoch 3/10 · loss 0.410 · valid MRR 0.930' for the progress bar."""
    stage = _main_stage(status.events)
    if stage is None:
        return "starting…" if status.running else status.state
    last = next(e for e in reversed(status.events) if e.stage == stage)
    parts = [f"{last.stage} {last.step}/{last.total}" if last.total else f"{last.stage} {last.step}"]
    # the latest value of every metric of that stage (a validation metric may come every few epochs)
    latest: dict[str, float] = {}
    for e in status.events:
        if e.stage == stage:
            latest.update(e.metrics)
    names = list(metric_names) if metric_names is not None else list(latest)
    parts += [f"{metric_label(n)} {_format_value(latest[n])}" for n in names if n in latest]
    left = pass_time_left(status.events) if status.running else None
    if left:  # e.g. "about 5 h 10 min to the last batch" (of the epoch running)
        parts.append(f"about {format_seconds(left[1])} to the last {left[0]}")
    return " · ".join(parts)


def progress_figure(events: Sequence[ProgressEvent], metric_names: Sequence[str] | None = None,
                    title: str | None = None) -> go.Figure | None:
    """Metric curves over the steps of the main stage: losses on the left axis, the rest on the right.

    Returns None when no event carries one of the metrics.
    """
    stage = _main_stage(events)
    if stage is None:
        return None
    rows = [e for e in events if e.stage == stage and e.metrics]
    names = list(metric_names) if metric_names is not None else sorted({k for e in rows for k in e.metrics})
    names = [n for n in names if any(n in e.metrics for e in rows)]
    if not names:
        return None
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    left_names = [n for n in names if "loss" in n.lower()]
    right_names = [n for n in names if n not in left_names]
    if not left_names:  # nothing to put on the left: use it for everything
        left_names, right_names = right_names, []
    for name in names:
        points = [(e.step, e.metrics[name]) for e in rows if name in e.metrics]
        fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                 name=metric_label(name)), secondary_y=name in right_names)
    steps = [e.step for e in rows]
    fig.update_xaxes(title_text=stage, dtick=1 if max(steps) - min(steps) <= 15 else None)  # whole epochs, not every batch
    fig.update_yaxes(title_text=", ".join(metric_label(n) for n in left_names), secondary_y=False)
    if right_names:
        fig.update_yaxes(title_text=", ".join(metric_label(n) for n in right_names), secondary_y=True)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=title,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def render_progress_events(events: Sequence[ProgressEvent], metric_names: Sequence[str] | None = None,
                           key: str | None = None) -> None:
    """Draw the metric curves of ``events`` (nothing when there are no metrics yet)."""
    fig = progress_figure(events, metric_names)
    if fig is not None:
        st.plotly_chart(fig, key=key)


def _find_job(label: str, key: str, jobs_dir: str | os.PathLike | None) -> Job | None:
    """The job in session state, else the newest running job with this label (after a reload)."""
    job_id = st.session_state.get(key)
    if job_id:
        try:
            return load_job(job_id, jobs_dir)
        except JobNotFound:
            del st.session_state[key]
    for job in list_jobs(jobs_dir):
        if job.label == label and job_state(job) == "running":
            st.session_state[key] = job.id
            return job
    return None


def running_job_labels(label_prefix: str = "", jobs_dir: str | os.PathLike | None = None) -> list[str]:
    """Labels of the jobs running now whose label starts with ``label_prefix`` (e.g. "redgnn/"), newest first.

    A page can pick the dataset of its running training from it (label "redgnn/umls" -> "umls")."""
    try:
        return [j.label for j in list_jobs(jobs_dir) if j.label.startswith(label_prefix) and job_state(j) == "running"]
    except (OSError, ValueError):
        return []


def has_running_job(label_prefix: str, jobs_dir: str | os.PathLike | None = None) -> bool:
    """True while a job whose label starts with ``label_prefix`` runs: a page opens its train expander then
    (``st.expander(..., expanded=has_running_job("redgnn/"))``), so the job's progress and Cancel are in view."""
    return bool(running_job_labels(label_prefix, jobs_dir))


def _is_running(label: str, key: str, jobs_dir: str | os.PathLike | None) -> bool:
    try:
        job = _find_job(label, key, jobs_dir)
        return job is not None and job_state(job) == "running"
    except (OSError, ValueError):
        return False


def _start_clicked(label: str, argv: list[str], key: str, module: str, jobs_dir: str | os.PathLike | None) -> None:
    """on_click of Start: start the job unless one with this label is already running."""
    if _is_running(label, key, jobs_dir):
        return
    if argv and argv[0] == "search" and "--executor" not in argv:  # the sidebar's "Searches run on"
        from ui.components.search_target import search_executor_argv

        argv = list(argv) + search_executor_argv()
    try:
        st.session_state[key] = start_job(argv, jobs_dir=jobs_dir, label=label, module=module).id
    except (OSError, RuntimeError) as exc:
        st.session_state[f"{key}__error"] = f"Could not start {label}: {exc}"


def _render_status(job: Job, status: JobStatus, key: str, metric_names: Sequence[str] | None) -> None:
    name = job.label or job.id
    st.caption(f"Job `{job.id}` · `{' '.join(job.argv)}` · {status.state} · {format_seconds(status.elapsed)}")
    fraction = status.fraction if status.fraction is not None else (1.0 if status.state == "finished" else 0.0)
    st.progress(float(fraction), text=progress_text(status, metric_names))
    if status.running and st.button("Cancel", key=f"{key}__cancel", icon=":material/stop_circle:"):
        cancel_job(job, grace=3.0)
        st.rerun()
    render_progress_events(status.events, metric_names, key=f"{key}__chart")
    with st.expander("Log", expanded=False):
        st.code(status.log_tail or "(no output yet)", language="text")
    elapsed = format_seconds(status.elapsed)
    if status.state == "finished":
        st.success(f"{name} finished in {elapsed} (exit code 0).")
    elif status.state == "cancelled":
        st.warning(f"{name} was cancelled after {elapsed}.")
    elif status.state == "failed":
        code = "unknown" if status.exit_code is None else status.exit_code
        st.error(f"{name} failed after {elapsed} (exit code {code}): {status.message}.")
        last = "\n".join(status.log_tail.splitlines()[-_FAIL_LOG_LINES:])
        if last:
            st.code(last, language="text")


def _poll(job_id: str, jobs_dir: str | os.PathLike | None, key: str, metric_names: Sequence[str] | None,
          was_running: bool) -> None:
    try:
        job = load_job(job_id, jobs_dir)
        status = job_status(job)
    except Exception as exc:  # noqa: BLE001 - a page never shows a traceback
        st.error(f"Could not read job {job_id}: {exc}")
        return
    if was_running and status.done:
        st.rerun()  # whole page: re-enable Start and stop polling
    try:
        _render_status(job, status, key, metric_names)
    except (OSError, ValueError) as exc:
        st.error(f"Could not show job {job_id}: {exc}")


def job_panel(label: str, argv: Sequence[str], key: str, *, module: str = "backend",
              jobs_dir: str | os.PathLike | None = None,
              metric_names: Sequence[str] | None = None, start_label: str = "Start",
              disabled: bool = False, poll_seconds: float = 2.0) -> Job | None:
    """Start ``python -m <module> <argv...>`` as a background job and follow it on the page.

    label: names the job (and finds it again after a reload); key: a unique widget/session key;
    metric_names: which ProgressEvent metrics to show (None: every metric the method's events carry); disabled: grey out Start (e.g.
    data missing). Returns the job shown, if any.
    """
    try:
        job = _find_job(label, key, jobs_dir)
        running = job is not None and job_state(job) == "running"
    except (OSError, ValueError) as exc:
        st.error(f"Could not read the jobs folder: {exc}")
        return None
    # Start runs as an on_click callback, before the script: this very run then shows the new job
    # (and a disabled Start button) instead of a button that looks clickable again.
    st.button(start_label, key=f"{key}__start", type="primary", icon=":material/play_arrow:",
              on_click=_start_clicked, args=(label, list(argv), key, module, jobs_dir),
              disabled=disabled or running)
    error = st.session_state.pop(f"{key}__error", None)
    if error:
        st.error(error)
    if job is None:
        return None
    st.fragment(_poll, run_every=poll_seconds if running else None)(job.id, jobs_dir, key, metric_names, running)
    return job
