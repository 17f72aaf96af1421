"""RED-GNN's faithfulness check on a hand-built graph where the true evidence is known.

Graph (2 propagation steps, query (0, r0, ?), answer 2): the only facts on a path from 0 to 2 are (0, r0, 1) and
(1, r1, 2). (0, r0, 3), (2, r0, 4), (5, r0, 6) and (7, r1, 8) lie off every path. The model is a RED-GNN with
seeded random weights (float64): what is tested is the masking, not what a model learned.
"""
from __future__ import annotations

import pytest
import torch

from backend.core.store import Card
from backend.kg.graph import AnswerIndex, EdgeIndex
from backend.kg.loader import KGData
from backend.methods.redgnn.explain import LoadedModel
from backend.methods.redgnn.fidelity import (
    RedGNNRescorer,
    answer_fidelity,
    attribute,
    edited_graph,
    fact_index,
    scores_on,
    what_if,
)
from backend.methods.redgnn.model import RedGNN

FACTS = [(0, 0, 1), (1, 1, 2), (0, 0, 3), (2, 0, 4), (5, 0, 6), (7, 1, 8), (3, 1, 9), (9, 0, 5)]
ON_PATH = {(0, 0, 1), (1, 1, 2)}


def hand_built(n_layer: int = 2, seed: int = 0, facts=FACTS, n_ent: int = 10) -> LoadedModel:
    torch.manual_seed(seed)
    model = RedGNN(n_rel=2, hidden_dim=8, attn_dim=4, n_layer=n_layer, dropout=0.0, act="relu").double().eval()
    triples = torch.tensor(facts, dtype=torch.long)
    empty = torch.zeros(0, 3, dtype=torch.long)
    kg = KGData("hand", [str(i) for i in range(n_ent)], ["r0", "r1"], triples, empty, empty, empty)
    return LoadedModel(model, Card("redgnn", "hand"), kg, EdgeIndex(triples, n_ent, 2),
                       AnswerIndex(triples, n_ent, 2), torch.device("cpu"))


def fact_ids(lm, triples) -> list[int]:
    _, facts = fact_index(lm.graph)
    rows = [tuple(f) for f in facts.tolist()]
    return [rows.index(t) for t in triples]


def test_fact_index_pairs_a_fact_with_its_inverse():
    lm = hand_built()
    fact_of_edge, facts = fact_index(lm.graph)
    assert sorted(map(tuple, facts.tolist())) == sorted(FACTS)
    g = lm.graph
    assert int((fact_of_edge < 0).sum()) == lm.kg.n_ent and bool((g.rel[fact_of_edge < 0] == g.self_rel).all())
    for f, (h, r, t) in enumerate(facts.tolist()):
        edges = (fact_of_edge == f).nonzero().squeeze(1)
        assert {(int(g.head[e]), int(g.rel[e]), int(g.tail[e])) for e in edges} == {(h, r, t), (t, r + 2, h)}


def test_mask_equals_removing_the_facts_from_the_graph():
    """Every mask re-scores exactly as the forward pass over a graph rebuilt without its facts (all entities)."""
    lm = hand_built(n_layer=3)
    _, facts = fact_index(lm.graph)
    gen = torch.Generator().manual_seed(0)
    removed = torch.rand(12, len(facts), generator=gen) < 0.3
    resc = RedGNNRescorer(lm, 0, 0, 2)
    resc.rescore(removed, keep_scores=True)
    for row, got in zip(removed, resc.last_scores):
        rebuilt = EdgeIndex(facts[~row], lm.kg.n_ent, 2)
        want = lm.model(torch.tensor([0]), torch.tensor([0]), rebuilt)[0]
        assert torch.allclose(got, want, atol=1e-12, rtol=0)


def test_deleting_the_true_evidence_drops_the_answer_to_the_unreached_score():
    lm = hand_built()
    base = float(scores_on(lm, 0, 0, lm.graph)[2])
    assert base != 0.0
    resc = RedGNNRescorer(lm, 0, 0, 2)
    masks = torch.zeros(4, resc.n_edges, dtype=torch.bool)
    on = fact_ids(lm, sorted(ON_PATH))
    off = fact_ids(lm, [f for f in FACTS if f not in ON_PATH])
    masks[0, on] = True            # both evidence facts
    masks[1, on[0]] = True         # either one cuts every path
    masks[2, on[1]] = True
    masks[3, off] = True           # every fact off the paths
    scores, ranks = resc.rescore(masks)
    assert scores[:3].tolist() == [0.0, 0.0, 0.0]  # RED-GNN's unreached score
    assert float(scores[3]) == pytest.approx(base, abs=1e-12)  # off every path: no change at all

    att = attribute(lm, 0, 0, 2)
    _, facts = fact_index(lm.graph)
    assert {tuple(facts[f].tolist()) for f in att.facts.tolist()} == ON_PATH  # the r-digraph's facts
    assert torch.allclose(att.weights["occlusion"], torch.full((2,), base, dtype=torch.float64))
    res, _ = answer_fidelity(lm, 0, 0, 2, k_max=3, draws=4)
    assert res.deletion[1] == 0.0 and res.fidelity_plus(2) == pytest.approx(base)
    assert res.sufficiency[1] == pytest.approx(base, abs=1e-12)  # the evidence alone: the whole score
    assert res.fidelity_minus(2) == pytest.approx(0.0, abs=1e-12)


