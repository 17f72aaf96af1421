"""A user's few-shot episode from a table: support molecules with 0/1 labels and query molecules.

One table, columns ``smiles`` (required) and ``label`` (optional): rows with label 0 or 1 form the support set,
rows with an empty label are the queries. Queries may also come as a second table / text (one SMILES per line,
optional ``smiles`` header). Every row is used or reported (:class:`backend.core.tables.Problem`):

- a SMILES RDKit cannot parse -> the row, the value and RDKit's reason;
- a label other than 0 / 1 (or empty) -> the row and the value;
- the same molecule twice (canonical SMILES) -> the later row, naming the earlier one;
whole-episode errors (``errors``): no negative or no positive support molecule, no query; notes (``notes``):
more than :data:`MAX_SHOTS` support molecules per class (allowed; the models were meta-trained with at most 10).
Empty or oversized files raise ValueError from :func:`backend.core.tables.read_table` with its message.

Public API (stable): :class:`UserEpisode`, :func:`read_user_episode`, :data:`COLUMNS`, :data:`INPUT_HELP`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from backend.core.tables import Column, Problem, Table, read_table

MAX_SHOTS = 10
MAX_ROWS = 5000
COLUMNS = [Column("smiles", ("smile", "molecule", "canonical_smiles", "mol")),
           Column("label", ("y", "class", "activity", "active", "target"), required=False)]
QUERY_COLUMNS = [Column("smiles", ("smile", "molecule", "canonical_smiles", "mol"))]
INPUT_HELP = ("A CSV/TSV with columns smiles,label: rows labelled 0 or 1 are the support set (1-10 molecules per "
              "class; more are allowed), rows with an empty label are the queries to predict. "
              f"At most {MAX_ROWS:,} rows.")
_TRUE = {"1", "1.0", "true", "yes", "active", "positive"}
_FALSE = {"0", "0.0", "false", "no", "inactive", "negative"}


@dataclass
class UserEpisode:
    support_smiles: list[str] = field(default_factory=list)
    support_labels: list[int] = field(default_factory=list)
    support_rows: list[int] = field(default_factory=list)
    query_smiles: list[str] = field(default_factory=list)
    query_rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data_rows: int = 0

    @property
    def ok(self) -> bool:
        """Whether a prediction can be made (at least one molecule per class and one query)."""
        return not self.errors

    def problem_lines(self) -> list[str]:
        return [str(p) for p in sorted(self.problems, key=lambda p: p.row)]

    def counts(self) -> dict:
        return {"negatives": self.support_labels.count(0), "positives": self.support_labels.count(1),
                "queries": len(self.query_smiles), "problems": len({p.row for p in self.problems})}


def _canonical(smiles: str):
    from rdkit import Chem

    from backend.mol.featurise import InvalidSmiles, mol_to_graph, parse_smiles

    mol, reason = parse_smiles(smiles)
    if mol is None:
        return None, f"RDKit cannot read this SMILES: {reason}"
    try:
        mol_to_graph(mol, smiles)
    except InvalidSmiles as exc:
        return None, f"cannot be featurised: {exc.reason}"
    return Chem.MolToSmiles(mol), ""


def _label(value: str):
    v = str(value).strip().lower()
    if v == "" or v == "nan" or v == "?":
        return None, ""
    if v in _TRUE:
        return 1, ""
    if v in _FALSE:
        return 0, ""
    return None, "label must be 0 or 1 (or empty for a query)"


def read_user_episode(source, queries=None, max_rows: int = MAX_ROWS, max_bytes: int | None = None) -> UserEpisode:
    """Read a support(+query) table and optional separate queries; see the module docstring."""
    ep = UserEpisode()
    table: Table = read_table(source, COLUMNS, max_rows=max_rows, max_bytes=max_bytes)
    ep.problems += table.problems
    ep.data_rows = table.data_rows
    if table.dropped_rows:
        ep.notes.append(f"only the first {max_rows:,} rows were read; {table.dropped_rows:,} more were not")
    seen: dict[str, tuple[int, str]] = {}
    has_label = "label" in table.rows.columns
    records = [(int(r["row"]), str(r["smiles"]), str(r["label"]) if has_label else "", "table")
               for _, r in table.rows.iterrows()]
    if queries is not None and (not isinstance(queries, str) or queries.strip()):
        qt = read_table(queries, QUERY_COLUMNS, max_rows=max_rows, max_bytes=max_bytes)
        ep.problems += [Problem(p.row, p.column, p.value, p.reason + " (query list)") for p in qt.problems]
        records += [(int(r["row"]), str(r["smiles"]), "", "query list") for _, r in qt.rows.iterrows()]
    for row, smi, lab, where in records:
        tag = "" if where == "table" else " (query list)"
        label, why = _label(lab)
        if why:
            ep.problems.append(Problem(row, "label", lab, why + tag))
            continue
        canon, why = _canonical(smi)
        if canon is None:
            ep.problems.append(Problem(row, "smiles", smi, why + tag))
            continue
        if canon in seen:
            prev_row, prev_where = seen[canon]
            ep.problems.append(Problem(row, "smiles", smi, f"duplicate molecule: same as row {prev_row}"
                                       + (f" of the {prev_where}" if prev_where != where else "") + tag))
            continue
        seen[canon] = (row, where)
        if label is None:
            ep.query_smiles.append(smi)
            ep.query_rows.append(row)
        else:
            ep.support_smiles.append(smi)
            ep.support_labels.append(label)
            ep.support_rows.append(row)
    n0, n1 = ep.support_labels.count(0), ep.support_labels.count(1)
    if n0 == 0 or n1 == 0:
        ep.errors.append(f"the support set needs at least one molecule labelled 0 and one labelled 1; it has "
                         f"{n0} labelled 0 and {n1} labelled 1 (after skipping the rows with problems)")
    if not ep.query_smiles:
        ep.errors.append("there is no query molecule: give rows with an empty label (or a query list)")
    if max(n0, n1) > MAX_SHOTS:
        ep.notes.append(f"the support set has {n0} negatives and {n1} positives; the models were meta-trained with "
                        f"at most {MAX_SHOTS} per class, so more examples are used but may help less than expected")
    if n0 and n1 and n0 != n1:
        ep.notes.append(f"the support set is unbalanced ({n0} labelled 0, {n1} labelled 1); the models were "
                        "meta-trained on balanced support sets")
    ep.problems.sort(key=lambda p: p.row)
    return ep


__all__ = ["UserEpisode", "read_user_episode", "COLUMNS", "INPUT_HELP", "MAX_SHOTS", "MAX_ROWS"]
