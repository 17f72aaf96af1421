"""The Drug interactions page in a real browser: a pair by name -> predicted types -> evidence graph -> downloads,
then a CSV of pairs with bad rows.

Uses the shipped S1 checkpoint (models/emergnn/drugbank-S1) when there is one, else a freshly initialised one in a
temporary runs folder; the page gets its own server with temporary runs and jobs folders.
"""
from __future__ import annotations

import json

import pytest

from tests.emergnn_support import SHIPPED, fresh_checkpoint, require_ddi

from .conftest import choose, full_page_screenshot, private_runs, streamlit_server, wait_for_app

HEADING = "Drug interactions"


@pytest.fixture(scope="module")
def ddi_server(tmp_path_factory, data_root):
    require_ddi(data_root)
    tmp = tmp_path_factory.mktemp("ddi-e2e")
    if not (SHIPPED["S1"] / "card.json").is_file():
        fresh_checkpoint(tmp / "runs" / "emergnn" / "drugbank-e2e", data_root, "S1")
    with private_runs(tmp), streamlit_server("ddi") as srv:
        yield srv


def test_pair_prediction_evidence_download_and_csv(page, ddi_server, tmp_path):
    page.goto(f"{ddi_server.url}/ddi")
    wait_for_app(page, heading=HEADING)
    main = page.get_by_test_id("stMain")
    main.get_by_text("CC BY-NC 4.0").first.wait_for()
    choose(page, "Drug 1", "Warfarin (DB00682)", "warfar")
    choose(page, "Drug 2", "Simvastatin (DB00641)", "simvast")
    main.get_by_text("Most likely interaction types").first.wait_for()
    main.get_by_text("Removing the").first.wait_for(timeout=120_000)          # the evidence's faithfulness line
    graph = main.locator("iframe").first
    graph.scroll_into_view_if_needed()
    page.frame_locator('[data-testid="stMain"] iframe').first.locator("canvas").first.wait_for(state="visible")
    wait_for_app(page)

    with page.expect_download() as info:
        main.get_by_role("button", name="Evidence (JSON)").first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    evidence = json.loads(target.read_text(encoding="utf-8"))
    assert evidence["method"] == "emergnn" and evidence["edges"]
    assert evidence["summary"]["drug 1"] == "Warfarin (DB00682)"
    assert evidence["summary"]["drug 2"] == "Simvastatin (DB00641)"
    kinds = {n["kind"] for n in evidence["nodes"]}
    assert "Drug" in kinds

    area = main.get_by_role("textbox", name="…or paste rows").first
    area.scroll_into_view_if_needed()
    area.fill("drug1,drug2\nWarfarin,Simvastatin\nWarfarn,Simvastatin\nSimvastatin,Simvastatin\n")
    area.press("Control+Enter")
    wait_for_app(page)
    main.get_by_text("1 pair predicted").first.wait_for(timeout=120_000)
    warning = main.get_by_text("row 3, column drug1: unknown drug").first
    warning.wait_for()
    assert "closest: Warfarin" in warning.inner_text()
    main.get_by_text("a drug paired with itself").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)
    shot = full_page_screenshot(page, "ddi_pair")
    assert shot.stat().st_size > 10_000
