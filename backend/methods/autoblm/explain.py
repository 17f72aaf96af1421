"""A loaded AutoBLM checkpoint: ranked answers, evidence (the structure, its formula, each block's share of the
score), evaluation that reproduces the card, per-relation breakdown."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from backend.core.evidence import Evidence, FormulaPart, StructurePart, TablePart
from backend.core.metrics import RankingAccumulator, target_ranks
from backend.core.store import Card, load_card, load_state_dict

from . import structure as S
from .model import BilinearKGE
from .train import KGSplits, evaluate_split, load_splits


def structure_part(A, title: str = "Block structure", caption: str = "") -> StructurePart:
    """The 4x4 matrix as evidence: row i = head chunk h_i, column j = tail chunk t_j, value ±k = ±r_k."""
    A = S.as_matrix(A)
    labels = {str(v): (f"−r{abs(v)}" if v < 0 else f"r{v}") for v in range(-4, 5) if v}
    labels["0"] = "·"
    return StructurePart(matrix=A.tolist(), row_labels=[f"h{i}" for i in range(1, 5)],
                         column_labels=[f"t{j}" for j in range(1, 5)],
                         value_meaning="±k: block ±⟨h_i, r_k, t_j⟩",
                         value_labels=labels, title=title, caption=caption)


def formula_part(A, title: str = "Scoring function") -> FormulaPart:
    return FormulaPart(expression=S.formula_text(A), latex=S.formula_latex(A),
                       variables={"h_i": "chunk i of the head entity's embedding (d/4 numbers)",
                                  "r_k": "chunk k of the relation's embedding", "t_j": "chunk j of the tail's"},
                       title=title, caption="Each product is elementwise over a chunk and summed.")


@dataclass
class LoadedModel:
    model: BilinearKGE
    card: Card
    data: KGSplits
    device: torch.device

    @property
    def kg(self):
        return self.data.kg

    @property
    def structure(self) -> np.ndarray:
        return self.model.structure

    # ---------------------------------------------------------------- names
    @functools.cached_property
    def entity_lookup(self) -> dict[str, int]:
        kg = self.kg
        table: dict[str, int] = {}
        for i in range(kg.n_ent):
            for text in (kg.entity_text(i), kg.entity_label(i), kg.entities[i]):
                table.setdefault(text.lower(), i)
        return table

    @functools.cached_property
    def relation_lookup(self) -> dict[str, int]:
        kg = self.kg
        table: dict[str, int] = {}
        for r in range(2 * kg.n_rel):
            name = kg.relations[r % kg.n_rel]
            for text in (kg.relation_label(r), name if r < kg.n_rel else f"inverse of {name}"):
                table.setdefault(text.lower(), r)
        return table

    def entity_id(self, text) -> int:
        if isinstance(text, (int, np.integer)):
            if 0 <= int(text) < self.kg.n_ent:
                return int(text)
            raise ValueError(f"entity id {text} is outside 0..{self.kg.n_ent - 1}")
        found = self.entity_lookup.get(str(text).strip().lower())
        if found is None:
            raise ValueError(f"{self.kg.name} has no entity {text!r}")
        return found

    def relation_id(self, text) -> int:
        if isinstance(text, (int, np.integer)):
            if 0 <= int(text) < 2 * self.kg.n_rel:
                return int(text)
            raise ValueError(f"relation id {text} is outside 0..{2 * self.kg.n_rel - 1}")
        text = str(text).strip().lower()
        found = self.relation_lookup.get(text)
        if found is None:
            found = self.relation_lookup.get(text.rsplit(" (", 1)[0])  # a picker's 'label (n known)'
        if found is None:
            raise ValueError(f"{self.kg.name} has no relation {text!r}")
        return found

    # ---------------------------------------------------------------- the verbs
    def choices(self, name: str, query: dict | None = None) -> list[tuple[int, str, int]]:
        """As RED-GNN's: entities ('label · name'); relations a query from the chosen head can ask, those with known
        answers first."""
        if name in ("head", "answer", "tail"):
            return self.entity_choices
        if name == "relation":
            head = (query or {}).get("head")
            if head is None:
                return [(r, self.kg.relation_label(r), 0) for r in range(2 * self.kg.n_rel)]
            return [(r, text, n) for r, n, text in self.kg.relation_choices(self.entity_id(head))]
        raise ValueError(f"AutoBLM queries have no field {name!r}")

    @functools.cached_property
    def entity_choices(self) -> list[tuple[int, str, int]]:
        return [(i, self.kg.entity_text(i), 1) for i in range(self.kg.n_ent)]

    @torch.no_grad()
    def scores(self, head: int, relation: int) -> torch.Tensor:
        """[n_ent] float64 scores of every entity as the answer of (head, relation, ?) (doubled relation space)."""
        return self.model.score_queries(torch.tensor([head], device=self.device),
                                        torch.tensor([relation], device=self.device), dtype=torch.float64)[0]

    def predict(self, query: dict | None = None, table=None, progress=None) -> pd.DataFrame:
        """Ranked answers for {"head", "relation", "top" (20)}, best first: entity, label, score, filtered rank (as if it
        were the answer), known fact and where it is known."""
        if table is not None:
            raise ValueError("AutoBLM ranks one query at a time on the page; use the CLI for files")
        query = query or {}
        if query.get("head") in (None, "") or query.get("relation") in (None, ""):
            raise ValueError("an AutoBLM query needs head and relation (e.g. --query head=NAME relation=NAME)")
        h, r = self.entity_id(query["head"]), self.relation_id(query["relation"])
        top = int(query.get("top", 20))
        scores = self.scores(h, r)
        known = self.data.known.mask(torch.tensor([h]), torch.tensor([r]))[0].to(scores.device)
        order = torch.argsort(scores, descending=True, stable=True)[:top]
        ranks = target_ranks(scores.expand(len(order), -1), order, known.expand(len(order), -1))
        where = self._known_in(h, r)
        rows = [{"entity": self.kg.entities[e], "label": self.kg.entity_label(e), "score": float(scores[e]),
                 "filtered_rank": float(rank), "known_fact": bool(known[e]), "known_in": where.get(e, "")}
                for e, rank in zip(order.tolist(), ranks.tolist())]
        return pd.DataFrame(rows)

    def _known_in(self, head: int, relation: int) -> dict[int, str]:
        kg, found = self.kg, {}
        for split in ("facts", "train", "valid", "test"):
            t = getattr(kg, split)
            if relation < kg.n_rel:
                answers = t[(t[:, 0] == head) & (t[:, 1] == relation), 2]
            else:
                answers = t[(t[:, 2] == head) & (t[:, 1] == relation - kg.n_rel), 0]
            for a in answers.tolist():
                found.setdefault(a, "train" if split == "facts" else split)
        return found

    @torch.no_grad()
    def block_contributions(self, head: int, relation: int, answer: int) -> pd.DataFrame:
        """One row per block: its term (h_i r_k t_j with sign) and its value in the answer's score (they sum to it)."""
        kg = self.kg
        if relation < kg.n_rel:
            h, r, t = head, relation, answer
        else:
            h, r, t = answer, relation - kg.n_rel, head
        E = self.model.entity.weight.double()
        R = self.model.relation.weight.double()
        c = self.model.dim // 4
        hc, rc, tc = E[h].view(4, c), R[r].view(4, c), E[t].view(4, c)
        rows = [{"block": f"{'−' if s < 0 else '+'}h{i} r{k} t{j}",
                 "contribution": float(s * (hc[i - 1] * rc[k - 1] * tc[j - 1]).sum())}
                for s, i, k, j in S.formula_terms(self.structure)]
        frame = pd.DataFrame(rows)
        return frame.reindex(frame["contribution"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def explain(self, query: dict) -> Evidence:
        """The structure, its formula and each block's share of the score of the answer (default: the top one)."""
        table = self.predict({**query, "top": 1})
        h, r = self.entity_id(query["head"]), self.relation_id(query["relation"])
        answer = query.get("answer") or query.get("tail")
        a = self.entity_id(answer) if answer not in (None, "") else self.entity_id(table.iloc[0]["entity"])
        blocks = self.block_contributions(h, r, a)
        score = float(self.scores(h, r)[a])
        top = blocks.iloc[0]
        kg = self.kg
        sentences = [
            f"The score of {kg.entity_label(a)} as the answer to ({kg.entity_label(h)}, {kg.relation_label(r)}, ?) is "
            f"{score:.4f}: the sum of the {len(blocks)} block terms below.",
            f"The largest term is {top['block']} ({top['contribution']:+.4f}).",
        ]
        return Evidence(method="autoblm", title=f"{kg.entity_label(h)} — {kg.relation_label(r)} → "
                                                f"{kg.entity_label(a)}",
                        summary={"head": kg.entity_label(h), "relation": kg.relation_label(r),
                                 "answer": kg.entity_label(a),
                                 "score": score, "structure": S.to_vector(self.structure)},
                        parts=[structure_part(self.structure), formula_part(self.structure),
                               TablePart(records=blocks.to_dict("records"), columns=["block", "contribution"],
                                         help={"contribution": "this block's term in the score"},
                                         title="Each block's share of the score")],
                        sentences=sentences)

    def evaluate(self, split: str = "test", progress=None) -> dict:
        return evaluate_split(self.model, self.data, split)

    @torch.no_grad()
    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        """MRR and Hits@10 per relation (tail and head queries together) on ``split``."""
        kg = self.kg
        triples = getattr(kg, split).to(self.device)
        rows = []
        for rel in torch.unique(triples[:, 1]).tolist():
            part = triples[triples[:, 1] == rel]
            acc = RankingAccumulator()
            for start in range(0, len(part), 512):
                p = part[start:start + 512]
                ents = torch.cat([p[:, 0], p[:, 2]])
                rels = torch.cat([p[:, 1], p[:, 1] + kg.n_rel])
                scores = self.model.score_queries(ents, rels, dtype=torch.float64)
                acc.add(target_ranks(scores, torch.cat([p[:, 2], p[:, 0]]), self.data.known.mask(ents, rels)))
            m = acc.result()
            rows.append({"relation": kg.relation_label(rel), "triples": len(part), "mrr": m["mrr"],
                         "hits@10": m["hits@10"]})
        return pd.DataFrame(rows).sort_values("triples", ascending=False).reset_index(drop=True)


def load_model(model_dir, device=None, data_dir=None) -> LoadedModel:
    card = load_card(model_dir)
    art = (card.artefacts or {}).get("structure", {}).get("value", {})
    A = S.as_matrix(art["matrix"])
    data = load_splits(card.dataset, str(data_dir) if data_dir else None)
    device = torch.device(device) if device else torch.device("cpu")
    dim = int(card.train["config"]["dim"])
    model = BilinearKGE(data.kg.n_ent, data.kg.n_rel, dim, A)
    model.load_state_dict(load_state_dict(Path(model_dir), map_location="cpu"))
    model.to(device).eval()
    return LoadedModel(model=model, card=card, data=data, device=device)
