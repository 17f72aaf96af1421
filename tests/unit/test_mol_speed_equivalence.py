"""The fast paths of PAR / PACIA / backend.mol give what the plain paths give (to 1e-5 on probabilities):

- one-pass featurisation (backend.mol.flatfeatures) == graph by graph (mol_to_graph), problems included;
- sparse-product aggregation (encoders.Propagation) == the per-edge gather + index_add of pretrain-gnns, values and
  gradients;
- PAR's query-only last round (prediction and the outer loss) == the full relation graph, dropout draws included;
- PACIA's in-place, gather-free pair scoring without autograd == the autograd path.

Tolerances: both paths run here, in one process, on float32 values of order 1; they add the same terms in another
order (a sparse product against gather + index_add), which moves a sum by a few ulps per term: 1e-6 where a few
terms meet, 1e-5 over a molecule's atoms, 1e-4 for gradients summed over a whole batch.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backend.core.data import resolve_data_root
from backend.mol.encoders import GNN, GraphEncoder, mean_pool
from backend.mol.featurise import (NUM_BOND_DIRECTION, NUM_BOND_TYPE, SELF_LOOP_BOND_TYPE, GraphStore,
                                   featurise_many)

DATA = resolve_data_root(None) / "molecules"
needs_data = pytest.mark.skipif(not (DATA / "datasets" / "tasks.csv").is_file(), reason="molecule data not present")

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "F/C=C/F", "C[C@@H](N)O", "C[C@H](N)O", "Cl", "[Na+].[Cl-]", "  CCO ", "CCO",
          "c1ccc2ccccc2c1", "N#CC(=O)N", "", None, "*CC", "C1CC", "N->[Fe]", "CC(=O)Oc1ccccc1C(=O)O", "O=C=O",
          "C1=CC=CN=C1", "CC(C)(C)[Si](C)(C)O", "[2H]C([2H])([2H])O", "CC(=O)O[AlH3](O)O", "C[S@](=O)c1ccccc1"]


def _store_graph_by_graph(smiles):
    """The store as it was built before the one-pass featuriser: featurise_many, then first-seen unique graphs."""
    smiles = [s.strip() if isinstance(s, str) else s for s in smiles]
    graphs, problems = featurise_many(smiles)
    keep, kept, seen = [], [], set()
    for s, g in zip(smiles, graphs):
        if g is not None and s not in seen:
            seen.add(s)
            keep.append(s)
            kept.append(g)
    return GraphStore(keep, kept), problems


def _assert_same_store(a: GraphStore, b: GraphStore):
    assert a.smiles == b.smiles and a.index == b.index
    for name in ("node_ptr", "edge_ptr", "x", "edge_index", "edge_attr"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and torch.equal(x, y), name


def test_one_pass_featurisation_equals_graph_by_graph():
    from backend.mol.flatfeatures import clear_flat_cache

    clear_flat_cache()
    fast, problems = GraphStore.from_smiles(SMILES)
    slow, slow_problems = _store_graph_by_graph(SMILES)
    assert problems == slow_problems and len(problems) == 6      # empty, None, dummy atom, unclosed ring, dative, Al
    _assert_same_store(fast, slow)
    again, _ = GraphStore.from_smiles(SMILES)                    # from the per-SMILES cache
    _assert_same_store(again, slow)


@needs_data
def test_one_pass_featurisation_equals_graph_by_graph_on_tox21():
    import csv

    from backend.core.data import open_text
    from backend.mol.datasets import dataset_path
    from backend.mol.flatfeatures import clear_flat_cache

    with open_text(dataset_path("tox21")) as fh:
        smiles = [r[0] for r in list(csv.reader(fh))[1:]][:1500]
    clear_flat_cache()
    fast, problems = GraphStore.from_smiles(smiles)
    slow, slow_problems = _store_graph_by_graph(smiles)
    assert problems == slow_problems
    _assert_same_store(fast, slow)


# ------------------------------------------------------------------------------------------------ encoders

def _reference_aggregate(conv, kind, h, edge_index, edge_attr):
    """pretrain-gnns' aggregation: self loops, one message per edge gathered, index_add into the target."""
    n = h.shape[0]
    loops = torch.arange(n)
    ei = torch.cat([edge_index, torch.stack([loops, loops])], 1)
    ea = torch.cat([edge_attr, torch.tensor([[SELF_LOOP_BOND_TYPE, 0]]).repeat(n, 1)])
    msg = h[ei[0]] + conv.edge_embedding1(ea[:, 0]) + conv.edge_embedding2(ea[:, 1])
    ones = torch.ones(ei.shape[1])
    if kind == "gcn":
        deg = torch.zeros(n).index_add_(0, ei[0], ones)
        dis = deg.pow(-0.5)
        msg = msg * (dis[ei[0]] * dis[ei[1]]).unsqueeze(-1)
    out = torch.zeros_like(h).index_add_(0, ei[1], msg)
    if kind == "mean":
        out = out / torch.zeros(n).index_add_(0, ei[1], ones).clamp(min=1).unsqueeze(-1)
    return out


