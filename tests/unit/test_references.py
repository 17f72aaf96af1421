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


def test_every_row_has_a_citation_and_a_source():
    for r in REFERENCE_RESULTS:
        assert r.citation in CITATIONS, r
        assert r.source and "kg.md" not in r.source and "issue" not in r.source, f"readable source for {r}"
        if r.params is None:
            assert r.params_source == "" and r.computed_from is None, r
        else:
            assert r.params_source in ("paper", "code", "computed"), r
            assert (r.computed_from is not None) == (r.params_source == "computed"), r


def _kg_readme_sizes() -> dict[str, tuple[int, int]]:
    """entities and relations per dataset from the data README's "Datasets" table."""
    import os
    import re
    from pathlib import Path

    readme = Path(os.environ.get("PARSIMONY_DATA", "")) / "kg" / "README.md"
    if not readme.exists():
        pytest.skip("the data README is not here (PARSIMONY_DATA)")
    sizes = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (\S+) \| ([\d,]+) \| ([\d,]+) \|", line)
        if m:
            sizes[m[1]] = (int(m[2].replace(",", "")), int(m[3].replace(",", "")))
    return sizes


def test_computed_parameter_counts_follow_from_the_published_dimensions():
    readme = _kg_readme_sizes()
    computed = [r for r in REFERENCE_RESULTS if r.params_source == "computed"]
    assert {r.model for r in computed} == {"RED-GNN", "RotatE"}
    for r in computed:
        spec = r.computed_from
        assert (spec["entities"] if "entities" in spec else refs.KG_SIZES[r.dataset][0],
                spec["relations"]) == readme[r.dataset] == refs.KG_SIZES[r.dataset], r
        if spec["kind"] == "embedding":
            e, n_rel, de, dr = spec["entities"], spec["relations"], spec["entity_dim"], spec["relation_dim"]
            assert r.params == e * de + n_rel * dr, r
            if de == dr:
                assert r.params == (e + n_rel) * de
        else:  # RED-GNN, kg.md 1.1: per layer (2R+1)d + 3da + 2a + 1 + d^2, a GRU 6d^2 + 6d, the read-out d
            R, d, a, L = spec["relations"], spec["hidden_dim"], spec["attn_dim"], spec["layers"]
            assert r.params == L * ((2 * R + 1) * d + 3 * d * a + 2 * a + 1 + d * d) + 6 * d * d + 7 * d, r
    # RotatE (best_config.sh): complex entities of 2d numbers, relations of d phases
    rot = _one(model="RotatE", dataset="WN18RR", metric="mrr")
    assert rot.params == 40_943 * 2 * 500 + 11 * 500 == 40_948_500 and rot.value == pytest.approx(0.477)
    assert _one(model="RotatE", dataset="fb15k-237", metric="mrr").params == 14_541 * 2000 + 237 * 1000
    # the formula gives the notes' counts, and this project's family model of the same configuration has it
    assert [_one(model="RED-GNN", dataset=ds, citation="zhang2022redgnn").params
            for ds in ("family", "umls", "WN18RR", "fb15k-237")] == [26_865, 80_119, 57_719, 117_500]
    from backend.core import store

    family = store.MODELS_DIR / "redgnn" / "family"
    if (family / "card.json").exists():  # same hyper-parameters as the 2022 code (kg.md 1.3)
        assert store.load_card(family).params["total"] == 26_865


def test_the_parsimony_comparisons_the_zoo_draws():
    s1 = {r.model: r for r in REFERENCE_RESULTS if r.dataset == "drugbank" and r.setting == "S1" and r.metric == "f1"}
    assert (s1["SumGNN"].params, s1["DeepLGF"].params, s1["EmerGNN"].params) == (1_237_628, 11_160_226, 137_164)
    assert all(s1[m].params_source == "paper" for m in ("SumGNN", "DeepLGF", "EmerGNN", "Decagon"))
    # EmerGNN's Table 1 marks the baselines that use the biomedical network
    assert {m for m, r in s1.items() if r.knowledge_aware} == {"HIN-DDI", "KG-DDI", "CompGCN", "Decagon", "KGNN",
                                                               "SumGNN", "DeepLGF", "EmerGNN"}
    assert {m for m, r in s1.items() if not r.baseline} == {"EmerGNN"}
    par, pacia = _one(model="Pre-PAR", dataset="tox21", setting="10-shot"), _one(model="PACIA")
    assert (par.params, pacia.params, par.params_kind, pacia.params_kind) == (380_000, 3_000, "adaptive", "adaptive")
    assert not par.baseline and not pacia.baseline and par.knowledge_aware and pacia.knowledge_aware
    for model in ("RotatE", "Interstellar", "CompGCN"):
        assert all(r.baseline and not r.knowledge_aware for r in REFERENCE_RESULTS
                   if r.model == model and r.method in ("redgnn", "autoblm")), model
