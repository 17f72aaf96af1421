"""AutoBLM throughput and memory of one candidate's training, and a search's wall time to its best structure;
prints (and with --output writes) one JSON object.

    python benchmarks/autoblm.py --dataset family [--structure DistMult] [--device cuda] [--batches 40]
    python benchmarks/autoblm.py --trajectory models/autoblm/family/trajectory.jsonl   # search timing only

triples/s: training triples per second over --batches steps after two warm-up steps, with the settings the
original was measured with (measured-originals.md: AutoSF @ 4d635dd, Adagrad, d 64, batch 512, 1-vs-all in both
directions). Peak memory: max RSS (CPU; includes the data) and the CUDA peak. Evaluation: valid triples ranked per
second (tail and head, filtered). Ratios are against the original measured on this kind of 2-core CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.device import device_label, select_device  # noqa: E402
from backend.core.search import Trajectory, best_record  # noqa: E402
from backend.methods.autoblm import structure as S  # noqa: E402
from backend.methods.autoblm.model import BilinearKGE  # noqa: E402
from backend.methods.autoblm.train import evaluate_split, load_splits  # noqa: E402

#: the original AutoSF, one candidate, run.sh's WN18RR search settings, this 2-core CPU, 2 threads
#: (measured-originals.md)
ORIGINAL = {("family", "DistMult"): {"triples_per_s": 18833, "s_per_epoch": 1.25, "peak_gib": 812 / 1024},
            ("family", "WN18RR"): {"triples_per_s": 14797, "s_per_epoch": 1.59, "peak_gib": 816 / 1024},
            ("umls", "DistMult"): {"triples_per_s": 137472, "s_per_epoch": 0.039, "peak_gib": 320 / 1024},
            ("WN18RR", "DistMult"): {"triples_per_s": 932, "s_per_epoch": 93.1, "peak_gib": 8.5},
            ("WN18RR", "WN18RR"): {"triples_per_s": 908, "s_per_epoch": 95.6, "peak_gib": 8.5}}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_speed(dataset: str, structure: str, device, batches: int, dim: int = 64, batch: int = 512,
                   lr: float = 0.7, data_dir=None) -> dict:
    data = load_splits(dataset, data_dir)
    torch.manual_seed(0)
    model = BilinearKGE(data.kg.n_ent, data.kg.n_rel, dim, S.as_matrix(structure)).to(device)
    opt = torch.optim.Adagrad(model.parameters(), lr=lr)
    train = data.train.to(device)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0)).to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def step(i: int) -> None:
        b = train[order[(i * batch) % len(train):][:batch]]
        h, r, t = b[:, 0], b[:, 1], b[:, 2]
        q = torch.cat([model.tail_query(h, r), model.head_query(t, r)])
        loss = F.cross_entropy(q @ model.entity.weight.T, torch.cat([t, h]), reduction="sum") \
            + 1e-4 * model.relation.weight[r].pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.project_entities()

    for i in range(2):
        step(i)
    _sync(device)
    t0 = time.perf_counter()
    for i in range(batches):
        step(i + 2)
    _sync(device)
    seconds = time.perf_counter() - t0
    rate = batches * batch / seconds
    model.eval()
    t0 = time.perf_counter()
    valid = evaluate_split(model.to(device), data, "valid")
    _sync(device)
    eval_seconds = time.perf_counter() - t0
    out = {"dataset": dataset, "structure": structure, "dim": dim, "batch": batch, "batches": batches,
           "triples_per_s": round(rate, 1), "s_per_epoch": round(len(train) / rate, 2),
           "eval_valid_seconds": round(eval_seconds, 2),
           "eval_triples_per_s": round(len(data.kg.valid) / eval_seconds, 1), "valid_mrr_after": round(valid["mrr"], 4)}
    if device.type == "cuda":
        out["peak_cuda_gib"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 3)
    orig = ORIGINAL.get((dataset, structure))
    if orig:
        out["original"] = orig
        out["speedup"] = round(rate / orig["triples_per_s"], 2)
    return out


def search_timing(path: str | Path) -> dict:
    """Wall time of a search to its best candidate: the compute seconds of the candidates up to it (what an
    uninterrupted search takes) and the clock between the first start and the best's end."""
    from datetime import datetime

    records = Trajectory(path).records()
    best = best_record(records)
    if best is None:
        return {"trajectory": str(path), "candidates": len(records)}
    upto = records[:best["index"] + 1]

    def stamp(r):
        return datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ").timestamp()

    start = stamp(records[0]) - records[0]["seconds"]
    return {"trajectory": str(path), "candidates": len(records), "best_index": best["index"] + 1,
            "best_valid_mrr": best["score"], "best": best["canonical"],
            "candidate_seconds_to_best": round(sum(r["seconds"] for r in upto), 1),
            "candidate_seconds_total": round(sum(r["seconds"] for r in records), 1),
            "clock_seconds_to_best": round(stamp(best) - start, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default=None)
    p.add_argument("--structure", default="DistMult", help="DistMult, ComplEx, ..., WN18RR (AutoSF's published SF)")
    p.add_argument("--device", default=None)
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--trajectory", action="append", default=[], help="also report this search's time to its best")
    p.add_argument("--output", default=None)
    args = p.parse_args(argv)
    result: dict = {"threads": torch.get_num_threads(), "load_average": os.getloadavg()[0]}
    if args.dataset:
        device = select_device(args.device)
        result["device"] = device_label(device)
        result["training"] = training_speed(args.dataset, args.structure, device, args.batches, args.dim, args.batch,
                                            data_dir=args.data_dir)
    if args.trajectory:
        result["searches"] = [search_timing(t) for t in args.trajectory]
    result["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 3)
    result["load_average_end"] = os.getloadavg()[0]
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
