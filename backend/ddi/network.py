"""EmerGNN's biomedical network built from the Hetionet mirror, in the DDI id space.

Hetionet v1.0 without GpBP: 23 metaedges -> relation ids 86..108 (EmerGNN's ``relation2id.json`` order), edges stored
as (head = Hetionet source, tail = Hetionet target, relation). The 1,356 DDI drugs that are Hetionet compounds are
the same node (``Compound::DBxxxxx`` -> its drug id). The 354 drugs without a Hetionet node get "resembles" (CrC)
links to the drugs whose Morgan fingerprints are most similar (Dice >= 0.5, as Hetionet links compounds; at least
the single nearest drug), kept apart in ``inferred`` so results can be reported with and without them.

With the complete Hetionet edge file (``ddi/hetionet/hetionet-v1.0-edges.sif.gz``, catalog extra of "hetionet")
present the graph is complete; otherwise the mirror's per-metaedge files (80.4% of the edges) are used.
``Network.source`` says which. Built once and cached as ``<user cache>/ddi/network-<key>.npz`` (key: the source files' sizes and times).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backend.ddi.data import METAEDGES, METAEDGE_WORDS, N_TYPES, drugbank, ddi_root
from backend.ddi.fingerprints import dice, morgan_matrix

CACHE_VERSION = 3
REL_OFFSET = N_TYPES                      # relation id of METAEDGES[0]
N_REL = N_TYPES + len(METAEDGES)          # 109 relation ids (DDI types + metaedges), before inverses
CRC = REL_OFFSET + METAEDGES.index("CrC")
LINK_DICE = 0.5
LINK_MAX = 10
COMPLETE_FILE = "hetionet/hetionet-v1.0-edges.sif.gz"

KIND_OF_PREFIX = {"Gene": "Gene", "Compound": "Compound", "Disease": "Disease", "Anatomy": "Anatomy",
                  "Side Effect": "Side Effect", "Symptom": "Symptom", "Pathway": "Pathway",
                  "Pharmacologic Class": "Pharmacologic Class", "Molecular Function": "Molecular Function",
                  "Cellular Component": "Cellular Component", "Biological Process": "Biological Process"}


def metaedge_table(data_dir=None) -> pd.DataFrame:
    """Hetionet's published metaedge table (abbreviation, edges, ...), GpBP included."""
    return pd.read_csv(ddi_root(data_dir) / "hetionet" / "metaedges.tsv", sep="\t")


@dataclass
class Network:
    """head/tail/rel [n_edges] int32 (rel in 86..108), inferred [n_edges] bool (fingerprint links), entity names and
    kinds [n_entities], drug_in_hetionet [n_drugs] bool, counts per metaedge, source ("mirror" | "complete")."""

    head: np.ndarray
    tail: np.ndarray
    rel: np.ndarray
    inferred: np.ndarray
    entity_names: np.ndarray
    entity_kinds: np.ndarray
    drug_in_hetionet: np.ndarray
    counts: dict
    source: str
    build_seconds: float = 0.0
    load_seconds: float = 0.0

    @property
    def n_edges(self) -> int:
        return int(len(self.head))

    def triples(self) -> np.ndarray:
        return np.stack([self.head, self.tail, self.rel], 1).astype(np.int64)


def _source_files(root: Path) -> tuple[str, list[Path]]:
    complete = root / COMPLETE_FILE
    if complete.exists():
        return "complete", [complete]
    edges = root / "hetionet" / "edges"
    return "mirror", sorted(edges.glob("*.tsv.gz"))


def _cache_key(root: Path) -> str:
    source, files = _source_files(root)
    h = hashlib.sha256(f"v{CACHE_VERSION}:{source}:{LINK_DICE}:{LINK_MAX}".encode())
    for p in files + [root / "drugbank" / "emergnn" / "node2id.json", root / "drugbank" / "drugs" / "id2smiles.json.gz"]:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """``$PARSIMONY_CACHE/ddi``, else the per-user cache folder's ``ddi`` (outside git, shared by every runs folder)."""
    import os

    env = os.environ.get("PARSIMONY_CACHE", "").strip()
    if env:
        return Path(env).expanduser() / "ddi"
    import platformdirs

    from backend.core.data import APP_NAME

    return Path(platformdirs.user_cache_dir(APP_NAME)) / "ddi"


def cache_path(data_dir=None) -> Path:
    root = ddi_root(data_dir)
    return cache_dir() / f"network-{_cache_key(root)}.npz"


def _read_edges(root: Path) -> tuple[str, pd.DataFrame]:
    """(source, frame with columns source, target, metaedge) of every Hetionet edge except GpBP."""
    source, files = _source_files(root)
    if source == "complete":
        frame = pd.read_csv(files[0], sep="\t", compression="gzip")
        frame.columns = ["source", "metaedge", "target"]
        return source, frame[frame["metaedge"] != "GpBP"].reset_index(drop=True)
    parts = []
    for p in files:
        abbr = p.name.split(".")[0].replace("Gr_G", "Gr>G")
        if abbr not in METAEDGES:
            continue
        f = pd.read_csv(p, sep="\t", compression="gzip")
        f["metaedge"] = abbr
        parts.append(f)
    return source, pd.concat(parts, ignore_index=True)


