"""Evidence: what a trained model used to reach an answer, as a list of typed parts.

Every method's ``explain`` returns an :class:`Evidence`: a title, a ``summary`` dict for machines,
``sentences`` for people (written by the method), and ``parts``, each a dataclass with a ``kind``:

* :class:`GraphPart` (``"graph"``): typed, weighted, layered nodes and edges with ranked paths and a
  :class:`GraphLegend` in the method's words (what a layer, an edge weight and a path score are);
* :class:`FormulaPart` (``"formula"``): a SymPy expression (its ``srepr``), its LaTeX, Python source
  and the meaning of its variables, optionally beside a reference law;
* :class:`StructurePart` (``"structure"``): a labelled matrix (AutoBLM's block structure, ColdNAS's
  gates);
* :class:`TablePart` (``"table"``): records with a column order and column help (recommendations,
  per-molecule probabilities);
* :class:`MoleculesPart` (``"molecules"``): SMILES with labels, values and atoms to highlight; the
  picture is drawn from them with RDKit when asked (:meth:`MoleculesPart.grid_png`).

The evidence's graph is its first :class:`GraphPart`; ``evidence.nodes``/``edges``/``paths`` read and
write that part (there is one copy). In JSON that graph's nodes, edges and paths stay at the top level,
where files written before parts existed keep them (and readers of those files look for them); its
entry in ``parts`` is ``{"kind": "graph", "main": true, "legend": ...}``. A file without ``parts``
(the old format) loads as one graph part with a generic legend. A part of a kind this version does not
know loads as an :class:`UnknownPart` and is written back unchanged.

Pages render parts with ``ui/components/evidence_view.py`` (one renderer per kind) and offer the whole
evidence as JSON; no part needs streamlit, SymPy or RDKit to be stored or loaded.
"""
from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Union

import pandas as pd


# ----------------------------------------------------------------------------------------------
# graph pieces (unchanged since the graph-only format)
# ----------------------------------------------------------------------------------------------

@dataclass
class EvidenceNode:
    id: str
    label: str
    kind: str = ""          # entity type, e.g. "drug", "gene", "molecule"
    layer: int | None = None
    role: str = ""          # "query", "answer" or ""
    score: float | None = None


@dataclass
class EvidenceEdge:
    source: str
    target: str
    relation: str
    weight: float
    layer: int | None = None


@dataclass
class EvidencePath:
    nodes: list[str]
    relations: list[str]
    score: float

    def describe(self, labels: dict[str, str] | None = None) -> str:
        """'a -[r1]-> b -[r2]-> c' with node labels where given."""
        labels = labels or {}
        parts = [labels.get(self.nodes[0], self.nodes[0])]
        for rel, node in zip(self.relations, self.nodes[1:]):
            parts.append(f"-[{rel}]-> {labels.get(node, node)}")
        return " ".join(parts)


# ----------------------------------------------------------------------------------------------
# parts
# ----------------------------------------------------------------------------------------------

