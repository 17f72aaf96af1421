"""A loaded PACIA checkpoint: predict / explain / evaluate / breakdown (backend.core.method.LoadedModel).

Input (the same convention as PAR, backend.mol.userdata): a CSV/TSV with columns smiles,label; rows labelled
0/1 are the support set, rows with an empty label the queries. ``predict(table=...)`` and ``explain(query)`` take
it as ``table=`` or as ``query={"table": <text|bytes|path>, "queries": <optional second list>}``; a demo episode
from a held-out task of the checkpoint's dataset is ``query={"task": "SR-HSE", "seed": 0, "n_queries": 24}``.

No gradient step: the loaded weights are never changed (the support only generates the 3,000 FiLM values and the
per-query classifier inside the forward pass).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from backend.core import store
from backend.core.evidence import Evidence, EvidenceEdge, EvidenceNode, GraphLegend, GraphPart, MoleculesPart, \
    StructurePart, TablePart
from backend.methods.pacia.config import PaciaConfig
from backend.methods.pacia.train import build_model, predict_queries, support_state

PREDICTION_HELP = {
    "row": "line of the input file (or the position in the demo episode)",
    "smiles": "the query molecule",
    "probability": "P(label 1) at the depth chosen for this query",
    "rank": "1 = the most likely to have the property",
    "depth": "relation rounds used for this query (1-5), chosen by the depth controller",
    "depth_confidence": "the controller's softmax weight on the chosen depth",
    "true_label": "measured label (demo episodes only)",
}


@dataclasses.dataclass
class Episode:
    """A support set and queries, as SMILES (rows: where they came from)."""

    support_smiles: list[str]
    support_labels: list[int]
    query_smiles: list[str]
    query_rows: list[int]
    query_labels: list[int] | None = None
    problems: list = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    title: str = "your molecules"


class PaciaModel:
    """A PACIA checkpoint ready to answer (see the module docstring)."""

    def __init__(self, model_dir, device=None, data_dir=None):
        self.dir = Path(model_dir)
        self.card = store.load_card(self.dir)
        cfg_dict = dict((self.card.train or {}).get("config") or {})
        known = {f.name for f in dataclasses.fields(PaciaConfig)}
        self.config = PaciaConfig(**{k: v for k, v in cfg_dict.items() if k in known})
        self.device = device or "cpu"
        self.data_dir = data_dir
        # a frozen encoder is the pretrained file from the data root; the checkpoint holds the trained rest
        self.model = build_model(self.config, data_dir=data_dir, load_weights=not self.config.tune_encoder)
        self.model.load_trained_state(store.load_state_dict(self.dir))
        self.model.to(self.device).eval()

    # ------------------------------------------------------------------ inputs
    def _episode(self, query: dict | None, table=None) -> Episode:
        from backend.mol.userdata import read_user_episode

        query = dict(query or {})
        if table is None and query.get("task") not in (None, ""):
            return self._demo_episode(query)
        source = table if table is not None else query.get("table")
        if isinstance(source, str) and "\n" not in source and len(source) < 4096 and Path(source).is_file():
            source = Path(source)             # the CLI's --input gives a path
        if source is None:
            raise ValueError("give a table (CSV with smiles,label; empty label = query) or a demo task")
        ep = read_user_episode(source, query.get("queries"))
        if not ep.ok:
            raise ValueError("; ".join(ep.errors) + ("" if not ep.problems else
                                                     " — problems: " + "; ".join(ep.problem_lines()[:10])))
        return Episode(ep.support_smiles, ep.support_labels, ep.query_smiles, ep.query_rows, None,
                       list(ep.problems), list(ep.notes))

    def _demo_episode(self, query: dict) -> Episode:
        from backend.mol.datasets import load_dataset
        from backend.mol.episodes import episode_rng, sample_test_episode

        ds = load_dataset(query.get("dataset") or self.card.dataset, self.data_dir)
        task = ds.task(query["task"])
        seed = int(query.get("seed", 0) or 0)
        shots = int(query.get("shots") or self.config.shots)
        n = int(query.get("n_queries", 24) or 24)
        ep = sample_test_episode(task, shots, episode_rng(seed, task.task_id))
        rng = np.random.default_rng([seed, task.task_id, 7])
        pos = np.flatnonzero(ep.query_labels == 1)
        neg = np.flatnonzero(ep.query_labels == 0)
        k = min(len(pos), max(1, n // 2))
        pick = np.concatenate([rng.choice(pos, k, replace=False), rng.choice(neg, min(len(neg), n - k), replace=False)])
        pick = np.sort(pick)
        sm = ds.store.smiles
        return Episode([sm[i] for i in ep.support], [int(v) for v in ep.support_labels],
                       [sm[i] for i in ep.query[pick]], [int(i) + 1 for i in range(len(pick))],
                       [int(v) for v in ep.query_labels[pick]], title=f"{ds.name} task {task.name} (seed {seed})")

    def _run(self, ep: Episode, keep_adj: bool = False, progress=None):
        from backend.mol.featurise import graphs_from_smiles

        support, _ = graphs_from_smiles(ep.support_smiles)
        queries, _ = graphs_from_smiles(ep.query_smiles)
        state = support_state(self.model, support, np.asarray(ep.support_labels), self.device)
        res = predict_queries(self.model, state, queries, device=self.device, keep_adj=keep_adj)
        if progress:
            progress(len(ep.query_smiles), len(ep.query_smiles))
        return state, res

    def _frame(self, ep: Episode, res: dict) -> pd.DataFrame:
        depth = res["depth"].astype(int)
        p = res["p"]
        rank = pd.Series(-p).rank(method="min").astype(int).to_numpy()
        frame = pd.DataFrame({"row": ep.query_rows, "smiles": ep.query_smiles, "probability": p, "rank": rank,
                              "depth": depth,
                              "depth_confidence": res["depth_probs"][np.arange(len(depth)), depth - 1]})
        if ep.query_labels is not None:
            frame["true_label"] = ep.query_labels
        return frame

    # ------------------------------------------------------------------ verbs
    def predict(self, query: dict | None = None, table=None, progress=None) -> pd.DataFrame:
        """One row per query molecule: row, smiles, probability, rank, depth, depth_confidence (+ true_label in
        demos).
        ``attrs``: problems (the rows left out, with reasons), notes, sentences."""
        ep = self._episode(query, table)
        _, res = self._run(ep, progress=progress)
        frame = self._frame(ep, res)
        frame.attrs.update(problems=[str(p) for p in ep.problems], problem_rows=[vars(p) for p in ep.problems],
                           notes=ep.notes,
                           sentences=[f"**{len(frame)} query molecules scored** against {len(ep.support_smiles)} "
                                      f"support molecules ({ep.support_labels.count(0)} labelled 0, "
                                      f"{ep.support_labels.count(1)} labelled 1), without any gradient step."])
        return frame

    def explain(self, query: dict) -> Evidence:
        """The adaptive parameters generated for this task (FiLM scale and shift per encoder layer), the depth
        chosen per query, the predictions, the query molecules, and the relation graph of the first query."""
        ep = self._episode(query)
        state, res = self._run(ep, keep_adj=True)
        frame = self._frame(ep, res)
        qi = self._query_index(ep, query.get("query"))
        L = len(state.film)
        w = torch.stack([f[0][0] for f in state.film]).cpu().numpy()       # [L, d]
        b = torch.stack([f[1][0] for f in state.film]).cpu().numpy()
        d = w.shape[1]
        film_rows = []
        for layer in range(L):
            film_rows.append({"layer": layer + 1, "scale |w| mean": float(np.abs(w[layer]).mean()),
                              "scale max": float(w[layer].max()), "scale min": float(w[layer].min()),
                              "channels amplified (w > 0)": int((w[layer] > 0).sum()),
                              "shift |b| mean": float(np.abs(b[layer]).mean()),
                              "shift max": float(b[layer].max()), "shift min": float(b[layer].min())})
        film_table = TablePart.from_frame(
            pd.DataFrame(film_rows),
            help={"scale |w| mean": "mean |w_l| over the 300 channels; node features become h·(1 + w_l) + b_l",
                  "channels amplified (w > 0)": "channels this task scales up (the others are damped)",
                  "shift |b| mean": "mean |b_l| over the channels (w_l and b_l each have unit L2 norm)"},
            title="Adaptive parameters generated for this task, per encoder layer",
            caption=f"{2 * d * L:,} values (scale w and shift b, {d} each, for {L} layers) generated by the "
                    "hypernetwork from the labelled support set; the trained weights are not changed.")
        top = min(d, 40)
        order = np.argsort(-np.abs(w).sum(0))[:top]
        matrix = np.concatenate([w[:, order], b[:, order]])
        structure = StructurePart(
            matrix=np.round(matrix, 4).tolist(),
            row_labels=[f"scale w, layer {i + 1}" for i in range(L)] + [f"shift b, layer {i + 1}" for i in range(L)],
            column_labels=[f"ch {int(c) + 1}" for c in order],
            value_meaning="the generated FiLM value: h ← h·(1 + w) + b on that channel of every atom",
            title=f"FiLM values of the {top} most modulated channels",
            caption="Rows: the scale and shift of each encoder layer; columns: embedding channels, the most "
                    "strongly scaled first. Positive scale values amplify a channel, negative ones damp it.")
        n_show = min(len(frame), 40)
        depth_matrix = res["depth_probs"][:n_show]
        depth_part = StructurePart(
            matrix=np.round(depth_matrix, 4).tolist(),
            row_labels=[f"query {r}" for r in frame["row"][:n_show]],
            column_labels=[f"depth {i + 1}" for i in range(depth_matrix.shape[1])],
            value_meaning="the depth controller's weight for this number of relation rounds (the highest is used)",
            title="Propagation depth chosen per query",
            caption="Each query gets its own depth: the controller scores every depth from the support set and "
                    "the query after that many rounds of the relation graph.")
        pred_part = TablePart.from_frame(frame, help=PREDICTION_HELP, title="Predictions",
                                         caption="P(label 1) of each query at its chosen depth.")
        labels = [f"row {r} · depth {dd}" + (f" · true {y}" if ep.query_labels is not None else "")
                  for r, dd, y in zip(frame["row"], frame["depth"],
                                      ep.query_labels or [None] * len(frame))]
        mols = MoleculesPart(smiles=list(frame["smiles"][:24]), labels=labels[:24],
                             values=[float(v) for v in frame["probability"][:24]], value_name="P(label 1)",
                             title="Query molecules", caption="Each query with its probability and chosen depth.")
        support_mols = MoleculesPart(smiles=list(ep.support_smiles[:20]),
                                     labels=[f"support · label {y}" for y in ep.support_labels[:20]],
                                     title="Support molecules", caption="The labelled examples that define the task.")
        graph = self._relation_graph(ep, res, qi)
        sentences_q = (f"The explained query (row {ep.query_rows[qi]}) has P(label 1) = {res['p'][qi]:.3f} at depth "
                       f"{int(res['depth'][qi])} of {res['depth_probs'].shape[1]}.")
        mean_depth = float(frame["depth"].mean())
        sentences = [
            f"PACIA adapted to {ep.title} by generating {2 * d * L:,} values (a scale and a shift for each of the "
            f"{d} channels of its {L} encoder layers) from {len(ep.support_smiles)} labelled molecules; "
            "no weight was updated.",
            f"Each query chose its own number of relation rounds: mean depth {mean_depth:.1f}; "
            + ", ".join(f"{int((frame['depth'] == k).sum())} at depth {k}" for k in sorted(frame['depth'].unique()))
            + ".",
        ]
        sentences.append(sentences_q)
        if ep.query_labels is not None and len(set(ep.query_labels)) == 2:
            from sklearn.metrics import roc_auc_score

            sentences.append(f"On these {len(frame)} demo queries with known labels the ROC-AUC is "
                             f"{roc_auc_score(ep.query_labels, frame['probability']):.3f}.")
        summary = {"adaptive_values": int(2 * d * L), "layers": L, "queries": len(frame), "query_index": qi,
                   "probability": float(res["p"][qi]), "depth": int(res["depth"][qi]),
                   "support": len(ep.support_smiles), "mean_depth": mean_depth,
                   "depth_counts": {int(k): int(v) for k, v in frame["depth"].value_counts().sort_index().items()},
                   "film_scale": w.tolist(), "film_shift": b.tolist()}
        parts = [pred_part, film_table, structure, depth_part, mols, support_mols]
        if graph is not None:
            parts.append(graph)
        return Evidence("pacia", f"PACIA on {ep.title}", summary=summary, parts=parts, sentences=sentences)

    @staticmethod
    def _query_index(ep: Episode, which) -> int:
        """A query SMILES or 0-based position -> position (default 0)."""
        if which is None or (isinstance(which, str) and not which.strip()):
            return 0
        if isinstance(which, (int, np.integer)) or (isinstance(which, str) and which.strip().isdigit()):
            i = int(which)
            if not 0 <= i < len(ep.query_smiles):
                raise ValueError(f"query position {i} is outside 0-{len(ep.query_smiles) - 1}")
            return i
        stripped = [q.strip() for q in ep.query_smiles]
        if which.strip() not in stripped:
            raise ValueError(f"{which!r} is not one of the query molecules")
        return stripped.index(which.strip())

    def _relation_graph(self, ep: Episode, res: dict, qi: int) -> GraphPart | None:
        adj = res.get("adjacency")
        if adj is None or not len(ep.query_smiles):
            return None
        depth = int(res["depth"][qi])
        a = adj[qi][depth - 1]
        n = a.shape[0]
        names = {0: "inactive", 1: "active"}
        nodes = [EvidenceNode(id=f"s{i}", label=f"{names[int(y)]} #{i + 1}: {_short(smi)}", kind=f"label {y}")
                 for i, (smi, y) in enumerate(zip(ep.support_smiles, ep.support_labels))]
        nodes.append(EvidenceNode(id="q", label=f"query: {_short(ep.query_smiles[qi])}", kind="query", role="query",
                                  score=float(res["p"][qi])))
        ids = [nd.id for nd in nodes]
        edges = [EvidenceEdge(source=ids[i], target=ids[j], relation="similar", weight=float(a[i, j]))
                 for i in range(n) for j in range(n) if i != j and a[i, j] > 0]
        return GraphPart(nodes=nodes, edges=edges,
                         legend=GraphLegend(layer="relation round",
                                            edge_weight=f"learned similarity in round {depth}, the depth this query chose",
                                            path_score="product of similarities",
                                            node_kinds={"label 0": "#56b4e9", "label 1": "#e69f00",
                                                        "query": "#cc79a7"},
                                            roles={"query": "query molecule"}),
                         title=f"Relation graph of query row {ep.query_rows[qi]} at its chosen depth ({depth})",
                         caption="Each molecule keeps its most similar neighbours (top-k) in that relation round; "
                                 "the query's edges go to the support molecules its prediction leans on.")

    def removal_test(self, query: dict, query_index: int = 0, k: int = 3, seed: int = 0,
                     random_repeats: int = 10) -> dict:
        """Remove the k support molecules most related to the query (largest edge weight to the query in the last
        relation round) vs k random support molecules (``random_repeats`` draws), keeping at least one molecule
        per class, and report the change of the query's probability (same keys as PAR's removal test)."""
        ep = self._episode(query)
        one = dataclasses.replace(ep, query_smiles=[ep.query_smiles[query_index]],
                                  query_rows=[ep.query_rows[query_index]], query_labels=None)
        _, res = self._run(one, keep_adj=True)
        p0 = float(res["p"][0])
        s = len(ep.support_smiles)
        related = res["adjacency"][0][int(res["depth"][0]) - 1, -1, :s]      # the round of the chosen depth
        labels = np.asarray(ep.support_labels)

        def feasible(removed) -> bool:
            keep = np.ones(s, dtype=bool)
            keep[list(removed)] = False
            return (labels[keep] == 0).any() and (labels[keep] == 1).any()

        def without(removed) -> float:
            keep = [i for i in range(s) if i not in set(removed)]
            sub = dataclasses.replace(one, support_smiles=[one.support_smiles[i] for i in keep],
                                      support_labels=[one.support_labels[i] for i in keep])
            return float(self._run(sub)[1]["p"][0])

        top: list[int] = []
        for i in np.argsort(-related, kind="stable"):
            if len(top) == k:
                break
            if feasible(top + [int(i)]):
                top.append(int(i))
        p_top = without(top)
        rng = np.random.default_rng(seed)
        changes, tries = [], 0
        while len(changes) < random_repeats and tries < 20 * random_repeats:
            tries += 1
            pick = [int(i) for i in rng.choice(s, size=len(top), replace=False)]
            if feasible(pick):
                changes.append(without(pick) - p0)
        return {"probability": p0, "removed_most_related": top, "similarities": [float(related[i]) for i in top],
                "probability_without_most_related": p_top, "change_most_related": p_top - p0,
                "change_random_mean": float(np.mean(changes)) if changes else None,
                "change_random_std": float(np.std(changes)) if changes else None,
                "random_changes": changes, "k": len(top)}

    def evaluate(self, split: str = "test", progress=None, seeds=None, max_query=None) -> dict:
        """ROC-AUC with the shared protocol (backend.mol.fewshot) on the test tasks (or "valid": held-out training
        tasks): {"roc_auc", "roc_auc_std"}, with the card's seeds and query cap unless given."""
        from backend.mol.datasets import load_dataset
        from backend.mol.fewshot import evaluate_fewshot
        from backend.methods.pacia.train import episode_predictor

        ds = load_dataset(self.card.dataset, self.data_dir)
        if seeds is None:
            seeds = range(self.config.eval_seeds) if split == "test" else range(100, 100 + self.config.val_seeds)
        if max_query is None:
            max_query = (self.config.eval_max_query if split == "test" else self.config.val_max_query) or None
        res = evaluate_fewshot(episode_predictor(self.model, self.device), ds, self.config.shots, seeds=seeds,
                               tasks="test" if split == "test" else "val", max_query=max_query, progress=progress)
        return {"roc_auc": res["roc_auc"], "roc_auc_std": res["roc_auc_std"], "per_task": res["per_task"]}

    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        """One row per test task: ROC-AUC mean ± std over the evaluation seeds (from the card when recorded)."""
        per_task = ((self.card.extras or {}).get("per_task") or {}).get(split)
        if per_task is None:
            per_task = self.evaluate(split, progress)["per_task"]
        return pd.DataFrame([{"task": k, "roc_auc": v["mean"], "std": v["std"], "seeds": v["n"]}
                             for k, v in per_task.items()])


def _short(smiles: str, n: int = 28) -> str:
    return smiles if len(smiles) <= n else smiles[: n - 1] + "…"


def load_model(model_dir, device=None, data_dir=None) -> PaciaModel:
    return PaciaModel(model_dir, device, data_dir)
