"""RED-GNN on hand-built graphs: reachability, r-digraph edges, k-best paths, batching, filters."""
from __future__ import annotations

import dataclasses
import importlib
import math
import os
from pathlib import Path

import pytest
import torch

from backend.kg.graph import AnswerIndex, EdgeIndex, GroupedIndex, distinct_queries
from backend.methods.redgnn.explain import k_best_paths, r_digraph
from backend.methods.redgnn.config import RedGNNConfig, config_for
from backend.methods.redgnn.model import ACTIVATIONS, LayerTrace, RedGNN, softmax_cross_entropy
from backend.methods.redgnn.train import batch_loss_fn, make_optimizer, make_train_step

# entities 0..6; relations 0..2 (inverses 3..5, self-loop 6)
TRIPLES = torch.tensor([[0, 0, 1], [1, 1, 2], [0, 2, 3], [3, 0, 2], [5, 0, 6]])
N_ENT, N_REL = 7, 3


def _model(n_layer: int, seed: int = 0) -> RedGNN:
    torch.manual_seed(seed)
    model = RedGNN(N_REL, hidden_dim=8, attn_dim=4, n_layer=n_layer, dropout=0.0, act="relu")
    for p in model.parameters():  # make attention differ clearly between edges
        torch.nn.init.normal_(p, std=0.8)
    return model.eval()


def _walks(graph: EdgeIndex, start: int, length: int):
    """Every walk of exactly ``length`` edges (self-loops included): [(entities, relations)]."""
    out = {int(h): [] for h in range(graph.n_ent)}
    for h, r, t in zip(graph.head.tolist(), graph.rel.tolist(), graph.tail.tolist()):
        out[h].append((r, t))
    walks = [([start], [])]
    for _ in range(length):
        walks = [(ents + [t], rels + [r]) for ents, rels in walks for r, t in out[ents[-1]]]
    return walks


def test_edge_index_expands_all_out_edges_with_inverses_and_self_loops():
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    assert g.n_edges == 2 * len(TRIPLES) + N_ENT
    pos, rel, tail = g.expand(torch.tensor([0, 2]))
    got = sorted(zip(pos.tolist(), rel.tolist(), tail.tolist()))
    assert got == sorted([(0, 0, 1), (0, 2, 3), (0, 6, 0), (1, 4, 1), (1, 3, 3), (1, 6, 2)])


def test_grouped_index_lookup_matches_python_grouping():
    keys = torch.randint(0, 20, (300,))
    values = torch.arange(300)
    idx = GroupedIndex(keys, values)
    query = torch.tensor([3, 19, 25, 3])
    pos, val = idx.lookup(query)
    for i, k in enumerate(query.tolist()):
        assert sorted(val[pos == i].tolist()) == sorted(values[keys == k].tolist())


def test_unreached_entities_score_exactly_zero_and_reached_ones_are_scored():
    model = _model(n_layer=2)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    scores = model(torch.tensor([0]), torch.tensor([1]), g)[0]
    reached = {e for ents, _ in _walks(g, 0, 2) for e in ents}  # within 2 hops of entity 0
    assert reached == {0, 1, 2, 3}
    for e in range(N_ENT):
        if e not in reached:
            assert scores[e].item() == 0.0
    assert all(scores[e].item() != 0.0 for e in reached)


def test_batched_queries_equal_single_queries():
    model = _model(n_layer=3)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    heads, rels = torch.tensor([0, 5, 2, 0]), torch.tensor([1, 0, 4, 2])
    batch = model(heads, rels, g)
    for i in range(len(heads)):
        single = model(heads[i:i + 1], rels[i:i + 1], g)[0]
        torch.testing.assert_close(batch[i], single, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ["relu", "tanh", "idd"])
