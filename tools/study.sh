#!/bin/sh
# study.sh BUILD - the main job.  Until the full vanishing-gradient study
# lands (issue 3), it trains the 20-layer residual ReLU + batch-norm mlp on
# Fashion-MNIST for 3 epochs and says what it did.
set -e
BUILD=${1:-build}
OUT=${STUDY_OUT:-study}
mkdir -p "$OUT"
echo "gradscope study: training a 20-layer residual mlp (skip 2, ReLU, batch norm) on Fashion-MNIST, 3 epochs" >&2
"$BUILD/gradscope" train --model mlp --depth 20 --skip 2 --act relu --norm batch \
    --data fashion-mnist --epochs 3 --log "$OUT/resnet20" --save "$OUT/resnet20/model.safetensors" \
    | tee "$OUT/resnet20/result.txt"
echo "gradscope study: done. Logs: $OUT/resnet20/run.json, $OUT/resnet20/metrics.jsonl;" \
     "weights: $OUT/resnet20/model.safetensors (gradscope eval --weights ... to re-check)." >&2
