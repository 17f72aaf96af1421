"""The KG page's evidence tests under AppTest: the faithfulness panel beside the evidence graph, one what-if edit
and its reset, and "Save report" (on a copy of the shipped family checkpoint; without one, a tiny checkpoint
trained here, as tests/app/test_kg_reasoning.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import page_text, tiny_family_checkpoint

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "kg_reasoning.py")
SHIPPED = Path(__file__).resolve().parents[2] / "models" / "redgnn" / "family"
pytestmark = pytest.mark.slow  # trains a tiny checkpoint, then re-scores queries


@pytest.fixture(scope="module")
def family_checkpoint(tmp_path_factory, data_root) -> Path:
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["family"], data_root) != "present":
        pytest.skip(f"family is not under {data_root}: python -m backend fetch-data family")
    if (SHIPPED / "card.json").is_file():  # the shipped checkpoint (read only: copied below)
        return SHIPPED
    return tiny_family_checkpoint(tmp_path_factory.mktemp("redgnn-fid") / "family", data_root)


@pytest.fixture
def shipped(tmp_path, monkeypatch, family_checkpoint):
    from backend.core import store

    models, runs = tmp_path / "models", tmp_path / "runs"
    models.mkdir()
    runs.mkdir()
    monkeypatch.setattr(store, "MODELS_DIR", models)
    monkeypatch.setenv("PARSIMONY_RUNS", str(runs))
    monkeypatch.delenv("PARSIMONY_GRAPHS", raising=False)
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("PARSIMONY_DEVICE", "cpu")
    shutil.copytree(family_checkpoint, models / "redgnn" / "family")
    return models / "redgnn" / "family"


def test_fidelity_panel_what_if_and_report(shipped):
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m for m in at.metric}
    assert {"fidelity+ (top 5)", "fidelity− (top 5)"} <= set(labels), list(labels)
    text = page_text(at)
    assert "answer's rank after removing" in text and "random facts |" in text  # evidence beside random, a table
    assert "Removing these" in text and "random facts of the same subgraph" in text
    assert "Tested ranking: **greedy**" in text  # the numbers say which ranking they belong to
    assert len(at.get("plotly_chart")) >= 2  # the answers' scores and the deletion curve
    answers = next(d.value for d in at.dataframe if {"filtered_rank", "known_fact"} <= set(d.value.columns))

    # the quickest what-if: remove the strongest evidence fact; ranks before and after side by side
    at.button(key=next(b.key for b in at.button if b.key.endswith("-remove-top"))).click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if {"rank_before", "rank_after"} <= set(d.value.columns))
    top = table.set_index("label").loc[answers.iloc[0]["label"]]
    assert float(top["rank_before"]) == float(answers.iloc[0]["filtered_rank"])
    assert float(top["score_before"]) == pytest.approx(float(answers.iloc[0]["score"]), abs=1e-9)
    assert "removed:" in page_text(at)

    # reset: the table goes away and the answers are those of the graph as it is
    at.button(key=next(b.key for b in at.button if b.key.endswith("-reset"))).click().run()
    assert not at.exception
    assert not [d for d in at.dataframe if {"rank_before", "rank_after"} <= set(d.value.columns)]

    # save report: the page offers the HTML and the JSON
    at.button(key=next(b.key for b in at.button if b.key.endswith("-report-build"))).click().run()
    assert not at.exception, [e.value for e in at.exception]
    downloads = {b.label for b in at.get("download_button")}
    assert {"Report (HTML)", "Report (JSON)"} <= downloads, downloads