def test_dense_propagation_gives_the_sparse_scores_and_gradients(act):
    """Every entity and edge per query, edges out of unreached nodes masked: same scores (unreached
    exactly 0) and, without dropout, the same loss gradients as the sparse forward."""
    model = _model(n_layer=3)
    for layer in model.layers:
        layer.act = ACTIVATIONS[act]()
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    heads, rels, answers = torch.tensor([0, 5, 2, 0, 4]), torch.tensor([1, 0, 4, 2, 3]), torch.tensor([2, 6, 3, 1, 4])
    grads = []
    for forward in (lambda: model(heads, rels, g), lambda: model.forward_dense(heads, rels, g.batched_edges(5), N_ENT)):
        model.zero_grad()
        scores = forward()
        softmax_cross_entropy(scores, answers).backward()
        grads.append((scores.detach(), [p.grad.clone() for p in model.parameters()]))
    (sparse, sparse_grads), (dense, dense_grads) = grads
    assert torch.equal(sparse == 0, dense == 0)  # the same entities are unreached (entity 4 from itself only)
    assert (sparse[4] != 0).sum() == 1
    torch.testing.assert_close(dense, sparse, rtol=1e-5, atol=1e-6)
    for a, b in zip(dense_grads, sparse_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_compiled_dense_training_loss_equals_the_sparse_loss():
    """The torch.compile'd dense step (for small graphs on a GPU) computes the same loss and gradients;
    on this CPU it compiles to C++. Asking to compile the sparse forward is refused with a reason."""
    config = RedGNNConfig(dataset="family", lr=1e-3, decay_rate=1.0, lamb=0.0, hidden_dim=8, attn_dim=4, n_layer=3,
                          dropout=0.0, act="relu", n_batch=4, n_tbatch=4)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    batch = torch.tensor([[0, 1, 2], [5, 0, 6], [2, 4, 3], [3, 3, 0]])
    losses = []
    for propagation, compile_ in (("sparse", False), ("dense", True)):
        model = _model(n_layer=3)
        loss = batch_loss_fn(model, dataclasses.replace(config, propagation=propagation, compile=compile_))(batch, g)
        loss.backward()
        losses.append((loss.item(), [p.grad for p in model.parameters()]))
    assert losses[1][0] == pytest.approx(losses[0][0], rel=1e-5)
    for a, b in zip(losses[1][1], losses[0][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="--compile needs --propagation dense"):
        batch_loss_fn(_model(3), dataclasses.replace(config, compile=True))


def test_training_step_is_the_same_for_the_sparse_and_the_compiled_dense_forward_and_redraws_nan():
    """The trainer's (and the benchmark's) optimiser step: three steps of the sparse and of the compiled dense
    forward give the same losses and weights. A NaN weight makes the loss NaN; the step's guard re-draws it."""
    config = RedGNNConfig(dataset="family", lr=1e-2, decay_rate=1.0, lamb=1e-4, hidden_dim=8, attn_dim=4, n_layer=3,
                          dropout=0.0, act="relu", n_batch=4, n_tbatch=4)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    batches = torch.tensor([[[0, 1, 2], [5, 0, 6], [2, 4, 3], [3, 3, 0]], [[0, 2, 3], [1, 1, 2], [3, 0, 2], [6, 3, 5]]])
    runs = []
    for propagation, compile_ in (("sparse", False), ("dense", True)):
        model = _model(n_layer=3).train()
        cfg = dataclasses.replace(config, propagation=propagation, compile=compile_)
        step = make_train_step(model, make_optimizer(model, cfg), cfg)
        runs.append(([step(batches[i % 2], g) for i in range(3)], [p.detach().clone() for p in model.parameters()]))
    (sparse_losses, sparse_weights), (dense_losses, dense_weights) = runs
    assert sparse_losses[2] < sparse_losses[0]  # it learns
    assert dense_losses == pytest.approx(sparse_losses, rel=1e-4)
    for a, b in zip(dense_weights, sparse_weights):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)

    model = _model(n_layer=3).train()
    step = make_train_step(model, make_optimizer(model, config), config)
    with torch.no_grad():
        model.W_final.weight[0, 0] = float("nan")
    assert math.isnan(step(batches[0], g))  # a NaN loss is reported, not hidden
    assert not any(torch.isnan(p).any() for p in model.parameters())
    assert math.isfinite(step(batches[0], g))


class _ReplayingGraph:
    """Stands in for torch.cuda.CUDAGraph on a CPU: 'capture' keeps the step, replay runs it into the buffer."""

    def __init__(self):
        self.fn, self.out, self.replays = None, None, 0

    def replay(self):
        self.replays += 1
        self.out.copy_(self.fn())


def _fake_record(graph, fn):
    graph.fn, graph.out = fn, torch.zeros(2)
    return graph.out


def _dense_step_losses(monkeypatch, graphs: bool, record=_fake_record, n_epochs: int = 2):
    """Losses of a few dense training steps over two epoch graphs (7 batches each, the last one short),
    with or without the CUDA-graph replay path (faked on the CPU), and the step for inspection."""
    from backend.core.cuda_graphs import CapturedStep
    train_module = importlib.import_module("backend.methods.redgnn.train")

    config = RedGNNConfig(dataset="family", lr=1e-2, decay_rate=1.0, lamb=1e-4, hidden_dim=8, attn_dim=4, n_layer=3,
                          dropout=0.0, act="relu", n_batch=4, n_tbatch=4, propagation="dense", cuda_graphs=graphs)
    monkeypatch.setattr(train_module, "uses_cuda_graphs", lambda cfg, device: cfg.cuda_graphs)
    monkeypatch.setattr(CapturedStep, "graph_type", staticmethod(_ReplayingGraph))
    monkeypatch.setattr(CapturedStep, "record", staticmethod(record))
    torch.manual_seed(0)
    queries = torch.stack([torch.randint(0, N_ENT, (26,)), torch.randint(0, 2 * N_REL, (26,)),
                           torch.randint(0, N_ENT, (26,))], 1)
    model = _model(n_layer=3).train()
    step = make_train_step(model, torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4), config)
    losses = []
    for _ in range(n_epochs):
        g = EdgeIndex(TRIPLES, N_ENT, N_REL)  # a new graph object each epoch, as the trainer's re-split
        losses += [step(queries[i:i + 4], g) for i in range(0, 26, 4)]
    return losses, step, model


