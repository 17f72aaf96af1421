#!/usr/bin/env bash
# One prepared GPU session for the few-shot molecule methods (issue 35). Run from the repo root:
#   here:   bash benchmarks/gpu_molecules.sh prepare     # copies the molecule data into device-data/ (git-ignored)
#   device: bash benchmarks/gpu_molecules.sh par         # carry: device-data; checkpoints + logs land in $OUT
#   CPU smoke test of the same path (tiny budgets, a few seconds a run):
#           TINY=1 DEVICE=cpu OUT=/tmp/gm bash benchmarks/gpu_molecules.sh par
# par: PAR as in the paper, which the CPU cards could not afford: the whole pretrained encoder trained
# (--tune-layers 5), second-order MAML, all 9 training tasks per meta-batch, PAR_STEPS meta-steps (paper: 5000),
# the full meta-test query sets; for Tox21 and SIDER, 10-shot and 1-shot, encoders PAR_ENCODERS (GCN and
# GraphSAGE: the papers' 82.69/80.23 and 82.95/80.75 on Tox21). Each run stops at PAR_SECONDS of training.
# Other methods (PACIA, baselines) append their own sections below.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { echo "== t=${SECONDS}s: $*"; "$@" || echo "!! failed (rc=$?): $*"; }
case "${1:-par}" in
  prepare)
    src="${PARSIMONY_DATA:-../shared/data}"
    mkdir -p device-data/molecules
    cp -r "$src/molecules/datasets" "$src/molecules/pretrain_gnns" device-data/molecules/
    du -sh device-data ;;
  par)
    if [ -d "$PWD/device-data/molecules" ]; then export PARSIMONY_DATA="$PWD/device-data"; fi
    export OUT="${OUT:-$PWD/gpu-out}" PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    dev="${DEVICE:-cuda}"
    steps="${PAR_STEPS:-2000}" seconds="${PAR_SECONDS:-240}" every="${PAR_EVAL_EVERY:-100}" test_q="${PAR_TEST_MAX_QUERY:-0}"
    if [ "${TINY:-0}" = 1 ]; then steps=2 seconds=60 every=1 test_q=20; fi
    mkdir -p "$OUT/par"
    for ds in ${PAR_DATASETS:-tox21 sider}; do
      for shots in ${PAR_SHOTS:-10 1}; do
        for enc in ${PAR_ENCODERS:-gcn graphsage}; do
          extra=()
          if [ "${TINY:-0}" = 1 ]; then extra=(--test-seeds 2 --val-seeds 1 --val-max-query 20 --check-max-query 20 --batch-task 2); fi
          step python -m backend train par --dataset "$ds" --shots "$shots" --encoder "$enc" --pretrained true \
            --tune-layers 5 --second-order true --steps "$steps" --max-seconds "$seconds" --eval-every "$every" \
            --test-max-query "$test_q" --device "$dev" --output "$OUT/par/$ds-$shots-shot-$enc" "${extra[@]}" \
            2>&1 | tail -n 5
        done
      done
    done
    python - <<'EOF'
import json, os, pathlib
out = pathlib.Path(os.environ["OUT"]) / "par"
rows = []
for card in sorted(out.glob("*/card.json")):
    c = json.loads(card.read_text())
    rows.append({"run": card.parent.name, "test_roc_auc": c["metrics"]["test"]["roc_auc"],
                 "std": c["metrics"]["test"].get("roc_auc_std"), "steps": c["train"]["steps"],
                 "seconds": c["train"]["seconds"], "device": c["train"]["device"]})
(out / "summary.json").write_text(json.dumps(rows, indent=1) + "\n")
print(json.dumps(rows, indent=1))
EOF
    ;;
  pacia)
    # PACIA (backend/methods/pacia): the authors' budget that the CPU cards could not afford: all 9 training
    # tasks per meta-batch, PACIA_STEPS meta-steps (authors: 40,000), the full meta-test query sets, Tox21 and SIDER,
    # 10- and 1-shot, shared hypernetwork; the authors' per-layer hypernetworks on Tox21 10-shot; then the
    # baselines (ProtoNet, MAML, fine-tuning) on the full query sets. Each run stops at PACIA_SECONDS of training.
    if [ -d "$PWD/device-data/molecules" ]; then export PARSIMONY_DATA="$PWD/device-data"; fi
    export OUT="${OUT:-$PWD/gpu-out}" PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    dev="${DEVICE:-cuda}"
    steps="${PACIA_STEPS:-5000}" seconds="${PACIA_SECONDS:-240}" every="${PACIA_EVAL_EVERY:-250}" test_q="${PACIA_TEST_MAX_QUERY:-0}"
    extra=(--batch-task 9 --val-seeds 3 --val-max-query 0)
    if [ "${TINY:-0}" = 1 ]; then steps=2 seconds=60 every=2 test_q=64; extra=(--batch-task 2 --val-seeds 1 --val-max-query 64 --eval-seeds 2); fi
    mkdir -p "$OUT/pacia"
    for ds in ${PACIA_DATASETS:-tox21 sider}; do
      for shots in ${PACIA_SHOTS:-10 1}; do
        step python -m backend train pacia --dataset "$ds" --shots "$shots" --steps "$steps" --max-seconds "$seconds" \
          --eval-every "$every" --eval-max-query "$test_q" --device "$dev" --output "$OUT/pacia/$ds-$shots-shot" \
          "${extra[@]}" 2>&1 | tail -n 3
      done
    done
    step python -m backend train pacia --dataset tox21 --shots 10 --hyper per_layer --steps "$steps" \
      --max-seconds "$seconds" --eval-every "$every" --eval-max-query "$test_q" --device "$dev" \
      --output "$OUT/pacia/tox21-10-shot-per-layer" "${extra[@]}" 2>&1 | tail -n 3
    if [ "${TINY:-0}" != 1 ]; then
      step python scripts/pacia_baselines.py --dataset tox21 --shots 10 --steps 1000 --max-seconds "$seconds" \
        --eval-max-query 0 --out "$OUT/pacia/baselines-tox21-10-shot.json" 2>&1 | tail -n 5
    fi
    python - <<'EOF2'
import json, os, pathlib
out = pathlib.Path(os.environ["OUT"]) / "pacia"
rows = [{"run": p.parent.name, "test_roc_auc": (c := json.loads(p.read_text()))["metrics"]["test"]["roc_auc"],
         "std": c["metrics"]["test"].get("roc_auc_std"), "steps": c["train"]["epochs"],
         "seconds": c["train"]["seconds"], "device": c["train"]["device"], "params": c["params"]["total"]}
        for p in sorted(out.glob("*/card.json"))]
(out / "summary.json").write_text(json.dumps(rows, indent=1) + "\n")
print(json.dumps(rows, indent=1))
EOF2
    ;;
  *) echo "usage: $0 prepare|par|pacia" >&2; exit 2 ;;
esac
