"""What an eighth method costs: the toy method of tests/toy_method.py (a few dozen lines) gets CLI verbs, a card, a
zoo row, a search with its trajectory and a working page (tests/app/pages/toy_page.py) from the shared pieces."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend import registry
from backend.cli import main
from backend.core import store
from tests import toy_method
from tests.support import page_text

PAGE = str(Path(__file__).resolve().parent / "pages" / "toy_page.py")


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy method registered, its runs and jobs in a temporary folder."""
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PARSIMONY_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setitem(registry.METHODS, "toy", toy_method.METHOD)
    return tmp_path / "runs" / "toy"


def test_cli_verbs_card_and_zoo_row(toy, capsys):
    assert main(["train", "toy", "--dataset", "line", "--degree", "2"]) == 0
    card = store.load_card(toy / "line")
    assert card.train["config"]["degree"] == 2 and card.params["total"] == 3
    assert card.metrics["test"]["mse"] == pytest.approx(0.01, abs=0.005)  # the noise's variance: 0.1²
    capsys.readouterr()
    assert main(["evaluate", "toy", "--model", str(toy / "line")]) == 0
    assert json.loads(capsys.readouterr().out)["mse"] == card.metrics["test"]["mse"]
    assert main(["predict", "toy", "--model", str(toy / "line"), "--query", "x=3"]) == 0
    assert float(capsys.readouterr().out.split()[-1]) == pytest.approx(7.0, abs=0.05)  # 2·3 + 1
    assert main(["explain", "toy", "--model", str(toy / "line"), "--query", "x=3"]) == 0
    from backend.core.viz import cards_frame

    row = cards_frame([card]).iloc[0]
    assert (row["method"], row["dataset"], row["metric"]) == ("toy", "line", "mse")


def test_search_writes_a_trajectory_and_resumes(toy, capsys):
    assert main(["search", "toy", "--dataset", "line", "--budget", "2"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["evaluated"] == 2
    assert main(["search", "toy", "--dataset", "line", "--budget", "3"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["evaluated"], again["resumed"]) == (1, 2)  # the third candidate only
    assert again["best"]["candidate"] == {"degree": 1}  # chosen on valid points: the true law's degree or above
    lines = Path(again["trajectory"]).read_text().splitlines()
    assert sorted(json.loads(line)["candidate"]["degree"] for line in lines) == [0, 1, 2]


def test_the_page_is_made_of_shared_sections(toy):
    toy_method.train(toy_method.ToyConfig(degree=1))
    toy_method.search(toy_method.ToyConfig())
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Toy law"
    assert at.get("latex"), "no formula"
    said = re.search(r"The fitted law gives y = ([0-9.]+)\.", page_text(at).replace("\\", ""))  # shown literally
    assert said and float(said.group(1)) == pytest.approx(7.0, abs=0.05)  # x = 3 on y = 2x + 1
    assert at.selectbox(key="toy-checkpoint").value == str(toy / "line")
    assert at.get("plotly_chart"), "no breakdown or trajectory figure"
    assert "Best valid MSE: 0.0081" in page_text(at)  # the trajectory view's summary
    at.text_area(key="batch-text-toy").set_value("x\n1\ntwo\n3").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("row 3" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key="toy-train-line__start").label == "Start training"
