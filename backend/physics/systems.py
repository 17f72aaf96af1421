"""Seeded simulators of GSR's five synthetic systems (Shi et al., ICLR 2023, Appendix A.1 / Table 3) and their laws.

Every simulator is deterministic in its ``seed`` and returns a :class:`GraphSet` of static input -> output samples
(the paper's tasks): ``groups`` random graphs, ``draws`` input draws on each. The ground-truth component laws are
also given as SymPy expressions (:data:`TRUE_LAWS`) for the page and the tests.

Choices the paper leaves open (documented in models/gsr/README.md): edge probability 0.5 (at least one edge),
masses and spring constants lognormal(0, 0.5) (wide enough that a flow ignoring them loses accuracy), external heat N(0, 1), and temperatures U(0.5, 1.5)
instead of the paper's U(0, 1) (1/T near T = 0 makes the output heavy-tailed, the pitfall gsr.md names).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.physics.graphs import GraphSet, batch_graphs

L0 = 1.0  # spring rest length


def random_topology(rng: np.random.Generator, n: int, p: float = 0.5) -> np.ndarray:
    """[2, m] undirected edges (i < j) of an Erdős–Rényi graph G(n, p) with at least one edge."""
    while True:
        iu = np.triu_indices(n, 1)
        keep = rng.random(len(iu[0])) < p
        if keep.any():
            return np.stack([iu[0][keep], iu[1][keep]])


def grid_topology(rows: int = 3, cols: int = 3) -> np.ndarray:
    """[2, m] undirected edges of a rows x cols grid."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    right = np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    down = np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    return np.concatenate([right, down], axis=1)


def directed(und: np.ndarray) -> np.ndarray:
    """[2, 2m]: both directions of each undirected edge (row 0 source j, row 1 target i)."""
    return np.concatenate([und, und[::-1]], axis=1)


# ----------------------------------------------------------------------------------------------
# the laws, vectorised
# ----------------------------------------------------------------------------------------------

