"""Loading a RED-GNN checkpoint, ranked answers for a query, and its r-digraph evidence.

The evidence for (e_q, r_q, a) is read from one forward pass: every layer records its edges with
their attention; the r-digraph is the set of edges on some path from e_q (layer 0) to a (layer L),
found by backward reachability from the answer layer by layer (no path enumeration). Paths are
ranked by the product of attention along them (k-best dynamic programme over the layers).
"""
from __future__ import annotations

import difflib
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from backend.core.evidence import Evidence, EvidenceEdge, EvidenceNode, EvidencePath
from backend.core.metrics import filtered_ranks
from backend.core.store import Card, load_card, load_state_dict
from backend.kg.align import RelationAlignment, align_relations
from backend.kg.graph import AnswerIndex, EdgeIndex
from backend.kg.loader import KGData
from backend.kg.user_graphs import load_user_graph, relation_map

from .config import RedGNNConfig
from .model import LayerTrace, RedGNN, ranking_model


@dataclass
class LoadedModel:
    """A checkpoint ready to answer queries: model, card, data, graph and filters."""

    model: RedGNN
    card: Card
    kg: KGData                    # the graph queries run on (inductive: the test graph)
    graph: EdgeIndex
    known: AnswerIndex
    device: torch.device
    data: tuple[KGData, KGData | None] = None   # what evaluation ranks: (graph data, inductive test graph or None)
    training: KGData = None                     # the checkpoint's training graph (its relations, its queries)
    applied: RelationAlignment | None = None    # set when the checkpoint reasons over a graph it was not trained on
    _recent: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)
    _recent_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @torch.no_grad()
    def propagate(self, head: int, relation: int) -> tuple[torch.Tensor, list[LayerTrace]]:
        """Scores [n_ent] and per-layer traces of (head, relation, ?) from one forward pass. The last
        RECENT_QUERIES queries are kept, so ranking a query and explaining its answers share one pass
        (the page's server threads share this object: the lock guards the memo)."""
        key = (int(head), int(relation))
        with self._recent_lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        traces: list[LayerTrace] = []
        scores = self.model(torch.tensor([key[0]], device=self.device), torch.tensor([key[1]], device=self.device),
                            self.graph, trace=traces)[0]
        with self._recent_lock:
            self._recent[key] = (scores, traces)
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return scores, traces

    @functools.cached_property
    def entity_lookup(self) -> dict[str, list[int]]:
        return _text_table(self.kg.entities, [self.kg.entity_label(i) for i in range(self.kg.n_ent)])

    @functools.cached_property
    def relation_lookup(self) -> dict[str, list[int]]:
        """Names, labels, and the phrases people type (relation_phrases): 'nationality' for
        /people/person/nationality, 'contained by' and 'inverse of contains' for the inverse of
        /location/location/contains. A phrase several relations share maps to all of them (the lookup lists them)."""
        n_rel = self.kg.n_rel
        names = [self.kg.relations[r % n_rel] if r < n_rel else f"inverse of {self.kg.relations[r % n_rel]}"
                 for r in range(2 * n_rel)]
        table = _text_table(names, [self.kg.relation_label(r) for r in range(2 * n_rel)])
        phrases: dict[str, list[int]] = {}
        for r in range(n_rel):
            for phrase, inverse in relation_phrases(self.kg.relations[r]):
                phrases.setdefault(phrase, []).append(r + n_rel if inverse else r)
        for phrase, ids in phrases.items():
            table.setdefault(phrase, sorted(set(ids)))
        return table

    def entity_id(self, text: str | int) -> int:
        """An entity by id, name, readable label or 'label · name'; a ValueError suggests close names
        or, for a label several entities share, lists them."""
        return _lookup(self.entity_lookup, text, "entity", self.kg.name, self.kg.entities)

    def relation_id(self, text: str | int) -> int:
        """A relation (doubled space: 'inverse of r' asks for heads) by id, name or label."""
        return _lookup(self.relation_lookup, text, "relation", self.kg.name, self.kg.relations)

    # ------------------------------------------------------------------ the verbs of backend.core.method
    def choices(self, name: str, query: dict | None = None) -> list[tuple[int, str, int]]:
        """The values a query field can take, as (value, text for a picker, how many known answers back it): every
        entity ('label · name'); or the relations a query from ``query["head"]`` can ask, those with known
        answers first, most first, with their count in the text."""
        if name in ("head", "answer", "tail"):
            return self.entity_choices
        if name == "relation":
            head = (query or {}).get("head")
            if head is None:
                return [(r, self.kg.relation_label(r), 0) for r in range(2 * self.kg.n_rel)]
            return [(r, text + self._typed_as(r), n) for r, n, text in self.kg.relation_choices(self.entity_id(head))]
        raise ValueError(f"RED-GNN queries have no field {name!r}")

    @functools.cached_property
    def entity_choices(self) -> list[tuple[int, str, int]]:
        """(id, 'label · name', 1) per entity, built once (a page's picker asks for it on every rerun)."""
        return [(i, self.kg.entity_text(i), 1) for i in range(self.kg.n_ent)]

    def _typed_as(self, relation: int) -> str:
        """' (contained by)' for an inverse relation with a passive phrase, so a picker's filter finds it."""
        if relation < self.kg.n_rel or relation >= 2 * self.kg.n_rel:
            return ""
        passive = [p for p, inverse in relation_phrases(self.kg.relations[relation - self.kg.n_rel])
                   if inverse and p.endswith(" by")]
        return f" ({passive[0]})" if passive else ""

    def predict(self, query: dict | None = None, table=None, progress=None, max_rows: int | None = None) -> pd.DataFrame:
        """Ranked answers for query {"head", "relation", "top" (20)}; or, for ``table`` (a path, upload bytes or
        text of a CSV/TSV with head, relation, tail; the first ``max_rows`` rows), every readable row scored and
        ranked (rows without a tail: the top answers). attrs: "problems" (lines), "problem_rows" (row, column,
        value, reason) of the rows that could not be used, and "sentences" summing the result up."""
        if table is not None:
            from .triples import read_triples, score_triples, summary_sentences

            rows = read_triples(self, Path(table) if isinstance(table, str) else table, max_rows=max_rows)
            frame = score_triples(self, rows, top=int((query or {}).get("top", 5)), progress=progress)
            frame.attrs["problems"] = rows.summary(limit=len(rows.problems))
            frame.attrs["problem_rows"] = [{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                                           for p in rows.problems]
            frame.attrs["sentences"] = summary_sentences(frame)
            return frame
        query = _required(query, ("head", "relation"))
        return rank_answers(self, query["head"], query["relation"], top=int(query.get("top", 20)))

    def explain(self, query: dict) -> Evidence:
        """r-digraph evidence for {"head", "relation", "answer" (optional: the top answer), "paths", "max_edges"}.
        With "add" / "remove" (lists of 'head|relation|tail'): the evidence over the edited graph, and a table part
        "What if" of every top answer's rank before and after the edits (fidelity.what_if)."""
        query = _required(query, ("head", "relation"))
        edits = self.edits(query)
        lm = self.with_edits(edits) if edits else self
        evidence = explain_query(lm, query["head"], query["relation"], query.get("answer") or query.get("tail"),
                                 top_paths=int(query.get("paths", 10)), max_edges=int(query.get("max_edges", 60)))
        if edits:
            from backend.core.evidence import TablePart

            table = self.what_if(query, edits)
            evidence.parts.append(TablePart.from_frame(table, title="What if", caption="; ".join(table.attrs["edits"])))
            evidence.sentences.insert(0, "Over the edited graph (" + "; ".join(table.attrs["edits"]) + ").")
            evidence.summary["edits"] = table.attrs["edits"]
        return evidence

    # ------------------------------------------------------------------ faithfulness and what-if (fidelity.py)
    def fidelity(self, query: dict):
        """(backend.core.fidelity.FidelityResult, the r-digraph's facts ranked as a table) for {"head", "relation",
        "answer" (default: the top answer), "ranking" (fidelity.RANKINGS; default DEFAULT_RANKING), "k_max" (10),
        "draws" (10), "seed" (0)}: deletion and sufficiency curves against random r-digraph facts, one batch."""
        from .fidelity import DEFAULT_RANKING, answer_fidelity

        query = _required(query, ("head", "relation"))
        h, r = self.entity_id(query["head"]), self.relation_id(query["relation"])
        answer = query.get("answer") or query.get("tail")
        a = int(torch.argmax(self.propagate(h, r)[0])) if answer in (None, "") else self.entity_id(answer)
        ranking = query.get("ranking") or DEFAULT_RANKING
        result, att = answer_fidelity(self, h, r, a, ranking=ranking, k_max=int(query.get("k_max", 10)),
                                      draws=int(query.get("draws", 10)), seed=int(query.get("seed", 0)))
        return result, att.frame(self, ranking=ranking)

    def fidelity_benchmark(self, ranking: str | None = None) -> str | None:
        """One sentence on the ranking's faithfulness over this dataset's test queries (benchmarks/fidelity.py),
        None when not measured (or over an imported graph)."""
        from .fidelity import DEFAULT_RANKING, benchmark_line

        if self.applied is not None:
            return None
        return benchmark_line(self.card.dataset, ranking or DEFAULT_RANKING)

    def edits(self, query: dict | None) -> list:
        """The what-if edits of a query: its "edits" (fidelity.Edit) and its "add" / "remove" lists of
        'head|relation|tail' texts (names, labels or 'label · name')."""
        from .fidelity import parse_edit

        query = query or {}
        found = [self.edit(e) for e in query.get("edits") or []]
        for action in ("remove", "add"):
            texts = query.get(action) or []
            found += [parse_edit(self, action, t) for t in ([texts] if isinstance(texts, str) else texts)]
        return found

    def edit(self, e):
        """One what-if edit from a fidelity.Edit, ("add" | "remove", "h|r|t") or ("add" | "remove", h, r, t) with ids
        or names."""
        from .fidelity import Edit, parse_edit

        if isinstance(e, Edit):
            return e
        if len(e) == 2:
            return parse_edit(self, *e)
        action, h, r, t = e
        if action not in ("add", "remove"):
            raise ValueError(f"a what-if edit adds or removes a fact, not {action!r}")
        return Edit(action, self.entity_id(h), self.relation_id(r), self.entity_id(t))

    def with_edits(self, edits: list) -> "LoadedModel":
        """This model over the graph with ``edits`` applied (its own memo of recent queries); no edits: itself."""
        import dataclasses

        from .fidelity import edited_graph

        return dataclasses.replace(self, graph=edited_graph(self, edits)) if edits else self

    def what_if(self, query: dict, edits: list | None = None) -> pd.DataFrame:
        """Answers of {"head", "relation", "top"} before and after ``edits`` (default: the query's own), side by side
        (fidelity.what_if); no edits: the same scores on both sides."""
        from .fidelity import what_if

        query = _required(query, ("head", "relation"))
        if edits is None:
            edits = self.edits(query)
        edits = [self.edit(e) for e in edits]
        return what_if(self, query["head"], query["relation"], edits, top=int(query.get("top", 20)))

    def evaluate(self, split: str = "test", progress=None) -> dict:
        """Filtered-ranking metrics of ``split`` (reproduces the card); over an applied graph, also how much of it
        the checkpoint knows (relations matched, triples left out, share seen in training)."""
        from .train import eval_tasks, evaluate_task, split_metrics

        task = eval_tasks(*self.data, self.device)[split]
        metrics = split_metrics(evaluate_task(self.model, task, RedGNNConfig(**self.card.train["config"]).n_tbatch))
        if self.applied is not None:
            from backend.kg.align import seen_share

            metrics["relations_matched"] = len(self.applied.matched)
            metrics["triples_left_out"] = self.applied.n_left_out
            metrics["answers"] = len(getattr(self.kg, split))  # the split's triples it could answer
            metrics["seen_in_training"] = seen_share(self.kg, split, self.training)  # share of the split's triples
        return metrics

    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        """The split's metrics per query relation, with its training queries (the file saved beside the
        checkpoint when it belongs to these weights)."""
        from . import by_relation

        saved = self.saved_breakdown(split)
        return saved if saved is not None else by_relation.described(by_relation.metrics_by_relation(self, split), self)

    def saved_breakdown(self, split: str = "test") -> pd.DataFrame | None:
        """The breakdown saved beside the checkpoint for these weights (instant), else None (on an applied graph
        too: the saved one is of the checkpoint's own test)."""
        from . import by_relation

        if self.applied is not None or not self.card.path:
            return None
        saved = by_relation.load_saved(self.card.path, split)
        return None if saved is None else by_relation.described(saved, self)


def _required(query: dict | None, keys: tuple[str, ...]) -> dict:
    missing = [k for k in keys if not (query or {}).get(k) and (query or {}).get(k) != 0]
    if missing:
        raise ValueError(f"RED-GNN query needs {', '.join(missing)} (e.g. --query head=NAME relation=NAME)")
    return query


PLURALS = {"entity": "entities", "relation": "relations"}


def relation_phrases(name: str) -> list[tuple[str, bool]]:
    """What people type for relation ``name``, as (phrase, asks the inverse): its last path segment
    ('/people/person/nationality' -> 'nationality'; of each part of a compound name too) with spaces for
    underscores, and for the inverse 'inverse of <phrase>', '<phrase> of' for a noun and '<verb>ed by' for a
    verb ('contains' -> 'contained by')."""
    segments = {part.strip("/").rsplit("/", 1)[-1] for part in name.split("./")} | {name.rsplit("/", 1)[-1]}
    out: list[tuple[str, bool]] = []
    for segment in filter(None, segments):
        phrase = segment.replace("_", " ").strip().lower()
        out += [(phrase, False), (f"inverse of {phrase}", True)]
        words = phrase.split()
        if len(words) == 1 and phrase.endswith("s") and not phrase.endswith("ss"):
            stem = phrase[:-1]
            out.append((stem + ("d" if stem.endswith("e") else "ed") + " by", True))  # contains -> contained by
        elif not phrase.endswith((" of", " by", " in")):
            out.append((f"{phrase} of", True))  # nationality -> nationality of (who has it)
    return out

#: forward passes LoadedModel keeps (scores and traces; FB15k-237's traces are ~70 MB a query)
RECENT_QUERIES = 2


def _text_table(names: list[str], labels: list[str]) -> dict[str, list[int]]:
    """Lower-cased text -> ids. A name means exactly its own id; a label shared by several ids maps to
    all of them (so the lookup can say it is ambiguous)."""
    table: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        table.setdefault(label.lower(), []).append(i)
    for i, name in enumerate(names):
        table[name.lower()] = [i]
    return table


def _lookup(table: dict[str, list[int]], text: str | int, kind: str, dataset: str, names: list[str]) -> int:
    if isinstance(text, int):
        return text
    key = str(text).strip().lower()
    if key not in table and " · " in key:  # the pickers' 'label · name' form: the name decides
        key = key.rsplit(" · ", 1)[1].strip()
    if key in table:
        ids = table[key]
        if len(ids) == 1:
            return ids[0]
        raise ValueError(f"{kind} {text!r} names {len(ids)} {PLURALS[kind]} in {dataset}; write one as "
                         "'label · name', one of: " + ", ".join(f"{text.strip()} · {names[i % len(names)]}"
                                                                for i in ids[:5]) + (", …" if len(ids) > 5 else ""))
    close = difflib.get_close_matches(key, list(table), n=5) or sorted(k for k in table if key in k)[:5]
    raise ValueError(f"unknown {kind} {text!r} in {dataset}" + (f"; did you mean: {', '.join(close)}?" if close else ""))


def load_model(model_dir: str | Path, device=None, data_dir=None, graph: str | None = None) -> LoadedModel:
    """Rebuild the model from its card's config and weights; load its dataset from the data root. ``graph``: an
    imported graph to reason over instead, in the checkpoint's relations (triples of other relations left out)."""
    from backend.core.device import select_device

    from .train import build_model, load_data

    card = load_card(model_dir)
    config = RedGNNConfig(**card.train["config"])
    device = select_device(device)
    kg, kg_ind = training = load_data(config.dataset, data_dir)
    applied = None
    if graph:
        kg_ind, applied = align_relations(load_user_graph(graph), kg, relation_map(graph))
        kg, kg_ind = kg_ind, None
    target = kg_ind or kg
    graph_triples = target.facts if kg_ind is not None else torch.cat([kg.facts, kg.train])
    model = build_model(config, kg.n_rel)
    model.load_state_dict(load_state_dict(model_dir))
    model = ranking_model(model.to(device))  # answers ranked as evaluation ranks them (float64)
    known = AnswerIndex(torch.cat([target.facts, target.train, target.valid, target.test]), target.n_ent, target.n_rel)
    return LoadedModel(model, card, target, EdgeIndex(graph_triples.to(device), target.n_ent, target.n_rel),
                       known.to(device), device, data=(kg, kg_ind), training=training[0], applied=applied)


@torch.no_grad()
def rank_answers(lm: LoadedModel, head: str | int, relation: str | int, top: int = 20) -> pd.DataFrame:
    """Every entity scored for (head, relation, ?), best first, with whether it is a known fact."""
    h, r = lm.entity_id(head), lm.relation_id(relation)
    heads = torch.tensor([h], device=lm.device)
    rels = torch.tensor([r], device=lm.device)
    scores, _ = lm.propagate(h, r)
    known = lm.known.mask(heads, rels)[0]
    reached = lm.graph.within_hops(heads, lm.model.n_layer)[0]
    order = torch.argsort(scores, descending=True, stable=True)[:top].cpu()
    every = torch.ones(1, lm.kg.n_ent, dtype=torch.bool, device=lm.device)
    ranks = filtered_ranks(scores.unsqueeze(0), every, known.unsqueeze(0))  # as if each entity were the answer
    where = known_in(lm.kg, h, r)
    top_ids = order.to(scores.device)
    # per shown entity: the other known answers scoring above it, which the filtered rank sets aside
    set_aside = ((scores.unsqueeze(0) > scores[top_ids].unsqueeze(1)) & known.unsqueeze(0)).sum(1).cpu()
    n_known = int(known.sum())
    rows = []
    for i, e in enumerate(order.tolist()):
        competitors = lm.kg.n_ent - n_known + int(known[e])  # every entity but the other known answers
        rows.append({"entity": lm.kg.entities[e], "label": lm.kg.entity_label(e), "score": float(scores[e]),
                     "filtered_rank": float(ranks[e]), "rank_in_words": rank_in_words(float(ranks[e]), competitors,
                                                                                      int(set_aside[i])),
                     "known_fact": bool(known[e]), "known_in": where.get(e, ""), "reached": bool(reached[e])})
    return pd.DataFrame(rows)


def ordinal(n: float) -> str:
    """1 -> '1st', 22 -> '22nd', 13 -> '13th', 2.5 -> '2.5th' (an average of tied places)."""
    if n != int(n):
        return f"{n:g}th"
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def rank_in_words(rank: float, competitors: int, set_aside: int) -> str:
    """What a filtered rank means: '1st of 135; 9 other true answers set aside'."""
    text = f"{ordinal(rank)} of {competitors:,}"
    if set_aside:
        text += f"; {set_aside} other true answer{'' if set_aside == 1 else 's'} above it set aside"
    return text


def known_in(kg, head: int, relation: int) -> dict[int, str]:
    """answer -> the split that holds (head, relation, answer) ("facts", "train", "valid" or "test"; the first of
    them when several do), relation in the doubled space ('inverse of r' reads (answer, r, head))."""
    found: dict[int, str] = {}
    for split in ("facts", "train", "valid", "test"):
        triples = getattr(kg, split).cpu()
        if relation < kg.n_rel:
            answers = triples[(triples[:, 0] == head) & (triples[:, 1] == relation), 2]
        else:
            answers = triples[(triples[:, 2] == head) & (triples[:, 1] == relation - kg.n_rel), 0]
        for a in answers.tolist():
            found.setdefault(a, split)
    return found


def r_digraph(traces: list[LayerTrace], answer: int) -> list[torch.Tensor]:
    """Per layer, the indices of the edges lying on some path from the query entity to ``answer``
    (single query). Backward reachability: keep layer-L edges into the answer, then layer-ℓ edges
    into the sources kept at layer ℓ+1."""
    keep: list[torch.Tensor] = [None] * len(traces)  # type: ignore[list-item]
    targets = torch.tensor([answer], device=traces[-1].target.device)
    for layer in range(len(traces) - 1, -1, -1):
        t = traces[layer]
        idx = torch.nonzero(torch.isin(t.target, targets)).squeeze(1)
        keep[layer] = idx
        targets = torch.unique(t.source[idx])
    return keep


def k_best_paths(traces: list[LayerTrace], keep: list[torch.Tensor], head: int, answer: int, k: int):
    """The k paths head -> answer through the kept edges with the largest product of attention.

    Returns [(score, [entities e0..eL], [relations r1..rL], [edge index per layer])]. Vectorised per layer: every node keeps
    its k best prefixes (log-scores and back-pointers)."""
    device, dtype = traces[0].source.device, traces[0].attention.dtype
    ents = torch.tensor([head], device=device)
    scores = torch.full((1, k), float("-inf"), device=device, dtype=dtype)
    scores[0, 0] = 0.0
    back = []
    for t, idx in zip(traces, keep):
        src, tgt = t.source[idx], t.target[idx]
        logw = torch.log(t.attention[idx].clamp_min(1e-30))
        row = torch.searchsorted(ents, src)
        cand = scores[row] + logw[:, None]                        # [E, k]
        edge = torch.arange(len(idx), device=device)[:, None].expand(-1, k).reshape(-1)
        prefix = torch.arange(k, device=device)[None, :].expand(len(idx), -1).reshape(-1)
        cand, ctgt = cand.reshape(-1), tgt[:, None].expand(-1, k).reshape(-1)
        ok = torch.isfinite(cand)
        cand, ctgt, edge, prefix = cand[ok], ctgt[ok], edge[ok], prefix[ok]
        o = torch.argsort(-cand, stable=True)
        o = o[torch.argsort(ctgt[o], stable=True)]
        cand, ctgt, edge, prefix = cand[o], ctgt[o], edge[o], prefix[o]
        new_ents, counts = torch.unique_consecutive(ctgt, return_counts=True)
        group = torch.repeat_interleave(torch.arange(len(new_ents), device=device), counts)
        rank = torch.arange(len(cand), device=device) - (torch.cumsum(counts, 0) - counts)[group]
        top = rank < k
        scores = torch.full((len(new_ents), k), float("-inf"), device=device, dtype=dtype)
        bp_edge = torch.full((len(new_ents), k), -1, dtype=torch.long, device=device)
        bp_prefix = torch.full_like(bp_edge, -1)
        scores[group[top], rank[top]] = cand[top]
        bp_edge[group[top], rank[top]] = idx[edge[top]]
        bp_prefix[group[top], rank[top]] = prefix[top]
        back.append((new_ents, bp_edge, bp_prefix))
        ents = new_ents
    hit = torch.nonzero(ents == answer).squeeze(1)
    if len(hit) == 0:
        return []
    row = int(hit[0])
    paths = []
    for j in range(k):
        score = float(scores[row, j])
        if score == float("-inf"):
            break
        nodes, rels, used, r, jj = [answer], [], [], row, j
        for layer in range(len(traces) - 1, -1, -1):
            ents_l, bp_edge, bp_prefix = back[layer]
            e = int(bp_edge[r, jj])
            t = traces[layer]
            rels.append(int(t.relation[e]))
            used.append(e)
            src = int(t.source[e])
            nodes.append(src)
            jj = int(bp_prefix[r, jj])
            if layer > 0:
                r = int(torch.searchsorted(back[layer - 1][0], torch.tensor(src, device=device)))
        paths.append((float(torch.exp(torch.tensor(score))), nodes[::-1], rels[::-1], used[::-1]))
    return paths


def _collapse_self_loops(paths, self_rel: int, k: int):
    """Drop 'stay' steps (self-loops) and merge paths that become equal, keeping the best score."""
    seen: dict[tuple, tuple] = {}
    for score, nodes, rels, _ in paths:
        cn, cr = [nodes[0]], []
        for node, rel in zip(nodes[1:], rels):
            if rel != self_rel:
                cn.append(node)
                cr.append(rel)
        key = (tuple(cn), tuple(cr))
        if key not in seen or seen[key][0] < score:
            seen[key] = (score, cn, cr)
    return sorted(seen.values(), key=lambda p: -p[0])[:k]


def _strongest_path_edges(traces, keep, raw_paths, max_edges: int | None) -> list[torch.Tensor]:
    """The r-digraph pruned for display: the union of the edges of the strongest paths, added path
    by path while it stays within ``max_edges`` (every edge shown lies on a complete path)."""
    if not max_edges or sum(len(k) for k in keep) <= max_edges:
        return keep
    chosen: list[set[int]] = [set() for _ in traces]
    for _, _, _, used in raw_paths:
        extra = sum(e not in chosen[layer] for layer, e in enumerate(used))
        if sum(len(c) for c in chosen) + extra > max_edges:
            continue
        for layer, e in enumerate(used):
            chosen[layer].add(e)
    device = traces[0].source.device
    return [torch.tensor(sorted(c), dtype=torch.long, device=device) for c in chosen]


@torch.no_grad()
def explain_query(lm: LoadedModel, head: str | int, relation: str | int, answer: str | int | None = None,
                  top_paths: int = 10, max_edges: int | None = 60) -> Evidence:
    """The r-digraph evidence for (head, relation, answer); answer defaults to the top-ranked entity.

    One graph part (the r-digraph pruned to its strongest paths, in RED-GNN's words: columns are
    propagation steps, edge weights attention, a path's score the product of the attention along it),
    sentences for the page, and a summary for machines (head, relation, answer, score, filtered_rank,
    known_fact, n_layers, dataset, r_digraph_edges, edges_shown; ``note`` when the answer is not reached)."""
    from backend.core.evidence import GraphLegend, GraphPart
    from backend.core.viz import format_weight

    h, r = lm.entity_id(head), lm.relation_id(relation)
    heads, rels = torch.tensor([h], device=lm.device), torch.tensor([r], device=lm.device)
    scores, traces = lm.propagate(h, r)
    known = lm.known.mask(heads, rels)[0]
    a = int(torch.argmax(scores)) if answer is None or answer == "" else lm.entity_id(answer)
    every = torch.zeros(1, lm.kg.n_ent, dtype=torch.bool, device=lm.device)
    every[0, a] = True
    rank = float(filtered_ranks(scores.unsqueeze(0), every, known.unsqueeze(0))[0])
    kg = lm.kg
    n_layers = lm.model.n_layer
    steps = f"{n_layers} propagation step{'s' if n_layers != 1 else ''}"
    summary = {"head": kg.entity_label(h), "relation": kg.relation_label(r), "answer": kg.entity_label(a),
               "score": float(scores[a]), "filtered_rank": rank, "known_fact": bool(known[a]),
               "n_layers": n_layers, "dataset": kg.name}
    title = f"Why {kg.entity_label(a)} answers ({kg.entity_label(h)}, {kg.relation_label(r)}, ?)"
    split = known_in(kg, h, r).get(a) if bool(known[a]) else None
    if not bool(known[a]):
        fact = "The answer is not a known fact of the graph."
    elif split == "facts":
        fact = "The answer is a known fact (among the graph's facts)."
    else:
        fact = "The answer is a known fact" + (f" (in the {split} split)." if split else ".")
    sentences = [f"RED-GNN gives {kg.entity_label(a)} a score of {format_weight(float(scores[a]))}; its filtered rank "
                 f"is {rank:g} of {kg.n_ent:,} entities (the query's other known answers set aside).", fact]
    legend = GraphLegend(
        layer="propagation step", edge_weight="attention", path_score="product of the attention along the path",
        node_kinds={"entity": "#56b4e9"}, roles={"query": "head entity", "answer": "answer"},
        notes=["An edge's attention comes from its relation and the query relation; the r-digraph holds every "
               "edge on some path from the head entity (step 0) to the answer (the last step).",
               "'self' edges let a path stay on an entity for a step."])
    keep = r_digraph(traces, a)
    n_full = sum(len(k) for k in keep)
    summary["r_digraph_edges"] = n_full
    if n_full == 0:
        summary["note"] = f"{kg.entity_label(a)} is not reached within {n_layers} hops: its score is 0"
        sentences.append(f"{kg.entity_label(a)} is not reached from {kg.entity_label(h)} within {steps}, so no "
                         "path explains it: its score is 0.")
        query = GraphPart([EvidenceNode(f"{h}@0", kg.entity_label(h), "entity", layer=0, role="query")], legend=legend)
        return Evidence("redgnn", title, summary=summary, parts=[query], sentences=sentences)
    raw = k_best_paths(traces, keep, h, a, k=max(4 * top_paths, max_edges or 0))
    paths = _collapse_self_loops(raw, 2 * kg.n_rel, top_paths)
    shown = _strongest_path_edges(traces, keep, raw, max_edges)
    n_shown = sum(len(k) for k in shown)
    summary["edges_shown"] = n_shown
    drawn = ("all of them are drawn." if n_shown == n_full else
             f"the {n_shown:,} edges of its strongest paths are drawn.")
    sentences.append(f"The r-digraph has {n_full:,} edge{'s' if n_full != 1 else ''} over {steps}; {drawn}")
    nodes: dict[str, EvidenceNode] = {f"{h}@0": EvidenceNode(f"{h}@0", kg.entity_label(h), "entity", 0, "query")}
    edges = []
    for layer, idx in enumerate(shown):
        t = traces[layer]
        for s, rel, o, w in zip(t.source[idx].tolist(), t.relation[idx].tolist(), t.target[idx].tolist(),
                                t.attention[idx].tolist()):
            sid, oid = f"{s}@{layer}", f"{o}@{layer + 1}"
            for nid, ent, lay in ((sid, s, layer), (oid, o, layer + 1)):
                if nid not in nodes:
                    role = "query" if (ent == h and lay == 0) else ("answer" if (ent == a and lay == len(shown)) else "")
                    nodes[nid] = EvidenceNode(nid, kg.entity_label(ent), "entity", lay, role,
                                              float(scores[ent]) if lay == len(shown) else None)
            edges.append(EvidenceEdge(sid, oid, kg.relation_label(rel), float(w), layer + 1))
    evidence_paths = [EvidencePath([kg.entity_label(e) for e in pn], [kg.relation_label(x) for x in pr], sc)
                      for sc, pn, pr in paths]
    if evidence_paths:
        best = evidence_paths[0]
        sentences.append(f"The strongest path, {best.describe()}, scores {format_weight(best.score)} "
                         "(the product of the attention along it).")
    graph = GraphPart(list(nodes.values()), edges, evidence_paths, legend=legend)
    return Evidence("redgnn", title, summary=summary, parts=[graph], sentences=sentences)
