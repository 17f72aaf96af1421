"""Bring PAR cards written by earlier code to the current layout without re-training or re-evaluating: evaluation
seeds under extras.evaluation_seeds (the card's ``seeds`` is for training seeds), ``train.epochs`` = meta-steps,
and the notes text of backend/methods/par/train.py. No metric changes.

    python scripts/par_patch_cards.py models/par/*/
"""
from __future__ import annotations

import sys

from backend.core.store import load_card, update_card
from backend.methods.par.config import PARConfig
from backend.methods.par.train import notes_text
from backend.mol.datasets import load_dataset


def patch(folder: str) -> None:
    card = load_card(folder)
    config = PARConfig(**card.train["config"])
    extras, train = dict(card.extras), dict(card.train)
    fields = {}
    if card.seeds:
        old = card.seeds
        extras["evaluation_seeds"] = {"n": old["n"], "seeds": old["seeds"],
                                      "what": "one trained model; support sets re-sampled per evaluation seed",
                                      **old.get("metrics", {})}
        fields["seeds"] = {}
    extras["notes"] = notes_text(config, load_dataset(card.dataset), train["steps"])
    train["epochs"] = train["steps"]
    update_card(folder, extras=extras, train=train, **fields)
    print(f"patched {folder}")


if __name__ == "__main__":
    for f in sys.argv[1:]:
        patch(f)
