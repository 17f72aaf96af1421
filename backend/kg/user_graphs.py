"""A user's own knowledge graph: a table of (head, relation, tail) triples made into a transductive dataset.

:func:`import_graph` reads a CSV/TSV (header optional; every row is read or named with its line and reason:
with ``keep_going`` the readable rows are imported and the others listed, without it nothing is written),
drops repeated triples, splits the rest at random into training, valid and test triples, and writes them in
the RED-GNN layout (``entities.txt``, ``relations.txt``, ``facts/train/valid/test.txt``, tab-separated, so
names may hold spaces) to ``<graphs folder>/<name>/``, beside a ``graph.json`` report. Every held-out
(valid or test) triple's head, relation and tail also occur in the training triples, as the transductive
protocol needs: a held-out triple that would name something unseen goes to training instead. The training
triples are written 3:1 as facts (the graph) and train (queries), the RED-GNN layout's partition; transductive
training re-splits their union every epoch anyway.

The graphs folder is ``$PARSIMONY_GRAPHS``, else ``graphs/`` in the runs folder (``$PARSIMONY_RUNS``, else
``<project>/runs``). :func:`load_user_graph` reads a graph back as :class:`~backend.kg.loader.KGData`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from backend.core.files import atomic_write_text
from backend.core.store import runs_root, utc_now
from backend.core.tables import Column, IncompleteTable, Problem, Table, read_table

from .loader import REDGNN_FILES, KGData, read_redgnn_files

GRAPH_COLUMNS = [Column("head", ("h", "subject", "source", "head_entity")),
                 Column("relation", ("r", "rel", "predicate", "relation_name")),
                 Column("tail", ("t", "object", "target", "tail_entity"))]
LABEL_COLUMNS = [Column("name", ("id", "entity", "entity_id", "relation", "key")),
                 Column("label", ("text", "title", "readable", "description"))]
LABELS_FILE = "labels.tsv"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
REPORT_FILE = "graph.json"
RELATION_MAP_FILE = "relation_map.json"
#: fewest triples a graph needs: enough for training triples and at least one valid and one test triple
MIN_TRIPLES = 20
FACT_RATIO = 0.75


def graphs_dir() -> Path:
    """``$PARSIMONY_GRAPHS``, else ``<runs folder>/graphs``."""
    env = os.environ.get("PARSIMONY_GRAPHS", "").strip()
    return Path(env).expanduser().resolve() if env else runs_root() / "graphs"


def graph_folder(name: str) -> Path:
    return graphs_dir() / name


def is_user_graph(name: str) -> bool:
    """Whether ``name`` is an imported graph (its folder holds every file of the layout)."""
    if not NAME_PATTERN.match(name or ""):
        return False
    folder = graph_folder(name)
    return all((folder / f).is_file() for f in REDGNN_FILES)


def list_user_graphs() -> list[str]:
    """Names of the imported graphs, sorted."""
    root = graphs_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and is_user_graph(p.name))


def check_name(name: str, reserved: tuple[str, ...] | None = None) -> str:
    """``name`` stripped, or ValueError saying what a graph name may be (``reserved``: names it may not take;
    default: every dataset of the catalog)."""
    if reserved is None:
        from backend.core.data import CATALOG

        reserved = tuple(CATALOG)
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise ValueError(f"graph name {name!r}: use 1-64 letters, digits, '_', '-' or '.', starting with a letter "
                         "or digit")
    clash = next((r for r in reserved if r.lower() == name.lower()), None)
    if clash:
        raise ValueError(f"graph name {name!r} is the name of the dataset {clash!r}; choose another")
    return name


@dataclass
class GraphReport:
    """What an import kept, dropped and wrote."""

    name: str
    source: str
    rows_read: int                  # data rows of the file imported (before repeated triples are dropped)
    problems: list[str]             # the table's summary: how many rows were read, the first problems
    duplicates: int
    entities: int
    relations: int
    splits: dict[str, int]
    moved_to_training: int          # held-out draws that named something unseen in training
    valid_fraction: float
    test_fraction: float
    seed: int
    created: str = ""
    folder: str = ""
    problem_rows: list[dict] = field(default_factory=list)
    labels: dict = field(default_factory=dict)  # labels file: source, entities / relations labelled, unused,
    #                                             problems, rows_not_read
    extends: str = ""               # the dataset the table was added to ("" for none)
    extended_triples: int = 0       # that dataset's triples in the graph (always training)
    rows_in_file: int = 0           # data rows of the file (0: a report written before it was counted)

    def lines(self) -> list[str]:
        """The report as sentences a person reads."""
        s = self.splits
        of_file = f" of {self.rows_in_file:,}" if self.rows_in_file else ""
        not_read = len({p["row"] for p in self.problem_rows})
        out = [f"{self.rows_read:,}{of_file} rows read, {not_read:,} not read, {self.duplicates:,} repeated "
               f"triples dropped: {self.entities:,} entities, {self.relations:,} relations.",
               f"Split (seed {self.seed}): {s['facts'] + s['train']:,} training triples ({s['facts']:,} facts, "
               f"{s['train']:,} queries), {s['valid']:,} valid, {s['test']:,} test."]
        if self.extends:
            out.append(f"{self.extended_triples:,} triples come from {self.extends} and always train; the valid and "
                       "test triples are drawn from your table's own triples.")
        if self.moved_to_training:
            out.append(f"{self.moved_to_training:,} triples drawn for valid or test named an entity or relation "
                       "found in no training triple and were trained on instead.")
        if self.labels:
            lb = self.labels
            out.append(f"Labels from {lb['source']}: {lb['entities']:,} of {self.entities:,} entities and "
                       f"{lb['relations']:,} of {self.relations:,} relations labelled"
                       + (f"; {lb['unused']:,} labels name nothing in the graph" if lb["unused"] else "")
                       + (f"; {lb.get('rows_not_read', len(lb['problems'])):,} label rows not read"
                          if lb["problems"] else "") + ".")
        return out


def split_triples(triples: torch.Tensor, n_ent: int, n_rel: int, valid_fraction: float, test_fraction: float,
                  seed: int, keep: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], int]:
    """({facts, train, valid, test}, held-out draws moved to training) for distinct ``[n, 3]`` triples;
    ``keep`` [n] bool marks triples that always train (an extended dataset's), the fractions apply to the rest.

    A seeded permutation draws the test triples first, then the valid ones; a drawn triple whose head, tail
    or relation occurs in no training triple moves to training (vectorised, one pass against the first
    training set, so a kept held-out triple is always covered). Training triples are split 3:1 into facts
    and train.
    """
    if not (0 <= valid_fraction < 1 and 0 <= test_fraction < 1 and valid_fraction + test_fraction < 1):
        raise ValueError(f"valid and test fractions must be in [0, 1) with a sum below 1, "
                         f"not {valid_fraction} and {test_fraction}")
    g = torch.Generator().manual_seed(int(seed))
    drawable = torch.arange(len(triples)) if keep is None else torch.nonzero(~keep).squeeze(1)
    n = len(drawable)
    order = drawable[torch.randperm(n, generator=g)]
    n_test, n_valid = round(n * test_fraction), round(n * valid_fraction)
    held = order[:n_test + n_valid]
    training = order[n_test + n_valid:] if keep is None else torch.cat([order[n_test + n_valid:],
                                                                       torch.nonzero(keep).squeeze(1)])
    seen_ent = torch.zeros(n_ent, dtype=torch.bool)
    seen_rel = torch.zeros(n_rel, dtype=torch.bool)
    seen_ent[triples[training][:, [0, 2]].flatten()] = True
    seen_rel[triples[training][:, 1]] = True
    h = triples[held]
    covered = seen_ent[h[:, 0]] & seen_ent[h[:, 2]] & seen_rel[h[:, 1]]
    is_test = torch.arange(len(held)) < n_test
    test, valid = held[covered & is_test], held[covered & ~is_test]
    training = torch.cat([training, held[~covered]])
    n_facts = round(len(training) * FACT_RATIO)
    shuffled = training[torch.randperm(len(training), generator=g)]
    parts = {"facts": shuffled[:n_facts], "train": shuffled[n_facts:], "valid": valid, "test": test}
    return {k: triples[torch.sort(v).values] for k, v in parts.items()}, int((~covered).sum())


def import_graph(source: Path | bytes | str, name: str, valid_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
                 replace: bool = False, reserved: tuple[str, ...] | None = None, source_name: str = "",
                 labels: Path | bytes | str | None = None, labels_name: str = "",
                 extend: KGData | None = None, keep_going: bool = True) -> GraphReport:
    """Read ``source`` (a path, an upload's bytes, or text: a CSV/TSV of head, relation, tail), split it and
    write the graph. ``labels`` (optional, same forms): a table of name, label giving entities and relations
    readable labels (Wikidata or Freebase ids, say); the pickers, answers and evidence then show them.
    ``extend``: a dataset the table adds to. Its triples join the graph and always train, its labels come along,
    and a table cell naming one of its entities or relations by a label it alone has means that one; the
    valid and test fractions apply to the table's own triples, so the held-out triples are the user's.
    ``keep_going`` (the page's way): rows that cannot be read are listed in the report and the others imported;
    else (the CLI's way, unless --keep-going) such a row raises :class:`IncompleteTable` before anything is
    written, as does a labels row.

    Raises ValueError when the table cannot be read as a whole, has fewer than :data:`MIN_TRIPLES` distinct
    usable triples, leaves no valid or no test triple, or names a graph that exists (unless ``replace``).
    The folder is written whole or not at all (a temporary folder renamed into place).
    """
    name = check_name(name, reserved)
    folder = graph_folder(name)
    if folder.exists() and not replace:
        raise ValueError(f"a graph called {name!r} exists already ({folder}); choose another name or replace it")
    source_name = source_name or (source.name if isinstance(source, Path) else "upload")
    table = read_table(source, GRAPH_COLUMNS)
    # the layout is tab-separated: a name holding a tab (possible inside a quoted CSV cell) cannot be written
    table = table.drop([Problem(int(row), column, value, "holds a tab, which a name may not")
                        for row, *cells in table.rows[["row"] + [c.name for c in GRAPH_COLUMNS]].itertuples(index=False)
                        for column, value in zip((c.name for c in GRAPH_COLUMNS), cells) if "\t" in value])
    _require_complete(table, source_name, keep_going)
    rows = table.rows
    heads, rels, tails = rows["head"].tolist(), rows["relation"].tolist(), rows["tail"].tolist()
    base_names, base_rels, base_triples, base_labels = [], [], torch.empty(0, 3, dtype=torch.long), {}
    if extend is not None:
        base_names, base_rels = list(extend.entities), list(extend.relations)
        base_triples = torch.cat([extend.facts, extend.train, extend.valid, extend.test])
        base_labels = _dataset_labels(extend)
        by_label = _unique_labels(extend.entities, extend.entity_labels)
        by_rel_label = _unique_labels(extend.relations, extend.relation_labels)
        names, rel_names = set(base_names), set(base_rels)
        heads = [h if h in names else by_label.get(h.lower(), h) for h in heads]
        tails = [t if t in names else by_label.get(t.lower(), t) for t in tails]
        rels = [r if r in rel_names else by_rel_label.get(r.lower(), r) for r in rels]
    entities = list(dict.fromkeys(base_names + heads + tails))
    relations = list(dict.fromkeys(base_rels + rels))
    ent_id = {e: i for i, e in enumerate(entities)}
    rel_id = {r: i for i, r in enumerate(relations)}
    own = torch.tensor([[ent_id[h] for h in heads], [rel_id[r] for r in rels], [ent_id[t] for t in tails]],
                       dtype=torch.long).T.reshape(-1, 3)
    triples = torch.cat([base_triples, own])  # the dataset's ids are its names' positions, kept first
    distinct, inverse = torch.unique(triples, dim=0, return_inverse=True)
    keep = None
    if extend is not None:
        keep = torch.zeros(len(distinct), dtype=torch.bool)
        keep[inverse[:len(base_triples)]] = True
    if len(distinct) < MIN_TRIPLES:
        raise ValueError(f"the table has {len(distinct)} distinct usable triples; a graph needs at least {MIN_TRIPLES}"
                         + (f" ({table.headline()}; first: {table.problems[0]})" if table.problems else ""))
    splits, moved = split_triples(distinct, len(entities), len(relations), valid_fraction, test_fraction, seed, keep)
    for split in ("valid", "test"):
        if not len(splits[split]):
            raise ValueError(f"no {split} triple is left (each held-out triple's entities and relation must also "
                             f"occur in training); give a larger {split} fraction or more triples")
    report = GraphReport(
        name=name, source=source_name, rows_read=table.rows_read, rows_in_file=table.data_rows,
        problems=table.summary(),
        duplicates=len(triples) - len(distinct), entities=len(entities), relations=len(relations),
        extends=extend.name if extend is not None else "", extended_triples=len(base_triples),
        splits={k: len(v) for k, v in splits.items()}, moved_to_training=moved, valid_fraction=valid_fraction,
        test_fraction=test_fraction, seed=int(seed), created=utc_now(), folder=str(folder),
        problem_rows=[asdict(p) for p in table.problems])
    label_of = dict(base_labels)
    if labels is not None:
        labels_name = labels_name or (labels.name if isinstance(labels, Path) else "upload")
        own_labels, report.labels = read_labels(labels, entities, relations, keep_going, labels_name)
        report.labels["source"] = labels_name
        label_of.update(own_labels)
    _write_graph(folder, entities, relations, splits, report, replace, label_of)
    return report


def _dataset_labels(kg: KGData) -> dict[str, str]:
    """name -> readable label of a dataset's entities and relations, where they differ."""
    out = {}
    for names, labels in ((kg.entities, kg.entity_labels), (kg.relations, kg.relation_labels)):
        for name, label in zip(names, labels or []):
            if label and label != name and "\t" not in label:
                out[name] = label
    return out


def _unique_labels(names: list[str], labels: list[str] | None) -> dict[str, str]:
    """lower-cased label -> name, for labels exactly one name has."""
    count: dict[str, int] = {}
    for label in labels or []:
        count[label.lower()] = count.get(label.lower(), 0) + 1
    return {label.lower(): name for name, label in zip(names, labels or []) if label and count[label.lower()] == 1}


def read_labels(source, entities: list[str], relations: list[str], keep_going: bool = True,
                source_name: str = "the labels file") -> tuple[dict[str, str], dict]:
    """({name: label} for the graph's names, a summary: entities, relations labelled, unused, problems);
    without ``keep_going`` a row that cannot be read raises :class:`IncompleteTable`."""
    table = read_table(source, LABEL_COLUMNS)
    bad = [Problem(int(row), column, value, "holds a tab, which a label may not")
           for row, name, label in table.rows[["row", "name", "label"]].itertuples(index=False)
           for column, value in (("name", name), ("label", label)) if "\t" in value]
    table = table.drop(bad)
    _require_complete(table, source_name, keep_going)
    known_entities, known_relations = set(entities), set(relations)
    label_of = {n: lb for n, lb in zip(table.rows["name"], table.rows["label"])
                if n in known_entities or n in known_relations}
    summary = {"entities": sum(e in label_of for e in entities), "relations": sum(r in label_of for r in relations),
               "unused": int(len(set(table.rows["name"])) - len(label_of)), "problems": table.summary(),
               "rows_not_read": table.rows_not_read}
    return label_of, summary


def _require_complete(table: Table, source_name: str, keep_going: bool) -> None:
    """Raise :class:`IncompleteTable` unless ``keep_going`` or every row of the table was read."""
    if not (keep_going or table.complete):
        raise IncompleteTable(table, source_name)


def _write_graph(folder: Path, entities: list[str], relations: list[str], splits: dict[str, torch.Tensor],
                 report: GraphReport, replace: bool, label_of: dict[str, str]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        (tmp / "entities.txt").write_text("".join(f"{e}\n" for e in entities), encoding="utf-8")
        (tmp / "relations.txt").write_text("".join(f"{r}\n" for r in relations), encoding="utf-8")
        for split, hrt in splits.items():
            (tmp / f"{split}.txt").write_text(
                "".join(f"{entities[h]}\t{relations[r]}\t{entities[t]}\n" for h, r, t in hrt.tolist()),
                encoding="utf-8")
        if label_of:
            (tmp / LABELS_FILE).write_text("".join(f"{n}\t{lb}\n" for n, lb in label_of.items()), encoding="utf-8")
        atomic_write_text(tmp / REPORT_FILE, json.dumps(asdict(report), indent=2) + "\n")
        if folder.exists() and replace:
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _labels_of(folder: Path) -> dict[str, str]:
    """name -> label from a graph's labels file ({} without one)."""
    label_of = {}
    if (folder / LABELS_FILE).is_file():
        for line in (folder / LABELS_FILE).read_text(encoding="utf-8").splitlines():
            key, _, label = line.partition("\t")
            label_of[key] = label
    return label_of


def graph_relations(name: str) -> tuple[list[str], dict[str, str]]:
    """An imported graph's relation names and the labels it gives them, without reading its triples."""
    folder = graph_folder(name)
    relations = (folder / "relations.txt").read_text(encoding="utf-8").splitlines()
    label_of = _labels_of(folder)
    return relations, {r: label_of[r] for r in relations if label_of.get(r)}


def relation_triples(name: str) -> dict[str, int]:
    """How many triples (all splits) an imported graph has per relation name, most first."""
    kg = load_user_graph(name)
    counts = torch.bincount(torch.cat([kg.facts, kg.train, kg.valid, kg.test])[:, 1], minlength=kg.n_rel)
    return dict(sorted(zip(kg.relations, counts.tolist()), key=lambda kv: (-kv[1], kv[0])))


def relation_map(name: str) -> dict[str, str]:
    """What the user said the graph's relations mean: graph relation -> a checkpoint's relation name ({} if
    nothing was said). Kept beside the graph, outside the files a training run records, so saying it never
    makes a run's graph look replaced."""
    path = graph_folder(name) / RELATION_MAP_FILE
    if not path.is_file():
        return {}
    return {str(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items() if str(v).strip()}


def save_relation_map(name: str, mapping: dict[str, str]) -> dict[str, str]:
    """Merge ``mapping`` (graph relation -> checkpoint relation; an empty value forgets it) into the graph's
    relation map and return the result. A ValueError names relations the graph does not have."""
    relations, _ = graph_relations(name)
    unknown = sorted(set(mapping) - set(relations))
    if unknown:
        raise ValueError(f"{name} has no relation {', '.join(repr(u) for u in unknown[:5])}"
                         f"{', …' if len(unknown) > 5 else ''}; its relations are: {', '.join(relations[:20])}"
                         f"{', …' if len(relations) > 20 else ''}")
    merged = {**relation_map(name), **{k: v.strip() for k, v in mapping.items()}}
    merged = {k: v for k, v in merged.items() if v}
    atomic_write_text(graph_folder(name) / RELATION_MAP_FILE, json.dumps(merged, indent=1, sort_keys=True) + "\n")
    return merged


def load_user_graph(name: str) -> KGData:
    """An imported graph as :class:`KGData` (labels from its labels file, where it has one)."""
    if not is_user_graph(name):
        raise ValueError(f"no imported graph called {name!r} under {graphs_dir()}"
                         + (f"; imported: {', '.join(list_user_graphs())}" if list_user_graphs() else ""))
    folder = graph_folder(name)
    label_of = _labels_of(folder)
    labeller = (lambda names: [label_of.get(n) or n for n in names]) if label_of else None
    return read_redgnn_files(name, {f: folder / f for f in REDGNN_FILES}, labeller, labeller)


def changed_files(name: str, recorded: dict[str, str]) -> list[str]:
    """The graph's files whose sha256 differs from ``recorded`` (a card's ``data.files``): not empty when the
    graph was replaced after a run trained on it, or is gone."""
    from backend.core.files import sha256_file

    folder = graph_folder(name)
    return [f for f, digest in recorded.items()
            if not (folder / f).is_file() or sha256_file(folder / f) != digest]


def graphs_frame() -> "pd.DataFrame":
    """One row per imported graph: its size, split, source file and when it was added."""
    import pandas as pd

    rows = []
    for name in list_user_graphs():
        report = graph_report(name) or {}
        splits = report.get("splits") or {}
        rows.append({"graph": name, "entities": report.get("entities"), "relations": report.get("relations"),
                     "training triples": (splits.get("facts", 0) + splits.get("train", 0)) or None,
                     "valid": splits.get("valid"), "test": splits.get("test"), "from file": report.get("source"),
                     "adds to": report.get("extends") or "", "relations mapped": len(relation_map(name)),
                     "added": (report.get("created") or "").replace("T", " ").rstrip("Z")})
    return pd.DataFrame(rows, columns=["graph", "entities", "relations", "training triples", "valid", "test",
                                       "from file", "adds to", "relations mapped", "added"])


def graph_report(name: str) -> dict | None:
    """The import report saved beside a graph (None when there is none)."""
    try:
        return json.loads((graph_folder(name) / REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
