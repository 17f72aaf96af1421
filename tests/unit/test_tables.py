"""Users' tables: header or none, aliases, delimiters; every bad cell named by row and column, the rest kept."""
from __future__ import annotations

import pytest

from backend.core.tables import Column, read_table

COLUMNS = [Column("head", ("h", "subject")), Column("relation", ("r", "predicate")),
           Column("tail", ("t", "object"), required=False)]


def test_header_with_aliases_in_any_order_and_any_case():
    table = read_table("Object,Subject,predicate\nb,a,likes\nd,c,knows\n", COLUMNS)
    assert table.rows.to_dict("records") == [{"row": 2, "head": "a", "relation": "likes", "tail": "b"},
                                             {"row": 3, "head": "c", "relation": "knows", "tail": "d"}]
    assert table.problems == []


def test_headerless_tsv_takes_the_declared_order_and_line_numbers():
    text = "\ufeff# a comment\na\tlikes\tb\n\nc\tknows\td\n"  # BOM, comment and blank lines are skipped
    table = read_table(text.encode("utf-8"), COLUMNS)
    assert table.rows[["row", "head", "relation", "tail"]].values.tolist() == [[2, "a", "likes", "b"],
                                                                               [4, "c", "knows", "d"]]


def test_bad_cells_are_named_and_the_other_rows_kept():
    text = "head;relation;tail\na;likes;b\n;knows;d\ne\nf;likes;g\n"
    table = read_table(text, COLUMNS)
    assert table.rows["row"].tolist() == [2, 5]
    assert [str(p) for p in table.problems] == [
        "row 3, column head: empty",
        "row 4, column relation: missing (the row has 1 of 3 columns)"]


def test_optional_column_may_be_absent_and_rows_beyond_the_limit_are_counted():
    table = read_table("h,r\n" + "".join(f"e{i},likes\n" for i in range(10)), COLUMNS, max_rows=4)
    assert list(table.rows.columns) == ["row", "head", "relation"]
    assert len(table.rows) == 4 and table.dropped_rows == 6
    assert table.summary()[-1] == "6 rows after the first 4 were not read"
    headerless = read_table("".join(f"e{i},likes\n" for i in range(10)), COLUMNS, max_rows=4)
    assert headerless.rows["row"].tolist() == [1, 2, 3, 4] and headerless.dropped_rows == 6


def test_a_table_without_a_required_column_says_what_it_found_and_expected():
    with pytest.raises(ValueError, match=r"no column 'relation'; found 'subject', 'object'; expected head"):
        read_table("subject,object\na,b\n", COLUMNS)
    with pytest.raises(ValueError, match="the table is empty"):
        read_table("\n\n", COLUMNS)
    with pytest.raises(ValueError, match=r"not UTF-8 text \(byte 2"):
        read_table(b"a,\xff,b\n", COLUMNS)


def test_summary_caps_the_list_of_problems():
    text = "head,relation\n" + ",x\n" * 30
    table = read_table(text, COLUMNS)
    lines = table.summary(limit=5)
    assert len(table.problems) == 30 and len(lines) == 6
    assert lines[0] == "row 2, column head: empty" and lines[-1] == "… and 25 more problems"
