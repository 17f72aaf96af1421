"""RED-GNN hyper-parameters per dataset (LARS-research/RED-GNN train.py; reference notes kg.md §1.3).

Transductive values are the current code's (commit c9badff); they equal the WWW-2022 values for
family and fb15k-237 and differ for umls and WN18RR (see kg.md). Inductive values are the same
in both commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#            lr      decay    lamb      d   a  L  dropout  act   n_batch n_tbatch
_TRANSDUCTIVE = {
    "family":    (0.0036, 0.999,  0.000017, 48, 5, 3, 0.29,   "relu", 20, 50),
    "umls":      (0.0012, 0.9917, 0.000115, 48, 5, 4, 0.0024, "relu", 20, 50),
    "WN18RR":    (0.0021, 0.9962, 0.000037, 48, 5, 5, 0.0067, "tanh", 100, 50),
    "fb15k-237": (0.0009, 0.9938, 0.000080, 48, 5, 4, 0.0391, "relu", 5, 1),
    "nell":      (0.0011, 0.9938, 0.000089, 48, 5, 5, 0.2593, "relu", 5, 1),
    "YAGO":      (0.0003, 0.997,  0.000111, 48, 5, 3, 0.2131, "relu", 3, 1),
}
#             lr      lamb      decay   d   a  dropout act   L  n_batch
_INDUCTIVE = {
    "WN18RR_v1": (0.005, 0.0002, 0.991, 64, 5, 0.21, "idd", 5, 100),
    "WN18RR_v2": (0.0016, 0.0004, 0.994, 48, 3, 0.02, "relu", 5, 20),
    "WN18RR_v3": (0.0014, 0.000034, 0.991, 64, 5, 0.28, "tanh", 5, 20),
    "WN18RR_v4": (0.006, 0.000132, 0.991, 32, 5, 0.11, "relu", 5, 10),
    "fb237_v1": (0.0092, 0.0003, 0.994, 32, 5, 0.23, "relu", 3, 20),
    "fb237_v2": (0.0077, 0.0002, 0.993, 48, 5, 0.3, "relu", 3, 10),
    "fb237_v3": (0.0006, 0.000023, 0.994, 48, 3, 0.27, "relu", 3, 20),
    "fb237_v4": (0.0052, 0.000018, 0.999, 48, 5, 0.07, "idd", 5, 20),
    "nell_v1": (0.0021, 0.000189, 0.9937, 48, 5, 0.2460, "relu", 5, 10),
    "nell_v2": (0.0075, 0.000066, 0.9996, 48, 5, 0.2881, "relu", 3, 100),
    "nell_v3": (0.0008, 0.0004, 0.995, 16, 3, 0.06, "relu", 3, 10),
    "nell_v4": (0.0005, 0.000398, 1.0, 16, 5, 0.1472, "tanh", 5, 20),
}
TRANSDUCTIVE_DATASETS = tuple(_TRANSDUCTIVE)
INDUCTIVE_DATASETS = tuple(_INDUCTIVE)
DATASETS = TRANSDUCTIVE_DATASETS + INDUCTIVE_DATASETS
INDUCTIVE_QUERIES = ("valid", "resplit")


@dataclass
class RedGNNConfig:
    dataset: str
    lr: float
    decay_rate: float
    lamb: float
    hidden_dim: int
    attn_dim: int
    n_layer: int
    dropout: float
    act: str
    n_batch: int
    n_tbatch: int
    epochs: int = 50
    fact_ratio: float = 0.75        # facts : queries when re-split each epoch (3:1)
    inductive_queries: str = "valid"  # inductive training queries: "valid" (the paper: X/valid on the graph
    #                                   X/train) or "resplit" (X/train ∪ X/valid re-split each epoch, as transductive)
    seed: int = 1234
    max_seconds: float = 0.0        # stop training after this many seconds (0 = no limit)
    batches_per_epoch: int = 0      # cap on training batches per epoch (0 = all queries)
    patience: int = 0               # stop after this many epochs without a better valid MRR (0 = never)
    track_test: bool = False        # also evaluate test after each epoch (curves only; selection is on valid)
    output: str = ""                # checkpoint folder (default: models/redgnn/<dataset>[-inductive])
    init_from: str = ""             # continue from this checkpoint folder; `epochs` then counts its epochs too
    snapshot_every: int = 0         # write the whole training state every this many batches (0 = never)
    snapshot_path: str = ""         # where (default: <output>/snapshot.pt); a run cut off mid-epoch resumes from it
    resume_snapshot: str = ""       # continue a cut-off run from this snapshot, exactly where it stopped
    propagation: str = "auto"       # training forward: "sparse" (reached nodes only), "dense" (small graphs, GPU)
    #                                 or "auto" (dense, compiled, on a GPU where it fits; sparse elsewhere)
    compile: bool = False           # torch.compile the dense training step (fixed shapes: fused kernels)
    cuda_graphs: bool = True        # dense forward on a GPU: replay the whole step as one CUDA graph
    #: what `train --init-from` keeps from the continued checkpoint's card unless given again
    KEPT_WHEN_CONTINUED: ClassVar[tuple[str, ...]] = ("inductive_queries", "fact_ratio")

    @property
    def inductive(self) -> bool:
        return self.dataset in _INDUCTIVE

    def __post_init__(self):
        if self.inductive_queries not in INDUCTIVE_QUERIES:
            raise ValueError(f"inductive_queries must be one of {', '.join(INDUCTIVE_QUERIES)}, "
                             f"not {self.inductive_queries!r}")

    @property
    def resplits(self) -> bool:
        """Whether training re-splits facts ∪ train into graph and queries each epoch."""
        return not self.inductive or self.inductive_queries == "resplit"

    @property
    def setting(self) -> str:
        return "inductive" if self.inductive else "transductive"


def inductive_queries_of(train: dict | None) -> str | None:
    """The inductive training-query source a card's ``train`` record names (None when it names none)."""
    return ((train or {}).get("config") or {}).get("inductive_queries")


#: an imported graph trains with this dataset's settings (3 layers, batches of 20: quick on a CPU;
#: every one can be changed with the train flags)
IMPORTED_GRAPH_SETTINGS = "family"


def config_for(dataset: str) -> RedGNNConfig:
    """The paper code's hyper-parameters for ``dataset`` (an imported graph: family's)."""
    from backend.kg.user_graphs import is_user_graph, list_user_graphs

    if dataset in _TRANSDUCTIVE:
        lr, decay, lamb, d, a, L, drop, act, nb, ntb = _TRANSDUCTIVE[dataset]
    elif dataset in _INDUCTIVE:
        lr, lamb, decay, d, a, drop, act, L, nb = _INDUCTIVE[dataset]
        ntb = nb
    elif is_user_graph(dataset):
        lr, decay, lamb, d, a, L, drop, act, nb, ntb = _TRANSDUCTIVE[IMPORTED_GRAPH_SETTINGS]
    else:
        raise ValueError(f"RED-GNN has no settings for dataset {dataset!r}; choose from {', '.join(DATASETS)}, "
                         "or an imported graph (python -m backend import-graph FILE --name NAME)"
                         + (f": {', '.join(list_user_graphs())}" if list_user_graphs() else ""))
    return RedGNNConfig(dataset=dataset, lr=lr, decay_rate=decay, lamb=lamb, hidden_dim=d, attn_dim=a, n_layer=L,
                        dropout=drop, act=act, n_batch=nb, n_tbatch=ntb)