def test_cuda_graph_replay_trains_exactly_as_the_eager_step(monkeypatch):
    """The replayed step (faked: the kept step re-run into the output buffer) gives the eager step's losses
    and weights; each epoch graph is captured once after two warm-up batches, the short last batch runs
    eagerly, and every other batch replays the capture with its own data."""
    eager, _, eager_model = _dense_step_losses(monkeypatch, graphs=False)
    replayed, step, replay_model = _dense_step_losses(monkeypatch, graphs=True)
    assert replayed == pytest.approx(eager, rel=1e-5)
    for a, b in zip(replay_model.parameters(), eager_model.parameters()):
        torch.testing.assert_close(a, b)
    captured = step.captured
    assert captured.captures == 2 and not captured.failed
    # per epoch: 2 warm-up batches, 1 captured (replayed once), 3 replays, 1 short batch eager
    assert captured.graph.replays == 4 and captured.seen == 3


def test_training_goes_on_eagerly_when_cuda_graph_capture_fails(monkeypatch, caplog):
    """A GPU session must not lose its run to a failed capture: the step logs it and runs eagerly, with the
    losses of a step that never tried."""
    def capture_fails(graph, fn):
        raise RuntimeError("CUDA error: operation not permitted when stream is capturing")

    eager, _, _ = _dense_step_losses(monkeypatch, graphs=False)
    with caplog.at_level("WARNING"):
        losses, step, _ = _dense_step_losses(monkeypatch, graphs=True, record=capture_fails)
    assert "CUDA graph capture failed (RuntimeError: CUDA error: operation not permitted" in caplog.text
    assert step.captured.failed and step.captured.captures == 0
    assert losses == pytest.approx(eager, rel=1e-5)


def test_cuda_graphs_only_for_the_dense_step_on_a_gpu():
    train_module = importlib.import_module("backend.methods.redgnn.train")
    dense = dataclasses.replace(config_for("family"), propagation="dense")
    assert train_module.uses_cuda_graphs(dense, torch.device("cuda"))
    assert not train_module.uses_cuda_graphs(dense, torch.device("cpu"))
    assert not train_module.uses_cuda_graphs(dataclasses.replace(dense, cuda_graphs=False), torch.device("cuda"))
    assert not train_module.uses_cuda_graphs(config_for("family"), torch.device("cuda"))
    model = _model(n_layer=3)  # on a CPU the optimiser stays the plain one
    assert not make_optimizer(model, dense).param_groups[0]["capturable"]


