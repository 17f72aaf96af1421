#!/usr/bin/env bash
# One prepared GPU session for EmerGNN (run through the device tool from the repo root):
#   here:   bash benchmarks/gpu_emergnn.sh prepare     # copies the ddi data into device-data/ (git-ignored, ~10 MB)
#   device: bash benchmarks/gpu_emergnn.sh run         # carry: device-data; results land in $OUT
#           bash benchmarks/gpu_emergnn.sh speed       # only benchmarks/emergnn.py on the GPU
#           bash benchmarks/gpu_emergnn.sh train       # only the trainings
# What it does: the speed benchmark (training and evaluation pairs/s, peak GPU memory), then the full-budget
# trainings the CPU could not afford - DrugBank S1 and S0 with the paper's settings (every target pair of every
# epoch, the whole valid split for model selection, the whole test split), 3 model seeds each (0, 1, 2), and S2 with
# one seed if time is left - each within SECONDS_PER_RUN of training (default 2400 s) and TOTAL_SECONDS of wall time
# (default 520: one device call covers the benchmark and part of one run; give several calls or a longer-lived GPU).
# The seed-0 checkpoints and cards land in $OUT/<setting>-seed<k>/; the shipped cards are replaced by hand after
# looking at them (seeds: backend.core.store.seed_summary). A failing step is logged and the next one runs.
# DEVICE=cpu TOTAL_SECONDS=200 SECONDS_PER_RUN=10 TARGETS=32 EVAL_PAIRS=32 BASELINE_SECONDS=5 PARSIMONY_DATA_OVERRIDE=$PARSIMONY_DATA
#   bash benchmarks/gpu_emergnn.sh train      dry-runs the trainings here on tiny budgets.
# The path subgraphs are built on the CPU (numpy, about 1.5 ms a pair); the GPU does the message passing.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-run}" in
  prepare)
    src="${PARSIMONY_DATA:-../shared/data}"
    mkdir -p device-data
    cp -r "$src/ddi" device-data/
    du -sh device-data ;;
  run|speed|train)
    export PARSIMONY_DATA="${PARSIMONY_DATA_OVERRIDE:-$PWD/device-data}" OUT="${OUT:-$PWD/gpu-out}" PYTHONUNBUFFERED=1 \
           PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PARSIMONY_CACHE="${PARSIMONY_CACHE:-$PWD/device-data/cache}"
    dev="${DEVICE:-cuda}" total="${TOTAL_SECONDS:-520}" per="${SECONDS_PER_RUN:-2400}"
    targets="${TARGETS:-0}" evalpairs="${EVAL_PAIRS:-0}" bsec="${BASELINE_SECONDS:-600}"
    mkdir -p "$OUT"
    step() { echo "== t=${SECONDS}s: $*"; "$@" || echo "!! failed (rc=$?): $*"; }
    left() { echo $(( total - SECONDS )); }
    if [ "$1" != train ]; then
      step timeout "$(left)" python benchmarks/emergnn.py --device "$dev" --train-batches 20 --eval-pairs 512 \
        --output "$OUT/emergnn-$dev.json"
    fi
    if [ "$1" != speed ]; then
      for setting in S1 S0 S2; do
        seeds="0 1 2"; [ "$setting" = S2 ] && seeds="0"
        for seed in $seeds; do
          [ "$(left)" -lt 30 ] && { echo "== out of time before $setting seed $seed"; break 2; }
          step timeout "$(left)" python -m backend train emergnn --dataset drugbank --device "$dev" \
            --setting "$setting" --seed "$seed" --max-seconds "$per" --targets-per-epoch "$targets" \
            --valid-pairs "$evalpairs" --test-pairs "$evalpairs" --baselines "$([ "$seed" = 0 ] && echo true || echo false)" --baseline-seconds "$bsec" \
            --output "$OUT/$setting-seed$seed"
        done
      done
    fi
    echo "== done in ${SECONDS}s; results in $OUT"; ls -R "$OUT" | head -50 ;;
  *) echo "usage: $0 prepare|run|speed|train" >&2; exit 2 ;;
esac
