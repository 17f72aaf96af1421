"""Formulas for people: LaTeX of the assembled formula (aggregations as sums), true component laws, the Python
(SymPy) export of a whole model and its round trip."""
from __future__ import annotations

import re

import sympy


def parse(text):
    """Formula text -> SymPy, every identifier a Symbol (so E1, Q, N, S are never SymPy's functions or constants),
    except the functions sqrt, exp, log, Abs, sign, tanh, sin, cos."""
    if not isinstance(text, str):
        return sympy.sympify(text)
    funcs = {"sqrt", "exp", "log", "Abs", "sign", "tanh", "sin", "cos"}
    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text)) - funcs
    return sympy.sympify(text, locals={n: sympy.Symbol(n) for n in names})


class SumNeighbours(sympy.Function):
    """Σ_{j ∈ N(i)} (expr): the aggregation of messages into node i (rendering only)."""

    def _latex(self, printer, exp=None):
        inner = printer._print(self.args[0])
        return rf"\sum_{{j \in \mathcal{{N}}(i)}} \left({inner}\right)"


class SumAll(sympy.Function):
    """Σ over all edges or nodes of a graph (rendering only); args: (expr, label)."""

    def _latex(self, printer, exp=None):
        inner = printer._print(self.args[0])
        return rf"\sum_{{{self.args[1]}}} \left({inner}\right)"


AGG_WORD = {"sum": "", "mean": r"\operatorname{mean}", "max": r"\max"}


def assembled(flow: dict, exprs: dict[str, list], aggregators: dict[str, str]) -> dict[str, object]:
    """{output name: SymPy expression} with every aggregated input replaced by the aggregation of the expression
    that feeds it (sum rendered as Σ; mean / max kept as named functions)."""
    env: dict[str, object] = {}
    out = {}

    def agg(kind, expr, key):
        how = aggregators.get(key, "sum")
        if kind == "nbr":
            wrapped = SumNeighbours(expr)
        else:
            wrapped = SumAll(expr, sympy.Symbol(kind))
        if how == "sum":
            return wrapped
        return sympy.Function(f"{how}")(expr)

    en, vn, un = None, None, None
    for b, blk in enumerate(flow["blocks"]):
        if "e" in blk:
            e_exprs = [sympy.sympify(x).xreplace(env) for x in exprs[f"{b}e"]]
            en = e_exprs
            for k, x in enumerate(e_exprs):
                env[sympy.Symbol(f"M{k + 1}")] = agg("nbr", x, f"{b}ev")
                env[sympy.Symbol(f"E{k + 1}")] = agg("edges", x, f"{b}eu")
        if "v" in blk:
            v_exprs = [sympy.sympify(x).xreplace(env) for x in exprs[f"{b}v"]]
            vn = v_exprs
            for k, x in enumerate(v_exprs):
                env[sympy.Symbol(f"h{k + 1}")] = x
                env[sympy.Symbol(f"N_h{k + 1}")] = agg("i", x, f"{b}vu")
        if "u" in blk:
            u_exprs = [sympy.sympify(x).xreplace(env) for x in exprs[f"{b}u"]]
            un = u_exprs
            for k, x in enumerate(u_exprs):
                env[sympy.Symbol(f"g{k + 1}")] = x
    last = flow["blocks"][-1]
    final = vn if "v" in last and (un is None or "u" not in last) else un
    for k, x in enumerate(final or []):
        out[k] = x
    return out


def raw_aggregate_symbols(names: list[str]) -> dict:
    """N_<name> (a raw node input aggregated over the graph) -> Σ_i name_i, for rendering."""
    return {sympy.Symbol(f"N_{n}"): SumAll(sympy.Symbol(f"{n}_k"), sympy.Symbol("k")) for n in names}


