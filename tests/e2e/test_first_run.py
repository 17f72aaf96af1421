"""A scientist's first run in a real browser: the page's dataset is missing, the page offers the command and a
Download button; clicking it shows a progress bar, and then the data is present.

`streamlit run tests/e2e/pages/first_run_page.py` (a page that calls ui.components.data_missing for a toy
dataset) against a local HTTP server in this process that serves the toy file slowly enough to watch.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import streamlit_server

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


def test_download_button_fetches_the_missing_dataset(page, slow_file_server, tmp_path):
    url, requests = slow_file_server
    root = tmp_path / "data"
    sha = hashlib.sha256(BODY).hexdigest()
    size_text = f"{len(BODY) / 1e6:.1f} MB"
    env = {"FIRST_RUN_URL": url, "FIRST_RUN_SHA256": sha, "FIRST_RUN_BYTES": str(len(BODY)),
           "FIRST_RUN_DATA_ROOT": str(root)}
    with streamlit_server("first-run", PAGE, env) as server:
        page.goto(server.url)
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
