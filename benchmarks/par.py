"""PAR speed on this machine: meta-training episodes/s and molecules/s, evaluation molecules/s (the 3 Tox21 test
tasks, one evaluation seed, every other labelled molecule as a query, from a cold model: the original's
measurement), and the time to predict 100 query molecules from a 10+10 support set (featurisation included),
against the original PAR measured on this CPU (shared/reference/measured-originals.md: 2.11 episodes/s, 76
molecules/s training, 335 molecules/s evaluation). Wall and CPU seconds are both recorded (the machine is shared).
Writes benchmarks/results/par.json.

    OMP_NUM_THREADS=1 python benchmarks/par.py --model models/par/tox21-10-shot [--steps 5]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORIGINAL = {"episodes_per_s": 2.11, "train_molecules_per_s": 76.0, "eval_molecules_per_s": 335.0}


def main(argv=None) -> int:
    import numpy as np
    import torch

    from backend.mol.datasets import load_dataset
    from backend.mol.episodes import sample_meta_batch
    from backend.registry import get_method

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "par" / "tox21-10-shot"))
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "par.json"))
    args = ap.parse_args(argv)

    load0 = os.getloadavg()[0]
    lm = get_method("par").open(args.model)
    cfg, model = lm.config, lm.model
    data = load_dataset(lm.card.dataset)
    # ---- meta-training steps (the checkpoint's configuration, fresh optimiser)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.meta_lr)
    rng = np.random.default_rng(0)
    t_cache = time.perf_counter()
    model._frozen_states(data.store)
    cache_s = time.perf_counter() - t_cache
    episodes = molecules = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        model.train()
        eps = sample_meta_batch(data.meta_train_tasks, cfg.shots, cfg.n_query, cfg.batch_task, rng)
        idx = np.concatenate([np.concatenate([e.support, e.query]) for e in eps])
        emb = model.embed(data.store, idx)
        losses, a = [], 0
        for e in eps:
            s, q = len(e.support), len(e.query)
            losses.append(model.episode_loss(emb[a:a + s], torch.as_tensor(e.support_labels), emb[a + s:a + s + q],
                                             torch.as_tensor(e.query_labels), cfg.shots))
            a += s + q
        opt.zero_grad()
        torch.stack(losses).mean().backward()
        opt.step()
        episodes += len(eps)
        molecules += len(idx)
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    # ---- evaluation as the original measured it: the 3 test tasks, one seed, all queries, a cold model
    from backend.mol.fewshot import evaluate_fewshot

    lm_eval = get_method("par").open(args.model)
    t_e, c_e = time.perf_counter(), time.process_time()
    ev = evaluate_fewshot(lm_eval.model.predict_episode, data, cfg.shots, seeds=[0], tasks="test")
    eval_s, eval_cpu = time.perf_counter() - t_e, time.process_time() - c_e
    # ---- 100 queries from a support set, featurisation included (a fresh copy of the model: no memo)
    lm2 = get_method("par").open(args.model)
    demo = lm2.demo_episode(data.test_tasks[0].name, seed=0, n_query=100)
    from backend.mol.featurise import _graph_cached
    from backend.mol.flatfeatures import clear_flat_cache

    _graph_cached.cache_clear()
    clear_flat_cache()
    t1 = time.perf_counter()
    probs = lm2.run(demo)
    predict_s = time.perf_counter() - t1
    # ---- evidence you can test: removing the k most related support molecules vs k random ones
    k, n_q = 3, 30
    most, rand = [], []
    for qi in range(min(n_q, len(demo.query_smiles))):
        r = lm2.removal_test(demo, query_index=qi, k=k, seed=qi, random_repeats=5)
        most.append(abs(r["change_most_related"]))
        rand.append(float(np.mean(np.abs(r["random_changes"]))))
    removal = {"k": k, "queries": len(most), "task": demo.source,
               "mean_abs_change_most_related": float(np.mean(most)), "mean_abs_change_random": float(np.mean(rand)),
               "share_of_queries_where_most_related_moves_more": float(np.mean(np.array(most) > np.array(rand)))}
    result = {
        "removal_test": removal,
        "machine": f"{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at the end, {load0:.1f} at the "
                   "start (shared with other jobs)",
        "threads": torch.get_num_threads(), "checkpoint": str(Path(args.model).resolve().relative_to(ROOT)),
        "config": {"shots": cfg.shots, "encoder": cfg.encoder, "tune_layers": cfg.tune_layers,
                   "second_order": cfg.second_order, "batch_task": cfg.batch_task},
        "train": {"steps": args.steps, "seconds": train_s, "episodes_per_s": episodes / train_s,
                  "molecules_per_s": molecules / train_s, "cpu_seconds": train_cpu,
                  "molecules_per_cpu_s": molecules / train_cpu, "frozen_layer_cache_seconds": cache_s},
        "eval": {"tasks": ev["tasks"], "seeds": [0], "queries": ev["n_queries"], "seconds": eval_s,
                 "cpu_seconds": eval_cpu, "molecules_per_s": ev["n_queries"] / eval_s,
                 "molecules_per_cpu_s": ev["n_queries"] / eval_cpu, "roc_auc": ev["roc_auc"]},
        "predict_100_queries_seconds": predict_s, "predicted": int(len(probs)),
        "eval_molecules_per_s_from_card": (lm.card.extras or {}).get("eval_queries_per_second"),
        "original_par_on_this_cpu": ORIGINAL,
    }
    result["ratios_vs_original"] = {
        "episodes_per_s": result["train"]["episodes_per_s"] / ORIGINAL["episodes_per_s"],
        "train_molecules_per_s": result["train"]["molecules_per_s"] / ORIGINAL["train_molecules_per_s"],
        "eval_molecules_per_s": result["eval"]["molecules_per_s"] / ORIGINAL["eval_molecules_per_s"],
    }
    # from CPU seconds (one thread: the wall time an idle machine would give; the original was measured idle)
    result["ratios_vs_original_cpu_time"] = {
        "train_molecules_per_s": result["train"]["molecules_per_cpu_s"] / ORIGINAL["train_molecules_per_s"],
        "eval_molecules_per_s": result["eval"]["molecules_per_cpu_s"] / ORIGINAL["eval_molecules_per_s"],
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