def _from_fields(cls, d: dict, **override):
    """cls(**d) keeping only cls's fields (a newer file's extra keys are ignored)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names}, **override)


@dataclass
class GraphLegend:
    """The method's words for its graph (pages and the graph HTML show them, never a method's name).

    layer: what one column of the layered layout is ("propagation step"); edge_weight: what an
    edge's weight (its width) is ("attention"); path_score: how a path's score is made ("product of
    the attention along the path"); node_kinds: node kind -> colour ("#56b4e9"; kinds not listed get
    the palette's); roles: role -> its name in the legend ({"query": "head entity"}); notes: further
    sentences ("'self' edges let a path stay on an entity for a step.").
    """

    layer: str = "layer"
    edge_weight: str = "weight"
    path_score: str = "score of the path"
    node_kinds: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def role_name(self, role: str) -> str:
        return self.roles.get(role, role)

    def sentences(self, layered: bool = True) -> list[str]:
        """The legend as sentences: edge width, columns (when layered), path score, notes."""
        out = [f"Edge width is the {self.edge_weight}."]
        if layered:
            out.append(f"Columns are {self.layer}s, left to right, from the {self.role_name('query')} "
                       f"to the {self.role_name('answer')}.")
        out.append(f"A path's score is the {self.path_score}.")
        return out + list(self.notes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "GraphLegend":
        return _from_fields(cls, d or {})


@dataclass
class GraphPart:
    """A typed, weighted, layered graph with its ranked paths, in the method's words (``legend``)."""

    kind: ClassVar[str] = "graph"
    nodes: list[EvidenceNode] = field(default_factory=list)
    edges: list[EvidenceEdge] = field(default_factory=list)
    paths: list[EvidencePath] = field(default_factory=list)
    legend: GraphLegend = field(default_factory=GraphLegend)
    title: str = ""
    caption: str = ""

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.edges

    @property
    def labels(self) -> dict[str, str]:
        return {n.id: n.label for n in self.nodes}

    def to_dict(self) -> dict:
        return {"kind": self.kind, "nodes": [asdict(n) for n in self.nodes], "edges": [asdict(e) for e in self.edges],
                "paths": [asdict(p) for p in self.paths], "legend": self.legend.to_dict(), "title": self.title,
                "caption": self.caption}

    @classmethod
    def from_dict(cls, d: dict) -> "GraphPart":
        return cls(nodes=[EvidenceNode(**n) for n in d.get("nodes", [])],
                   edges=[EvidenceEdge(**e) for e in d.get("edges", [])],
                   paths=[EvidencePath(**p) for p in d.get("paths", [])],
                   legend=GraphLegend.from_dict(d.get("legend")), title=d.get("title", ""),
                   caption=d.get("caption", ""))

    def edges_frame(self) -> pd.DataFrame:
        """[n_edges] rows: layer, source, relation, target, weight (node labels, not ids)."""
        labels = self.labels
        rows = [
            {"layer": e.layer, "source": labels.get(e.source, e.source), "relation": e.relation,
             "target": labels.get(e.target, e.target), "weight": e.weight}
            for e in self.edges
        ]
        return pd.DataFrame(rows, columns=["layer", "source", "relation", "target", "weight"])

    def paths_frame(self) -> pd.DataFrame:
        """[n_paths] rows: rank, score, length, path ('a -[r]-> b')."""
        labels = self.labels
        rows = [{"rank": i + 1, "score": p.score, "length": len(p.relations), "path": p.describe(labels)}
                for i, p in enumerate(self.paths)]
        return pd.DataFrame(rows, columns=["rank", "score", "length", "path"])


@dataclass
class FormulaPart:
    """A formula: SymPy's ``srepr`` of the expression (exact, reloads with :meth:`to_sympy`), its LaTeX,
    Python source defining ``f`` (a lambda over ``variables`` in order, NumPy functions), the meaning of
    each variable, and optionally a reference law to show beside it (``reference``: its srepr).

    Build it with :meth:`from_sympy`, which fills in the LaTeX and the source.
    """

    kind: ClassVar[str] = "formula"
    expression: str
    latex: str = ""
    python: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    reference: str | None = None
    reference_latex: str = ""
    reference_name: str = ""
    title: str = ""
    caption: str = ""

    @property
    def empty(self) -> bool:
        return not self.expression

    @classmethod
    def from_sympy(cls, expr, variables: dict[str, str] | None = None, reference=None, reference_name: str = "",
                   title: str = "", caption: str = "") -> "FormulaPart":
        """expr: a SymPy expression (or text SymPy parses); variables: symbol name -> meaning (also the
        argument order of ``f``; free symbols not named follow, sorted)."""
        import sympy

        expr = sympy.sympify(expr)
        variables = dict(variables or {})
        ref = None if reference is None else sympy.sympify(reference)
        return cls(expression=sympy.srepr(expr), latex=sympy.latex(expr),
                   python=python_source(expr, list(variables)), variables=variables,
                   reference=None if ref is None else sympy.srepr(ref),
                   reference_latex="" if ref is None else sympy.latex(ref), reference_name=reference_name,
                   title=title, caption=caption)

    def to_sympy(self):
        """The expression as a SymPy object (from its srepr)."""
        import sympy

        return sympy.sympify(self.expression)

    def reference_sympy(self):
        import sympy

        return None if self.reference is None else sympy.sympify(self.reference)

    def function(self):
        """The callable ``f`` of :attr:`python` (arguments: the variables in order; works on arrays)."""
        namespace: dict[str, Any] = {}
        exec(compile(self.python, "<formula>", "exec"), namespace)  # noqa: S102 - source made by SymPy's printer
        return namespace["f"]

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "FormulaPart":
        return _from_fields(cls, d)


def python_source(expr, order: Sequence[str] = ()) -> str:
    """Python source defining ``f = lambda <args>: <expr>`` with NumPy functions (SymPy's NumPy printer,
    fully qualified, so the source imports only numpy). Arguments: ``order`` then the remaining free
    symbols by name."""
    from sympy.printing.numpy import NumPyPrinter

    names = [str(s) for s in sorted(expr.free_symbols, key=str)]
    args = list(order) + [n for n in names if n not in order]
    printer = NumPyPrinter({"fully_qualified_modules": True})
    body = printer.doprint(expr)
    imports = sorted(printer.module_imports)
    head = "".join(f"import {m}\n" for m in imports)
    return (head + "\n" if head else "") + f"f = lambda {', '.join(args)}: {body}\n"


Cell = Union[float, int, str, None]


@dataclass
class StructurePart:
    """A labelled matrix: ``matrix[i][j]`` for row ``row_labels[i]`` and column ``column_labels[j]`` (numbers
    or text), what a value means (``value_meaning``) and names of single values (``value_labels``: "-2" ->
    "−r₂"), e.g. AutoBLM's 4x4 block entries in {0, ±1..±4} or ColdNAS's positions x operations gates."""

    kind: ClassVar[str] = "structure"
    matrix: list[list[Cell]]
    row_labels: list[str] = field(default_factory=list)
    column_labels: list[str] = field(default_factory=list)
    value_meaning: str = ""
    value_labels: dict[str, str] = field(default_factory=dict)
    title: str = ""
    caption: str = ""

    def __post_init__(self):
        self.matrix = [list(r) for r in self.matrix]
        n_rows, n_cols = len(self.matrix), max((len(r) for r in self.matrix), default=0)
        if any(len(r) != n_cols for r in self.matrix):
            raise ValueError(f"structure matrix rows differ in length: {[len(r) for r in self.matrix]}")
        self.row_labels = [str(x) for x in self.row_labels] or [str(i + 1) for i in range(n_rows)]
        self.column_labels = [str(x) for x in self.column_labels] or [str(j + 1) for j in range(n_cols)]
        if len(self.row_labels) != n_rows or len(self.column_labels) != n_cols:
            raise ValueError(f"a {n_rows} x {n_cols} structure needs {n_rows} row and {n_cols} column labels, "
                             f"not {len(self.row_labels)} and {len(self.column_labels)}")
        self.matrix = [[_cell(v) for v in r] for r in self.matrix]

    @property
    def empty(self) -> bool:
        return not self.matrix

    def to_frame(self) -> pd.DataFrame:
        """[rows, columns] with the labels as index and columns."""
        return pd.DataFrame(self.matrix, index=self.row_labels, columns=self.column_labels)

    def value_text(self, v: Cell) -> str:
        """A cell as shown: its name from ``value_labels``, else the value (whole numbers without '.0')."""
        key = _value_key(v)
        return self.value_labels.get(key, key)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "StructurePart":
        return _from_fields(cls, d)


def _cell(v: Any) -> Cell:
    if v is None or isinstance(v, str):
        return v
    if hasattr(v, "item"):  # numpy / torch scalars
        v = v.item()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    return str(v)


def _value_key(v: Cell) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


@dataclass
class TablePart:
    """A table: ``records`` (one dict a row, JSON values), the column order and help texts per column.

    Build it from a frame with :meth:`from_frame`; :meth:`to_frame` gives it back in column order."""

    kind: ClassVar[str] = "table"
    records: list[dict[str, Any]]
    columns: list[str] = field(default_factory=list)
    help: dict[str, str] = field(default_factory=dict)
    title: str = ""
    caption: str = ""

    def __post_init__(self):
        if not self.columns:
            seen: dict[str, None] = {}
            for r in self.records:
                seen.update(dict.fromkeys(r))
            self.columns = list(seen)

    @property
    def empty(self) -> bool:
        return not self.records

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, help: dict[str, str] | None = None, title: str = "",
                   caption: str = "") -> "TablePart":
        """The frame's rows as JSON records (NaN -> None, times as ISO text, full float precision)."""
        records = json.loads(frame.to_json(orient="records", date_format="iso", double_precision=15))
        return cls(records=records, columns=[str(c) for c in frame.columns], help=dict(help or {}), title=title,
                   caption=caption)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records, columns=self.columns)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "TablePart":
        return _from_fields(cls, d)


