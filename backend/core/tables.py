"""Users' tables (CSV, TSV, pasted text) read line by line: every data row of the file is either read or a
problem naming its line and the reason. Shared by the pages and the CLI of every method.

A table may have a header (column names matched case-insensitively against each column's aliases) or
none, in which case the columns are taken in their declared order (e.g. a KG file ``head<TAB>rel<TAB>tail``).
Row numbers are the file's line numbers, counting the header, blank and comment lines, so a user can find
the line in an editor. :data:`QUOTING_RULES` says how a line is cut into cells; the help texts quote it.
"""
from __future__ import annotations

import codecs
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded by read_table: the CLI's parser quotes QUOTING_RULES without loading pandas
    import pandas as pd

DELIMITERS = ("\t", ",", ";", "|")
QUOTING_RULES = (
    "One row per line: a cell may not span lines. Blank lines and lines starting with # are skipped. "
    "Tab-separated files have no quoting: every character of a cell is kept as written, quotes included. "
    "In comma-, semicolon- or bar-separated files a cell wrapped in double quotes may hold the separator, "
    "and \"\" inside it stands for one quote; a quote in a cell not wrapped so, or not closed on its line, "
    "makes that line a problem. "
    "Spaces around a cell are dropped; a row with more cells than columns is a problem.")
#: the Streamlit settings whose ``[server] maxUploadSize`` (MB) caps every table read
STREAMLIT_CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
DEFAULT_UPLOAD_MB = 200   # Streamlit's own default
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SAMPLE_LINES = 1000      # lines the delimiter is chosen from
_SHOWN_CHARS = 80         # of a line quoted in a problem


def upload_limit_bytes(config: Path = STREAMLIT_CONFIG) -> int:
    """The largest table read, in bytes: ``[server] maxUploadSize`` (MB) of ``config``, else 200 MB."""
    try:
        settings = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        settings = {}
    return int(settings.get("server", {}).get("maxUploadSize", DEFAULT_UPLOAD_MB)) * 2**20


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
    """The rows read (one column per expected column that is present, plus 'row') and the problems.

    Accounting: the file's lines are the header (if any), blank and comment lines, and ``data_rows``; each
    data row is read (in ``rows``), has problems, or lies beyond ``max_rows`` (``dropped_rows``).
    """

    rows: pd.DataFrame
    data_rows: int
    problems: list[Problem] = field(default_factory=list)
    dropped_rows: int = 0     # data rows beyond max_rows, not read
    blank_lines: int = 0      # blank and comment lines
    header: bool = False      # whether the first line that is neither blank nor a comment named the columns
    delimiter: str = "\t"

    @property
    def rows_read(self) -> int:
        return len(self.rows)

    @property
    def rows_with_problems(self) -> int:
        return len({p.row for p in self.problems})

    @property
    def rows_not_read(self) -> int:
        return self.data_rows - self.rows_read

    @property
    def complete(self) -> bool:
        """Whether every data row of the file was read."""
        return self.rows_read == self.data_rows

    def drop(self, problems: list[Problem]) -> "Table":
        """The same table without the rows those problems name (problems added to the list, by row)."""
        bad = {p.row for p in problems}
        kept = self.rows[~self.rows["row"].isin(bad)].reset_index(drop=True)
        return replace(self, rows=kept, problems=sorted(self.problems + problems, key=lambda p: p.row))

    def headline(self) -> str:
        """How many of the file's rows were read, in one sentence."""
        return f"{_rows(self.data_rows)} in the file: " + (
            "all read" if self.complete else f"{self.rows_read:,} read, {self.rows_not_read:,} not read")

    def problem_lines(self, limit: int | None = None) -> list[str]:
        """The problems as lines a person reads, at most ``limit`` of them, then a count of the rest."""
        shown = self.problems if limit is None else self.problems[:limit]
        rest = len(self.problems) - len(shown)
        return [str(p) for p in shown] + ([f"… and {rest:,} more problems"] if rest else [])

    def summary(self, limit: int = 20) -> list[str]:
        """Nothing when every row was read; else the :meth:`headline`, the problems (at most ``limit``)
        and the rows beyond ``max_rows``."""
        if self.complete:
            return []
        lines = [self.headline() + (" — see the problems below" if self.problems else "")] + self.problem_lines(limit)
        if self.dropped_rows:
            lines.append(f"{_rows(self.dropped_rows)} after the first {self.data_rows - self.dropped_rows:,} "
                         "were not read")
        return lines


