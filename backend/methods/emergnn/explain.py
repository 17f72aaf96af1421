"""Evidence of one prediction: the paths between the two drugs that contributed most, their subgraph, and a check
that they matter (the model re-scores the pair with their edges masked in its own forward pass).

Edge contribution = d log P(type | u, v) / d m_e at m = 1, where m_e multiplies edge e's message (first-order effect
of removing the edge). A path is a walk of L hops through the pair's path subgraph (pauses on self-loops shown as a
shorter path); its score is the sum of its edges' contributions. The best paths per direction come from an exact
top-k join over the three hops (prefixes kept per middle node), not a beam. Relations are reported in the direction
the message travelled (src -> dst as stored by backend.ddi.graph: no inversion).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from backend.core.evidence import (Evidence, EvidenceEdge, EvidenceNode, EvidencePath, GraphLegend, GraphPart,
                                   TablePart)
from backend.ddi.data import METAEDGE_WORDS, METAEDGES, N_TYPES
from backend.ddi.network import N_REL, REL_OFFSET

INVERSE_VERBS = {"binds": "is bound by", "causes": "is caused by", "treats": "is treated by",
                 "palliates": "is palliated by", "includes": "is included in", "expresses": "is expressed in",
                 "regulates": "is regulated by", "upregulates": "is upregulated by",
                 "downregulates": "is downregulated by", "localizes to": "is the location of",
                 "participates in": "has participant", "presents": "is presented by"}
KEEP = 20


def hop_words(rel: int) -> tuple[str, str, bool]:
    """(words along the hop, base verb, inverse?) of relation slot ``rel``."""
    if rel == 2 * N_REL:
        return "stays", "stays", False
    inverse = rel >= N_REL
    base = rel - N_REL if inverse else rel
    if base < N_TYPES:
        verb = f"interacts (DDI type {base})"
        return (f"{verb}, as drug 2" if inverse else verb), verb, inverse
    verb = METAEDGE_WORDS[METAEDGES[base - REL_OFFSET]][1]
    return (INVERSE_VERBS.get(verb, verb) if inverse else verb), verb, inverse


def top_walks(sub, contrib: np.ndarray, n_layer: int, k: int = KEEP) -> pd.DataFrame:
    """The k best walks (sum of contributions) of one direction's subgraph: columns n0..nL, r1..rL, e1..eL (indices
    into the direction's edges), score."""
    f = pd.DataFrame({"src": sub.src, "dst": sub.dst, "rel": sub.rel, "hop": sub.hop, "c": contrib,
                      "e": np.arange(len(sub.src))})
    walks = f[f.hop == 1].rename(columns={"src": "n0", "dst": "n1", "rel": "r1", "e": "e1", "c": "score"})
    walks = walks.drop(columns="hop")
    for l in range(2, n_layer + 1):
        step = f[f.hop == l].rename(columns={"src": f"n{l - 1}", "dst": f"n{l}", "rel": f"r{l}", "e": f"e{l}"})
        walks = walks.sort_values("score", ascending=False).groupby(f"n{l - 1}").head(k)
        walks = walks.merge(step.drop(columns="hop"), on=f"n{l - 1}")
        walks["score"] = walks["score"] + walks.pop("c")
    return walks.sort_values("score", ascending=False).head(4 * k).reset_index(drop=True)