@dataclass
class MoleculeImage:
    """A grid picture of molecules: PNG bytes (None when no SMILES could be read) and what could not be drawn."""

    png: bytes | None
    problems: list[str]
    drawn: list[int]          # indices (into the part's smiles) of the molecules in the picture


@dataclass
class MoleculesPart:
    """Molecules by SMILES, with optional ``labels``, ``values`` (named ``value_name``, e.g. "P(active)") and
    per-molecule atom indices to highlight. The picture is drawn when asked (:meth:`grid_png`)."""

    kind: ClassVar[str] = "molecules"
    smiles: list[str]
    labels: list[str] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    value_name: str = "value"
    highlight_atoms: list[list[int]] = field(default_factory=list)
    per_row: int = 4
    title: str = ""
    caption: str = ""

    def __post_init__(self):
        n = len(self.smiles)
        for name in ("labels", "values", "highlight_atoms"):
            given = getattr(self, name)
            if given and len(given) != n:
                raise ValueError(f"{len(given)} {name} for {n} molecules")

    @property
    def empty(self) -> bool:
        return not self.smiles

    def legend_of(self, i: int) -> str:
        """'aspirin · P(active) 0.873' from the label and value of molecule i."""
        from backend.core.viz import format_weight

        bits = [self.labels[i]] if self.labels and self.labels[i] else []
        if self.values and self.values[i] is not None:
            bits.append(f"{self.value_name} {format_weight(self.values[i])}")
        return " · ".join(bits)

    def grid_png(self, size: tuple[int, int] = (260, 220)) -> MoleculeImage:
        """One PNG of every readable molecule (RDKit's ``MolsToGridImage``, ``per_row`` a row, legends from
        labels and values, highlighted atoms); each unreadable SMILES is named with RDKit's reason."""
        from rdkit import Chem, rdBase
        from rdkit.Chem import Draw

        mols, legends, highlights, drawn, problems = [], [], [], [], []
        block = rdBase.BlockLogs()  # RDKit's reasons come back in the exceptions, not on stderr
        try:
            for i, smi in enumerate(self.smiles):
                name = f"molecule {i + 1}" + (f" ({self.labels[i]})" if self.labels and self.labels[i] else "")
                mol = Chem.MolFromSmiles(smi, sanitize=False) if smi else None
                if mol is None:
                    problems.append(f"{name}: SMILES {smi!r} could not be parsed")
                    continue
                try:
                    Chem.SanitizeMol(mol)
                except Exception as exc:  # RDKit raises its own Atom*/Kekulize exceptions
                    problems.append(f"{name}: SMILES {smi!r} is not a valid molecule: {exc}")
                    continue
                atoms = list(self.highlight_atoms[i]) if self.highlight_atoms else []
                bad = [a for a in atoms if not 0 <= a < mol.GetNumAtoms()]
                if bad:
                    problems.append(f"{name}: highlighted atoms {bad} are not among its {mol.GetNumAtoms()} atoms")
                    atoms = [a for a in atoms if a not in bad]
                mols.append(mol)
                legends.append(self.legend_of(i))
                highlights.append(atoms)
                drawn.append(i)
        finally:
            del block
        if not mols:
            return MoleculeImage(None, problems, drawn)
        image = Draw.MolsToGridImage(mols, molsPerRow=max(1, min(self.per_row, len(mols))), subImgSize=size,
                                     legends=legends, highlightAtomLists=highlights if any(highlights) else None,
                                     returnPNG=False)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return MoleculeImage(buf.getvalue(), problems, drawn)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "MoleculesPart":
        return _from_fields(cls, d)


