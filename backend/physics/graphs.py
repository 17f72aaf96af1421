"""GraphSet: a batch of small graphs with node / edge / global inputs and targets, flattened (numpy).

Shapes (S samples, N nodes in all, E directed edges in all):

- ``v`` [N, n_v] node inputs, ``node_sample`` [N] the sample of each node;
- ``edge_index`` [2, E] (row 0: source j, row 1: target i; global node indices; an undirected edge is two directed
  edges), ``e`` [E, n_e] edge inputs (n_e may be 0);
- ``u`` [S, n_u] global inputs (n_u may be 0);
- ``y`` [N, d] (``level == "node"``) or [S, d] (``level == "graph"``) targets;
- ``group`` [S] the graph (topology) each sample was drawn on: splits hold out whole groups;
- ``time`` [S] optional time stamps (dynamic data).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class GraphSet:
    name: str
    v: np.ndarray
    node_sample: np.ndarray
    edge_index: np.ndarray
    e: np.ndarray
    u: np.ndarray
    y: np.ndarray
    level: str
    group: np.ndarray
    v_names: list[str]
    e_names: list[str]
    u_names: list[str]
    y_names: list[str]
    #: node-input columns that form one vector (a position): SR is offered the endpoints' distance for them
    vectors: list[tuple[str, ...]] = field(default_factory=list)
    time: np.ndarray | None = None
    units: dict[str, str] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(len(self.u))

    def subset(self, samples: np.ndarray) -> "GraphSet":
        """The samples ``samples`` (indices, any order kept sorted), re-indexed."""
        keep = np.zeros(self.n_samples, bool)
        keep[np.asarray(samples, int)] = True
        new_sample = np.cumsum(keep) - 1
        node_keep = keep[self.node_sample]
        new_node = np.cumsum(node_keep) - 1
        edge_keep = node_keep[self.edge_index[1]]
        ei = new_node[self.edge_index[:, edge_keep]]
        y = self.y[node_keep] if self.level == "node" else self.y[keep]
        return GraphSet(self.name, self.v[node_keep], new_sample[self.node_sample[node_keep]], ei,
                        self.e[edge_keep], self.u[keep], y, self.level, self.group[keep], self.v_names,
                        self.e_names, self.u_names, self.y_names, self.vectors,
                        None if self.time is None else self.time[keep], self.units)

    def split(self, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> dict[str, "GraphSet"]:
        """train / valid / test holding out whole groups (graphs), shuffled with ``seed``."""
        groups = np.unique(self.group)
        rng = np.random.default_rng(seed)
        groups = groups[rng.permutation(len(groups))]
        n_train = int(round(fractions[0] * len(groups)))
        n_valid = max(1, int(round(fractions[1] * len(groups))))
        parts = {"train": groups[:n_train], "valid": groups[n_train:n_train + n_valid],
                 "test": groups[n_train + n_valid:]}
        return {k: self.subset(np.flatnonzero(np.isin(self.group, g))) for k, g in parts.items()}


def batch_graphs(v_list, edges_list, e_list, u_list, y_list, level, group, names, vectors=(), time=None,
                 units=None, name="custom") -> GraphSet:
    """A GraphSet from per-sample arrays (v [n_s, n_v], edges [2, m_s] local indices, e [m_s, n_e], u [n_u], y)."""
    offsets = np.cumsum([0] + [len(v) for v in v_list])[:-1]
    v = np.concatenate(v_list).astype(float)
    node_sample = np.concatenate([np.full(len(vv), s) for s, vv in enumerate(v_list)])
    edge_index = np.concatenate([np.asarray(ed, int) + o for ed, o in zip(edges_list, offsets)], axis=1)
    n_e = len(names[1])
    e = np.concatenate([np.asarray(x, float).reshape(-1, n_e) for x in e_list]) if n_e else \
        np.zeros((edge_index.shape[1], 0))
    u = np.asarray(u_list, float).reshape(len(v_list), len(names[2]))
    y = np.concatenate(y_list) if level == "node" else np.asarray(y_list, float).reshape(len(v_list), -1)
    return GraphSet(name, v, node_sample, edge_index, e, u, np.asarray(y, float), level, np.asarray(group),
                    list(names[0]), list(names[1]), list(names[2]), list(names[3]), list(vectors), time,
                    dict(units or {}))
