"""The "Scoring-function search" page (AutoBLM) under AppTest, on a tiny search and checkpoint made here (umls)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.autoblm_support import tiny_checkpoint, tiny_search
from tests.support import page_text

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "views" / "kg_search.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def made(tmp_path_factory, data_root):
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["umls"], data_root) != "present":
        pytest.skip(f"umls is not under {data_root}")
    base = tmp_path_factory.mktemp("autoblm")
    search = tiny_search(base / "search" / "trajectory.jsonl", data_root)
    ckpt = tiny_checkpoint(base / "ckpt", data_root)
    return search.parent, ckpt


@pytest.fixture
def folders(tmp_path, monkeypatch, made):
    from backend.core import store

    models, runs = tmp_path / "models", tmp_path / "runs"
    models.mkdir()
    runs.mkdir()
    monkeypatch.setattr(store, "MODELS_DIR", models)
    monkeypatch.setenv("PARSIMONY_RUNS", str(runs))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("PARSIMONY_DEVICE", "cpu")
    search, ckpt = made
    shutil.copytree(search, models / "autoblm" / "umls")
    shutil.copytree(ckpt, models / "autoblm" / "umls", dirs_exist_ok=True)
    return models, runs


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_trajectory_best_structure_and_classics(folders):
    at = open_page()
    text = page_text(at)
    assert "Best valid MRR" in text and "(candidate #" in text
    assert [s.label for s in at.selectbox][:3] == ["Search", "Colour by", "Candidate"]
    assert at.selectbox(key="kgs-umls-progressive-shipped-colour").value == "blocks"
    assert len(at.get("plotly_chart")) >= 3   # trajectory, best structure, selected candidate
    assert any("f(h, r, t) =" in l.value for l in at.latex)
    tables = [t.value for t in at.dataframe]
    classics = next(t for t in tables if "structure" in t.columns)
    assert {"DistMult", "ComplEx", "Analogy", "SimplE", "best searched"} <= set(classics["structure"])
    assert classics.set_index("structure").loc["best searched", "valid MRR"] >= classics["valid MRR"][:4].max() - 1


def test_clicking_a_candidate_shows_its_structure(folders):
    at = open_page()
    box = at.selectbox(key="kgs-umls-progressive-shipped-candidate")
    box.set_value(0).run()
    assert not at.exception
    assert "Selected candidate #1" in page_text(at)
    assert "h1 r1" in " ".join(l.value for l in at.latex).replace("_{1}", "1")


def test_compare_and_link_prediction(folders):
    at = open_page()
    assert at.selectbox(key="kgs-cmp-a-umls").value.startswith("#")  # the best candidate
    b = at.selectbox(key="kgs-cmp-b-umls")
    assert b.value == "ComplEx (classic)"
    b.set_value("SimplE (classic)").run()
    assert not at.exception
    text = page_text(at)
    assert "Link prediction with the searched structure" in text
    answers = [t.value for t in at.dataframe if "filtered_rank" in t.value.columns]
    assert answers and len(answers[0]) == 20 and answers[0]["score"].is_monotonic_decreasing
    assert "the sum of the" in text  # the evidence's sentence: block terms sum to the score


def test_a_search_started_from_the_page_appears(folders):
    from backend.core.jobs import cancel_job, list_jobs

    at = open_page()
    at.button(key="kgs-job-umls-progressive__start").click().run()
    try:
        assert not at.exception
        jobs = list_jobs()
        assert len(jobs) == 1 and jobs[0].argv[:4] == ["search", "autoblm", "--dataset", "umls"]
        assert "--budget" in jobs[0].argv
        assert any("search autoblm" in c.value for c in at.caption)
    finally:
        for job in list_jobs():
            cancel_job(job, grace=3.0)


def test_no_search_yet(tmp_path, monkeypatch):
    from backend.core import store

    monkeypatch.setattr(store, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    at = open_page()
    assert "No search yet" in page_text(at)
