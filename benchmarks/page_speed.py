"""How fast the dashboard's pages paint and settle in a real browser, on this machine.

``python benchmarks/page_speed.py [--warm 3] [--pages zoo kg-reasoning] [--out FILE]``

For every page of ``ui.PAGES`` whose file exists it starts a fresh ``streamlit run streamlit_app.py`` (headless,
127.0.0.1, a free port, ``$PARSIMONY_DATA`` from the environment), drives Debian's Chromium (``/usr/bin/chromium``
or ``$CHROMIUM``; never ``playwright install``) with Playwright at 1280x800 and measures, in the browser's own
clock (``performance.now()`` from the navigation's start):

- ``cold_s``: the first load of the page on the fresh server (the entry point's and the page's imports, empty
  ``st.cache_*``) until its title (the ``h1``) is on screen; ``cold_settled_s``: until the script has stopped
  (the app's script state is ``notRunning``, no "Running" status widget, no skeleton) and stayed so for 0.7 s;
- ``warm_s`` / ``warm_settled_s``: the median of ``--warm`` further loads (a new session each, as a browser
  reload; modules imported, caches filled);
- on the knowledge-graph page, ``widget_s``: one widget that runs no model, timed from the click until the
  script has settled again: the train panel's *Dataset* selectbox changed (a server rerun of the page), and
  ``widget_expander_s``: opening the *Train* expander (drawn by the browser alone).

It prints one JSON object and writes it to ``benchmarks/results/page-speed-cpu.json`` (``--out``) with the load
average at the start and the end: on a busy machine the figures are upper bounds of what an idle one gives.
Targets on an idle CPU: every page's first paint under 1.5 s warm, each widget that runs no model under 1 s.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from ui import PAGES  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 800}
OUT = PROJECT_ROOT / "benchmarks" / "results" / "page-speed-cpu.json"
SERVER_START_TIMEOUT = 180.0
LOAD_TIMEOUT = 300.0
QUIET_MS = 700          # the script must stay stopped this long to count as settled
KG_PAGE = "kg-reasoning"
TRAIN_EXPANDER = "Train a RED-GNN model"

#: installed before every document: records when the title first shows and every change of the script state
INIT_SCRIPT = """
(() => {
  window.__speed = {h1: null, states: [], last: null};
  const look = () => {
    const s = window.__speed;
    if (s.h1 === null) {
      const h = document.querySelector('[data-testid="stMain"] h1');
      if (h && h.textContent.trim()) s.h1 = performance.now();
    }
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : null;
    if (state !== s.last) { s.last = state; s.states.push([state, performance.now()]); }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true,
                                                attributeFilter: ['data-test-script-state']});
})();
"""

#: (settled, since): the script stopped, nothing running or loading, and since when it has been so
SETTLED_JS = """
() => {
  const s = window.__speed;
  const running = [...document.querySelectorAll('[data-testid="stStatusWidget"]')]
    .some(e => /Running/.test(e.textContent));
  const skeleton = document.querySelector('[data-testid="stSkeleton"]') !== null;
  const stopped = s && s.last === 'notRunning' && !running && !skeleton;
  const since = stopped ? s.states[s.states.length - 1][1] : null;
  return {stopped, since, now: performance.now(), h1: s ? s.h1 : null};
}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@contextlib.contextmanager
def streamlit_server(log: Path) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free port; yields its url once /_stcore/health answers."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer in {SERVER_START_TIMEOUT:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_settled(page, timeout: float = LOAD_TIMEOUT, need_h1: bool = True) -> dict:
    """Poll until the script has been stopped for QUIET_MS; returns the browser's times (ms)."""
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate(SETTLED_JS)
        if state["stopped"] and state["now"] - state["since"] >= QUIET_MS and (state["h1"] is not None or not need_h1):
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"page did not settle in {timeout:.0f} s: {state}")
        page.wait_for_timeout(50)


def timed_load(page, url: str) -> tuple[float, float]:
    """(seconds to the title, seconds to settled) of one load of ``url``, from the navigation's start."""
    page.goto(url, wait_until="commit")
    state = wait_settled(page)
    return round(state["h1"] / 1000, 3), round(state["since"] / 1000, 3)


