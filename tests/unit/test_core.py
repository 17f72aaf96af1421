"""Store, device, progress, evidence and the KG loaders."""
from __future__ import annotations

import difflib
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
from backend.core.store import (
    LEGACY_VARIANT_PREFIXES,
    MODELS_DIR,
    Card,
    card_json,
    count_parameters,
    list_cards,
    load_card,
    load_state_dict,
    save_checkpoint,
    seed_summary,
    update_card,
)


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


LEGACY_TEST = {"mrr": 0.5, "hits@1": 0.4, "roc_auc": 0.7, "pr_auc": 0.6, "nbfnet_mrr": 0.45,
               "nbfnet_hits@1": 0.4, "optimistic_mrr": 0.55, "nbfnet": 0.1}


def test_an_older_card_with_flat_variant_keys_reads_nested():
    legacy = {"method": "redgnn", "dataset": "toy", "metrics": {"valid": {"mrr": 0.6, "nbfnet_mrr": 0.58},
                                                                  "test": dict(LEGACY_TEST)}}
    card = Card.from_dict(legacy)
    # only the known prefixes move: roc_auc / pr_auc are metrics of their own, a bare "nbfnet" is no prefix
    assert card.metrics == {"valid": {"mrr": 0.6}, "test": {"mrr": 0.5, "hits@1": 0.4, "roc_auc": 0.7, "pr_auc": 0.6,
                                                             "nbfnet": 0.1}}
    assert card.variants == {"nbfnet": {"valid": {"mrr": 0.58}, "test": {"mrr": 0.45, "hits@1": 0.4}},
                             "optimistic": {"test": {"mrr": 0.55}}}
    assert card.metric("test", "mrr") == 0.5 and card.metric("test", "mrr", "nbfnet") == 0.45
    assert card.metric("test", "hits@10") is None and card.metric("test", "mrr", "other") is None
    assert card.flat_metrics("test") == LEGACY_TEST and card.flat_metrics("valid") == legacy["metrics"]["valid"]
    assert legacy["metrics"]["test"] == LEGACY_TEST  # the input is not changed
    written = card.to_dict()
    assert "nbfnet_mrr" not in written["metrics"]["test"] and written["variants"]["nbfnet"]["test"]["mrr"] == 0.45
    assert Card.from_dict(json.loads(json.dumps(written))) == card  # the nested form round-trips
    assert set(LEGACY_VARIANT_PREFIXES) == {"nbfnet", "optimistic"}


def test_nested_variants_and_flat_keys_added_later():
    card = Card(method="m", dataset="d", metrics={"test": {"mrr": 0.5}},
                variants={"nbfnet": {"test": {"mrr": 0.4}}})
    assert card.flat_metrics("test") == {"mrr": 0.5, "nbfnet_mrr": 0.4}
    # a flat key given beside the same nested value is fine; a different value is ambiguous
    assert Card(method="m", dataset="d", metrics={"test": {"nbfnet_mrr": 0.4}},
                variants={"nbfnet": {"test": {"mrr": 0.4}}}).variants == card.variants
    with pytest.raises(ValueError, match="twice"):
        Card(method="m", dataset="d", metrics={"test": {"nbfnet_mrr": 0.3}}, variants={"nbfnet": {"test": {"mrr": 0.4}}})
    # metrics refreshed from a flat evaluate() after the card was built: written nested, the new values win
    card.metrics["test"].update({"mrr": 0.51, "nbfnet_mrr": 0.41})
    written = card.to_dict()
    assert written["metrics"] == {"test": {"mrr": 0.51}} and written["variants"] == {"nbfnet": {"test": {"mrr": 0.41}}}


