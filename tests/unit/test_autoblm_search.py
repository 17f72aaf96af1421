"""AutoBLM training, evaluation and search: filtered ranks against brute force, a tiny search on umls that writes a
trajectory, a killed search resumed with no candidate trained twice, the proposal rules."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.core.search import SerialExecutor, Trajectory
from backend.methods.autoblm import METHOD
from backend.methods.autoblm import structure as S
from backend.methods.autoblm.config import config_for
from backend.methods.autoblm.model import BilinearKGE
from backend.methods.autoblm.search import propose_evolutionary, propose_progressive
from backend.methods.autoblm.train import TrainSettings, evaluate_split, load_splits, train_structure

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def umls(data_root):
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["umls"], data_root) != "present":
        pytest.skip(f"umls is not under {data_root}")
    return load_splits("umls", str(data_root))


def tiny(tmp_path: Path, **changes):
    base = dataclasses.replace(config_for("umls"), search_dim=8, search_epochs=1, budget=7, per_round=2,
                               per_size=2, sample=32, classics=False, trajectory=str(tmp_path / "trajectory.jsonl"))
    return dataclasses.replace(base, **changes)


def test_evaluation_equals_brute_force_filtered_ranks(umls):
    torch.manual_seed(0)
    model = BilinearKGE(umls.kg.n_ent, umls.kg.n_rel, 8, S.as_matrix("ComplEx")).eval()
    got = evaluate_split(model, umls, "valid")
    E = model.entity.weight.detach().double().numpy()
    R = model.relation.weight.detach().double().numpy()
    A = model.structure
    known = {tuple(x) for x in torch.cat([umls.train, umls.kg.valid, umls.kg.test]).tolist()}
    rr = []
    for h, r, t in umls.kg.valid.tolist():
        tails = S.score_numpy(A, E[h], R[r], E)          # every entity as the tail
        heads = S.score_numpy(A, E, R[r], E[t])          # every entity as the head
        for scores, answer, others in ((tails, t, {e for e in range(len(E)) if (h, r, e) in known}),
                                       (heads, h, {e for e in range(len(E)) if (e, r, t) in known})):
            s = scores[answer]
            rank = 1.0
            for e in range(len(E)):
                if e == answer or e in others:
                    continue
                if scores[e] > s + 1e-9 * max(1, abs(s)):
                    rank += 1
                elif abs(scores[e] - s) <= 1e-9 * max(1, abs(s)):
                    rank += 0.5
            rr.append(1.0 / rank)
    assert got["mrr"] == pytest.approx(float(np.mean(rr)), abs=1e-12)


def test_training_learns_beyond_the_frequency_baseline(umls):
    from backend.kg.baselines import frequency_baseline

    result = train_structure(S.as_matrix("ComplEx"), umls, TrainSettings(32, 10, 0.3, 1e-3, 128, 0.99, 10), seed=0)
    assert result.valid["mrr"] > frequency_baseline(umls.kg, "valid")["mrr"] + 0.05
    # entity rows stay in the unit ball (the projection after every step)
    assert float(result.model.entity.weight.detach().norm(dim=1).max()) <= 1 + 1e-5


def test_tiny_search_writes_a_trajectory(tmp_path, umls, data_root):
    config = tiny(tmp_path)
    began = time.perf_counter()
    result = METHOD.search(config, data_dir=data_root, executor=SerialExecutor())
    assert time.perf_counter() - began < 60
    records = Trajectory(tmp_path / "trajectory.jsonl").records()
    assert len(records) == 7 and result.evaluated == 7
    keys = [r["canonical"] for r in records]
    assert len(set(keys)) == 7
    assert [r["candidate"]["blocks"] for r in records[:5]] == [4] * 5      # the non-equivalent 4-block start
    assert sorted(keys[:5]) == sorted(S.canonical_key(b) for b in S.base_structures())
    assert all(r["candidate"]["blocks"] == 6 for r in records[5:])          # then two more blocks
    assert all(S.is_valid(r["candidate"]["structure"]) for r in records)
    assert all(0 < r["score"] <= 1 for r in records)
    assert result.best["score"] == max(r["score"] for r in records)
    meta = json.loads((tmp_path / "search.json").read_text())
    assert meta["algorithm"] == "progressive" and meta["search_dim"] == 8


def test_resume_with_other_settings_is_refused(tmp_path, umls, data_root):
    METHOD.search(tiny(tmp_path, budget=2), data_dir=data_root)
    with pytest.raises(ValueError, match="search_epochs"):
        METHOD.search(tiny(tmp_path, budget=3, resume=True, search_epochs=2), data_dir=data_root)


@pytest.mark.slow
def test_killed_search_resumes_without_training_a_candidate_twice(tmp_path, umls, data_root):
    """The CLI search is killed (SIGKILL) after its second candidate; `--resume` finishes it; the trajectory holds
    each structure once and equals an uninterrupted search's."""
    killed = tmp_path / "killed"
    killed.mkdir()
    argv = [sys.executable, "-m", "backend", "search", "autoblm", "--dataset", "umls", "--budget", "8",
            "--search-dim", "8", "--search-epochs", "1", "--per-round", "2", "--per-size", "2", "--sample", "32",
            "--classics", "false", "--trajectory", str(killed / "trajectory.jsonl")]
    env = {**os.environ, "PARSIMONY_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = killed / "trajectory.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and len(Trajectory(path).records()) < 2:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = Trajectory(path).records()
    assert 2 <= len(before) < 8
    result = METHOD.search(tiny(killed, budget=8, resume=True), data_dir=data_root)
    after = Trajectory(path).records()
    assert result.resumed == len(before) and result.evaluated == 8 - len(before)
    assert after[:len(before)] == before                           # nothing rewritten
    keys = [r["canonical"] for r in after]
    assert len(keys) == len(set(keys)) == 8                         # no structure trained twice
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    METHOD.search(tiny(fresh, budget=8), data_dir=data_root)
    assert keys == [r["canonical"] for r in Trajectory(fresh / "trajectory.jsonl").records()]


def fake_history(structures, scores, rounds=None):
    return [{"index": i, "candidate": {"structure": S.to_vector(A), "blocks": S.n_blocks(A), "generation": 0},
             "canonical": S.canonical_key(A), "score": s, "status": "ok", "round": (rounds or [0] * 99)[i]}
            for i, (A, s) in enumerate(zip(structures, scores))]


CONFIG = {"per_round": 3, "parents": 2, "sample": 64, "per_size": 3}


def test_progressive_grows_the_best_parents_by_two_blocks():
    bases = S.base_structures()
    history = fake_history(bases, [0.1, 0.2, 0.9, 0.3, 0.8])
    out = propose_progressive(CONFIG, history, np.random.default_rng(0))
    assert len(out) == 3
    best_two = {S.canonical_key(bases[2]), S.canonical_key(bases[4])}
    seen = {r["canonical"] for r in history}
    for cand in out:
        A = np.array(cand.spec["structure"]).reshape(4, 4)
        assert S.n_blocks(A) == 6 and S.is_valid(A) and cand.canonical not in seen
        assert cand.canonical == S.canonical_key(A)
        # the child contains (an equivalent of) one of the two best parents: removing 2 blocks gives it back
        cells = list(zip(*np.nonzero(A)))
        found = False
        for i in range(len(cells)):
            for j in range(i + 1, len(cells)):
                B = A.copy()
                B[cells[i]] = 0
                B[cells[j]] = 0
                found |= S.is_valid(B) and S.canonical_key(B) in best_two
        assert found
    # the same history and rng propose the same candidates (what resuming relies on)
    again = propose_progressive(CONFIG, history, np.random.default_rng(0))
    assert [c.canonical for c in again] == [c.canonical for c in out]


def test_evolutionary_children_are_new_valid_structures():
    bases = S.base_structures()
    history = fake_history(bases, [0.5, 0.4, 0.3, 0.2, 0.1])
    out = propose_evolutionary(CONFIG, history, np.random.default_rng(1))
    assert 0 < len(out) <= 3
    seen = {r["canonical"] for r in history}
    assert all(S.is_valid(c.spec["structure"]) and c.canonical not in seen for c in out)
    assert all(c.spec["generation"] == 1 for c in out)
