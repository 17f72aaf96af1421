"""Path subgraphs on hand-made graphs (against brute-force walk enumeration), relation directions, and the model on a
path subgraph against propagation over the whole graph."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.ddi.graph import Graph, brute_force_paths, pair_subgraphs


def edges_of(sub) -> set:
    return set(zip(sub.hop.tolist(), sub.src.tolist(), sub.dst.tolist(), sub.rel.tolist()))


def test_known_path_found_and_nothing_else():
    """0 -r0-> 1 -r1-> 2 -r2-> 3 plus a dead end 1 -r0-> 4 and an unrelated 5 -r1-> 6."""
    facts = np.array([[0, 1, 0], [1, 2, 1], [2, 3, 2], [1, 4, 0], [5, 6, 1]])
    g = Graph(facts, 7, 3)
    fwd, bwd = pair_subgraphs(g, 0, 3)
    got = {(h, s, d, r) for h, s, d, r in edges_of(fwd) if r != g.self_rel}
    assert got == {(1, 0, 1, 0), (2, 1, 2, 1), (3, 2, 3, 2)}          # the path, in order, and nothing else
    assert not ({4, 5, 6} & set(fwd.src.tolist() + fwd.dst.tolist()))
    back = {(h, s, d, r) for h, s, d, r in edges_of(bwd) if r != g.self_rel}
    assert back == {(1, 3, 2, 5), (2, 2, 1, 4), (3, 1, 0, 3)}          # v -> u uses the inverse relations (r + 3)


@pytest.mark.parametrize("seed", range(24))
def test_subgraph_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 9
    facts = np.stack([rng.integers(0, n, 14), rng.integers(0, n, 14), rng.integers(0, 3, 14)], 1)
    g = Graph(facts, n, 3)
    s, o = (int(x) for x in rng.choice(n, 2, replace=False))
    for L in (1, 2, 3):
        fwd, bwd = pair_subgraphs(g, s, o, L)
        assert edges_of(fwd) == brute_force_paths(facts, n, 3, s, o, L)
        assert edges_of(bwd) == brute_force_paths(facts, n, 3, o, s, L)
        assert (bwd.source, bwd.target) == (o, s)
        loops = bwd.eid < 0
        assert (bwd.rel[loops] == g.self_rel).all()
        assert (g.src[bwd.eid[~loops]] == bwd.src[~loops]).all() and (g.rel[bwd.eid[~loops]] == bwd.rel[~loops]).all()


def test_directions_on_an_asymmetric_three_node_graph():
    """drug A -binds-> gene G <-binds- drug B: from A the hops are (A -> G, binds) then (G -> B, inverse binds)."""
    from backend.methods.emergnn.explain import hop_words

    binds = 92
    facts = np.array([[0, 2, binds], [1, 2, binds]])
    g = Graph(facts, 3, 109)
    fwd, _ = pair_subgraphs(g, 0, 1, 2)
    hops = sorted((h, s, d, r) for h, s, d, r in edges_of(fwd) if r != g.self_rel)
    assert hops == [(1, 0, 2, binds), (2, 2, 1, binds + 109)]
    assert hop_words(binds)[0] == "binds" and hop_words(binds + 109) == ("is bound by", "binds", True)


def _dense_reference(model, facts, n, n_rel, u, v, zu, zv):
    """h_{u,v}^(L) by propagating over every edge of the whole graph (nodes reached from u only)."""
    g = Graph(facts, n, n_rel)
    src = np.concatenate([g.src, np.arange(n)])
    dst = np.concatenate([g.dst, np.arange(n)])
    rel = np.concatenate([g.rel, np.full(n, g.self_rel)])
    alpha = model.attention(zu[None], zv[None])[:, 0]
    out = []
    for start, h0 in ((u, zu), (v, zv)):
        h = torch.zeros(n, model.dim)
        h[start] = h0
        reached = np.zeros(n, bool)
        reached[start] = True
        for l in range(model.n_layer):
            live = reached[src]
            s, d, r = (torch.from_numpy(x[live]) for x in (src, dst, rel))
            msg = h[s] * model.rel_emb[l, r] * alpha[l, r].unsqueeze(-1)
            agg = torch.zeros(n, model.dim).index_add_(0, d, msg)
            reached = reached.copy()
            reached[dst[live]] = True
            h = torch.relu(model.W[l](agg)) * torch.from_numpy(reached).float().unsqueeze(-1)
        out.append(h[v if start == u else u])
    return out


@pytest.mark.parametrize("seed", range(4))
def test_model_on_subgraph_equals_whole_graph(seed):
    from backend.methods.emergnn.model import EmerGNN, make_batch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n, n_rel, n_drugs = 12, 4, 5
    facts = np.stack([rng.integers(0, n, 25), rng.integers(0, n, 25), rng.integers(0, n_rel, 25)], 1)
    fps = torch.from_numpy(rng.integers(0, 2, (n_drugs, 16)).astype(np.float32))
    model = EmerGNN(3, 2 * n_rel + 1, fps, n_drugs, dim=8)
    pairs = np.array([[0, 1], [2, 3], [4, 0]])
    batch = make_batch(Graph(facts, n, n_rel), pairs)
    with torch.no_grad():
        logits = model(batch)
        for k, (u, v) in enumerate(pairs):
            zu, zv = model.encoder(fps[u]), model.encoder(fps[v])
            huv, hvu = _dense_reference(model, facts, n, n_rel, int(u), int(v), zu, zv)
            want = model.readout(torch.cat([huv, hvu]))
            assert torch.allclose(logits[k], want, atol=1e-5)


def test_edge_mask_removes_an_edge():
    """Masking an edge in the forward pass equals deleting the fact from the graph."""
    from backend.methods.emergnn.model import EmerGNN, make_batch

    torch.manual_seed(0)
    facts = np.array([[0, 2, 0], [2, 1, 1], [0, 3, 2], [3, 1, 0]])
    fps = torch.eye(4)
    model = EmerGNN(3, 7, fps, 4, dim=6)
    full = make_batch(Graph(facts, 4, 3), np.array([[0, 1]]))
    eid = np.concatenate([s.eid for s in full.subgraphs])
    fact = np.where(eid >= 0, eid % 4, -1)
    mask = torch.from_numpy((fact != 2).astype(np.float32))
    with torch.no_grad():
        masked = model(full, edge_mask=mask)
        removed = model(make_batch(Graph(facts[[0, 1, 3]], 4, 3), np.array([[0, 1]])))
    assert torch.allclose(masked, removed, atol=1e-6)


@pytest.mark.parametrize("features", ["morgan", "embedding"])
def test_grouped_messages_equal_edge_by_edge(features):
    """The fast path (edges grouped by destination and relation, one sparse product) gives the logits and the
    parameter gradients of the edge-by-edge path, also for a pair that no path joins."""
    from backend.methods.emergnn.model import EmerGNN, make_batch

    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    n, n_rel = 30, 5
    facts = np.stack([rng.integers(0, n - 2, 120), rng.integers(0, n - 2, 120), rng.integers(0, n_rel, 120)], 1)
    fps = torch.from_numpy(rng.integers(0, 2, (n, 16)).astype(np.float32))
    model = EmerGNN(4, 2 * n_rel + 1, fps, n, dim=8, features=features)
    pairs = np.array([[0, 1], [2, 3], [4, 0], [5, 5], [n - 1, n - 2]])   # the last two nodes have no edge
    batch = make_batch(Graph(facts, n, n_rel), pairs)
    assert sum(int(g.col.numel()) for g in batch.hops) == batch.n_edges
    grads = []
    for mask in (None, torch.ones(batch.n_edges)):
        model.zero_grad()
        logits = model(batch, edge_mask=mask)
        torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3, 0])).backward()
        grads.append((logits.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (fast, g_fast), (slow, g_slow) = grads
    # float32, same process: the paths only add the same messages in another order (a few ulps per message)
    assert torch.allclose(fast, slow, atol=1e-5)
    assert len(g_fast) == len(g_slow) and all(torch.allclose(a, b, atol=1e-5) for a, b in zip(g_fast, g_slow))
