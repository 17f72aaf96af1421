"""Evidence you can test, in a real browser: the take-away report opens with the network cut off (its evidence graph
and its plotly figures render from the file alone), and the KG page shows the faithfulness panel and runs one
what-if edit."""
from __future__ import annotations

import pytest

from .conftest import PROJECT_ROOT, full_page_screenshot, wait_for_app
from .test_kg_reasoning_e2e import kg_server, open_checkpoint  # noqa: F401 (kg_server: the page's own server)

SHIPPED = PROJECT_ROOT / "models" / "redgnn" / "family"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, data_root):
    from backend.core.data import CATALOG, dataset_status
    from backend.core.report import method_report
    from backend.registry import get_method

    if dataset_status(CATALOG["family"], data_root) != "present":
        pytest.skip(f"family is not under {data_root}: python -m backend fetch-data family")
    if not (SHIPPED / "card.json").is_file():
        pytest.skip("no shipped family checkpoint")
    method = get_method("redgnn")
    lm = method.load(SHIPPED, device="cpu")
    h, r, t = (int(x) for x in lm.kg.test[0].tolist())
    _, facts = lm.fidelity({"head": h, "relation": r, "answer": t})
    strongest = facts.iloc[0]  # the what-if removes the evidence's strongest fact
    edit = ("remove", int(strongest["head_id"]), int(strongest["relation_id"]), int(strongest["tail_id"]))
    report = method_report(method, lm, {"head": h, "relation": r, "answer": t, "edits": [edit]})
    html, json_path = report.save(tmp_path_factory.mktemp("report") / "report.html")
    return html, json_path


def test_report_renders_offline(browser, report_file):
    import json

    html, json_path = report_file
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
    asked: list[str] = []

    def refuse(route):
        asked.append(route.request.url)
        route.abort()

    context.route("http*://**/*", refuse)  # no request may leave the file
    page = context.new_page()
    try:
        page.goto(html.as_uri())
        page.get_by_role("heading", name="Is the evidence faithful?").wait_for()
        page.locator(".js-plotly-plot .main-svg").first.wait_for(state="visible", timeout=60_000)
        assert page.locator(".js-plotly-plot").count() >= 1
        graph = page.frame_locator("iframe.graph").first
        graph.locator("canvas").first.wait_for(state="visible", timeout=60_000)
        # the vis-network graph has its nodes (the script ran from the file)
        frame = next(f for f in page.frames if f != page.main_frame and f.evaluate("typeof network !== 'undefined'"))
        assert frame.evaluate("network.body.data.nodes.length") >= 2
        assert page.get_by_text("Removing these").count() >= 1
        assert page.get_by_role("heading", name="What if the graph were different?").count() == 1
        assert page.get_by_role("heading", name="Model card and provenance").count() == 1
        assert not asked, asked
        page.wait_for_timeout(800)
        page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "screenshots" / "kg_fidelity_report.png"),
                        full_page=True)
    finally:
        context.close()
    data = json.loads(json_path.read_text(encoding="utf-8"))
    keys = [s["key"] for s in data["sections"]]
    assert keys[:2] == ["answers", "evidence"] and {"fidelity", "what_if", "model_card"} <= set(keys)
    assert data["meta"]["commit"] and data["meta"]["created"]


def test_fidelity_panel_and_one_what_if_on_the_page(page, kg_server):  # noqa: F811
    server, label = kg_server
    main = open_checkpoint(page, server, label)
    main.get_by_text("Removing these").first.wait_for()
    main.get_by_text("Tested ranking:").first.wait_for()
    assert main.locator(".js-plotly-plot").count() >= 2, "no deletion curve beside the answers' chart"
    assert main.get_by_text("fidelity+ (top 5)").count() >= 1
    main.get_by_role("button", name="Remove it").first.click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    main.get_by_text("Edits:").first.wait_for()
    main.get_by_text("removed: (").first.wait_for()
    assert main.get_by_role("button", name="Reset", exact=True).count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)
    shot = full_page_screenshot(page, "kg_fidelity")
    assert shot.stat().st_size > 10_000
    main.get_by_role("button", name="Reset", exact=True).first.click()
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert main.get_by_text("Edits:").count() == 0
