"""SMILES -> molecular graphs with the pretrain-gnns features (Hu et al. 2020), shared by PAR and PACIA.

Node features ``x`` (LongTensor [num_atoms, 2]): column 0 = atomic number - 1 (0..117; 119 is the mask token of
attribute masking), column 1 = chirality tag (0 unspecified, 1 tetrahedral CW, 2 tetrahedral CCW).
Edges: both directions of every RDKit bond, consecutively in bond order; ``edge_attr`` (LongTensor [2B, 2]):
column 0 = bond type (0 single, 1 double, 2 triple, 3 aromatic; 4 is the self-loop and 5 the mask token inside
the convolutions), column 1 = bond direction (0 none, 1 end-up-right, 2 end-down-right). Molecules are parsed with
RDKit's default sanitisation and no explicit hydrogens (pretrain-gnns ``mol_to_graph_data_obj_simple``).

Public API (stable):

- :func:`parse_smiles` (smiles) -> (Mol | None, reason): RDKit's own reason when it cannot be parsed.
- :func:`mol_to_graph` (mol) -> ``torch_geometric.data.Data``; raises :class:`InvalidSmiles` for features outside
  the pretrain-gnns vocabularies (dummy atoms ``*``, dative bonds, exotic chirality tags).
- :func:`smiles_to_graph` (smiles) -> Data, cached per unique SMILES; raises :class:`InvalidSmiles`.
- :func:`featurise_many` (smiles list) -> (graphs, problems): one Data (or None) per input, problems =
  [(index, smiles, reason)], never raises on bad SMILES.
- :class:`GraphStore`: many molecules packed in flat tensors (one graph per unique molecule; ``from_smiles``
  featurises all of them in one pass, :mod:`backend.mol.flatfeatures`) with a vectorised
  :meth:`GraphStore.batch` (indices -> :class:`MolBatch` for the encoders) and :meth:`GraphStore.subset`;
  :class:`GraphSet` = a store plus indices (what few-shot predictors receive as "graphs").
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
import torch

NUM_ATOM_TYPE = 120        # 118 elements + unused 118 + mask 119
NUM_CHIRALITY_TAG = 3
NUM_BOND_TYPE = 6          # 4 bond types + self loop (4) + mask (5)
NUM_BOND_DIRECTION = 3
SELF_LOOP_BOND_TYPE = 4
MASK_ATOM_TYPE = 119
MASK_BOND_TYPE = 5

_CHIRALITY = ("CHI_UNSPECIFIED", "CHI_TETRAHEDRAL_CW", "CHI_TETRAHEDRAL_CCW")
_BONDS = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
_BOND_DIRS = ("NONE", "ENDUPRIGHT", "ENDDOWNRIGHT")


class InvalidSmiles(ValueError):
    """A SMILES that RDKit cannot parse, or whose features fall outside the pretrain-gnns vocabularies."""

    def __init__(self, smiles: str, reason: str):
        super().__init__(f"{smiles!r}: {reason}")
        self.smiles = smiles
        self.reason = reason


# --------------------------------------------------------------------------- RDKit with its messages captured

_LOG_LOCK = threading.Lock()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):  # pragma: no cover - trivial
        self.messages.append(record.getMessage())


@contextmanager
def _rdkit_messages():
    """Collect RDKit's error/warning log lines (routed to Python logging) for the duration of the block."""
    from rdkit import rdBase

    with _LOG_LOCK:
        rdBase.LogToPythonLogger()
        logger = logging.getLogger("rdkit")
        handler = _Collect()
        old_propagate, old_handlers = logger.propagate, list(logger.handlers)
        for h in old_handlers:
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.propagate = False
        try:
            yield handler.messages
        finally:
            logger.removeHandler(handler)
            for h in old_handlers:
                logger.addHandler(h)
            logger.propagate = old_propagate


def _clean_reason(messages: list[str], smiles: str = "") -> str:
    lines = []
    for m in messages:
        for line in str(m).splitlines():
            line = line.strip()
            if line.startswith("[") and "]" in line[:12]:
                line = line.split("]", 1)[1].strip()        # drop RDKit's "[05:52:44]" time stamp
            if not line or set(line) <= set("~^ ") or line == smiles or line.startswith("SMILES Parse Error: Failed"):
                continue
            if line not in lines:
                lines.append(line)
    return "; ".join(lines) or "RDKit could not parse it"


