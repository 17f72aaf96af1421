"""Knowledge-graph triples: the RED-GNN text layout, the AutoSF/OpenKE id layout, inductive splits.

Ids: in the RED-GNN transductive layout an entity's id is its 0-based line number in entities.txt;
in the inductive layout ids are the second column; in the AutoSF layout files are
``head_id tail_id relation_id`` after a count line. Every loader returns a :class:`KGData` whose
triple tensors are ``[n, 3]`` int64 (head, relation, tail).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from backend.core.data import data_file, open_text, resolve_data_root


@dataclass
class KGData:
    """One knowledge graph with its splits. ``facts`` is the graph RED-GNN propagates over;
    ``train`` the training queries (AutoSF layout: facts is empty, train is the whole split)."""

    name: str
    entities: list[str]
    relations: list[str]
    facts: torch.Tensor
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    entity_labels: list[str] | None = None
    relation_labels: list[str] | None = None
    files: dict[str, str] = field(default_factory=dict)  # relative path -> absolute path used
    #: how a name without a label is shown (display only: alignment and lookups by label never see it): "" as it
    #: is, "spaces" with underscores as spaces (umls), or a pattern such as "person {}" (family's bare numbers)
    display: str = ""

    def readable(self, name: str) -> str:
        """A name as shown where the dataset gives no label (:attr:`display`)."""
        if self.display == "spaces":
            return name.replace("_", " ")
        return self.display.format(name) if self.display else name

    @property
    def naming_note(self) -> str:
        """One sentence on how names are shown, where the display rule changes them (else "")."""
        if "{}" in self.display:
            return (f"{self.name} gives its entities numbers, not names: they are shown as "
                    f"“{self.display.format(self.entities[0] if self.entities else 0)}”.")
        if self.display == "spaces":
            return f"{self.name}'s names are shown with spaces for underscores."
        return ""

    @property
    def n_ent(self) -> int:
        return len(self.entities)

    @property
    def n_rel(self) -> int:
        return len(self.relations)

    def entity_label(self, idx: int) -> str:
        if self.entity_labels is not None and self.entity_labels[idx]:
            return self.entity_labels[idx]
        return self.readable(self.entities[idx])

    def entity_text(self, idx: int) -> str:
        """'label · name', or just the label when the entity has no label of its own (what pickers show;
        the lookups read it back)."""
        label = self.entity_label(idx)
        own = self.entity_labels is not None and bool(self.entity_labels[idx])
        return f"{label} · {self.entities[idx]}" if own and label != self.entities[idx] else label

    def relation_label(self, idx: int) -> str:
        """Name of relation ``idx`` in the doubled space: r, inverse r + n_rel, self-loop 2·n_rel."""
        if idx == 2 * self.n_rel:
            return "self"
        base = idx % self.n_rel
        name = self.relation_labels[base] if self.relation_labels else self.relations[base].replace(
            "_", " ") if self.display == "spaces" else self.relations[base]
        return name if idx < self.n_rel else f"inverse of {name}"

    def relation_choices(self, entity: int) -> list[tuple[int, int, str]]:
        """The relations (doubled space) a query from ``entity`` can ask, as (id, known answers, text) for a
        picker: those with known answers (facts or any split) first, most first, each 'label (n known)'; then
        the rest."""
        triples = torch.cat([self.facts, self.train, self.valid, self.test]).cpu()
        asked = torch.cat([triples[triples[:, 0] == entity, 1], triples[triples[:, 2] == entity, 1] + self.n_rel])
        known = torch.bincount(asked, minlength=2 * self.n_rel)
        order = sorted(range(2 * self.n_rel), key=lambda r: -int(known[r]))  # stable: ties keep id order
        return [(r, int(known[r]), f"{self.relation_label(r)} ({int(known[r]):,} known)" if known[r]
                 else self.relation_label(r)) for r in order]

    def to(self, device) -> "KGData":
        for split in ("facts", "train", "valid", "test"):
            setattr(self, split, getattr(self, split).to(device))
        return self


def _read_lines(path: Path) -> list[str]:
    with open_text(path) as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]


def _read_name_triples(path: Path, ent_id: dict[str, int], rel_id: dict[str, int]) -> torch.Tensor:
    rows = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        # tab-separated where there are tabs (names may hold spaces: imported graphs), else any whitespace
        parts = [p.strip() for p in line.split("\t")] if "\t" in line else line.split()
        if len(parts) != 3:
            raise ValueError(f"{path}: line {lineno} has {len(parts)} fields, expected head relation tail")
        h, r, t = parts
        try:
            rows.append((ent_id[h], rel_id[r], ent_id[t]))
        except KeyError as exc:
            raise ValueError(f"{path}: line {lineno}: unknown name {exc.args[0]!r}") from None
    return torch.tensor(rows, dtype=torch.long).reshape(-1, 3)


def _read_text_table(root: Path, rel_path: str, first_comma: bool) -> dict[str, str] | None:
    """name -> readable text from a KG-BERT ``*2text.txt`` file; None when the file is absent."""
    try:
        path = data_file(root, rel_path)
    except Exception:
        return None
    table = {}
    for line in _read_lines(path):
        key, _, text = line.partition("\t")
        table[key] = text.split(",")[0].strip() if first_comma else text.strip()
    return table


_LABEL_FILES = {  # dataset -> (entity text file, relation text file, cut at first comma)
    "WN18RR": ("entity2text.txt", "relation2text.txt", True),
    "fb15k-237": ("entity2text.txt", "relation2text.txt", False),
}
#: datasets without text files whose names read better shown another way (KGData.display)
DISPLAY = {"family": "person {}", "umls": "spaces"}
#: inductive split family -> the transductive dataset whose text files name its entities and relations
_INDUCTIVE_LABELS_FROM = {"WN18RR": "WN18RR", "fb237": "fb15k-237"}


def _labellers(root: Path, dataset: str | None):
    """(entity labeller, relation labeller) from ``dataset``'s text files: each maps a list of names
    to a list of labels, or to None when the dataset has no text file."""
    ent_file, rel_file, cut = _LABEL_FILES.get(dataset, (None, None, False))
    tables = [_read_text_table(root, f"kg/{dataset}/{f}", c) if f else None
              for f, c in ((ent_file, cut), (rel_file, False))]
    return [(lambda names, t=t: None if t is None else [t.get(n) or n for n in names]) for t in tables]


def load_redgnn_layout(name: str, root: str | Path | None = None, with_labels: bool = True) -> KGData:
    """A transductive dataset in the RED-GNN layout (entities.txt line numbers are the ids)."""
    root = resolve_data_root(root) if not isinstance(root, Path) else root
    paths = {f: data_file(root, f"kg/{name}/{f}") for f in REDGNN_FILES}
    ent_labeller, rel_labeller = _labellers(root, name if with_labels else None)
    kg = read_redgnn_files(name, paths, ent_labeller, rel_labeller)
    kg.display = DISPLAY.get(name, "") if with_labels else ""
    return kg


#: the files of a transductive dataset in the RED-GNN layout
REDGNN_FILES = ("entities.txt", "relations.txt", "facts.txt", "train.txt", "valid.txt", "test.txt")


def read_redgnn_files(name: str, paths: dict[str, Path], ent_labeller=None, rel_labeller=None) -> KGData:
    """A :class:`KGData` from the RED-GNN layout's files (``paths``: file name -> path); the labellers map
    names to readable labels (None: the names are the labels)."""
    entities = _read_lines(paths["entities.txt"])
    relations = _read_lines(paths["relations.txt"])
    ent_id = {e: i for i, e in enumerate(entities)}
    rel_id = {r: i for i, r in enumerate(relations)}
    splits = {s: _read_name_triples(paths[f"{s}.txt"], ent_id, rel_id) for s in ("facts", "train", "valid", "test")}
    ent_labels = ent_labeller(entities) if ent_labeller else None
    rel_labels = rel_labeller(relations) if rel_labeller else None
    return KGData(name=name, entities=entities, relations=relations, entity_labels=ent_labels,
                  relation_labels=rel_labels, files={k: str(v) for k, v in paths.items()}, **splits)


def _read_id_map(path: Path, header: bool) -> list[str]:
    lines = _read_lines(path)[1 if header else 0:]
    pairs = [line.split("\t") if "\t" in line else line.rsplit(None, 1) for line in lines]
    names = [""] * len(pairs)
    for name, idx in pairs:
        names[int(idx)] = name
    return names


def load_autosf_layout(name: str, root: str | Path | None = None) -> KGData:
    """An OpenKE/AutoSF id-layout dataset (``*_AutoSF`` folders): count line, then ``h t r``."""
    root = resolve_data_root(root) if not isinstance(root, Path) else root
    base = f"kg/{name}"
    files = {f: data_file(root, f"{base}/{f}") for f in
             ("entity2id.txt", "relation2id.txt", "train2id.txt", "valid2id.txt", "test2id.txt")}
    entities = _read_id_map(files["entity2id.txt"], header=True)
    relations = _read_id_map(files["relation2id.txt"], header=True)

    def triples(path: Path) -> torch.Tensor:
        rows = [tuple(int(x) for x in line.split()) for line in _read_lines(path)[1:]]
        hrt = torch.tensor(rows, dtype=torch.long).reshape(-1, 3)
        return hrt[:, [0, 2, 1]]  # h t r -> h r t

    return KGData(name=name, entities=entities, relations=relations, facts=torch.empty(0, 3, dtype=torch.long),
                  train=triples(files["train2id.txt"]), valid=triples(files["valid2id.txt"]),
                  test=triples(files["test2id.txt"]), files={k: str(v) for k, v in files.items()})


def load_inductive(split: str, root: str | Path | None = None, with_labels: bool = True) -> tuple[KGData, KGData]:
    """GraIL inductive split ``X`` (e.g. "WN18RR_v1"): (training graph, inductive test graph).

    Both share the training folder's relation ids; entity id spaces are disjoint. For the training
    graph: facts = X/train (the graph), train = X/valid (training queries, as RED-GNN does),
    valid = X/test (model selection). For the test graph: facts = X_ind/train, test = X_ind/valid ∪
    X_ind/test (RED-GNN's inductive test queries), valid = X_ind/valid.
    WN18RR and fb237 splits take readable names from the transductive datasets' text files.
    """
    root = resolve_data_root(root) if not isinstance(root, Path) else root
    base, ind = f"kg/inductive/{split}", f"kg/inductive/{split}_ind"
    relations = _read_id_map(data_file(root, f"{base}/relations.txt"), header=False)
    rel_id = {r: i for i, r in enumerate(relations)}

    def graph(folder: str, tag: str) -> tuple[list[str], dict[str, torch.Tensor], dict[str, str]]:
        entities = _read_id_map(data_file(root, f"{folder}/entities.txt"), header=False)
        ent_id = {e: i for i, e in enumerate(entities)}
        paths = {s: data_file(root, f"{folder}/{s}.txt") for s in ("train", "valid", "test")}
        return entities, {s: _read_name_triples(p, ent_id, rel_id) for s, p in paths.items()}, \
            {f"{tag}/{s}.txt": str(p) for s, p in paths.items()}

    ents, tr, files = graph(base, split)
    ents_ind, te, files_ind = graph(ind, f"{split}_ind")
    source = _INDUCTIVE_LABELS_FROM.get(split.rsplit("_v", 1)[0]) if with_labels else None
    ent_labeller, rel_labeller = _labellers(root, source)
    ent_labels, ent_labels_ind, rel_labels = ent_labeller(ents), ent_labeller(ents_ind), rel_labeller(relations)
    empty = torch.empty(0, 3, dtype=torch.long)
    train_graph = KGData(name=split, entities=ents, relations=relations, facts=tr["train"], train=tr["valid"],
                         valid=tr["test"], test=empty, entity_labels=ent_labels, relation_labels=rel_labels,
                         files=files)
    test_graph = KGData(name=f"{split}_ind", entities=ents_ind, relations=relations, facts=te["train"],
                        train=empty, valid=te["valid"], test=torch.cat([te["valid"], te["test"]]),
                        entity_labels=ent_labels_ind, relation_labels=rel_labels, files=files_ind)
    return train_graph, test_graph


def with_inverses(triples: torch.Tensor, n_rel: int) -> torch.Tensor:
    """[n, 3] -> [2n, 3]: each (h, r, t) followed by the block of inverses (t, r + n_rel, h)."""
    inv = torch.stack([triples[:, 2], triples[:, 1] + n_rel, triples[:, 0]], dim=1)
    return torch.cat([triples, inv], dim=0)
