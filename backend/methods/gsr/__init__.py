"""GSR (Shi et al., ICLR 2023): symbolic models of graph-structured physics.

Stage 1 searches the message-passing flow of a graph network by hierarchical pruning (score = RMSE + 0.1 x
complexity, through backend/core/search.py); stage 2 fits each learned component with pyoperon, renders it with
SymPy and fine-tunes every constant of the assembled formula. ``train`` runs all stages on one system
(pipeline.run); ``search`` runs stage 1 alone; ``load`` gives a model whose verbs answer with the formula.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sympy
import torch

from backend.core import store
from backend.core.evidence import Evidence, FormulaPart, TablePart
from backend.core.method import Capabilities, Command, Method, QueryField
from backend.methods.gsr import flows as F
from backend.methods.gsr.formulas import (TRUE_COMPONENTS, TRUE_LATEX, assembled, parse, python_module,
                                          raw_aggregate_symbols)
from backend.methods.gsr.model import FlowGNN
from backend.methods.gsr.pipeline import GSRConfig, load_splits, output_metrics, run
from backend.methods.gsr.pipeline import search as _search
from backend.methods.gsr.regress import Features, SymbolicPhi, r2
from backend.methods.gsr.train import to_batch
from backend.physics.systems import SYSTEMS

COMPONENT_TITLE = {"e": "edge message φ_e", "v": "node update φ_v", "u": "global update φ_u"}


def config_for(dataset: str) -> GSRConfig:
    """Defaults per data set: the pedestrians also get exp (the paper's repulsion k exp(-lambda r))."""
    if dataset.startswith("pedestrian"):
        return GSRConfig(dataset=dataset, sr_symbols="add,sub,mul,div,square,exp,constant,variable")
    return GSRConfig(dataset=dataset)


def train(config: GSRConfig, progress=None, device=None, data_dir=None) -> store.Card:
    return run(config, progress, device, data_dir)


def search(config: GSRConfig, progress=None, device=None, data_dir=None, executor=None):
    return _search(config, progress, device, data_dir, executor)


class GSRModel:
    """A shipped GSR result: the assembled formula (with its fine-tuned constants) and the searched network."""

    def __init__(self, model_dir, device=None, data_dir=None):
        self.dir = Path(model_dir)
        self.card = store.load_card(model_dir)
        self.meta = json.loads((self.dir / "gsr.json").read_text())
        self.flow = self.meta["flow"]
        self.dims = F.Dims(**self.meta["dims"])
        self.config = GSRConfig(**{k: v for k, v in self.card.train["config"].items()
                                   if k in GSRConfig.__dataclass_fields__})
        self.system = self.config.dataset
        scales = {k: torch.tensor(v, dtype=torch.float32) for k, v in self.meta["scales"].items()}
        state = store.load_state_dict(model_dir)
        self.features = {k: Features.from_dict(v) for k, v in self.meta["features"].items()}
        self.network = FlowGNN(self.flow, self.dims, scales)
        self.formula = FlowGNN(self.flow, self.dims, scales)
        for net in (self.network, self.formula):
            for k, a in net.aggs.items():
                a.choice = self.meta["aggregators"][k]
        regressed = {k: [sympy.sympify(e) for e in v]
                     for k, v in self.meta.get("structure", self.meta["regressed"]).items()}
        for k, exprs in regressed.items():
            self.formula.phis[k].symbolic = SymbolicPhi(exprs, self.features[k])
        self.network.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("gnn.")})
        self.formula.load_state_dict({k[8:]: v for k, v in state.items() if k.startswith("formula.")})
        self._splits = None

    # ---------------------------------------------------------------- data and formulas
    def splits(self):
        if self._splits is None:
            self._splits = load_splits({"dataset": self.config.dataset, "seed": self.config.seed,
                                        "groups": self.config.groups, "draws": self.config.draws})
        return self._splits

    def expressions(self, digits: int | None = 4) -> dict[str, list]:
        """{component: [formula per output column]} with the fine-tuned constants (``digits`` None: exact)."""
        return {k: phi.symbolic.expressions(digits) for k, phi in self.formula.phis.items()
                if phi.symbolic is not None}

    def constants(self) -> pd.DataFrame:
        """One row per constant: component, output column, symbol, value (the fine-tuned one)."""
        rows = []
        for k, phi in self.formula.phis.items():
            start = 0
            for col, (t, n) in enumerate(zip(phi.symbolic.templates, phi.symbolic.counts)):
                for i in range(n):
                    rows.append({"component": f"{COMPONENT_TITLE[k[-1]]} (block {int(k[:-1]) + 1})",
                                 "column": col + 1, "constant": f"c{i}",
                                 "value": float(phi.symbolic.c.detach()[start + i])})
                start += n
        return pd.DataFrame(rows, columns=["component", "column", "constant", "value"])

    def with_constants(self, values) -> FlowGNN:
        """A copy of the formula with the constants replaced (``values`` in the order of :meth:`constants`)."""
        import copy

        model = copy.deepcopy(self.formula)
        values = list(values)
        pos = 0
        for k, phi in model.phis.items():
            n = phi.symbolic.c.numel()
            with torch.no_grad():
                phi.symbolic.c.copy_(torch.tensor(values[pos:pos + n], dtype=torch.float64))
            pos += n
        return model

    def python_source(self) -> str:
        names = self.meta["names"]["y"]
        return python_module(self.expressions(None), self.meta["features"], self.flow, self.meta["aggregators"], names)

    def latex(self) -> str:
        """Every component formula and the assembled output as a LaTeX document body."""
        lines = [f"% GSR formulas for {self.system}: flow {F.describe(self.flow, self.dims)}"]
        for k, exprs in self.expressions().items():
            for col, e in enumerate(exprs):
                lines.append(f"% {COMPONENT_TITLE[k[-1]]} (block {int(k[:-1]) + 1}), output {col + 1}")
                lines.append(rf"\[ {sympy.latex(e)} \]")
        for name, e in self.assembled().items():
            lines.append(f"% assembled: {name}")
            lines.append(rf"\[ {name} = {sympy.latex(e)} \]")
        return "\n".join(lines) + "\n"

    def assembled(self) -> dict[str, object]:
        out = assembled(self.flow, self.expressions(), self.meta["aggregators"])
        raw = raw_aggregate_symbols(self.meta["names"]["v"])
        names = self.meta["names"]["y"]
        return {names[k]: e.xreplace(raw) for k, e in out.items()}

    # ---------------------------------------------------------------- the verbs
    def evaluate(self, split: str = "test", progress=None) -> dict:
        m = output_metrics(self.formula, self.splits()[split])
        g = output_metrics(self.network, self.splits()[split])
        return {"r2": m["r2"], "mse": m["mse"], "gnn_r2": g["r2"], "gnn_mse": g["mse"]}

    def predict(self, query: dict | None = None, table=None, progress=None) -> pd.DataFrame:
        """Query {"sample": k}: the k-th held-out (test) sample's outputs, truth vs formula vs network."""
        data = self.splits()["test"]
        k = int((query or {}).get("sample", 0)) % data.n_samples
        one = data.subset(np.array([k]))
        b = to_batch(one, torch.float64)
        with torch.no_grad():
            f = (self.formula.double()(b) * self.formula.y_scale.double()).numpy()
            n = (self.network.double()(b) * self.network.y_scale.double()).numpy()
        self.formula.float(); self.network.float()
        rows = []
        for i in range(len(one.y)):
            for c, name in enumerate(one.y_names):
                rows.append({"node" if one.level == "node" else "graph": i + 1, "output": name,
                             "true": float(one.y[i, c]), "formula": float(f[i, c]), "network": float(n[i, c])})
        return pd.DataFrame(rows)

    def component_r2(self) -> pd.DataFrame:
        """Each symbolic function's R² against the network function it replaces, on held-out (test) inputs."""
        rec_net, rec_sym = {}, {}
        test = to_batch(self.splits()["test"])
        with torch.no_grad():
            self.network(test, rec_net)
        rows = []
        for k, (x, y) in rec_net.items():
            sym = self.formula.phis[k].symbolic
            regressed = SymbolicPhi([sympy.sympify(e) for e in self.meta["regressed"][k]], self.features[k])
            with torch.no_grad():
                p_sym = regressed(x.double()).numpy()
            for c in range(y.shape[1]):
                rows.append({"component": f"{COMPONENT_TITLE[k[-1]]} (block {int(k[:-1]) + 1})", "key": k,
                             "output": c + 1, "r2_vs_network": r2(y[:, c].double().numpy(), p_sym[:, c]),
                             "formula": str(regressed.expressions()[c])})
        return pd.DataFrame(rows)

    def explain(self, query: dict | None = None) -> Evidence:
        parts = []
        truth = TRUE_COMPONENTS.get(self.system, {})
        for k, exprs in self.expressions().items():
            meanings = self.meta["meanings"][k]
            for c, e in enumerate(exprs):
                ref = parse(truth[k][c]) if k in truth and c < len(truth[k]) else None
                if ref is not None and not {str(x) for x in ref.free_symbols} <= set(self.features[k].names):
                    ref = None  # this flow wires the component differently
                parts.append(FormulaPart.from_sympy(
                    e, {n: meanings.get(n, n) for n in self.features[k].names if sympy.Symbol(n) in e.free_symbols},
                    reference=ref, reference_name="True law (up to a constant factor and offset)",
                    title=f"{COMPONENT_TITLE[k[-1]]}, block {int(k[:-1]) + 1}, output {c + 1}"))
        table = self.component_r2()
        parts.append(TablePart.from_frame(table[["component", "output", "r2_vs_network", "formula"]],
                                          help={"r2_vs_network": "R² of the symbolic function against the network "
                                                "function it replaces, on held-out (test) inputs"},
                                          title="Each formula against the network function it replaces"))
        m = self.card.metrics.get("test", {})
        sentences = [f"Searched flow: {F.describe(self.flow, self.dims)} (complexity {F.complexity(self.flow)}).",
                     f"The assembled formula has {self.card.params.get('total')} constants; the network it replaces "
                     f"has {self.card.extras.get('gnn_params')} parameters.",
                     f"Held-out R² of the formula against the true law: {m.get('r2', float('nan')):.4f}."]
        return Evidence("gsr", f"Formulas found for {self.system}", parts=parts, sentences=sentences,
                        summary={"flow": self.flow, "test_r2": m.get("r2")})

    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        data = self.splits()[split]
        b = to_batch(data, torch.float64)
        with torch.no_grad():
            f = (self.formula.double()(b) * self.formula.y_scale.double()).numpy()
        self.formula.float()
        return pd.DataFrame([{"output": n, "r2": r2(data.y[:, c], f[:, c]), "mse": float(np.mean((data.y[:, c] - f[:, c]) ** 2))}
                             for c, n in enumerate(data.y_names)])

    # ---------------------------------------------------------------- simulation with the formula
    def outputs(self, model: FlowGNN | None = None, split: str = "test", limit: int = 400) -> pd.DataFrame:
        """True vs predicted outputs on the first ``limit`` samples of ``split``."""
        data = self.splits()[split]
        data = data.subset(np.arange(min(limit, data.n_samples)))
        model = model or self.formula
        with torch.no_grad():
            p = (model.double()(to_batch(data, torch.float64)) * model.y_scale.double()).numpy()
        model.float()
        rows = [{"output": n, "true": data.y[:, c], "predicted": p[:, c]} for c, n in enumerate(data.y_names)]
        return pd.concat([pd.DataFrame(r) for r in rows], ignore_index=True)

    def trajectory(self, model: FlowGNN | None = None, steps: int = 400, dt: float = 0.01, seed: int = 0):
        """Mechanics only: a spring system integrated with the formula's and the true accelerations (velocity
        Verlet). Returns a frame: step, time, node, source ('true' | 'formula'), x, y; None for static systems."""
        if not self.system.startswith("mechanics"):
            return None
        from backend.physics.graphs import batch_graphs
        from backend.physics.systems import directed, integrate_springs, spring_example, true_output

        ex = spring_example(seed)
        n, ed = len(ex["mass"]), directed(ex["edges"])
        complex_ = self.system == "mechanics-complex"
        f_ext = np.random.default_rng([seed, 7]).normal(0, 1, (n, 2)) if complex_ else np.zeros((n, 0))
        model = model or self.formula

        def graph(pos):
            v = np.concatenate([ex["mass"][:, None], pos, f_ext], 1)
            names = (["m", "x", "y"] + (["fx", "fy"] if complex_ else []), ["k"], [], ["ax", "ay"])
            return batch_graphs([v], [ed], [np.concatenate([ex["k"], ex["k"]])[:, None]], [[]], [np.zeros((n, 2))],
                                "node", [0], names, name=self.system)

        def found(pos):
            b = to_batch(graph(pos), torch.float64)
            with torch.no_grad():
                return (model.double()(b) * model.y_scale.double()).numpy()

        frames = []
        for name, acc in (("true", lambda p: true_output(graph(p))), ("formula", found)):
            pos, _ = integrate_springs(ex["pos0"], ex["vel0"], ex["mass"], acc, dt, steps)
            t = np.arange(steps + 1) * dt
            frames.append(pd.DataFrame({"step": np.repeat(np.arange(steps + 1), n), "time": np.repeat(t, n),
                                        "node": np.tile(np.arange(1, n + 1), steps + 1), "source": name,
                                        "x": pos[:, :, 0].ravel(), "y": pos[:, :, 1].ravel()}))
        model.float()
        return pd.concat(frames, ignore_index=True)

    def true_latex(self) -> str:
        return TRUE_LATEX.get(self.system, "")

    def pareto(self) -> pd.DataFrame:
        path = self.dir / "pareto.csv"
        return pd.read_csv(path) if path.exists() else pd.DataFrame()


