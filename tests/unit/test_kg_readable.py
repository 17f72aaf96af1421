"""Answers a non-expert can read: relations found by the phrases people type, ranks in words, readable names
where a dataset has none."""
from __future__ import annotations

import os

import pytest

from backend.methods.redgnn.explain import ordinal, rank_in_words, relation_phrases

needs_data = pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")


def test_relation_phrases_of_a_freebase_name():
    phrases = dict(relation_phrases("/location/location/contains"))
    assert phrases["contains"] is False and phrases["contained by"] is True
    assert phrases["inverse of contains"] is True
    nationality = dict(relation_phrases("/people/person/nationality"))
    assert nationality["nationality"] is False and nationality["nationality of"] is True
    compound = dict(relation_phrases("/film/actor/film./film/performance/film"))
    assert "film" in compound and "inverse of film" in compound
    assert dict(relation_phrases("produces"))["produced by"] is True  # umls-style verbs
    assert "classed by" not in dict(relation_phrases("class"))  # a noun ending in 'ss' is no verb


def test_ranks_in_words():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    assert ordinal(2.5) == "2.5th"
    assert rank_in_words(1.0, 135, 9) == "1st of 135; 9 other true answers above it set aside"
    assert rank_in_words(3.0, 2000, 1) == "3rd of 2,000; 1 other true answer above it set aside"
    assert rank_in_words(1.0, 40, 0) == "1st of 40"


@needs_data
def test_fb15k237_everyday_relation_words(data_root):
    """Words a user types in the CLI's --query find FB15k-237's relations (the issue's examples)."""
    from backend.kg.loader import load_redgnn_layout
    from backend.methods.redgnn.explain import LoadedModel

    kg = load_redgnn_layout("fb15k-237", data_root)
    lm = LoadedModel(model=None, card=None, kg=kg, graph=None, known=None, device="cpu")
    label = lambda text: kg.relation_label(lm.relation_id(text))  # noqa: E731
    assert label("nationality") == "people person nationality"
    assert label("contained by") == "inverse of location location contains"
    assert label("Place of birth") == "people person place of birth"
    assert label("profession") == "people person profession"
    with pytest.raises(ValueError, match="'genre' names 2 relations in fb15k-237"):
        lm.relation_id("genre")  # shared by films and tv programmes: both offered


@needs_data
def test_datasets_without_names_read_well(data_root):
    from backend.kg.loader import load_redgnn_layout

    family = load_redgnn_layout("family", data_root)
    i = family.entities.index("3")
    assert family.entity_label(i) == "person 3" and family.entity_text(i) == "person 3"
    assert family.entity_labels is None  # display only: alignment by label never sees 'person 3'
    assert "numbers, not names" in family.naming_note
    umls = load_redgnn_layout("umls", data_root)
    assert all("_" not in umls.entity_label(i) for i in range(umls.n_ent))
    assert all("_" not in umls.relation_label(r) for r in range(2 * umls.n_rel))


def test_the_frequency_baseline_on_a_hand_built_graph():
    """Relation 0's training tails: entity 2 three times, entity 5 once. The valid triple (0, r0, 3) asked as a
    tail query: 2 and 5 are known answers of (0, r0), set aside; 3 scores 0, tied with 0, 1 and 4 -> rank
    1 + 3/2 = 2.5. Asked as a head query (3, inverse r0, ?): its answer 0 is r0's most frequent head (twice) ->
    rank 1. MRR (1/2.5 + 1) / 2 = 0.7."""
    import torch

    from backend.kg.baselines import frequency_baseline
    from backend.kg.loader import KGData

    t = lambda rows: torch.tensor(rows, dtype=torch.long).view(-1, 3)  # noqa: E731
    kg = KGData("toy", [str(i) for i in range(6)], ["r0"], facts=t([[0, 0, 2], [1, 0, 2], [4, 0, 2], [0, 0, 5]]),
                train=t([]), valid=t([[0, 0, 3]]), test=t([]))
    metrics = frequency_baseline(kg, "valid")
    assert metrics["mrr"] == pytest.approx(0.7, abs=1e-12) and metrics["hits@1"] == 0.5