@pytest.mark.parametrize("n_layer", [2, 3])
def test_r_digraph_contains_exactly_the_edges_of_walks_to_the_answer(n_layer):
    model = _model(n_layer)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    traces: list[LayerTrace] = []
    model(torch.tensor([0]), torch.tensor([1]), g, trace=traces)
    answer = 2
    keep = r_digraph(traces, answer)
    got = {(layer, int(traces[layer].source[i]), int(traces[layer].relation[i]), int(traces[layer].target[i]))
           for layer, idx in enumerate(keep) for i in idx.tolist()}
    expected = {(layer, ents[layer], rels[layer], ents[layer + 1])
                for ents, rels in _walks(g, 0, n_layer) if ents[-1] == answer for layer in range(n_layer)}
    assert got == expected
    if n_layer == 2:  # the two 2-hop routes 0 -r0-> 1 -r1-> 2 and 0 -r2-> 3 -r0-> 2
        assert got == {(0, 0, 0, 1), (1, 1, 1, 2), (0, 0, 2, 3), (1, 3, 0, 2)}


def test_k_best_paths_match_brute_force_products_of_attention():
    model = _model(n_layer=3, seed=3)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    traces: list[LayerTrace] = []
    model(torch.tensor([0]), torch.tensor([2]), g, trace=traces)
    att = {(layer, int(t.source[i]), int(t.relation[i]), int(t.target[i])): float(t.attention[i])
           for layer, t in enumerate(traces) for i in range(len(t.source))}
    answer = 2
    brute = sorted((torch.prod(torch.tensor([att[(l, e[l], r[l], e[l + 1])] for l in range(3)])).item(), e, r)
                   for e, r in _walks(g, 0, 3) if e[-1] == answer)[::-1]
    keep = r_digraph(traces, answer)
    best = k_best_paths(traces, keep, 0, answer, k=5)
    assert len(best) == min(5, len(brute))
    for (score, ents, rels, _), (b_score, b_ents, b_rels) in zip(best, brute):
        assert score == pytest.approx(b_score, rel=1e-5)
    assert [b[1] for b in brute[:1]] == [best[0][1]]


def test_answer_index_masks_known_answers_in_both_directions():
    known = AnswerIndex(TRIPLES, N_ENT, N_REL)
    mask = known.mask(torch.tensor([0, 2]), torch.tensor([0, 1 + N_REL]))
    assert mask[0].nonzero().squeeze(1).tolist() == [1]        # (0, r0, ?) -> 1
    assert mask[1].nonzero().squeeze(1).tolist() == [1]        # (2, inverse r1, ?) -> 1
    assert distinct_queries(TRIPLES[:2], N_REL).tolist() == [[0, 0], [1, 1], [1, 3], [2, 4]]


def test_lookup_by_name_label_and_label_dot_name_with_shared_labels():
    from backend.methods.redgnn.explain import _lookup, _text_table

    names = ["08000001", "09000002", "10000003"]
    table = _text_table(names, ["bank", "Bank", "river"])
    assert _lookup(table, "River", "entity", "WN", names) == 2          # a unique label
    assert _lookup(table, "09000002", "entity", "WN", names) == 1       # a name is exact
    assert _lookup(table, "bank · 09000002", "entity", "WN", names) == 1  # the pickers' form
    assert _lookup(table, 0, "entity", "WN", names) == 0                # an id
    with pytest.raises(ValueError, match=r"names 2 entities in WN.*bank · 08000001, bank · 09000002"):
        _lookup(table, "bank", "entity", "WN", names)
    with pytest.raises(ValueError, match=r"unknown entity 'rivr' in WN; did you mean: river"):
        _lookup(table, "rivr", "entity", "WN", names)


def test_relation_choices_put_the_heads_own_relations_first_with_their_counts():
    from backend.kg.loader import KGData

    t = lambda *rows: torch.tensor(rows, dtype=torch.long).reshape(-1, 3)  # noqa: E731
    kg = KGData("toy", ["a", "b", "c", "d"], ["likes", "owns", "knows"],
                facts=t((0, 1, 1), (0, 1, 2)), train=t((2, 0, 0)), valid=t((0, 1, 3)), test=t((3, 2, 1)),
                relation_labels=["likes", "owns", "knows"])
    choices = kg.relation_choices(0)
    # a: owns b, c (facts) and d (valid) -> 3; c likes a -> 'inverse of likes' 1; the rest unknown, id order
    assert choices[:2] == [(1, 3, "owns (3 known)"), (3, 1, "inverse of likes (1 known)")]
    assert [(r, n) for r, n, _ in choices[2:]] == [(0, 0), (2, 0), (4, 0), (5, 0)]
    assert choices[2][2] == "likes" and choices[-1][2] == "inverse of knows"
    assert [r for r, n, _ in kg.relation_choices(1) if n] == [4, 5]  # b: inverse owns (from a), inverse knows (d)


