"""A loaded EmerGNN checkpoint: predict (a pair or a CSV of pairs), explain (top paths through the network, their
subgraph, a faithfulness check by re-scoring with the paths' edges masked), evaluate (reproduces the card).

Drugs are given by name, DrugBank id or the picker's "Name (DBxxxxx)"; a drug outside the 1,710 is given by SMILES
(``smiles1``/``smiles2``) and becomes a new emerging node linked to its most similar drugs by Morgan-fingerprint Dice
similarity (>= 0.5, at least the nearest; "resembles" edges, as Hetionet links compounds). Only checkpoints with
fingerprint features (S1/S2) can take such a drug: S0's per-drug embeddings know only the 1,710.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from backend.core import store
from backend.core.evidence import Evidence
from backend.core.tables import Column, Problem, read_table
from backend.ddi.data import LICENCE, METAEDGE_WORDS, METAEDGES, N_TYPES
from backend.ddi.fingerprints import dice, morgan
from backend.ddi.graph import Graph
from backend.ddi.names import DrugNames, UnknownDrug
from backend.ddi.network import CRC, LINK_DICE, LINK_MAX, N_REL, REL_OFFSET

from .config import EmerGNNConfig
from .model import make_batch
from .task import Task
from .train import build_model, metrics_of, predict_logits

#: entity type -> colour (Okabe-Ito based, colour-blind safe)
KIND_COLOURS = {"Drug": "#d55e00", "Compound": "#e69f00", "Gene": "#0072b2", "Disease": "#cc79a7",
                "Anatomy": "#009e73", "Side Effect": "#56b4e9", "Pharmacologic Class": "#f0e442",
                "Pathway": "#999999", "Symptom": "#882255", "Molecular Function": "#44aa99",
                "Cellular Component": "#332288"}
MAX_TABLE_ROWS = 1000
STATUS_WORDS = {"existing": "existing (its known interactions were training facts)",
                "emerging": "emerging (none of its interactions was seen in training; reached through the network)",
                "new": "new (given by SMILES; linked to similar drugs by fingerprint)"}


@dataclass
class Drug:
    id: int                 # drug id (0..1709) or a new node id for a SMILES
    name: str
    drugbank_id: str = ""
    smiles: str = ""
    status: str = "existing"
    fingerprint: np.ndarray | None = None
    links: list | None = None    # (drug id, Dice) of a new drug's similarity links

    @property
    def label(self) -> str:
        return f"{self.name} ({self.drugbank_id})" if self.drugbank_id else self.name


def relation_text(rel: int, templates=None) -> tuple[str, bool]:
    """(words of relation slot ``rel``, inverse?) — the base relation's words and whether the hop runs against it."""
    inverse = N_REL <= rel < 2 * N_REL
    base = rel - N_REL if inverse else rel
    if rel == 2 * N_REL:
        return "stays", False
    if base < N_TYPES:
        return f"interacts (DDI type {base})", inverse
    return METAEDGE_WORDS[METAEDGES[base - REL_OFFSET]][1], inverse


