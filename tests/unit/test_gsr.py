"""GSR: simulator laws, flow complexity and pruning, the regressor, SymPy rendering / export, the graph CSV."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy
import torch

from backend.core.evidence import FormulaPart
from backend.methods.gsr import flows as F
from backend.methods.gsr.formulas import assembled, load_python_module, parse, python_module
from backend.methods.gsr.regress import Features, SymbolicPhi, r2, symbolic_fit
from backend.physics import systems
from backend.physics.graph_csv import EXAMPLE_EDGES, EXAMPLE_NODES, read_graph_csv, read_graph_folder, write_graph_folder


# ------------------------------------------------------------------ simulators against their laws
def test_hooke_forces_of_a_spring_pair_sum_to_zero_and_match_a_hand_computation():
    pos = np.array([[0.0, 0.0], [3.0, 4.0]])                    # distance 5, rest length 1
    f = systems.spring_forces(pos, np.array([2.0]), np.array([[0], [1]]))
    np.testing.assert_allclose(f.sum(0), 0, atol=1e-12)
    np.testing.assert_allclose(f[0], 2.0 * (5 - 1) * np.array([3, 4]) / 5)  # k (r - l0) toward the other end


def test_forces_of_any_spring_system_sum_to_zero():
    rng = np.random.default_rng(1)
    for _ in range(5):
        und = systems.random_topology(rng, 6)
        f = systems.spring_forces(rng.normal(size=(6, 2)), rng.uniform(0.5, 1.5, und.shape[1]), und)
        np.testing.assert_allclose(f.sum(0), 0, atol=1e-12)


def test_resistor_network_power_is_the_sum_over_edges_of_voltage_drop_squared_over_r():
    data = systems.simulate("electricity", seed=3, groups=4, draws=5)
    for s in range(data.n_samples):
        nodes = np.flatnonzero(data.node_sample == s)
        V = data.v[nodes, 0]
        total = 0.0
        for (j, i), R in zip(data.edge_index.T, data.e[:, 0]):   # brute force over directed edges
            if data.node_sample[i] == s and j < i:
                total += (data.v[i, 0] - data.v[j, 0]) ** 2 / R
        assert data.y[s, 0] == pytest.approx(total, rel=1e-12)
        assert len(V) == 5


def test_undamped_spring_system_conserves_energy():
    ex = systems.spring_example(seed=2)
    acc = lambda p: systems.spring_forces(p, ex["k"], ex["edges"]) / ex["mass"][:, None]  # noqa: E731
    pos, vel = systems.integrate_springs(ex["pos0"], ex["vel0"] + 0.3, ex["mass"], acc, dt=0.005, steps=2000)
    energy = systems.spring_energy(pos, vel, ex["mass"], ex["k"], ex["edges"])
    assert np.ptp(energy) / energy[0] < 1e-3
    momentum = (ex["mass"][None, :, None] * vel).sum(1)
    np.testing.assert_allclose(momentum, np.broadcast_to(momentum[0], momentum.shape), atol=1e-10)


@pytest.mark.parametrize("system", list(systems.SYSTEMS))
def test_simulators_are_seeded_and_outputs_follow_the_true_law(system):
    a, b = systems.simulate(system, seed=5, groups=3, draws=4), systems.simulate(system, seed=5, groups=3, draws=4)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_allclose(systems.true_output(a), a.y, rtol=1e-10, atol=1e-10)
    part = a.subset(np.array([1, 5, 7]))
    np.testing.assert_allclose(systems.true_output(part), part.y, rtol=1e-10, atol=1e-10)


def test_centre_of_mass_acceleration_is_zero_in_complex_mechanics():
    d = systems.simulate("mechanics-complex", seed=0, groups=3, draws=3)
    m = d.v[:, 0]
    total = np.zeros((d.n_samples, 2))
    np.add.at(total, d.node_sample, m[:, None] * d.y)
    np.testing.assert_allclose(total, 0, atol=1e-9)


def test_entropy_production_of_a_hand_built_two_node_system():
    T, alpha = np.array([[1.0, 2.0]]), np.array([0.5])
    # Q_0 = 0.5 (2 - 1) = 0.5, Q_1 = -0.5: S = 0.5/1 - 0.5/2 = 0.25
    assert systems.entropy_rate(T, alpha, np.array([[0], [1]]))[0] == pytest.approx(0.25)


# ------------------------------------------------------------------ flows, complexity, pruning
CIRCUIT = F.Dims(n_v=1, n_e=1, n_u=0, out=1, level="graph")


def test_complexity_follows_the_papers_circuit_example_14_8_7_3():
    full = F.full_flow(1, CIRCUIT, width=3)
    assert F.complexity(full) == 14                         # 2x3 + 2x3 + 2x1
    no_node = F.delete_layer(full, 0, "v", CIRCUIT)
    assert F.complexity(no_node) == 8                       # 2x3 + 2x1
    no_v_input = F.delete_input(no_node, 0, "u", "v", CIRCUIT)
    assert F.complexity(no_v_input) == 7                    # 2x3 + 1x1
    assert F.complexity(F.set_width(no_v_input, 0, "e", 1, CIRCUIT)) == 3


def _oracle(true_flow, dims, noise=0.0, seed=0):
    """valid RMSE of a flow: small when it can express the true flow's connections, large otherwise."""
    rng = np.random.default_rng(seed)
    need = {(b, k, i) for b, blk in enumerate(true_flow["blocks"]) for k, s in blk.items() for i in s["inputs"]}
    widths = {(b, k): s["width"] for b, blk in enumerate(true_flow["blocks"]) for k, s in blk.items()}
    memo = {}

    def errors(flows):
        out = []
        for f in flows:
            key = F.canonical(f)
            if key not in memo:
                have = {(b, k, i) for b, blk in enumerate(f["blocks"]) for k, s in blk.items() for i in s["inputs"]}
                ok = need <= have and all(f["blocks"][b][k]["width"] >= w for (b, k), w in widths.items()
                                          if b < len(f["blocks"]) and k in f["blocks"][b])
                memo[key] = (0.05 if ok else 1.2) + noise * rng.random()
            out.append(memo[key])
        return out
    return errors


