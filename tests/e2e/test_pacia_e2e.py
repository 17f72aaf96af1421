"""The molecule page with PACIA chosen, in a real browser: upload -> predictions with the depth per query ->
PACIA's evidence (the generated FiLM values, the depth chosen per query) -> screenshot."""
from __future__ import annotations


import pytest

from .conftest import private_runs, PROJECT_ROOT, full_page_screenshot, streamlit_server, wait_for_app

HEADING = "Molecular properties (few-shot)"
SHIPPED = PROJECT_ROOT / "models" / "pacia" / "tox21-10-shot"
TABLE = ("smiles,label\nCC(=O)O,1\nOC(=O)c1ccccc1,1\nCCCCC(=O)O,1\nCCO,0\nc1ccccc1O,0\nCCN(CC)CC,0\n"
         "OC(=O)c1ccncc1,\nCCCCCCCC(=O)O,\nOCc1ccccc1,\nNCC(=O)O,\n")


@pytest.fixture(scope="module")
def mol_server(tmp_path_factory, data_root):
    if not (data_root / "molecules" / "pretrain_gnns").is_dir():
        pytest.skip(f"the pretrain-gnns weights are not under {data_root}")
    if not (SHIPPED / "card.json").is_file():
        pytest.skip("no shipped PACIA checkpoint")
    tmp = tmp_path_factory.mktemp("pacia-e2e")
    with private_runs(tmp), streamlit_server("molecules-pacia") as srv:
        yield srv


def test_pacia_upload_predictions_and_adaptive_parameters(page, mol_server, tmp_path):
    page.goto(f"{mol_server.url}/molecules")
    wait_for_app(page, heading=HEADING)
    main = page.get_by_test_id("stMain")
    main.get_by_text("PACIA: Few-shot molecular property prediction", exact=False).first.click()
    wait_for_app(page)
    upload = tmp_path / "episode.csv"
    upload.write_text(TABLE, encoding="utf-8")
    main.get_by_test_id("stFileUploader").locator('input[type="file"]').first.set_input_files(str(upload))
    page.wait_for_timeout(500)
    wait_for_app(page)
    main.get_by_role("heading", name="Predictions").first.wait_for()
    main.get_by_text("Adaptive parameters generated for this task", exact=False).first.wait_for()
    main.get_by_text("Propagation depth chosen per query", exact=False).first.wait_for()
    assert main.get_by_text("3,000 values", exact=False).count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)
    shot = full_page_screenshot(page, "molecules_pacia")
    assert shot.stat().st_size > 10_000
