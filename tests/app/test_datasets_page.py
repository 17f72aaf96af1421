"""The Datasets page (ui/views/datasets.py) run on its own under AppTest, against $PARSIMONY_DATA."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from backend.core.data import CATALOG

PAGE = Path(__file__).resolve().parents[2] / "ui" / "views" / "datasets.py"


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def mirror() -> Path:
    value = os.environ.get("PARSIMONY_DATA", "")
    if not value or not Path(value).is_dir():
        pytest.skip("PARSIMONY_DATA is not a folder: set it to the data mirror (CI uses ../shared/data)")
    return Path(value)


def run_page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_of(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "success", "warning", "error", "code")
    return "\n".join(str(getattr(e, "value", "")) for kind in kinds for e in at.get(kind))


def test_table_lists_datasets_with_status(mirror):
    at = run_page()
    assert at.title[0].value == "Datasets"
    assert str(mirror.resolve()) in text_of(at) or str(mirror) in text_of(at)
    assert "PARSIMONY_DATA" in text_of(at)
    table = at.dataframe[0].value
    status = dict(zip(table["name"], table["status"]))
    assert status["family"] == "present" and status["umls"] == "present"
    assert len(table) == 34
    assert {"area", "name", "description", "files", "size MB", "counts", "origin", "licence", "status",
            "note"} <= set(table.columns)
    nell = table[table["name"] == "nell"].iloc[0]
    assert "facts.txt" in nell["note"] and nell["counts"].startswith("entities 74,536")


def test_area_filter_and_file_list(mirror):
    at = run_page()
    at.multiselect(key="datasets_areas").set_value(["physics"]).run()
    assert not at.exception
    assert list(at.dataframe[0].value["name"]) == ["pedestrian"]
    assert at.multiselect(key="datasets_selected").value == ["pedestrian"]
    assert len(at.expander) == 1 and at.expander[0].label.startswith("pedestrian — present, 4 files")
    files = at.expander[0].dataframe[0].value
    assert list(files["file"]) == [f.path for f in CATALOG["pedestrian"].files]
    assert files["sha256"].str.len().eq(12).all()


def test_verify_button_reports_counts(mirror):
    at = run_page()
    assert at.multiselect(key="datasets_selected").value == ["umls"]
    at.button(key="datasets_verify").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Verified 6 files of 1 dataset(s): 6 ok, 0 missing, 0 corrupt."]
    at.multiselect(key="datasets_selected").set_value(["umls", "family"]).run()
    at.button(key="datasets_verify").click().run()
    assert "Verified 12 files of 2 dataset(s): 12 ok" in at.success[0].value


def test_empty_data_root_shows_fetch_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("PARSIMONY_DATA", str(tmp_path / "nothing"))
    at = run_page()
    table = at.dataframe[0].value
    assert set(table["status"]) == {"missing"}
    text = text_of(at)
    assert "does not exist yet" in text
    assert "python -m backend fetch-data umls" in text
    at.button(key="datasets_verify").click().run()
    assert not at.exception
    assert "0 ok, 6 missing, 0 corrupt" in at.warning[-1].value
    problems = at.dataframe[-1].value
    assert set(problems["status"]) == {"missing"} and len(problems) == 6


def test_imported_graphs_are_listed(mirror, tmp_path, monkeypatch):
    """The user's own graphs (import-graph) appear below the catalog with their split; none: says so."""
    from backend.kg.user_graphs import import_graph
    from tests.support import tree_graph, triples_tsv

    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("PARSIMONY_GRAPHS", raising=False)
    at = run_page()
    assert "Your own knowledge graphs" in text_of(at) and "None yet." in [i.value for i in at.info]

    report = import_graph(triples_tsv(tree_graph(60)), "my-tree", source_name="tree.tsv")
    at = run_page()
    own = next(d.value for d in at.dataframe if "graph" in d.value.columns)
    assert own["graph"].tolist() == ["my-tree"] and own["entities"].tolist() == [60]
    assert own["test"].tolist() == [report.splits["test"]] and own["from file"].tolist() == ["tree.tsv"]