class EmerGNNModel:
    def __init__(self, model_dir, device=None, data_dir=None):
        self.model_dir = Path(model_dir)
        self.card = store.load_card(model_dir)
        cfg = dict((self.card.train or {}).get("config") or {})
        self.config = EmerGNNConfig(**{k: v for k, v in cfg.items() if k in EmerGNNConfig.__dataclass_fields__}).resolved()
        self.data_dir = data_dir
        self.task = Task(self.config.setting, self.config.split_kind, data_dir)
        self.model = build_model(self.config, self.task)
        self.model.load_state_dict(store.load_state_dict(model_dir))
        self.model.eval()
        self.db = self.task.db
        self.names = DrugNames(self.db.names, self.db.drugbank_ids)
        self.takes_smiles = self.config.features == "morgan"

    # ------------------------------------------------------------------ data
    @cached_property
    def graph(self) -> Graph:
        return self.task.graph("test")

    @cached_property
    def known(self) -> dict[tuple[int, int], tuple[int, str]]:
        """(h, t) -> (type, where) for every pair in the split's files."""
        out = {}
        for split in ("test", "valid", "train"):
            p = self.task.split.pairs(split)
            out.update(zip(zip(p[:, 0].tolist(), p[:, 1].tolist()), zip(p[:, 2].tolist(), [split] * len(p))))
        return out

    def status(self, i: int) -> str:
        return "existing" if self.task.role[i] == 0 else "emerging"

    def drug(self, text=None, smiles: str | None = None) -> Drug:
        """A drug by name / id (``text``) or a new one by ``smiles``."""
        if text not in (None, "") or not smiles:
            i = self.names.resolve(text)
            return Drug(i, self.db.names[i], self.db.drugbank_ids[i], self.db.smiles[i], self.status(i))
        if not self.takes_smiles:
            raise ValueError("this checkpoint learns one embedding per known drug (S0) and cannot take a new drug by "
                             "SMILES: use an S1 checkpoint (fingerprint features)")
        fp = morgan(smiles)
        if fp is None:
            raise ValueError(f"RDKit cannot read the SMILES {smiles!r}")
        sim = dice(fp[None], self.task.fingerprints.numpy())[0]
        exact = np.flatnonzero(sim >= 0.999)
        order = np.argsort(-sim)[:LINK_MAX]
        keep = [int(j) for j in order if sim[j] >= LINK_DICE] or [int(order[0])]
        name = f"new drug ({smiles[:24]}{'…' if len(smiles) > 24 else ''})"
        if len(exact):
            name += f", fingerprint of {self.db.names[exact[0]]}"
        return Drug(-1, name, "", smiles, "new", fp.astype(np.float32), [(j, float(sim[j])) for j in keep])

    def _graph_for(self, drugs: list[Drug]) -> Graph:
        new = [d for d in drugs if d.status == "new"]
        if not new:
            return self.graph
        facts = [self.task.facts("test")]
        for k, d in enumerate(new):
            d.id = self.task.n_nodes + k
            facts.append(np.array([[d.id, j, CRC] for j, _ in d.links], dtype=np.int64))
        return Graph(np.concatenate(facts), self.task.n_nodes + len(new), N_REL)

    def _fingerprints(self, u: Drug, v: Drug) -> torch.Tensor | None:
        if not self.takes_smiles:
            return None
        fp = self.task.fingerprints
        row = lambda d: torch.from_numpy(d.fingerprint) if d.fingerprint is not None else fp[d.id]
        return torch.stack([row(u), row(v)])[None]

    def _pair(self, query: dict) -> tuple[Drug, Drug]:
        q = query or {}
        u = self.drug(q.get("drug1"), q.get("smiles1"))
        v = self.drug(q.get("drug2"), q.get("smiles2"))
        if u.status != "new" and v.status != "new" and u.id == v.id:
            raise ValueError(f"{u.name} is paired with itself: give two different drugs")
        return u, v

    # ------------------------------------------------------------------ predict
    def pair_batch(self, u: Drug, v: Drug):
        """(graph, batch of the pair, edge mask [n_edges] that hides the pair's own DDI facts): a question is answered
        without the interaction DrugBank records for it (those facts would otherwise be one hop away)."""
        graph = self._graph_for([u, v])
        batch = make_batch(graph, np.array([[u.id, v.id]]), self.model.n_layer)
        return graph, batch, own_facts_hidden(graph, batch)

    def probabilities(self, u: Drug, v: Drug) -> torch.Tensor:
        _, batch, mask = self.pair_batch(u, v)
        with torch.no_grad():
            logits = self.model(batch, edge_mask=mask, fingerprints=self._fingerprints(u, v))
        return torch.softmax(logits[0], -1)

    def describe(self, r: int, u: Drug, v: Drug) -> str:
        return self.db.describe(r, u.name, v.name)

    def predict(self, query: dict | None = None, table=None, progress=None, max_rows: int | None = None) -> pd.DataFrame:
        if table is not None:
            return self.predict_table(table, progress=progress, max_rows=max_rows)
        u, v = self._pair(query)
        top = int((query or {}).get("top") or 5)
        prob = self.probabilities(u, v)
        best = torch.argsort(prob, descending=True)[:top].tolist()
        known = self.known.get((u.id, v.id)) if "new" not in (u.status, v.status) else None
        rows = [{"rank": k + 1, "type": r, "probability": float(prob[r]), "description": self.describe(r, u, v),
                 "known in DrugBank": (f"yes ({known[1]} pair)" if known and known[0] == r else "")}
                for k, r in enumerate(best)]
        frame = pd.DataFrame(rows)
        frame.attrs.update(drug1=u.label, drug2=v.label, status1=u.status, status2=v.status,
                           known=(self.describe(known[0], u, v) + f" ({known[1]} pair)") if known else "")
        return frame

    def predict_table(self, table, progress=None, max_rows: int | None = None) -> pd.DataFrame:
        """One row per usable pair of a CSV/TSV with columns drug1, drug2 (names or DrugBank ids): the top type, its
        probability and description, the second type; every other row is a problem naming its line and reason."""
        if isinstance(table, str) and "\n" not in table and Path(table).is_file():
            table = Path(table)   # the CLI's --input FILE
        rows = read_table(table, [Column("drug1", ("drug_1", "drug a", "drug_a", "a")),
                                  Column("drug2", ("drug_2", "drug b", "drug_b", "b"))],
                          max_rows=max_rows if max_rows is not None else None)
        problems, pairs, seen = [], [], {}
        for rec in rows.rows.to_dict("records"):
            ids = []
            for col in ("drug1", "drug2"):
                try:
                    ids.append(self.names.resolve(rec[col]))
                except UnknownDrug as exc:
                    hint = f"; closest: {', '.join(exc.suggestions)}" if exc.suggestions else ""
                    problems.append(Problem(rec["row"], col, rec[col], f"unknown drug{hint}"))
            if len(ids) < 2:
                continue
            if ids[0] == ids[1]:
                problems.append(Problem(rec["row"], "drug2", rec["drug2"], "a drug paired with itself"))
                continue
            if tuple(ids) in seen:
                problems.append(Problem(rec["row"], "", f"{rec['drug1']}, {rec['drug2']}",
                                        f"duplicate of row {seen[tuple(ids)]}"))
                continue
            seen[tuple(ids)] = rec["row"]
            pairs.append((rec["row"], ids[0], ids[1]))
        rows = rows.drop(problems)
        out = []
        arr = np.array([[a, b] for _, a, b in pairs], dtype=np.int64).reshape(-1, 2)
        chunks = []
        with torch.no_grad():
            for i in range(0, len(arr), 32):
                batch = make_batch(self.graph, arr[i:i + 32], self.model.n_layer)
                chunks.append(self.model(batch, edge_mask=own_facts_hidden(self.graph, batch)))
                if progress:
                    progress(min(i + 32, len(arr)), len(arr))
        logits = torch.cat(chunks) if chunks else torch.zeros(0, N_TYPES)
        prob = torch.softmax(logits, -1)
        top2 = torch.topk(prob, min(2, N_TYPES), -1)
        for k, (line, a, b) in enumerate(pairs):
            ua, vb = Drug(a, self.db.names[a], self.db.drugbank_ids[a]), Drug(b, self.db.names[b], self.db.drugbank_ids[b])
            r1, r2 = int(top2.indices[k, 0]), int(top2.indices[k, 1])
            known = self.known.get((a, b))
            out.append({"row": line, "drug1": ua.label, "drug2": vb.label, "status1": self.status(a),
                        "status2": self.status(b), "type": r1, "probability": float(top2.values[k, 0]),
                        "description": self.describe(r1, ua, vb), "second type": r2,
                        "second probability": float(top2.values[k, 1]),
                        "known in DrugBank": (f"type {known[0]} ({known[1]})" if known else "")})
        frame = pd.DataFrame(out, columns=["row", "drug1", "drug2", "status1", "status2", "type", "probability",
                                           "description", "second type", "second probability", "known in DrugBank"])
        frame.attrs.update(problems=rows.summary(), problem_rows=[vars(p) for p in rows.problems],
                           sentences=[f"**{len(frame):,} pair{'s' if len(frame) != 1 else ''} predicted.**"])
        return frame

    # ------------------------------------------------------------------ explain
    def explain(self, query: dict) -> Evidence:
        from .explain import explain_pair

        return explain_pair(self, query)

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, split: str = "test", progress=None) -> dict:
        """Metrics on the card's evaluated pairs of ``split`` ("valid", "test"), or "check" (the card's first
        CHECK_PAIRS test pairs, a fast reproduction of ``card.extras['check']``)."""
        if split == "check":
            n = int((self.card.extras.get("check") or {}).get("pairs") or 128)
            pairs = self.task.subset("test", self.config.test_pairs, seed=0)[:n]
            logits = predict_logits(self.model, self.graph, pairs, progress=progress)
            return {**metrics_of(pairs, logits), "logit_sum": float(logits.double().sum())}
        n = self.config.valid_pairs if split == "valid" else self.config.test_pairs
        pairs = self.task.subset(split, n, seed=0)
        graph = self.graph if split == "test" else self.task.graph("valid")
        return metrics_of(pairs, predict_logits(self.model, graph, pairs, progress=progress))

    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        """Per interaction type on the card's evaluated pairs: support, F1 of that type, share predicted right."""
        n = self.config.valid_pairs if split == "valid" else self.config.test_pairs
        pairs = self.task.subset(split, n, seed=0)
        graph = self.graph if split == "test" else self.task.graph("valid")
        pred = predict_logits(self.model, graph, pairs, progress=progress).argmax(-1).numpy()
        y = pairs[:, 2]
        rows = []
        for r in np.unique(y):
            tp = int(((pred == r) & (y == r)).sum())
            fp, fn = int(((pred == r) & (y != r)).sum()), int(((pred != r) & (y == r)).sum())
            rows.append({"interaction type": int(r), "description": self.db.templates[r].replace("#Drug1", "A")
                         .replace("#Drug2", "B"), "pairs": int((y == r).sum()),
                         "f1": 2 * tp / max(1, 2 * tp + fp + fn), "recall": tp / max(1, tp + fn)})
        return pd.DataFrame(rows).sort_values("pairs", ascending=False, ignore_index=True)


def own_facts_hidden(graph: Graph, batch) -> torch.Tensor:
    """[n_edges] edge mask of a batch that hides each pair's own DDI facts (either direction, either order): a
    question is answered without the interaction DrugBank records for that very pair."""
    eid = np.concatenate([s.eid for s in batch.subgraphs]) if batch.subgraphs else np.zeros(0, np.int64)
    B = len(batch.pairs)
    pair = np.repeat(np.arange(2 * B), np.diff(batch.edge_offsets)) % max(B, 1)
    p = batch.pairs.numpy()
    e = np.maximum(eid, 0)
    src, dst = graph.src[e], graph.dst[e]
    u, v = p[pair, 0], p[pair, 1]
    own = (eid >= 0) & (graph.rel[e] % graph.n_rel < N_TYPES) & (((src == u) & (dst == v)) | ((src == v) & (dst == u)))
    return torch.from_numpy((~own).astype(np.float32))


def load_model(model_dir, device=None, data_dir=None) -> EmerGNNModel:
    return EmerGNNModel(model_dir, device, data_dir)


__all__ = ["EmerGNNModel", "load_model", "KIND_COLOURS", "LICENCE", "STATUS_WORDS"]