def parse_smiles(smiles: str):
    """(RDKit Mol, "") or (None, RDKit's reason). Never raises on bad input."""
    from rdkit import Chem

    if not isinstance(smiles, str) or not smiles.strip():
        return None, "empty SMILES"
    smiles = smiles.strip()
    with _rdkit_messages() as messages:
        try:
            mol = Chem.MolFromSmiles(smiles)
        except Exception as exc:  # noqa: BLE001 - RDKit raises a zoo of types
            return None, str(exc) or type(exc).__name__
    if mol is None:
        return None, _clean_reason(messages, smiles)
    return mol, ""


def mol_to_graph(mol, smiles: str = ""):
    """pretrain-gnns graph of an RDKit Mol (see the module docstring). Raises InvalidSmiles when a feature value
    has no entry in the pretrain-gnns vocabularies."""
    from torch_geometric.data import Data

    atoms = mol.GetAtoms()
    atomic = np.fromiter((a.GetAtomicNum() for a in atoms), dtype=np.int64, count=mol.GetNumAtoms())
    chir_names = [str(a.GetChiralTag()) for a in mol.GetAtoms()]
    if mol.GetNumAtoms() == 0:
        raise InvalidSmiles(smiles, "the molecule has no atoms")
    if (atomic < 1).any() or (atomic > 118).any():
        raise InvalidSmiles(smiles, "contains a dummy atom (*) or an atomic number outside 1-118")
    try:
        chir = np.array([_CHIRALITY.index(c) for c in chir_names], dtype=np.int64)
    except ValueError:
        bad = sorted(set(chir_names) - set(_CHIRALITY))
        raise InvalidSmiles(smiles, f"chirality {', '.join(bad)} is outside the pretrain-gnns vocabulary") from None
    x = torch.from_numpy(np.stack([atomic - 1, chir], axis=1))
    bonds = list(mol.GetBonds())
    if bonds:
        begin = np.fromiter((b.GetBeginAtomIdx() for b in bonds), dtype=np.int64, count=len(bonds))
        end = np.fromiter((b.GetEndAtomIdx() for b in bonds), dtype=np.int64, count=len(bonds))
        types = [str(b.GetBondType()) for b in bonds]
        dirs = [str(b.GetBondDir()) for b in bonds]
        try:
            t = np.array([_BONDS.index(v) for v in types], dtype=np.int64)
        except ValueError:
            bad = sorted(set(types) - set(_BONDS))
            raise InvalidSmiles(smiles, f"bond type {', '.join(bad)} is outside the pretrain-gnns vocabulary") from None
        try:
            d = np.array([_BOND_DIRS.index(v) for v in dirs], dtype=np.int64)
        except ValueError:
            bad = sorted(set(dirs) - set(_BOND_DIRS))
            raise InvalidSmiles(smiles, f"bond direction {', '.join(bad)} is outside the pretrain-gnns "
                                        "vocabulary") from None
        # both directions consecutively: (i, j), (j, i) per bond
        src = np.stack([begin, end], axis=1).reshape(-1)
        dst = np.stack([end, begin], axis=1).reshape(-1)
        edge_index = torch.from_numpy(np.stack([src, dst]))
        edge_attr = torch.from_numpy(np.repeat(np.stack([t, d], axis=1), 2, axis=0))
    else:
        edge_index = torch.zeros((2, 0), dtype=torch.long)
        edge_attr = torch.zeros((0, 2), dtype=torch.long)
    return Data(x=x, edge_index=edge_index, edge_attr=edge_attr)


@lru_cache(maxsize=200_000)
def _graph_cached(smiles: str):
    mol, reason = parse_smiles(smiles)
    if mol is None:
        raise InvalidSmiles(smiles, reason)
    return mol_to_graph(mol, smiles)


def smiles_to_graph(smiles: str):
    """The pretrain-gnns graph of one SMILES (cached per unique SMILES); raises InvalidSmiles with RDKit's reason."""
    if not isinstance(smiles, str) or not smiles.strip():
        raise InvalidSmiles(str(smiles), "empty SMILES")
    return _graph_cached(smiles.strip())


def featurise_many(smiles: Iterable[str]):
    """(graphs, problems): one Data per input (None where it failed) and [(index, smiles, reason)] for failures."""
    graphs, problems = [], []
    for i, s in enumerate(smiles):
        try:
            graphs.append(smiles_to_graph(s))
        except InvalidSmiles as exc:
            graphs.append(None)
            problems.append((i, s, exc.reason))
    return graphs, problems