def test_an_answer_reached_only_by_staying_has_no_evidence_facts():
    """The query entity as its own answer: its r-digraph is self-loops only, so no fact; every ranking is empty."""
    lm = hand_built(n_layer=1)  # one step: the head reaches itself by its self-loop only
    att = attribute(lm, 0, 0, 0)
    assert len(att.facts) == 0 and set(att.weights) >= {"greedy", "occlusion", "attention", "path", "gradient"}
    res, att = answer_fidelity(lm, 0, 0, 0, k_max=3, draws=2)
    assert res.n_evidence == 0 and att.frame(lm).empty
    assert res.deletion == [res.base_score] * 3  # nothing to remove: the score stays


def test_fidelity_is_deterministic_under_a_seed():
    facts = FACTS + [(1, 0, 2), (0, 1, 5), (5, 1, 2), (3, 0, 2), (0, 1, 9), (9, 1, 2), (4, 0, 1), (6, 1, 2)]
    lm = hand_built(n_layer=3, facts=facts)
    a, _ = answer_fidelity(lm, 0, 0, 2, seed=7)
    b, _ = answer_fidelity(lm, 0, 0, 2, seed=7)
    c, _ = answer_fidelity(lm, 0, 0, 2, seed=8)
    for field in ("deletion", "deletion_rank", "deletion_random", "sufficiency", "sufficiency_random"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.deletion_random != c.deletion_random  # another seed draws other facts
    assert a.deletion == c.deletion                # the evidence itself does not depend on the seed


def test_what_if_round_trip_returns_the_original_scores():
    lm = hand_built()
    original = scores_on(lm, 0, 0, lm.graph).clone()
    from backend.methods.redgnn.fidelity import Edit

    remove = Edit("remove", 1, 1, 2)
    add_back = Edit("add", 1, 1, 2)
    cut = scores_on(lm, 0, 0, edited_graph(lm, [remove]))
    assert float(cut[2]) == 0.0  # the answer's only path is gone
    # edit then undo, and the reset (no edits): the original scores to 1e-6 (the reset: the same pass, exactly)
    assert torch.allclose(scores_on(lm, 0, 0, edited_graph(lm, [remove, add_back])), original, atol=1e-6)
    assert torch.equal(scores_on(lm, 0, 0, edited_graph(lm, [])), original)
    # a new fact opens a path: 0 -r0-> 3 -r1-> 2
    added = scores_on(lm, 0, 0, edited_graph(lm, [Edit("add", 3, 1, 2)]))
    assert float(added[2]) != pytest.approx(float(original[2]))
    table = what_if(lm, 0, 0, [remove], top=5)
    row = table.set_index("entity").loc["2"]
    assert row["score_before"] == pytest.approx(float(original[2])) and row["score_after"] == 0.0
    assert row["rank_change"] == row["rank_after"] - row["rank_before"]
    assert table.attrs["edits"] == ["removed: (1, r1, 2)"]
    none = what_if(lm, 0, 0, [], top=5)
    assert (none["score_before"] == none["score_after"]).all() and (none["rank_change"] == 0).all()
    # the loaded model's verbs: names and 'h|r|t' texts
    assert lm.what_if({"head": "0", "relation": "r0", "remove": ["1|r1|2"]}).equals(
        what_if(lm, "0", "r0", [remove]))
    assert "not in the graph" in what_if(lm, 0, 0, [Edit("remove", 1, 0, 9)]).attrs["edits"][0]
    with pytest.raises(ValueError, match="head\\|relation\\|tail"):
        lm.what_if({"head": "0", "relation": "r0", "add": ["1|r1"]})


def test_shipped_family_what_if_round_trip_and_benchmark_line(data_root):
    """On the shipped family checkpoint: removing the answer's strongest evidence fact and adding it back gives the
    original scores to 1e-6; the reset (no edits) gives them exactly; the page's benchmark sentence reads the JSON."""
    from pathlib import Path

    from backend.core.data import CATALOG, dataset_status
    from backend.methods.redgnn.explain import load_model
    from backend.methods.redgnn.fidelity import Edit, benchmark_line

    shipped = Path(__file__).resolve().parents[2] / "models" / "redgnn" / "family"
    if dataset_status(CATALOG["family"], data_root) != "present" or not (shipped / "card.json").is_file():
        pytest.skip("family data or its shipped checkpoint missing")
    lm = load_model(shipped, device="cpu", data_dir=str(data_root))
    h, r = int(lm.kg.test[0, 0]), int(lm.kg.test[0, 1])
    original = scores_on(lm, h, r, lm.graph).clone()
    att = attribute(lm, h, r, int(torch.argmax(original)), rankings=("attention", "path"))
    _, facts = fact_index(lm.graph)
    fh, fr, ft = facts[att.ranked("path")[0]].tolist()
    undone = scores_on(lm, h, r, edited_graph(lm, [Edit("remove", fh, fr, ft), Edit("add", fh, fr, ft)]))
    assert torch.allclose(undone, original, atol=1e-6, rtol=0)
    assert torch.equal(scores_on(lm, h, r, edited_graph(lm, [])), original)
    assert not torch.allclose(scores_on(lm, h, r, edited_graph(lm, [Edit("remove", fh, fr, ft)])), original)
    line = benchmark_line("family")
    if line is not None:
        assert line.startswith("Over ") and "random r-digraph facts" in line and "target of 3× is" in line
