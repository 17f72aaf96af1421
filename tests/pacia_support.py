"""A synthetic few-shot molecule dataset for PACIA's tests: substructure properties of generated molecules."""
from __future__ import annotations

import itertools

import numpy as np

LINKERS = ["C", "CC", "CCC", "c1ccc(cc1)", "C1CCC(CC1)", "c1ccc(nc1)", "CCOCC", "C(C)C"]
GROUPS = ["C(=O)O", "N", "O", "Cl", "F", "C#N", "C(=O)C", "S", "Br", "C", "OC"]
#: property name -> SMARTS; "carboxylic acid" is the test property, "hydroxyl" the validation one
PROPERTIES = {"halogen": "[Cl,F,Br]", "amine": "[NX3;H2,H1]", "nitrile": "C#N", "thiol": "[SX2H]",
              "ketone": "[CX3](=O)[#6]", "aromatic": "a", "hydroxyl": "[CX4][OX2H]", "carboxylic acid": "C(=O)[OH]"}


def molecules() -> list[str]:
    """group + linker + group, canonical and unique (about 600 molecules)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    seen: dict[str, None] = {}
    for linker, a, b in itertools.product(LINKERS, GROUPS, GROUPS):
        mol = Chem.MolFromSmiles(f"{a}{linker}{b}")
        if mol is not None:
            seen.setdefault(Chem.MolToSmiles(mol))
    return list(seen)


def synthetic_dataset(name: str = "synthetic"):
    """A FewShotDataset: one task per property over the generated molecules; 'carboxylic acid' is the test task,
    'hydroxyl' the held-out validation task (register it in VALIDATION_TASKS under ``name``)."""
    from rdkit import Chem

    from backend.mol.datasets import FewShotDataset, Task
    from backend.mol.featurise import GraphStore

    smiles = molecules()
    store, problems = GraphStore.from_smiles(smiles)
    assert not problems
    mols = [Chem.MolFromSmiles(s) for s in store.smiles]
    tasks = []
    for tid, (prop, smarts) in enumerate(PROPERTIES.items()):
        patt = Chem.MolFromSmarts(smarts)
        labels = np.array([int(m.HasSubstructMatch(patt)) for m in mols], dtype=np.int64)
        split = "test" if prop == "carboxylic acid" else "train"
        tasks.append(Task(name, tid, prop, split, np.arange(len(mols), dtype=np.int64), labels))
    return FewShotDataset(name, store.smiles, store, tasks, sha256="synthetic")


VALIDATION_TASK_ID = list(PROPERTIES).index("hydroxyl")
