"""The paper reference table: every row well-formed, and spot checks against shared/reference/*.md."""
from __future__ import annotations

import math

import pytest

from backend.core import references as refs
from backend.core.references import CITATIONS, FRACTION_METRICS, REFERENCE_RESULTS, reference_rows

KNOWN_METRICS = FRACTION_METRICS | {"mse", "mae"}


def _one(**match):
    rows = [r for r in REFERENCE_RESULTS if all(getattr(r, k) == v for k, v in match.items())]
    assert len(rows) == 1, f"expected exactly one row for {match}, found {len(rows)}"
    return rows[0]


def test_every_citation_key_resolves():
    for r in REFERENCE_RESULTS:
        assert r.citation in CITATIONS, r
        assert refs.cite(r.citation) == CITATIONS[r.citation]
    with pytest.raises(KeyError, match="known"):
        refs.cite("nobody1999")


def test_registry_papers_have_citations():
    from backend.registry import METHODS

    for m in METHODS.values():
        assert m.paper in CITATIONS, f"{m.name}: paper key {m.paper!r} has no citation"
        assert any(r.method == m.name for r in REFERENCE_RESULTS), f"no reference row for {m.name}"


def test_rows_are_well_formed():
    assert len(REFERENCE_RESULTS) > 100
    for r in REFERENCE_RESULTS:
        assert r.metric in KNOWN_METRICS, r
        assert r.metric == r.metric.lower()
        assert r.params_kind in ("total", "adaptive"), r
        assert r.params is None or (isinstance(r.params, int) and r.params > 0), r
        assert r.value is not None or r.params is not None, f"row with neither value nor params: {r}"
        if r.value is not None:
            assert math.isfinite(r.value)
            if r.metric in FRACTION_METRICS:
                assert 0.0 <= r.value <= 1.0, f"{r.model} {r.dataset} {r.metric}={r.value} is not a fraction"
            else:
                assert r.value >= 0.0
        if r.std is not None:
            assert 0.0 <= r.std <= 1.0
        assert r.note, f"every row says where it comes from: {r}"


def test_no_duplicate_rows():
    keys = [(r.method, r.model, r.dataset, r.setting, r.metric, r.citation) for r in REFERENCE_RESULTS]
    assert len(keys) == len(set(keys))


def test_redgnn_numbers_match_kg_notes():
    assert _one(model="RED-GNN", dataset="family", citation="zhang2022redgnn").value == pytest.approx(0.992)
    assert _one(model="RED-GNN", dataset="umls", citation="zhang2022redgnn").value == pytest.approx(0.964)
    wn = _one(model="RED-GNN", dataset="WN18RR", citation="zhang2022redgnn")
    assert wn.value == pytest.approx(0.533) and wn.params == 57_719
    fb = _one(model="RED-GNN", dataset="fb15k-237", citation="zhang2022redgnn")
    assert fb.value == pytest.approx(0.374) and fb.params == 117_500
    assert _one(model="RED-GNN", dataset="family", citation="zhang2022redgnn").params == 26_865
    assert _one(model="RED-GNN", dataset="WN18RR", citation="survey").value == pytest.approx(0.564)
    assert _one(model="AutoBLM", dataset="fb15k-237").value == pytest.approx(0.360)


def test_emergnn_numbers_match_ddi_notes():
    e = _one(model="EmerGNN", dataset="drugbank", setting="S1", metric="f1")
    assert e.value == pytest.approx(0.620) and e.std == pytest.approx(0.020) and e.params == 137_164
    assert _one(model="SumGNN", dataset="drugbank", setting="S1", metric="f1").params == 1_237_628
    assert _one(model="DeepLGF", dataset="drugbank", setting="S1", metric="kappa").params == 11_160_226
    assert _one(model="DeepLGF", dataset="drugbank", setting="S1", metric="kappa").value == pytest.approx(0.510)
    assert _one(model="EmerGNN", dataset="twosides", setting="S1", metric="pr_auc").params == 156_406
    assert _one(model="EmerGNN", dataset="twosides", setting="S2", metric="roc_auc").value == pytest.approx(0.796)
    assert _one(model="SumGNN", dataset="drugbank", setting="S0", metric="accuracy").value == pytest.approx(0.927)
    assert _one(model="KG-DDI", dataset="drugbank", setting="S2", metric="kappa").value == 0.0
    # the parsimony picture: EmerGNN is the smallest and the best on DrugBank S1
    s1 = [r for r in REFERENCE_RESULTS if r.dataset == "drugbank" and r.setting == "S1" and r.metric == "f1" and r.params]
    assert min(s1, key=lambda r: r.params).model == "EmerGNN"
    assert max(s1, key=lambda r: r.value).model == "EmerGNN"


def test_molecule_and_recsys_and_gsr_numbers():
    par = _one(model="Pre-PAR", dataset="tox21", setting="10-shot")
    assert par.value == pytest.approx(0.8493) and par.params == 380_000 and par.params_kind == "adaptive"
    assert _one(model="Pre-PAR", dataset="muv", setting="1-shot").value == pytest.approx(0.6694)
    pacia = _one(model="PACIA")
    assert pacia.params == 3_000 and pacia.params_kind == "adaptive" and pacia.value is None
    assert _one(model="ColdNAS", dataset="lastfm", metric="mse").value == pytest.approx(0.2091)
    assert _one(model="ColdNAS", dataset="movielens", metric="mae").value == pytest.approx(0.7429)
    assert _one(model="GSR", dataset="mechanics", setting="complex").value == pytest.approx(0.917)
    assert _one(model="GSR", dataset="pedestrian", setting="bidirectional").value == pytest.approx(0.81)
    assert not [r for r in REFERENCE_RESULTS if r.model == "SymDL" and r.dataset == "electricity"]


def test_reference_rows_for_the_zoo():
    rows = reference_rows()
    assert len(rows) == len(REFERENCE_RESULTS)
    for key in ("method", "model", "dataset", "metric", "value", "params", "citation", "note"):
        assert key in rows[0]
    assert all(row["citation_text"] == CITATIONS[row["citation"]] for row in rows)
    assert {row["method"] for row in reference_rows("emergnn")} == {"emergnn"}
