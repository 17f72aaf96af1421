"""The shipped RED-GNN checkpoints: re-evaluated here, they reproduce their cards and the paper's numbers."""
from __future__ import annotations

import os

import pytest

from backend.core import store
from backend.core.references import reference_rows
from backend.methods.redgnn import METHOD

pytestmark = pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")

#: (checkpoint folder, lowest acceptable test MRR): issue 3's family and umls targets; inductive splits
#: within 0.01 of the authors' table. Small graphs, so the re-evaluation takes seconds on a CPU.
CASES = [("family", 0.98), ("umls", 0.96), ("WN18RR_v1-inductive", None), ("WN18RR_v2-inductive", None),
         ("WN18RR_v4-inductive", None), ("nell_v1-inductive", None), ("fb237_v1-inductive", None)]


@pytest.mark.parametrize("folder, floor", CASES)
def test_shipped_checkpoint_reproduces_its_card_and_the_paper(folder, floor):
    path = store.MODELS_DIR / "redgnn" / folder
    if not (path / "card.json").exists():
        pytest.skip(f"{path} is not shipped")
    card = store.load_card(path)
    test = METHOD.evaluate(path, "test", device="cpu")
    recorded = card.metrics["test"]
    for metric in ("mrr", "hits@1", "hits@10", "nbfnet_mrr"):
        assert test[metric] == pytest.approx(recorded[metric], abs=2e-3), metric
    paper = next(r["value"] for r in reference_rows("redgnn")
                 if r["dataset"] == card.dataset and r["setting"] == card.setting and r["metric"] == "mrr"
                 and r["citation"] == "zhang2022redgnn")
    assert test["mrr"] >= (floor if floor is not None else paper - 0.01), (test["mrr"], paper)