class IncompleteTable(ValueError):
    """Raised where every row must be read and some were not; ``table`` holds the accounting and problems."""

    def __init__(self, table: Table, what: str = "the table"):
        self.table, self.what = table, what
        first = f"; first: {table.problems[0]}" if table.problems else ""
        super().__init__(f"not every row of {what} could be read ({table.headline()}){first}")


def read_table(source: str | bytes | Path, columns: list[Column], max_rows: int | None = None,
               max_bytes: int | None = None) -> Table:
    """Read ``source`` (a path, the bytes of an upload, or text) into the expected ``columns``.

    Raises ValueError (naming the columns found and expected) only when the table as a whole cannot be
    read: larger than ``max_bytes`` (default :func:`upload_limit_bytes`), not UTF-8, empty, or a header
    without a required column. Every other line is a data row that is read or a problem (its line number
    and reason), or blank, a comment or beyond ``max_rows``: nothing goes uncounted.
    """
    import pandas as pd

    text = _as_text(source, upload_limit_bytes() if max_bytes is None else max_bytes)
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":  # the final line break ends the last line; it starts none
        lines.pop()
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise ValueError("the table is empty")
    delimiter = _delimiter([line for _, line in numbered[:_SAMPLE_LINES]], columns)
    header, _ = _split(numbered[0][1], delimiter)
    positions = _header_positions(header, columns) if header is not None else None
    has_header = positions is not None
    if not has_header:  # no header: the columns in their declared order, as many as most rows have
        width = min(len(columns), max(_modal_width(numbered[:_SAMPLE_LINES], delimiter),
                                      sum(c.required for c in columns)))
        positions = {c.name: i for i, c in enumerate(columns[:width])}
        body = numbered
    else:
        width, body = len(header), numbered[1:]
    missing = [c.name for c in columns if c.required and c.name not in positions]
    if missing:
        raise ValueError(f"the table has no column {', '.join(repr(m) for m in missing)}; "
                         f"found {', '.join(repr(h) for h in header or [])}; expected "
                         + ", ".join(f"{c.name} ({'required' if c.required else 'optional'}"
                                     + (f"; also {'/'.join(c.aliases)}" if c.aliases else "") + ")" for c in columns))
    data_rows = len(body)
    if max_rows is not None:
        body = body[:max_rows]
    present = [c for c in columns if c.name in positions]
    records, problems = [], []
    for n, line in body:
        cells, error = _split(line, delimiter)
        if cells is not None and len(cells) > width:
            error = f"row has {len(cells)} cells, expected {width}"
        if error:
            problems.append(Problem(n, "", _shown(line), error))
            continue
        record, bad = {"row": n}, []
        for c in present:
            i = positions[c.name]
            record[c.name] = value = cells[i] if i < len(cells) else ""
            if not value and c.required:
                bad.append(Problem(n, c.name, "", "empty" if i < len(cells) else
                                   f"missing (the row has {len(cells)} of {width} columns)"))
        if bad:
            problems += bad
        else:
            records.append(record)
    frame = pd.DataFrame(records, columns=["row"] + [c.name for c in present])
    return Table(frame, data_rows, problems, dropped_rows=data_rows - len(body),
                 blank_lines=len(lines) - len(numbered), header=has_header, delimiter=delimiter)


