"""ColdNAS's configuration: the public code's shared settings (d 32, hidden 128/64/32, batch 32) with this
project's training schedule (episodes re-sampled each epoch, Adam lr 1e-3, epoch chosen on validation users)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


#: mul + add at every position (= model.FILM; kept here so the registry imports no torch)
FILM = 0x3333
MODELS = Path(__file__).resolve().parents[3] / "models" / "coldnas"


@dataclass
class ColdNASConfig:
    dataset: str = "lastfm"
    structure: int = FILM          # 16-bit modulation structure code (train); search finds one
    embedding_dim: int = 32
    hidden: str = "128,64,32"
    epochs: int = 20               # training epochs (the epoch with the lowest validation MSE is kept)
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    user_dropout: float = 0.2      # probability of hiding a training user's feature (trains the 'unknown' slot)
    search_epochs: int = 15        # supernet epochs
    gate_lr: float = 0.05          # Adam lr of the gate logits (same optimiser steps as the weights)
    top_k: int = 5                 # structures retrained briefly and compared on validation users (k <= 10)
    candidate_epochs: int = 8      # epochs of each brief retraining
    maml_steps: int = 1
    maml_lr: float = 0.5
    seed: int = 0
    seeds: int = 1                 # training seeds summarised in the card (seed, seed+1, ...)
    baselines: bool = True         # also train/evaluate the baselines and store them in the card
    output: str = ""               # checkpoint folder (default: the runs folder)

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return tuple(int(x) for x in str(self.hidden).split(","))


def config_for(dataset: str) -> ColdNASConfig:
    """Defaults for ``dataset``; the structure is the one the shipped checkpoint's search chose (FiLM without one)."""
    config = ColdNASConfig(dataset=dataset)
    card = MODELS / dataset / "card.json"
    if card.exists():
        found = json.loads(card.read_text(encoding="utf-8")).get("artefacts", {}).get("structure", {}).get("code")
        if isinstance(found, int):
            config.structure = found
    if dataset == "movielens":
        # ~100k training rows an epoch (10 s on the loaded 2-core CPU): fewer epochs and candidates, a larger step
        config.epochs, config.search_epochs, config.candidate_epochs, config.top_k = 15, 8, 4, 3
        config.lr = 5e-3
    return config
