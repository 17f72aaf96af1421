"""RED-GNN throughput, memory and quality-vs-time; prints one JSON object.

    python benchmarks/redgnn.py --dataset family [--device cuda] [--curve-seconds 60]

training queries/s: (query = a triple or its inverse) over --train-batches batches after warm-up;
evaluation queries/s: distinct (h, r) queries of valid+test ranked per second (model forward +
filtered ranking), as in the original's measurement; peak memory: max RSS (CPU) and CUDA peak, overall and
separately for the training steps (batch n_batch) and the evaluation (batch n_tbatch).
With --curve-seconds, trains from scratch for that long (tracking test MRR each epoch, selection
on valid) and reports the MRR-vs-wall-time curve. Ratios are against the original implementation
measured on the same kind of machine (../shared/reference/measured-originals.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.core.device import device_label, keep_freed_memory, seed_everything, select_device  # noqa: E402
from backend.core.files import emit_json  # noqa: E402
from backend.kg.graph import EdgeIndex  # noqa: E402
from backend.methods.redgnn.config import config_for  # noqa: E402
from backend.methods.redgnn.train import (  # noqa: E402
    _epoch_queries, build_model, eval_tasks, evaluate_task, load_data, make_optimizer, make_train_step, train,
    uses_cuda_graphs)

# original RED-GNN (LARS-research/RED-GNN c9badff), measured-originals.md
ORIGINAL = {
    "cpu": {"family": {"train_qps": 161, "eval_qps": 158}, "umls": {"train_qps": 17, "eval_qps": 14.7}},
    "cuda": {"WN18RR": {"train_qps": 603, "eval_qps": 149, "peak_gib": 3.8,
                        "test_mrr_vs_seconds": [[125, 0.330], [243, 0.479], [374, 0.491]]},
             "family": {"train_qps": 515, "eval_qps": 1703}},
}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# operators whose result size or value the host needs (on a GPU each waits for the device)
HOST_SYNC_OPS = ("aten::nonzero", "aten::_local_scalar_dense", "aten::repeat_interleave", "aten::unique",
                 "aten::_unique2", "aten::masked_select")
VIEW_OPS = {"aten::empty", "aten::empty_strided", "aten::view", "aten::as_strided", "aten::t", "aten::transpose",
            "aten::unsqueeze", "aten::squeeze", "aten::expand", "aten::reshape", "aten::_reshape_alias",
            "aten::detach", "aten::select", "aten::slice", "aten::resize_", "aten::alias", "aten::lift_fresh",
            "aten::result_type", "aten::_unsafe_view", "aten::flatten", "aten::permute", "aten::contiguous",
            "aten::resolve_conj", "aten::resolve_neg"}


def count_step_operators(step, device, n_steps: int = 5) -> dict:
    """Per training step: operators that do work (leaves of the profiler's call tree minus views; compiled
    code shows as fewer, fused kernels), host syncs, and on a GPU the kernel launches, CUDA graph launches
    (each replays a whole captured sequence of kernels) and stream syncs.
    A small graph's GPU step is bound by these, not by arithmetic."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for b in range(n_steps):
            step(b)
        _sync(device)
    events = prof.events()
    aten = [e for e in events if e.name.startswith("aten::")]
    leaves = [e for e in aten if e.name not in VIEW_OPS and not any(c.name.startswith("aten::") for c in e.cpu_children)]
    counts = {"operators_per_step": round(len(leaves) / n_steps, 1),
              "host_sync_operators_per_step": round(sum(e.name in HOST_SYNC_OPS for e in aten) / n_steps, 1)}
    if device.type == "cuda":
        counts["kernel_launches_per_step"] = round(sum("LaunchKernel" in e.name for e in events) / n_steps, 1)
        counts["graph_launches_per_step"] = round(sum(e.name == "cudaGraphLaunch" for e in events) / n_steps, 1)
        counts["stream_syncs_per_step"] = round(sum(e.name in ("cudaStreamSynchronize", "cudaDeviceSynchronize")
                                                    for e in events) / n_steps, 1)
    return counts


