"""The data side of one EmerGNN setting: the split, the network, the fact graphs of each stage, fingerprints.

Graphs per stage (ddi.md section 1/3): biomedical edges touching a valid or test drug are withheld from the training
graph and edges touching a test drug from the validation graph; the test graph has them all. DDI facts: train pairs
(training and validation), train + valid pairs (test; the valid pairs become facts at test time). Each training epoch
removes the DDI facts of a random ``emerging_ratio`` of the training drugs that have biomedical edges (without
replacement; ddi.md pitfall 2) and trains on the pairs those drugs form with the others (S1) or among themselves (S2);
S0 trains on a random 20% of the train pairs with the other 80% as facts.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from backend.ddi.data import N_TYPES, Split, drugbank
from backend.ddi.fingerprints import morgan_matrix
from backend.ddi.graph import Graph
from backend.ddi.network import N_REL, load_network


class Task:
    def __init__(self, setting: str, split_kind: str, data_dir=None):
        self.setting, self.split_kind = setting, split_kind
        self.db = drugbank(str(data_dir) if data_dir else None)
        self.split = Split(setting, split_kind, data_dir)
        self.net = load_network(data_dir)
        self.n_nodes, self.n_drugs = self.db.n_entities, self.db.n_drugs
        self.role = self.split.role(self.n_drugs)          # 0 train, 1 valid, 2 test drug
        kg = self.net.triples()
        role_of = np.zeros(self.n_nodes, dtype=np.int64)
        role_of[:self.n_drugs] = self.role
        touch = np.maximum(role_of[kg[:, 0]], role_of[kg[:, 1]])
        self.kg = {"train": kg[touch == 0], "valid": kg[touch <= 1], "test": kg}
        train_kg = self.kg["train"]
        deg = np.bincount(np.concatenate([train_kg[:, 0], train_kg[:, 1]]), minlength=self.n_nodes)[:self.n_drugs]
        self.drug_has_kg = deg > 0      # training drugs with biomedical edges in the training network

    @cached_property
    def fingerprints(self) -> torch.Tensor:
        fp, _ = morgan_matrix(self.db.smiles)
        return torch.from_numpy(fp)

    def facts(self, stage: str) -> np.ndarray:
        ddi = self.split.train if stage in ("train", "valid") else np.concatenate([self.split.train, self.split.valid])
        return np.concatenate([ddi, self.kg[stage]])

    def graph(self, stage: str) -> Graph:
        return Graph(self.facts(stage), self.n_nodes, N_REL)

    def epoch(self, rng: np.random.Generator, ratio: float = 0.2) -> tuple[Graph, np.ndarray, np.ndarray]:
        """(this epoch's graph, its target pairs [n, 3], [n_drugs] bool: the drugs simulated as emerging)."""
        train = self.split.train
        if self.setting == "S0":
            perm = rng.permutation(len(train))
            k = int(round(len(train) * ratio))
            targets, facts = train[perm[:k]], train[perm[k:]]
            removed = np.zeros(self.n_drugs, dtype=bool)
        else:
            pool = np.intersect1d(self.split.train_drugs, np.flatnonzero(self.drug_has_kg))
            removed = np.zeros(self.n_drugs, dtype=bool)
            removed[rng.choice(pool, len(pool) - int(len(pool) * (1 - ratio)), replace=False)] = True
            n_removed = removed[train[:, 0]].astype(int) + removed[train[:, 1]].astype(int)
            facts = train[n_removed == 0]
            targets = train[n_removed == (1 if self.setting == "S1" else 2)]
        return Graph(np.concatenate([facts, self.kg["train"]]), self.n_nodes, N_REL), targets, removed

    @property
    def n_types(self) -> int:
        return N_TYPES

    @property
    def n_rel_slots(self) -> int:
        return 2 * N_REL + 1

    def subset(self, split: str, n: int, seed: int = 0) -> np.ndarray:
        """A fixed random subset of n pairs of ``split`` (all when n is 0 or larger), in file order."""
        pairs = self.split.pairs(split)
        if not n or n >= len(pairs):
            return pairs
        idx = np.sort(np.random.default_rng(seed).choice(len(pairs), n, replace=False))
        return pairs[idx]
