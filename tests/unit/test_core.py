"""Store, device, progress, evidence and the KG loaders."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest
import torch

from backend.core.device import select_device, seed_everything
from backend.core.evidence import Evidence, EvidenceEdge, EvidenceNode, EvidencePath
from backend.core.progress import FileProgress, ProgressEvent, RecordingProgress, TeeProgress, read_progress_file
from backend.core.store import Card, count_parameters, list_cards, load_card, load_state_dict, save_checkpoint


def test_checkpoint_round_trip_and_listing(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1, bias=False))
    params = count_parameters(model)
    assert params == {"total": 3 * 4 + 4 + 4, "trainable": 20}
    card = Card(method="demo", dataset="toy", metrics={"test": {"mrr": 0.25}}, params={**params, "adaptive": None})
    folder = save_checkpoint(tmp_path / "demo" / "toy", model.state_dict(), card, extras={"example.json": {"a": 1}})
    loaded = load_card(folder)
    assert loaded.metrics == {"test": {"mrr": 0.25}} and loaded.created and loaded.software["torch"]
    assert json.loads((folder / "example.json").read_text()) == {"a": 1}
    state = load_state_dict(folder)
    clone = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1, bias=False))
    clone.load_state_dict(state)
    x = torch.randn(5, 3)
    torch.testing.assert_close(clone(x), model(x))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "card.json").write_text("{not json")
    assert [c.dataset for c in list_cards(tmp_path)] == ["toy"]  # the unreadable card is skipped
    assert oct((folder / "card.json").stat().st_mode & 0o777) == oct(0o644)


def test_device_selection_and_seeding(monkeypatch):
    monkeypatch.setenv("PARSIMONY_DEVICE", "cpu")
    assert select_device().type == "cpu"
    assert select_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda")
    seed_everything(7)
    a = torch.rand(3)
    seed_everything(7)
    assert torch.equal(a, torch.rand(3))


def test_progress_events_reach_a_file_and_a_recorder(tmp_path):
    path = tmp_path / "p.jsonl"
    rec = RecordingProgress()
    tee = TeeProgress(rec, FileProgress(path))
    for i in range(1, 4):
        tee(ProgressEvent("epoch", i, 3, {"loss": 1.0 / i}))
    with open(path, "a") as fh:
        fh.write('{"stage": "epo')  # a half-written last line is skipped
    events = read_progress_file(path)
    assert [e.step for e in events] == [1, 2, 3] == [e.step for e in rec.events]
    assert events[-1].fraction == 1.0 and events[0].metrics["loss"] == 1.0


def test_evidence_json_and_tables_round_trip():
    ev = Evidence("redgnn", "why", nodes=[EvidenceNode("a@0", "A", layer=0, role="query"),
                                          EvidenceNode("b@1", "B", layer=1, role="answer")],
                  edges=[EvidenceEdge("a@0", "b@1", "likes", 0.75, 1)],
                  paths=[EvidencePath(["A", "B"], ["likes"], 0.75)], summary={"rank": 1.0})
    back = Evidence.from_json(ev.to_json())
    assert back == ev
    assert ev.edges_frame().iloc[0].to_dict() == {"layer": 1, "source": "A", "relation": "likes", "target": "B",
                                                   "weight": 0.75}
    assert ev.paths_frame().iloc[0]["path"] == "A -[likes]-> B"


@pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")
def test_both_kg_layouts_hold_the_same_triples():
    """family_AutoSF was derived from family: ids are line numbers, train2id = facts then train."""
    from backend.kg.loader import load_autosf_layout, load_redgnn_layout

    red = load_redgnn_layout("family")
    auto = load_autosf_layout("family_AutoSF")
    assert (red.n_ent, red.n_rel) == (3007, 12) and auto.entities == red.entities
    assert torch.equal(auto.train, torch.cat([red.facts, red.train]))
    assert torch.equal(auto.valid, red.valid) and torch.equal(auto.test, red.test)
    assert red.train.dtype == torch.long and red.train.shape == (5868, 3)


@pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")
def test_readable_names_for_wn18rr_and_inductive_ids():
    from backend.kg.loader import load_inductive, load_redgnn_layout

    wn = load_redgnn_layout("WN18RR")
    i = wn.entities.index("00590383")
    assert wn.entity_label(i) == "chieftainship"
    assert wn.relation_label(2 * wn.n_rel) == "self"
    train_graph, test_graph = load_inductive("WN18RR_v1")
    assert train_graph.relations == test_graph.relations and len(train_graph.relations) == 9
    assert (train_graph.n_ent, test_graph.n_ent) == (2746, 922)
    assert len(test_graph.test) == 185 + 188  # RED-GNN ranks X_ind valid + test
    # inductive splits borrow the transductive datasets' names (KG-BERT text files)
    assert (train_graph.entities[0], train_graph.entity_label(0)) == ("06083243", "zoology")
    assert (test_graph.entities[0], test_graph.entity_label(0)) == ("01089137", "garrison")
    assert train_graph.relation_label(0) == "hypernym"
    fb_train, fb_test = load_inductive("fb237_v1")
    assert (fb_train.entities[0], fb_train.entity_label(0)) == ("/m/0hvvf", "Bonnie and Clyde")
    assert fb_test.entity_label(0) == "Alanis Morissette"
    nell_train, _ = load_inductive("nell_v1")
    assert nell_train.entity_labels is None and nell_train.entity_label(0) == nell_train.entities[0]


_PAGE_FAULTS_OF_A_REALLOCATION = """
import resource, torch
from backend.core.device import keep_freed_memory
tuned = keep_freed_memory()
torch.set_num_threads(1)
block = torch.ones(64 * 2**20)  # 256 MiB, then freed
del block
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = torch.ones(32 * 2**20)  # 128 MiB fit in the freed memory only if the allocator kept it
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc malloc setting")
@pytest.mark.parametrize("setting, faults_below", [("1", 100), ("0", None)])
def test_keep_freed_memory_spares_the_page_faults_of_a_reallocation(setting, faults_below):
    env = {**os.environ, "PARSIMONY_KEEP_MEMORY": setting, "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-c", _PAGE_FAULTS_OF_A_REALLOCATION], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    tuned, faults = out[0] == "True", int(out[1])
    if faults_below:
        assert tuned and faults < faults_below
    else:  # glibc's default: a fresh mmap, zero-filled page by page (128 MiB = 32,768 pages)
        assert not tuned and faults > 30_000
