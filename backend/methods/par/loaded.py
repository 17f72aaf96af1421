"""A PAR checkpoint ready to answer: predictions for a user's support/query molecules, the relation-graph
evidence, the removal test ("remove the k support molecules most related to a query vs k random ones"),
evaluation under the shared protocol (reproduces the card), and a per-task breakdown."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from backend.core.evidence import (Evidence, EvidenceEdge, EvidenceNode, EvidencePath, GraphLegend, GraphPart,
                                   MoleculesPart, TablePart)
from backend.core.store import Card, load_card, load_state_dict
from backend.mol.datasets import load_dataset
from backend.mol.episodes import episode_rng, sample_test_episode
from backend.mol.featurise import GraphStore
from backend.mol.fewshot import evaluate_fewshot
from backend.mol.userdata import UserEpisode, read_user_episode

from .config import PARConfig
from .learner import PAR, build_encoder
from .train import restore_state

DEMO_QUERIES = 60     # queries drawn for a demo task (a seeded subset of the task's other molecules)


@dataclass
class EpisodeInput:
    """Support molecules (labels 0/1) and queries, as SMILES; optional known query labels (demo tasks)."""

    support_smiles: list[str]
    support_labels: list[int]
    query_smiles: list[str]
    query_labels: list[int] | None = None
    source: str = "user"            # "user" or "<dataset>:<task name>"
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    query_rows: list[int] | None = None
    problem_rows: list[dict] = field(default_factory=list)

    @classmethod
    def from_user(cls, ep: UserEpisode) -> "EpisodeInput":
        return cls(ep.support_smiles, ep.support_labels, ep.query_smiles, None, "user", ep.problem_lines(),
                   list(ep.notes), list(ep.query_rows),
                   [{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason} for p in ep.problems])


@dataclass
class LoadedPAR:
    model: PAR
    card: Card
    config: PARConfig
    data_dir: str | None = None

    # ------------------------------------------------------------------ molecules -> embeddings
    def _embed(self, support_smiles, query_smiles):
        store, problems = GraphStore.from_smiles(list(support_smiles) + list(query_smiles))
        if problems:
            i, s, why = problems[0]
            raise ValueError(f"molecule {s!r} cannot be used: {why}")
        s_idx = [store.index[s.strip()] for s in support_smiles]
        q_idx = [store.index[s.strip()] for s in query_smiles]
        return self.model.embed_eval(store.subset(s_idx)), self.model.embed_eval(store.subset(q_idx))

    def run(self, episode: EpisodeInput, support_mask=None, return_graph: bool = False):
        """P(class 1) per query (numpy), with the relation graph tensors when asked."""
        if not episode.query_smiles:
            return (np.zeros(0), None, None) if return_graph else np.zeros(0)
        g_s, g_q = self._embed(episode.support_smiles, episode.query_smiles)
        y_s = torch.as_tensor(episode.support_labels, dtype=torch.long)
        mask = None if support_mask is None else torch.as_tensor(np.asarray(support_mask, dtype=bool))
        if mask is not None:
            kept = y_s[mask]
            if (kept == 0).sum() == 0 or (kept == 1).sum() == 0:
                raise ValueError("keep at least one support molecule of each class switched on")
            # switched-off molecules leave the prototypes and the graph alike
            g_s, y_s = g_s[mask], y_s[mask]
        out = self.model.predict_embeddings(g_s, y_s, g_q, k=self.config.shots, return_graph=return_graph)
        if return_graph:
            p, sim, adj = out
            return p.numpy(), sim, adj
        return out.numpy()

    def demo_episode(self, task: str | int, seed: int = 0, n_query: int = DEMO_QUERIES,
                     shots: int | None = None) -> EpisodeInput:
        """A held-out test task of the checkpoint's dataset as a ready-made episode (support re-sampled by
        ``seed``; ``n_query`` of the task's other molecules as queries, with their true labels)."""
        data = load_dataset(self.card.dataset, self.data_dir)
        t = data.task(task)
        ep = sample_test_episode(t, shots or self.config.shots, episode_rng(seed, t.task_id), max_query=n_query)
        sm = data.store.smiles
        return EpisodeInput([sm[i] for i in ep.support], [int(v) for v in ep.support_labels],
                            [sm[i] for i in ep.query], [int(v) for v in ep.query_labels],
                            source=f"{data.name}:{t.name}")

    def episode_from_query(self, query: dict | None, table=None, max_rows: int | None = None) -> EpisodeInput:
        query = dict(query or {})
        if query.get("task") not in (None, ""):
            return self.demo_episode(query["task"], int(query.get("seed") or 0),
                                     int(query.get("n_query") or DEMO_QUERIES))
        source = table if table is not None else query.get("table")
        if source is None or (isinstance(source, str) and not source.strip()):
            raise ValueError("give a table of SMILES with 0/1 labels (support) and empty labels (queries), "
                             "or a demo task")
        if isinstance(source, (str, Path)) and "\n" not in str(source) and Path(source).is_file():
            source = Path(source)
        ep = read_user_episode(source, query.get("queries"), **({"max_rows": max_rows} if max_rows else {}))
        if not ep.ok:
            raise ValueError("; ".join(ep.errors + ep.problem_lines()[:5]))
        return EpisodeInput.from_user(ep)

    # ------------------------------------------------------------------ verbs
    def predict(self, query: dict | None = None, table=None, progress=None, max_rows: int | None = None) -> pd.DataFrame:
        """One row per query molecule: row (in the input table), smiles, probability (of label 1), rank.
        ``frame.attrs``: "problems" (rows not used, as lines), "problem_rows" (row, column, value, reason),
        "sentences" (notes on the support set)."""
        ep = self.episode_from_query(query, table, max_rows)
        p = self.run(ep)
        frame = pd.DataFrame({"row": ep.query_rows if ep.query_rows else list(range(1, len(p) + 1)),
                              "smiles": ep.query_smiles, "probability": p})
        if ep.query_labels is not None:
            frame["true_label"] = ep.query_labels
        frame["rank"] = frame["probability"].rank(ascending=False, method="min").astype(int)
        frame.attrs["problems"] = list(ep.problems)
        frame.attrs["problem_rows"] = list(ep.problem_rows)
        frame.attrs["sentences"] = list(ep.notes) + [
            "PAR adapts its property-aware parts to the support set with one gradient step, using up to 16 of the "
            "queries as unlabelled context, so a probability can shift slightly when the other queries change."]
        if progress:
            progress(1, 1)
        return frame

    def explain(self, query: dict) -> Evidence:
        """The relation graph PAR builds for one query molecule among the support molecules."""
        ep = self.episode_from_query(query)
        which = query.get("query")
        qi = 0
        if which not in (None, ""):
            if isinstance(which, (int, np.integer)) or str(which).isdigit():
                qi = int(which)
            else:
                try:
                    qi = [s.strip() for s in ep.query_smiles].index(str(which).strip())
                except ValueError:
                    ep = dataclasses.replace(ep, query_smiles=[str(which).strip()] + ep.query_smiles,
                                             query_labels=None if ep.query_labels is None else [-1] + ep.query_labels)
                    qi = 0
        if not 0 <= qi < len(ep.query_smiles):
            raise ValueError(f"query {qi} is not among the {len(ep.query_smiles)} queries")
        return relation_evidence(self, ep, qi)

    def evaluate(self, split: str = "test", progress=None) -> dict:
        """ROC-AUC under the shared protocol, as the card states it. ``split``: "test" (the card's seeds and
        queries), "val" (held-out training tasks), "check" (the card's quick check: few seeds, fixed subset)."""
        cfg = self.config
        data = load_dataset(self.card.dataset, self.data_dir)
        if split == "check":
            r = evaluate_fewshot(self.model.predict_episode, data, cfg.shots, seeds=range(cfg.check_seeds),
                                 tasks="test", max_query=cfg.check_max_query, progress=progress)
        elif split in ("val", "valid", "validation"):
            r = evaluate_fewshot(self.model.predict_episode, data, cfg.shots, seeds=range(cfg.test_seeds),
                                 tasks="val", max_query=cfg.val_max_query, progress=progress)
        else:
            r = evaluate_fewshot(self.model.predict_episode, data, cfg.shots, seeds=range(cfg.test_seeds),
                                 tasks="test", max_query=cfg.test_max_query or None, progress=progress)
        return {"roc_auc": r["roc_auc"], "roc_auc_std": r["roc_auc_std"], "per_task": r["per_task"],
                "n_queries": r["n_queries"], "seconds": r["seconds"]}

    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        r = self.evaluate(split, progress)
        data = load_dataset(self.card.dataset, self.data_dir)
        rows = []
        for t in data.split_tasks("val" if split in ("val", "valid", "validation") else "test"):
            v = r["per_task"].get(t.name)
            if v:
                rows.append({"task": t.name, "roc_auc": v["mean"], "roc_auc_std": v["std"], "seeds": v["n"],
                             "negatives": int((t.labels == 0).sum()), "positives": int(t.labels.sum())})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ evidence you can test
    def removal_test(self, episode, query_index: int = 0, k: int = 3, seed: int = 0,
                     random_repeats: int = 10) -> dict:
        """Remove the k support molecules most related to the query (largest similarity in the relation graph)
        vs k random support molecules (``random_repeats`` draws), keeping at least one per class, and report
        the change of the query's probability. ``episode``: an EpisodeInput or a query dict as for predict."""
        if isinstance(episode, dict):
            episode = self.episode_from_query(episode)
        one = dataclasses.replace(episode, query_smiles=[episode.query_smiles[query_index]], query_labels=None,
                                  query_rows=None)
        p0, sim, _ = self.run(one, return_graph=True)
        s = len(episode.support_smiles)
        related = sim[0, s, :s].numpy()
        order = np.argsort(-related)
        labels = np.asarray(episode.support_labels)

        def feasible(removed) -> bool:
            keep = np.ones(s, dtype=bool)
            keep[list(removed)] = False
            return (labels[keep] == 0).any() and (labels[keep] == 1).any()

        top = []
        for i in order:
            if len(top) == k:
                break
            if feasible(top + [int(i)]):
                top.append(int(i))
        mask = np.ones(s, dtype=bool)
        mask[top] = False
        p_top = float(self.run(one, support_mask=mask)[0])
        rng = np.random.default_rng(seed)
        rand_changes, tries = [], 0
        while len(rand_changes) < random_repeats and tries < 20 * random_repeats:
            tries += 1
            pick = rng.choice(s, size=len(top), replace=False)
            if not feasible(list(pick)):
                continue
            m = np.ones(s, dtype=bool)
            m[pick] = False
            rand_changes.append(float(self.run(one, support_mask=m)[0]) - float(p0[0]))
        return {"probability": float(p0[0]), "removed_most_related": top,
                "similarities": [float(related[i]) for i in top],
                "probability_without_most_related": p_top, "change_most_related": p_top - float(p0[0]),
                "change_random_mean": float(np.mean(rand_changes)) if rand_changes else None,
                "change_random_std": float(np.std(rand_changes)) if rand_changes else None,
                "random_changes": rand_changes, "k": len(top)}


