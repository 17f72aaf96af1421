"""Stage 2: symbolic regression of each learned component function (pyoperon), SymPy simplification, and the
symbolic components as torch modules whose constants are fine-tuned together (paper Sec. 2.4, Algorithm 1).

pyoperon (0.6.2, C++ genetic programming with Levenberg–Marquardt constant tuning) replaces the paper's PySR (which
needs Julia). It has no ``sign`` operator; the candidate inputs offered to it are the component's raw input columns
plus, for an edge function that sees both endpoints, the differences ``Delta_<f> = f_j - f_i`` of each node
feature and the distance ``r`` of each position vector (generic graph features: translation-invariant pairs).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import sympy
import torch
from torch import nn

log = logging.getLogger(__name__)

#: pyoperon's operators by default (paper: + - * / sign exp; sqrt / square let it write distances; exp is offered
#: for the pedestrians, GSRConfig.sr_symbols)
SYMBOLS = "add,sub,mul,div,square,sqrt,constant,variable"


@dataclass
class Features:
    """Named candidate inputs of one component function, computed from its raw input columns.

    ``base``: names of the raw columns in order; ``diffs``: (name, i_col, j_col) -> x[:, j] - x[:, i];
    ``dists``: (name, [(i_col, j_col), ...]) -> sqrt(sum (x[:, j] - x[:, i])^2)."""

    base: list[str]
    diffs: list[tuple[str, int, int]] = field(default_factory=list)
    dists: list[tuple[str, list[tuple[int, int]]]] = field(default_factory=list)
    #: (name, position pairs, velocity pairs) -> sign((v_j - v_i) . (x_j - x_i)): +1 when the pair moves apart.
    #: pyoperon has no sign operator; the paper's pedestrian law uses sign(v_n), so it is offered as an input.
    signs: list[tuple[str, list[tuple[int, int]], list[tuple[int, int]]]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return self.base + [d[0] for d in self.diffs] + [d[0] for d in self.dists] + [d[0] for d in self.signs]

    def __call__(self, x):
        """[n, len(base)] -> [n, len(names)] (torch or numpy)."""
        lib = torch if isinstance(x, torch.Tensor) else np
        cols = [x[:, k] for k in range(len(self.base))]
        cols += [x[:, j] - x[:, i] for _, i, j in self.diffs]
        cols += [lib.sqrt(sum((x[:, j] - x[:, i]) ** 2 for i, j in pairs)) for _, pairs in self.dists]
        cols += [lib.sign(sum((x[:, vj] - x[:, vi]) * (x[:, pj] - x[:, pi]) for (pi, pj), (vi, vj) in zip(pos, vel)))
                 for _, pos, vel in self.signs]
        return lib.stack(cols, 1) if cols else x

    def to_dict(self) -> dict:
        return {"base": self.base, "diffs": [list(d) for d in self.diffs],
                "dists": [[n, [list(p) for p in pairs]] for n, pairs in self.dists],
                "signs": [[n, [list(p) for p in pos], [list(p) for p in vel]] for n, pos, vel in self.signs]}

    @classmethod
    def from_dict(cls, d: dict) -> "Features":
        return cls(list(d["base"]), [tuple(x) for x in d.get("diffs", [])],
                   [(n, [tuple(p) for p in pairs]) for n, pairs in d.get("dists", [])],
                   [(n, [tuple(p) for p in pos], [tuple(p) for p in vel]) for n, pos, vel in d.get("signs", [])])


def r2(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    ss = ((y_true - y_true.mean()) ** 2).sum()
    return float(1 - ((y_true - y_pred) ** 2).sum() / ss) if ss > 0 else float("nan")


def round_floats(expr, digits: int = 4):
    """Floats rounded to ``digits`` significant digits; those below 1e-8 in magnitude become 0."""
    reps = {}
    for f in expr.atoms(sympy.Float):
        v = float(f)
        reps[f] = sympy.Integer(0) if abs(v) < 1e-8 else sympy.Float(float(f"{v:.{digits}g}"), 15)
    return expr.xreplace(reps)


def parse_model(text: str, names: list[str]):
    """A pyoperon model string ('^' for powers) as a SymPy expression in Symbols named ``names``."""
    local = {n: sympy.Symbol(n) for n in names}
    text = text.replace("^", "**")
    return sympy.sympify(text, locals=local)


def tidy(expr):
    """Simplified for reading: expanded products of constants folded, floats to 4 significant digits."""
    expr = round_floats(sympy.sympify(expr), 6)
    try:
        expr = sympy.simplify(expr)
    except Exception:  # noqa: BLE001 - simplify is best effort
        pass
    return round_floats(expr, 4)


def symbolic_fit(X: np.ndarray, y: np.ndarray, names: list[str], seed: int = 0, generations: int = 300,
                 population: int = 1000, max_length: int = 30, max_seconds: float = 60.0, rows: int = 3000,
                 symbols: str = SYMBOLS):
    """pyoperon on (X [n, p], y [n]) -> (SymPy expression, R² on all given rows). ``rows``: subsample size."""
    from pyoperon.sklearn import SymbolicRegressor

    X, y = np.asarray(X, float), np.asarray(y, float)
    keep = np.isfinite(X).all(1) & np.isfinite(y)
    X, y = X[keep], y[keep]
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(y), min(rows, len(y)), replace=False)
    model = SymbolicRegressor(allowed_symbols=symbols, population_size=population, generations=generations,
                              max_length=max_length, n_threads=1, random_state=seed, max_time=int(max_seconds),
                              optimizer_iterations=10)
    model.fit(X[idx], y[idx])
    safe = [f"X{k}" for k in range(X.shape[1])]
    expr = parse_model(model.get_model_string(model.model_, 12, safe), safe)
    expr = tidy(expr.xreplace({sympy.Symbol(s): sympy.Symbol(n) for s, n in zip(safe, names)}))
    fn = sympy.lambdify([sympy.Symbol(n) for n in names], expr, "numpy")
    with np.errstate(all="ignore"):
        pred = np.broadcast_to(np.asarray(fn(*X.T), float), y.shape)
    return expr, r2(y, pred)


def sparse_fit(X: np.ndarray, y: np.ndarray, names: list[str], degree: int = 4, max_terms: int = 16,
               min_gain: float = 1e-3, rows: int = 2000, seed: int = 0):
    """Sparse regression over a generated library (our own regressor beside pyoperon): every product of up to
    ``degree`` factors taken from the inputs and the reciprocals of the inputs that never change sign, chosen by
    forward orthogonal least squares (``max_terms`` terms) then backward elimination (a term goes while dropping it
    costs less than ``min_gain`` of held-out R²), refitted by least squares. Exact, and fast, for laws that are sparse sums of monomials (Hooke, Joule, Fourier / Clausius).
    Returns (SymPy expression, R² on all rows)."""
    import itertools

    X, y = np.asarray(X, float), np.asarray(y, float)
    keep = np.isfinite(X).all(1) & np.isfinite(y)
    X, y = X[keep], y[keep]
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(y))[:rows]
    fit_rows, held_rows = idx[: len(idx) * 3 // 4], idx[len(idx) * 3 // 4:]
    factors = [(sympy.Symbol(n), X[:, k], k) for k, n in enumerate(names)]
    for k, n in enumerate(names):
        col = X[:, k]
        if (col > 1e-6).all() or (col < -1e-6).all():
            factors.append((1 / sympy.Symbol(n), 1 / col, -k - 1))
    from math import comb

    while degree > 1 and sum(comb(len(factors) + d - 1, d) for d in range(1, degree + 1)) > 6000:
        degree -= 1  # keep the library to a few thousand columns
    combos, cols = [()], [np.ones(len(y))]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(factors)), d):
            bases = {factors[c][2] for c in combo}
            if any(-b - 1 in bases for b in bases if b >= 0):   # x and 1/x in one term
                continue
            combos.append(combo)
            cols.append(np.prod([factors[c][1] for c in combo], axis=0))
    exprs = combos
    A = np.stack(cols, 1)
    ok = np.isfinite(A).all(0) & (A[fit_rows].std(0) > 0) | (np.arange(A.shape[1]) == 0)
    A, exprs = A[:, ok], [e for e, o in zip(exprs, ok) if o]
    # forward orthogonal least squares: each step adds the term that most reduces the residual once the terms
    # chosen so far are projected out (robust to correlated library columns, unlike plain matching pursuit)
    F = A[fit_rows] - A[fit_rows].mean(0)
    F[:, 0] = 0.0
    target = y[fit_rows] - y[fit_rows].mean()
    chosen = [0]
    P = F  # the library with the chosen terms projected out (one rank-1 update per step)
    for _ in range(max_terms):
        norms = (P ** 2).sum(0)
        gain = np.where(norms > 1e-10 * max(norms.max(), 1e-300), (P.T @ target) ** 2 / np.maximum(norms, 1e-300), -1)
        gain[chosen] = -1
        pick = int(gain.argmax())
        if gain[pick] <= 0:
            break
        chosen.append(pick)
        q = P[:, pick] / np.sqrt(norms[pick])
        P = P - np.outer(q, q @ P)

    def held_r2(terms):
        coef, *_ = np.linalg.lstsq(A[np.ix_(fit_rows, terms)], y[fit_rows], rcond=None)
        return r2(y[held_rows], A[np.ix_(held_rows, terms)] @ coef), coef

    # backward elimination: drop the term whose loss costs least while the held-out R² falls by < min_gain
    full, _ = held_r2(chosen)
    while len(chosen) > 2:
        trials = [(held_r2([t for t in chosen if t != drop])[0], drop) for drop in chosen[1:]]
        score, drop = max(trials)
        if full - score >= min_gain:
            break
        chosen = [t for t in chosen if t != drop]
    best_r2, best_coef = held_r2(chosen)
    expr = sum(sympy.Float(float(c), 15) * sympy.Mul(*[factors[f][0] for f in exprs[t]])
               for c, t in zip(best_coef, chosen))
    expr = round_floats(sympy.sympify(expr), 6)
    return expr, r2(y, A[:, chosen] @ best_coef)


def complexity_of(expr) -> int:
    """Number of nodes of the expression tree (SymPy's count_ops + symbols): the tie-breaker between fits."""
    return int(sympy.count_ops(expr)) + len(expr.free_symbols)


_TORCH = {"sqrt": torch.sqrt, "exp": torch.exp, "log": torch.log, "Abs": torch.abs, "sign": torch.sign,
          "tanh": torch.tanh, "sin": torch.sin, "cos": torch.cos}


def constants_of(expr) -> tuple[object, list[float]]:
    """expr with each Float replaced by a Symbol c0, c1, ... (in a fixed order) and their values."""
    floats = sorted(expr.atoms(sympy.Float), key=lambda f: (sympy.srepr(f)))
    syms = [sympy.Symbol(f"c{k}") for k in range(len(floats))]
    return expr.xreplace(dict(zip(floats, syms))), [float(f) for f in floats]


class SymbolicPhi(nn.Module):
    """A component function as formulas: raw inputs [n, p] -> [n, width], one SymPy expression per output
    column over ``features.names``; every Float is a trainable constant (fine-tuning)."""

    def __init__(self, exprs: list, features: Features):
        super().__init__()
        self.features = features
        self.templates, values, self.counts = [], [], []
        for expr in exprs:
            t, vals = constants_of(sympy.sympify(expr))
            self.templates.append(t)
            self.counts.append(len(vals))
            values += vals
        self.c = nn.Parameter(torch.tensor(values, dtype=torch.float64))
        syms = [sympy.Symbol(n) for n in features.names]
        self._fns = []
        for t, n in zip(self.templates, self.counts):
            cs = [sympy.Symbol(f"c{k}") for k in range(n)]
            self._fns.append(sympy.lambdify(syms + cs, t, modules=[_TORCH, "math"]))

    def _apply(self, fn, recurse=True):
        """.float() / .double() / .to(device) keep the constants in float64 (only the device may change)."""
        kept = self.c.data.clone()
        out = super()._apply(fn, recurse)
        self.c.data = kept.to(self.c.device)
        return out

    def forward(self, x):
        feats = self.features(x.double())
        cols = [feats[:, k] for k in range(feats.shape[1])]
        out, start = [], 0
        for fn, n in zip(self._fns, self.counts):
            val = fn(*cols, *self.c[start:start + n])
            start += n
            out.append(torch.as_tensor(val, dtype=torch.float64).expand(len(x)) if not torch.is_tensor(val)
                       or val.dim() == 0 else val)
        return torch.stack(out, 1).to(x.dtype)

    def expressions(self, digits: int | None = 4) -> list:
        """The formulas with the current constant values (rounded to ``digits`` significant digits; None: exact)."""
        out, start = [], 0
        vals = self.c.detach().tolist()
        for t, n in zip(self.templates, self.counts):
            e = t.xreplace({sympy.Symbol(f"c{k}"): sympy.Float(vals[start + k], 17) for k in range(n)})
            out.append(round_floats(e, digits) if digits else e)
            start += n
        return out


def n_constants(exprs) -> int:
    return sum(len(sympy.sympify(e).atoms(sympy.Float)) for e in exprs)