# --------------------------------------------------------------------------- packed storage and batching

@dataclass
class MolBatch:
    """A batch of molecules for the encoders: PyG-style flat tensors."""

    x: torch.Tensor            # [N, 2] long
    edge_index: torch.Tensor   # [2, E] long (global node ids)
    edge_attr: torch.Tensor    # [E, 2] long
    batch: torch.Tensor        # [N] graph id of each node, 0..num_graphs-1
    num_graphs: int
    node_ids: torch.Tensor | None = None   # [N] row of each node in the GraphStore's flat x (for node caches)

    def to(self, device) -> "MolBatch":
        return MolBatch(self.x.to(device), self.edge_index.to(device), self.edge_attr.to(device),
                        self.batch.to(device), self.num_graphs,
                        None if self.node_ids is None else self.node_ids.to(device))


class GraphStore:
    """Many molecules in flat tensors, one graph per unique molecule; ``batch(indices)`` gathers without loops.

    ``smiles[i]`` is molecule i; its atoms are ``x[node_ptr[i]:node_ptr[i+1]]`` and its edges
    ``edge_index[:, edge_ptr[i]:edge_ptr[i+1]]`` (local atom ids, 0-based within the molecule).
    """

    def __init__(self, smiles: Sequence[str], graphs: Sequence):
        if len(smiles) != len(graphs):
            raise ValueError("one graph per SMILES")
        self.smiles = list(smiles)
        n_nodes = torch.tensor([g.x.shape[0] for g in graphs], dtype=torch.long)
        n_edges = torch.tensor([g.edge_index.shape[1] for g in graphs], dtype=torch.long)
        self.node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), n_nodes.cumsum(0)])
        self.edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), n_edges.cumsum(0)])
        self.x = torch.cat([g.x for g in graphs]) if graphs else torch.zeros((0, 2), dtype=torch.long)
        self.edge_index = (torch.cat([g.edge_index for g in graphs], dim=1) if graphs
                           else torch.zeros((2, 0), dtype=torch.long))
        self.edge_attr = (torch.cat([g.edge_attr for g in graphs]) if graphs
                          else torch.zeros((0, 2), dtype=torch.long))
        self.index = {s: i for i, s in enumerate(self.smiles)}

    @classmethod
    def from_smiles(cls, smiles: Iterable[str]) -> tuple["GraphStore", list[tuple[int, str, str]]]:
        """(store of the parsable unique SMILES in first-seen order, problems [(input index, smiles, reason)]).

        Featurises in one pass (backend.mol.flatfeatures: RDKit per molecule, NumPy for the rest); equal to
        building the store from ``featurise_many`` graph by graph."""
        from backend.mol.flatfeatures import featurise_flat

        smiles = [s.strip() if isinstance(s, str) else s for s in smiles]
        flat = featurise_flat(smiles)
        problems = [(i, s, why) for i, (s, good, why) in enumerate(zip(smiles, flat.ok, flat.reasons)) if not good]
        keep = list(dict.fromkeys(s for s, good in zip(smiles, flat.ok) if good))
        return cls.from_arrays(keep, featurise_flat(keep)), problems

    @classmethod
    def from_arrays(cls, smiles: Sequence[str], flat) -> "GraphStore":
        """A store from packed per-molecule arrays (a :class:`backend.mol.flatfeatures.FlatGraphs` of ``smiles``)."""
        store = cls.__new__(cls)
        store.smiles = list(smiles)
        zero = torch.zeros(1, dtype=torch.long)
        store.node_ptr = torch.cat([zero, torch.from_numpy(np.asarray(flat.n_nodes, dtype=np.int64)).cumsum(0)])
        store.edge_ptr = torch.cat([zero, torch.from_numpy(np.asarray(flat.n_edges, dtype=np.int64)).cumsum(0)])
        store.x = torch.from_numpy(np.ascontiguousarray(flat.x, dtype=np.int64)).reshape(-1, 2)
        store.edge_index = torch.from_numpy(np.ascontiguousarray(flat.edge_index, dtype=np.int64)).reshape(2, -1)
        store.edge_attr = torch.from_numpy(np.ascontiguousarray(flat.edge_attr, dtype=np.int64)).reshape(-1, 2)
        store.index = {s: i for i, s in enumerate(store.smiles)}
        return store

    def __len__(self) -> int:
        return len(self.smiles)

    def num_atoms(self, i: int) -> int:
        return int(self.node_ptr[i + 1] - self.node_ptr[i])

    def graph(self, i: int):
        """Molecule i as a PyG Data."""
        from torch_geometric.data import Data

        a, b = int(self.node_ptr[i]), int(self.node_ptr[i + 1])
        c, d = int(self.edge_ptr[i]), int(self.edge_ptr[i + 1])
        return Data(x=self.x[a:b], edge_index=self.edge_index[:, c:d], edge_attr=self.edge_attr[c:d])

    def batch(self, indices) -> MolBatch:
        """The molecules ``indices`` (any order, repeats allowed) as one MolBatch, vectorised."""
        idx = torch.as_tensor(np.ascontiguousarray(indices, dtype=np.int64)).reshape(-1)
        n_nodes = self.node_ptr[idx + 1] - self.node_ptr[idx]
        n_edges = self.edge_ptr[idx + 1] - self.edge_ptr[idx]
        g = idx.numel()
        batch = torch.repeat_interleave(torch.arange(g), n_nodes)
        new_node_start = torch.cat([torch.zeros(1, dtype=torch.long), n_nodes.cumsum(0)[:-1]])
        # node gather: position within its graph + the graph's start in the store
        node_pos = torch.arange(int(n_nodes.sum())) - new_node_start[batch]
        node_ids = self.node_ptr[idx][batch] + node_pos
        x = self.x[node_ids]
        ebatch = torch.repeat_interleave(torch.arange(g), n_edges)
        new_edge_start = torch.cat([torch.zeros(1, dtype=torch.long), n_edges.cumsum(0)[:-1]])
        edge_pos = torch.arange(int(n_edges.sum())) - new_edge_start[ebatch]
        eid = self.edge_ptr[idx][ebatch] + edge_pos
        edge_index = self.edge_index[:, eid] + new_node_start[ebatch].unsqueeze(0)
        edge_attr = self.edge_attr[eid]
        return MolBatch(x, edge_index, edge_attr, batch, g, node_ids)

    def subset(self, indices) -> "GraphSet":
        return GraphSet(self, np.asarray(indices, dtype=np.int64))

    def all(self) -> "GraphSet":
        return GraphSet(self, np.arange(len(self), dtype=np.int64))


