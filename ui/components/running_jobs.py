"""Running background jobs in the sidebar of every page: label, progress, time left and a link to the page that
holds the job's panel (its Cancel button, curves and log).

A training started on a page runs on after a reload or a page switch; this keeps it in view. The entry point
(streamlit_app.py) calls :func:`running_jobs_sidebar` inside ``with st.sidebar``. While a job runs the entries are
an ``st.fragment`` that reruns every few seconds; when a job ends the whole app reruns once (so a page's Start
button comes back), the entry says how it ended, and nothing polls any more. With no job running nothing polls.

Cheap when idle: it lists the jobs folder (``backend.core.jobs``, no torch) and imports the job panel (plotly,
the model card) only while a job runs.
"""
from __future__ import annotations

import os
import time

import streamlit as st

from backend.core.jobs import Job, JobNotFound, JobStatus, job_state, job_status, list_jobs, load_job
from ui import PageSpec, page_for_url

#: seconds between two refreshes of the entries while a job runs
POLL_SECONDS = 3.0
#: how long an ended job this session saw running stays listed (as "finished", "failed", "cancelled")
ENDED_SHOWN_SECONDS = 15 * 60
#: session-state key: {job id: label} of the jobs this session has seen running
SEEN_KEY = "running_jobs__seen"
_ENDED_TEXT = {"finished": "finished", "failed": "failed", "cancelled": "was cancelled"}


def job_page(label: str) -> PageSpec | None:
    """The page that holds the panel of the job labelled ``label`` ("redgnn/family" -> the page of method
    redgnn, ``backend.registry.get_method("redgnn").page``), if that page exists."""
    from backend.registry import get_method

    try:
        method = get_method(label.split("/", 1)[0])
    except KeyError:
        return None
    return page_for_url(getattr(method, "page", None))


def running_jobs(jobs_dir: str | os.PathLike | None = None) -> list[Job]:
    """The jobs running now, newest first (an unreadable jobs folder: none)."""
    try:
        return [job for job in list_jobs(jobs_dir) if job_state(job) == "running"]
    except (OSError, ValueError):
        return []


def _format_seconds(seconds: float) -> str:
    from ui.components.model_card import format_seconds

    return format_seconds(seconds)


def _render_job(job: Job, status: JobStatus) -> None:
    from ui.components.job_panel import progress_text

    page = job_page(job.label)
    name = job.label or job.id
    if status.running:
        st.markdown(f"**{name}**")
        fraction = status.fraction if status.fraction is not None else 0.0
        st.progress(float(fraction), text=progress_text(status))
        st.caption(f"running for {_format_seconds(status.elapsed)}")
    else:
        ended = _ENDED_TEXT.get(status.state, status.state)
        st.markdown(f"**{name}** {ended} after {_format_seconds(status.elapsed)}")
    if page is not None:
        st.page_link(page.link_target, label=page.title, icon=":material/arrow_forward:",
                     help=f"Open {page.title}: the job's own panel (curves, log, Cancel) is on that page")


def _entries(job_ids: tuple[str, ...], jobs_dir: str | os.PathLike | None, polling: bool) -> None:
    """The entries of the jobs ``job_ids`` (running when the page ran). In a polling run, one that has ended
    reruns the whole app: the page's own panel re-enables Start and the polling stops."""
    for job_id in job_ids:
        try:
            job = load_job(job_id, jobs_dir)
            status = job_status(job, tail_lines=1)
        except (JobNotFound, OSError, ValueError):
            continue
        if polling and status.done:
            st.rerun()
        with st.container(border=True):
            _render_job(job, status)


def running_jobs_sidebar(jobs_dir: str | os.PathLike | None = None, poll_seconds: float = POLL_SECONDS) -> None:
    """Call inside ``with st.sidebar``: the running jobs (refreshed every ``poll_seconds`` while one runs) and the
    ones this session saw end in the last ``ENDED_SHOWN_SECONDS`` (no refresh)."""
    running = running_jobs(jobs_dir)
    seen: dict[str, str] = st.session_state.setdefault(SEEN_KEY, {})
    for job in running:
        seen[job.id] = job.label
    ids = {job.id for job in running}
    ended: list[tuple[Job, JobStatus]] = []
    for job_id in list(seen):
        if job_id in ids:
            continue
        try:
            job = load_job(job_id, jobs_dir)
            status = job_status(job, tail_lines=1)
        except (JobNotFound, OSError, ValueError):
            del seen[job_id]
            continue
        if status.running:  # started between the two looks: shown next time
            continue
        if time.time() - (job.started + status.elapsed) > ENDED_SHOWN_SECONDS:
            del seen[job_id]
            continue
        ended.append((job, status))
    if not running and not ended:
        return
    st.caption("Jobs")
    if running:
        st.fragment(_entries, run_every=poll_seconds)(tuple(job.id for job in running), jobs_dir, True)
    for job, status in ended:
        with st.container(border=True):
            _render_job(job, status)