def _reference_conv(conv, gnn_type, x, edge_index, edge_attr):
    if gnn_type == "gin":
        return conv.mlp(_reference_aggregate(conv, "sum", x, edge_index, edge_attr))
    if gnn_type == "gcn":
        return _reference_aggregate(conv, "gcn", conv.linear(x), edge_index, edge_attr)
    return F.normalize(_reference_aggregate(conv, "mean", conv.linear(x), edge_index, edge_attr), p=2, dim=-1)


@pytest.mark.parametrize("gnn_type", ["gin", "gcn", "graphsage"])
def test_sparse_aggregation_equals_per_edge_messages(gnn_type):
    torch.manual_seed(0)
    store, _ = GraphStore.from_smiles(SMILES)
    b = store.batch(np.arange(len(store)))
    gnn = GNN(3, 32, gnn_type, drop_ratio=0.0).eval()
    h0 = gnn.input_embedding(b.x).detach().requires_grad_(True)
    ref_h0 = h0.detach().clone().requires_grad_(True)
    h, ref = h0, ref_h0
    for layer in range(gnn.num_layer):
        act = torch.relu if layer < gnn.num_layer - 1 else (lambda v: v)       # no ReLU after the last layer
        h = act(gnn.batch_norms[layer](gnn.gnns[layer](h, b.edge_index, b.edge_attr)))
        ref = act(gnn.batch_norms[layer](_reference_conv(gnn.gnns[layer], gnn_type, ref, b.edge_index,
                                                         b.edge_attr)))
    assert torch.allclose(h, ref, atol=1e-5)
    # the whole encoder (one Propagation shared by the layers) gives the same graph embeddings
    whole = mean_pool(gnn(b.x, b.edge_index, b.edge_attr), b.batch, b.num_graphs)
    assert torch.allclose(whole, mean_pool(ref, b.batch, b.num_graphs), atol=1e-5)
    # gradients into the input and into the bond tables
    weights = torch.randn_like(ref)
    grads = torch.autograd.grad((h * weights).sum(), [h0, gnn.gnns[0].edge_embedding1.weight])
    ref_grads = torch.autograd.grad((ref * weights).sum(), [ref_h0, gnn.gnns[0].edge_embedding1.weight])
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, r, atol=1e-4, rtol=1e-4)
    assert NUM_BOND_TYPE == 6 and NUM_BOND_DIRECTION == 3


# ------------------------------------------------------------------------------------------------ PAR

def _par_head():
    from backend.methods.par.model import PARHead

    torch.manual_seed(0)
    return PARHead(300, 128, 2, 128)


@pytest.mark.parametrize("train", [False, True])
def test_par_query_only_round_equals_the_full_relation_graph(train):
    from backend.methods.par.model import query_loss

    head = _par_head().train(train)
    g_s, g_q = torch.randn(20, 300), torch.randn(16, 300)
    y_s, y_q = torch.tensor([0] * 10 + [1] * 10), torch.randint(0, 2, (16,))
    out = []
    for query_only in (False, True):
        head.zero_grad()
        torch.manual_seed(5)                     # the same dropout draws in both
        logits, sim, adj = head(g_s, y_s, g_q, 10, query_only=query_only)
        loss = query_loss(logits, sim, y_s, y_q)
        loss.backward()
        out.append((loss.detach(), logits[:, -1].detach(), sim[:, -1].detach(), adj[:, -1].detach(),
                    [p.grad.clone() for p in head.parameters()]))
    (l0, lg0, s0, a0, g0), (l1, lg1, s1, a1, g1) = out
    assert torch.allclose(l0, l1, atol=1e-6) and torch.allclose(lg0, lg1, atol=1e-6)
    assert torch.allclose(s0, s1, atol=1e-6) and torch.allclose(a0, a1, atol=1e-6)
    for a, b in zip(g0, g1):
        assert torch.allclose(a, b, atol=1e-6)


