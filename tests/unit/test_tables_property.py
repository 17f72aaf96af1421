"""Property: in any generated table (names with quotes, separators, HTML, unicode or nothing; blank, comment,
ragged and broken lines; LF or CRLF; header or none; tab- or comma-separated) every data row is read or
reported under its own line number, and every row written validly is read with the names as written."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.tables import Column, read_table

COLUMNS = [Column("head", ("h", "subject")), Column("relation", ("r", "predicate")), Column("tail", ("t", "object"))]
SPECIAL = list('"\t,;| <>/&\'#=') + ["\u2028", "\x85", "\x0b", "\x1c", "é", "東", "\u200b"]
NAMES = st.one_of(
    st.sampled_from(['"><script>alert(2)</script>', "<b>bold</b> & co", 'say "hi", twice', "a;b|c"]),
    st.text(st.one_of(st.sampled_from(SPECIAL), st.characters(exclude_categories=("Cs",), exclude_characters="\r\n")),
            max_size=8),
).filter(lambda n: not any(c.matches(v) for c in COLUMNS for v in (n, n.replace("\t", " "))))  # not a header
KINDS = ["valid"] * 4 + ["short", "long", "broken", "stray", "blank", "comment"]


def _cell(name: str, delimiter: str, quote: bool) -> str:
    """A name as a tab-separated file holds it (tabs made spaces) or as a CSV does (quoted where it must be)."""
    if delimiter == "\t":
        return name.replace("\t", " ")
    return f'"{name.replace(chr(34), chr(34) * 2)}"' if quote or '"' in name or delimiter in name else name


@st.composite
def tables(draw):
    """(file bytes, delimiter, the file's lines, {line number: the names a valid row holds}, header written)."""
    delimiter = draw(st.sampled_from(["\t", ","]))
    header = draw(st.booleans())
    lines = (["# generated"] if draw(st.booleans()) else []) + ([delimiter.join(["head", "relation", "tail"])]
                                                               if header else [])
    written = {}
    for kind, names, quotes in draw(st.lists(st.tuples(st.sampled_from(KINDS), st.lists(NAMES, min_size=4, max_size=4),
                                                       st.lists(st.booleans(), min_size=4, max_size=4)), max_size=20)):
        if kind == "stray":  # a quote inside a cell: literal in a TSV, a problem in a CSV (not wrapped in quotes)
            names = ['a"' + names[0].replace('"', "").replace(delimiter, "")] + names[1:]
        cells = [_cell(n, delimiter, q) for n, q in zip(names, quotes)]
        if kind == "blank":
            line = draw(st.sampled_from(["", "  ", " \t "]))
        elif kind == "comment":
            line = "#" + names[0]
        elif kind == "short":
            line = delimiter.join(cells[:2])
        elif kind == "long":
            line = delimiter.join(cells[:4])
        elif kind == "broken" and delimiter == ",":  # an opening quote never closed
            line = delimiter.join(['"' + names[0].replace('"', "")] + cells[1:3])
        elif kind == "stray" and delimiter == ",":
            line = delimiter.join([names[0]] + cells[1:3])
        else:
            line = delimiter.join(cells[:3])
            written[len(lines) + 1] = [n.replace("\t", " ") if delimiter == "\t" else n for n in names[:3]]
        lines.append(line)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if lines and (lines[-1] == "" or draw(st.booleans())) else "")
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode("utf-8"), delimiter, lines, written, header


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(tables())
def test_every_row_is_read_or_reported_and_valid_rows_keep_their_names(generated):
    data, delimiter, lines, written, header = generated
    data_lines = [n for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if not data_lines:
        with pytest.raises(ValueError, match="the table is empty"):
            read_table(data, COLUMNS)
        return
    table = read_table(data, COLUMNS)
    expected = set(data_lines[table.header:])
    read, reported = set(table.rows["row"]), {p.row for p in table.problems}
    assert read.isdisjoint(reported) and read | reported == expected, "a row read twice, or not accounted for"
    assert table.rows_read + table.rows_with_problems == table.data_rows == len(expected)
    assert table.header + table.blank_lines + table.data_rows == len(lines)
    assert table.complete == (not reported)
    valid = {n: [name.strip() for name in names] for n, names in written.items() if n in expected}
    if len(valid) == len(expected) and (delimiter == "\t" or "\t" not in data.decode("utf-8")):
        assert table.delimiter == delimiter  # a file of valid rows: its separator is found
    if table.delimiter != delimiter:
        return
    assert table.header == header
    names = {row: [h, r, t] for row, h, r, t in table.rows[["row", "head", "relation", "tail"]].itertuples(False)}
    for n in expected:
        if n in valid and all(valid[n]):
            assert names.get(n) == valid[n], f"line {n}: {lines[n - 1]!r}"
        else:
            assert n in reported, f"line {n} read though it is not a valid row: {lines[n - 1]!r}"
