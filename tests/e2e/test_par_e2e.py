"""The molecule page in a real browser: upload a support/query CSV -> predictions -> structure images -> download.

Uses the shipped Tox21 10-shot PAR checkpoint when there is one; otherwise an untrained one (pretrained GCN
encoder, random head) written to a temporary runs folder and picked as "(your run)"."""
from __future__ import annotations

import csv
import io

import pytest

from tests.par_support import make_par_checkpoint

from .conftest import private_runs, PROJECT_ROOT, full_page_screenshot, streamlit_server, wait_for_app

HEADING = "Molecular properties (few-shot)"
SHIPPED = PROJECT_ROOT / "models" / "par" / "tox21-10-shot"
TABLE = ("smiles,label\nCC(=O)O,1\nOC(=O)c1ccccc1,1\nCCCCC(=O)O,1\nCCO,0\nc1ccccc1O,0\nCCN(CC)CC,0\n"
         "OC(=O)c1ccncc1,\nCCCCCCCC(=O)O,\nOCc1ccccc1,\nNCC(=O)O,\nC1CC,\n")


@pytest.fixture(scope="module")
def mol_server(tmp_path_factory, data_root):
    if not (data_root / "molecules" / "pretrain_gnns").is_dir():
        pytest.skip(f"the pretrain-gnns weights are not under {data_root}")
    tmp = tmp_path_factory.mktemp("par-e2e")
    if not (SHIPPED / "card.json").is_file():
        make_par_checkpoint(tmp / "runs" / "par" / "tox21-e2e", shots=2)
    with private_runs(tmp), streamlit_server("molecules") as srv:
        yield srv


def test_upload_predictions_structures_download(page, mol_server, tmp_path):
    page.goto(f"{mol_server.url}/molecules")
    wait_for_app(page, heading=HEADING)
    main = page.get_by_test_id("stMain")
    upload = tmp_path / "episode.csv"
    upload.write_text(TABLE, encoding="utf-8")
    main.get_by_test_id("stFileUploader").locator('input[type="file"]').first.set_input_files(str(upload))
    page.wait_for_timeout(500)
    wait_for_app(page)
    main.get_by_text("Support set: 3 labelled 0 and 3 labelled 1; 4 molecule(s) to predict.").first.wait_for()
    warning = main.get_by_test_id("stAlertContentWarning").first
    assert "row 12, column smiles" in warning.inner_text() and "unclosed ring" in warning.inner_text()
    main.get_by_role("heading", name="Predictions").first.wait_for()
    main.get_by_test_id("stDataFrame").first.wait_for()
    # the evidence's structure picture (RDKit PNG) of the query and its most related support molecules
    images = main.locator('[data-testid="stImage"] img')
    images.first.wait_for(state="visible")
    assert images.count() >= 1 and images.first.evaluate("img => img.naturalWidth") > 100

    with page.expect_download() as info:
        main.get_by_role("button", name="Download predictions (CSV)").first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 4 and {r["smiles"] for r in rows} == {"OC(=O)c1ccncc1", "CCCCCCCC(=O)O", "OCc1ccccc1",
                                                             "NCC(=O)O"}
    assert all(0.0 <= float(r["probability"]) <= 1.0 for r in rows)

    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)
    shot = full_page_screenshot(page, "molecules_predictions")
    assert shot.stat().st_size > 10_000
