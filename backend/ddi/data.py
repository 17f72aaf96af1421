"""The DrugBank side of the ``ddi`` mirror (see ``<data root>/ddi/README.md``).

Ids: drugs 0..1709 (``node2id.json``), other Hetionet entities 1710..34123 (``entity_drug.json``), interaction
types 0..85, metaedge relations 86..108 (``relation2id.json``). Splits come as int64 arrays [n, 3] of (h, t, r).
"""
from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import numpy as np

from backend.core.data import resolve_data_root
from backend.core.files import sha256_file

N_TYPES = 86
#: the 23 metaedges in EmerGNN's relation-id order (86..108)
METAEDGES = ("GiG", "CrC", "DdG", "DpS", "DlA", "CtD", "CbG", "CuG", "DrD", "DaG", "CpD", "AdG", "AuG", "GcG", "GpMF",
             "PCiC", "GpCC", "Gr>G", "CdG", "DuG", "GpPW", "CcSE", "AeG")
#: metaedge -> (source kind, verb, target kind) as Hetionet names them
METAEDGE_WORDS = {
    "GiG": ("Gene", "interacts with", "Gene"), "CrC": ("Compound", "resembles", "Compound"),
    "DdG": ("Disease", "downregulates", "Gene"), "DpS": ("Disease", "presents", "Symptom"),
    "DlA": ("Disease", "localizes to", "Anatomy"), "CtD": ("Compound", "treats", "Disease"),
    "CbG": ("Compound", "binds", "Gene"), "CuG": ("Compound", "upregulates", "Gene"),
    "DrD": ("Disease", "resembles", "Disease"), "DaG": ("Disease", "associates with", "Gene"),
    "CpD": ("Compound", "palliates", "Disease"), "AdG": ("Anatomy", "downregulates", "Gene"),
    "AuG": ("Anatomy", "upregulates", "Gene"), "GcG": ("Gene", "covaries with", "Gene"),
    "GpMF": ("Gene", "participates in", "Molecular Function"), "PCiC": ("Pharmacologic Class", "includes", "Compound"),
    "GpCC": ("Gene", "participates in", "Cellular Component"), "Gr>G": ("Gene", "regulates", "Gene"),
    "CdG": ("Compound", "downregulates", "Gene"), "DuG": ("Disease", "upregulates", "Gene"),
    "GpPW": ("Gene", "participates in", "Pathway"), "CcSE": ("Compound", "causes", "Side Effect"),
    "AeG": ("Anatomy", "expresses", "Gene"),
}
SETTINGS = ("S0", "S1", "S2")
SPLIT_KINDS = ("random", "cluster")
LICENCE = "DrugBank data: CC BY-NC 4.0 (non-commercial use only)"


def ddi_root(data_dir: str | Path | None = None) -> Path:
    return resolve_data_root(data_dir) / "ddi"


