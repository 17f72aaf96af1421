"""The README table generator reads the shipped cards."""
from __future__ import annotations

from backend.core import store


def test_checkpoint_table_has_one_row_per_redgnn_card_with_its_numbers():
    from scripts.checkpoint_table import checkpoint_rows

    cards = [c for c in store.list_cards() if c.method == "redgnn"]
    rows = checkpoint_rows("redgnn")
    assert len(rows) == len(cards) + 2
    family = next(c for c in cards if c.dataset == "family")
    row = next(r for r in rows if r.startswith("| family |"))
    assert f"| {family.metrics['test']['mrr']:.3f} |" in row
    assert "| 0.992 |" in row  # the WWW 2022 paper's family MRR