def test_pruning_finds_the_circuit_flow_and_never_raises_the_score():
    true = F.normalise({"blocks": [{"e": {"inputs": ["v", "e"], "width": 1}, "u": {"inputs": ["e"], "width": 1}}]},
                       CIRCUIT)
    log = []
    found = F.prune_schedule(_oracle(true, CIRCUIT), CIRCUIT, max_blocks=3, width=3, log=log)
    assert F.canonical(found) == F.canonical(true)
    for step in ("layers", "inputs", "widths"):
        accepted = [r for r in log if r["step"] == step and r["accepted"]]
        assert all(r["score"] < r["current_score"] for r in accepted)
        assert all(not r["accepted"] for r in log if r["step"] == step and r["score"] >= r["current_score"])


@pytest.mark.parametrize("seed", range(5))
def test_pruning_never_raises_the_score_with_noisy_errors(seed):
    dims = F.Dims(n_v=3, n_e=1, n_u=0, out=2, level="node")
    true = F.normalise({"blocks": [{"e": {"inputs": ["v", "e"], "width": 2}, "v": {"inputs": ["e", "v"], "width": 2}}]},
                       dims)
    log = []
    found = F.prune_schedule(_oracle(true, dims, noise=0.3, seed=seed), dims, log=log)
    steps = ["layers", "inputs"]
    for step in steps:   # the current score after each accepted move never rises
        current = [r["score"] for r in log if r["step"] == step and r["accepted"]]
        assert current == sorted(current, reverse=True)
    assert F.normalise(found, dims) == found