# ------------------------------------------------------------------ CLI verbs simulate / regress
def _simulate_args(parser):
    parser.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--groups", type=int, default=0)
    parser.add_argument("--draws", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder for nodes.csv + edges.csv (the graph CSV format)")


def _simulate_run(args) -> int:
    from backend.physics.graph_csv import write_graph_folder
    from backend.physics.systems import simulate

    data = simulate(args.system, args.seed, args.groups or None, args.draws or None)
    write_graph_folder(data, args.out)
    print(json.dumps({"system": args.system, "samples": data.n_samples, "folder": args.out}))
    return 0


def _regress_args(parser):
    parser.add_argument("--dataset", required=True, help="a system name or a graph CSV folder")
    parser.add_argument("--output", default="", help="checkpoint folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sr-seconds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--search-epochs", type=int, default=GSRConfig.search_epochs)
    parser.add_argument("--final-epochs", type=int, default=GSRConfig.final_epochs)
    parser.add_argument("--progress-file", default=None, help="also append progress events (JSON lines) here")


def _regress_run(args) -> int:
    from backend.core.progress import FileProgress

    to_file = FileProgress(args.progress_file) if args.progress_file else None

    def progress(ev):
        if ev.message:
            print(f"[{ev.stage} {ev.step}/{ev.total}] {ev.message}", flush=True)
        if to_file is not None:
            to_file(ev)

    config = GSRConfig(dataset=args.dataset, output=args.output, seed=args.seed, sr_seconds=args.sr_seconds,
                       budget=args.budget, search_epochs=args.search_epochs, final_epochs=args.final_epochs)
    card = run(config, progress)
    print(json.dumps({"folder": card.path, "metrics": card.metrics, "formula": card.artefacts["formula"]["value"]}))
    return 0


METHOD = Method(
    name="gsr", title="GSR", task="Symbolic regression on graph-structured physical systems",
    explains="Discovered formulas (SymPy) beside the true laws", paper="shi2023gsr", area="physics",
    datasets=tuple(SYSTEMS) + ("pedestrian-unidirectional", "pedestrian-bidirectional"),
    capabilities=Capabilities(
        query=(QueryField("sample", "Held-out sample", "int", default=0,
                          help="index of a test sample (a whole held-out graph draw)"),),
        headline="r2", higher_is_better=True, breakdown_by="output column",
        evidence="the formula of each component function of the searched flow, beside the true law",
        variants={"": "formula", "gnn": "graph network", "unfinetuned": "formula before fine-tuning",
                  "social_force": "social-force model (pedestrians)"}),
    config_for=config_for, train=train, load=GSRModel, search=search, page="physics",
    extras={"commands": {
        "simulate": Command(help="simulate a GSR system into the graph CSV format", arguments=_simulate_args,
                            run=_simulate_run),
        "regress": Command(help="GSR end to end: search the flow, regress each component, fine-tune",
                           arguments=_regress_args, run=_regress_run)}},
)
