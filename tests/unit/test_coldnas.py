"""ColdNAS: modulation operations, structure codes, gate ranking, metrics, loaders (incl. a generated Book-Crossing
file), a search that writes a trajectory and resumes, selection on validation users only, the loaded model's
verbs, the shipped cards."""
from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import importlib

from backend.methods.coldnas import config as cn_config
from backend.methods.coldnas.model import (FILM, N_STRUCTURES, OPS, ColdNAS, decode, describe, encode, mask_of,
                                           modulate, rank_structures)
cn_train = importlib.import_module("backend.methods.coldnas.train")  # the module (the package's train is a function)

from tests.coldnas_support import GuardedEpisodes, UsersTouchedError, tiny_data, write_bookcrossing

ROOT = Path(__file__).resolve().parents[2]
DATA = os.environ.get("PARSIMONY_DATA", "")
needs_data = pytest.mark.skipif(not DATA or not (Path(DATA) / "recsys" / "lastfm").is_dir(),
                                reason="PARSIMONY_DATA with recsys/ is needed")


# ------------------------------------------------------------------------------------------ operations
def test_modulation_operations_on_known_tensors():
    x = torch.tensor([[[1.0, -2.0, 3.0]]])                       # [B=1, Q=1, D=3]
    phi = torch.tensor([[[0.0, 0.0, 5.0],                          # max
                         [2.0, -3.0, 4.0],                         # min
                         [2.0, 0.5, 0.0],                          # mul (already relu'd)
                         [1.0, 1.0, 1.0]]])                        # add
    assert modulate(x, phi, [1, 0, 0, 0]).tolist() == [[[1.0, 0.0, 5.0]]]
    assert modulate(x, phi, [0, 1, 0, 0]).tolist() == [[[1.0, -3.0, 3.0]]]
    assert modulate(x, phi, [0, 0, 1, 0]).tolist() == [[[2.0, -1.0, 0.0]]]
    assert modulate(x, phi, [0, 0, 0, 1]).tolist() == [[[2.0, -1.0, 4.0]]]
    # the fixed order max -> min -> mul -> add: max(1,0)=1, min(1,2)=1, *2 = 2, +1 = 3 ...
    assert modulate(x, phi, [1, 1, 1, 1]).tolist() == [[[3.0, -0.5, 1.0]]]
    assert modulate(x, phi, [0, 0, 0, 0]).tolist() == x.tolist()
    # a gate a mixes: a * op(x) + (1 - a) * x
    half = modulate(x, phi, [torch.tensor(0.5), 0, 0, 0])
    assert torch.allclose(half, 0.5 * torch.tensor([[[1.0, 0.0, 5.0]]]) + 0.5 * x)


def test_structure_codes_are_65536_distinct_and_round_trip():
    subsets = [[op for op, keep in zip(OPS, bits) if keep] for bits in itertools.product((0, 1), repeat=4)]
    codes = {encode(list(s)) for s in itertools.product(subsets, repeat=4)}
    assert len(codes) == N_STRUCTURES == 65536 and codes == set(range(65536))
    for code in (0, 1, 255, 4096, 13107, 65535, 8738):
        assert encode(decode(code)) == code
    assert decode(FILM) == [["mul", "add"]] * 4 and FILM == cn_config.FILM == 0x3333
    assert decode(0x8000) == [["max"], [], [], []] and decode(1) == [[], [], [], ["add"]]
    assert describe(encode([["add"], ["add"], ["max", "add"], []])) == "add | add | max+add | none"
    assert mask_of(encode([["min"], [], [], ["mul"]])).tolist()[0] == [0, 1, 0, 0]
    with pytest.raises(ValueError):
        encode([["pow"], [], [], []])
    with pytest.raises(ValueError):
        decode(65536)