def test_par_fast_prediction_equals_the_full_graph_path():
    from backend.methods.par.config import PARConfig
    from backend.methods.par.learner import PAR

    torch.manual_seed(0)
    model = PAR(PARConfig(tune_layers=1), GraphEncoder(GNN(5, 300, "gcn")))
    g_s, g_q = torch.randn(20, 300), torch.randn(300, 300)
    y_s = torch.tensor([0] * 10 + [1] * 10)
    for mask in (None, torch.tensor([True] * 7 + [False] * 3 + [True] * 8 + [False] * 2)):
        fast = model.predict_embeddings(g_s, y_s, g_q, support_mask=mask)
        full, sim, adj = model.predict_embeddings(g_s, y_s, g_q, support_mask=mask, return_graph=True)
        assert sim.shape == (300, 21, 21)
        assert torch.allclose(fast, full, atol=1e-5)


def test_par_embedding_table_equals_the_encoder():
    from backend.methods.par.config import PARConfig
    from backend.methods.par.learner import PAR

    torch.manual_seed(0)
    model = PAR(PARConfig(tune_layers=1), GraphEncoder(GNN(5, 64, "gcn")))
    store, _ = GraphStore.from_smiles(SMILES)
    picks = np.array([3, 0, 3, len(store) - 1, 5])
    got = model.embed_eval(store.subset(picks))
    again = model.embed_eval(store.subset(picks[::-1]))          # from the table
    model.eval()
    with torch.no_grad():
        want = model.encoder(store.batch(picks))
    assert torch.allclose(got, want, atol=1e-6) and torch.allclose(again, want.flip(0), atol=1e-6)


@needs_data
def test_shipped_par_fast_path_equals_the_full_path_on_a_fixed_episode():
    from pathlib import Path

    from backend.mol.episodes import episode_rng, sample_test_episode
    from backend.registry import get_method

    folder = Path(__file__).resolve().parents[2] / "models" / "par" / "tox21-10-shot"
    if not (folder / "card.json").is_file():
        pytest.skip("no shipped checkpoint")
    from backend.mol.datasets import load_dataset

    lm = get_method("par").open(folder)
    data = load_dataset("tox21")
    task = data.test_tasks[0]
    ep = sample_test_episode(task, 10, episode_rng(3, task.task_id), max_query=200)
    g_s = lm.model.embed_eval(data.store.subset(ep.support))
    g_q = lm.model.embed_eval(data.store.subset(ep.query))
    y_s = torch.as_tensor(ep.support_labels)
    fast = lm.model.predict_embeddings(g_s, y_s, g_q)
    full = lm.model.predict_embeddings(g_s, y_s, g_q, return_graph=True)[0]
    assert torch.allclose(fast, full, atol=1e-5)


# ------------------------------------------------------------------------------------------------ PACIA

def test_pacia_in_place_pair_scores_equal_the_autograd_path():
    from backend.methods.pacia.model import QueryPredictor

    torch.manual_seed(0)
    pred = QueryPredictor(300, 128, 5, 10).eval()
    s_emb, q_emb = torch.randn(2, 20, 300), torch.randn(2, 7, 300)
    onehot = F.one_hot(torch.tensor([[0] * 10 + [1] * 10, [1] * 12 + [0] * 8]), 2).float()
    with torch.no_grad():
        fast = pred(s_emb, onehot, q_emb, keep_adj=True)
    with torch.enable_grad():
        slow = pred(s_emb, onehot, q_emb, keep_adj=True)
    assert torch.allclose(fast.scores, slow.scores, atol=1e-5)
    assert torch.allclose(fast.logits.softmax(-1), slow.logits.softmax(-1), atol=1e-5)
    for a, b in zip(fast.adjacency, slow.adjacency):
        assert torch.allclose(a, b, atol=1e-6)