def timed_widget(page, action) -> float:
    """Seconds from ``action()`` (a click) until the script has settled again (or the click's own time when it
    starts no script run)."""
    t0 = page.evaluate("() => { window.__speed.states = [[window.__speed.last, performance.now()]]; "
                       "return performance.now(); }")
    action()
    page.wait_for_timeout(100)  # a rerun request goes out at once; the state leaves notRunning
    state = wait_settled(page, need_h1=False)
    return round(max(0.0, state["since"] - t0) / 1000, 3)


def kg_widgets(page) -> dict:
    """The train expander opened (browser only) and its Dataset selectbox changed (a rerun, no model call)."""
    out = {}
    summary = page.locator("summary").filter(has_text=TRAIN_EXPANDER).first
    if summary.count() == 0:
        return {"widget_note": f"no '{TRAIN_EXPANDER}' expander on the page"}
    summary.scroll_into_view_if_needed()
    expander = page.locator('[data-testid="stExpander"]').filter(has=summary).last
    select = expander.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").first
    t0 = page.evaluate("() => performance.now()")
    summary.click()
    select.wait_for(state="visible")
    out["widget_expander_s"] = round((page.evaluate("() => performance.now()") - t0) / 1000, 3)
    combobox = select.locator('input[role="combobox"]')
    current = combobox.input_value()
    options = page.get_by_role("listbox").get_by_role("option")
    for _ in range(3):  # the list opens in the browser alone; a click landing mid-render may not open it
        combobox.click()
        try:
            options.first.wait_for(state="visible", timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try again
            page.keyboard.press("Escape")
    texts = [t.strip() for t in options.all_inner_texts()]  # the rendered ones (the list is virtualised)
    other = next((t for t in texts if t and t != current), None)
    if other is None:
        raise RuntimeError(f"the Dataset selectbox offers no other choice than {current!r}")
    out["widget_choice"] = f"{current} -> {other}"
    out["widget_s"] = timed_widget(page, page.get_by_role("option", name=other, exact=True).first.click)
    out["widget"] = "train panel's Dataset selectbox changed (page rerun, no model call)"
    return out


def measure_page(browser, spec, warm: int, logs: Path) -> dict:
    url_path = spec.url_path
    result: dict = {"title": spec.title, "url": f"/{url_path}"}
    with streamlit_server(logs / f"page-speed-{url_path or 'home'}.log") as base:
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(INIT_SCRIPT)
        page = context.new_page()
        try:
            url = f"{base}/{url_path}"
            result["cold_s"], result["cold_settled_s"] = timed_load(page, url)
            runs = [timed_load(page, url) for _ in range(warm)]
            result["warm_runs_s"] = [r[0] for r in runs]
            result["warm_settled_runs_s"] = [r[1] for r in runs]
            result["warm_s"] = round(statistics.median(r[0] for r in runs), 3) if runs else None
            result["warm_settled_s"] = round(statistics.median(r[1] for r in runs), 3) if runs else None
            if url_path == KG_PAGE:
                result.update(kg_widgets(page))
        except Exception as exc:  # noqa: BLE001 - one broken page must not lose the others' figures
            result["error"] = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            context.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=3, help="warm loads per page (default 3)")
    parser.add_argument("--pages", nargs="*", default=None, help="url paths to measure ('' or 'home' for home)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--label", default="", help="a note stored with the results (e.g. 'before')")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)", file=sys.stderr)
        return 2
    wanted = None if args.pages is None else {"" if p in ("home", "/") else p.strip("/") for p in args.pages}
    specs = [p for p in PAGES if p.exists and (wanted is None or p.url_path in wanted)]
    started = time.time()
    report = {
        "benchmark": "page_speed", "label": args.label,
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "load_average_start": load_average()},
        "settings": {"viewport": VIEWPORT, "warm_loads": args.warm, "quiet_ms": QUIET_MS, "browser": CHROMIUM,
                     "server": "fresh `streamlit run streamlit_app.py` per page",
                     "parsimony_data": os.environ.get("PARSIMONY_DATA", "")},
        "targets": {"warm_s": 1.5, "widget_s": 1.0},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "pages": {},
    }
    logs = PROJECT_ROOT / "test-artifacts"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for spec in specs:
                report["pages"][spec.url_path or "home"] = measure_page(browser, spec, args.warm, logs)
                print(json.dumps({spec.url_path or "home": report["pages"][spec.url_path or "home"]}),
                      file=sys.stderr, flush=True)
        finally:
            browser.close()
    report["machine"]["load_average_end"] = load_average()
    report["seconds"] = round(time.time() - started, 1)
    text = json.dumps(report, indent=1)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
