"""The missing-data section (ui/components/data_missing.py): the warning, the command, the size, the licence and
a Download button that fetches a toy dataset from a local HTTP server, verifies it and then reports it present.

The server and the toy catalog are those of tests/unit/test_data.py (http.server on 127.0.0.1, port 0).
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backend.core import data
from tests.support import page_text
from tests.unit.test_data import PLAIN, server, sha, toy_catalog  # noqa: F401 (server is a fixture)
from ui.components.data_missing import _DownloadBar, download_size, format_bytes

pytestmark = pytest.mark.timeout(120)


def _page():
    import os

    import streamlit as st

    from ui.components.data_missing import missing_data_section

    present = missing_data_section(os.environ["DATA_MISSING_TEST_NAME"], os.environ["DATA_MISSING_TEST_ROOT"],
                                   key="toy-data")
    st.markdown("the page goes on with the data" if present else "the page goes on without the data")


@pytest.fixture
def toy(server, monkeypatch, tmp_path):  # noqa: F811 (the server fixture)
    catalog = toy_catalog(server)
    monkeypatch.setattr(data, "CATALOG", catalog)
    monkeypatch.setenv("DATA_MISSING_TEST_NAME", "toy")
    monkeypatch.setenv("DATA_MISSING_TEST_ROOT", str(tmp_path / "data"))
    return catalog["toy"]


def run_page() -> AppTest:
    at = AppTest.from_function(_page, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_format_bytes():
    assert [format_bytes(n) for n in (512, 42_064, 12_300_000, 3_200_000_000)] == \
        ["512 B", "42.1 kB", "12.3 MB", "3.2 GB"]


def test_missing_dataset_offers_the_command_and_a_download_that_makes_it_present(toy, tmp_path, server):  # noqa: F811
    root = tmp_path / "data"
    at = run_page()
    size = sum(f.bytes for f in toy.files)
    assert download_size(toy, data.missing_files(toy, root)) == size
    warning = at.warning[0].value
    assert "**toy**" in warning and str(root) in warning and "toy/set/plain.txt" in warning
    assert [c.value for c in at.code] == ["python -m backend fetch-data toy"]
    caption = at.caption[0].value
    assert format_bytes(size) in caption and "licence: CC0" in caption and "127.0.0.1" in caption
    button = at.button(key="toy-data__download")
    assert button.label == f"Download toy ({format_bytes(size)})"
    assert "the page goes on without the data" in page_text(at)
    assert not list(server.requests)

    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = page_text(at)
    assert "**toy** is present under" in text and "2 of its 2 files downloaded" in text
    assert "the page goes on with the data" in text
    assert not at.warning and not at.get("button") and not at.code
    assert (root / "toy/set/plain.txt").read_bytes() == PLAIN
    assert [r.status for r in data.verify_data(["toy"], root)] == ["ok", "ok"]
    assert data.dataset_status(toy, root) == "present"

    at.run()  # the success line is said once; afterwards the section draws nothing
    assert not at.success and "the page goes on with the data" in page_text(at)


def test_a_bad_download_is_an_error_line_not_a_traceback(toy, tmp_path, server):  # noqa: F811
    server.files["/plain.txt"] = b"tampered\n"
    at = run_page()
    at.button(key="toy-data__download").click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("Could not download toy: checksum mismatch for toy/set/plain.txt")
    assert f"expected sha256 {sha(PLAIN)}" in message and "Traceback" not in message
    assert not at.get("progress")  # the bar is gone
    assert at.warning and at.button(key="toy-data__download")  # try again
    assert not (tmp_path / "data/toy/set/plain.txt").exists()


def test_present_dataset_draws_nothing(toy, tmp_path):
    data.fetch_dataset("toy", tmp_path / "data", progress=lambda e: None)
    at = run_page()
    assert not at.warning and not at.get("button") and not at.code and not at.success
    assert "the page goes on with the data" in page_text(at)


def test_unknown_dataset_is_an_error(toy, monkeypatch):
    monkeypatch.setenv("DATA_MISSING_TEST_NAME", "nope")
    at = run_page()
    assert "unknown dataset 'nope'" in at.error[0].value
    assert "the page goes on without the data" in page_text(at)


def test_download_bar_counts_bytes_over_the_whole_download(toy, tmp_path):
    class Bar:
        def __init__(self):
            self.calls = []

        def progress(self, value, text=None):
            self.calls.append((value, text))

    bar = Bar()
    missing = data.missing_files(toy, tmp_path)
    data.fetch_dataset("toy", tmp_path, progress=_DownloadBar(bar, toy, missing))
    values = [v for v, t in bar.calls if t.startswith("Downloading")]
    assert values == sorted(values) and 0 <= values[0] < 0.5 and values[-1] == pytest.approx(1.0)
    assert any("Downloading plain.txt" in t for _, t in bar.calls)
    assert bar.calls[-1] == (1.0, "Verified 2 of 2 files of toy")
