"""PACIA's configuration: the authors' script_train.sh settings (Tox21 10-shot), with a CPU step budget."""
from __future__ import annotations

import dataclasses

DATASETS = ("tox21", "sider", "muv", "toxcast")


@dataclasses.dataclass
class PaciaConfig:
    dataset: str = "tox21"
    shots: int = 10                  # K: K negatives + K positives in the support
    encoder: str = "gcn"             # gin | gcn | graphsage | gat (pretrain-gnns GNN, 5 layers, 300-d)
    pretrained: str = "supervised_contextpred"   # pretrain-gnns state dict ("" = random init)
    tune_encoder: bool = False       # False: the pretrained encoder stays as shipped (frozen, batch norm and dropout
    #                                  as at inference); only the FiLM it receives adapts it. True: trained too.
    hyper: str = "shared"            # "per_layer": the authors' ten encoder hypernetworks; "shared": one for all
    steps: int = 300                 # meta-training steps (the authors: 40,000 on a GPU)
    max_seconds: float = 0.0         # stop earlier when > 0 (wall-clock budget)
    meta_lr: float = 6e-4
    weight_decay: float = 5e-5
    batch_task: int = 9              # tasks per meta-batch (all remaining training tasks when fewer)
    n_query: int = 16                # queries per training episode
    rel_layers: int = 5              # relation rounds = depths the controller chooses among
    map_dim: int = 128
    top_k: int = 0                   # edges kept per node in the relation graph (0: = shots, as the authors)
    dropout: float = 0.5             # encoder dropout
    rel_dropout: float = 0.2         # dropout on the predictor's input
    prototype_skip: bool = True      # adaptive classifier starts as a prototype classifier (see model.py)
    eval_every: int = 25             # steps between selections on the held-out training task(s)
    val_seeds: int = 3               # supports drawn per held-out task for selection
    val_max_query: int = 1000        # queries per held-out task for selection
    eval_seeds: int = 10             # supports drawn per test task in the final evaluation
    eval_max_query: int = 300        # queries per test task and seed (a seeded subset; 0: all other molecules)
    seed: int = 0
    init_from: str = ""              # continue from this checkpoint folder (its steps add to this run's budget)
    output: str = ""                 # checkpoint folder (default: <runs>/pacia/<dataset>-<shots>shot)

    @property
    def setting(self) -> str:
        return f"{self.shots}-shot"


def config_for(dataset: str) -> PaciaConfig:
    """The defaults for ``dataset`` (the authors ship one script, for Tox21; the same settings elsewhere)."""
    if dataset not in DATASETS:
        raise KeyError(f"PACIA has no dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return PaciaConfig(dataset=dataset)
