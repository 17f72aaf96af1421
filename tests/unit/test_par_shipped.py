"""Every shipped PAR checkpoint reproduces its card: the card's quick check (its first evaluation seeds on a fixed
seeded subset of the test tasks' queries, stored as extras.check) is recomputed from the shipped weights."""
from __future__ import annotations

from pathlib import Path

import pytest

from backend.core.data import resolve_data_root
from backend.core.store import load_card

MODELS = Path(__file__).resolve().parents[2] / "models" / "par"
CARDS = sorted(p.parent for p in MODELS.glob("*/card.json"))
DATA = resolve_data_root(None) / "molecules"


def test_there_are_shipped_cards_in_the_card_format():
    assert CARDS, "no shipped PAR checkpoint"
    for folder in CARDS:
        card = load_card(folder)
        assert card.method == "par" and card.setting.endswith("-shot")
        test = card.metrics["test"]
        assert 0.5 < test["roc_auc"] < 1 and test["roc_auc_std"] >= 0
        assert card.extras["evaluation_seeds"]["n"] == 10 and len(card.extras["per_seed_test_roc_auc"]) == 10
        assert card.extras["evaluation_seeds"]["test"]["roc_auc"]["mean"] == test["roc_auc"]
        assert card.params["adaptive"] == 380_210 and card.params["total"] > card.params["trainable"]
        assert (folder / "model.pt").stat().st_size < 3 * 2**20
        assert card.train["steps"] > 0 and card.train["config"]["shots"] == int(card.setting.split("-")[0])


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "datasets" / "tasks.csv").is_file(), reason="molecule data not present")
@pytest.mark.parametrize("folder", CARDS, ids=[p.name for p in CARDS])
def test_shipped_checkpoint_reproduces_its_card(folder):
    from backend.registry import get_method

    card = load_card(folder)
    model = get_method("par").open(folder)
    got = model.evaluate("check")
    assert got["roc_auc"] == pytest.approx(card.extras["check"]["roc_auc"], abs=1e-4)