def test_rank_structures_against_brute_force():
    gates = torch.rand(4, 4, generator=torch.Generator().manual_seed(3)) * 0.9 + 0.05
    ranked = rank_structures(gates, 5)
    threshold = encode([[op for j, op in enumerate(OPS) if gates[k, j] > 0.5] for k in range(4)])
    assert ranked[0][0] == threshold
    codes = np.arange(N_STRUCTURES)
    bits = (codes[:, None] >> (15 - np.arange(16))[None, :]) & 1            # bit 15 = position 0's max
    g = gates.double().numpy().reshape(-1)
    ll = (bits * np.log(g) + (1 - bits) * np.log(1 - g)).sum(1)
    brute = np.argsort(-ll, kind="stable")[:5]
    assert [c for c, _ in ranked] == brute.tolist()
    assert all(math.isclose(v, ll[c], rel_tol=1e-9) for c, v in ranked)


def test_supernet_with_saturated_gates_equals_the_fixed_structure():
    torch.manual_seed(0)
    code = encode([["add"], ["mul"], ["max", "add"], []])
    fixed = ColdNAS({"item": 10}, {"user": 0}, d=4, hidden=(8, 6, 4), structure=code)
    supernet = ColdNAS({"item": 10}, {"user": 0}, d=4, hidden=(8, 6, 4), structure=None)
    supernet.load_state_dict({**fixed.state_dict(), "alpha": (mask_of(code) * 2 - 1) * 60.0})
    sup_x, sup_r, mask, q = torch.randn(3, 5, 8), torch.rand(3, 5), torch.ones(3, 5, dtype=torch.bool), \
        torch.randn(3, 7, 8)
    assert torch.allclose(fixed(sup_x, sup_r, mask, q), supernet(sup_x, sup_r, mask, q), atol=1e-6)


def test_episode_metrics_against_brute_force_and_sklearn():
    from sklearn.metrics import ndcg_score

    preds = [np.array([0.9, 0.1, 0.5, 0.3]), np.array([2.0, 4.5, 3.0])]
    truths = [np.array([1.0, 0.0, 1.0, 0.0]), np.array([3.0, 5.0, 1.0])]
    m = cn_train.episode_metrics(preds, truths)
    assert math.isclose(m["mse"], np.mean([np.mean((p - t) ** 2) for p, t in zip(preds, truths)]), rel_tol=1e-9)
    assert math.isclose(m["mae"], np.mean([np.mean(np.abs(p - t)) for p, t in zip(preds, truths)]), rel_tol=1e-9)
    ref = np.mean([ndcg_score([2 ** t - 1], [p], k=3) for p, t in zip(preds, truths)])
    assert math.isclose(m["ndcg@3"], ref, rel_tol=1e-9)


# ------------------------------------------------------------------------------------------ loaders
def test_bookcrossing_loader_on_a_generated_file(tmp_path):
    from backend.recsys.bookcrossing import load_bookcrossing, source

    written = write_bookcrossing(tmp_path / "bx")
    data = load_bookcrossing(tmp_path / "bx")
    assert data.n_items == 30 and data.rating_max == 10
    assert data.item_names[0] == 'The "Quoted" Book (Author 0)' and data.item_names[1].startswith("Cats & Dogs")
    total = sum(len(v[0]) for v in data.interactions.values())
    assert total == written["explicit"]                      # implicit 0 ratings dropped, nothing else lost
    assert all(len(e.query_items) == 10 for s in ("train", "valid", "test") for e in data.episodes[s])
    assert sum(len(v) for v in data.episodes.values()) == 30     # the 30 users with 20 ratings are eligible
    assert data.user_fields["age"][5, 0] == data.user_vocab["age"]        # user 5's age is NULL -> unknown
    assert "münchen, bayern, germany" in [k for k in ("münchen, bayern, germany",)]
    assert source()["url"].startswith("http://www2.informatik.uni-freiburg.de/~cziegler/BX/")
    from backend.core.data import DataMissingError

    with pytest.raises(DataMissingError, match="BX-CSV-Dump.zip"):
        load_bookcrossing(tmp_path / "nothing")


