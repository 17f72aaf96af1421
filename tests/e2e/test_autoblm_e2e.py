"""The "Scoring-function search" page in a real browser: the trajectory is drawn, clicking a point shows that
candidate's structure, and a search started from the browser appears and grows.

A tiny finished search (umls, evolutionary, d 8; the settings of tests/autoblm_support.py) is written to a temporary runs folder; the page gets its own
server with that runs folder and a temporary jobs folder, so nothing the user ran is touched.
"""
from __future__ import annotations


import pytest


from .conftest import choose, full_page_screenshot, private_runs, streamlit_server, wait_for_app

HEADING = "Scoring-function search"
LABEL = "umls · evolutionary (your run)"


@pytest.fixture(scope="module")
def search_server(tmp_path_factory, data_root):
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["umls"], data_root) != "present":
        pytest.skip(f"umls is not under {data_root}")
    tmp = tmp_path_factory.mktemp("autoblm-e2e")
    from backend.methods.autoblm.config import config_for  # noqa: F401 - import before the env changes

    with private_runs(tmp):
        import dataclasses

        from backend.methods.autoblm import METHOD

        config = dataclasses.replace(config_for("umls"), search_dim=8, search_epochs=1, budget=7, per_round=2,
                                     sample=32, algorithm="evolutionary",
                                     trajectory=str(tmp / "runs" / "autoblm" / "umls-evolutionary" / "trajectory.jsonl"))
        METHOD.search(config, data_dir=str(data_root))
        with streamlit_server("autoblm") as srv:
            yield srv


def test_trajectory_click_and_search_from_the_browser(page, search_server):
    page.goto(f"{search_server.url}/kg-search")
    wait_for_app(page, heading=HEADING)
    main = page.get_by_test_id("stMain")
    if main.get_by_role("combobox", name="Search", exact=True).first.input_value() != LABEL:
        main.get_by_text("Best valid MRR").first.wait_for()  # the first search listed (shipped, where there is one)
        page.wait_for_timeout(1000)
        full_page_screenshot(page, "kg_search_shipped")
        choose(page, "Search", LABEL)
    main.get_by_text("Best valid MRR").first.wait_for()
    chart = main.locator(".js-plotly-plot").first
    chart.wait_for(state="visible")

    # click the first candidate's point: the selected candidate becomes #1
    point = chart.locator("g.points path.point").first
    point.wait_for(state="attached")
    point.click(force=True)
    main.get_by_text("Selected candidate #1", exact=True).first.wait_for(timeout=60_000)
    assert main.locator(".katex").count() >= 1, "no formula"

    # a small search from the browser: umls, progressive, 5 candidates
    main.get_by_role("button", name="Start search").first.scroll_into_view_if_needed()
    budget = main.get_by_role("spinbutton", name="Candidates (budget)").first
    budget.fill("5")
    budget.press("Enter")
    wait_for_app(page)
    main.get_by_role("button", name="Start search").first.click()
    main.get_by_text("search autoblm --dataset umls").first.wait_for(timeout=60_000)
    main.get_by_text("Your umls progressive search:").first.wait_for(timeout=240_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)
    shot = full_page_screenshot(page, "kg_search")
    assert shot.stat().st_size > 10_000
    cancel = main.get_by_role("button", name="Cancel")
    if cancel.count():
        cancel.first.click()
