"""How far a RED-GNN checkpoint carries to a graph it never saw, untrained. RED-GNN learns nothing per entity,
only per relation, so a checkpoint can reason over any graph in its relations (``backend.kg.align``); this ranks
such pairs exactly as the target graph's own checkpoint is ranked (filtered, average ties, all entities of the
target graph as candidates) and prints that checkpoint's card and the paper beside.

Pairs (CHECKPOINT:GRAPH; a checkpoint is a shipped dataset name, a graph an inductive test graph ``X_ind`` or a
transductive dataset, whose test split is ranked over facts ∪ train):
- the default: every inductive checkpoint of WN18RR and fb237 on the other versions' test graphs, and the
  transductive WN18RR and FB15k-237 checkpoints on every test graph of their family;
- ``--full-test``: the four inductive WN18RR checkpoints, each trained on a graph of 2–6k entities, on the
  transductive WN18RR test (40,943 entities; ~10 min each on one CPU thread).

Leakage is measured, not assumed: ``test_seen_in_training`` is the share of the ranked test triples that are
facts or training triples of the checkpoint's own training graph (the GraIL splits were cut from the full
datasets; every WN18RR_v*_ind test triple is a WN18RR training triple, none of WN18RR's test triples is in an
inductive training graph). The model keeps no entity state, but a seen triple taught it the rule that answers it.

    python benchmarks/redgnn_transfer.py [--pairs WN18RR_v1:WN18RR_v2_ind ...] [--full-test] [--output FILE]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core import store  # noqa: E402
from backend.core.device import device_label  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.core.references import reference_results  # noqa: E402
from backend.kg.align import align_relations, seen_share  # noqa: E402
from backend.kg.loader import KGData, load_inductive, load_redgnn_layout  # noqa: E402
from backend.methods.redgnn.config import INDUCTIVE_DATASETS  # noqa: E402
from backend.methods.redgnn import by_relation  # noqa: E402
from backend.methods.redgnn.config import RedGNNConfig  # noqa: E402
from backend.methods.redgnn.explain import load_model  # noqa: E402
from backend.methods.redgnn.train import EvalTask, evaluate_task, split_metrics  # noqa: E402

FAMILIES = {"WN18RR": "WN18RR", "fb237": "fb15k-237"}  # inductive split prefix -> its transductive dataset
VERSIONS = (1, 2, 3, 4)


def default_pairs() -> list[tuple[str, str]]:
    cross = [(f"{fam}_v{a}", f"{fam}_v{b}_ind") for fam in FAMILIES for a in VERSIONS for b in VERSIONS if a != b]
    return cross + [(full, f"{fam}_v{b}_ind") for fam, full in FAMILIES.items() for b in VERSIONS]


def full_test_pairs() -> list[tuple[str, str]]:
    return [(f"WN18RR_v{a}", "WN18RR") for a in VERSIONS]


def checkpoint_dir(name: str) -> Path:
    return store.default_model_dir("redgnn", name, "inductive" if name in INDUCTIVE_DATASETS else "default")


def target_graph(name: str) -> tuple[KGData, torch.Tensor]:
    """(graph data whose ``test`` is ranked, the triples propagated over)."""
    if name.endswith("_ind"):
        test_graph = load_inductive(name[:-4])[1]
        return test_graph, test_graph.facts
    kg = load_redgnn_layout(name)
    return kg, torch.cat([kg.facts, kg.train])


def own_metrics(graph: str, kg: KGData, kept: set[str]) -> tuple[dict, float | None]:
    """The target graph's own shipped checkpoint's test metrics, and the paper's MRR for it. Where the transfer
    left relations out, ``same_relations_mrr`` is the own checkpoint's MRR over the kept relations' answers only
    (from its saved breakdown), the like-for-like figure."""
    name = graph[:-4] if graph.endswith("_ind") else graph
    folder = checkpoint_dir(name)
    card = store.load_card(folder)
    setting = "inductive" if graph.endswith("_ind") else "transductive"
    paper = [r.value for r in reference_results("redgnn") if r.dataset == name and r.setting == setting
             and r.metric == "mrr" and r.model == "RED-GNN"]
    own = {k: card.metrics["test"][k] for k in ("mrr", "hits@1", "hits@10")}
    frame = by_relation.load_saved(folder)
    if frame is not None and len(kept) < kg.n_rel:
        rows = frame[[kg.relations[r % kg.n_rel] in kept for r in frame["relation_id"]]]
        own["same_relations_mrr"] = float((rows["mrr"] * rows["answers"]).sum() / rows["answers"].sum())
    return own, (paper[0] if paper else None)


@torch.no_grad()
def transfer(checkpoint: str, graph: str, device: str) -> dict:
    lm = load_model(checkpoint_dir(checkpoint), device)
    kg, propagated = target_graph(graph)
    # the propagated triples become the facts, so the filter is facts, valid and test as in the graph's own protocol
    aligned, alignment = align_relations(dataclasses.replace(kg, facts=propagated, train=kg.train[:0]), lm.training)
    task = EvalTask.build(aligned, aligned.facts, aligned.test, lm.device)
    began = time.perf_counter()
    metrics = split_metrics(evaluate_task(lm.model, task, RedGNNConfig(**lm.card.train["config"]).n_tbatch))
    own, paper = own_metrics(graph, kg, set(alignment.matched))
    return {"checkpoint": checkpoint, "graph": graph, "layers": lm.model.n_layer, "queries": len(task.queries),
            "relations_matched": len(alignment.matched), "triples_left_out": alignment.n_left_out,
            "test_seen_in_training": round(seen_share(aligned, "test", lm.training), 4),
            "transfer": {k: metrics[k] for k in ("mrr", "hits@1", "hits@10", "nbfnet_mrr")},
            "graph_own_checkpoint": own, "paper_mrr": paper, "eval_seconds": round(time.perf_counter() - began, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", nargs="+", default=None, metavar="CHECKPOINT:GRAPH")
    parser.add_argument("--full-test", action="store_true", help="only the inductive WN18RR checkpoints on WN18RR's test")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    pairs = ([tuple(p.split(":", 1)) for p in args.pairs] if args.pairs
             else full_test_pairs() if args.full_test else default_pairs())
    rows = []
    for checkpoint, graph in pairs:
        rows.append(transfer(checkpoint, graph, args.device))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    emit_json({"benchmark": "redgnn-transfer", "device": device_label(torch.device(args.device)),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "protocol": "the graph's own protocol: X_ind: facts = X_ind/train, queries = X_ind/valid ∪ test; a "
                           "transductive dataset: facts ∪ train, queries = test; all entities ranked, filtered (facts, "
                           "valid, test), average ties; nbfnet_mrr = pessimistic ties",
               "rows": rows}, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
