#!/bin/sh
# study.sh BUILD - the main job: the vanishing-gradient study on Fashion-MNIST
# ({sigmoid, tanh, relu} x {plain, residual} x {no norm, batch norm} x depths
# 5, 20, 50) and its report.  STUDY_OUT sets the folder (default: study),
# STUDY_ARGS adds options of 'gradscope study' (e.g. "--quick").
set -e
BUILD=${1:-build}
OUT=${STUDY_OUT:-study}
# shellcheck disable=SC2086
"$BUILD/gradscope" study --out "$OUT" ${STUDY_ARGS:-}
echo "gradscope study: the report is $(cd "$OUT" && pwd)/index.html (numbers: $OUT/report.json)" >&2
