"""AutoBLM fixtures for the page and browser tests: a tiny search and a tiny checkpoint on umls (seconds on a CPU)."""
from __future__ import annotations

import dataclasses
from pathlib import Path


def tiny_search(trajectory: Path, data_root, budget: int = 7, classics: bool = True) -> Path:
    """A real progressive search on umls with d = 8 candidates trained one epoch each; returns its trajectory."""
    from backend.methods.autoblm import METHOD
    from backend.methods.autoblm.config import config_for

    config = dataclasses.replace(config_for("umls"), search_dim=8, search_epochs=1, budget=budget, per_round=2,
                                 per_size=2, sample=32, classics=classics, trajectory=str(trajectory))
    METHOD.search(config, data_dir=str(data_root))
    return trajectory


def tiny_checkpoint(dest: Path, data_root, structure: str = "ComplEx") -> Path:
    """A real umls checkpoint (d 8, 2 epochs); its card holds what this short run reached."""
    from backend.methods.autoblm import METHOD
    from backend.methods.autoblm.config import config_for

    config = dataclasses.replace(config_for("umls"), dim=8, epochs=2, eval_every=1, structure=structure,
                                 output=str(dest))
    METHOD.train(config, data_dir=str(data_root))
    return dest
