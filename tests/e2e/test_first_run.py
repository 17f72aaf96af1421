"""A scientist's first run in a real browser: the page's dataset is missing, the page offers the command and a
Download button; clicking it shows a progress bar, and then the data is present.

`streamlit run tests/e2e/pages/first_run_page.py` (a page that calls ui.components.data_missing for a toy
dataset) against a local HTTP server in this process that serves the toy file slowly enough to watch.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, PROJECT_ROOT, SERVER_START_TIMEOUT, _free_port

PAGE = "tests/e2e/pages/first_run_page.py"
BODY = b"".join(b"person %d\tparent of\tperson %d\n" % (i, 2 * i + 1) for i in range(60_000))  # ~1.8 MB
CHUNK, PAUSE = 64 * 1024, 0.08  # about 2.5 s for the whole file: the progress bar is there to see
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def slow_file_server() -> Iterator[tuple[str, list[str]]]:
    """http.server on 127.0.0.1 (port 0) serving BODY at /triples.txt in paced chunks; yields (url, requests)."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            if self.path != "/triples.txt":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            for start in range(0, len(BODY), CHUNK):
                self.wfile.write(BODY[start:start + CHUNK])
                self.wfile.flush()
                time.sleep(PAUSE)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/triples.txt", requests
    httpd.shutdown()
    httpd.server_close()


@contextlib.contextmanager
def page_server(env_extra: dict[str, str]) -> Iterator[str]:
    """`streamlit run` of the test page on a free port (the project's .streamlit/config.toml applies)."""
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "streamlit-first-run.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", **env_extra)
    cmd = [sys.executable, "-m", "streamlit", "run", PAGE, "--server.port", str(port), "--server.address",
           "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_download_button_fetches_the_missing_dataset(page, slow_file_server, tmp_path):
    url, requests = slow_file_server
    root = tmp_path / "data"
    sha = hashlib.sha256(BODY).hexdigest()
    size_text = f"{len(BODY) / 1e6:.1f} MB"
    env = {"FIRST_RUN_URL": url, "FIRST_RUN_SHA256": sha, "FIRST_RUN_BYTES": str(len(BODY)),
           "FIRST_RUN_DATA_ROOT": str(root)}
    with page_server(env) as base:
        page.goto(base)
        main = page.locator('[data-testid="stMain"]')
        page.get_by_role("heading", name="First run").wait_for()
        warning = page.locator('[data-testid="stAlertContentWarning"]')
        warning.wait_for()
        assert "toy" in warning.inner_text() and str(root) in warning.inner_text()
        assert "python -m backend fetch-data toy" in main.locator('[data-testid="stCode"]').inner_text()
        assert "CC0-1.0" in main.inner_text() and size_text in main.inner_text()
        assert requests == []  # nothing is downloaded before the click

        page.get_by_role("button", name=f"Download toy ({size_text})").click()
        main.locator('[data-testid="stProgress"]').first.wait_for(timeout=30_000)
        # fed by the download's progress callback: bytes so far of the file's size
        main.locator('[data-testid="stProgress"]').filter(has_text="Downloading triples.txt").wait_for(timeout=30_000)

        page.get_by_text("The toy knowledge graph is ready.").wait_for(timeout=120_000)
        success = page.locator('[data-testid="stAlertContentSuccess"]')
        assert "toy is present under" in success.inner_text() and "verified against their sha256" in success.inner_text()
        assert main.locator('[data-testid="stProgress"]').count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Traceback" not in main.inner_text()
    assert requests == ["/triples.txt"]
    assert hashlib.sha256((root / "toy/set/triples.txt").read_bytes()).hexdigest() == sha
