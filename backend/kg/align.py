"""Putting a graph into a trained model's relation vocabulary, so the model can reason over it unchanged.

Models such as RED-GNN learn nothing per entity, only per relation: a checkpoint applies to any graph whose
relations it knows, whatever its entities (the inductive setting). :func:`align_relations` renumbers a
graph's relations as the model's (matched by name, else by readable label, ignoring case) and leaves out
the triples whose relation the model does not know, counting them per relation so a page can say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .loader import KGData

SPLITS = ("facts", "train", "valid", "test")


@dataclass
class RelationAlignment:
    """How a graph met a model's relations: which matched, and the triples left out per unknown relation."""

    graph: str
    vocabulary: str                                            # the model's training graph
    matched: dict[str, str] = field(default_factory=dict)      # graph relation -> model relation
    left_out: dict[str, int] = field(default_factory=dict)     # unknown graph relation -> triples left out
    kept: int = 0                                              # triples kept, all splits

    @property
    def n_left_out(self) -> int:
        return sum(self.left_out.values())

    def summary(self, limit: int = 5) -> str:
        """One line: what matched and what was left out (most triples first)."""
        text = (f"{len(self.matched)} of {len(self.matched) + len(self.left_out)} relations of {self.graph} are "
                f"relations of {self.vocabulary}; {self.kept:,} triples kept")
        if not self.left_out:
            return text + "."
        worst = sorted(self.left_out.items(), key=lambda kv: (-kv[1], kv[0]))
        named = ", ".join(f"{name} ({n:,})" for name, n in worst[:limit]) + (", …" if len(worst) > limit else "")
        return text + f", {self.n_left_out:,} left out because {self.vocabulary} has no such relation: {named}."


INVERSE_PREFIX = "inverse of "


def _inverted(meant: str | None) -> tuple[str | None, bool]:
    """('r', True) for 'inverse of r' (the graph's triple runs the other way), else (meant, False)."""
    if meant and meant.strip().lower().startswith(INVERSE_PREFIX):
        return meant.strip()[len(INVERSE_PREFIX):], True
    return meant, False


def _match(name: str, label: str | None, keys: dict[str, int], meant: str | None = None) -> int | None:
    """The model relation a graph relation means: what the user said it means (``meant``; 'inverse of r' means
    r), else its name, else its own label, looked up in ``keys``."""
    meant = _inverted(meant)[0]
    target = keys.get(meant.strip().lower()) if meant else None
    if target is None:
        target = keys.get(name.strip().lower())
    if target is None and label:
        target = keys.get(label.strip().lower())
    return target


def _relation_keys(relations: list[str], labels: list[str] | None) -> dict[str, int]:
    """Lower-cased name or label -> model relation id; a name beats a label, the first label wins."""
    keys: dict[str, int] = {}
    for i, label in enumerate(labels or []):
        if label:
            keys.setdefault(label.strip().lower(), i)
    for i, name in enumerate(relations):
        keys[name.strip().lower()] = i
    return keys


def align_relations(kg: KGData, vocabulary: KGData,
                    meaning: dict[str, str] | None = None) -> tuple[KGData, RelationAlignment]:
    """``kg`` with ``vocabulary``'s relations (ids, names, labels), keeping its entities; triples whose
    relation ``vocabulary`` does not know are left out. ``meaning``: graph relation -> the vocabulary relation
    the user said it means (first; one the vocabulary lacks falls back to matching by name); 'inverse of r'
    means r with head and tail swapped. A ValueError when no relation matches, naming both."""
    meaning = meaning or {}
    keys = _relation_keys(vocabulary.relations, vocabulary.relation_labels)
    own_labels = kg.relation_labels or [None] * kg.n_rel
    new_id = torch.full((kg.n_rel,), -1, dtype=torch.long)
    swap = torch.zeros(kg.n_rel, dtype=torch.bool)
    report = RelationAlignment(graph=kg.name, vocabulary=vocabulary.name)
    for i, name in enumerate(kg.relations):
        target = _match(name, own_labels[i], keys, meaning.get(name))
        if target is not None:
            new_id[i] = target
            meant, inverse = _inverted(meaning.get(name))
            swap[i] = inverse and keys.get((meant or "").strip().lower()) == target
            report.matched[name] = (INVERSE_PREFIX if swap[i] else "") + vocabulary.relations[target]
    if not report.matched:
        theirs = ", ".join(vocabulary.relation_labels or vocabulary.relations)
        raise ValueError(f"none of the {kg.n_rel} relations of {kg.name} ({', '.join(kg.relations[:8])}"
                         f"{', …' if kg.n_rel > 8 else ''}) is a relation of {vocabulary.name}, so a model trained on "
                         f"{vocabulary.name} cannot reason over it; its relations are: {theirs[:600]}"
                         f"{'…' if len(theirs) > 600 else ''}")
    splits = {}
    for split in SPLITS:
        triples = getattr(kg, split)
        mapped = new_id[triples[:, 1]] if len(triples) else triples[:, 1]
        unknown = mapped < 0
        for rel, count in zip(*torch.unique(triples[unknown, 1], return_counts=True)):
            name = kg.relations[int(rel)]
            report.left_out[name] = report.left_out.get(name, 0) + int(count)
        kept = triples[~unknown].clone()
        flip = swap[kept[:, 1]]
        kept[flip] = kept[flip][:, [2, 1, 0]]  # 'inverse of r': (t, r, h)
        kept[:, 1] = mapped[~unknown]
        splits[split] = kept
        report.kept += len(kept)
    aligned = KGData(name=kg.name, entities=kg.entities, relations=vocabulary.relations,
                     entity_labels=kg.entity_labels, relation_labels=vocabulary.relation_labels, files=kg.files,
                     **splits)
    return aligned, report