def spring_forces(pos: np.ndarray, k: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Hooke forces on each node: pos [..., n, 2], k [..., m] per undirected edge, edges [2, m] -> [..., n, 2].

    f_ji (on i from j) = k (d - l0 d / |d|), d = x_j - x_i; node i gets the sum over its springs."""
    i, j = edges
    d = pos[..., j, :] - pos[..., i, :]
    r = np.linalg.norm(d, axis=-1, keepdims=True)
    f = k[..., None] * (d - L0 * d / r)                       # force on i from j
    out = np.zeros_like(pos)
    np.add.at(out, (Ellipsis, i, slice(None)), f)
    np.add.at(out, (Ellipsis, j, slice(None)), -f)
    return out


def spring_energy(pos: np.ndarray, vel: np.ndarray, m: np.ndarray, k: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Kinetic + spring energy: pos, vel [..., n, 2], m [..., n], k [..., m] -> [...]."""
    i, j = edges
    r = np.linalg.norm(pos[..., j, :] - pos[..., i, :], axis=-1)
    return 0.5 * (m * (vel ** 2).sum(-1)).sum(-1) + 0.5 * (k * (r - L0) ** 2).sum(-1)


def circuit_power(V: np.ndarray, R: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Joule power of a resistor network: V [..., n], R [..., m] -> [...] = sum over edges (V_i - V_j)^2 / R."""
    i, j = edges
    return ((V[..., i] - V[..., j]) ** 2 / R).sum(-1)


def heat_inflow(T: np.ndarray, alpha: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Q_i = alpha sum_{j in N(i)} (T_j - T_i): T [S, n], alpha [S] -> [S, n]."""
    i, j = edges
    flow = alpha[:, None] * (T[:, j] - T[:, i])               # into i from j
    Q = np.zeros_like(T)
    np.add.at(Q.T, i, flow.T)
    np.add.at(Q.T, j, -flow.T)
    return Q


def entropy_rate(T: np.ndarray, alpha: np.ndarray, edges: np.ndarray, Q_ext: np.ndarray | None = None) -> np.ndarray:
    """S_dot = sum_i Q_i / T_i (Clausius), Q_i = Fourier inflow (+ external heat): [S]."""
    Q = heat_inflow(T, alpha, edges) + (0 if Q_ext is None else Q_ext)
    return (Q / T).sum(-1)


# ----------------------------------------------------------------------------------------------
# the systems
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SystemInfo:
    name: str              # catalog name, also models/gsr/<name>/
    title: str
    dataset: str           # card dataset / setting (as in backend/core/references.py)
    setting: str
    groups: int
    draws: int
    nodes: int
    description: str


SYSTEMS: dict[str, SystemInfo] = {s.name: s for s in (
    SystemInfo("mechanics-simple", "Springs (simple mechanics)", "mechanics", "simple", 100, 50, 5,
               "Particles joined by springs (rest length 1); the acceleration of each particle."),
    SystemInfo("mechanics-complex", "Springs with external forces (complex mechanics)", "mechanics", "complex", 100,
               50, 5, "Springs plus an external force on each particle; the acceleration relative to the centre "
               "of mass."),
    SystemInfo("electricity", "Resistor network (electricity)", "electricity", "default", 100, 50, 5,
               "Node potentials and edge resistances; the total Joule power dissipated."),
    SystemInfo("thermology-simple", "Heat conduction on a grid (simple thermology)", "thermology", "simple", 50, 100,
               9, "Temperatures on a 3 x 3 grid and one conductivity; the total entropy production rate."),
    SystemInfo("thermology-complex", "Heat conduction with external heat (complex thermology)", "thermology",
               "complex", 50, 100, 9, "Temperatures, external heat per node and one conductivity; the total "
               "entropy production rate."),
)}


def simulate(system: str, seed: int = 0, groups: int | None = None, draws: int | None = None) -> GraphSet:
    """The samples of ``system`` (a key of :data:`SYSTEMS`), deterministic in ``seed``."""
    info = SYSTEMS[system]
    G, D, n = groups or info.groups, draws or info.draws, info.nodes
    rng = np.random.default_rng([seed, list(SYSTEMS).index(system)])
    v_list, edges_list, e_list, u_list, y_list, group = [], [], [], [], [], []
    grid = grid_topology()
    for g in range(G):
        und = grid if system.startswith("thermology") else random_topology(rng, n)
        m = und.shape[1]
        ed = directed(und)
        if system.startswith("mechanics"):
            mass = np.exp(rng.normal(0, 0.5, (D, n)))
            pos = rng.normal(0, 1, (D, n, 2))
            k = np.broadcast_to(np.exp(rng.normal(0, 0.5, m)), (D, m)).copy()
            F = spring_forces(pos, k, und)
            v = np.concatenate([mass[..., None], pos], -1)
            if system == "mechanics-complex":
                f_ext = rng.normal(0, 1, (D, n, 2))
                a = (F + f_ext) / mass[..., None] - f_ext.sum(1, keepdims=True) / mass.sum(1)[:, None, None]
                v = np.concatenate([v, f_ext], -1)
            else:
                a = F / mass[..., None]
            e = np.concatenate([k, k], 1)[..., None]
            for d in range(D):
                v_list.append(v[d]); edges_list.append(ed); e_list.append(e[d]); u_list.append([]); y_list.append(a[d])
        elif system == "electricity":
            V = rng.normal(0, 1, (D, n))
            R = np.broadcast_to(rng.uniform(0.01, 1.01, m), (D, m)).copy()
            P = circuit_power(V, R, und)
            e = np.concatenate([R, R], 1)[..., None]
            for d in range(D):
                v_list.append(V[d][:, None]); edges_list.append(ed); e_list.append(e[d]); u_list.append([])
                y_list.append([P[d]])
        else:
            alpha = np.full(D, rng.uniform(1, 3))
            T = rng.uniform(0.5, 1.5, (D, n))
            if system == "thermology-complex":
                Q_ext = rng.normal(0, 1, (D, n))
                S = entropy_rate(T, alpha, und, Q_ext)
                v = np.stack([T, Q_ext], -1)
            else:
                S = entropy_rate(T, alpha, und)
                v = T[..., None]
            for d in range(D):
                v_list.append(v[d]); edges_list.append(ed); e_list.append(np.zeros((ed.shape[1], 0)))
                u_list.append([alpha[d]]); y_list.append([S[d]])
        group += [g] * D
    if system.startswith("mechanics"):
        vn = ["m", "x", "y"] + (["fx", "fy"] if system == "mechanics-complex" else [])
        names = (vn, ["k"], [], ["ax", "ay"])
        units = {"m": "kg", "x": "m", "y": "m", "fx": "N", "fy": "N", "k": "N/m", "ax": "m/s²", "ay": "m/s²"}
        return batch_graphs(v_list, edges_list, e_list, u_list, y_list, "node", group, names, [("x", "y")],
                            units=units, name=system)
    if system == "electricity":
        return batch_graphs(v_list, edges_list, e_list, u_list, y_list, "graph", group,
                            (["V"], ["R"], [], ["P"]), units={"V": "V", "R": "Ω", "P": "W"}, name=system)
    vn = ["T"] + (["Q"] if system == "thermology-complex" else [])
    return batch_graphs(v_list, edges_list, e_list, u_list, y_list, "graph", group, (vn, [], ["alpha"], ["S"]),
                        units={"T": "K", "Q": "W", "alpha": "W/K", "S": "W/K"}, name=system)


def true_laws(system: str) -> dict[str, str]:
    """The ground-truth formula of each system as SymPy-parsable text, by what it gives (gsr.md 2.2).

    Sums run over the neighbours j of node i (``Sum_j``), or over nodes / edges of the graph."""
    return {
        "mechanics-simple": {"a_i": "Sum_j(k_ij*(Delta_x_ij - Delta_x_ij/r_ij))/m_i"},
        "mechanics-complex": {"a_i": "(Sum_j(k_ij*(Delta_x_ij - Delta_x_ij/r_ij)) + f_i)/m_i - Sum_k(f_k)/Sum_k(m_k)"},
        "electricity": {"P": "Sum_ij((V_i - V_j)**2/R_ij)"},
        "thermology-simple": {"S": "Sum_i(alpha*Sum_j(T_j - T_i)/T_i)"},
        "thermology-complex": {"S": "Sum_i((alpha*Sum_j(T_j - T_i) + Q_i)/T_i)"},
    }[system]


def true_output(data: GraphSet) -> np.ndarray:
    """The ground-truth output of ``data`` recomputed from its inputs (for any subset): node [N, d] or graph [S, d]."""
    system = data.name
    src, dst = data.edge_index
    if system.startswith("mechanics"):
        d = data.v[src, 1:3] - data.v[dst, 1:3]
        r = np.linalg.norm(d, axis=1, keepdims=True)
        f = data.e[:, :1] * (d - L0 * d / r)
        F = np.zeros((len(data.v), 2))
        np.add.at(F, dst, f)
        m = data.v[:, :1]
        if system == "mechanics-simple":
            return F / m
        fe = data.v[:, 3:5]
        S = data.n_samples
        fe_tot = np.zeros((S, 2)); np.add.at(fe_tot, data.node_sample, fe)
        m_tot = np.zeros(S); np.add.at(m_tot, data.node_sample, m[:, 0])
        return (F + fe) / m - (fe_tot / m_tot[:, None])[data.node_sample]
    if system == "electricity":
        p = (data.v[dst, 0] - data.v[src, 0]) ** 2 / data.e[:, 0] / 2  # each undirected edge appears twice
        out = np.zeros(data.n_samples); np.add.at(out, data.node_sample[dst], p)
        return out[:, None]
    T = data.v[:, 0]
    alpha = data.u[data.node_sample, 0]
    Q = np.zeros(len(T)); np.add.at(Q, dst, alpha[dst] * (T[src] - T[dst]))
    if system == "thermology-complex":
        Q = Q + data.v[:, 1]
    out = np.zeros(data.n_samples); np.add.at(out, data.node_sample, Q / T)
    return out[:, None]


# ----------------------------------------------------------------------------------------------
# a dynamic spring system (time integration)
# ----------------------------------------------------------------------------------------------

def integrate_springs(pos0: np.ndarray, vel0: np.ndarray, mass: np.ndarray, accel, dt: float = 0.01,
                      steps: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Velocity Verlet: pos0, vel0 [n, 2], accel(pos [n, 2]) -> [n, 2]. Returns positions and velocities
    [steps + 1, n, 2]. Symplectic, so an undamped spring system's energy stays within O(dt²)."""
    pos, vel = [pos0.astype(float)], [vel0.astype(float)]
    a = accel(pos[0])
    for _ in range(steps):
        p = pos[-1] + dt * vel[-1] + 0.5 * dt * dt * a
        a_new = accel(p)
        vel.append(vel[-1] + 0.5 * dt * (a + a_new))
        pos.append(p)
        a = a_new
    return np.stack(pos), np.stack(vel)


def spring_example(seed: int = 0, n: int = 5) -> dict:
    """One spring system for the page's trajectory: masses, springs, start positions (at rest)."""
    rng = np.random.default_rng([seed, 99])
    und = random_topology(rng, n, 0.6)
    return {"mass": np.exp(rng.normal(0, 0.25, n)), "pos0": rng.normal(0, 1, (n, 2)), "vel0": np.zeros((n, 2)),
            "k": rng.uniform(0.5, 1.5, und.shape[1]), "edges": und}
