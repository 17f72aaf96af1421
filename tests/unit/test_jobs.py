"""Background jobs (backend.core.jobs) with the dummy training: finish, fail, cancel, list, crash."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from backend.core import jobs
from backend.dummy import dummy_metrics

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _no_leftover_jobs(tmp_path):
    """Whatever a test leaves running (e.g. after a failed assertion) is cancelled."""
    yield
    for root in (tmp_path, tmp_path / "env-jobs"):
        for job in jobs.list_jobs(root):
            if jobs.job_state(job) == "running":
                jobs.cancel_job(job, grace=1.0)


def wait_done(job: jobs.Job, timeout: float = 60.0) -> jobs.JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobs.job_status(job)
        if status.done:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job.id} still running after {timeout} s: {jobs.job_status(job)}")


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until ``os.kill(pid, 0)`` raises (a dead orphan may need a moment for init to reap it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still exists")


def test_dummy_job_finishes_with_progress_events(tmp_path):
    job = jobs.start_job(["--steps", "5", "--sleep", "0.05"], jobs_dir=tmp_path, label="dummy",
                         module="backend.dummy")
    assert job.dir == tmp_path / job.id and job.pid > 0 and job.label == "dummy"
    meta = json.loads((job.dir / "job.json").read_text())
    assert meta["id"] == job.id and meta["argv"] == ["--steps", "5", "--sleep", "0.05"] and meta["pid"] == job.pid
    assert meta["command"][-2:] == ["--progress-file", str(job.dir / "progress.jsonl")]

    status = wait_done(job)
    assert status.state == "finished", status
    assert status.exit_code == 0
    assert (job.dir / "exit_code").read_text().strip() == "0"
    assert [e.step for e in status.events] == [1, 2, 3, 4, 5]
    assert all(e.stage == "epoch" and e.total == 5 for e in status.events)
    for e in status.events:
        assert e.metrics == pytest.approx(dummy_metrics(e.step))
    assert status.events[-1].metrics["loss"] == pytest.approx(0.2)
    assert status.events[-1].metrics["valid_mrr"] == pytest.approx(0.9)
    assert status.fraction == 1.0
    assert "epoch 5/5" in status.log_tail
    assert 0 < status.elapsed < 60
    assert json.loads((job.dir / "job.json").read_text())["status"] == "finished"
    assert jobs.load_job(job.id, tmp_path) == job


def test_failing_job_reports_exit_code_and_error(tmp_path):
    job = jobs.start_job(["--steps", "4", "--sleep", "0", "--fail"], jobs_dir=tmp_path, label="bad",
                         module="backend.dummy")
    status = wait_done(job)
    assert status.state == "failed"
    assert status.exit_code == 1
    assert "error: dummy training failed on purpose at epoch 2" in status.log_tail
    assert [e.step for e in status.events] == [1, 2]
    assert status.fraction == pytest.approx(0.5)
    assert "exit" in status.message


def test_cancel_kills_the_process_group(tmp_path):
    job = jobs.start_job(["--steps", "1000", "--sleep", "0.1"], jobs_dir=tmp_path, label="long",
                         module="backend.dummy")
    deadline = time.monotonic() + 30
    while not jobs.job_status(job).events:  # the training itself is running
        assert time.monotonic() < deadline, "dummy job produced no progress"
        time.sleep(0.05)
    child_pid = json.loads((job.dir / "job.json").read_text())["child_pid"]
    assert jobs.job_state(job) == "running"

    jobs.cancel_job(job, grace=5.0)

    status = jobs.job_status(job)
    assert status.state == "cancelled"
    assert len(status.events) < 1000
    assert not jobs._group_alive(job.pid)  # no live process left in the group
    wait_gone(job.pid)
    wait_gone(child_pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(job.pid, 0)
    assert jobs.job_status(job).state == "cancelled"


def test_list_jobs_newest_first_and_load(tmp_path):
    assert jobs.list_jobs(tmp_path / "missing") == []
    first = jobs.start_job(["--steps", "1", "--sleep", "0"], jobs_dir=tmp_path, label="a", module="backend.dummy")
    time.sleep(0.02)
    second = jobs.start_job(["--steps", "1", "--sleep", "0"], jobs_dir=tmp_path, label="b", module="backend.dummy")
    (tmp_path / "not-a-job").mkdir()  # folders without job.json are ignored
    listed = jobs.list_jobs(tmp_path)
    assert [j.id for j in listed] == [second.id, first.id]
    assert [j.label for j in listed] == ["b", "a"]
    assert jobs.load_job(first.id, tmp_path).argv == ["--steps", "1", "--sleep", "0"]
    with pytest.raises(jobs.JobNotFound):
        jobs.load_job("nope", tmp_path)
    with pytest.raises(jobs.JobNotFound):
        jobs.load_job("../x", tmp_path)
    for job in listed:
        assert wait_done(job).state == "finished"


def test_jobs_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "env-jobs"))
    assert jobs.default_jobs_dir() == tmp_path / "env-jobs"
    job = jobs.start_job(["--steps", "1", "--sleep", "0"], label="env", module="backend.dummy")
    assert job.dir.parent == tmp_path / "env-jobs"
    assert [j.id for j in jobs.list_jobs()] == [job.id]
    assert wait_done(job).state == "finished"


def test_supervisor_killed_without_exit_code_is_failed(tmp_path):
    job = jobs.start_job(["--steps", "1000", "--sleep", "0.1"], jobs_dir=tmp_path, label="crash",
                         module="backend.dummy")
    deadline = time.monotonic() + 30
    while "child_pid" not in json.loads((job.dir / "job.json").read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)  # supervisor and training die at once, nobody writes exit_code
    wait_gone(job.pid)
    status = jobs.job_status(job)
    assert not (job.dir / "exit_code").exists()
    assert status.state == "failed"
    assert status.exit_code is None
    assert "without recording an exit code" in status.message


def test_log_tail_keeps_last_lines_and_last_progress_bar_state(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text("".join(f"line {i}\n" for i in range(100)) + "bar 10%\rbar 50%\rbar 100%\n")
    tail = jobs._tail(log, 5).splitlines()
    assert tail == ["line 96", "line 97", "line 98", "line 99", "bar 100%"]


def test_time_left_in_the_running_pass_from_its_own_rate():
    from backend.core.jobs import pass_time_left
    from backend.core.progress import ProgressEvent as E

    first_epoch = [E("batch", 1, 100, time=0.0), E("batch", 21, 100, time=40.0), E("epoch", 1, 5, time=300.0)]
    running = [E("batch", 1, 100, time=310.0), E("batch", 21, 100, time=320.0), E("batch", 41, 100, time=330.0)]
    # the second epoch's pass runs at 2 batches/s (the first epoch's 0.5/s is not mixed in): 59 batches, 29.5 s
    assert pass_time_left(first_epoch + running) == ("batch", 29.5)
    assert pass_time_left(first_epoch + running[:1]) is None          # not moved yet
    assert pass_time_left([E("batch", 1, 100, time=0.0), E("batch", 3, 100, time=2.0)]) is None  # under 5 s
    assert pass_time_left(first_epoch) is None                        # an epoch just ended: no pass runs yet
    assert pass_time_left([E("eval", 1, None, time=0.0), E("eval", 9, None, time=60.0)]) is None  # no total


def test_time_left_counts_only_measured_batches_of_the_running_pass():
    """Under load the estimate must follow the batches measured now: not the wait before the first batch, not a
    validation between passes, not an earlier pass's (idle-machine) rate."""
    from backend.core.jobs import pass_time_left
    from backend.core.progress import ProgressEvent as E

    # a pass whose first batch ends 100 s after the job started (start-up, data loading): only 1 -> 41 counts
    slow_start = [E("batch", 1, 81, time=100.0), E("batch", 21, 81, time=110.0), E("batch", 41, 81, time=120.0)]
    assert pass_time_left(slow_start) == ("batch", 20.0)             # 40 batches in 20 s; 40 more
    # an idle first epoch (10 batches/s), a long validation, then the machine gets busy (1 batch/s)
    idle = [E("batch", 1, 81, time=0.0), E("batch", 41, 81, time=4.0), E("batch", 81, 81, time=8.0)]
    busy = [E("batch", 1, 81, time=500.0), E("batch", 11, 81, time=510.0), E("batch", 21, 81, time=520.0)]
    assert pass_time_left(idle + [E("epoch", 1, 3, time=400.0)] + busy) == ("batch", 60.0)
    # no event of another stage between the passes: the step falling back still starts a new pass
    assert pass_time_left(idle + busy) == ("batch", 60.0)
    # the previous pass ended at the step this one starts from, but it counted another total (say valid batches)
    valid = [E("batch", 1, 5, time=0.0), E("batch", 1, 5, time=300.0)]
    assert pass_time_left(valid + busy) == ("batch", 60.0)
    # a clock that went back (events of an earlier run appended before) never widens the window
    assert pass_time_left([E("batch", 1, 81, time=900.0)] + busy) == ("batch", 60.0)


