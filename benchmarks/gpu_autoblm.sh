#!/usr/bin/env bash
# One prepared GPU session for AutoBLM (run through the device tool from the repo root; nothing ran on a GPU yet):
#   here:   bash benchmarks/gpu_autoblm.sh prepare     # copies WN18RR + fb15k-237 into device-data/ (git-ignored)
#   device: mkdir -p $OUT; (OUT=/tmp/g timeout -k 5 560 bash benchmarks/gpu_autoblm.sh run) >/tmp/g.log 2>&1;
#           cp /tmp/g.log $OUT/log.txt; tar czf $OUT/results.tgz -C /tmp/g .        (carry: device-data; timeout_s 590)
# What it does, within TOTAL_SECONDS (default 530) of wall time:
#   1. speed: benchmarks/autoblm.py on WN18RR (DistMult and AutoSF's published WN18RR structure; d 64, batch 512:
#      the settings the original was measured with, 932 triples/s and 8.5 GiB on the 2-core CPU) -> triples/s,
#      CUDA peak (target: >= 5x the original at < 2 GiB);
#   2. WN18RR: trains AutoSF's published WN18RR structure with AutoSF's final settings (evaluate.py: d 512,
#      lr 0.471, lamb 5.92e-5, batch 512, decay 0.99) for at most WN_SECONDS (default 200) of training instead of
#      300 epochs, valid MRR every 5 epochs, best valid epoch kept, test at the end (target test MRR >= 0.49);
#   3. fb15k-237: the published FB15K237 structure, d FB_DIM (default 1024, the paper's 2048 does not fit the
#      budget), lr 0.178, lamb 0.00252, batch 512, decay 0.991, at most FB_SECONDS (default 200) (target >= 0.36).
# Checkpoints (model.pt + card.json, the budget in the card's config) and JSON land in $OUT.
# A failing step is logged and the next one runs. Dry run here on tiny data:
#   DEVICE=cpu DATASETS_WN=umls DATASETS_FB=family WN_SECONDS=5 FB_SECONDS=5 FB_DIM=32 WN_DIM=32 SPEED_DATASET=umls \
#     OUT=/tmp/gpu-dry bash benchmarks/gpu_autoblm.sh run
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-run}" in
  prepare)
    src="${PARSIMONY_DATA:-../shared/data}"
    mkdir -p device-data/kg
    for d in WN18RR fb15k-237; do cp -r "$src/kg/$d" device-data/kg/; done
    du -sh device-data ;;
  run)
    export PARSIMONY_DATA="${PARSIMONY_DATA_OVERRIDE:-$PWD/device-data}" OUT="${OUT:-$PWD/gpu-out}" PYTHONUNBUFFERED=1
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    [[ -d "$PARSIMONY_DATA" ]] || export PARSIMONY_DATA="${PARSIMONY_DATA_FALLBACK:-../shared/data}"
    dev="${DEVICE:-cuda}" total="${TOTAL_SECONDS:-530}"
    wn="${DATASETS_WN:-WN18RR}" fb="${DATASETS_FB:-fb15k-237}" speed_ds="${SPEED_DATASET:-WN18RR}"
    mkdir -p "$OUT"
    step() { echo "== t=${SECONDS}s: $*"; "$@" || echo "!! failed (rc=$?): $*"; }
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null
    python -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    for s in DistMult WN18RR; do
      step python benchmarks/autoblm.py --dataset "$speed_ds" --structure "$s" --device "$dev" \
        --batches "${SPEED_BATCHES:-100}" --output "$OUT/autoblm-$speed_ds-$s-$dev.json"
    done
    step python -m backend train autoblm --dataset "$wn" --device "$dev" --structure WN18RR \
      --dim "${WN_DIM:-512}" --lr 0.471 --lamb 5.92e-5 --batch-size 512 --decay-rate 0.99 --epochs 300 \
      --eval-every 5 --max-seconds "${WN_SECONDS:-200}" --output "$OUT/WN18RR-published"
    left=$(( total - SECONDS - 60 ))
    fb_seconds="${FB_SECONDS:-200}"; (( left < fb_seconds )) && fb_seconds=$(( left > 10 ? left : 10 ))
    step python -m backend train autoblm --dataset "$fb" --device "$dev" --structure FB15K237 \
      --dim "${FB_DIM:-1024}" --lr 0.178 --lamb 0.00252 --batch-size 512 --decay-rate 0.991 --epochs 500 \
      --eval-every 5 --max-seconds "$fb_seconds" --output "$OUT/fb15k-237-published"
    echo "== done at t=${SECONDS}s" ;;
  *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
