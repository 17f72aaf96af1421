"""A small untrained PAR checkpoint for page tests (pretrained GCN encoder, frozen; random head): it loads and
predicts like a shipped one without any training."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from backend.core.store import Card, save_checkpoint


def make_par_checkpoint(folder: Path, shots: int = 2) -> Path:
    from backend.methods.par.config import PARConfig
    from backend.methods.par.learner import PAR, build_encoder
    from backend.methods.par.train import head_state_for_saving

    torch.manual_seed(0)
    config = PARConfig(dataset="tox21", shots=shots, encoder="gcn", pretrained=True, tune_layers=0)
    model = PAR(config, build_encoder(config))
    card = Card(method="par", dataset="tox21", setting=config.setting, params=model.parameter_counts(),
                train={"seconds": 0.0, "steps": 0, "device": "cpu", "seed": 0, "config": dataclasses.asdict(config)},
                extras={"notes": "untrained test checkpoint"})
    save_checkpoint(folder, head_state_for_saving(model), card)
    return folder