def test_redgnn_split_metrics_become_nested_card_variants():
    from backend.methods.redgnn.train import split_metrics

    flat = split_metrics({"average": {"mrr": 0.5}, "pessimistic": {"mrr": 0.4}, "optimistic": {"mrr": 0.6}})
    assert flat == {"mrr": 0.5, "nbfnet_mrr": 0.4, "optimistic_mrr": 0.6}  # what evaluate prints
    card = Card(method="redgnn", dataset="family", metrics={"test": flat})
    assert card.metrics == {"test": {"mrr": 0.5}}
    assert card.variants == {"nbfnet": {"test": {"mrr": 0.4}}, "optimistic": {"test": {"mrr": 0.6}}}


def test_seed_summary_is_numpy_mean_and_sample_std():
    import numpy as np

    rng = np.random.default_rng(0)
    values = rng.uniform(0.3, 0.6, size=(3, 3))  # runs x (test mrr, test hits@1, valid mrr)
    cards = [Card(method="m", dataset="d", train={"seed": seed},
                  metrics={"test": {"mrr": v[0], "hits@1": v[1]}, "valid": {"mrr": v[2]}},
                  variants={"nbfnet": {"test": {"mrr": v[0] - 0.01}}})
             for seed, v in zip((1234, 1, 2), values)]
    summary = seed_summary(cards, shipped_seed=1234)
    assert summary["n"] == 3 and summary["seeds"] == [1234, 1, 2] and summary["shipped_seed"] == 1234
    for (split, name), column in ((("test", "mrr"), 0), (("test", "hits@1"), 1), (("valid", "mrr"), 2)):
        got = summary["metrics"][split][name]
        assert got["mean"] == pytest.approx(np.mean(values[:, column]), abs=1e-15)
        assert got["std"] == pytest.approx(np.std(values[:, column], ddof=1), abs=1e-15)
    assert summary["variants"]["nbfnet"]["test"]["mrr"]["std"] == pytest.approx(np.std(values[:, 0], ddof=1))
    # runs as dicts (benchmarks/redgnn_seeds.py's flat layout), mixed with a card; a metric one run lacks is left out
    runs = [cards[0], {"seed": 7, "test": {"mrr": 0.5, "nbfnet_mrr": 0.45, "hits@10": 0.9}}]
    mixed = seed_summary(runs, shipped_seed=7)
    assert set(mixed["metrics"]) == {"test"} and set(mixed["metrics"]["test"]) == {"mrr"}
    assert mixed["metrics"]["test"]["mrr"]["mean"] == pytest.approx((values[0, 0] + 0.5) / 2)
    assert mixed["variants"]["nbfnet"]["test"]["mrr"]["mean"] == pytest.approx((values[0, 0] - 0.01 + 0.45) / 2)
    assert seed_summary([cards[0]], 1234)["metrics"]["test"]["mrr"]["std"] is None  # one run: no spread
    with pytest.raises(ValueError, match="shipped seed"):
        seed_summary(cards, shipped_seed=99)
    with pytest.raises(ValueError, match="own seed"):
        seed_summary([cards[0], cards[0]], shipped_seed=1234)
    card = Card(method="m", dataset="d", metrics={"test": {"mrr": values[0, 0]}}, seeds=summary)
    mean, std = np.mean(values[:, 0]), np.std(values[:, 0], ddof=1)
    assert card.seed_text("test", "mrr") == f"{mean:.4f} ± {std:.4f} (3 seeds)"
    assert card.seed_text("test", "hits@10") == "" and Card(method="m", dataset="d").seed_text("test", "mrr") == ""