def python_module(components: dict[str, list], features: dict[str, dict], flow: dict, aggregators: dict[str, str],
                  output_names: list[str]) -> str:
    """A Python file defining the formulas as SymPy expressions (``COMPONENTS``: {name: [expr, ...]} built with
    sympy.sympify from their srepr) and NumPy functions of each component's named inputs, plus the flow."""
    import json

    lines = ['"""GSR formulas exported by the parsimony explorer: one entry per component function of the',
             'message-passing flow (e: edge message, v: node update, u: global), over the inputs named in FEATURES."""',
             "import sympy", "",
             f"FLOW = {json.dumps(flow)}", f"AGGREGATORS = {json.dumps(aggregators)}",
             f"FEATURES = {json.dumps({k: v['base'] + [d[0] for d in v.get('diffs', [])] + [d[0] for d in v.get('dists', [])] for k, v in features.items()})}",
             f"OUTPUTS = {json.dumps(output_names)}",
             "COMPONENTS = {"]
    for k, exprs in components.items():
        lines.append(f"    {k!r}: [")
        for e in exprs:
            lines.append(f"        sympy.sympify({sympy.srepr(sympy.sympify(e))!r}),")
        lines.append("    ],")
    lines += ["}", "", "",
              "def functions():",
              '    """{component: [numpy function of FEATURES[component], ...]}."""',
              "    return {k: [sympy.lambdify([sympy.Symbol(n) for n in FEATURES[k]], e, 'numpy') for e in exprs]",
              "            for k, exprs in COMPONENTS.items()}", ""]
    return "\n".join(lines)


def load_python_module(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<gsr formulas>", "exec"), namespace)  # noqa: S102 - our own export
    return namespace


#: true component laws of the graph-level systems, in the names component_features gives (a scalar message is the
#: true one up to a scale and an offset). Mechanics has none here: a learned 2-D message is the force only up to a
#: linear change of basis, and the mass may sit in the message or in the node update (both flows are exact).
TRUE_COMPONENTS = {
    "electricity": {"0e": ["(V_i - V_j)**2/R"], "0u": ["E1/2"]},
    "thermology-simple": {"0e": ["alpha*(T_j - T_i)/T_i"], "0u": ["E1"]},
    "thermology-complex": {"0e": ["alpha*(T_j - T_i)"], "0v": ["(M1 + Q)/T"], "0u": ["N_h1"]},
}

TRUE_LATEX = {
    "mechanics-simple": r"\mathbf{a}_i = \frac{1}{m_i}\sum_{j \in \mathcal{N}(i)} k_{ij}\left(\Delta\mathbf{x}_{ij} - "
                        r"l_0\frac{\Delta\mathbf{x}_{ij}}{r_{ij}}\right),\quad l_0 = 1",
    "mechanics-complex": r"\mathbf{a}_i = \frac{1}{m_i}\Big(\sum_{j \in \mathcal{N}(i)} k_{ij}\big(\Delta\mathbf{x}_{ij}"
                         r" - \frac{\Delta\mathbf{x}_{ij}}{r_{ij}}\big) + \mathbf{f}_i\Big) - "
                         r"\frac{\sum_k \mathbf{f}_k}{\sum_k m_k}",
    "electricity": r"P = \sum_{(i,j) \in E} \frac{(V_i - V_j)^2}{R_{ij}}",
    "thermology-simple": r"\dot S = \sum_i \frac{\alpha \sum_{j \in \mathcal{N}(i)} (T_j - T_i)}{T_i}",
    "thermology-complex": r"\dot S = \sum_i \frac{\alpha \sum_{j \in \mathcal{N}(i)} (T_j - T_i) + Q_i}{T_i}",
}


def assembled_latex(flow: dict, exprs: dict[str, list], aggregators: dict[str, str], v_names: list[str],
                    y_names: list[str]) -> str:
    """'a_x = ... \\\\ a_y = ...': the assembled outputs as one LaTeX string (aligned lines)."""
    raw = raw_aggregate_symbols(v_names)
    out = assembled(flow, exprs, aggregators)
    lines = [f"{sympy.latex(sympy.Symbol(y_names[k]))} = {sympy.latex(e.xreplace(raw))}" for k, e in out.items()]
    return r" \\ ".join(lines)