def test_known_in_names_the_split_of_each_known_answer_both_ways():
    from backend.kg.loader import KGData
    from backend.methods.redgnn.explain import known_in

    t = lambda *rows: torch.tensor(rows, dtype=torch.long).reshape(-1, 3)  # noqa: E731
    kg = KGData("toy", ["a", "b", "c", "d"], ["likes", "owns"], facts=t((0, 1, 1)), train=t((0, 1, 2), (3, 0, 0)),
                valid=t((0, 1, 3)), test=t((0, 1, 1), (2, 0, 0)))
    assert known_in(kg, 0, 1) == {1: "facts", 2: "train", 3: "valid"}  # (a, owns, b) also in test: facts first
    assert known_in(kg, 0, 0 + 2) == {3: "train", 2: "test"}            # inverse of likes: d likes a, c likes a
    assert known_in(kg, 1, 0) == {}


def test_cli_finds_the_inductive_checkpoint_without_setting():
    import argparse

    from backend.cli import _model_dir
    from backend.core.store import list_cards
    from backend.registry import METHODS

    shipped = [c for c in list_cards(method="redgnn") if c.setting == "inductive"]
    if not shipped:
        pytest.skip("no inductive checkpoint shipped")
    card = shipped[0]
    args = argparse.Namespace(model=None, dataset=card.dataset, setting=None)
    assert _model_dir(METHODS["redgnn"], args) == Path(card.path)
    args = argparse.Namespace(model=None, dataset="family", setting=None)
    assert _model_dir(METHODS["redgnn"], args).name == "family"


def test_auto_propagation_trains_small_graphs_densely_on_a_gpu_only(monkeypatch):
    """"auto" (the default) is the sparse step on a CPU and for a large batch × graph (WN18RR) on a GPU, the dense
    step, compiled where Triton is installed, for family- and FB15k-237-sized ones on a GPU; explicit choices stay."""
    import importlib.util

    from backend.methods.redgnn.train import DENSE_EDGE_ROWS_ON_GPU, resolve_propagation

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    family, wn18rr = config_for("family"), config_for("WN18RR")
    assert family.propagation == "auto"
    family_edges, wn18rr_edges = 50_000, 215_000  # their graphs: 2 × (facts + train) + self-loops, rounded
    assert family.n_batch * family_edges <= DENSE_EDGE_ROWS_ON_GPU < wn18rr.n_batch * wn18rr_edges
    assert resolve_propagation(family, cpu, family_edges).propagation == "sparse"
    assert resolve_propagation(wn18rr, cuda, wn18rr_edges).propagation == "sparse"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "triton" else None)
    on_gpu = resolve_propagation(family, cuda, family_edges)
    assert (on_gpu.propagation, on_gpu.compile) == ("dense", True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)  # no Triton: dense, not compiled
    assert (resolve_propagation(family, cuda, family_edges).compile) is False
    explicit = dataclasses.replace(family, propagation="sparse")
    assert resolve_propagation(explicit, cuda, family_edges) is explicit
    asked = resolve_propagation(dataclasses.replace(family, compile=True), cpu, family_edges)
    assert (asked.propagation, asked.compile) == ("dense", True)  # --compile alone asks for the dense step