def _similarity_links(drug_in_hetionet: np.ndarray, smiles: list[str]) -> np.ndarray:
    """[n, 2] (drug without a Hetionet node, similar drug) links: Dice >= LINK_DICE (at most LINK_MAX, at least the
    nearest drug)."""
    fps, ok = morgan_matrix(smiles)
    missing = np.flatnonzero(~drug_in_hetionet & ok)
    if not len(missing):
        return np.zeros((0, 2), dtype=np.int64)
    sim = dice(fps[missing], fps)
    sim[np.arange(len(missing)), missing] = -1.0
    sim[:, ~ok] = -1.0
    order = np.argsort(-sim, axis=1)[:, :LINK_MAX]
    top = np.take_along_axis(sim, order, 1)
    keep = top >= LINK_DICE
    keep[:, 0] = top[:, 0] > 0
    rows = np.repeat(missing[:, None], order.shape[1], 1)
    return np.stack([rows[keep], order[keep]], 1).astype(np.int64)


def build_network(data_dir=None) -> Network:
    """Read the mirror and map it into the DDI id space (no cache)."""
    t0 = time.perf_counter()
    root = ddi_root(data_dir)
    db = drugbank(str(root.parent))
    source, frame = _read_edges(root)
    ids = pd.Series(db.entity_ids)
    h = frame["source"].map(ids)
    t = frame["target"].map(ids)
    rel = frame["metaedge"].map({m: REL_OFFSET + i for i, m in enumerate(METAEDGES)})
    ok = h.notna() & t.notna() & rel.notna()
    counts = {m: 0 for m in METAEDGES}
    counts.update(frame.loc[ok, "metaedge"].value_counts().to_dict())
    counts = {m: int(counts.get(m, 0)) for m in METAEDGES}
    counts["unmapped"] = int((~ok).sum())
    head = h[ok].to_numpy(np.int64)
    tail = t[ok].to_numpy(np.int64)
    rels = rel[ok].to_numpy(np.int64)

    nodes = pd.read_csv(root / "hetionet" / "hetionet-v1.0-nodes.tsv.gz", sep="\t", compression="gzip")
    node_name = dict(zip(nodes["id"], nodes["name"]))
    node_kind = dict(zip(nodes["id"], nodes["kind"]))
    names = np.array([node_name.get(k, k.split("::", 1)[-1]) for k in db.entity_keys], dtype=object)
    kinds = np.array([node_kind.get(k, k.split("::", 1)[0]) for k in db.entity_keys], dtype=object)
    names[:db.n_drugs] = db.names
    kinds[:db.n_drugs] = "Drug"
    in_het = np.array([f"Compound::{d}" in node_name for d in db.drugbank_ids])

    links = _similarity_links(in_het, db.smiles)
    counts["fingerprint_links"] = int(len(links))
    head = np.concatenate([head, links[:, 0]])
    tail = np.concatenate([tail, links[:, 1]])
    rels = np.concatenate([rels, np.full(len(links), CRC)])
    inferred = np.zeros(len(head), dtype=bool)
    inferred[len(head) - len(links):] = True
    return Network(head.astype(np.int32), tail.astype(np.int32), rels.astype(np.int16), inferred, names, kinds,
                   in_het, counts, source, build_seconds=time.perf_counter() - t0)


def load_network(data_dir=None, use_cache: bool = True) -> Network:
    """The network, from the cache when it is there (built and cached otherwise)."""
    t0 = time.perf_counter()
    path = cache_path(data_dir)
    if use_cache and path.exists():
        z = np.load(path, allow_pickle=True)
        net = Network(z["head"], z["tail"], z["rel"], z["inferred"], z["entity_names"], z["entity_kinds"],
                      z["drug_in_hetionet"], z["counts"].item(), str(z["source"]),
                      build_seconds=float(z["build_seconds"]))
        net.load_seconds = time.perf_counter() - t0
        return net
    net = build_network(data_dir)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, head=net.head, tail=net.tail, rel=net.rel, inferred=net.inferred,
                 entity_names=net.entity_names, entity_kinds=net.entity_kinds,
                 drug_in_hetionet=net.drug_in_hetionet, counts=np.array(net.counts, dtype=object),
                 source=np.array(net.source), build_seconds=np.array(net.build_seconds))
        tmp.replace(path)
    net.load_seconds = time.perf_counter() - t0
    return net


def relation_name(r: int, templates: list[str] | None = None) -> str:
    """Short words for relation id r (0..85 interaction type, 86..108 metaedge)."""
    if r < N_TYPES:
        return f"interacts (type {r})"
    abbr = METAEDGES[r - REL_OFFSET]
    return METAEDGE_WORDS[abbr][1]


def relation_abbr(r: int) -> str:
    return f"DDI#{r}" if r < N_TYPES else METAEDGES[r - REL_OFFSET]
