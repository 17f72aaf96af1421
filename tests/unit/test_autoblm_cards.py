"""The shipped AutoBLM checkpoints reproduce their cards; each dataset's searched structure is compared with the
classic models trained the same way; the search trajectory ships beside it."""
from __future__ import annotations

import pytest

from backend.core.search import Trajectory
from backend.core.store import MODELS_DIR, list_cards
from backend.methods.autoblm import METHOD
from backend.methods.autoblm import structure as S

CARDS = list_cards(method="autoblm")


@pytest.mark.parametrize("card", CARDS, ids=[c.folder_name for c in CARDS])
def test_shipped_checkpoint_reproduces_its_card(card, data_root):
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG[card.dataset], data_root) != "present":
        pytest.skip(f"{card.dataset} is not under {data_root}")
    model = METHOD.open(card.path, device="cpu", data_dir=data_root)
    for split in ("valid", "test"):
        got = model.evaluate(split)
        for name in ("mrr", "hits@1", "hits@10"):
            assert got[name] == pytest.approx(card.metrics[split][name], abs=1e-6), (split, name)
    art = card.artefacts["structure"]["value"]
    assert S.canonical_key(art["matrix"]) == art["canonical"]
    assert card.seeds.get("n") == 3 and card.seeds["shipped_seed"] == card.train["seed"]
    assert card.params["total"] == (model.kg.n_ent + model.kg.n_rel) * card.train["config"]["dim"]


@pytest.mark.parametrize("dataset", sorted({c.dataset for c in CARDS}))
def test_search_ships_with_its_trajectory_and_classics(dataset):
    folder = MODELS_DIR / "autoblm" / dataset
    records = Trajectory(folder / "trajectory.jsonl").records()
    assert records and len({r["canonical"] for r in records}) == len(records)
    best = max((r for r in records if r["status"] == "ok"), key=lambda r: r["score"])
    searched = next(c for c in CARDS if c.dataset == dataset and c.setting == "default")
    assert searched.artefacts["structure"]["value"]["canonical"] == best["canonical"]
    classics = {c.setting for c in CARDS if c.dataset == dataset and c.setting != "default"}
    assert classics == {n.lower() for n in S.CLASSICS}
    for c in CARDS:  # the same training budget for every model of the dataset
        if c.dataset == dataset:
            cfg = c.train["config"]
            assert (cfg["dim"], cfg["epochs"], cfg["lr"], cfg["batch_size"]) == \
                (searched.train["config"]["dim"], searched.train["config"]["epochs"], searched.train["config"]["lr"],
                 searched.train["config"]["batch_size"])
