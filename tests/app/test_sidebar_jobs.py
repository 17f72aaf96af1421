"""Running jobs in the shared sidebar (ui/components/running_jobs.py via streamlit_app.py): on another page than
the one that started it, a running job shows its label, its progress text and a link to its page; it is polled
only while it runs; once it has ended the entry says so and nothing polls.

The job is this file run as a module (``python -m tests.app.test_sidebar_jobs``): a fake training that writes three
epochs of progress events to its progress file, then waits for a stop file and ends with exit code 0.
"""
from __future__ import annotations

import sys
import time


def _fake_training(argv: list[str]) -> int:
    """``--stop-file F --progress-file P``: epochs 1-3 of 100 at once, then wait for F, then epoch 100/100."""
    from pathlib import Path

    from backend.core.progress import FileProgress, ProgressEvent

    stop, progress = Path(argv[argv.index("--stop-file") + 1]), FileProgress(argv[argv.index("--progress-file") + 1])
    for epoch in (1, 2, 3):
        progress(ProgressEvent("epoch", epoch, 100, {"loss": round(1 / epoch, 6)}))
    deadline = time.monotonic() + 120
    while not stop.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    progress(ProgressEvent("epoch", 100, 100, {"loss": 0.01}))
    return 0 if stop.exists() else 1


if __name__ == "__main__":  # the job itself: nothing below is imported
    sys.exit(_fake_training(sys.argv[1:]))

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.local_script_runner import LocalScriptRunner  # noqa: E402

from backend.core import jobs  # noqa: E402
from ui import VIEWS_DIR, page_for_url  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP = str(PROJECT_ROOT / "streamlit_app.py")
OTHER_PAGE = f"{VIEWS_DIR.relative_to(PROJECT_ROOT).as_posix()}/datasets.py"
LABEL = "redgnn/family"
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def jobs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "jobs"
    monkeypatch.setenv("PARSIMONY_JOBS", str(folder))
    yield folder
    for job in jobs.list_jobs(folder):  # nothing keeps running after a failed assertion
        if jobs.job_state(job) == "running":
            jobs.cancel_job(job, grace=1.0)


@pytest.fixture
def auto_reruns(monkeypatch) -> list:
    """The auto-rerun (``st.fragment(run_every=...)``) messages of the latest run: what the browser would poll."""
    latest: list = []
    real = LocalScriptRunner.forward_msgs

    def spy(self):
        msgs = real(self)
        latest[:] = [(m.auto_rerun.fragment_id, m.auto_rerun.interval) for m in msgs if m.HasField("auto_rerun")]
        return msgs

    monkeypatch.setattr(LocalScriptRunner, "forward_msgs", spy)
    return latest


def start_fake_job(jobs_dir: Path, stop: Path) -> jobs.Job:
    job = jobs.start_job(["--stop-file", str(stop)], jobs_dir=jobs_dir, label=LABEL, module="tests.app.test_sidebar_jobs")
    deadline = time.monotonic() + 60
    while len(jobs.job_status(job).events) < 3:
        assert jobs.job_state(job) == "running", jobs.job_status(job)
        assert time.monotonic() < deadline, "the fake job wrote no progress"
        time.sleep(0.05)
    return job


def app_on_other_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(OTHER_PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Datasets"
    return at


def sidebar_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption") for e in at.sidebar.get(kind))


def test_running_job_in_the_sidebar_of_another_page_until_it_ends(jobs_dir, tmp_path, auto_reruns):
    at = app_on_other_page()
    assert LABEL not in sidebar_text(at) and not at.sidebar.get("progress")
    assert auto_reruns == []  # idle: nothing polls

    stop = tmp_path / "stop"
    job = start_fake_job(jobs_dir, stop)
    at.run()  # e.g. the user comes back to the tab, or any widget reruns the page
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Datasets"
    assert f"**{LABEL}**" in sidebar_text(at)
    bars = at.sidebar.get("progress")
    assert [b.proto.text for b in bars] == ["epoch 3/100 · loss 0.333"]
    assert bars[0].proto.value == 3
    assert "running for" in sidebar_text(at)
    links = at.sidebar.get("page_link")
    kg = page_for_url("kg-reasoning")
    assert [(link.proto.label, link.proto.page) for link in links] == \
        [(kg.title, kg.url_path)], [link.proto for link in links]
    assert len(auto_reruns) == 1 and 0 < auto_reruns[0][1] <= 5  # polled while it runs

    stop.touch()
    deadline = time.monotonic() + 60
    while jobs.job_state(job) == "running":
        assert time.monotonic() < deadline, "the fake job did not end"
        time.sleep(0.05)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.sidebar.get("progress")
    assert f"**{LABEL}** finished after" in sidebar_text(at)
    assert auto_reruns == []  # over: nothing polls


def _poll_page():
    import os

    import streamlit as st

    from ui.components import running_jobs

    runs = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    if runs == 1:  # the fragment's poll of a job that was running when the page ran
        running_jobs._entries((os.environ["SIDEBAR_TEST_JOB"],), None, True)
    st.markdown(f"runs: {runs}")


def test_a_poll_that_finds_the_job_ended_reruns_the_app_once(jobs_dir, tmp_path, monkeypatch):
    stop = tmp_path / "stop"
    job = start_fake_job(jobs_dir, stop)
    stop.touch()
    while jobs.job_state(job) == "running":
        time.sleep(0.05)
    monkeypatch.setenv("SIDEBAR_TEST_JOB", job.id)
    at = AppTest.from_function(_poll_page, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["runs"] == 2 and at.markdown[-1].value == "runs: 2"


def test_has_running_job_by_label_prefix(jobs_dir, tmp_path):
    from ui.components.job_panel import has_running_job, running_job_labels
    from ui.components.running_jobs import job_page

    assert not has_running_job("redgnn/")
    stop = tmp_path / "stop"
    job = start_fake_job(jobs_dir, stop)
    assert has_running_job("redgnn/") and has_running_job(LABEL) and not has_running_job("autoblm/")
    assert running_job_labels("redgnn/") == [LABEL]
    assert job_page(LABEL) == page_for_url("kg-reasoning") and job_page("dummy") is None
    stop.touch()
    while jobs.job_state(job) == "running":
        time.sleep(0.05)
    assert not has_running_job("redgnn/")
