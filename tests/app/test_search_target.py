"""A search started from a page runs where the sidebar says: this machine, or the Ray cluster at the given address."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent / "pages" / "search_target_page.py")
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def started(monkeypatch, tmp_path):
    import ui.components.job_panel as panel

    calls = []

    def fake_start(argv, jobs_dir=None, label=None, module="backend"):
        calls.append(list(argv))
        raise RuntimeError("not started in this test")

    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path))
    monkeypatch.setattr(panel, "start_job", fake_start)
    return calls


def _start(at: AppTest) -> None:
    at.button(key="search-target-test__start").click().run()
    assert not at.exception, at.exception


def test_searches_run_here_by_default_and_on_ray_when_chosen(started):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    _start(at)
    assert started[-1] == ["search", "toy", "--dataset", "line"]
    at.sidebar.radio[0].set_value("Ray cluster").run()
    at.sidebar.text_input[0].set_value("ray://head:10001").run()
    _start(at)
    assert started[-1] == ["search", "toy", "--dataset", "line", "--executor", "ray", "--ray-address", "ray://head:10001"]
    assert at.error[-1].value.startswith("Could not start toy search")