def explain_pair(lm, query: dict, n_paths: int | None = None) -> Evidence:
    q = dict(query or {})
    n_paths = int(q.get("paths") or 10)
    u, v = lm._pair(q)
    graph, batch, base_mask = lm.pair_batch(u, v)
    fps = lm._fingerprints(u, v)
    mask = torch.ones(batch.n_edges, requires_grad=True)
    logits, alpha = lm.model(batch, edge_mask=mask * base_mask, fingerprints=fps, return_attention=True)
    logp = torch.log_softmax(logits[0], -1)
    c = int(q["type"]) if q.get("type") not in (None, "") else int(logp.argmax())
    logp[c].backward()
    contrib = mask.grad.numpy().astype(np.float64)
    att = alpha.detach()[batch.hop - 1, 0, batch.rel].numpy()
    p_before = float(logp.detach().exp()[c])
    L = lm.model.n_layer
    names, kinds = lm.task.net.entity_names, lm.task.net.entity_kinds
    ends = {u.id: u, v.id: v}

    def name(x: int) -> str:
        return ends[x].name if x in ends else str(names[x])

    def kind(x: int) -> str:
        return "Drug" if x in ends or x < lm.task.n_drugs else str(kinds[x])

    found = []
    for direction in (0, 1):
        lo, hi = batch.edge_offsets[direction], batch.edge_offsets[direction + 1]
        sub = batch.subgraphs[direction]
        walks = top_walks(sub, contrib[lo:hi], L)
        walks = walks[(base_mask.numpy()[walks[[f"e{l}" for l in range(1, L + 1)]].to_numpy() + lo] > 0).all(1)]
        for w in walks.itertuples(index=False):
            nodes, rels, edges = [int(getattr(w, "n0"))], [], []
            for l in range(1, L + 1):
                r, e = int(getattr(w, f"r{l}")), int(getattr(w, f"e{l}")) + lo
                if r == graph.self_rel:
                    continue
                nodes.append(int(getattr(w, f"n{l}")))
                rels.append(r)
                edges.append(e)
            if not rels:
                continue
            found.append({"direction": direction, "nodes": tuple(nodes), "rels": tuple(rels), "edges": edges,
                          "score": float(w.score), "attention": float(np.mean(att[edges]))})
    paths = pd.DataFrame(found)
    if paths.empty:
        sentences = [f"No path of at most {L} hops links {u.name} and {v.name} in the network: the prediction comes "
                     "from the two drugs' features alone."]
        return Evidence("emergnn", f"{u.name} and {v.name}", parts=[], sentences=sentences,
                        summary={"drug 1": u.label, "drug 2": v.label, "type": c, "probability": p_before})
    paths = (paths.sort_values("score", ascending=False).drop_duplicates(["direction", "nodes", "rels"])
             .head(n_paths).reset_index(drop=True))

    def path_text(nodes, rels, direction) -> str:
        out = name(nodes[0])
        for x, r in zip(nodes[1:], rels):
            _, verb, inv = hop_words(r)
            out += f" <-{verb}- {name(x)}" if inv else f" -{verb}-> {name(x)}"
        return out

    # faithfulness: mask every batch edge of the facts the top paths use (both directions, every hop, inverses)
    fact = np.where(batch_eid(batch) >= 0, batch_eid(batch) % max(graph.m, 1), -1)
    used = {int(fact[e]) for es in paths["edges"] for e in es if fact[e] >= 0}
    hidden = base_mask.numpy() == 0
    p_masked = rescore(lm, batch, fps, c, np.isin(fact, list(used)) | hidden)
    rng = np.random.default_rng(0)
    candidates = np.setdiff1d(np.unique(fact[(fact >= 0) & ~hidden]), list(used))
    control = rng.choice(candidates, min(len(used), len(candidates)), replace=False) if len(candidates) else []
    p_random = rescore(lm, batch, fps, c, np.isin(fact, control) | hidden)

    # graph part: nodes and edges of the top paths, edges drawn in the facts' own direction
    layer: dict[int, int] = {u.id: 0, v.id: L}
    edge_w: dict[tuple, float] = {}
    for p in paths.itertuples(index=False):
        seq = list(p.nodes) if p.direction == 0 else list(p.nodes)[::-1]
        for i, x in enumerate(seq):
            layer.setdefault(x, min(i, L - 1) if x != v.id else L)
        for a, b, r, e in zip(p.nodes[:-1], p.nodes[1:], p.rels, p.edges):
            _, verb, inv = hop_words(r)
            s, t = (b, a) if inv else (a, b)
            key = (s, t, verb)
            edge_w[key] = max(edge_w.get(key, 0.0), abs(float(contrib[e])))
    nodes = [EvidenceNode(str(x), name(x), kind(x), layer=layer[x],
                          role="query" if x == u.id else "answer" if x == v.id else "") for x in layer]
    edges = [EvidenceEdge(str(s), str(t), verb, w) for (s, t, verb), w in edge_w.items()]
    epaths = [EvidencePath([str(x) for x in p.nodes], [hop_words(r)[0] for r in p.rels], float(p.score))
              for p in paths.itertuples(index=False)]
    from .loaded import KIND_COLOURS

    legend = GraphLegend(layer="hop", edge_weight="contribution to the predicted type (|d log p / d edge|)",
                         path_score="sum of its edges' contributions to log P(type)",
                         node_kinds={k: col for k, col in KIND_COLOURS.items()
                                     if k in {n.kind for n in nodes}},
                         roles={"query": "drug 1", "answer": "drug 2"},
                         notes=["Colours are entity types; edges point the way Hetionet states the fact "
                                "(drug -binds-> gene)."])
    graph_part = GraphPart(nodes, edges, epaths, legend, title=f"Paths between {u.name} and {v.name}")
    table = pd.DataFrame({
        "rank": np.arange(1, len(paths) + 1),
        "path": [path_text(p.nodes, p.rels, p.direction) for p in paths.itertuples(index=False)],
        "contribution": paths["score"].to_numpy(),
        "mean attention": paths["attention"].to_numpy(),
        "entity types": [" → ".join(kind(x) for x in p.nodes) for p in paths.itertuples(index=False)],
        "direction": [f"from {u.name}" if d == 0 else f"from {v.name}" for d in paths["direction"]],
    })
    table_part = TablePart.from_frame(table, help={
        "contribution": "Sum of the path's edge contributions to log P(type): how much the prediction leans on it",
        "mean attention": "Mean pair-conditioned relation weight of the path's hops (EmerGNN's own path score)",
        "direction": "EmerGNN propagates from each drug towards the other with shared parameters"},
        title="Top paths")
    desc = lm.describe(c, u, v)
    sentences = [f"Predicted: “{desc}” (type {c}, probability {p_before:.2f}).",
                 f"{u.name} is {u.status} and {v.name} is {v.status} for this model.",
                 f"Removing the {len(used)} facts on these {len(paths)} paths from the network changes the "
                 f"probability to {p_masked:.2f}; removing {len(control)} other facts of the pair's subgraph at random "
                 f"changes it to {p_random:.2f}."]
    summary = {"drug 1": u.label, "drug 2": v.label, "type": c, "description": desc, "probability": p_before,
               "probability without the paths' facts": p_masked, "probability without random facts": p_random,
               "facts removed": len(used), "subgraph edges": int(batch.n_edges)}
    return Evidence("emergnn", f"{u.name} and {v.name}: type {c}", parts=[graph_part, table_part],
                    sentences=sentences, summary=summary)


def batch_eid(batch) -> np.ndarray:
    return np.concatenate([s.eid for s in batch.subgraphs])


def rescore(lm, batch, fps, c: int, removed: np.ndarray) -> float:
    """P(type c) with the batch edges ``removed`` (bool [n_edges]) masked out in the model's own forward pass."""
    mask = torch.from_numpy((~removed).astype(np.float32))
    with torch.no_grad():
        logits = lm.model(batch, edge_mask=mask, fingerprints=fps)
    return float(torch.softmax(logits[0], -1)[c])
