"""Morgan fingerprints (RDKit) of SMILES and fingerprint similarity, vectorised over a matrix of bits."""
from __future__ import annotations

import numpy as np

N_BITS = 1024
RADIUS = 2


def morgan(smiles: str, n_bits: int = N_BITS, radius: int = RADIUS) -> np.ndarray | None:
    """[n_bits] uint8 Morgan (ECFP4-like) bits of one SMILES; None when RDKit cannot read it."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles or "") if smiles else None
    if mol is None:
        return None
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return gen.GetFingerprintAsNumPy(mol).astype(np.uint8)


def morgan_matrix(smiles: list[str], n_bits: int = N_BITS) -> tuple[np.ndarray, np.ndarray]:
    """([n, n_bits] float32 fingerprints, [n] bool readable); unreadable SMILES get a zero row."""
    out = np.zeros((len(smiles), n_bits), dtype=np.float32)
    ok = np.zeros(len(smiles), dtype=bool)
    for i, s in enumerate(smiles):
        fp = morgan(s, n_bits)
        if fp is not None:
            out[i], ok[i] = fp, True
    return out, ok


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[n, m] Dice similarity 2|a∩b| / (|a| + |b|) of bit rows a [n, k] and b [m, k] (0 where both are empty)."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    inter = a @ b.T
    denom = a.sum(1)[:, None] + b.sum(1)[None, :]
    return np.where(denom > 0, 2 * inter / np.maximum(denom, 1), 0.0)


def tanimoto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float32), b.astype(np.float32)
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)
