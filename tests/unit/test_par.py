"""PAR: parameter counts, the relation graph, the selective update, a tiny training on a synthetic property, and
the loaded model's verbs (predict / explain / removal test) on a user's table."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from backend.methods.par.config import PARConfig
from backend.methods.par.learner import PAR
from backend.methods.par.model import ADAPTIVE_PREFIXES, PARHead, RelationGraph
from backend.mol.encoders import GNN, GraphEncoder


def test_parameter_counts_match_the_original_code():
    head = PARHead()
    adaptive = sum(p.numel() for n, p in head.named_parameters() if n.startswith(ADAPTIVE_PREFIXES))
    assert adaptive == 380_210                                        # PAR's 0.38M
    model = PAR(PARConfig(encoder="gin", pretrained=False, tune_layers=5), GraphEncoder(GNN(gnn_type="gin")))
    assert model.parameter_counts() == {"total": 2_434_976, "trainable": 2_434_976, "adaptive": 380_210}
    frozen = PAR(PARConfig(tune_layers=1), GraphEncoder(GNN(gnn_type="gcn")))
    counts = frozen.parameter_counts()
    # trainable: the head + the top GCN layer (linear 90,300, bond tables 2,700, batch norm 600)
    assert counts["total"] == 504_900 + 577_076 and counts["trainable"] == 577_076 + 93_600


def test_relation_graph_top_k_and_shared_prefix_is_exact():
    torch.manual_seed(0)
    rel = RelationGraph(16, 16, layers=2).eval()
    support = torch.randn(1, 6, 16).expand(5, -1, -1)
    h = torch.cat([support, torch.randn(5, 1, 16)], dim=1)
    a = rel(h, k=2, shared_prefix=6)
    b = rel(h, k=2, shared_prefix=0)
    for x, y in zip(a, b):
        assert torch.allclose(x, y, atol=1e-6)
    logits, sim, adj = a
    assert logits.shape == (5, 7, 2) and sim.shape == (5, 7, 7)
    assert torch.allclose(sim, sim.transpose(1, 2)) and (sim.diagonal(dim1=1, dim2=2) == 0).all()
    assert ((adj > 0).sum(-1) <= 2).all() and torch.allclose(adj.sum(-1), torch.ones(5, 7))
    # the kept entries of each row are its 2 largest similarities
    top = sim.topk(2, dim=-1).indices
    assert torch.equal((adj > 0), torch.zeros_like(sim, dtype=torch.bool).scatter(-1, top, True))


def test_switched_off_support_molecules_take_no_part():
    torch.manual_seed(1)
    head = PARHead(32, 16, rel_hidden=16).eval()
    g_s, y_s, g_q = torch.randn(6, 32), torch.tensor([0, 0, 0, 1, 1, 1]), torch.randn(3, 32)
    mask = torch.tensor([True, False, True, True, True, False])
    _, _, adj = head(g_s, y_s, g_q, 2, node_mask=mask)
    assert (adj[:, :, 1] == 0).all() and (adj[:, :, 5] == 0).all()


def test_inner_loop_adapts_only_the_property_aware_parts():
    torch.manual_seed(0)
    model = PAR(PARConfig(tune_layers=1, shots=2), GraphEncoder(GNN(2, 32, "gin", 0.0)))
    head = model.head
    g_s, y_s, g_q = torch.randn(4, 32), torch.tensor([0, 0, 1, 1]), torch.randn(3, 32)
    params = model.adapt(g_s, y_s, g_q, 2, create_graph=False)
    assert set(params) == {n for n, _ in head.named_parameters() if n.startswith(ADAPTIVE_PREFIXES)}
    assert "relation.edges.0.net.0.weight" not in params and not any(n.startswith("encoder") for n in params)
    changed = [n for n, p in head.named_parameters() if n in params and not torch.equal(p, params[n])]
    assert changed                                                   # the support loss moved them


# ---------------------------------------------------------------------------------------------- tiny training

GROUPS = {"acid": ("OC(=O)", "C(=O)O"), "amine": ("N", "N"), "hydroxyl": ("O", "O"), "chloro": ("Cl", "Cl"),
          "nitrile": ("N#C", "C#N"), "ketone": ("CC(=O)", "C(=O)C"), "bromo": ("Br", "Br"), "thiol": ("S", "S"),
          "phenyl": ("c1ccccc1", "c1ccccc1"), "amide": ("NC(=O)", "C(=O)N"), "none": ("", "")}
SMARTS = {"acid": "[CX3](=O)[OX2H1]", "amine": "[NX3;H2,H1;!$(NC=O)]", "hydroxyl": "[CX4][OX2H]",
          "chloro": "[Cl]", "nitrile": "C#N", "ketone": "[#6][CX3](=O)[#6]", "bromo": "[Br]", "thiol": "[SX2H]",
          "phenyl": "c1ccccc1", "amide": "C(=O)[NX3]"}


def synthetic_dataset():
    """Molecules group + chain + group, labelled per functional group by RDKit SMARTS: one task per group; the
    carboxylic-acid task is the test task, the others train."""
    from rdkit import Chem

    from backend.mol.datasets import FewShotDataset, Task
    from backend.mol.featurise import GraphStore

    smiles = [a[0] + "C" * n + b[1] for (a, b), n in itertools.product(
        itertools.product(GROUPS.values(), GROUPS.values()), (1, 2, 3, 5)) if a[0] or b[1]]
    store, _ = GraphStore.from_smiles(smiles)
    mols = [Chem.MolFromSmiles(s) for s in store.smiles]
    tasks = []
    for tid, (name, pattern) in enumerate(SMARTS.items()):
        patt = Chem.MolFromSmarts(pattern)
        labels = np.array([int(m.HasSubstructMatch(patt)) for m in mols])
        tasks.append(Task("synthetic", tid, name, "test" if name == "acid" else "train", np.arange(len(mols)), labels))
    return FewShotDataset("synthetic", store.smiles, store, tasks)


@pytest.mark.slow
def test_tiny_training_beats_chance_on_carboxylic_acids():
    from backend.mol.episodes import sample_meta_batch
    from backend.mol.fewshot import evaluate_fewshot

    torch.manual_seed(0)
    data = synthetic_dataset()
    acid = data.test_tasks[0]
    assert 20 < acid.labels.sum() < len(acid.labels) - 20
    config = PARConfig(shots=5, tune_layers=3, map_dim=32, rel_hidden=32, n_query=10, batch_task=4, meta_lr=3e-3)
    model = PAR(config, GraphEncoder(GNN(3, 48, "gin", 0.0)))
    before = evaluate_fewshot(model.predict_episode, data, 5, seeds=range(3), max_query=80)["roc_auc"]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.meta_lr)
    rng = np.random.default_rng(0)
    for _ in range(60):
        model.train()
        eps = sample_meta_batch(data.train_tasks, 5, 10, 4, rng)
        emb = model.embed(data.store, np.concatenate([np.concatenate([e.support, e.query]) for e in eps]))
        losses, a = [], 0
        for e in eps:
            s, q = len(e.support), len(e.query)
            losses.append(model.episode_loss(emb[a:a + s], torch.as_tensor(e.support_labels), emb[a + s:a + s + q],
                                             torch.as_tensor(e.query_labels), 5))
            a += s + q
        opt.zero_grad()
        torch.stack(losses).mean().backward()
        opt.step()
    model.clear_cache()
    after = evaluate_fewshot(model.predict_episode, data, 5, seeds=range(3), max_query=80)
    # deterministic (seeded); measured 0.571 before and 0.700 after on this CPU. A tiny run: float-level changes
    # (e.g. the sparse aggregation's summation order) move the result a lot - over torch seeds 0-3 at 40 steps
    # the old and the new aggregation gave 0.28-0.68 and 0.61-0.66.
    assert after["roc_auc"] > 0.65 and after["roc_auc"] > before + 0.05, (before, after["roc_auc"])


# ---------------------------------------------------------------------------------------------- loaded model

@pytest.fixture(scope="module")
def loaded():
    from backend.core.store import Card
    from backend.methods.par.loaded import LoadedPAR

    torch.manual_seed(0)
    config = PARConfig(shots=2, pretrained=False, encoder="gin", tune_layers=2, map_dim=16, rel_hidden=16)
    model = PAR(config, GraphEncoder(GNN(2, 32, "gin", 0.0))).eval()
    return LoadedPAR(model, Card("par", "tox21", "2-shot"), config)


TABLE = "smiles,label\nCCO,0\nCCCC,0\nCC(=O)O,1\nOC(=O)c1ccccc1,1\nC1CC,1\nCCCC(=O)O,\nCCN,\nc1ccccc1,\n"


def test_predict_a_user_table(loaded):
    frame = loaded.predict({"table": TABLE})
    assert frame["smiles"].tolist() == ["CCCC(=O)O", "CCN", "c1ccccc1"] and frame["row"].tolist() == [7, 8, 9]
    assert ((frame["probability"] >= 0) & (frame["probability"] <= 1)).all()
    assert sorted(frame["rank"]) == [1, 2, 3]
    assert any("row 6" in p and "unclosed ring" in p for p in frame.attrs["problems"])
    again = loaded.predict({"table": TABLE})
    assert np.allclose(frame["probability"], again["probability"])   # deterministic (fixed context seed)


def test_explain_builds_the_relation_graph(loaded):
    ev = loaded.explain({"table": TABLE, "query": "CCN"})
    graph = ev.graph
    assert len(graph.nodes) == 5 and graph.nodes[-1].role == "query"
    assert {n.kind for n in graph.nodes[:4]} == {"support (inactive)", "support (active)"}
    assert graph.edges and all(0 <= e.weight <= 1 for e in graph.edges)
    assert ev.parts_of("molecules")[0].smiles[-1] == "CCN"
    assert 0 <= ev.summary["probability"] <= 1
    p = loaded.predict({"table": TABLE})
    assert ev.summary["probability"] == pytest.approx(float(p.loc[p.smiles == "CCN", "probability"].iloc[0]),
                                                      abs=1e-5)


def test_removal_test_reports_both_changes(loaded):
    r = loaded.removal_test({"table": TABLE}, query_index=0, k=1)
    assert r["k"] == 1 and len(r["removed_most_related"]) == 1
    assert r["probability_without_most_related"] == pytest.approx(r["probability"] + r["change_most_related"])
    assert r["random_changes"] and r["change_random_mean"] is not None


def test_bad_table_is_a_clear_error(loaded):
    with pytest.raises(ValueError, match="labelled 0"):
        loaded.predict({"table": "smiles,label\nCCO,1\nCCN,\n"})
