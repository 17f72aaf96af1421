"""Browser tests: a real `streamlit run` on 127.0.0.1 and Debian's Chromium driven by Playwright.

Chromium is never downloaded (no `playwright install`): the tests use /usr/bin/chromium
(override with $CHROMIUM). Without it they skip with the reason, except under CI (CI=true), where a
skipped browser test would hide a broken setup, so they fail instead.

Set PARSIMONY_UPDATE_SCREENSHOTS=1 to also copy each page's screenshot into assets/screenshots/
(the README's pictures, palette-compressed PNGs).
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
README_SHOTS = PROJECT_ROOT / "assets" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT = 120  # s; the first start imports torch
PAGE_TIMEOUT_MS = 120_000


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str):
    if in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run in CI)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def private_runs(folder: Path) -> Iterator[Path]:
    """While the block runs: runs and jobs under ``folder`` ($PARSIMONY_RUNS, $PARSIMONY_JOBS; imported graphs go
    under runs/ too), so a test's server never touches what the user trained; the variables are restored after."""
    names = ("PARSIMONY_RUNS", "PARSIMONY_JOBS", "PARSIMONY_GRAPHS")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["PARSIMONY_RUNS"] = str(folder / "runs")
    os.environ["PARSIMONY_JOBS"] = str(folder / "jobs")
    os.environ.pop("PARSIMONY_GRAPHS", None)
    try:
        yield folder
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def streamlit_server(name: str = "server", script: str = "streamlit_app.py",
                     env_extra: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `streamlit run SCRIPT` (default: the app) on a free port and wait for /_stcore/health."""
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"streamlit-{name}.log"
    env = dict(os.environ, **(env_extra or {}))
    env.setdefault("PARSIMONY_DATA", str(PROJECT_ROOT.parent / "shared" / "data"))
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200 and resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not become healthy in {SERVER_START_TIMEOUT} s:\n"
                            f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield Server(url=url, process=proc, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with streamlit_server("session") as srv:
        yield srv


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium) "
                     "or set $CHROMIUM; `playwright install` is not used")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed: pip install -r requirements-dev.txt")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure is reported the same way
        pw.stop()
        skip_or_fail(f"Chromium at {CHROMIUM} could not be started: {exc}")
    yield browser
    browser.close()
    pw.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell that the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:  # what the browser showed when the test failed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a broken page must not hide the test's own failure
            pass
    context.close()


def wait_for_app(page, heading: str | None = None, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Wait until the page has rendered and Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=timeout_ms)
    if heading is not None:
        page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=timeout_ms)
    # the script has started drawing the page (on a busy machine the first run can start late,
    # before the status widget ever shows "Running")
    page.locator('[data-testid="stMain"] [data-testid="stElementContainer"]').first.wait_for(timeout=timeout_ms)
    # the app root says data-test-script-state="running" while the script runs (the status widget's "Running...",
    # checked too, is not drawn under toolbarMode "minimal"); wait until neither shows, twice in a row a short
    # moment apart (a rerun can start right after the first run ends)
    deadline = time.monotonic() + timeout_ms / 1000
    quiet = 0
    while quiet < 2:
        running = page.locator('[data-testid="stApp"][data-test-script-state="running"]').count() \
            + page.locator('[data-testid="stStatusWidget"]').filter(has_text="Running").count()
        if running == 0:
            quiet += 1
        else:
            quiet = 0
        if time.monotonic() > deadline:
            raise AssertionError("Streamlit still running after the timeout")
        page.wait_for_timeout(400)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=timeout_ms)


def combobox(page, label: str):
    """A st.selectbox of the main area, found by its label (Streamlit renders it as an ARIA combobox)."""
    return page.get_by_test_id("stMain").get_by_role("combobox", name=label, exact=True).first


def choose(page, label: str, option: str, typed: str | None = None) -> None:
    """Open the selectbox called ``label``, optionally type to filter its options, and click ``option``; then wait
    for the rerun the choice starts."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect  # requirements-dev; the browser fixture skips (or fails under CI) without it

    for attempt in range(3):  # a rerun still in flight can close the list under the click; open it again
        wait_for_app(page)
        box = combobox(page, label)
        box.click()
        if typed is not None:
            box.fill(typed)
        target = page.get_by_role("option", name=option, exact=True).first
        try:
            target.wait_for(state="visible", timeout=30_000)
            target.click(timeout=30_000)
            # the list closes once the choice is taken; a click that a rerun swallowed leaves it open (and a typed
            # filter equal to the option would pass the value check below without a choice)
            page.get_by_role("listbox").first.wait_for(state="hidden", timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(1000)
    expect(combobox(page, label)).to_have_value(option)  # retried until the rerun shows the choice
    page.wait_for_timeout(500)  # let the rerun the choice triggers begin before waiting for it to end
    wait_for_app(page)


def wait_for_charts(page, timeout_ms: int = 60_000) -> None:
    """Wait until every visible plotly chart on the page is drawn (plotly's script loads lazily: until then a chart
    is a grey box, which a screenshot taken on a busy machine caught). A chart still grey after ``timeout_ms`` is
    left as it is: the screenshot shows it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
            ".filter(c => c.offsetParent !== null).every(c => c.querySelector('.js-plotly-plot .main-svg'))",
            timeout=timeout_ms)
    except PlaywrightTimeout:
        pass


def full_page_screenshot(page, name: str) -> Path:
    """A screenshot of the whole page (Streamlit scrolls inside its main area, so the viewport is
    grown to the content's height first, once its charts are drawn) under test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wait_for_charts(page)
    height = page.evaluate(
        "() => Math.max(...['[data-testid=\"stMain\"]', '[data-testid=\"stMainBlockContainer\"]',"
        " '[data-testid=\"stSidebar\"]'].map(s => document.querySelector(s)?.scrollHeight || 0))"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(min(max(height + 40, VIEWPORT["height"]), 7000))})
    page.wait_for_timeout(800)  # charts resize
    wait_for_charts(page)  # charts a taller viewport brings into view
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    if os.environ.get("PARSIMONY_UPDATE_SCREENSHOTS") == "1":
        copy_for_readme(path)
    return path


def copy_for_readme(path: Path, max_bytes: int = 300_000) -> Path:
    """Copy a screenshot to assets/screenshots/ as a palette PNG under ``max_bytes`` (halving the
    width until it fits)."""
    from PIL import Image

    README_SHOTS.mkdir(parents=True, exist_ok=True)
    target = README_SHOTS / path.name
    image = Image.open(path).convert("RGB")
    while True:
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(target, optimize=True)
        if target.stat().st_size <= max_bytes or image.width < 500:
            return target
        image = image.resize((int(image.width * 0.8), int(image.height * 0.8)), Image.Resampling.LANCZOS)

