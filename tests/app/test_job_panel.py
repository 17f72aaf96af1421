"""The job panel on a test page: Start the dummy training, watch progress, see the result."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.core import jobs

PAGE = str(Path(__file__).resolve().parent / "pages" / "job_panel_page.py")
pytestmark = pytest.mark.timeout(120)


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.code]
    parts += [e.value for kind in ("success", "error", "warning") for e in at.get(kind)]
    parts += [e.proto.text for e in at.get("progress")]
    return "\n".join(str(p) for p in parts)


def run_until(at: AppTest, predicate, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, at.exception
        if predicate(at):
            return
        assert time.monotonic() < deadline, f"page never reached the expected state:\n{texts(at)}"
        time.sleep(0.3)


@pytest.fixture
def jobs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path))
    monkeypatch.setenv("JOB_PANEL_TEST_STEPS", "5")
    monkeypatch.setenv("JOB_PANEL_TEST_SLEEP", "0.4")
    yield tmp_path
    for job in jobs.list_jobs(tmp_path):  # nothing keeps running after a failed assertion
        if jobs.job_state(job) == "running":
            jobs.cancel_job(job, grace=1.0)


def test_start_progress_and_success(jobs_dir):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    start = at.button(key="dummy_job__start")
    assert start.label == "Start" and not start.disabled
    assert not at.get("progress")

    start.click().run()
    assert not at.exception
    job_id = at.session_state["dummy_job"]
    assert [j.id for j in jobs.list_jobs(jobs_dir)] == [job_id]
    assert at.button(key="dummy_job__start").disabled  # one run at a time
    assert at.get("progress"), "no progress bar after Start"
    assert job_id in texts(at)

    # the training is under way: a progress text like "epoch 2/5 · loss 0.500 · valid MRR 0.750"
    run_until(at, lambda a: any("epoch" in p.proto.text and "valid MRR" in p.proto.text for p in a.get("progress"))
              or a.success)
    run_until(at, lambda a: len(a.success) > 0)
    assert "dummy finished" in at.success[0].value and "exit code 0" in at.success[0].value
    assert "epoch 5/5 · loss 0.200 · valid MRR 0.900" in texts(at)
    assert at.get("plotly_chart"), "no metric chart"
    assert not at.error
    assert not at.button(key="dummy_job__start").disabled


def test_reload_finds_running_job_and_cancel(jobs_dir, monkeypatch):
    monkeypatch.setenv("JOB_PANEL_TEST_STEPS", "1000")
    monkeypatch.setenv("JOB_PANEL_TEST_SLEEP", "0.1")
    job = jobs.start_job(["--steps", "1000", "--sleep", "0.1"], jobs_dir=jobs_dir, label="dummy",
                         module="backend.dummy")
    at = AppTest.from_file(PAGE, default_timeout=60)  # a fresh session, as after a browser reload
    at.run()
    assert not at.exception
    assert at.session_state["dummy_job"] == job.id
    assert at.button(key="dummy_job__start").disabled
    at.button(key="dummy_job__cancel").click().run()
    assert not at.exception
    assert jobs.job_state(job) == "cancelled"
    run_until(at, lambda a: len(a.warning) > 0, timeout=10)
    assert "cancelled" in at.warning[0].value


def test_failed_job_shows_error_and_log(jobs_dir, monkeypatch):
    monkeypatch.setenv("JOB_PANEL_TEST_FAIL", "1")
    monkeypatch.setenv("JOB_PANEL_TEST_SLEEP", "0")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.button(key="dummy_job__start").click().run()
    run_until(at, lambda a: len(a.error) > 0)
    assert "exit code 1" in at.error[0].value
    assert "dummy training failed on purpose" in texts(at)
    assert "Traceback" not in texts(at)