def shared_relations(relations: list[str], vocabulary: KGData, labels: dict[str, str] | None = None,
                     meaning: dict[str, str] | None = None) -> int:
    """How many of a graph's ``relations`` (names; ``labels``: name -> the graph's own label; ``meaning`` as in
    :func:`align_relations`) ``vocabulary`` knows, matched as :func:`align_relations` matches them (what a picker
    shows before loading the graph)."""
    keys = _relation_keys(vocabulary.relations, vocabulary.relation_labels)
    labels, meaning = labels or {}, meaning or {}
    return sum(_match(name, labels.get(name), keys, meaning.get(name)) is not None for name in relations)


_MIX = (0x9E3779B97F4A7C15 - (1 << 64), 0xBF58476D1CE4E5B9 - (1 << 64), 0x94D049BB133111EB - (1 << 64))


def _mix(x: torch.Tensor, salt: int) -> torch.Tensor:
    """A 64-bit integer hash (splitmix-like, wrapping int64 arithmetic) of each element."""
    x = (x + salt) * _MIX[0]
    x = (x ^ (x >> 31)) * _MIX[1]
    return (x ^ (x >> 29)) * _MIX[2]


def structural_colours(triples: torch.Tensor, n_ent: int, rounds: int = 12) -> torch.Tensor:
    """Weisfeiler-Lehman colour refinement with typed, directed edges: each round an entity's colour becomes a
    hash of its colour and the multiset of (relation, direction, neighbour colour) around it, until the number of
    colours stops growing. Entities in isomorphic places get equal colours, whatever their names."""
    colour = torch.zeros(n_ent, dtype=torch.long)
    h, r, t = triples[:, 0], triples[:, 1], triples[:, 2]
    count = 1
    for _ in range(rounds):
        into_t = _mix(_mix(r * 2, 1) ^ colour[h], 2)       # what a tail sees: (r, in, colour of h)
        into_h = _mix(_mix(r * 2 + 1, 1) ^ colour[t], 2)   # what a head sees: (r, out, colour of t)
        around = torch.zeros(n_ent, dtype=torch.long).index_add_(0, t, into_t).index_add_(0, h, into_h)
        colour = torch.unique(_mix(colour, 3) ^ around, return_inverse=True)[1]
        if int(colour.max()) + 1 == count:
            break
        count = int(colour.max()) + 1
    return colour


@dataclass
class StructuralMatch:
    """Where a graph's entities sit in a training graph, by structure alone (:func:`match_structure`)."""

    entity: torch.Tensor          # graph entity -> the training entity in its place (-1: none or not a copy)
    graph_colour: torch.Tensor    # graph entity -> its colour, shared with the training graph's colours
    training_colour: torch.Tensor
    is_copy: bool                 # enough entities met one: the graph is a renamed copy


