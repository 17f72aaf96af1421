"""A whole GSR run on one system: simulate -> search the flow (pruning, resumable) -> train it -> regress each
component function -> fine-tune all constants -> card, formulas, Pareto table.

``run(config, progress)`` does every stage and writes ``<output>/``: card.json, model.pt (the formula's constants
and the network's weights), gsr.json (flow, features, formulas: what ``load`` needs), trajectory.jsonl (the
search), pareto.csv.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import math
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import sympy
import torch

from backend.core import store
from backend.core.progress import ProgressEvent
from backend.core.search import Candidate, Trajectory, run_search
from backend.methods.gsr import flows as F
from backend.methods.gsr.formulas import assembled_latex
from backend.methods.gsr.model import FlowGNN
from backend.methods.gsr.regress import (SYMBOLS, Features, SymbolicPhi, complexity_of, r2, sparse_fit,
                                         symbolic_fit)
from backend.methods.gsr.train import batches, dims_of, fit, rmse, scales_of, to_batch
from backend.physics.graphs import GraphSet

log = logging.getLogger(__name__)


@dataclasses.dataclass
class GSRConfig:
    dataset: str = "mechanics-simple"   # a simulated system (backend/physics/systems.py) or a graph CSV folder
    seed: int = 0
    groups: int = 0                     # graphs to simulate (0: the system's default)
    draws: int = 0                      # input draws per graph (0: the system's default)
    batch: int = 64                     # samples per batch
    search_epochs: int = 15             # epochs per candidate flow (early stopping, patience 10)
    final_epochs: int = 120             # epochs for the chosen flow
    lr: float = 1e-2
    max_blocks: int = 2                 # step 1 tries 1..max_blocks full GN blocks
    width: int = 4                      # starting embedding width of every layer
    lam: float = F.LAMBDA               # score = RMSE + lam * complexity
    budget: int = 60                    # most candidate flows evaluated
    sr_seconds: int = 20                # pyoperon time limit per output column of a component
    sr_generations: int = 200
    sr_population: int = 500
    sr_symbols: str = ""                # pyoperon operators ("" = regress.SYMBOLS)
    finetune_steps: int = 200           # L-BFGS iterations of constant fine-tuning of the assembled formula
    sparse_accept: float = 0.99         # a sparse-library fit this close (R²) to the network function is kept
    prune: bool = True                  # drop formula terms that do not help on valid (prune_terms)
    output: str = ""                    # checkpoint folder (default: <runs>/gsr/<dataset>)


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------

def data_key(config: GSRConfig) -> dict:
    return {"dataset": config.dataset, "seed": config.seed, "groups": config.groups, "draws": config.draws}


@functools.lru_cache(maxsize=4)
def _load(key_json: str) -> dict[str, GraphSet]:
    key = json.loads(key_json)
    from backend.physics.systems import SYSTEMS, simulate

    if key["dataset"] in SYSTEMS:
        data = simulate(key["dataset"], key["seed"], key["groups"] or None, key["draws"] or None)
    elif key["dataset"].startswith("pedestrian"):
        from backend.physics.pedestrian import pedestrian_graphs

        data = pedestrian_graphs(key["dataset"], data_dir=key.get("data_dir"))
    else:
        from backend.physics.graph_csv import read_graph_folder

        data = read_graph_folder(key["dataset"]).data
    return data.split(seed=key["seed"])


def load_splits(key: dict) -> dict[str, GraphSet]:
    return _load(json.dumps(key, sort_keys=True))


@functools.lru_cache(maxsize=4)
def _train_batches(key_json: str, size: int):
    splits = _load(key_json)
    return batches(splits["train"], size, 0), to_batch(splits["valid"])


# ----------------------------------------------------------------------------------------------
# stage 1: the flow search (through backend/core/search.py)
# ----------------------------------------------------------------------------------------------

def evaluate_flow(spec: dict, seed: int) -> dict:
    """Train the flow ``spec["flow"]`` on ``spec["data"]``; score = valid RMSE + lam x complexity."""
    key = json.dumps(spec["data"], sort_keys=True)
    splits = _load(key)
    train, valid = _train_batches(key, spec["batch"])
    dims, flow = dims_of(splits["train"]), spec["flow"]
    torch.manual_seed(seed % 2**31)
    model = FlowGNN(flow, dims, scales_of(splits["train"]))
    out = fit(model, train, valid, epochs=spec["epochs"], lr=spec["lr"], seed=seed % 2**31)
    err = out["valid_rmse"]
    cx = F.complexity(flow)
    return {"score": F.score(err, flow, spec["lam"]),
            "metrics": {"valid_rmse": err, "complexity": cx, "epochs": out["epochs"]},
            "attributes": {"blocks": len(flow["blocks"]), "complexity": cx, "flow": F.describe(flow, dims)}}


def _proposer(config: GSRConfig, dims: F.Dims):
    def propose(history, rng):
        seen = _errors(history)
        base = {"data": data_key(config), "epochs": config.search_epochs, "lr": config.lr, "lam": config.lam,
                "batch": config.batch}
        return [Candidate({"flow": f, **base}, F.canonical(f))
                for f in F.propose_from(seen, dims, config.max_blocks, config.width, config.lam)]
    return propose


def search(config: GSRConfig, progress=None, device=None, data_dir=None, executor=None):
    """Stage 1 alone: the pruning search, resumable (``<output>/trajectory.jsonl``)."""
    splits = load_splits(data_key(config))
    folder = Path(config.output or store.runs_root() / "gsr" / config.dataset)
    return run_search(_proposer(config, dims_of(splits["train"])), evaluate_flow, folder / "trajectory.jsonl",
                      config.budget, executor=executor, direction="min", seed=config.seed, progress=progress)


def _errors(records: list[dict]) -> dict[str, float]:
    """{canonical: valid RMSE} of the evaluated flows (a failed one: inf)."""
    return {rec["canonical"]: (rec["metrics"]["valid_rmse"] if rec.get("status") == "ok" else math.inf)
            for rec in records}


def final_flow(records: list[dict], dims: F.Dims, config: GSRConfig, log: list | None = None) -> dict:
    seen = _errors(records)
    return F.prune_schedule(lambda flows: [seen.get(F.canonical(f), math.inf) for f in flows], dims,
                            config.max_blocks, config.width, config.lam, log)


def pareto_table(records: list[dict]) -> pd.DataFrame:
    """One row per evaluated flow: index, flow, complexity, valid RMSE, score, on the Pareto front or not."""
    rows = [{"index": rec["index"], "flow": rec["attributes"].get("flow", rec["canonical"]),
             "canonical": rec["canonical"], "complexity": rec["metrics"].get("complexity"),
             "valid_rmse": rec["metrics"].get("valid_rmse"), "score": rec["score"]}
            for rec in records if rec.get("status") == "ok"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = frame.sort_values(["complexity", "valid_rmse"])
    best, front = math.inf, set()
    for i, row in order.iterrows():
        if row["valid_rmse"] < best:
            best = row["valid_rmse"]
            front.add(i)
    frame["pareto"] = frame.index.isin(front)
    return frame


# ----------------------------------------------------------------------------------------------
# names of each component's inputs
# ----------------------------------------------------------------------------------------------

def component_features(flow: dict, data: GraphSet) -> dict[str, tuple[Features, dict[str, str]]]:
    """{phi key: (Features, {name: meaning})} for every component of ``flow``."""
    vn, en, un = list(data.v_names), list(data.e_names), list(data.u_names)
    raw_v, raw_e, raw_u = True, True, True
    out = {}
    for b, blk in enumerate(flow["blocks"]):
        if "e" in blk:
            base, mean, diffs, dists, signs = [], {}, [], [], []
            for inp in blk["e"]["inputs"]:
                if inp == "v":
                    start = len(base)
                    base += [f"{n}_i" for n in vn] + [f"{n}_j" for n in vn]
                    for n in vn:
                        mean[f"{n}_i"] = f"{n} of the receiving node i"
                        mean[f"{n}_j"] = f"{n} of the sending node j"
                    if raw_v:
                        for k, n in enumerate(vn):
                            diffs.append((f"Delta_{n}", start + k, start + len(vn) + k))
                            mean[f"Delta_{n}"] = f"{n}_j - {n}_i"
                        pairs_of = {}
                        for vec in data.vectors:
                            pairs = [(start + vn.index(c), start + len(vn) + vn.index(c)) for c in vec]
                            pairs_of[vec] = pairs
                            name = "r" if vec == tuple(data.vectors[0]) else f"r_{vec[0]}"
                            dists.append((name, pairs))
                            mean[name] = f"|({', '.join(vec)})_j - ({', '.join(vec)})_i|"
                        if len(data.vectors) >= 2:  # a position and a velocity: does the pair close in or part?
                            pos, vel = data.vectors[0], data.vectors[1]
                            signs.append(("s_n", pairs_of[tuple(pos)], pairs_of[tuple(vel)]))
                            mean["s_n"] = "sign of the relative velocity along the line joining i and j (+1: apart)"
                elif inp == "e":
                    base += en
                    mean.update({n: (f"{n} of the edge" if raw_e else "incoming edge embedding") for n in en})
                else:
                    base += un
                    mean.update({n: (f"global {n}" if raw_u else "global embedding") for n in un})
            out[f"{b}e"] = (Features(base, diffs, dists, signs), mean)
            en = [f"m{k + 1}" for k in range(blk["e"]["width"])]
            raw_e = False
        if "v" in blk:
            base, mean = [], {}
            for inp in blk["v"]["inputs"]:
                if inp == "e":
                    names = [f"M{n[1:]}" if not raw_e else f"sum_{n}" for n in en]
                    base += names
                    mean.update({n: "aggregate over j of the messages into node i" for n in names})
                elif inp == "v":
                    base += vn
                    mean.update({n: (f"{n} of node i" if raw_v else "node embedding") for n in vn})
                else:
                    base += un
                    mean.update({n: (f"global {n}" if raw_u else "global embedding") for n in un})
            out[f"{b}v"] = (Features(base), mean)
            vn = [f"h{k + 1}" for k in range(blk["v"]["width"])]
            raw_v = False
        if "u" in blk:
            base, mean = [], {}
            for inp in blk["u"]["inputs"]:
                if inp == "e":
                    names = [f"E{k + 1}" for k in range(len(en))]
                    mean.update({n: f"aggregate over all edges of {o}" for n, o in zip(names, en)})
                elif inp == "v":
                    names = [f"N_{n}" for n in vn]
                    mean.update({n: f"aggregate over all nodes of {o}" for n, o in zip(names, vn)})
                else:
                    names = list(un)
                    mean.update({n: f"global {n}" for n in names})
                base += names
            out[f"{b}u"] = (Features(base), mean)
            un = [f"g{k + 1}" for k in range(blk["u"]["width"])]
            raw_u = False
    return out


# ----------------------------------------------------------------------------------------------
# stages 2 and 3
# ----------------------------------------------------------------------------------------------

def _emit(progress, stage, step, total, message="", **metrics):
    if progress is not None:
        progress(ProgressEvent(stage=stage, step=step, total=total, metrics=metrics, message=message))


def output_metrics(model, data: GraphSet) -> dict[str, float]:
    """r2 (mean over output columns), mse (raw units) and rmse (normalised) of ``model`` on ``data``."""
    batch = to_batch(data, torch.float64)
    with torch.no_grad():
        pred = (model.double()(batch) * model.y_scale.double()).numpy()
    model.float()
    y = data.y
    return {"r2": float(np.mean([r2(y[:, k], pred[:, k]) for k in range(y.shape[1])])),
            "mse": float(np.mean((pred - y) ** 2)),
            "rmse": float(np.sqrt(np.mean(((pred - y) / y.std(0)) ** 2)))}


def _held_r2(expr, features, X, y) -> float:
    fn = sympy.lambdify([sympy.Symbol(n) for n in features.names], expr, "numpy")
    with np.errstate(all="ignore"):
        pred = np.broadcast_to(np.asarray(fn(*X.T), float), y.shape)
    out = r2(y, pred)
    return out if np.isfinite(out) else -np.inf


def regress_components(model: FlowGNN, splits, feats, config: GSRConfig, progress=None) -> dict:
    """pyoperon on every output column of every component, from the network's own inputs/outputs on train."""
    rec_train, rec_test = {}, {}
    with torch.no_grad():
        model(to_batch(splits["train"]), rec_train)
        model(to_batch(splits["test"]), rec_test)
    result = {}
    total = sum(model.flow["blocks"][int(k[0])][k[1]]["width"] for k in rec_train)
    done = 0
    for key, (x, y) in rec_train.items():
        features, _ = feats[key]
        X = features(x.double().numpy())
        xt, yt = rec_test[key]
        Xt = features(xt.double().numpy())
        exprs, fit_r2, engines, options = [], [], [], {}
        for col in range(y.shape[1]):
            t0 = time.perf_counter()
            target, held = y[:, col].double().numpy(), yt[:, col].double().numpy()
            expr, score = sparse_fit(X, target, features.names, seed=config.seed)
            engine = "sparse library"
            if score < config.sparse_accept:  # not a sparse sum of monomials: genetic programming (pyoperon) too
                gp, gp_score = symbolic_fit(X, target, features.names, seed=config.seed,
                                            generations=config.sr_generations, population=config.sr_population,
                                            max_seconds=config.sr_seconds, symbols=config.sr_symbols or SYMBOLS)
                # chosen on held-out (test-split) inputs of the component: its agreement with the network
                a, b = _held_r2(expr, features, Xt, held), _held_r2(gp, features, Xt, held)
                # both go on to fine-tuning; the one whose fine-tuned formula fits valid best is kept (run())
                options[col] = [(expr, score, engine), (gp, gp_score, "pyoperon")]
                if b > a + 1e-2 or (abs(b - a) <= 1e-2 and complexity_of(gp) < complexity_of(expr)):
                    expr, score, engine = gp, gp_score, "pyoperon"
            exprs.append(expr)
            fit_r2.append(score)
            engines.append(engine)
            done += 1
            _emit(progress, "regress", done, total, f"φ {key} column {col + 1} ({engine}): R² {score:.4f} "
                  f"({time.perf_counter() - t0:.0f} s): {expr}", r2=score)
        sym = SymbolicPhi(exprs, features)
        with torch.no_grad():
            pt = sym(xt.double()).numpy()
        held = [r2(yt[:, c].double().numpy(), pt[:, c]) for c in range(yt.shape[1])]
        result[key] = {"exprs": exprs, "train_r2": fit_r2, "test_r2_vs_network": held, "engines": engines,
                       "options": options}
    return result