@dataclass
class UnknownPart:
    """A part of a kind this version does not know (from a newer file): kept as read, written back unchanged."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    caption: str = ""

    @property
    def empty(self) -> bool:
        return False

    def to_dict(self) -> dict:
        return {**self.data, "kind": self.kind}

    @classmethod
    def from_dict(cls, d: dict) -> "UnknownPart":
        return cls(kind=str(d.get("kind", "")), data={k: v for k, v in d.items() if k != "kind"},
                   title=str(d.get("title", "")), caption=str(d.get("caption", "")))


EvidencePart = Union[GraphPart, FormulaPart, StructurePart, TablePart, MoleculesPart, UnknownPart]

#: kind -> part class; a new kind is one class here and one renderer in ui/components/evidence_view.py
PART_TYPES: dict[str, type] = {cls.kind: cls for cls in (GraphPart, FormulaPart, StructurePart, TablePart,
                                                          MoleculesPart)}


def part_from_dict(d: dict) -> EvidencePart:
    cls = PART_TYPES.get(d.get("kind", ""))
    return cls.from_dict(d) if cls is not None else UnknownPart.from_dict(d)


# ----------------------------------------------------------------------------------------------
# the evidence
# ----------------------------------------------------------------------------------------------

@dataclass(init=False)
class Evidence:
    """What a model used for one answer: parts of several kinds, sentences for people, a summary for machines.

    ``Evidence(method, title, nodes, edges, paths, summary)`` (the graph-only form) still works: the graph
    becomes the first part. ``nodes``/``edges``/``paths`` read and write the evidence's graph (its first
    :class:`GraphPart`; empty lists when it has none).
    """

    method: str
    title: str
    summary: dict[str, Any]
    parts: list[EvidencePart]
    sentences: list[str]

    def __init__(self, method: str, title: str, nodes: list[EvidenceNode] | None = None,
                 edges: list[EvidenceEdge] | None = None, paths: list[EvidencePath] | None = None,
                 summary: dict[str, Any] | None = None, parts: Sequence[EvidencePart] | None = None,
                 sentences: Sequence[str] | None = None):
        self.method = method
        self.title = title
        self.summary = dict(summary or {})
        self.parts = list(parts or [])
        self.sentences = list(sentences or [])
        if nodes or edges or paths:
            if self.graph is not None:
                raise ValueError("give the graph either as nodes/edges/paths or as a GraphPart in parts, not both")
            self.parts.insert(0, GraphPart(list(nodes or []), list(edges or []), list(paths or [])))

    # ------------------------------------------------------------------ the evidence's graph
    @property
    def graph(self) -> GraphPart | None:
        """The first graph part (the one ``nodes``/``edges``/``paths`` and the top level of the JSON hold)."""
        return next((p for p in self.parts if isinstance(p, GraphPart)), None)

    def _graph_for_writing(self) -> GraphPart:
        if self.graph is None:
            self.parts.insert(0, GraphPart())
        return self.graph

    @property
    def nodes(self) -> list[EvidenceNode]:
        return self.graph.nodes if self.graph is not None else []

    @nodes.setter
    def nodes(self, value: list[EvidenceNode]) -> None:
        self._graph_for_writing().nodes = list(value)

    @property
    def edges(self) -> list[EvidenceEdge]:
        return self.graph.edges if self.graph is not None else []

    @edges.setter
    def edges(self, value: list[EvidenceEdge]) -> None:
        self._graph_for_writing().edges = list(value)

    @property
    def paths(self) -> list[EvidencePath]:
        return self.graph.paths if self.graph is not None else []

    @paths.setter
    def paths(self, value: list[EvidencePath]) -> None:
        self._graph_for_writing().paths = list(value)

    @property
    def labels(self) -> dict[str, str]:
        return {n.id: n.label for n in self.nodes}

    @property
    def empty(self) -> bool:
        """No sentences and no part with anything in it."""
        return not self.sentences and all(p.empty for p in self.parts)

    def parts_of(self, kind: str) -> list[EvidencePart]:
        return [p for p in self.parts if p.kind == kind]

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        main = self.graph
        out: dict[str, Any] = {"method": self.method, "title": self.title, "nodes": [], "edges": [], "paths": [],
                               "summary": self.summary, "sentences": self.sentences, "parts": []}
        for p in self.parts:
            d = p.to_dict()
            if p is main:  # its graph at the top level, where the graph-only format kept it
                for name in ("nodes", "edges", "paths"):
                    out[name] = d.pop(name)
                d["main"] = True
            out["parts"].append(d)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=_json_default)

    @classmethod
    def from_dict(cls, d: dict) -> "Evidence":
        top = {name: d.get(name, []) for name in ("nodes", "edges", "paths")}
        if "parts" in d:
            parts = [part_from_dict({**p, **top} if p.get("kind") == "graph" and p.get("main") else p)
                     for p in d["parts"]]
        else:  # the graph-only format: its graph is the one part
            parts = [GraphPart.from_dict(top)] if any(top.values()) else []
        return cls(d["method"], d["title"], summary=d.get("summary", {}), parts=parts,
                   sentences=d.get("sentences", []))

    @classmethod
    def from_json(cls, text: str) -> "Evidence":
        return cls.from_dict(json.loads(text))

    # ------------------------------------------------------------------ tables of the graph
    def edges_frame(self) -> pd.DataFrame:
        return (self.graph or GraphPart()).edges_frame()

    def paths_frame(self) -> pd.DataFrame:
        return (self.graph or GraphPart()).paths_frame()


def _json_default(o: Any):
    """NumPy / torch scalars in a summary or a table -> plain numbers."""
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")
