"""Users' tables: header or none, aliases, delimiters; every bad cell named by row and column, the rest kept;
every data row of a file read or named with its line number (quotes, ragged rows, line endings, size, encoding)."""
from __future__ import annotations

import pytest

from backend.core.tables import Column, IncompleteTable, Problem, read_table, upload_limit_bytes

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
    assert len(table.rows) == 4 and table.dropped_rows == 6 and table.data_rows == 10 and not table.complete
    assert table.summary() == ["10 rows in the file: 4 read, 6 not read", "6 rows after the first 4 were not read"]
    headerless = read_table("".join(f"e{i},likes\n" for i in range(10)), COLUMNS, max_rows=4)
    assert headerless.rows["row"].tolist() == [1, 2, 3, 4] and headerless.dropped_rows == 6


def test_a_table_without_a_required_column_says_what_it_found_and_expected():
    with pytest.raises(ValueError, match=r"no column 'relation'; found 'subject', 'object'; expected head"):
        read_table("subject,object\na,b\n", COLUMNS)
    with pytest.raises(ValueError, match="the table is empty"):
        read_table("\n\n", COLUMNS)
    with pytest.raises(ValueError, match=r"not UTF-8 text \(byte 2, line 1"):
        read_table(b"a,\xff,b\n", COLUMNS)


def test_summary_caps_the_list_of_problems():
    text = "head,relation\n" + ",x\n" * 30
    table = read_table(text, COLUMNS)
    lines = table.summary(limit=5)
    assert len(table.problems) == 30 and len(lines) == 7
    assert lines[0] == "30 rows in the file: 0 read, 30 not read — see the problems below"
    assert lines[1] == "row 2, column head: empty" and lines[-1] == "… and 25 more problems"


def _accounted(table, lines: int) -> bool:
    """Every line of the file is the header, blank or a comment, read, a row with problems, or beyond max_rows."""
    return (table.rows_read + table.rows_with_problems + table.dropped_rows == table.data_rows
            and table.header + table.blank_lines + table.data_rows == lines)


def test_an_unterminated_quote_spoils_only_its_own_line():
    rows = [f"e{i},likes,e{i + 1}" for i in range(62)]
    rows[32] = '"e32,likes,e33'  # line 34 of the file: its quote is never closed
    table = read_table("head,relation,tail\n" + "\n".join(rows) + "\n", COLUMNS)
    assert table.rows_read == 61 and table.data_rows == 62 and not table.complete and _accounted(table, 63)
    assert table.rows["row"].tolist() == [n for n in range(2, 64) if n != 34]  # the real line numbers
    assert table.rows.iloc[-1].to_dict() == {"row": 63, "head": "e61", "relation": "likes", "tail": "e62"}
    assert [str(p) for p in table.problems] == [
        "row 34: unterminated quote: the quote at character 1 is not closed on its line (value '\"e32,likes,e33')"]
    assert table.summary()[0] == "62 rows in the file: 61 read, 1 not read — see the problems below"


def test_a_tsv_name_with_quotes_and_html_is_read_verbatim_and_no_row_is_lost():
    name = '"><script>alert(2)</script>'
    rows = [f"e{i}\tlikes\te{i + 1}" for i in range(2000)]
    rows[396] = f"{name}\tlikes\t\"quoted\" tail"  # line 397
    table = read_table("\n".join(rows).encode("utf-8"), COLUMNS)
    assert table.complete and table.rows_read == 2000 and table.problems == [] and table.summary() == []
    assert table.rows["row"].tolist() == list(range(1, 2001))
    assert table.rows.iloc[396].to_dict() == {"row": 397, "head": name, "relation": "likes", "tail": '"quoted" tail'}
    assert table.headline() == "2,000 rows in the file: all read"


def test_csv_quoting_keeps_separators_and_quotes_inside_cells_and_refuses_stray_quotes():
    text = ('head,relation,tail\n"Smith, J.",says,"She said ""hi"""\n "padded" , likes ,  plain  \n'
            '"closed"early,likes,x\na"b,likes,x\n')
    table = read_table(text, COLUMNS)
    assert table.rows[["head", "relation", "tail"]].values.tolist() == [
        ["Smith, J.", "says", 'She said "hi"'], ["padded", "likes", "plain"]]
    assert [f"{p.row}: {p.reason}" for p in table.problems] == [
        "4: text after the closing quote at character 8 (a quoted cell must end at the separator)",
        "5: a quote at character 2 inside a cell not wrapped in quotes (wrap the cell in double quotes and double "
        "the quote, or separate by tabs)"]
    # a quote left open that, were a quote inside an unwrapped cell allowed, would end as 3 cells
    swallowing = read_table('head,relation,tail\n"abc,""",rest",t\n', COLUMNS)
    assert swallowing.rows.empty and swallowing.problems[0].reason.startswith("a quote at character 14 inside")
    semicolons = read_table('h;r;t\n"a;b";"c";d\n', COLUMNS)
    assert semicolons.delimiter == ";" and semicolons.rows["head"].tolist() == ["a;b"]


