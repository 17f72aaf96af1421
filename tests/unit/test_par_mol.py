"""backend/mol (shared by PAR and PACIA): featurisation, packed batching, encoders and the shipped pretrain-gnns
weights, datasets and task split, episodes, the evaluation protocol, and the validation of a user's table."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from backend.core.data import resolve_data_root
from backend.mol.featurise import GraphStore, InvalidSmiles, parse_smiles, smiles_to_graph

DATA = resolve_data_root(None) / "molecules"
needs_data = pytest.mark.skipif(not (DATA / "datasets" / "tasks.csv").is_file(), reason="molecule data not present")
needs_weights = pytest.mark.skipif(not (DATA / "pretrain_gnns").is_dir(), reason="pretrain-gnns weights not present")


# ---------------------------------------------------------------------------------------------- featurisation

def test_aspirin_atoms_bonds_and_features():
    g = smiles_to_graph("CC(=O)Oc1ccccc1C(=O)O")
    assert g.x.shape == (13, 2) and g.edge_index.shape == (2, 26) and g.edge_attr.shape == (26, 2)
    assert g.x[:4].tolist() == [[5, 0], [5, 0], [7, 0], [7, 0]]           # C, C, O, O (atomic number - 1)
    # both directions of each bond, consecutively
    assert g.edge_index[:, 0].tolist() == [0, 1] and g.edge_index[:, 1].tolist() == [1, 0]
    types = g.edge_attr[:, 0].tolist()
    assert types.count(3) == 12 and types.count(1) == 4 and types.count(0) == 10   # 6 aromatic, 2 double, 5 single
    assert (g.edge_attr[:, 1] == 0).all()


def test_bond_direction_and_chirality():
    g = smiles_to_graph("F/C=C/F")
    assert g.edge_attr[:, 1].tolist() == [1, 1, 0, 0, 1, 1]
    assert g.edge_attr[:, 0].tolist() == [0, 0, 1, 1, 0, 0]
    cw = smiles_to_graph("C[C@@H](N)O").x[1, 1].item()
    ccw = smiles_to_graph("C[C@H](N)O").x[1, 1].item()
    assert {cw, ccw} == {1, 2}
    assert smiles_to_graph("Cl").x.tolist() == [[16, 0]]


def test_molecule_without_bonds():
    g = smiles_to_graph("[Na+].[Cl-]")
    assert g.x[:, 0].tolist() == [10, 16] and g.edge_index.shape == (2, 0) and g.edge_attr.shape == (0, 2)


@pytest.mark.parametrize("smiles, words", [("CC(=O)O[AlH3](O)O", "valence"), ("C1CC", "unclosed ring"),
                                           ("c1cccc1", "kekulize"), ("CX", "syntax error"), ("", "empty")])
def test_invalid_smiles_reason(smiles, words):
    mol, reason = parse_smiles(smiles)
    assert mol is None and words.lower() in reason.lower()
    with pytest.raises(InvalidSmiles) as info:
        smiles_to_graph(smiles)
    assert words.lower() in info.value.reason.lower()


def test_dummy_atom_outside_vocabulary():
    with pytest.raises(InvalidSmiles, match="dummy atom"):
        smiles_to_graph("*CC")


def test_store_batch_equals_pyg_batching():
    from torch_geometric.data import Batch

    smiles = ["CCO", "c1ccccc1", "[Na+].[Cl-]", "CC(=O)Oc1ccccc1C(=O)O", "C1CC", "CCO", "F/C=C/F"]
    store, problems = GraphStore.from_smiles(smiles)
    assert [p[0] for p in problems] == [4] and len(store) == 5          # one invalid, one duplicate
    idx = [3, 0, 2, 3, 1, 4]
    ours = store.batch(idx)
    ref = Batch.from_data_list([store.graph(i) for i in idx])
    assert torch.equal(ours.x, ref.x) and torch.equal(ours.edge_index, ref.edge_index)
    assert torch.equal(ours.edge_attr, ref.edge_attr) and torch.equal(ours.batch, ref.batch)
    assert ours.num_graphs == 6 and torch.equal(store.x[ours.node_ids], ours.x)


# ---------------------------------------------------------------------------------------------- encoders

def _dense_gcn_layer(conv, x, g):
    """Brute force: out_i = sum_j d_i^-1/2 d_j^-1/2 (W h_j + b + e_ji) over neighbours and the self loop."""
    n = x.shape[0]
    h = conv.linear(x)
    out = torch.zeros_like(h)
    src = g.edge_index[0].tolist() + list(range(n))
    dst = g.edge_index[1].tolist() + list(range(n))
    attrs = g.edge_attr.tolist() + [[4, 0]] * n
    deg = [sum(1 for s in src if s == i) for i in range(n)]
    for s, d, a in zip(src, dst, attrs):
        e = conv.edge_embedding1.weight[a[0]] + conv.edge_embedding2.weight[a[1]]
        out[d] += (h[s] + e) / (deg[s] ** 0.5 * deg[d] ** 0.5)
    return out


def test_gcn_layer_matches_brute_force():
    from backend.mol.encoders import GCNConv

    torch.manual_seed(0)
    g = smiles_to_graph("CC(=O)Oc1ccccc1C(=O)O")
    conv = GCNConv(16)
    x = torch.randn(13, 16)
    assert torch.allclose(conv(x, g.edge_index, g.edge_attr), _dense_gcn_layer(conv, x, g), atol=1e-5)


def test_parameter_counts_match_the_reference_notes():
    from backend.mol.encoders import GNN, count_parameters

    assert count_parameters(GNN(gnn_type="gin")) == 1_857_900
    assert count_parameters(GNN(gnn_type="gcn")) == 504_900
    assert count_parameters(GNN(gnn_type="graphsage")) == 504_900
    assert count_parameters(GNN(gnn_type="gat")) == 977_400


@needs_weights
@pytest.mark.parametrize("name", ["gcn_contextpred", "gcn_supervised", "gcn_supervised_contextpred",
                                  "graphsage_contextpred", "graphsage_supervised", "graphsage_supervised_contextpred",
                                  "gat_contextpred", "gat_supervised", "gat_supervised_contextpred"])
def test_shipped_weights_load_strictly(name):
    from backend.mol.encoders import GraphEncoder, load_pretrained, pretrained_path

    gnn = load_pretrained(name)                   # load_state_dict(strict=True) inside
    state = torch.load(pretrained_path(name), map_location="cpu", weights_only=True)
    own = gnn.state_dict()
    assert set(own) == set(state) and all(own[k].shape == state[k].shape for k in state)
    assert all(torch.equal(own[k], state[k]) for k in state)
    store, _ = GraphStore.from_smiles(["CC(=O)Oc1ccccc1C(=O)O", "[Na+].[Cl-]"])
    with torch.no_grad():
        out = GraphEncoder(gnn).eval()(store.batch([0, 1]))
    assert out.shape == (2, 300) and torch.isfinite(out).all()


@needs_weights
def test_strict_loading_notices_a_missing_key():
    from backend.mol.encoders import GNN, pretrained_path

    state = torch.load(pretrained_path("gcn"), map_location="cpu", weights_only=True)
    state.pop("gnns.0.linear.bias")
    with pytest.raises(RuntimeError, match="Missing key"):
        GNN(gnn_type="gcn").load_state_dict(state, strict=True)


def test_gin_weights_are_reported_missing():
    from backend.core.data import DataMissingError
    from backend.mol.encoders import load_pretrained

    with pytest.raises(DataMissingError, match="GIN"):
        load_pretrained("gin_supervised_contextpred")


# ---------------------------------------------------------------------------------------------- datasets, episodes

@needs_data
def test_tox21_task_split_and_counts():
    from backend.mol.datasets import load_dataset, read_task_table

    d = load_dataset("tox21")
    assert len(d.tasks) == 12 and [t.task_id for t in d.train_tasks] == list(range(9))
    assert [t.name for t in d.test_tasks] == ["SR-HSE", "SR-MMP", "SR-p53"]
    assert [t.name for t in d.val_tasks] == ["SR-ATAD5"]
    assert not {t.task_id for t in d.val_tasks} & {t.task_id for t in d.meta_train_tasks}
    assert len(d.invalid) == 8 and all("[AlH3]" in s for _, s, _ in d.invalid)
    assert len(d.smiles) == 7831 - 8
    table = {r["task_id"]: r for r in read_task_table() if r["dataset"] == "tox21"}
    for t in d.tasks:
        r = table[t.task_id]
        assert len(t.labels) + t.n_invalid == r["n_neg"] + r["n_pos"]
        assert t.n_invalid == r["n_invalid_smiles"]
        assert abs(int(t.labels.sum()) - r["n_pos"]) <= r["n_invalid_smiles"]


@needs_data
def test_sider_split():
    from backend.mol.datasets import load_dataset

    d = load_dataset("sider")
    assert len(d.train_tasks) == 21 and len(d.test_tasks) == 6 and not d.invalid
    assert d.test_tasks[0].name == "Renal and urinary disorders"
    assert (int((d.test_tasks[0].labels == 0).sum()), int(d.test_tasks[0].labels.sum())) == (516, 911)


def _toy_task(n_neg=30, n_pos=5):
    from backend.mol.datasets import Task

    return Task("toy", 0, "toy", "test", np.arange(100, 100 + n_neg + n_pos),
                np.array([0] * n_neg + [1] * n_pos))


def test_a_capped_query_set_redrawn_for_both_classes_keeps_the_support_labels():
    from backend.mol.episodes import episode_rng, sample_test_episode

    task = _toy_task(n_neg=200, n_pos=4)  # 3 positives go to the support: one left among the queries
    lab = dict(zip(task.molecules.tolist(), task.labels.tolist()))
    for seed in range(20):  # a 3-query cap usually misses the last positive, so the redraw branch runs
        ep = sample_test_episode(task, 3, episode_rng(seed, 0), max_query=3)
        assert [lab[m] for m in ep.support] == ep.support_labels.tolist() == [0, 0, 0, 1, 1, 1]
        assert sorted(lab[m] for m in ep.query) == [0, 0, 1]


def test_episode_balance_order_and_disjoint_queries():
    from backend.mol.episodes import episode_rng, sample_episode, sample_test_episode

    task = _toy_task()
    ep = sample_episode(task, 3, 16, episode_rng(0, 0))
    assert ep.support_labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert len(set(ep.support.tolist())) == 6 and set(ep.support) <= set(task.molecules)
    lab = dict(zip(task.molecules.tolist(), task.labels.tolist()))
    assert [lab[m] for m in ep.support] == ep.support_labels.tolist()
    assert len(ep.query) == 16 and not set(ep.query) & set(ep.support)
    test = sample_test_episode(task, 3, episode_rng(0, 0))
    assert len(test.query) == 35 - 6 and sorted(set(test.query) | set(test.support)) == task.molecules.tolist()
    again = sample_test_episode(task, 3, episode_rng(0, 0))
    assert np.array_equal(test.support, again.support)                  # seeded
    other = sample_test_episode(task, 3, episode_rng(1, 0))
    assert not np.array_equal(test.support, other.support)
    small = sample_episode(_toy_task(n_pos=2), 3, 4, episode_rng(0, 0))  # class smaller than K: with replacement
    assert small.support_labels.tolist() == [0, 0, 0, 1, 1, 1]


def _toy_dataset():
    from backend.mol.datasets import FewShotDataset, Task

    smiles = ["CCO", "CCC", "CCN", "CCCl", "c1ccccc1", "CC(=O)O", "OCCO", "CCCC", "CNC", "CCBr", "CC=O", "C#N"]
    store, _ = GraphStore.from_smiles(smiles)
    labels = np.array([0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1])
    task = Task("toy", 0, "halo-or-n", "test", np.arange(12), labels)
    return FewShotDataset("toy", store.smiles, store, [task])


def test_evaluate_fewshot_oracle_and_antioracle():
    from backend.mol.fewshot import evaluate_fewshot

    d = _toy_dataset()
    truth = dict(zip(d.tasks[0].molecules.tolist(), d.tasks[0].labels.tolist()))

    def oracle(support, y, queries):
        assert y.tolist() == [0, 0, 1, 1] and len(support) == 4
        return np.array([truth[i] for i in queries.indices], dtype=float)

    r = evaluate_fewshot(oracle, d, 2, seeds=range(4))
    assert r["roc_auc"] == 1.0 and r["roc_auc_std"] == 0.0 and len(r["per_seed"]) == 4 and r["n_queries"] == 4 * 8
    anti = evaluate_fewshot(lambda s, y, q: 1 - oracle(s, y, q), d, 2, seeds=range(2))
    assert anti["roc_auc"] == 0.0


def test_evaluate_fewshot_matches_sklearn_per_seed():
    from sklearn.metrics import roc_auc_score

    from backend.mol.episodes import episode_rng, sample_test_episode
    from backend.mol.fewshot import evaluate_fewshot

    d = _toy_dataset()
    score = {i: (i * 7919 % 13) / 13 for i in range(12)}
    r = evaluate_fewshot(lambda s, y, q: np.array([score[i] for i in q.indices]), d, 2, seeds=[3, 5])
    expected = []
    for seed in (3, 5):
        ep = sample_test_episode(d.tasks[0], 2, episode_rng(seed, 0))
        expected.append(roc_auc_score(ep.query_labels, [score[i] for i in ep.query]))
    assert r["per_seed"] == pytest.approx(expected)
    assert r["roc_auc"] == pytest.approx(np.mean(expected)) and r["roc_auc_std"] == pytest.approx(np.std(expected))


# ---------------------------------------------------------------------------------------------- a user's table

def test_user_table_messages_keep_the_valid_rows():
    from backend.mol.userdata import read_user_episode

    text = ("smiles,label\nCCO,0\nCC(=O)O,1\nC1CC,1\nOCC,0\nc1ccccc1,2\nCCN,\nCCCC(=O)O,\n")
    ep = read_user_episode(text)
    assert ep.ok and ep.support_smiles == ["CCO", "CC(=O)O"] and ep.support_labels == [0, 1]
    assert ep.query_smiles == ["CCN", "CCCC(=O)O"] and ep.query_rows == [7, 8]
    lines = ep.problem_lines()
    assert lines[0].startswith("row 4, column smiles") and "unclosed ring" in lines[0]
    assert lines[1].startswith("row 5, column smiles") and "duplicate molecule: same as row 2" in lines[1]
    assert lines[2].startswith("row 6, column label") and "must be 0 or 1" in lines[2] and "'2'" in lines[2]


def test_user_table_episode_errors_and_notes():
    from backend.mol.userdata import read_user_episode

    only_pos = read_user_episode("smiles,label\nCCO,1\nCCN,\n")
    assert not only_pos.ok and "at least one molecule labelled 0" in only_pos.errors[0]
    no_query = read_user_episode("smiles,label\nCCO,1\nCCN,0\n")
    assert not no_query.ok and "no query molecule" in no_query.errors[0]
    many = "smiles,label\n" + "".join(f"{'C' * (i + 1)}O,{i % 2}\n" for i in range(24)) + "c1ccccc1,\n"
    big = read_user_episode(many)
    assert big.ok and any("at most 10 per class" in n for n in big.notes)
    with pytest.raises(ValueError, match="empty"):
        read_user_episode(b"")
    with pytest.raises(ValueError, match="larger than the limit"):
        read_user_episode(("smiles,label\n" + "CCO,1\n" * 100).encode(), max_bytes=50)
