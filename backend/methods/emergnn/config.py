"""EmerGNN's settings per dataset (ddi.md section 5: the values of the original's ``run_model``)."""
from __future__ import annotations

import dataclasses

DATASETS = ("drugbank",)
#: datasets the method knows but cannot train here, and why
UNTRAINABLE = {"twosides": "TWOSIDES's train and S1 files are absent from the data mirror (>= 4 MiB each; URLs in the "
                           "catalog); only its S0/S2 valid and test parts are here, so no TWOSIDES model is trained."}


@dataclasses.dataclass
class EmerGNNConfig:
    dataset: str = "drugbank"
    setting: str = "S1"            # S0 existing-existing, S1 emerging-existing, S2 emerging-emerging
    split_kind: str = "auto"       # S1/S2: DDI-Bench "random" (auto) or "cluster"; S0: "sumgnn" (auto, EmerGNN's S0)
    dim: int = 64
    n_layer: int = 3
    attn_dim: int = 5
    features: str = "auto"         # "morgan" (auto for S1/S2) or "embedding" (auto for S0)
    lr: float = 1e-3
    weight_decay: float = -1.0     # < 0: the paper's (1e-8 for S1/S2, 1e-6 for S0)
    batch_size: int = 0            # 0: the paper's (32 for S1/S2, 128 for S0)
    epochs: int = 40
    targets_per_epoch: int = 0     # 0 = every target of the epoch; else a random subset of this many (stated on the card)
    emerging_ratio: float = 0.2    # share of training drugs simulated as emerging each epoch (S1/S2)
    valid_pairs: int = 0           # 0 = the whole valid split for model selection; else a fixed random subset
    test_pairs: int = 0            # 0 = the whole test split; else a fixed random subset (stated on the card)
    max_seconds: float = 0.0       # stop training after this many seconds (0 = no limit); the best epoch is kept
    patience: int = 0              # stop when valid F1 has not improved for this many evaluations (0 = never)
    baselines: bool = True         # train the MLP and DistMult baselines on the same split and record them
    baseline_seconds: float = 240.0  # training-time limit of each baseline
    seed: int = 0
    output: str = ""


    def resolved(self) -> "EmerGNNConfig":
        """The config with every "auto" value replaced by the paper's choice for its setting (ddi.md section 5)."""
        s0 = self.setting == "S0"
        return dataclasses.replace(
            self, split_kind=self.split_kind if self.split_kind != "auto" else ("sumgnn" if s0 else "random"),
            features=self.features if self.features != "auto" else ("embedding" if s0 else "morgan"),
            weight_decay=self.weight_decay if self.weight_decay >= 0 else (1e-6 if s0 else 1e-8),
            batch_size=self.batch_size or (128 if s0 else 32))


def config_for(dataset: str, setting: str = "S1") -> EmerGNNConfig:
    if dataset in UNTRAINABLE:
        raise ValueError(UNTRAINABLE[dataset])
    if dataset not in DATASETS:
        raise ValueError(f"EmerGNN trains on {', '.join(DATASETS)}, not {dataset!r}")
    return EmerGNNConfig(dataset=dataset, setting=setting)