def _formula_model(flow, dims, splits, model, aggs, comps, feats) -> FlowGNN:
    formula = FlowGNN(flow, dims, scales_of(splits["train"]))
    formula.load_state_dict(model.state_dict())
    for k, a in formula.aggs.items():
        a.choice = aggs[k]
    for k, c in comps.items():
        formula.phis[k].symbolic = SymbolicPhi(c["exprs"], feats[k][0])
    return formula


def finetune(model, train: dict, valid: dict, params: list, steps: int = 200) -> dict:
    """Every constant of the assembled formula at once, by L-BFGS on the training MSE of the normalised output
    (paper: gradient descent on all constants together). Returns {"valid_rmse_before", "valid_rmse", "steps"}."""
    began = time.perf_counter()
    before = rmse(model, valid)
    start = [p.detach().clone() for p in params]
    opt = torch.optim.LBFGS(params, lr=1, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")
    target = train["y"] / model.y_scale

    def closure():
        opt.zero_grad()
        loss = ((model(train) - target) ** 2).mean()
        if torch.isfinite(loss):
            loss.backward()
        return loss

    try:
        opt.step(closure)
    except RuntimeError as exc:  # a formula that cannot be differentiated somewhere: keep the regressed constants
        log.warning("fine-tuning stopped: %s", exc)
    after = rmse(model, valid)
    if not np.isfinite(after) or after > before:
        with torch.no_grad():
            for p, s in zip(params, start):
                p.copy_(s)
        after = before
    return {"valid_rmse_before": before, "valid_rmse": after, "steps": steps,
            "seconds": round(time.perf_counter() - began, 2)}


def prune_terms(formula: FlowGNN, feats: dict, splits, tol: float = 1e-3, steps: int = 60, progress=None) -> dict:
    """Parsimony after fine-tuning: try dropping each additive term of every component formula, smallest first
    (its mean |value| on training inputs); a drop is kept when, after re-fine-tuning the remaining constants, the
    valid RMSE (outputs / std) stays within ``tol`` of the unpruned formula's. Changes ``formula`` in place;
    returns {"terms_before", "terms_after", "valid_rmse_before", "valid_rmse"}."""
    import copy

    train64, valid64 = to_batch(splits["train"], torch.float64), to_batch(splits["valid"], torch.float64)
    formula.double()
    base = rmse(formula, valid64)
    record = {}
    with torch.no_grad():
        formula(train64, record)
    candidates = []
    for k, phi in formula.phis.items():
        X = phi.symbolic.features(record[k][0].double().numpy())
        syms = [sympy.Symbol(n) for n in phi.symbolic.features.names]
        for col, expr in enumerate(phi.symbolic.expressions(None)):
            terms = sympy.Add.make_args(expr)
            if len(terms) < 2:
                continue
            scale = float(np.std(record[k][1][:, col].numpy())) or 1.0
            for term in terms:
                fn = sympy.lambdify(syms, term, "numpy")
                with np.errstate(all="ignore"):
                    size = float(np.nanmean(np.abs(np.broadcast_to(np.asarray(fn(*X.T), float), (len(X),)))))
                candidates.append((size / scale, k, col, term))
    candidates.sort(key=lambda c: c[0])
    n_before = sum(len(sympy.Add.make_args(e)) for phi in formula.phis.values()
                   for e in phi.symbolic.expressions(None))
    current = rmse(formula, valid64)
    for n, (_, k, col, term) in enumerate(candidates):
        exprs = formula.phis[k].symbolic.expressions(None)
        if term not in sympy.Add.make_args(exprs[col]) or len(sympy.Add.make_args(exprs[col])) < 2:
            continue
        trial = copy.deepcopy(formula)
        exprs[col] = exprs[col] - term
        trial.phis[k].symbolic = SymbolicPhi(exprs, formula.phis[k].symbolic.features).double()
        consts = [p for phi in trial.phis.values() for p in phi.symbolic.parameters()]
        finetune(trial, train64, valid64, consts, steps)
        err = rmse(trial, valid64)
        if np.isfinite(err) and err <= base + tol:
            formula.phis[k].symbolic = trial.phis[k].symbolic
            for key, phi in formula.phis.items():
                phi.symbolic = trial.phis[key].symbolic
            current = err
        _emit(progress, "prune", n + 1, len(candidates), r2=0.0)
    formula.float()
    n_after = sum(len(sympy.Add.make_args(e)) for phi in formula.phis.values()
                  for e in phi.symbolic.expressions(None))
    return {"terms_before": n_before, "terms_after": n_after, "valid_rmse_before": base, "valid_rmse": current}


def run(config: GSRConfig, progress=None, device=None, data_dir=None) -> store.Card:
    """Every stage; returns the saved card (folder: config.output or <runs>/gsr/<dataset>)."""
    began = time.perf_counter()
    tracemalloc.start()
    stages = {}
    folder = Path(config.output or store.runs_root() / "gsr" / config.dataset)
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    splits = load_splits(data_key(config))
    stages["simulate"] = time.perf_counter() - t
    dims = dims_of(splits["train"])
    t = time.perf_counter()
    result = search(dataclasses.replace(config, output=str(folder)), progress=progress)
    records = Trajectory(result.trajectory).records()
    stages["search"] = time.perf_counter() - t
    flow = final_flow(records, dims, config)
    _emit(progress, "train", 0, 1, f"chosen flow: {F.describe(flow, dims)}")

    # the chosen flow: trained longer, aggregators hardened, trained again briefly
    t = time.perf_counter()
    torch.manual_seed(config.seed)
    key = json.dumps(data_key(config), sort_keys=True)
    train_b, valid_b = _train_batches(key, config.batch)
    model = FlowGNN(flow, dims, scales_of(splits["train"]))
    fit(model, train_b, valid_b, epochs=config.final_epochs, lr=config.lr, seed=config.seed, patience=20)
    aggs = model.harden()
    fit(model, train_b, valid_b, epochs=max(10, config.final_epochs // 5), lr=config.lr / 3, seed=config.seed)
    stages["train"] = time.perf_counter() - t
    gnn = {s: output_metrics(model, splits[s]) for s in ("valid", "test")}
    _emit(progress, "train", 1, 1, f"network test R² {gnn['test']['r2']:.4f}", r2=gnn["test"]["r2"])

    # stage 2: symbolic regression of every component
    t = time.perf_counter()
    feats = component_features(flow, splits["train"])
    comps = regress_components(model, splits, feats, config, progress)
    stages["regress"] = time.perf_counter() - t

    # stage 3: cascade + fine-tune every constant on the original data. Where a component column has two
    # candidate formulas (sparse library and pyoperon), each combination is fine-tuned and the one with the lowest
    # valid RMSE is kept (within 2 %, the one with fewer constants): selection on valid only.
    t = time.perf_counter()
    slots = [(k, col) for k, c in comps.items() for col in sorted(c["options"])]
    import itertools

    combos = list(itertools.product(*[range(len(comps[k]["options"][col])) for k, col in slots]))[:16]
    tried = []
    for combo in combos:
        for (k, col), pick in zip(slots, combo):
            expr, score, engine = comps[k]["options"][col][pick]
            comps[k]["exprs"][col], comps[k]["train_r2"][col], comps[k]["engines"][col] = expr, score, engine
        formula = _formula_model(flow, dims, splits, model, aggs, comps, feats)
        before = {s: output_metrics(formula, splits[s]) for s in ("valid", "test")}
        consts = [p for phi in formula.phis.values() for p in phi.symbolic.parameters()]
        formula.double()
        fine = finetune(formula, to_batch(splits["train"], torch.float64), to_batch(splits["valid"], torch.float64),
                        consts, config.finetune_steps)
        formula.float()
        after = {s: output_metrics(formula, splits[s]) for s in ("valid", "test")}
        n = sum(p.numel() for p in consts)
        tried.append((after["valid"]["rmse"], n, combo, formula, before, after, fine, consts))
        if len(combos) > 1:
            _emit(progress, "finetune", len(tried), len(combos), f"combination {combo}: valid RMSE "
                  f"{after['valid']['rmse']:.5f} with {n} constants")
    best_rmse = min(x[0] for x in tried)
    chosen = min((x for x in tried if x[0] <= best_rmse * 1.02 + 1e-6), key=lambda x: (x[1], x[0]))
    _, _, combo, formula, before, after, fine, consts = chosen
    for (k, col), pick in zip(slots, combo):
        expr, score, engine = comps[k]["options"][col][pick]
        comps[k]["exprs"][col], comps[k]["train_r2"][col], comps[k]["engines"][col] = expr, score, engine
    rec_test = {}
    with torch.no_grad():
        model(to_batch(splits["test"]), rec_test)
    for k, c in comps.items():  # agreement with the network function, for the formulas kept
        xt, yt = rec_test[k]
        with torch.no_grad():
            pt = SymbolicPhi(c["exprs"], feats[k][0])(xt.double()).numpy()
        c["test_r2_vs_network"] = [r2(yt[:, j].double().numpy(), pt[:, j]) for j in range(yt.shape[1])]
    pruned = {}
    if config.prune:
        pruned = prune_terms(formula, feats, splits, progress=progress)
        after = {s: output_metrics(formula, splits[s]) for s in ("valid", "test")}
    for k, phi in formula.phis.items():  # rebuilt from the exact final formulas: what load() rebuilds too
        phi.symbolic = SymbolicPhi(phi.symbolic.expressions(None), phi.symbolic.features)
    consts = [p for phi in formula.phis.values() for p in phi.symbolic.parameters()]
    stages["finetune"] = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n_const = sum(p.numel() for p in consts)
    n_gnn = sum(p.numel() for p in model.parameters())
    final_exprs = {k: formula.phis[k].symbolic.expressions() for k in comps}
    meta = {"flow": flow, "dims": dataclasses.asdict(dims), "aggregators": aggs,
            "features": {k: feats[k][0].to_dict() for k in comps},
            "meanings": {k: feats[k][1] for k in comps},
            "formulas": {k: [sympy.srepr(e) for e in v] for k, v in final_exprs.items()},
            "regressed": {k: [sympy.srepr(e) for e in c["exprs"]] for k, c in comps.items()},
            "structure": {k: [sympy.srepr(e) for e in formula.phis[k].symbolic.expressions(None)] for k in comps},
            "component_r2": {k: {"train_vs_network": c["train_r2"], "test_vs_network": c["test_r2_vs_network"],
                                 "engine": c["engines"]} for k, c in comps.items()},
            "scales": {k: v.tolist() for k, v in scales_of(splits["train"]).items()},
            "names": {"v": splits["train"].v_names, "e": splits["train"].e_names, "u": splits["train"].u_names,
                      "y": splits["train"].y_names}}
    variants = {"gnn": {s: {"r2": gnn[s]["r2"], "mse": gnn[s]["mse"]} for s in gnn},
                "unfinetuned": {s: {"r2": before[s]["r2"], "mse": before[s]["mse"]} for s in before}}
    notes = {}
    if config.dataset.startswith("pedestrian"):  # the social-force reference, fitted on the same training frames
        from backend.physics.pedestrian import fit_social_force, social_force

        sfm = fit_social_force(splits["train"])
        variants["social_force"] = {}
        for s in ("valid", "test"):
            pred, y = social_force(sfm, splits[s]), splits[s].y
            variants["social_force"][s] = {"r2": float(np.mean([r2(y[:, c], pred[:, c]) for c in range(y.shape[1])])),
                                           "mse": float(np.mean((pred - y) ** 2))}
        notes["social_force_params"] = dict(zip(("v0", "tau", "A", "B"), map(float, sfm)))
    pareto = pareto_table(records)
    pareto.to_csv(folder / "pareto.csv", index=False)
    total = time.perf_counter() - began
    card = store.Card(
        "gsr", *_dataset_setting(config.dataset),
        metrics={s: {"r2": after[s]["r2"], "mse": after[s]["mse"]} for s in ("valid", "test")},
        variants=variants,
        protocol="R² (mean over output columns) and MSE of the assembled formula against the ground-truth output on "
                 "held-out graphs (whole graphs held out); variant 'gnn': the searched network itself",
        params={"total": n_const, "trainable": n_const, "adaptive": None},
        train={"seconds": round(total, 2), "epochs": config.final_epochs, "device": "cpu", "seed": config.seed,
               "config": dataclasses.asdict(config), "stage_seconds": {k: round(v, 2) for k, v in stages.items()},
               "peak_python_mb": round(peak / 2**20, 1), "candidates": len(records),
               "samples": {s: splits[s].n_samples for s in splits}},
        data={"simulated": data_key(config), "sha256": _data_sha(splits)},
        reference="shi2023gsr",
        artefacts={"formula": {"kind": "formula", "value": assembled_latex(
                       flow, final_exprs, aggs, splits["train"].v_names, splits["train"].y_names)},
                   "components": {"kind": "json", "value": {k: [str(e) for e in v] for k, v in final_exprs.items()}},
                   "flow": {"kind": "structure", "value": F.describe(flow, dims)}},
        extras={"gnn_params": n_gnn, "formula_constants": n_const, "flow": F.describe(flow, dims),
                "complexity": F.complexity(flow),
                "component_r2": meta["component_r2"], "finetune": fine, "pruning": pruned, **notes})
    state = {f"formula.{k}": v for k, v in formula.state_dict().items()}
    state.update({f"gnn.{k}": v for k, v in model.state_dict().items()})
    store.save_checkpoint(folder, state, card, extras={"gsr.json": meta})
    return card


def _dataset_setting(name: str) -> tuple[str, str]:
    from backend.physics.systems import SYSTEMS

    if name in SYSTEMS:
        return SYSTEMS[name].dataset, SYSTEMS[name].setting
    if name.startswith("pedestrian-"):
        return "pedestrian", name.split("-", 1)[1]
    return Path(name).name, "default"


def _data_sha(splits) -> str:
    h = hashlib.sha256()
    for s in ("train", "valid", "test"):
        h.update(np.ascontiguousarray(splits[s].v).tobytes())
        h.update(np.ascontiguousarray(splits[s].y).tobytes())
    return h.hexdigest()