def test_propose_from_is_the_schedule_replayed():
    true = F.normalise({"blocks": [{"e": {"inputs": ["v", "e"], "width": 1}, "u": {"inputs": ["e"], "width": 1}}]},
                       CIRCUIT)
    errors, seen = _oracle(true, CIRCUIT), {}
    for _ in range(100):
        need = F.propose_from(seen, CIRCUIT, max_blocks=2, width=3)
        if not need:
            break
        for f, e in zip(need, errors(need)):
            seen[F.canonical(f)] = e
    assert not F.propose_from(seen, CIRCUIT, max_blocks=2, width=3)
    assert len(seen) < 30


# ------------------------------------------------------------------ the regressor and SymPy
def test_sparse_regressor_recovers_hookes_law_exactly_on_clean_data():
    from backend.methods.gsr.regress import sparse_fit

    rng = np.random.default_rng(0)
    n = 1500
    dx, dy = rng.normal(size=(2, n))
    k, m = np.exp(rng.normal(0, 0.5, (2, n)))
    r = np.hypot(dx, dy)
    y = 0.7 * k * (dx - dx / r) / m - 0.3 * k * (dy - dy / r) / m + 0.1     # a linear mix of the 2-D force
    expr, score = sparse_fit(np.c_[dx, dy, k, m, r], y, ["Delta_x", "Delta_y", "k", "m_i", "r"], degree=4)
    assert score > 1 - 1e-10
    want = parse("0.7*k*(Delta_x - Delta_x/r)/m_i - 0.3*k*(Delta_y - Delta_y/r)/m_i + 0.1")
    assert float(sympy.simplify(expr - want).subs({s: 1.3 for s in expr.free_symbols})) == pytest.approx(0, abs=1e-6)
    assert len(sympy.Add.make_args(expr)) == 5


@pytest.mark.slow
def test_regressor_recovers_a_planted_formula_on_clean_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, (800, 3))
    y = 2.5 * X[:, 0] * X[:, 1] / X[:, 2]
    expr, score = symbolic_fit(X, y, ["a", "b", "c"], seed=0, generations=60, population=300, max_seconds=20)
    assert score > 0.9999
    assert expr.free_symbols == {sympy.Symbol("a"), sympy.Symbol("b"), sympy.Symbol("c")}
    a, b, c = sympy.symbols("a b c")
    test = {a: 1.3, b: 0.7, c: 1.9}
    assert float(expr.subs(test)) == pytest.approx(2.5 * 1.3 * 0.7 / 1.9, rel=1e-3)


def test_symbolic_phi_constants_are_trainable_and_features_are_pairwise():
    feats = Features(["x_i", "y_i", "x_j", "y_j", "k"], diffs=[("Delta_x", 0, 2)], dists=[("r", [(0, 2), (1, 3)])])
    phi = SymbolicPhi([sympy.sympify("0.5*k*(Delta_x - Delta_x/r)")], feats)
    x = torch.tensor([[0.0, 0.0, 3.0, 4.0, 2.0]], dtype=torch.float64)
    assert float(phi(x)[0, 0]) == pytest.approx(0.5 * 2 * (3 - 3 / 5))
    assert phi.c.numel() == 1
    with torch.no_grad():
        phi.c.fill_(1.0)
    assert float(phi(x)[0, 0]) == pytest.approx(2 * (3 - 3 / 5))


