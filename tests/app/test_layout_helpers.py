"""The small rules that keep page text whole: download buttons a row by label length, a formula beside its reference
law only when it fits half the width, table headers and card structures for people, and a model card whose tiles
sit two a row."""
from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from ui.components.breakdown import column_config
from ui.components.downloads import columns_for
from ui.components.evidence_view import HALF_WIDTH_LATEX, column_label, latex_width
from ui.components.model_card import compact_text

#: the GSR electricity checkpoint's edge message, cut off at half the page's width before
LONG_FOUND = (r"\frac{0.01241 \Delta_{V}^{2}}{R} + \frac{6.182 \cdot 10^{-6} \Delta_{V}}{R^{3}} + 7.523 \cdot "
              r"10^{-7} V_{i}^{3} + 0.00057")


def test_download_labels_choose_how_many_buttons_share_a_row():
    assert [columns_for(n) for n in (14, 26, 27, 36, 44, 56, 68)] == [4, 4, 3, 3, 2, 2, 1]


def test_formula_width_counts_printed_characters_and_a_fraction_by_its_wider_part():
    assert latex_width(r"40.3 E_{1} - 0.2782") == len("40.3E1-0.2782")
    assert latex_width(r"\frac{E_{1}}{2}") == len("E1")
    assert latex_width(LONG_FOUND) > HALF_WIDTH_LATEX >= latex_width(r"\frac{(V_i - V_j)^2}{R}")


def test_headers_and_structures_read_as_words():
    assert column_label("r2_vs_network") == "R² vs network" and column_label("mean attention") == "mean attention"
    assert compact_text([[1, 0], [0, -2]]) == "[1, 0]\n[0, -2]"
    assert compact_text({"formula": "h1 r1 t1 − h2 r2 t2"}) == '{"formula": "h1 r1 t1 − h2 r2 t2"}'
    frame = pd.DataFrame({"relation": ["a"], "answers": pd.array([1251], dtype="Int64"), "mrr": [0.5],
                          "reached_mrr": [0.4], "training_queries": pd.array([34796], dtype="Int64")})
    config = column_config(frame)
    assert [config[c]["label"] for c in frame.columns] == ["relation", "answers", "MRR", "MRR, reached",
                                                           "training queries"]
    assert config["training_queries"]["type_config"]["format"] == "localized"


def _card_page() -> None:
    from backend.core.store import Card
    from ui.components.model_card import show_card

    show_card(Card(method="autoblm", dataset="family", params={"total": 1081976, "trainable": 670676},
                   train={"seconds": 635.2, "epochs": 20, "device": "cpu"},
                   metrics={"test": {"mrr": 0.5}},
                   artefacts={"structure": {"kind": "structure", "value": {
                       "matrix": [[1, 0], [0, 2]], "name": "Analogy", "latex": "f(h, r, t) = h_1 r_1 t_1"}}}))


def test_model_card_tiles_two_a_row_and_a_structure_as_latex_and_rows():
    at = AppTest.from_function(_card_page, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Parameters"] == "1,081,976" and tiles["Training time"] == "10 min 35 s"
    assert len(at.columns) == 2 + 2 + 2  # the card's two halves, then tiles two a row (three cut '1,081,976')
    assert [e.value.strip("$\n") for e in at.latex] == ["f(h, r, t) = h_1 r_1 t_1"]
    assert "[1, 0]\n[0, 2]" in [c.value for c in at.code] and not at.json
