"""Few-shot molecules on this CPU: PACIA and PAR speed against the original PAR (measured-originals.md).

Prints one JSON object (and writes benchmarks/results/molecules.json, or --out):

- featurisation: Tox21's 7,831 SMILES -> graphs from scratch (one graph per unique molecule; the original rebuilt
  77,946 per-task graphs in 24.3 s);
- training: meta-steps of 9 Tox21 10-shot episodes (10+10 support + 16 queries each) from a fresh model:
  episodes/s and molecules/s (original PAR: 2.11 episodes/s, 76 molecules/s);
- prediction: one support set (10+10) and ``--queries`` test molecules of SR-HSE: molecules/s (original PAR
  evaluation: 335 molecules/s), and the interactive path (a CSV of 20 support + 100 query SMILES through the
  loaded checkpoint's predict(table=...), featurisation included: target < 2 s);
- peak resident memory of this process (original PAR: 2.83 GiB).

Run with one thread (``OMP_NUM_THREADS=1``); the machine's load average is recorded beside the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORIGINAL_PAR = {"episodes_per_s": 2.11, "train_molecules_per_s": 76.0, "eval_molecules_per_s": 335.0,
                "peak_rss_gib": 2.83, "featurise_s": 24.3,
                "source": "shared/reference/measured-originals.md (tata1661/PAR-NeurIPS21 @ 497b27f, this CPU kind, "
                          "2 threads, idle machine)"}


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def featurisation() -> dict:
    from backend.mol.datasets import dataset_path
    from backend.core.data import open_text
    from backend.mol.featurise import GraphStore
    import csv

    with open_text(dataset_path("tox21")) as fh:
        rows = list(csv.reader(fh))[1:]
    smiles = [r[0] for r in rows]
    _clear_feature_caches()
    t, c = time.perf_counter(), time.process_time()
    store, problems = GraphStore.from_smiles(smiles)
    return {"molecules": len(smiles), "graphs": len(store), "invalid": len(problems),
            "seconds": round(time.perf_counter() - t, 2), "cpu_seconds": round(time.process_time() - c, 2),
            "note": "first featurisation in the process: RDKit's import included"}


def _clear_feature_caches():
    """Forget every featurised SMILES (the per-SMILES graph cache and the one-pass featuriser's cache)."""
    from backend.mol.featurise import _graph_cached
    from backend.mol.flatfeatures import clear_flat_cache

    _graph_cached.cache_clear()
    clear_flat_cache()


def _episodes(data, rng, shots=10, n_query=16, batch_task=9):
    from backend.mol.episodes import sample_meta_batch

    return sample_meta_batch(data.train_tasks, shots, n_query, batch_task, rng)


def pacia_training(data, steps: int, hyper: str) -> dict:
    import numpy as np
    import torch

    from backend.methods.pacia.config import PaciaConfig
    from backend.methods.pacia.model import expected_depth_loss
    from backend.methods.pacia.train import batch_episodes, build_model

    torch.manual_seed(0)
    model = build_model(PaciaConfig(hyper=hyper))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    model.train()
    times, cpu, mols, eps = [], [], 0, 0
    for step in range(steps + 1):
        episodes = _episodes(data, rng)
        t, c = time.perf_counter(), time.process_time()
        mb, sidx, oh, qidx, y = batch_episodes(episodes, data.store)
        out, _ = model.forward_episode(mb, sidx, oh, qidx)
        loss = expected_depth_loss(out, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step:                      # the first step warms up
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            mols += mb.num_graphs
            eps += len(episodes)
    s = sum(times)
    return {"steps": steps, "episodes_per_s": round(eps / s, 3), "molecules_per_s": round(mols / s, 1),
            "seconds_per_step": round(s / steps, 2), "molecules_per_cpu_s": round(mols / sum(cpu), 1)}


def par_training(data, steps: int) -> dict | None:
    try:
        import numpy as np
        import torch

        from backend.methods.par.config import PARConfig
        from backend.methods.par.learner import PAR, build_encoder
    except ImportError:
        return None
    torch.manual_seed(0)
    cfg = PARConfig()
    model = PAR(cfg, build_encoder(cfg))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.meta_lr)
    rng = np.random.default_rng(0)
    times, cpu, mols, eps = [], [], 0, 0
    for step in range(steps + 1):
        episodes = _episodes(data, rng)
        t, c = time.perf_counter(), time.process_time()
        model.train()
        idx = np.concatenate([np.concatenate([e.support, e.query]) for e in episodes])
        emb = model.embed(data.store, idx)
        losses, a = [], 0
        for e in episodes:
            s, q = len(e.support), len(e.query)
            losses.append(model.episode_loss(emb[a:a + s], torch.as_tensor(e.support_labels), emb[a + s:a + s + q],
                                             torch.as_tensor(e.query_labels), cfg.shots))
            a += s + q
        loss = torch.stack(losses).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step:
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            mols += len(idx)
            eps += len(episodes)
    s = sum(times)
    return {"steps": steps, "episodes_per_s": round(eps / s, 3), "molecules_per_s": round(mols / s, 1),
            "seconds_per_step": round(s / steps, 2), "molecules_per_cpu_s": round(mols / sum(cpu), 1),
            "note": f"PAR's default configuration ({'second' if cfg.second_order else 'first'}-order inner loop): "
                    f"lower {5 - cfg.tune_layers} encoder layers frozen and cached (the cache is built in the "
                    "untimed warm-up step)"}


def prediction(data, predict_episode, n_queries: int) -> dict:
    from backend.mol.episodes import episode_rng, sample_test_episode

    task = data.test_tasks[0]
    ep = sample_test_episode(task, 10, episode_rng(0, task.task_id), max_query=n_queries)
    support, queries = data.store.subset(ep.support), data.store.subset(ep.query)
    predict_episode(support, ep.support_labels, queries.take(range(min(16, len(queries)))))   # warm-up
    t, c = time.perf_counter(), time.process_time()
    p = predict_episode(support, ep.support_labels, queries)
    s, cs = time.perf_counter() - t, time.process_time() - c
    from sklearn.metrics import roc_auc_score

    return {"queries": len(ep.query), "seconds": round(s, 2), "molecules_per_s": round(len(ep.query) / s, 1),
            "cpu_seconds": round(cs, 2), "molecules_per_cpu_s": round(len(ep.query) / cs, 1),
            "roc_auc_on_these": round(float(roc_auc_score(ep.query_labels, p)), 4)}


def interactive(model_dir: Path, data, n: int = 100) -> dict:
    """A CSV of 10+10 support and ``n`` query SMILES through the loaded checkpoint (featurisation included)."""
    from backend.registry import get_method

    task = data.test_tasks[1]
    sm = data.store.smiles
    neg, pos = task.negatives[:10], task.positives[:10]
    queries = [i for i in task.molecules if i not in set(neg) | set(pos)][1000:1000 + n]
    text = "smiles,label\n" + "".join(f"{sm[i]},0\n" for i in neg) + "".join(f"{sm[i]},1\n" for i in pos)
    text += "".join(f"{sm[i]},\n" for i in queries)
    model = get_method(model_dir.parent.name).load(model_dir)
    model.predict(table=text.encode())            # warm-up (imports, first featurisation)
    _clear_feature_caches()
    t, c = time.perf_counter(), time.process_time()
    frame = model.predict(table=text.encode())
    return {"checkpoint": str(model_dir.relative_to(ROOT)), "support": 20, "queries": len(frame),
            "seconds": round(time.perf_counter() - t, 3), "cpu_seconds": round(time.process_time() - c, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=5, help="timed meta-steps per method (after one warm-up step)")
    ap.add_argument("--queries", type=int, default=2000, help="queries in the prediction measurement")
    ap.add_argument("--skip-par", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "molecules.json"))
    args = ap.parse_args(argv)
    import torch

    from backend.mol.datasets import load_dataset

    result = {"machine": {"cpu_threads_used": torch.get_num_threads(), "load_average_start": os.getloadavg(),
                          "torch": torch.__version__},
              "original_par": ORIGINAL_PAR}
    result["featurisation"] = featurisation()
    data = load_dataset("tox21")
    result["pacia_training"] = {h: pacia_training(data, args.steps, h) for h in ("shared", "per_layer")}
    if not args.skip_par:
        result["par_training"] = par_training(data, args.steps)

    from backend.methods.pacia.train import episode_predictor
    from backend.registry import get_method

    shipped = ROOT / "models" / "pacia" / "tox21-10-shot"
    if (shipped / "card.json").is_file():
        model = get_method("pacia").load(shipped)
        result["pacia_prediction"] = prediction(data, episode_predictor(model.model), args.queries)
        result["pacia_interactive_100"] = interactive(shipped, data)
    par_dir = ROOT / "models" / "par" / "tox21-10-shot"
    if not args.skip_par and (par_dir / "card.json").is_file():
        par = get_method("par").load(par_dir)
        result["par_prediction"] = prediction(data, par.model.predict_episode, args.queries)
        result["par_interactive_100"] = interactive(par_dir, data)
    result["peak_rss_gib"] = round(_rss_gib(), 3)
    result["machine"]["load_average_end"] = os.getloadavg()
    o = ORIGINAL_PAR
    ratios = {"featurisation": round(o["featurise_s"] / result["featurisation"]["seconds"], 2),
              "peak_memory": round(o["peak_rss_gib"] / result["peak_rss_gib"], 2)}
    for name in ("pacia", "par"):
        tr = result.get(f"{name}_training")
        tr = tr.get("shared") if name == "pacia" and tr else tr
        if tr:
            ratios[f"{name}_training_episodes"] = round(tr["episodes_per_s"] / o["episodes_per_s"], 2)
            ratios[f"{name}_training_molecules"] = round(tr["molecules_per_s"] / o["train_molecules_per_s"], 2)
        pr = result.get(f"{name}_prediction")
        if pr:
            ratios[f"{name}_prediction_molecules"] = round(pr["molecules_per_s"] / o["eval_molecules_per_s"], 2)
    result["ratio_vs_original_par"] = ratios
    # the same ratios from this process's CPU seconds (one thread: what the wall time would be on an idle machine;
    # the original was measured on an idle machine)
    cpu = {"featurisation": round(o["featurise_s"] / result["featurisation"]["cpu_seconds"], 2)}
    for name in ("pacia", "par"):
        tr = result.get(f"{name}_training")
        tr = tr.get("shared") if name == "pacia" and tr else tr
        if tr:
            cpu[f"{name}_training_molecules"] = round(tr["molecules_per_cpu_s"] / o["train_molecules_per_s"], 2)
        pr = result.get(f"{name}_prediction")
        if pr:
            cpu[f"{name}_prediction_molecules"] = round(pr["molecules_per_cpu_s"] / o["eval_molecules_per_s"], 2)
    result["ratio_vs_original_par_cpu_time"] = cpu
    text = json.dumps(result, indent=1)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