@dataclass
class GraphSet:
    """Some molecules of a GraphStore: what few-shot predictors receive as support or query "graphs"."""

    store: GraphStore
    indices: np.ndarray

    def __len__(self) -> int:
        return int(len(self.indices))

    @property
    def smiles(self) -> list[str]:
        return [self.store.smiles[i] for i in self.indices]

    def batch(self) -> MolBatch:
        return self.store.batch(self.indices)

    def chunks(self, size: int):
        """Consecutive GraphSets of at most ``size`` molecules."""
        for a in range(0, len(self), size):
            yield GraphSet(self.store, self.indices[a:a + size])

    def take(self, positions) -> "GraphSet":
        """The molecules at ``positions`` of this set (positions, not store indices)."""
        return GraphSet(self.store, self.indices[np.asarray(positions, dtype=np.int64)])


def graphs_from_smiles(smiles: Sequence[str]) -> tuple[GraphSet, list[tuple[int, str, str]]]:
    """A GraphSet with one entry per *input* SMILES that parses (duplicates kept, in input order) and the problems.

    ``result.smiles`` lists the kept inputs; compare with the input to map rows back.
    """
    store, problems = GraphStore.from_smiles(smiles)
    bad = {i for i, _, _ in problems}
    idx = [store.index[s.strip()] for i, s in enumerate(smiles) if i not in bad]
    return GraphSet(store, np.asarray(idx, dtype=np.int64)), problems


__all__ = ["InvalidSmiles", "parse_smiles", "mol_to_graph", "smiles_to_graph", "featurise_many", "MolBatch",
           "GraphStore", "GraphSet", "graphs_from_smiles", "NUM_ATOM_TYPE", "NUM_CHIRALITY_TAG", "NUM_BOND_TYPE",
           "NUM_BOND_DIRECTION", "SELF_LOOP_BOND_TYPE", "MASK_ATOM_TYPE", "MASK_BOND_TYPE"]


def _selftest():  # pragma: no cover - manual check
    g = smiles_to_graph("CC(=O)Oc1ccccc1C(=O)O")
    print(g, g.x[:4].tolist())
    print(parse_smiles("CC(=O)O[AlH3](O)O"), parse_smiles("C1CC"))
