"""A loaded EmerGNN checkpoint: one pair, a CSV of pairs with bad rows, a new drug by SMILES, evidence paths."""
from __future__ import annotations

import pytest

from tests.emergnn_support import fresh_model, require_ddi


@pytest.fixture(scope="module")
def model(data_root):
    require_ddi(data_root)
    return fresh_model(str(data_root))


def test_one_pair(model):
    frame = model.predict({"drug1": "warfarin", "drug2": "Aspirin", "top": 4})
    assert len(frame) == 4 and frame["probability"].is_monotonic_decreasing
    assert frame["probability"].between(0, 1).all()
    assert all("Warfarin" in d and "Acetylsalicylic acid" in d for d in frame["description"])
    assert frame.attrs["status1"] == "existing"
    role = model.task.role[model.names.resolve("aspirin")]
    assert frame.attrs["status2"] == ("existing" if role == 0 else "emerging")


def test_unknown_and_self_pairs(model):
    from backend.ddi.names import UnknownDrug

    with pytest.raises(UnknownDrug) as err:
        model.predict({"drug1": "Warfarn", "drug2": "Aspirin"})
    assert "Warfarin" in err.value.suggestions
    with pytest.raises(ValueError, match="itself"):
        model.predict({"drug1": "Warfarin", "drug2": "DB00682"})


CSV = ("drug1,drug2\n"
       "Warfarin,Acetylsalicylic acid\n"     # 2 ok
       "Warfarn,Tapentadol\n"                # 3 unknown drug1, with a suggestion
       "Tapentadol,Tapentadol\n"             # 4 a drug with itself
       "warfarin,aspirin\n"                  # 5 duplicate of row 2 (names resolved)
       "Tapentadol,\n"                       # 6 empty drug2
       "DB06204,DB00757\n")                  # 7 ok (DrugBank ids)


def test_csv_rows_validated_and_valid_rows_kept(model):
    frame = model.predict(table=CSV.encode())
    assert frame["row"].tolist() == [2, 7]
    assert frame["drug1"].tolist() == ["Warfarin (DB00682)", "Tapentadol (DB06204)"]
    problems = {p["row"]: p for p in frame.attrs["problem_rows"]}
    assert set(problems) == {3, 4, 5, 6}
    assert problems[3]["column"] == "drug1" and "Warfarin" in problems[3]["reason"]
    assert "itself" in problems[4]["reason"]
    assert "duplicate of row 2" in problems[5]["reason"]
    assert problems[6]["column"] == "drug2"
    assert frame["probability"].between(0, 1).all() and (frame["probability"] >= frame["second probability"]).all()


def test_csv_whole_table_errors(model):
    with pytest.raises(ValueError, match="no column 'drug2'"):
        model.predict(table=b"drug1,dose\nWarfarin,5\n")
    headerless = model.predict(table=b"first,second\nWarfarin,Tapentadol\n")  # no header: columns by position
    assert headerless["row"].tolist() == [2] and headerless.attrs["problem_rows"][0]["column"] == "drug1"
    with pytest.raises(ValueError, match="empty"):
        model.predict(table=b"")
    from backend.core.tables import Column, read_table

    with pytest.raises(ValueError):  # the reader refuses a file over the size limit before reading a row
        read_table(b"drug1,drug2\n" + b"Warfarin,Tapentadol\n" * 100, [Column("drug1"), Column("drug2")],
                   max_bytes=100)


def test_new_drug_by_smiles_is_linked_by_fingerprint(model):
    """Warfarin's own SMILES as a new drug: linked to Warfarin (Dice 1), same features, so the same prediction as
    Warfarin with an extra resembles-edge to it."""
    wid = model.names.resolve("Warfarin")
    new = model.drug(smiles=model.db.smiles[wid])
    assert new.status == "new" and new.links[0] == (wid, pytest.approx(1.0))
    assert all(d >= 0.5 for _, d in new.links[1:])
    frame = model.predict({"smiles1": model.db.smiles[wid], "drug2": "Tapentadol"})
    assert frame.attrs["status1"] == "new" and len(frame) == 5
    with pytest.raises(ValueError, match="SMILES"):
        model.drug(smiles="not a smiles((")


def test_explain_paths_run_between_the_two_drugs(model):
    from backend.core.evidence import GraphPart, TablePart

    ev = model.explain({"drug1": "Tapentadol", "drug2": "Dolasetron", "paths": 6})
    graph = next(p for p in ev.parts if isinstance(p, GraphPart))
    table = next(p for p in ev.parts if isinstance(p, TablePart)).to_frame()
    u, v = model.names.resolve("Tapentadol"), model.names.resolve("Dolasetron")
    for p in graph.paths:
        assert {p.nodes[0], p.nodes[-1]} == {str(u), str(v)} and 1 <= len(p.relations) <= 3
    assert len(table) == len(graph.paths) and table["contribution"].is_monotonic_decreasing
    assert all(t.startswith("Drug") and t.endswith("Drug") for t in table["entity types"])
    kinds = {n.kind for n in graph.nodes}
    assert "Drug" in kinds and set(graph.legend.node_kinds) <= kinds
    assert ev.summary["probability"] == pytest.approx(model.predict({"drug1": "Tapentadol", "drug2": "Dolasetron"})
                                                      ["probability"].iloc[0], abs=1e-5)
    assert 0 <= ev.summary["probability without the paths' facts"] <= 1
