"""AutoBLM's block structures on a page: the 4x4 heatmap, the formula, and where searches and checkpoints are.

Reaches the method through backend.registry only; the structure algebra comes through ``METHOD.extras``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from backend.core import store
from backend.core.search import Trajectory, best_record
from backend.registry import get_method

METHOD = get_method("autoblm")
ALGEBRA = METHOD.extras["structure"]
#: the classic structures trained beside each search, in the order the page lists them
CLASSICS = ("DistMult", "ComplEx", "Analogy", "SimplE")


@dataclass(frozen=True)
class Search:
    """One search trajectory on disk: shipped (models/autoblm/<dataset>/) or a run (runs/autoblm/<dataset>-<alg>/)."""

    dataset: str
    path: Path
    shipped: bool
    algorithm: str

    @property
    def label(self) -> str:
        where = "shipped" if self.shipped else "your run"
        return f"{self.dataset} · {self.algorithm} ({where})"

    @property
    def meta(self) -> dict:
        p = self.path.with_name("search.json")
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    @property
    def classics_path(self) -> Path:
        return self.path.with_name("classics.json")


def run_path(dataset: str, algorithm: str) -> Path:
    return store.runs_root() / METHOD.name / f"{dataset}-{algorithm}" / "trajectory.jsonl"


def find_searches() -> list[Search]:
    """Shipped searches (in the method's dataset order), then the runs."""
    found = []
    for ds in METHOD.datasets:
        p = store.MODELS_DIR / METHOD.name / ds / "trajectory.jsonl"
        if p.exists():
            meta = _read_json(p.with_name("search.json"))
            found.append(Search(ds, p, True, meta.get("algorithm", "progressive")))
    root = store.runs_root() / METHOD.name
    if root.is_dir():
        for p in sorted(root.glob("*/trajectory.jsonl")):
            meta = _read_json(p.with_name("search.json"))
            ds, alg = meta.get("dataset"), meta.get("algorithm")
            if ds and alg:
                found.append(Search(ds, p, False, alg))
    return found


def _read_json(p: Path) -> dict:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def structure_of(record: dict):
    return ALGEBRA.as_matrix(record["candidate"]["structure"])


def heatmap(A, title: str = "", height: int = 300) -> go.Figure:
    """The 4x4 block matrix: rows h1..h4, columns t1..t4; each cell ±r_k (blue +, red −), empty cells blank."""
    A = ALGEBRA.as_matrix(A)
    text = [[("" if v == 0 else ("−" if v < 0 else "+") + f"r{abs(v)}") for v in row] for row in A.tolist()]
    z = [[0 if v == 0 else (1 if v > 0 else -1) * (0.4 + 0.15 * abs(v)) for v in row] for row in A.tolist()]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"t{j}" for j in range(1, 5)], y=[f"h{i}" for i in range(1, 5)], text=text,
        texttemplate="%{text}", textfont={"size": 18}, zmin=-1, zmax=1, showscale=False, xgap=3, ygap=3,
        colorscale=[[0.0, "#d1495b"], [0.5, "#f4f4f4"], [1.0, "#0072b2"]],
        hovertemplate="h chunk %{y}, t chunk %{x}: %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="head chunk")
    fig.update_xaxes(side="top", title="tail chunk")
    fig.update_layout(title=title or None, height=height, margin={"l": 10, "r": 10, "t": 60 if title else 30, "b": 10},
                      plot_bgcolor="white")
    return fig


def show_structure(A, key: str, title: str = "", score: float | None = None, score_label: str = "valid MRR",
                   terms_per_line: int = 5) -> None:
    """Heatmap, formula (LaTeX, ``terms_per_line`` block terms a line: fewer in a narrow column, where a long line
    is cut off) and block count of one structure."""
    A = ALGEBRA.as_matrix(A)
    if title:  # above the figure: inside it, the title ran into the 'tail chunk' axis title
        st.markdown(f"**{title}**")
    st.plotly_chart(heatmap(A), key=f"{key}-heatmap", config={"displayModeBar": False})
    st.latex(ALGEBRA.formula_latex(A, per_line=terms_per_line))
    facts = [f"{ALGEBRA.n_blocks(A)} blocks"]
    if score is not None:
        facts.append(f"{score_label} {score:.4f}")
    named = ALGEBRA.named(A)
    if named:
        facts.append(f"equivalent to {named}")
    st.caption(" · ".join(facts) + f" · canonical form `{ALGEBRA.canonical_key(A)}`")


def classic_scores(search: Search) -> dict[str, float]:
    """The classic structures' valid MRR under the search's candidate settings (classics.json beside the
    trajectory, written by the search)."""
    data = _read_json(search.classics_path)
    return {name: float(v["score"]) for name, v in data.items() if v.get("score") is not None}


def best_of(search: Search) -> dict | None:
    return best_record(Trajectory(search.path).records())