def _read_json(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def _read_triples(path: Path) -> np.ndarray:
    if not path.exists() and Path(str(path) + ".gz").exists():
        path = Path(str(path) + ".gz")
    import pandas as pd

    frame = pd.read_csv(path, sep=r"\s+", header=None, usecols=[0, 1, 2], dtype=np.int64, engine="c")
    return frame.to_numpy(np.int64).reshape(-1, 3)


def _read_ids(path: Path) -> np.ndarray:
    return np.loadtxt(path, dtype=np.int64, ndmin=1)


class DrugBank:
    """Id maps, names, SMILES and interaction-type templates of the 1,710 DrugBank drugs."""

    def __init__(self, data_dir: str | Path | None = None):
        self.root = ddi_root(data_dir)
        db = self.root / "drugbank"
        node2id = _read_json(db / "emergnn" / "node2id.json")
        self.n_drugs = len(node2id)
        self.drugbank_ids = [""] * self.n_drugs
        for k, v in node2id.items():
            self.drugbank_ids[int(v)] = k
        self.entity_ids: dict[str, int] = {f"Compound::{k}": int(v) for k, v in node2id.items()}
        self.entity_ids.update({k: int(v) for k, v in _read_json(db / "emergnn" / "entity_drug.json.gz").items()})
        self.n_entities = max(self.entity_ids.values()) + 1
        self.entity_keys = [""] * self.n_entities
        for k, v in self.entity_ids.items():
            self.entity_keys[v] = k
        rel = _read_json(db / "emergnn" / "relation2id.json")
        self.templates = [rel[str(i)] for i in range(N_TYPES)]
        names = _read_json(db / "drugs" / "drug_names_descriptions.json.gz")
        self.names = [names[str(i)]["name"] for i in range(self.n_drugs)]
        smiles = _read_json(db / "drugs" / "id2smiles.json.gz")
        self.smiles = [smiles.get(str(i), "") for i in range(self.n_drugs)]

    def describe(self, type_id: int, drug1: str, drug2: str) -> str:
        """The interaction type's sentence with the two names filled in."""
        return self.templates[int(type_id)].replace("#Drug1", drug1).replace("#Drug2", drug2)

    def drug_label(self, i: int) -> str:
        return f"{self.names[i]} ({self.drugbank_ids[i]})"

    def file_hashes(self, setting: str, split_kind: str = "random") -> dict[str, str]:
        return {p.relative_to(self.root).as_posix(): sha256_file(p) for p in split_files(self.root, setting, split_kind)}


@functools.lru_cache(maxsize=4)
def drugbank(data_dir: str | None = None) -> DrugBank:
    return DrugBank(data_dir)


def split_files(root: Path, setting: str, split_kind: str = "random") -> list[Path]:
    db = root / "drugbank"
    if setting == "S0" and split_kind == "sumgnn":
        return [db / "sumgnn_s0" / f"{s}.txt.gz" for s in ("train", "dev", "test")]
    folder = db / "ddibench" / split_kind
    out = []
    for name in ("train.txt", f"valid_{setting}.txt", f"test_{setting}.txt", "train_set.txt", "valid_set.txt",
                 "test_set.txt"):
        p = folder / name
        out.append(p if p.exists() else Path(str(p) + ".gz"))
    return out


class Split:
    """One setting's pairs: ``train``/``valid``/``test`` arrays [n, 3] (h, t, type) and the drug sets.

    ``setting``: S0 (both drugs known), S1 (one emerging), S2 (both emerging). ``split_kind``: "sumgnn" (S0 only:
    SumGNN's split, EmerGNN's S0), "random" or "cluster" (DDI-Bench re-splits; not EmerGNN's Zenodo seed splits).
    """

    def __init__(self, setting: str, split_kind: str = "random", data_dir: str | Path | None = None):
        if setting not in SETTINGS:
            raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
        self.setting, self.split_kind = setting, split_kind
        self.root = ddi_root(data_dir)
        files = split_files(self.root, setting, split_kind)
        for p in files:
            if not p.exists():
                from backend.core.data import DataMissingError, get_dataset
                raise DataMissingError.for_dataset(get_dataset("drugbank"), self.root.parent,
                                                   [p.relative_to(self.root.parent).as_posix()])
        self.train, self.valid, self.test = (_read_triples(p) for p in files[:3])
        n = drugbank(str(self.root.parent)).n_drugs
        if split_kind == "sumgnn":
            self.train_drugs = np.arange(n)
            self.valid_drugs = self.test_drugs = np.zeros(0, dtype=np.int64)
        else:
            self.train_drugs, self.valid_drugs, self.test_drugs = (_read_ids(p) for p in files[3:6])
            if setting == "S0":  # DDI-Bench's S0: all drugs known; no drug withheld from the network
                self.train_drugs = np.arange(n)
                self.valid_drugs = self.test_drugs = np.zeros(0, dtype=np.int64)
        self.files = files

    def role(self, n_drugs: int) -> np.ndarray:
        """[n_drugs] 0 = training (existing) drug, 1 = valid (emerging at validation), 2 = test (emerging at test)."""
        role = np.zeros(n_drugs, dtype=np.int64)
        role[self.valid_drugs] = 1
        role[self.test_drugs] = 2
        return role

    def pairs(self, split: str) -> np.ndarray:
        return {"train": self.train, "valid": self.valid, "test": self.test}[split]
