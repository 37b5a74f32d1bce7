#!/bin/sh
# conv_run.sh [BUILD_DIR] - He et al.'s CIFAR nets on Fashion-MNIST-shaped input (1x28x28),
# batch 128, gradscope (2 threads) against PyTorch (oneDNN convolutions) side by side:
# resnet-20, resnet-56, plain-20.  Each round runs gradscope once and PyTorch with 1 and with 2
# torch threads (OMP_WAIT_POLICY=PASSIVE, OpenBLAS 1 thread, OPENBLAS_CORETYPE unset, glibc
# thresholds as in run.sh); the ratio is the median over rounds of gradscope / the faster
# PyTorch setting of that round.  Knobs: ROUNDS [3] STEPS [20] WARMUP [3] PYTHON.
BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gsconv.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

value() { "$@" 2>"$TMP/err" | awk '$1 == "samples_per_s" { v = $2 } END { print (v == "" ? "NA" : v) }'; }

gs() { value "$BUILD/bench/bench_train" --model "$1" --depth "$2" --batch 128 --steps "$STEPS" \
       --warmup "$WARMUP" --repeats 1 --threads 2; }
torch() { value env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 \
          MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
          "$PYTHON" "$HERE/torch_train.py" --model "$1" --depth "$2" --batch 128 --steps "$STEPS" \
          --warmup "$WARMUP" --threads "$3"; }

printf '%-10s %12s %12s %12s %8s\n' network gradscope torch_1t torch_2t ratio
for net in "resnet 20" "resnet 56" "plain 20"; do
    set -- $net
    : >"$TMP/rows"
    r=1
    while [ $r -le "$ROUNDS" ]; do
        g=$(gs "$1" "$2"); t1=$(torch "$1" "$2" 1); t2=$(torch "$1" "$2" 2)
        echo "$1-$2 round $r/$ROUNDS: gradscope $g, PyTorch 1 thread $t1, 2 threads $t2 samples/s" >&2
        echo "$g $t1 $t2" >>"$TMP/rows"
        r=$((r + 1))
    done
    sort -n "$TMP/rows" | awk -v n="$1-$2" '
        { g[NR] = $1; a[NR] = $2; b[NR] = $3; best = ($2 > $3 ? $2 : $3); r[NR] = $1 / best }
        function med(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
                                     return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
        END { printf "%-10s %12.0f %12.0f %12.0f %7.2fx\n", n, med(g, NR), med(a, NR), med(b, NR), med(r, NR) }'
done
