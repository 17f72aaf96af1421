#!/usr/bin/env bash
# One prepared GPU session for RED-GNN (run through the device tool from the repo root):
#   here:   bash benchmarks/gpu_redgnn.sh prepare        # copies kg data into device-data/ (git-ignored)
#   device: bash benchmarks/gpu_redgnn.sh run            # carry: device-data; results land in $OUT
# It benchmarks family and WN18RR (throughput, peak memory, test MRR vs time over 60 s), then trains
# WN18RR and FB15k-237 under a time budget, then the largest inductive split fb237_v4 (about 20 min per
# epoch on one CPU thread), and writes their checkpoints (model.pt + card.json) to $OUT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-run}" in
  prepare)
    src="${PARSIMONY_DATA:-../shared/data}"
    mkdir -p device-data/kg
    for d in family WN18RR fb15k-237 inductive; do cp -r "$src/kg/$d" device-data/kg/; done
    du -sh device-data ;;
  run)
    export PARSIMONY_DATA="$PWD/device-data" OUT="${OUT:-$PWD/gpu-out}"
    mkdir -p "$OUT"
    python -c "import torch_geometric" 2>/dev/null || pip install -q torch-geometric pandas tqdm filelock platformdirs requests
    python benchmarks/redgnn.py --dataset family --device cuda --train-batches 200 --eval-queries 3000 \
      --output "$OUT/redgnn-family-cuda.json"
    python benchmarks/redgnn.py --dataset WN18RR --device cuda --train-batches 100 --eval-queries 2000 \
      --curve-seconds "${CURVE_SECONDS:-60}" --output "$OUT/redgnn-WN18RR-cuda.json"
    python -m backend train redgnn --dataset WN18RR --device cuda --max-seconds "${WN_SECONDS:-150}" \
      --output "$OUT/WN18RR"
    python -m backend train redgnn --dataset fb15k-237 --device cuda --max-seconds "${FB_SECONDS:-150}" \
      --n-tbatch 64 --output "$OUT/fb15k-237"
    python -m backend train redgnn --dataset fb237_v4 --device cuda --max-seconds "${FB4_SECONDS:-120}" \
      --output "$OUT/fb237_v4-inductive" ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