def match_structure(graph: KGData, training: KGData, least_share: float = 0.5) -> StructuralMatch:
    """For each entity of ``graph`` (aligned to ``training``'s relations), the ``training`` entity in the same
    place of a copy of the graph under other names: both graphs are coloured together (:func:`structural_colours`
    over all their triples) and an entity meets the other graph's entity of its colour when that colour is one
    entity's in each graph. A renamed copy of a dataset is found this way; a part of one mostly is not (an
    entity's colour also counts its neighbours' edges outside the part). Only a copy counts: unless
    ``least_share`` of the graph's entities meet one, none does (so the odd small pattern two unrelated graphs
    share is no match)."""
    ours = torch.cat([getattr(graph, s) for s in SPLITS]).cpu()
    theirs = torch.cat([getattr(training, s) for s in SPLITS]).cpu()
    both = torch.cat([ours, theirs + torch.tensor([graph.n_ent, 0, graph.n_ent])])
    colour = structural_colours(both, graph.n_ent + training.n_ent)
    mine, other = colour[:graph.n_ent], colour[graph.n_ent:]
    n_colours = int(colour.max()) + 1
    once = (torch.bincount(mine, minlength=n_colours) == 1) & (torch.bincount(other, minlength=n_colours) == 1)
    where = torch.full((n_colours,), -1, dtype=torch.long)
    where[other] = torch.arange(training.n_ent)
    is_copy = float(once[mine].double().mean()) >= least_share
    entity = torch.where(once[mine] & is_copy, where[mine], torch.full_like(mine, -1))
    return StructuralMatch(entity, mine, other, is_copy)


def _look_alike_seen(asked: torch.Tensor, training: KGData, structure: StructuralMatch) -> torch.Tensor:
    """Which ``asked`` triples of a renamed copy are training triples whatever look-alike entity each end is: every
    ``training`` triple of the same (colour, relation, colour) is a fact or training triple, and both colours hold
    as many entities on each side (in a copy the look-alikes of a place map onto each other)."""
    if not structure.is_copy or not len(asked):
        return torch.zeros(len(asked), dtype=torch.bool)
    mine, other = structure.graph_colour, structure.training_colour
    n_colours = int(max(mine.max(), other.max())) + 1
    alike = torch.bincount(mine, minlength=n_colours) == torch.bincount(other, minlength=n_colours)

    def pattern(triples: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
        return (colour[triples[:, 0]] * training.n_rel + triples[:, 1]) * n_colours + colour[triples[:, 2]]

    taught = pattern(torch.cat([training.facts, training.train]).cpu(), other)
    held_out = pattern(torch.cat([training.valid, training.test]).cpu(), other)
    ask = pattern(asked.cpu(), mine)
    return (alike[mine[asked[:, 0]]] & alike[mine[asked[:, 2]]] & torch.isin(ask, taught)
            & ~torch.isin(ask, held_out))


def named_entity_ids(graph: KGData, training: KGData) -> torch.Tensor:
    """For each entity of ``graph``, the ``training`` entity it is (-1: none): the same name; else, for an entity
    named by readable text (it has no label of its own), a ``training`` label that names one entity only, ignoring
    case. So 'Barack Obama' in a user's table meets Freebase's /m/02mjmr, while an id with a label of its own
    (/m/01_d4, 'Chicago' the city) stays itself and never meets another id of that label (the film)."""
    index = {name: i for i, name in enumerate(training.entities)}
    by_label: dict[str, int] = {}
    for i, label in enumerate(training.entity_labels or []):
        if label:
            key = label.strip().lower()
            by_label[key] = -1 if key in by_label else i  # a label of several entities names none
    own = graph.entity_labels or [None] * graph.n_ent

    def lookup(name: str, label: str | None) -> int:
        if name in index:
            return index[name]
        if label and label != name:  # an identifier with its label: only its name identifies it
            return -1
        return by_label.get(name.strip().lower(), -1)

    return torch.tensor([lookup(name, label) for name, label in zip(graph.entities, own)], dtype=torch.long)


def seen_share(graph: KGData, split: str, training: KGData) -> float:
    """Share of ``graph``'s ``split`` triples that are facts or training triples of ``training`` (``graph``
    aligned to ``training``'s relations): answers a checkpoint trained on ``training`` was trained on, so its
    score on them is optimistic. Entities meet by name or label (:func:`named_entity_ids`), else by their place in
    the graph (:func:`match_structure`: renamed copies); in a renamed copy a triple between look-alike entities
    counts when every training triple it could be is a fact or training triple (:func:`_look_alike_seen`). A
    lower bound: a renamed part of a dataset is not found. 0.0 for an empty split."""
    asked = getattr(graph, split)
    if not len(asked):
        return 0.0
    names = named_entity_ids(graph, training)
    structure = match_structure(graph, training) if bool((names < 0).any()) else None
    ids = names if structure is None else torch.where(names >= 0, names, structure.entity)
    heads, tails = ids[asked[:, 0]], ids[asked[:, 2]]
    both = (heads >= 0) & (tails >= 0)

    def key(h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (h * training.n_rel + r) * training.n_ent + t

    trained = torch.cat([training.facts, training.train])
    seen = both & torch.isin(key(heads, asked[:, 1], tails), key(trained[:, 0], trained[:, 1], trained[:, 2]))
    if structure is not None:
        seen |= ~both & _look_alike_seen(asked, training, structure)
    return float(seen.double().mean())
