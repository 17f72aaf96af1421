"""AutoBLM settings per dataset: candidate training (search) and final training of one structure.

The papers give no settings for family and umls (kg.md 2.4); the values here were chosen on valid MRR on this
project's CPU (models/autoblm/README.md, "Choosing d and epochs"). WN18RR and FB15k-237 use the AutoBLM+ search
settings (d = 64, 50 epochs) for candidates and a reduced version of AutoSF's final training (evaluate.py) for
the final model; benchmarks/gpu_autoblm.sh states the budget it runs.
"""
from __future__ import annotations

from dataclasses import dataclass

#                 dim  epochs  lr     lamb      batch  decay   | search: dim epochs
_SETTINGS = {
    "family":    (32,  10,     0.5,   1e-3,     512,   0.99,     32, 10),
    "umls":      (64,  60,     0.5,   1e-3,     512,   0.99,     32, 30),
    "WN18RR":    (512, 100,    0.471, 5.92e-5,  512,   0.99,     64, 50),
    "fb15k-237": (1024, 100,   0.178, 0.00252,  512,   0.991,    64, 50),
}
DATASETS = tuple(_SETTINGS)
ALGORITHMS = ("progressive", "evolutionary")


@dataclass
class AutoBLMConfig:
    dataset: str
    dim: int                        # embedding dimension d (4 chunks of d/4)
    epochs: int
    lr: float                       # Adagrad learning rate
    lamb: float                     # L2 penalty on the batch's relation embeddings
    batch_size: int
    decay_rate: float               # ExponentialLR per epoch
    search_dim: int                 # d of the candidates a search trains
    search_epochs: int              # epochs of each candidate
    structure: str = "best"         # train: a classic (DistMult, ComplEx, SimplE, Analogy), a published structure
    #                                 (WN18RR, FB15K237, ...), 16 numbers (row-major 4x4), "best" (the dataset's
    #                                 search), or a trajectory.jsonl path (its best candidate)
    seed: int = 0
    seeds: int = 1                  # train: also train seeds seed+1 .. seed+seeds-1 (mean ± std in the card)
    eval_every: int = 5             # valid MRR every this many epochs; the best evaluated epoch is kept
    max_seconds: float = 0.0        # stop training after this many seconds (0 = no limit)
    output: str = ""                # checkpoint folder (default: models/autoblm/<dataset>[-<classic>])
    algorithm: str = "progressive"  # search: progressive (AutoSF) or evolutionary (AutoBLM+)
    budget: int = 40                # search: candidates trained in all (a resumed search counts its earlier ones)
    resume: bool = False            # search: continue the trajectory there (else a new one; an old one is kept aside)
    per_round: int = 4              # search: candidates trained per round (the top of the predictor's ranking)
    per_size: int = 8               # search (progressive): candidates of each size before growing to the next
    parents: int = 4                # search: progressive: best structures of the previous size grown; evolutionary:
    #                                 the population
    sample: int = 128               # search: random candidates generated per round before the predictor ranks them
    trajectory: str = ""            # search: the trajectory.jsonl (default: runs/autoblm/<dataset>-<algorithm>/)
    classics: bool = True           # search: also score DistMult, ComplEx, Analogy, SimplE with the candidate settings

    def __post_init__(self):
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {self.algorithm!r}")
        if self.dim % 4 or self.search_dim % 4:
            raise ValueError("dim and search_dim must be divisible by 4 (four chunks)")

    @property
    def setting(self) -> str:
        return "default"


def config_for(dataset: str) -> AutoBLMConfig:
    if dataset not in _SETTINGS:
        raise ValueError(f"AutoBLM has no settings for dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    dim, epochs, lr, lamb, batch, decay, sdim, sepochs = _SETTINGS[dataset]
    return AutoBLMConfig(dataset=dataset, dim=dim, epochs=epochs, lr=lr, lamb=lamb, batch_size=batch,
                         decay_rate=decay, search_dim=sdim, search_epochs=sepochs)