def test_continuing_a_checkpoint_keeps_its_training_recipe(tmp_path):
    """`train --init-from` keeps the checkpoint's inductive training queries (and 3:1 split) unless given again:
    continuing a re-split checkpoint must not silently fall back to the paper's queries."""
    import json

    from backend.cli import build_parser, _build_config
    from backend.registry import METHODS

    folder = tmp_path / "fb237_v1-inductive"
    folder.mkdir()
    card = {"method": "redgnn", "dataset": "fb237_v1", "setting": "inductive", "metrics": {},
            "train": {"config": {"inductive_queries": "resplit", "fact_ratio": 0.6, "lr": 1.0}}}
    (folder / "card.json").write_text(json.dumps(card))
    parse = build_parser().parse_args
    continued = _build_config(METHODS["redgnn"], parse(["train", "redgnn", "--dataset", "fb237_v1",
                                                          "--init-from", str(folder)]))
    assert (continued.inductive_queries, continued.fact_ratio) == ("resplit", 0.6)
    assert continued.lr == config_for("fb237_v1").lr  # only the recipe is kept, not every setting
    switched = _build_config(METHODS["redgnn"], parse(["train", "redgnn", "--dataset", "fb237_v1", "--init-from",
                                                         str(folder), "--inductive-queries", "valid"]))
    assert (switched.inductive_queries, switched.fact_ratio) == ("valid", 0.6)
    fresh = _build_config(METHODS["redgnn"], parse(["train", "redgnn", "--dataset", "fb237_v1"]))
    assert (fresh.inductive_queries, fresh.fact_ratio) == ("valid", 0.75)