def _as_text(source: str | bytes | Path, max_bytes: int) -> str:
    """The text of ``source``; ValueError when it is larger than ``max_bytes`` or not UTF-8 (with or without BOM)."""
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > max_bytes:
        raise ValueError(f"the file is {size / 2**20:,.1f} MB, larger than the limit of {max_bytes / 2**20:,.0f} MB "
                         f"(set by [server] maxUploadSize in {STREAMLIT_CONFIG.parent.name}/{STREAMLIT_CONFIG.name})")
    data = source.read_bytes() if isinstance(source, Path) else source
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        start = bom + err.start
        line = len(_LINE_BREAK.split(data[bom:start].decode("utf-8")))
        raise ValueError(f"the file is not UTF-8 text (byte {start}, line {line}: {data[start:start + 1]!r}); "
                         "save it as UTF-8 CSV or TSV") from None


def _split(line: str, delimiter: str) -> tuple[list[str] | None, str]:
    """(the line's cells stripped of surrounding spaces, "") or (None, why it cannot be cut into cells)."""
    if delimiter == "\t" or '"' not in line:
        return [cell.strip() for cell in line.split(delimiter)], ""
    cells, i, end = [], 0, len(line)
    while True:
        start = i
        while start < end and line[start].isspace() and line[start] != delimiter:
            start += 1
        if start < end and line[start] == '"':  # a quoted cell: up to the next lone quote
            parts, i = [], start + 1
            while True:
                quote = line.find('"', i)
                if quote < 0:
                    return None, f"unterminated quote: the quote at character {start + 1} is not closed on its line"
                if line.startswith('""', quote):
                    parts.append(line[i:quote + 1])
                    i = quote + 2
                    continue
                parts.append(line[i:quote])
                i = quote + 1
                break
            after = line.find(delimiter, i)
            if line[i:end if after < 0 else after].strip():
                return None, f"text after the closing quote at character {i} (a quoted cell must end at the separator)"
            cells.append("".join(parts).strip())
        else:
            after = line.find(delimiter, i)
            cell = line[i:end if after < 0 else after]
            if '"' in cell:  # else a line whose quote was left open could still be read, wrongly
                return None, (f"a quote at character {line.index(chr(34), i) + 1} inside a cell not wrapped in "
                              "quotes (wrap the cell in double quotes and double the quote, or separate by tabs)")
            cells.append(cell.strip())
        if after < 0:
            return cells, ""
        i = after + 1


def _delimiter(sample: list[str], columns: list[Column]) -> str:
    """The separator that cuts the most sample lines into one same number (2 or more) of cells; on a tie, the
    one whose number of cells fits the columns, then the first of tab, comma, semicolon, bar."""
    fits = range(sum(c.required for c in columns), len(columns) + 1)

    def score(d: str) -> tuple[int, bool]:
        widths = Counter(len(cells) for cells, _ in (_split(line, d) for line in sample) if cells and len(cells) > 1)
        if not widths:
            return 0, False
        width, count = max(widths.items(), key=lambda wc: (wc[1], wc[0] in fits))
        return count, width in fits

    return max(DELIMITERS, key=score)  # max keeps the first of equals: tab when no separator cuts a line


def _modal_width(numbered: list[tuple[int, str]], delimiter: str) -> int:
    """The most common number of cells among the lines (1 when none can be cut)."""
    widths = Counter(len(cells) for cells, _ in (_split(line, delimiter) for _, line in numbered) if cells)
    return widths.most_common(1)[0][0] if widths else 1


def _header_positions(header: list[str], columns: list[Column]) -> dict[str, int] | None:
    """{column name: position} when the first row is a header (some cell names an expected column), else None."""
    positions = {}
    for i, cell in enumerate(header):
        for c in columns:
            if c.name not in positions and c.matches(cell):
                positions[c.name] = i
                break
    return positions or None


def _shown(line: str) -> str:
    """A line as a problem quotes it: stripped, cut after :data:`_SHOWN_CHARS` characters."""
    line = line.strip()
    return line if len(line) <= _SHOWN_CHARS else line[:_SHOWN_CHARS] + "…"


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"
