"""Drug-name resolution: case, spacing, DrugBank ids, the picker's text, synonyms, unknown names with suggestions."""
from __future__ import annotations

import pytest

from backend.ddi.names import DrugNames, UnknownDrug

NAMES = DrugNames(["Warfarin", "Acetylsalicylic acid", "Tapentadol", "Dolasetron", "Valproic acid"],
                  ["DB00682", "DB00945", "DB06204", "DB00757", "DB00313"])


@pytest.mark.parametrize("text, want", [
    ("Warfarin", 0), ("warfarin", 0), ("  WARFARIN ", 0), ("DB00682", 0), ("db00682", 0),
    ("Warfarin (DB00682)", 0), ("acetylsalicylic-acid", 1), ("Acetylsalicylic Acid", 1), ("aspirin", 1),
    ("Aspirin", 1), ("valproate", 4), ("Tapentadol (DB06204)", 2)])
def test_resolves(text, want):
    assert NAMES.resolve(text) == want


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownDrug) as err:
        NAMES.resolve("Warfarn")
    assert err.value.suggestions[0] == "Warfarin"
    assert "Warfarin" in str(err.value)
    with pytest.raises(UnknownDrug) as err:
        NAMES.resolve("Tapenta")                       # a truncated name: prefix matches come too
    assert "Tapentadol" in err.value.suggestions
    with pytest.raises(UnknownDrug) as err:
        NAMES.resolve("zzzzqqq")
    assert err.value.suggestions == []
    with pytest.raises(UnknownDrug):
        NAMES.resolve("")
    with pytest.raises(UnknownDrug):
        NAMES.resolve("DB99999")                       # a well-formed id that is not among the drugs


def test_options_are_sorted_picker_texts():
    opts = NAMES.options()
    assert opts[0] == "Acetylsalicylic acid (DB00945)" and len(opts) == 5
    assert all(NAMES.resolve(o) == i for i, o in sorted((NAMES.resolve(o), o) for o in opts))


def test_real_names(data_root):
    from tests.emergnn_support import require_ddi

    require_ddi(data_root)
    from backend.ddi.data import drugbank

    db = drugbank(str(data_root))
    names = DrugNames(db.names, db.drugbank_ids)
    assert db.names[names.resolve("cyclosporine")] == "Cyclosporine"
    assert db.names[names.resolve("ciclosporin")] == "Cyclosporine"
    assert db.names[names.resolve("paracetamol")] == "Acetaminophen"
    assert len(set(names.options())) == 1710