def test_progress_line_says_how_long_the_running_pass_has_to_go():
    from backend.core.jobs import JobStatus
    from backend.core.progress import ProgressEvent as E
    from ui.components.job_panel import progress_text

    events = [E("epoch", 1, 5, {"valid_mrr": 0.5}, time=0.0), E("batch", 1, 27212, {"loss": 4.0}, time=10.0),
              E("batch", 21, 27212, {"loss": 3.9}, time=24.0)]  # 20 batches in 14 s: 27,191 more take 5 h 17 min
    assert progress_text(JobStatus("running", None, events)) == \
        "epoch 1/5 · valid MRR 0.500 · about 5 h 17 min to the last batch"
    assert progress_text(JobStatus("finished", 0, events)) == "epoch 1/5 · valid MRR 0.500"


def test_progress_curve_ticks_every_step_only_over_a_short_span():
    from backend.core.progress import ProgressEvent as E
    from ui.components.job_panel import progress_figure

    batches = progress_figure([E("batch", b, 27212, {"loss": 9.0 - b / 100}) for b in (1, 21, 41, 61)])
    epochs = progress_figure([E("epoch", e, 5, {"loss": 1.0 / e}) for e in (1, 2, 3)])
    assert batches.layout.xaxis.dtick is None  # 4 points over 60 batches: not 64 crowded ticks
    assert epochs.layout.xaxis.dtick == 1
