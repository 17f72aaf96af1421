#!/usr/bin/env bash
# One prepared GPU session for ColdNAS (not measured yet: this project's sessions had no GPU).
#   here:   bash benchmarks/gpu_coldnas.sh prepare     # copies recsys/lastfm into device-data/ (git-ignored; MovieLens
#                                                      # is not copied: it may not be redistributed, fetch it there)
#   device: bash benchmarks/gpu_coldnas.sh run         # carry: device-data; results land in $OUT
# What it measures (within about 5 minutes): the Last.fm search + retrain (benchmarks/coldnas.py) on cuda, and the
# same on the CPU of the device machine for the ratio. DEVICE=cpu QUICK=1 OUT=/tmp/g bash benchmarks/gpu_coldnas.sh run
# dry-runs it here (one epoch per stage).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-/tmp/coldnas-gpu}"
DEVICE="${DEVICE:-cuda}"
case "${1:-run}" in
  prepare)
    mkdir -p device-data/recsys
    cp -r "${PARSIMONY_DATA:-../shared/data}/recsys/lastfm" device-data/recsys/
    echo "device-data/recsys/lastfm ready" ;;
  run)
    mkdir -p "$OUT"
    export PARSIMONY_DATA="${PARSIMONY_DATA:-$PWD/device-data}"
    [ -d .venv ] && source .venv/bin/activate
    QUICK_FLAG=""; [ "${QUICK:-0}" = 1 ] && QUICK_FLAG="--quick"
    python benchmarks/coldnas.py --dataset lastfm --device "$DEVICE" $QUICK_FLAG --output "$OUT/coldnas-lastfm-$DEVICE.json" \
      > "$OUT/log-$DEVICE.txt" 2>&1 || echo "the $DEVICE benchmark failed (see log-$DEVICE.txt)"
    if [ "$DEVICE" != cpu ]; then
      OMP_NUM_THREADS=4 python benchmarks/coldnas.py --dataset lastfm --device cpu \
        --output "$OUT/coldnas-lastfm-cpu-device-machine.json" > "$OUT/log-cpu.txt" 2>&1 || echo "cpu run failed"
    fi
    ls "$OUT" ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