def test_dense_step_builds_no_host_tensors():
    """CUDA-graph capture refuses host-to-device copies: the dense forward and backward must not turn Python
    numbers into tensors (aten.lift_fresh, e.g. `x[idx] = 1.0`) nor move tensors between devices."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class HostTensors(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.found = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.ops.aten.lift_fresh.default or (func is torch.ops.aten._to_copy.default
                                                            and "device" in kwargs):
                self.found.append(str(func))
            return func(*args, **kwargs)

    config = dataclasses.replace(config_for("family"), propagation="dense", hidden_dim=8, attn_dim=4)
    model = _model(n_layer=3).train()
    loss_fn = batch_loss_fn(model, config)
    batch = torch.tensor([[0, 1, 2], [5, 0, 6], [2, 4, 3], [3, 3, 0]])
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    with HostTensors() as mode:
        loss_fn(batch, g).backward()
    assert mode.found == []
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("propagation", ["sparse", "dense"])
def test_relation_sum_path_gives_the_same_scores_and_gradients(monkeypatch, propagation):
    """A layer may sum the relation part of its messages per (target, relation) and multiply by the relation
    embeddings instead of gathering them per edge: same scores and gradients, either way."""
    model_module = importlib.import_module("backend.methods.redgnn.model")
    config = dataclasses.replace(config_for("family"), propagation=propagation, hidden_dim=8, attn_dim=4)
    batch = torch.tensor([[0, 1, 2], [5, 0, 6], [2, 4, 3], [3, 3, 0]])
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    results = []
    monkeypatch.setattr(model_module, "SPARSE_MATMUL_ON_CPU", False)  # the gathered paths (a GPU's)
    for cells in (0, 10**9):  # never / always the summed path
        monkeypatch.setattr(model_module, "RELATION_SUM_CELLS_PER_EDGE", cells)
        model = _model(n_layer=3).eval()  # same seed: same weights
        loss = batch_loss_fn(model, config)(batch, g)
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters()],
                        model(batch[:, 0], batch[:, 1], g).detach()))
    (loss_a, grads_a, scores_a), (loss_b, grads_b, scores_b) = results
    assert loss_b == pytest.approx(loss_a, rel=1e-6)
    torch.testing.assert_close(scores_b, scores_a, rtol=1e-5, atol=1e-6)
    assert scores_a.abs().sum() > 0
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("n_layer", [1, 3])
def test_sparse_matmul_gives_the_gathered_scores_and_gradients(monkeypatch, n_layer):
    """On a CPU a layer sums its messages as CSR products (edges sorted by target inside) with its own backward
    (CSR products and SDDMM): scores, loss and every parameter's gradient equal the gathered path's."""
    model_module = importlib.import_module("backend.methods.redgnn.model")
    config = dataclasses.replace(config_for("family"), hidden_dim=8, attn_dim=4)
    g = EdgeIndex(TRIPLES, N_ENT, N_REL)
    batch = torch.tensor([[0, 1, 2], [5, 0, 6], [2, 4, 3], [3, 3, 0], [0, 5, 3]])
    calls = []
    monkeypatch.setattr(model_module.SparseMessageSum, "apply",
                        (lambda apply: lambda *a: calls.append(1) or apply(*a))(model_module.SparseMessageSum.apply))
    results = {}
    for on in (False, True):
        monkeypatch.setattr(model_module, "SPARSE_MATMUL_ON_CPU", on)
        model = _model(n_layer=n_layer).eval()  # same seed: same weights
        with torch.no_grad():
            scores = (model(batch[:, 0], batch[:, 1], g), model(batch[:1, 0], batch[:1, 1], g))
        loss = batch_loss_fn(model, config)(batch, g)
        loss.backward()
        results[on] = (scores, loss.item(), [p.grad.clone() for p in model.parameters()])
    assert len(calls) == 3 * n_layer  # two ranking forwards and one training forward, per layer
    (scores_a, loss_a, grads_a), (scores_b, loss_b, grads_b) = results[False], results[True]
    for a, b in zip(scores_a, scores_b):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    assert (scores_b[0] != 0).sum() > 5
    assert loss_b == pytest.approx(loss_a, rel=1e-6)
    assert sum(float(p.abs().sum()) for p in grads_a) > 0
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("n_in, n_out, n_rel, n_edges", [(6, 5, 4, 30), (60, 50, 40, 300)])
def test_sparse_message_sum_backward_matches_autograd_on_unsorted_edges(n_in, n_out, n_rel, n_edges):
    """Edges in any order (the dense step's are not grouped by source), duplicate (source, target) pairs under
    different relations included: gradients of α, hidden and relation table equal those of gather + scatter,
    for matrices with more entries than cells (∂α as a gathered dense product) and sparse ones (SDDMM)."""
    from torch_geometric.utils import scatter

    from backend.methods.redgnn.model import SparseMessageSum

    gen = torch.Generator().manual_seed(3)
    d = 3
    src = torch.randint(0, n_in, (n_edges,), generator=gen)
    src[1] = src[0]
    dst = torch.randint(0, n_out, (n_edges,), generator=gen)
    dst[1] = dst[0]
    rel = torch.randint(0, n_rel, (n_edges,), generator=gen)
    rel[1] = (rel[0] + 1) % n_rel
    weights = [torch.randn(n_edges, generator=gen), torch.randn(n_in, d, generator=gen), torch.randn(n_rel, d, generator=gen)]
    upstream = torch.randn(n_out, d, generator=gen)
    grads = []
    for sparse in (False, True):
        alpha, hidden, table = (w.clone().requires_grad_() for w in weights)
        if sparse:
            out = SparseMessageSum.apply(alpha, hidden, table, src, rel, dst, n_out)
        else:
            out = scatter(alpha[:, None] * (hidden[src] + table[rel]), dst, dim=0, dim_size=n_out, reduce="sum")
        out.backward(upstream)
        grads.append((out.detach(), alpha.grad, hidden.grad, table.grad))
    for a, b in zip(*grads):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")
def test_the_relation_sum_benchmark_ranks_alike_on_both_paths(tmp_path, capsys):
    """benchmarks/redgnn_relation_sum.py: both message paths rank family's test queries to the same MRR, near
    the card's, and the module's setting is restored afterwards."""
    import importlib.util
    import json

    from backend.core import store

    if not (store.MODELS_DIR / "redgnn" / "family" / "card.json").exists():
        pytest.skip("family is not shipped")
    model_module = importlib.import_module("backend.methods.redgnn.model")
    before = model_module.RELATION_SUM_CELLS_PER_EDGE
    spec = importlib.util.spec_from_file_location("redgnn_relation_sum",
                                                  store.PROJECT_ROOT / "benchmarks" / "redgnn_relation_sum.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "relation-sum.json"
    result = module.main(["family", "--train-batches", "3", "--eval-queries", "300", "--repeats", "1",
                          "--output", str(out)])
    run = result["datasets"][0]
    assert run["summed_test_mrr"] == pytest.approx(run["per_edge_test_mrr"], abs=1e-9)
    assert 0.9 < run["summed_test_mrr"] <= 1.0
    assert run["sparse_matmul_test_mrr"] == pytest.approx(run["summed_test_mrr"], abs=1e-6)
    assert run["speedup_train"] > 0 and run["speedup_eval"] > 0 and run["speedup_train_sparse_matmul"] > 0
    assert model_module.RELATION_SUM_CELLS_PER_EDGE == before and model_module.SPARSE_MATMUL_ON_CPU
    assert json.loads(out.read_text()) == json.loads(capsys.readouterr().out)
