"""EmerGNN speed on this machine against the original (shared/reference/measured-originals.md: 0.08 training
pairs/s, 1.92 evaluation pairs/s, 8.63 GiB peak RSS, 18.2 s graph build, all on this 2-core CPU).

Measures, for the DrugBank S1 configuration (d 64, L 3, batch 32, Morgan features) on the DDI-Bench random split:
network load time (cached, and the first build), training pairs/s (one epoch's graph, batches of 32 after a warm-up
batch), evaluation pairs/s (test graph, batches of 64, no gradients), one pair's prediction + evidence latency, and
the process's peak RSS. Writes benchmarks/results/emergnn-<device>.json.

    OMP_NUM_THREADS=1 python benchmarks/emergnn.py [--train-batches 8] [--eval-pairs 256] [--device cpu]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ORIGINAL = {"train_pairs_per_s": 0.08, "eval_pairs_per_s": 1.92, "peak_rss_gib": 8.63, "graph_build_s": 18.2}


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-batches", type=int, default=8)
    ap.add_argument("--eval-pairs", type=int, default=256)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="models/emergnn/drugbank-S1", help="checkpoint for the latency figure")
    ap.add_argument("--rebuild", action="store_true", help="also time building the network without the cache")
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    from backend.ddi.network import build_network, load_network
    from backend.methods.emergnn.config import config_for
    from backend.methods.emergnn.model import make_batch
    from backend.methods.emergnn.task import Task
    from backend.methods.emergnn.train import build_model

    device = torch.device(args.device)
    out = {"device": args.device, "threads": torch.get_num_threads(), "load_average_start": os.getloadavg(),
           "original_on_this_cpu": ORIGINAL}
    t = time.perf_counter()
    net = load_network()
    out["network_load_s"] = time.perf_counter() - t
    out["network_edges"], out["network_source"] = net.n_edges, net.source
    if args.rebuild:
        t = time.perf_counter()
        build_network()
        out["network_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    config = config_for("drugbank", "S1").resolved()
    task = Task("S1", "random")
    out["task_load_s"] = time.perf_counter() - t
    torch.manual_seed(0)
    model = build_model(config, task).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    graph, targets, _ = task.epoch(rng)
    targets = targets[rng.permutation(len(targets))]
    timings, edges = [], []
    for b in range(args.train_batches + 1):
        chunk = targets[b * 32:(b + 1) * 32]
        t = time.perf_counter()
        batch = make_batch(graph, chunk[:, :2]).to(device)
        loss = F.cross_entropy(model(batch), torch.from_numpy(chunk[:, 2]).to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if b:  # the first batch is the warm-up
            timings.append(time.perf_counter() - t)
            edges.append(batch.n_edges)
    out["train_pairs_per_s"] = 32 * len(timings) / sum(timings)
    out["train_edges_per_batch_median"] = float(np.median(edges))
    test_graph = task.graph("test")
    pairs = task.subset("test", args.eval_pairs, seed=1)
    model.eval()
    t = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(pairs), 64):
            model(make_batch(test_graph, pairs[i:i + 64, :2]).to(device))
    if device.type == "cuda":
        torch.cuda.synchronize()
    out["eval_pairs_per_s"] = len(pairs) / (time.perf_counter() - t)
    if (Path(args.model) / "card.json").exists():
        from backend.registry import get_method

        lm = get_method("emergnn").open(args.model)
        lm.graph  # noqa: B018 - built once per loaded model (the page keeps it)
        lat = []
        for a, b in (("Tapentadol", "Dolasetron"), ("Warfarin", "Simvastatin"), ("Fluoxetine", "Tramadol")):
            t = time.perf_counter()
            lm.predict({"drug1": a, "drug2": b})
            lm.explain({"drug1": a, "drug2": b})
            lat.append(time.perf_counter() - t)
        out["pair_predict_and_explain_s"] = lat
    out["peak_rss_gib"] = rss_gib()
    if device.type == "cuda":
        out["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2 ** 30
    out["load_average_end"] = os.getloadavg()
    out["ratios"] = {"train_pairs_per_s": out["train_pairs_per_s"] / ORIGINAL["train_pairs_per_s"],
                     "eval_pairs_per_s": out["eval_pairs_per_s"] / ORIGINAL["eval_pairs_per_s"],
                     "peak_rss": out["peak_rss_gib"] / ORIGINAL["peak_rss_gib"]}
    path = Path(args.output or f"benchmarks/results/emergnn-{device.type}.json")
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
