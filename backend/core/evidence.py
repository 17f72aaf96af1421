"""Evidence: what a trained model used to reach an answer, as a typed, weighted, layered graph.

Every method's ``explain`` returns an :class:`Evidence`; pages render it with
:mod:`backend.core.viz` and offer it for download as JSON (whole) or CSV (edges, paths).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd


@dataclass
class EvidenceNode:
    id: str
    label: str
    kind: str = ""          # entity type, e.g. "drug", "gene", "molecule"
    layer: int | None = None
    role: str = ""          # "query", "answer" or ""
    score: float | None = None


@dataclass
class EvidenceEdge:
    source: str
    target: str
    relation: str
    weight: float
    layer: int | None = None


@dataclass
class EvidencePath:
    nodes: list[str]
    relations: list[str]
    score: float

    def describe(self, labels: dict[str, str] | None = None) -> str:
        """'a -[r1]-> b -[r2]-> c' with node labels where given."""
        labels = labels or {}
        parts = [labels.get(self.nodes[0], self.nodes[0])]
        for rel, node in zip(self.relations, self.nodes[1:]):
            parts.append(f"-[{rel}]-> {labels.get(node, node)}")
        return " ".join(parts)


@dataclass
class Evidence:
    method: str
    title: str
    nodes: list[EvidenceNode] = field(default_factory=list)
    edges: list[EvidenceEdge] = field(default_factory=list)
    paths: list[EvidencePath] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {n.id: n.label for n in self.nodes}

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: dict) -> "Evidence":
        return cls(
            method=d["method"],
            title=d["title"],
            nodes=[EvidenceNode(**n) for n in d.get("nodes", [])],
            edges=[EvidenceEdge(**e) for e in d.get("edges", [])],
            paths=[EvidencePath(**p) for p in d.get("paths", [])],
            summary=d.get("summary", {}),
        )

    @classmethod
    def from_json(cls, text: str) -> "Evidence":
        return cls.from_dict(json.loads(text))

    def edges_frame(self) -> pd.DataFrame:
        labels = self.labels
        rows = [
            {"layer": e.layer, "source": labels.get(e.source, e.source), "relation": e.relation,
             "target": labels.get(e.target, e.target), "weight": e.weight}
            for e in self.edges
        ]
        return pd.DataFrame(rows, columns=["layer", "source", "relation", "target", "weight"])

    def paths_frame(self) -> pd.DataFrame:
        labels = self.labels
        rows = [{"rank": i + 1, "score": p.score, "length": len(p.relations), "path": p.describe(labels)}
                for i, p in enumerate(self.paths)]
        return pd.DataFrame(rows, columns=["rank", "score", "length", "path"])