@needs_data
def test_lastfm_loader_counts_and_popularity():
    data = cn_train.get_data("lastfm")
    assert data.n_items == 3846 and data.n_users == 1872
    assert len(data.episodes["train"]) == 248 and len(data.episodes["test"]) == 66
    assert sum(len(e.query_items) for e in data.episodes["test"]) == 939
    assert all(len(e.support_items) == 20 for e in data.episodes["test"])
    pop = cn_train.popularity_table(data)
    m = cn_train.episode_metrics([pop[e.query_items] for e in data.episodes["test"]],
                                 [e.query_ratings for e in data.episodes["test"]])
    assert abs(m["mse"] - 0.2411) < 1e-4 and abs(m["mae"] - 0.3829) < 1e-4   # the reference's reading
    train_users, test_users = set(data.interactions["train"][0]), {e.user for e in data.episodes["test"]}
    assert not train_users & test_users


@needs_data
def test_movielens_loader_uses_melu_new_user_rule():
    data = cn_train.get_data("movielens")
    eligible = sum(len(v) for v in data.episodes.values())
    assert eligible == 617 and len(data.episodes["test"]) == 125
    assert all(len(e.query_items) == 10 and 3 <= len(e.support_items) <= 90
               for s in data.episodes for e in data.episodes[s])
    assert data.rating_min == 1 and data.rating_max == 5
    assert data.item_names[0] == "Toy Story (1995)"
    assert data.unknown_user_row()["gender"][0, 0] == data.user_vocab["gender"] == 2


# ------------------------------------------------------------------------------------------ search
def _tiny_config(tmp_path, **kw) -> cn_config.ColdNASConfig:
    base = dict(dataset="tiny", embedding_dim=8, hidden="16,8,8", epochs=2, search_epochs=2, candidate_epochs=1,
                top_k=3, batch_size=16, baselines=False, output=str(tmp_path / "run"), lr=1e-2)
    base.update(kw)
    return cn_config.ColdNASConfig(**base)


@pytest.fixture
def tiny(monkeypatch):
    data = tiny_data()
    monkeypatch.setitem(cn_train._DATA, ("tiny", ""), data)
    return data


def test_search_writes_a_trajectory_and_resumes(tmp_path, tiny, monkeypatch):
    cfg = _tiny_config(tmp_path)
    first = cn_train.search(cfg, device="cpu")
    traj = Path(cfg.output) / "trajectory.jsonl"
    lines = traj.read_text().splitlines()
    assert first.evaluated == 3 and len(lines) == 3
    assert all(json.loads(x)["metrics"].keys() >= {"valid_mse"} for x in lines)
    card = json.loads((Path(cfg.output) / "card.json").read_text())
    assert card["artefacts"]["structure"]["code"] == first.best["candidate"]["structure"]
    assert card["extras"]["search"]["chosen"] == first.best["candidate"]["structure"]
    # interrupted after the second candidate: the resumed search evaluates only the third, and reuses the supernet
    traj.write_text("\n".join(lines[:2]) + "\n")
    monkeypatch.setattr(cn_train, "run_supernet", lambda *a, **k: pytest.fail("the supernet ran again"))
    again = cn_train.search(cfg, device="cpu")
    assert again.resumed == 2 and again.evaluated == 1
    assert [json.loads(x)["canonical"] for x in traj.read_text().splitlines()] == \
           [json.loads(x)["canonical"] for x in lines]


def test_selection_reads_validation_users_only(tmp_path, tiny, monkeypatch):
    """Test users are read exactly once, by the final evaluation, after every candidate has been scored; a read
    anywhere earlier (supernet, candidate retraining, structure choice, final training) raises."""
    guarded = GuardedEpisodes(tiny.episodes)
    monkeypatch.setattr(tiny, "episodes", guarded)
    GuardedEpisodes.touched = 0
    cfg = _tiny_config(tmp_path, top_k=2)
    finals = []
    real_final = cn_train.final_evaluation

    def final(models, data, cat):  # the one sanctioned read
        finals.append(len((Path(cfg.output) / "trajectory.jsonl").read_text().splitlines()))
        guarded.armed = False
        try:
            return real_final(models, data, cat)
        finally:
            guarded.armed = True

    monkeypatch.setattr(cn_train, "final_evaluation", final)
    cn_train.search(cfg, device="cpu")
    assert GuardedEpisodes.touched == 0
    assert finals == [2]                  # once, after both candidates were scored on validation users
    with pytest.raises(UsersTouchedError):  # and the guard does catch a read
        guarded["test"]
    GuardedEpisodes.touched = 0


