"""The graph time-series CSV format: your own graph data for GSR, as two tables.

``nodes.csv`` — one row per node of each graph (or time step):

| column | meaning |
|---|---|
| ``graph`` | graph id or time stamp: all rows with the same value form one sample (required) |
| ``node`` | node id inside that graph (required; unique per graph) |
| ``in_<name>`` | a node input, e.g. ``in_m``, ``in_x``, ``in_y`` (numbers; at least one) |
| ``out_<name>`` | a node target to explain, e.g. ``out_ax``, ``out_ay`` (numbers) — or: |
| ``gout_<name>`` | a graph target (same value on every row of the graph), e.g. ``gout_P`` |
| ``gin_<name>`` | a global input (same value on every row of the graph), optional |
| ``group`` | optional: samples of one group are kept in the same split (default: each graph its own group) |

``edges.csv`` — one row per undirected edge: ``graph`` (the graph it belongs to; ``*`` = every graph), ``source``,
``target`` (node ids) and optional ``in_<name>`` edge inputs (e.g. ``in_k``). Position columns named ``x, y``
(or ``x, y, z``) are treated as one vector (the distance between two nodes is offered to the regression).

Every bad row is reported by its line number and column (a non-number, a duplicate node, an edge to an unknown
node, a graph whose global values disagree, a node without its target); the valid rows are kept.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from backend.core.tables import Column, Problem, read_table
from backend.physics.graphs import GraphSet, batch_graphs

EXAMPLE_NODES = """graph,node,in_V,gout_P
0,a,0.5,2.25
0,b,-1.0,2.25
0,c,0.0,2.25
1,a,1.0,1.0
1,b,0.0,1.0
1,c,0.0,1.0
"""
EXAMPLE_EDGES = """graph,source,target,in_R
*,a,b,1.0
*,b,c,2.0
"""


@dataclass
class GraphCSV:
    data: GraphSet | None
    problems: list[Problem] = field(default_factory=list)
    node_rows: int = 0
    edge_rows: int = 0
    graphs_dropped: list[str] = field(default_factory=list)

    def messages(self, limit: int = 30) -> list[str]:
        out = [f"{p.column and ''}{p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            out.append(f"… and {len(self.problems) - limit} more problems")
        return out


def _header(source) -> list[str]:
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else (
        Path(source).read_text() if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                                                   and Path(source).exists()) else source)
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    sep = "\t" if "\t" in first else ","
    return [h.strip() for h in first.split(sep)]


def _numbers(table, cols: list[str], what: str) -> tuple[pd.DataFrame, list[Problem]]:
    problems = []
    frame = table.rows
    for c in cols:
        num = pd.to_numeric(frame[c], errors="coerce")
        for r, v, x in zip(frame["row"], frame[c], num):
            if not np.isfinite(x):
                problems.append(Problem(int(r), c, str(v), f"{what} {c!r} is not a number"))
    bad = {p.row for p in problems}
    kept = frame[~frame["row"].isin(bad)].copy()
    for c in cols:
        kept[c] = pd.to_numeric(kept[c])
    return kept, problems


def read_graph_csv(nodes, edges, name: str = "custom") -> GraphCSV:
    """Both tables (paths, bytes or text) -> GraphSet + problems. ValueError when a table as a whole is unusable
    (no graph / node column, no input or no target column)."""
    head = _header(nodes)
    low = {h.lower(): h for h in head}
    ins = [h for h in head if h.lower().startswith("in_")]
    outs = [h for h in head if h.lower().startswith("out_")]
    gouts = [h for h in head if h.lower().startswith("gout_")]
    gins = [h for h in head if h.lower().startswith("gin_")]
    if not ins:
        raise ValueError("nodes table: no input column (name inputs in_<name>, e.g. in_x)")
    if not outs and not gouts:
        raise ValueError("nodes table: no target column (out_<name> for node targets, gout_<name> for graph ones)")
    if outs and gouts:
        raise ValueError("nodes table: give node targets (out_*) or graph targets (gout_*), not both")
    cols = [Column("graph"), Column("node")] + [Column(h.lower()) for h in ins + outs + gouts + gins] + \
        ([Column("group", required=False)] if "group" in low else [])
    table = read_table(nodes, cols)
    table.rows = table.rows.rename(columns={c.name: low.get(c.name, c.name) for c in cols})
    frame, problems = _numbers(table, ins + outs + gouts + gins, "value of")
    problems = list(table.problems) + problems
    dup = frame.duplicated(["graph", "node"], keep="first")
    problems += [Problem(int(r), "node", str(n), f"node {n!r} appears twice in graph {g!r}")
                 for r, g, n in zip(frame["row"][dup], frame["graph"][dup], frame["node"][dup])]
    frame = frame[~dup]
    # graph-level values must agree within a graph
    for c in gouts + gins:
        first = frame.groupby("graph")[c].transform("first")
        off = ~np.isclose(frame[c], first)
        problems += [Problem(int(r), c, str(v), f"graph {g!r} has another {c} on an earlier row ({f})")
                     for r, v, g, f in zip(frame["row"][off], frame[c][off], frame["graph"][off], first[off])]
        frame = frame[~off]
    e_head = _header(edges)
    e_ins = [h for h in e_head if h.lower().startswith("in_")]
    etable = read_table(edges, [Column("graph"), Column("source"), Column("target")] + [Column(h.lower()) for h in e_ins])
    etable.rows = etable.rows.rename(columns={h.lower(): h for h in e_ins})
    eframe, eprob = _numbers(etable, e_ins, "value of")
    problems += list(etable.problems) + eprob
    known = {(str(g), str(n)) for g, n in zip(frame["graph"], frame["node"])}
    nodes_any = {str(n) for n in frame["node"]}
    ok = []
    for r, g, s, t in zip(eframe["row"], eframe["graph"], eframe["source"], eframe["target"]):
        for end, col in ((s, "source"), (t, "target")):
            if (g == "*" and str(end) not in nodes_any) or (g != "*" and (str(g), str(end)) not in known):
                problems.append(Problem(int(r), col, str(end), f"edge names node {end!r}, not a node of graph {g!r}"))
                break
        else:
            if s == t:
                problems.append(Problem(int(r), "target", str(t), "an edge from a node to itself"))
            else:
                ok.append(r)
    eframe = eframe[eframe["row"].isin(ok)]
    v_list, e_list, ed_list, u_list, y_list, groups, dropped = [], [], [], [], [], [], []
    for g, part in frame.groupby("graph", sort=False):
        ids = {str(n): k for k, n in enumerate(part["node"])}
        mine = eframe[(eframe["graph"] == g) | (eframe["graph"] == "*")]
        mine = mine[mine["source"].astype(str).isin(ids) & mine["target"].astype(str).isin(ids)]
        if mine.empty:
            dropped.append(str(g))
            continue
        s = np.array([ids[str(x)] for x in mine["source"]]); t = np.array([ids[str(x)] for x in mine["target"]])
        und = np.stack([s, t])
        v_list.append(part[ins].to_numpy(float))
        ed_list.append(np.concatenate([und, und[::-1]], 1))
        ev = mine[e_ins].to_numpy(float)
        e_list.append(np.concatenate([ev, ev]) if e_ins else np.zeros((2 * len(s), 0)))
        u_list.append(part[gins].iloc[0].to_numpy(float) if gins else [])
        y_list.append(part[outs].to_numpy(float) if outs else part[gouts].iloc[0].to_numpy(float))
        groups.append(str(part["group"].iloc[0]) if "group" in part else str(g))
    if not v_list:
        return GraphCSV(None, sorted(problems, key=lambda p: p.row), table.data_rows, etable.data_rows, dropped)
    strip = lambda cs, p: [c[len(p):] for c in cs]  # noqa: E731
    vn = strip(ins, "in_")
    vectors = [tuple(v for v in ("x", "y", "z") if v in vn)] if {"x", "y"} <= set(vn) else []
    _, group_ids = np.unique(np.array(groups), return_inverse=True)
    data = batch_graphs(v_list, ed_list, e_list, u_list, y_list, "node" if outs else "graph", group_ids,
                        (vn, strip(e_ins, "in_"), strip(gins, "gin_"), strip(outs, "out_") or strip(gouts, "gout_")),
                        vectors, name=name)
    return GraphCSV(data, sorted(problems, key=lambda p: p.row), table.data_rows, etable.data_rows, dropped)


def write_graph_folder(data: GraphSet, folder) -> Path:
    """``data`` as nodes.csv + edges.csv in ``folder`` (the format above)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nodes = pd.DataFrame({"graph": data.node_sample,
                          "node": np.arange(len(data.v)) - np.searchsorted(data.node_sample, data.node_sample)})
    for k, n in enumerate(data.v_names):
        nodes[f"in_{n}"] = data.v[:, k]
    for k, n in enumerate(data.u_names):
        nodes[f"gin_{n}"] = data.u[data.node_sample, k]
    for k, n in enumerate(data.y_names):
        nodes[("out_" if data.level == "node" else "gout_") + n] = (
            data.y[:, k] if data.level == "node" else data.y[data.node_sample, k])
    nodes["group"] = data.group[data.node_sample]
    src, dst = data.edge_index
    first = np.searchsorted(data.node_sample, data.node_sample)
    keep = src < dst  # one row per undirected edge
    edges = pd.DataFrame({"graph": data.node_sample[src[keep]], "source": src[keep] - first[src[keep]],
                          "target": dst[keep] - first[dst[keep]]})
    for k, n in enumerate(data.e_names):
        edges[f"in_{n}"] = data.e[keep, k]
    nodes.to_csv(folder / "nodes.csv", index=False)
    edges.to_csv(folder / "edges.csv", index=False)
    return folder


def read_graph_folder(folder) -> GraphCSV:
    folder = Path(folder)
    return read_graph_csv(folder / "nodes.csv", folder / "edges.csv", name=folder.name)