def _short(smiles: str, n: int = 28) -> str:
    return smiles if len(smiles) <= n else smiles[: n - 1] + "…"


def relation_evidence(lm: LoadedPAR, ep: EpisodeInput, qi: int) -> Evidence:
    one = dataclasses.replace(ep, query_smiles=[ep.query_smiles[qi]], query_labels=None, query_rows=None)
    p, sim, adj = lm.run(one, return_graph=True)
    prob = float(p[0])
    s = len(ep.support_smiles)
    sim, adj = sim[0].numpy(), adj[0].numpy()
    names = {0: "inactive", 1: "active"}
    related = sim[s, :s]
    order = np.argsort(-related)
    k = max(1, min(lm.config.shots, s))
    top = order[:k]
    nodes = []
    for i, (smi, y) in enumerate(zip(ep.support_smiles, ep.support_labels)):
        nodes.append(EvidenceNode(id=f"s{i}", label=f"{names[int(y)]} #{i + 1}: {_short(smi)}",
                                  kind=f"support ({names[int(y)]})", layer=0, role="answer" if i in top else "",
                                  score=float(y)))
    qsmi = ep.query_smiles[qi]
    nodes.append(EvidenceNode(id="q", label=f"query: {_short(qsmi)}", kind="query", layer=1, role="query",
                              score=prob))
    ids = [f"s{i}" for i in range(s)] + ["q"]
    edges = []
    iu, ju = np.nonzero(np.triu(adj + adj.T > 0, 1))
    for i, j in zip(iu, ju):
        edges.append(EvidenceEdge(source=ids[i], target=ids[j], relation="similar", weight=float(sim[i, j]),
                                  layer=None))
    edges.sort(key=lambda e: -e.weight)
    table = pd.DataFrame({"support molecule": [f"{names[int(ep.support_labels[i])]} #{i + 1}" for i in order],
                          "smiles": [ep.support_smiles[i] for i in order],
                          "label": [int(ep.support_labels[i]) for i in order],
                          "similarity to the query": [float(related[i]) for i in order],
                          "edge kept (top-k)": [bool(adj[s, i] > 0 or adj[i, s] > 0) for i in order]})
    share = float(np.mean([ep.support_labels[i] for i in top]))
    legend = GraphLegend(layer="group", edge_weight="learned similarity (0-1) of the two molecules in the last "
                                                    "round of the relation graph",
                         path_score="learned similarity of the query to that support molecule", node_kinds={"support (active)": "#d55e00",
                                                              "support (inactive)": "#0072b2", "query": "#009e73"},
                         roles={"query": "query molecule", "answer": "most related support molecule"},
                         notes=[f"Each molecule keeps edges to its {k} most similar others (top-k); "
                                "the query's probability comes from the graph after two rounds of message passing."])
    mols = MoleculesPart(smiles=[ep.support_smiles[i] for i in order[:8]] + [qsmi],
                         labels=[f"{names[int(ep.support_labels[i])]} #{i + 1}, sim {related[i]:.2f}"
                                 for i in order[:8]] + ["query"],
                         values=[None] * min(8, s) + [prob], value_name="P(active)", per_row=3,
                         title="The query and its most related support molecules",
                         caption="Support molecules ordered by their learned similarity to the query.")
    sentences = [f"PAR gives the query {qsmi} a probability of {prob:.3f} of being active (label 1).",
                 f"Its {k} most related support molecule(s) are {share:.0%} active; the most related is "
                 f"{names[int(ep.support_labels[order[0]])]} #{order[0] + 1} (similarity {related[order[0]]:.2f}).",
                 "The graph is query-dependent: the support molecules' edges are re-weighted for every query."]
    paths = [EvidencePath(nodes=["q", f"s{i}"], relations=["similar"], score=float(related[i])) for i in top]
    return Evidence("par", f"Relation graph for {_short(qsmi, 40)}",
                    parts=[GraphPart(nodes=nodes, edges=edges, paths=paths, legend=legend, title="Relation graph",
                                     caption="Molecules as nodes; edges are the learned similarities PAR keeps."),
                           mols,
                           TablePart.from_frame(table, help={"similarity to the query": "the relation graph's learned "
                                                             "similarity in its last round (0-1)"},
                                                title="Support molecules by similarity to the query")],
                    summary={"query": qsmi, "probability": prob, "support": s, "k": k, "source": ep.source,
                             "most_related": [int(i) for i in top]},
                    sentences=sentences)


def load_model(model_dir, device=None, data_dir=None) -> LoadedPAR:
    card = load_card(model_dir)
    if card.method != "par":
        raise ValueError(f"{model_dir} holds a {card.method} checkpoint, not PAR")
    fields = {f.name for f in dataclasses.fields(PARConfig)}
    config = PARConfig(**{k: v for k, v in (card.train.get("config") or {}).items() if k in fields})
    model = PAR(config, build_encoder(config, data_dir))
    restore_state(model, load_state_dict(model_dir))
    model.eval()
    return LoadedPAR(model, card, config, data_dir)
