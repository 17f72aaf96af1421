"""Run the few-shot baselines (ProtoNet, MAML, fine-tuning) on PACIA's encoder and protocol and write
models/pacia/baselines-<dataset>-<K>-shot.json (read by the molecules page and the zoo beside PAR and PACIA).

    OMP_NUM_THREADS=1 python scripts/pacia_baselines.py --dataset tox21 --shots 10 --steps 150 --max-seconds 400
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="tox21")
    ap.add_argument("--shots", type=int, default=10)
    ap.add_argument("--baselines", default="protonet,maml,finetune")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--max-seconds", type=float, default=400)
    ap.add_argument("--eval-max-query", type=int, default=300)
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    from backend.core.store import git_commit
    from backend.mol.baselines import BaselineConfig, run_baseline
    from backend.mol.datasets import data_sha256

    out = Path(args.out or ROOT / "models" / "pacia" / f"baselines-{args.dataset}-{args.shots}-shot.json")
    doc = json.loads(out.read_text()) if out.is_file() else {"rows": []}
    for name in args.baselines.split(","):
        cfg = BaselineConfig(baseline=name, dataset=args.dataset, shots=args.shots, steps=args.steps,
                             max_seconds=args.max_seconds, eval_max_query=args.eval_max_query)
        res = run_baseline(cfg, progress=lambda e: print(e.message, flush=True) if e.step % 25 == 0 else None)
        print(name, res["metrics"], res["params"], flush=True)
        doc["rows"] = [r for r in doc["rows"] if r["model"] != res["model"]] + [res]
        doc.update({"dataset": args.dataset, "setting": f"{args.shots}-shot", "encoder": "gcn_supervised_contextpred",
                    "protocol": "backend.mol.fewshot.evaluate_fewshot: test tasks, 10 evaluation seeds, mean ± std "
                                f"(ddof 0), {args.eval_max_query} queries per task and seed; selection on the held-out "
                                "training task(s)",
                    "data_sha256": data_sha256(args.dataset), "commit": git_commit(),
                    "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
