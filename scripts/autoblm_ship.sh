#!/usr/bin/env bash
# Reproduces the shipped AutoBLM results on this CPU (one thread, one process at a time), in this order:
# family classics beside its search, the umls search, final trainings (searched best + 4 classics, 3 seeds each)
# on family and umls, the benchmark. The family search itself:
#   python -m backend search autoblm --dataset family --budget "${FAMILY_BUDGET:-40}" --trajectory models/autoblm/family/trajectory.jsonl
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
step() { echo "== $(date -u +%H:%M:%S) $*"; "$@" || echo "!! failed (rc=$?): $*"; }
step python -m backend search autoblm --dataset family --budget "${FAMILY_BUDGET:-40}" --resume true \
  --trajectory models/autoblm/family/trajectory.jsonl
step python -m backend search autoblm --dataset umls --budget "${UMLS_BUDGET:-20}" \
  --trajectory models/autoblm/umls/trajectory.jsonl
for ds in family umls; do
  step python -m backend train autoblm --dataset "$ds" --structure "models/autoblm/$ds/trajectory.jsonl" --seeds 3
  for s in DistMult ComplEx Analogy SimplE; do
    step python -m backend train autoblm --dataset "$ds" --structure "$s" --seeds 3
  done
done
step python benchmarks/autoblm.py --dataset family --structure DistMult --batches 40 \
  --trajectory models/autoblm/family/trajectory.jsonl --trajectory models/autoblm/umls/trajectory.jsonl \
  --output benchmarks/results/autoblm-family-cpu.json
step python benchmarks/autoblm.py --dataset WN18RR --structure DistMult --batches 10 \
  --output benchmarks/results/autoblm-WN18RR-cpu.json
echo "== $(date -u +%H:%M:%S) done"
