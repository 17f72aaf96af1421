"""A toy eighth method, to show what a new method costs: fit a polynomial law y = f(x) to simulated points.

A table input (x values), a formula evidence part, a three-candidate search (degree 0, 1 or 2, chosen on valid
points), a card: everything else (CLI verbs, page sections, zoo row, trajectory view) comes from the shared
pieces. tests/app/pages/toy_page.py is its page; tests/app/test_toy_method.py drives both.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import sympy
import torch

from backend.core import store
from backend.core.evidence import Evidence, FormulaPart, TablePart
from backend.core.method import Capabilities, Method, QueryField
from backend.core.search import run_search
from backend.core.tables import Column, Problem, read_table


@dataclasses.dataclass
class ToyConfig:
    dataset: str = "line"
    degree: int = 1          # of the polynomial fitted by train
    budget: int = 3          # candidates the search evaluates
    seed: int = 0
    output: str = ""         # checkpoint folder (default: <runs>/toy/<dataset>)


def points(split: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Simulated (x [n], y [n]): y = 2x + 1 plus noise (sd 0.1); 'train', 'valid', 'test' differ in seed."""
    rng = np.random.default_rng({"train": 0, "valid": 1, "test": 2}[split] + 10 * seed)
    x = rng.uniform(0, 10, 200)
    return x, 2 * x + 1 + rng.normal(0, 0.1, len(x))


def fit(degree: int, seed: int = 0) -> np.ndarray:
    return np.polyfit(*points("train", seed), degree)


def mse(coef: np.ndarray, split: str) -> float:
    x, y = points(split)
    return float(np.mean((np.polyval(coef, x) - y) ** 2))


def config_for(dataset: str) -> ToyConfig:
    return ToyConfig(dataset=dataset)


def train(config: ToyConfig, progress=None, device=None, data_dir=None) -> store.Card:
    coef = fit(config.degree, config.seed)
    card = store.Card("toy", config.dataset, metrics={s: {"mse": mse(coef, s)} for s in ("valid", "test")},
                      params={"total": len(coef), "trainable": len(coef), "adaptive": None},
                      train={"device": "cpu", "seed": config.seed, "config": dataclasses.asdict(config)})
    folder = Path(config.output or store.runs_root() / "toy" / config.dataset)
    store.save_checkpoint(folder, {"coef": torch.tensor(coef)}, card)
    return card


def evaluate_degree(candidate: dict, seed: int) -> dict:
    coef = fit(candidate["degree"])
    return {"score": mse(coef, "valid"), "attributes": {"degree": candidate["degree"]}}


def search(config: ToyConfig, progress=None, device=None, data_dir=None, executor=None):
    folder = Path(config.output or store.runs_root() / "toy" / f"{config.dataset}-search")
    return run_search(lambda history, rng: [{"degree": d} for d in (0, 1, 2)], evaluate_degree,
                      folder / "trajectory.jsonl", config.budget, executor=executor, direction="min",
                      seed=config.seed, progress=progress)


class ToyModel:
    def __init__(self, model_dir, device=None, data_dir=None):
        self.card = store.load_card(model_dir)
        self.coef = store.load_state_dict(model_dir)["coef"].numpy()

    def formula(self):
        return sum(float(c) * sympy.Symbol("x") ** k for k, c in enumerate(self.coef[::-1]))

    def predict(self, query=None, table=None, progress=None, max_rows=None) -> pd.DataFrame:
        if table is None:
            return pd.DataFrame({"x": [float(query["x"])], "y": [float(np.polyval(self.coef, float(query["x"])))]})
        rows = read_table(table, [Column("x")], max_rows=max_rows)
        x = pd.to_numeric(rows.rows["x"], errors="coerce")
        rows = rows.drop([Problem(r, "x", v, "not a number") for r, v, n in zip(rows.rows["row"], rows.rows["x"], x)
                          if np.isnan(n)])
        x = rows.rows["x"].astype(float)
        frame = pd.DataFrame({"row": rows.rows["row"], "x": x, "y": np.polyval(self.coef, x)})
        frame.attrs.update(problems=rows.summary(), sentences=[f"**{len(frame)} rows predicted.**"],
                           problem_rows=[vars(p) for p in rows.problems])
        return frame

    def explain(self, query) -> Evidence:
        part = FormulaPart.from_sympy(self.formula(), {"x": "input"}, reference="2*x + 1", reference_name="true law")
        terms = pd.DataFrame({"power": range(len(self.coef)), "coefficient": self.coef[::-1]})
        return Evidence("toy", f"Why y({query['x']})", parts=[part, TablePart.from_frame(terms)],
                        sentences=[f"The fitted law gives y = {np.polyval(self.coef, float(query['x'])):.3f}."])

    def evaluate(self, split="test", progress=None) -> dict:
        return {"mse": mse(self.coef, split)}

    def breakdown(self, split="test", progress=None) -> pd.DataFrame:
        x, y = points(split)
        frame = pd.DataFrame({"x range": pd.cut(x, [0, 5, 10]).astype(str), "se": (np.polyval(self.coef, x) - y) ** 2})
        return frame.groupby("x range", as_index=False).agg(mse=("se", "mean"), points=("se", "size"))


METHOD = Method(
    name="toy", title="Toy law", task="Fit a polynomial law to simulated points", explains="the fitted formula",
    paper="", area="physics", datasets=("line",),
    capabilities=Capabilities(query=(QueryField("x", "x", "float", default=3.0),), input_columns=("x",),
                              input_help="a column x", headline="mse", higher_is_better=False,
                              breakdown_by="x range"),
    config_for=config_for, train=train, load=ToyModel, search=search)
