"""The Formulas page (GSR) in a real browser: the formula as rendered maths (KaTeX), a click on a Pareto point, an
upload with a bad row, and a full-page screenshot."""
from __future__ import annotations


import pytest

from .conftest import PROJECT_ROOT, full_page_screenshot, streamlit_server, wait_for_app

HEADING = "Formulas"


@pytest.fixture(scope="module")
def gsr_server(tmp_path_factory):
    if not any((PROJECT_ROOT / "models" / "gsr").glob("*/card.json")):
        pytest.fail("no shipped GSR result under models/gsr")
    tmp = tmp_path_factory.mktemp("gsr-e2e")
    env = {"PARSIMONY_RUNS": str(tmp / "runs"), "PARSIMONY_JOBS": str(tmp / "jobs")}
    with streamlit_server("gsr", env_extra=env) as srv:
        yield srv, tmp


def test_formulas_page_in_a_browser(gsr_server, page):
    from playwright.sync_api import expect

    srv, tmp = gsr_server
    page.goto(f"{srv.url}/physics")
    wait_for_app(page, HEADING)
    main = page.get_by_test_id("stMain")
    # the formula is rendered maths (KaTeX), not text
    maths = main.locator(".katex >> visible=true")
    expect(maths.first).to_be_visible(timeout=60_000)
    assert maths.count() >= 3
    # a click on a Pareto point selects that flow
    chart = main.get_by_test_id("stPlotlyChart").first
    chart.scroll_into_view_if_needed()
    points = chart.locator(".scatterlayer .trace").nth(1).locator(".point")
    expect(points.first).to_be_visible()
    points.first.click(force=True)
    page.wait_for_timeout(800)
    wait_for_app(page)
    expect(main.get_by_text("was evaluated during the search but not chosen").first).to_be_visible(timeout=60_000)
    # upload a graph CSV with a bad row
    nodes = tmp / "nodes.csv"
    edges = tmp / "edges.csv"
    nodes.write_text("graph,node,in_V,gout_P\n0,a,0.5,2.25\n0,b,-1.0,2.25\n0,c,zero,2.25\n"
                     "1,a,1.0,1.0\n1,b,0.0,1.0\n1,c,0.0,1.0\n")
    edges.write_text("graph,source,target,in_R\n*,a,b,1.0\n*,b,c,2.0\n")
    inputs = main.locator("input[type=file]")
    inputs.nth(0).set_input_files(str(nodes))
    wait_for_app(page)
    inputs.nth(1).set_input_files(str(edges))
    wait_for_app(page)
    expect(main.get_by_text("row 4, column in_V").first).to_be_visible(timeout=60_000)
    expect(main.get_by_text("graphs read").first).to_be_visible()
    full_page_screenshot(page, "gsr-formulas")
