"""The stages of one setting: emerging drugs withheld from the training network, the simulated emerging drugs of a
training epoch, the fingerprint features, the description templates."""
from __future__ import annotations

import numpy as np
import pytest

from tests.emergnn_support import require_ddi


@pytest.fixture(scope="module")
def task(data_root):
    require_ddi(data_root)
    from tests.emergnn_support import fresh_model

    return fresh_model(str(data_root)).task          # the same Task the other tests load


def test_split_sizes_and_roles(task):
    sp = task.split
    assert (len(sp.train), len(sp.valid), len(sp.test)) == (99_283, 28_823, 31_984)
    assert (len(sp.train_drugs), len(sp.valid_drugs), len(sp.test_drugs)) == (1367, 170, 173)
    role = task.role
    assert (role[sp.train[:, :2]] == 0).all()
    for split, emerging in (("valid", 1), ("test", 2)):   # S1: exactly one emerging drug per pair
        pairs = sp.pairs(split)
        assert ((role[pairs[:, 0]] == emerging) ^ (role[pairs[:, 1]] == emerging)).all()


def test_network_per_stage_withholds_emerging_drugs(task):
    role = np.zeros(task.n_nodes, dtype=int)
    role[:task.n_drugs] = task.role
    for stage, allowed in (("train", 0), ("valid", 1), ("test", 2)):
        kg = task.kg[stage]
        assert role[kg[:, :2]].max() <= allowed
    assert len(task.kg["test"]) == task.net.n_edges
    assert len(task.kg["train"]) < len(task.kg["valid"]) < len(task.kg["test"])
    test_facts = task.facts("test")
    assert len(test_facts) == len(task.split.train) + len(task.split.valid) + task.net.n_edges


def test_epoch_simulates_emerging_drugs(task):
    rng = np.random.default_rng(0)
    graph, targets, removed = task.epoch(rng, 0.2)
    facts = graph.src[:graph.m], graph.dst[:graph.m], graph.rel[:graph.m]
    ddi = facts[2] < 86
    pool = np.intersect1d(task.split.train_drugs, np.flatnonzero(task.drug_has_kg))
    assert removed.sum() == len(pool) - int(0.8 * len(pool))     # distinct drugs (drawn without replacement)
    assert not removed[facts[0][ddi]].any() and not removed[facts[1][ddi]].any()   # they lose their DDI facts
    assert (removed[targets[:, 0]] ^ removed[targets[:, 1]]).all()  # each target: one removed, one kept drug
    both_kept = ~removed[task.split.train[:, 0]] & ~removed[task.split.train[:, 1]]
    assert ddi.sum() == both_kept.sum()
    kg = ~ddi
    touched = np.zeros(task.n_nodes, bool)
    touched[facts[0][kg]] = touched[facts[1][kg]] = True
    assert touched[np.flatnonzero(removed)].all()          # removed drugs keep their biomedical edges


def test_fingerprints_and_templates(task):
    fp = task.fingerprints
    assert tuple(fp.shape) == (1710, 1024) and set(np.unique(fp.numpy())) <= {0.0, 1.0}
    from backend.ddi.fingerprints import morgan

    assert (morgan(task.db.smiles[5]) == fp[5].numpy()).all()
    text = task.db.describe(0, "A", "B")
    assert "#Drug" not in text and "A" in text and "B" in text
