"""Users' tables (CSV, TSV, pasted text) read row by row: the valid rows are kept, every bad cell is a
problem that names its row, column and value. Shared by the pages and the CLI of every method.

A table may have a header (column names matched case-insensitively against each column's aliases) or
none, in which case the columns are taken in their declared order (e.g. a KG file ``head<TAB>rel<TAB>tail``).
Row numbers are the file's line numbers, counting the header, so a user can find the line in an editor.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DELIMITERS = ("\t", ",", ";", "|")


@dataclass(frozen=True)
class Column:
    """One expected column: its name in the output, the header names that mean it, whether it may be absent."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def matches(self, header: str) -> bool:
        key = header.strip().lower().replace(" ", "_")
        return key == self.name or key in self.aliases


@dataclass(frozen=True)
class Problem:
    """A cell (or a whole row, column '') that could not be used."""

    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        shown = self.value and repr(self.value) not in self.reason
        return f"{where}: {self.reason}" + (f" (value {self.value!r})" if shown else "")


@dataclass
class Table:
    """The rows read (one column per expected column that is present, plus 'row') and the problems."""

    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    dropped_rows: int = 0     # rows beyond max_rows, not read

    def drop(self, problems: list[Problem]) -> "Table":
        """The same table without the rows those problems name (problems added to the list)."""
        bad = {p.row for p in problems}
        kept = self.rows[~self.rows["row"].isin(bad)].reset_index(drop=True)
        return Table(kept, self.problems + problems, self.dropped_rows)

    def summary(self, limit: int = 20) -> list[str]:
        """Problems as lines a person reads, at most ``limit`` of them, then a count of the rest."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"… and {len(self.problems) - limit} more problems")
        if self.dropped_rows:
            lines.append(f"{self.dropped_rows} rows after the first {len(self.rows) + len(self.problems)} were not read")
        return lines


def read_table(source: str | bytes | Path, columns: list[Column], max_rows: int | None = None) -> Table:
    """Read ``source`` (a path, the bytes of an upload, or text) into the expected ``columns``.

    Raises ValueError (naming the columns found and expected) only when the table as a whole cannot be
    read: empty, or a header without a required column. Bad rows become problems; good rows are kept.
    """
    text = _as_text(source)
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError("the table is empty")
    delimiter = _delimiter(lines[0][1])
    n_lines = len(lines)
    if max_rows is not None:  # parse no more than the header and max_rows rows of a large upload
        lines = lines[:max_rows + 1]
    parsed = [(n, [cell.strip() for cell in cells])
              for n, cells in zip((n for n, _ in lines), csv.reader((line for _, line in lines), delimiter=delimiter))]
    header = parsed[0][1]
    positions = _header_positions(header, columns)
    if positions is None:  # no header: the columns in their declared order
        positions = {c.name: i for i, c in enumerate(columns) if i < len(header)}
        body = parsed
    else:
        body = parsed[1:]
    missing = [c.name for c in columns if c.required and c.name not in positions]
    if missing:
        raise ValueError(f"the table has no column {', '.join(repr(m) for m in missing)}; "
                         f"found {', '.join(repr(h) for h in header)}; expected "
                         + ", ".join(f"{c.name} ({'required' if c.required else 'optional'}"
                                     + (f"; also {'/'.join(c.aliases)}" if c.aliases else "") + ")" for c in columns))
    dropped = n_lines - len(parsed)
    if max_rows is not None and len(body) > max_rows:  # a headerless table: its first line was a row
        dropped, body = dropped + len(body) - max_rows, body[:max_rows]
    records, problems = [], []
    for n, cells in body:
        record = {"row": n}
        for c in columns:
            if c.name not in positions:
                continue
            i = positions[c.name]
            value = cells[i] if i < len(cells) else ""
            if not value and c.required:
                problems.append(Problem(n, c.name, "", "empty" if i < len(cells) else
                                        f"missing (the row has {len(cells)} of {len(positions)} columns)"))
            record[c.name] = value
        if not problems or problems[-1].row != n:
            records.append(record)
    frame = pd.DataFrame(records, columns=["row"] + [c.name for c in columns if c.name in positions])
    return Table(frame, problems, dropped)


def _as_text(source: str | bytes | Path) -> str:
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValueError(f"the file is not UTF-8 text (byte {err.start}: {source[err.start:err.start + 1]!r}); "
                             "save it as UTF-8 CSV or TSV") from None
    return source.lstrip("\ufeff")


def _delimiter(first_line: str) -> str:
    """The first of tab, comma, semicolon, bar that the first line contains; else any whitespace (one column)."""
    for d in DELIMITERS:
        if d in first_line:
            return d
    return "\t"


def _header_positions(header: list[str], columns: list[Column]) -> dict[str, int] | None:
    """{column name: position} when the first row is a header (some cell names an expected column), else None."""
    positions = {}
    for i, cell in enumerate(header):
        for c in columns:
            if c.name not in positions and c.matches(cell):
                positions[c.name] = i
                break
    return positions or None