# ------------------------------------------------------------------------------------------ the loaded model
@pytest.fixture
def tiny_model(tmp_path, tiny):
    cfg = _tiny_config(tmp_path, structure=FILM, epochs=3)
    cn_train.train(cfg, device="cpu")
    from backend.methods.coldnas import load

    return load(cfg.output, device="cpu")


def test_recommendations_problems_and_influence(tiny_model):
    m = tiny_model
    frame = m.predict({"ratings": "Item 0=1; Item 2=1; Nope=1; Item 3=7; 105=0", "top": 5})
    assert len(frame) == 5 and not {"Item 0", "Item 2", "Item 5"} & set(frame["item"])
    assert frame["predicted_rating"].is_monotonic_decreasing
    problems = frame.attrs["problem_rows"]
    assert [(p["row"], p["column"]) for p in problems] == [(3, "item"), (4, "rating")]
    ratings = {0: 1.0, 2: 1.0, 5: 0.0}
    targets = np.array([1, 4, 7])
    infl = m.influence(ratings, targets)
    full = m.score_sets([ratings], targets)[0]
    for i, leave in enumerate(ratings):
        without = m.score_sets([{k: v for k, v in ratings.items() if k != leave}], targets)[0]
        assert np.allclose(infl[i], full - without, atol=1e-6)
    ev = m.explain({"ratings": "Item 0=1; Item 2=1", "top": 3})
    table = next(p for p in ev.parts if p.kind == "table").to_frame()
    assert len(table) == 6 and {"influence", "rated item"} <= set(table.columns)
    assert next(p for p in ev.parts if p.kind == "structure").matrix == [[0, 0, 1, 1]] * 4


def test_uploaded_table_keeps_valid_rows(tiny_model):
    csv = b"item,rating\nItem 1,1\nUnknown band,1\nItem 3,x\n104,0\n"
    frame = tiny_model.predict(table=csv)
    assert frame.attrs["ratings_used"] == {"Item 1": 1.0, "Item 4": 0.0}
    assert [(p["row"], p["column"]) for p in frame.attrs["problem_rows"]] == [(3, "item"), (4, "rating")]


# ------------------------------------------------------------------------------------------ shipped checkpoints
@needs_data
@pytest.mark.parametrize("dataset", ["lastfm", "movielens"])
def test_shipped_card_reproduces(dataset):
    from backend.registry import get_method

    folder = ROOT / "models" / "coldnas" / dataset
    if not (folder / "card.json").exists():
        pytest.skip(f"no shipped {dataset} checkpoint")
    method = get_method("coldnas")
    model = method.open(folder, device="cpu")
    for split in ("valid", "test"):
        got = model.evaluate(split)
        for k, v in model.card.metrics[split].items():
            assert abs(got[k] - v) < 1e-5, (split, k, got[k], v)
    # the card's figures are honest: the chosen structure beat the other candidates on validation, not test
    traj = [json.loads(x) for x in (folder / "trajectory.jsonl").read_text().splitlines()]
    assert model.card.artefacts["structure"]["code"] == min(traj, key=lambda r: r["score"])["candidate"]["structure"]
    assert all(not any(k.startswith("test") for k in r["metrics"]) for r in traj)


def test_a_model_starts_from_its_seed_whatever_was_drawn_before():
    """build(..., seed) gives the same initial weights after any other use of torch's generator (a search's retrain
    used to start from wherever the candidates before it had left the generator), and another seed others."""
    from backend.methods.coldnas.train import build

    data, cfg = tiny_data(), cn_config.ColdNASConfig(dataset="tiny")
    first = build("coldnas", data, cfg, FILM, seed=3).state_dict()
    torch.rand(1000)
    again = build("coldnas", data, cfg, FILM, seed=3).state_dict()
    other = build("coldnas", data, cfg, FILM, seed=4).state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first if first[k].is_floating_point())