def test_a_row_with_more_cells_than_columns_is_a_problem_unless_the_header_names_them():
    table = read_table("a,likes,b\nc,likes,d,e\nf,likes,g\n", COLUMNS)
    assert table.rows["row"].tolist() == [1, 3]
    assert [str(p) for p in table.problems] == ["row 2: row has 4 cells, expected 3 (value 'c,likes,d,e')"]
    named = read_table("head,relation,tail,weight\na,likes,b,0.5\nc,likes,d,1\n", COLUMNS)
    assert named.complete and list(named.rows.columns) == ["row", "head", "relation", "tail"]
    too_many = read_table("head,relation,tail,weight\na,likes,b,0.5,extra\n", COLUMNS)
    assert [p.reason for p in too_many.problems] == ["row has 5 cells, expected 4"]


def test_crlf_line_endings_unicode_and_blank_or_comment_lines_are_accounted_for():
    text = "head\trelation\ttail\r\n# a comment\r\nJosé\tloves\t東京 \u2028x\r\n\r\n  \t \r\nα\tβ\tγ\r\n"
    table = read_table(text.encode("utf-8"), COLUMNS)
    assert table.rows[["row", "head", "tail"]].values.tolist() == [[3, "José", "東京 \u2028x"], [6, "α", "γ"]]
    assert table.complete and table.blank_lines == 3 and _accounted(table, 6)


def test_rows_with_problems_are_counted_as_rows_not_as_problems():
    text = "head,relation,tail\n,,x\na,likes,b\n,likes,\nc\n\n# note\n"
    table = read_table(text, COLUMNS)
    assert len(table.problems) == 4 and table.rows_with_problems == 3 and table.rows_read == 1
    assert table.rows_not_read == 3 and _accounted(table, 7)
    assert table.summary()[0] == "4 rows in the file: 1 read, 3 not read — see the problems below"
    assert str(IncompleteTable(table, "graph.csv")) == (
        "not every row of graph.csv could be read (4 rows in the file: 1 read, 3 not read); "
        "first: row 2, column head: empty")
    dropped = table.drop([Problem(3, "head", "a", "unknown entity")])
    assert dropped.rows_read == 0 and dropped.rows_with_problems == 4
    assert [p.row for p in dropped.problems] == [2, 2, 3, 4, 5]  # by row


def test_sources_larger_than_the_upload_limit_are_refused(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[server]\nmaxUploadSize = 3\n", encoding="utf-8")
    assert upload_limit_bytes(config) == 3 * 2**20
    assert upload_limit_bytes(tmp_path / "missing.toml") == 200 * 2**20
    assert upload_limit_bytes() == 200 * 2**20  # the project's .streamlit/config.toml
    big = b"a,likes,b\n" * 110_000  # 1.05 MB
    with pytest.raises(ValueError, match=r"the file is 1\.0 MB, larger than the limit of 1 MB \(set by \[server\] "
                                         r"maxUploadSize in .streamlit/config.toml\)"):
        read_table(big, COLUMNS, max_bytes=2**20)
    path = tmp_path / "big.csv"
    path.write_bytes(big)
    with pytest.raises(ValueError, match="larger than the limit"):
        read_table(path, COLUMNS, max_bytes=2**20)
    assert read_table(path, COLUMNS).rows_read == 110_000


def test_a_file_that_is_not_utf8_names_the_byte_and_the_line():
    with pytest.raises(ValueError, match=r"not UTF-8 text \(byte 15, line 3: b'\\xe9'\); save it as UTF-8"):
        read_table(b"a,b,c\r\nd,e,f\ng,\xe9,h\n", COLUMNS)
    with pytest.raises(ValueError, match=r"byte 18, line 3"):  # the BOM's 3 bytes count
        read_table(b"\xef\xbb\xbfa,b,c\r\nd,e,f\ng,\xe9,h\n", COLUMNS)
