"""Many SMILES -> pretrain-gnns features in flat arrays, in one pass (the fast path behind GraphStore.from_smiles).

RDKit is called once per molecule (parsing and reading atoms/bonds are per molecule by nature) inside ONE capture
of RDKit's log; everything after (vocabulary look-ups, validity checks, both edge directions, packing) is NumPy
over all atoms and bonds at once. The result equals :func:`backend.mol.featurise.mol_to_graph` molecule by
molecule (tests/unit/test_mol_speed_equivalence.py); molecules whose features fall outside the vocabularies get
their reason from ``mol_to_graph`` itself, so the messages are the same too.

Public API: :func:`featurise_flat` (smiles list) -> :class:`FlatGraphs`; :func:`clear_flat_cache`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# RDKit enum value -> pretrain-gnns index (-1: outside the vocabulary)
_CHIRAL_LUT = np.array([0, 1, 2] + [-1] * 13, dtype=np.int64)      # CHI_UNSPECIFIED, CW, CCW
_BOND_LUT = np.full(32, -1, dtype=np.int64)
_BOND_LUT[[1, 2, 3, 12]] = [0, 1, 2, 3]                             # SINGLE, DOUBLE, TRIPLE, AROMATIC
_DIR_LUT = np.full(16, -1, dtype=np.int64)
_DIR_LUT[[0, 4, 3]] = [0, 1, 2]                                      # NONE, ENDUPRIGHT, ENDDOWNRIGHT

_CACHE: dict[str, tuple] = {}          # SMILES -> (x [n, 2], edge_index [2, 2b], edge_attr [2b, 2]) or reason str
_CACHE_MAX = 200_000


@dataclass
class FlatGraphs:
    """Per input SMILES: ``ok[i]``, ``reasons[i]`` ("" when ok); the ok molecules packed in input order:
    ``x`` [N, 2], ``edge_index`` [2, E] (local atom ids), ``edge_attr`` [E, 2], ``n_nodes`` / ``n_edges`` [M]."""

    ok: np.ndarray
    reasons: list[str]
    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    n_nodes: np.ndarray
    n_edges: np.ndarray


def clear_flat_cache():
    _CACHE.clear()


def _parse_all(smiles: list[str]) -> list[tuple]:
    """[(Mol | None, reason)] with RDKit's log captured once for the whole list (parse_smiles' semantics)."""
    from rdkit import Chem

    from backend.mol.featurise import _clean_reason, _rdkit_messages

    out = []
    with _rdkit_messages() as messages:
        for s in smiles:
            if not isinstance(s, str) or not s.strip():
                out.append((None, "empty SMILES"))
                continue
            s = s.strip()
            start = len(messages)
            try:
                mol = Chem.MolFromSmiles(s)
            except Exception as exc:  # noqa: BLE001 - RDKit raises a zoo of types
                out.append((None, str(exc) or type(exc).__name__))
                continue
            out.append((mol, "") if mol is not None else (None, _clean_reason(messages[start:], s)))
    return out


def _read_mols(mols: list) -> tuple:
    """Atoms and bonds of every molecule as flat int arrays (RDKit enums as their integer values)."""
    atomic, chiral, begin, end, btype, bdir, n_atoms, n_bonds = [], [], [], [], [], [], [], []
    for mol in mols:
        atoms = [mol.GetAtomWithIdx(i) for i in range(mol.GetNumAtoms())]
        atomic += [a.GetAtomicNum() for a in atoms]
        chiral += [int(a.GetChiralTag()) for a in atoms]
        bonds = [mol.GetBondWithIdx(j) for j in range(mol.GetNumBonds())]
        begin += [b.GetBeginAtomIdx() for b in bonds]
        end += [b.GetEndAtomIdx() for b in bonds]
        btype += [int(b.GetBondType()) for b in bonds]
        bdir += [int(b.GetBondDir()) for b in bonds]
        n_atoms.append(len(atoms))
        n_bonds.append(len(bonds))
    arr = [np.asarray(v, dtype=np.int64) for v in (atomic, chiral, begin, end, btype, bdir, n_atoms, n_bonds)]
    return tuple(a.reshape(-1) for a in arr)


def _lookup(lut: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape, -1, dtype=np.int64)
    inside = (values >= 0) & (values < len(lut))
    out[inside] = lut[values[inside]]
    return out


def _featurise_new(smiles: list[str], mols: list) -> None:
    """Featurise parsed molecules (all at once) into the cache."""
    from backend.mol.featurise import InvalidSmiles, mol_to_graph

    atomic, chiral, begin, end, btype, bdir, n_atoms, n_bonds = _read_mols(mols)
    chir, bt, bd = _lookup(_CHIRAL_LUT, chiral), _lookup(_BOND_LUT, btype), _lookup(_DIR_LUT, bdir)
    m = len(mols)
    atom_mol = np.repeat(np.arange(m), n_atoms)
    bond_mol = np.repeat(np.arange(m), n_bonds)
    bad_atom = (atomic < 1) | (atomic > 118) | (chir < 0)
    bad_bond = (bt < 0) | (bd < 0)
    bad = (n_atoms == 0) | (np.bincount(atom_mol[bad_atom], minlength=m) > 0) \
        | (np.bincount(bond_mol[bad_bond], minlength=m) > 0)
    x = np.stack([atomic - 1, chir], axis=1)
    src = np.stack([begin, end], axis=1).reshape(-1)          # both directions consecutively: (i, j), (j, i)
    dst = np.stack([end, begin], axis=1).reshape(-1)
    ea = np.repeat(np.stack([bt, bd], axis=1), 2, axis=0)
    a_cut = np.cumsum(n_atoms)[:-1]
    e_cut = 2 * np.cumsum(n_bonds)[:-1]
    xs = np.split(x, a_cut)
    eis = np.split(np.stack([src, dst]), e_cut, axis=1)
    eas = np.split(ea, e_cut)
    for i, s in enumerate(smiles):
        if bad[i]:
            try:
                mol_to_graph(mols[i], s)
                raise AssertionError(f"{s!r}: the flat featuriser rejects what mol_to_graph accepts")
            except InvalidSmiles as exc:
                _CACHE[s] = exc.reason
        else:
            _CACHE[s] = (xs[i], eis[i], eas[i])


def featurise_flat(smiles) -> FlatGraphs:
    """Features of every input SMILES (stripped; each unique SMILES featurised once, then cached)."""
    smiles = list(smiles)
    keys = [s.strip() if isinstance(s, str) else s for s in smiles]
    todo = list(dict.fromkeys(k for k in keys if isinstance(k, str) and k and k not in _CACHE))
    if len(_CACHE) + len(todo) > _CACHE_MAX:
        _CACHE.clear()
        todo = list(dict.fromkeys(k for k in keys if isinstance(k, str) and k))
    if todo:
        parsed = _parse_all(todo)
        for s, (mol, reason) in zip(todo, parsed):
            if mol is None:
                _CACHE[s] = reason
        good = [(s, mol) for s, (mol, _) in zip(todo, parsed) if mol is not None]
        if good:
            _featurise_new([s for s, _ in good], [mol for _, mol in good])
    entries = [_CACHE.get(k, "empty SMILES") if isinstance(k, str) and k else "empty SMILES" for k in keys]
    ok = np.array([not isinstance(e, str) for e in entries], dtype=bool)
    reasons = [e if isinstance(e, str) else "" for e in entries]
    graphs = [e for e in entries if not isinstance(e, str)]
    if graphs:
        x = np.concatenate([g[0] for g in graphs])
        ei = np.concatenate([g[1] for g in graphs], axis=1)
        ea = np.concatenate([g[2] for g in graphs])
    else:
        x, ei, ea = (np.zeros((0, 2), np.int64), np.zeros((2, 0), np.int64), np.zeros((0, 2), np.int64))
    n_nodes = np.array([len(g[0]) for g in graphs], dtype=np.int64)
    n_edges = np.array([g[1].shape[1] for g in graphs], dtype=np.int64)
    return FlatGraphs(ok, reasons, x, ei, ea.reshape(-1, 2), n_nodes, n_edges)


__all__ = ["FlatGraphs", "featurise_flat", "clear_flat_cache"]