def test_sympy_rendering_and_python_export_round_trip():
    exprs = {"0e": [parse("1.25*(V_i - V_j)**2/R")], "0u": [parse("0.5*E1 + 0.01")]}
    features = {"0e": {"base": ["V_i", "V_j", "R"], "diffs": [], "dists": []}, "0u": {"base": ["E1"]}}
    flow = {"blocks": [{"e": {"inputs": ["v", "e"], "width": 1}, "u": {"inputs": ["e"], "width": 1}}]}
    source = python_module(exprs, features, flow, {"0eu": "sum"}, ["P"])
    ns = load_python_module(source)
    for k in exprs:
        assert [sympy.srepr(e) for e in ns["COMPONENTS"][k]] == [sympy.srepr(e) for e in exprs[k]]
    fn = ns["functions"]()["0e"][0]
    assert fn(1.0, -1.0, 2.0) == pytest.approx(1.25 * 4 / 2)
    part = FormulaPart.from_sympy(exprs["0e"][0], {"V_i": "potential of i", "V_j": "potential of j", "R": "resistance"})
    assert part.to_sympy() == exprs["0e"][0]
    assert part.function()(1.0, -1.0, 2.0) == pytest.approx(2.5)
    assert r"\frac" in part.latex and "V_{i}" in part.latex
    whole = assembled(flow, exprs, {"0eu": "sum"})[0]
    latex = sympy.latex(whole)
    assert r"\sum_{edges}" in latex and "R" in latex


def test_r2_matches_sklearn():
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    assert r2(a, b) == pytest.approx(r2_score(a, b))


# ------------------------------------------------------------------ the graph CSV format
def test_graph_csv_reads_the_example_and_names_bad_rows():
    ok = read_graph_csv(EXAMPLE_NODES, EXAMPLE_EDGES)
    assert ok.problems == [] and ok.data.n_samples == 2 and ok.data.level == "graph"
    assert ok.data.v_names == ["V"] and ok.data.e_names == ["R"] and ok.data.y_names == ["P"]
    nodes = EXAMPLE_NODES + "2,a,1.5,3\n2,b,0.5,3\n2,c,oops,3\n2,b,1,3\n3,a,1,7\n3,b,1,7\n3,c,1,8\n"
    edges = EXAMPLE_EDGES + "0,a,zz,1\n"
    bad = read_graph_csv(nodes, edges)
    text = [str(p) for p in bad.problems]
    assert any(t.startswith("row 10, column in_V") and "oops" in t for t in text), text
    assert any(t.startswith("row 11, column node") for t in text), text          # node b twice in graph 2
    assert any(t.startswith("row 14, column gout_P") for t in text), text        # graph 3 has two P values
    assert any(t.startswith("row 4, column target") and "zz" in t for t in text), text
    assert bad.data.n_samples == 4                                               # graphs 0-3 kept, bad rows dropped


def test_graph_csv_round_trip_of_a_simulated_system(tmp_path):
    data = systems.simulate("mechanics-complex", seed=1, groups=3, draws=2)
    back = read_graph_folder(write_graph_folder(data, tmp_path)).data
    np.testing.assert_allclose(back.y, data.y)
    np.testing.assert_allclose(back.v, data.v)
    assert back.vectors == [("x", "y")] and back.edge_index.shape == data.edge_index.shape
    back.name = "mechanics-complex"
    np.testing.assert_allclose(systems.true_output(back), data.y, atol=1e-12)


# ------------------------------------------------------------------ the pedestrian loader
def test_pedestrian_graphs_from_the_julich_corridor():
    from backend.core.data import resolve_data_root
    from backend.physics.pedestrian import RUNS, fit_social_force, pedestrian_file, pedestrian_graphs, social_force

    if not pedestrian_file("pedestrian-unidirectional").exists():
        pytest.fail(f"pedestrian data missing under {resolve_data_root(None)}")
    data = pedestrian_graphs("pedestrian-unidirectional")
    speed = np.hypot(data.v[:, 2], data.v[:, 3])
    assert 1.2 < np.median(speed) < 1.7                      # the data README: median walking speed 1.48 m/s
    assert (data.v[:, 4] < 0).mean() > 0.9                   # everyone heads for the exit at x = -6
    src, dst = data.edge_index
    d = np.linalg.norm(data.v[src, :2] - data.v[dst, :2], axis=1)
    assert d.max() < 3.0 and (data.node_sample[src] == data.node_sample[dst]).all()
    params = fit_social_force(data)
    assert social_force(params, data).shape == data.y.shape and params[0] > 0.5
    assert set(RUNS) == {"pedestrian-unidirectional", "pedestrian-bidirectional"}
