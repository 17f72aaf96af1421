"""The shipped EmerGNN checkpoints reproduce their cards (on the card's fixed check subset: the first test pairs of
its evaluated subset), and their cards say what they were trained on."""
from __future__ import annotations

import pytest

from tests.emergnn_support import require_ddi, require_shipped, shipped_model

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("setting", ["S0", "S1", "S2"])
def test_shipped_checkpoint_reproduces_its_card(setting, data_root):
    require_ddi(data_root)
    require_shipped(setting)
    model = shipped_model(str(data_root), setting)
    card = model.card
    check = card.extras["check"]
    got = model.evaluate("check")
    assert got["pairs"] == check["pairs"]
    for name in ("f1", "accuracy", "kappa"):
        assert got[name] == pytest.approx(check["metrics"][name], abs=1e-9), name
    assert got["logit_sum"] == pytest.approx(check["logit_sum"], rel=1e-5, abs=1e-3)
    trainable = sum(p.numel() for p in model.model.parameters() if p.requires_grad)
    assert card.params["trainable"] == trainable
    if setting in ("S1", "S2"):
        assert trainable == 137_099            # the paper's 137,164 less its unused Linear(64, 1)
    assert card.extras["network"]["source"] in ("mirror", "complete")
    assert set(card.extras["baselines"]) == {"MLP on fingerprints", "DistMult (DDI + biomedical KG)"}
    assert card.train["config"]["setting"] == setting
    for split in ("valid", "test"):
        assert 0 <= card.metrics[split]["f1"] <= card.metrics[split]["accuracy"] + 1