def test_seeds_and_artefacts_round_trip_through_a_checkpoint(tmp_path):
    artefacts = {"scoring function": {"kind": "formula", "value": r"\langle h, r, t \rangle + \langle h_1, r_2, t_3 \rangle"},
                 "block structure": {"kind": "structure", "value": [[1, 0], [0, -2]]},
                 "search": {"kind": "table", "value": {"candidates": 64}}}
    seeds = {"n": 2, "seeds": [1, 2], "shipped_seed": 1, "metrics": {"test": {"mrr": {"mean": 0.5, "std": 0.01}}}}
    card = Card(method="demo", dataset="toy", metrics={"test": {"mrr": 0.51, "nbfnet_mrr": 0.5}}, seeds=seeds,
                artefacts=artefacts)
    folder = save_checkpoint(tmp_path / "demo" / "toy", {"w": torch.zeros(2)}, card)
    saved = json.loads((folder / "card.json").read_text())
    assert list(saved)[:6] == ["method", "dataset", "setting", "metrics", "variants", "seeds"]
    assert saved["variants"] == {"nbfnet": {"test": {"mrr": 0.5}}} and saved["artefacts"] == artefacts
    loaded = load_card(folder)
    assert loaded.artefacts == artefacts and loaded.seeds == seeds and loaded.variants == card.variants
    assert loaded.to_dict() == card.to_dict()


def test_update_card_changes_one_key_and_keeps_the_rest_byte_for_byte(tmp_path):
    legacy = {"method": "redgnn", "dataset": "toy", "setting": "transductive",
              "metrics": {"test": {"mrr": 0.123456789, "nbfnet_mrr": 0.1}}, "protocol": "p",
              "params": {"total": 3, "trainable": 3, "adaptive": None}, "extras": {}}
    path = tmp_path / "card.json"
    path.write_text(card_json(legacy), encoding="utf-8")
    seeds = {"n": 2, "seeds": [1, 2], "shipped_seed": 1, "metrics": {"test": {"mrr": {"mean": 0.12, "std": 0.01}}}}
    card = update_card(tmp_path, seeds=seeds)
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text)
    assert list(raw) == ["method", "dataset", "setting", "metrics", "seeds", "protocol", "params", "extras"]
    assert {k: v for k, v in raw.items() if k != "seeds"} == legacy  # the flat layout stays as it was
    ops = difflib.SequenceMatcher(a=card_json(legacy).splitlines(), b=text.splitlines(), autojunk=False).get_opcodes()
    assert {tag for tag, *_ in ops} == {"equal", "insert"}  # the same bytes, the seeds block added
    assert card.seeds == seeds and card.metric("test", "mrr", "nbfnet") == 0.1
    with pytest.raises(ValueError, match="not card fields"):
        update_card(tmp_path, colour="blue")
    path.write_text(json.dumps(legacy), encoding="utf-8")  # not the store's layout: refused
    with pytest.raises(ValueError, match="laid out"):
        update_card(tmp_path, seeds=seeds)


def test_every_shipped_card_loads_nested_and_round_trips():
    paths = sorted(MODELS_DIR.glob("**/card.json"))
    assert len(list_cards()) == len(paths)  # none is skipped as unreadable
    for path in paths:
        raw = json.loads(path.read_text(encoding="utf-8"))
        card = load_card(path)
        for split, values in card.metrics.items():
            assert not [k for k in values if k.partition("_")[0] in LEGACY_VARIANT_PREFIXES], (path, split)
            flat = (raw.get("metrics") or {}).get(split) or {}
            nested = {k: v for variant, by in (raw.get("variants") or {}).items()
                      for k, v in ((f"{variant}_{m}", x) for m, x in (by.get(split) or {}).items())}
            assert card.flat_metrics(split) == {**flat, **nested}, (path, split)  # nothing lost or renamed
        if card.method == "redgnn":
            assert set(card.variants) == {"nbfnet", "optimistic"}, path
            assert card.metric("test", "mrr", "optimistic") >= card.metric("test", "mrr") \
                >= card.metric("test", "mrr", "nbfnet"), path
        back = Card.from_dict(json.loads(json.dumps(card.to_dict())), path=card.path)
        assert back == card, path
        if card.seeds:
            seeds = card.seeds
            assert seeds["n"] == len(seeds["seeds"]) >= 2 and seeds["shipped_seed"] in seeds["seeds"], path
            assert seeds["shipped_seed"] == card.train["seed"], path
            for split, by_name in seeds["metrics"].items():
                for name, stats in by_name.items():
                    assert stats["std"] >= 0 and card.metric(split, name) is not None, (path, split, name)


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