def measure_training(config, kg, device, n_batches: int, profile_to: str = "") -> tuple[float, dict]:
    """Training queries/s over n_batches after 3 warm-up batches (which include any compilation), and
    the step's operator counts; the first step's seconds (compilation included) as first_step_seconds."""
    model = build_model(config, kg.n_rel).to(device).train()
    train_step = make_train_step(model, make_optimizer(model, config), config)  # the trainer's step, NaN guard included
    graph_triples, queries = _epoch_queries(kg, config, torch.Generator().manual_seed(0))
    graph = EdgeIndex(graph_triples.to(device), kg.n_ent, kg.n_rel)
    queries = queries.to(device)
    bs = config.n_batch
    n_batches = min(n_batches + 3, len(queries) // bs)

    def step(b):
        train_step(queries[b * bs:(b + 1) * bs], graph)

    t0 = time.perf_counter()
    step(0)
    _sync(device)
    first_step = time.perf_counter() - t0
    for b in range(1, 3):
        step(b)
    _sync(device)
    t0 = time.perf_counter()
    for b in range(3, n_batches):
        step(b)
    _sync(device)
    rate = (n_batches - 3) * bs / (time.perf_counter() - t0)
    counts = {**count_step_operators(step, device), "first_step_seconds": round(first_step, 2)}
    if train_step.captured is not None:  # did the capture work, or did the step fall back to launching kernels
        counts["cuda_graph_captured"] = train_step.captured.captures > 0 and not train_step.captured.failed
    if profile_to:  # where a training step spends its time: operator table of 10 more steps
        from torch.profiler import ProfilerActivity, profile

        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        try:
            with profile(activities=activities) as prof:
                for b in range(3, 13):
                    step(b)
                _sync(device)
            sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
            text = (prof.key_averages().table(sort_by=sort, row_limit=40) + "\n"
                    + prof.key_averages().table(sort_by="count", row_limit=25) + "\n")
        except Exception as exc:  # a profiler that cannot start must not cost the measurements
            text = f"profiler failed: {exc!r}\n"
        Path(profile_to).write_text(text)
    return rate, counts


def measure_evaluation(config, kg, kg_ind, device, n_queries: int) -> float:
    """Evaluation queries/s (sparse forward and filtered ranking)."""
    model = build_model(config, kg.n_rel).to(device)
    task = eval_tasks(kg, kg_ind, device)["valid"]
    task.queries = task.queries[:n_queries]
    evaluate_task(model, dataclasses.replace(task, queries=task.queries[: config.n_tbatch]), config.n_tbatch)
    _sync(device)
    t0 = time.perf_counter()
    evaluate_task(model, task, config.n_tbatch, policies=("average",))
    _sync(device)
    return len(task.queries) / (time.perf_counter() - t0)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="family")
    ap.add_argument("--device", default=None)
    ap.add_argument("--train-batches", type=int, default=40)
    ap.add_argument("--eval-queries", type=int, default=1000)
    ap.add_argument("--curve-seconds", type=float, default=0.0, help="train this long and report test MRR vs time")
    ap.add_argument("--batch", type=int, default=0, help="override the training batch size")
    ap.add_argument("--tbatch", type=int, default=0, help="override the evaluation batch size (GPU; a CPU tunes it)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--output", default="", help="also write the JSON here")
    ap.add_argument("--profile", default="", help="write an operator profile of 10 training steps here")
    ap.add_argument("--propagation", choices=("sparse", "dense"), default="sparse",
                    help="training forward; dense: every entity and edge per query, fixed shapes, no host syncs")
    ap.add_argument("--compile", action="store_true", help="torch.compile the dense training step")
    ap.add_argument("--no-cuda-graphs", action="store_true",
                    help="with --propagation dense on a GPU: launch the step's kernels, not one replayed CUDA graph")
    args = ap.parse_args(argv)

    allocator_tuned = keep_freed_memory()  # as `python -m backend` does; PARSIMONY_KEEP_MEMORY=0 measures without
    device = select_device(args.device)
    seed_everything(0)
    config = config_for(args.dataset)
    if args.batch:
        config = dataclasses.replace(config, n_batch=args.batch)
    if args.tbatch:
        config = dataclasses.replace(config, n_tbatch=args.tbatch)
    config = dataclasses.replace(config, propagation=args.propagation, compile=args.compile,
                                 cuda_graphs=not args.no_cuda_graphs)
    kg, kg_ind = load_data(args.dataset, args.data_dir)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train_rate, step_counts = measure_training(config, kg, device, args.train_batches, args.profile)
    phase_peaks = {}
    if device.type == "cuda":
        phase_peaks["peak_train_cuda_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        overall = torch.cuda.max_memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    eval_rate = measure_evaluation(config, kg, kg_ind, device, args.eval_queries)
    if device.type == "cuda":
        phase_peaks["peak_eval_cuda_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    result = {"dataset": args.dataset, "device": device_label(device), "torch": torch.__version__,
              "threads": torch.get_num_threads(), "keep_freed_memory": allocator_tuned,
              "propagation": args.propagation, "compile": args.compile,
              "cuda_graphs": uses_cuda_graphs(config, device),
              "n_batch": config.n_batch,
              "n_tbatch": config.n_tbatch if device.type != "cpu" else "tuned on the CPU (backend/core/batching.py)",
              "train_queries_per_s": round(train_rate, 1), **step_counts,
              "eval_queries_per_s": round(eval_rate, 1), **phase_peaks}
    tasks = eval_tasks(kg, kg_ind, "cpu")  # one valid+test pass: how long a full evaluation takes at this rate
    result["eval_pass_queries"] = len(tasks["valid"].queries) + len(tasks["test"].queries)
    result["eval_pass_seconds"] = round(result["eval_pass_queries"] / result["eval_queries_per_s"], 1)
    if args.curve_seconds:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = dataclasses.replace(config, max_seconds=args.curve_seconds, track_test=True, output=tmp)
            card = train(cfg, device=str(device), data_dir=args.data_dir)
        result["curve"] = [{"epoch": h["epoch"], "train_seconds": h["train_seconds"], "wall_seconds": h["wall_seconds"],
                            "valid_mrr": round(h["valid_mrr"], 4), "test_mrr": round(h["test_mrr"], 4)}
                           for h in card.train["history"]]
        result["selected_test_mrr"] = round(card.metrics["test"]["mrr"], 4)
    result["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    if device.type == "cuda":
        result["peak_cuda_gib"] = round(max(overall, torch.cuda.max_memory_allocated(device)) / 2**30, 2)
    ref = ORIGINAL.get(device.type, {}).get(args.dataset)
    if ref:
        result["original"] = ref
        result["speedup_train"] = round(result["train_queries_per_s"] / ref["train_qps"], 2)
        result["speedup_eval"] = round(result["eval_queries_per_s"] / ref["eval_qps"], 2)
    emit_json(result, args.output)
    return result


if __name__ == "__main__":
    main()
