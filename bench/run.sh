#!/bin/sh
# run.sh [BUILD_DIR] - mlp training throughput, gradscope against PyTorch, side by side.
#
# Three networks, all depth 50, width 256, batch 128, 784 inputs, 10 classes, SGD momentum 0.9:
# plain sigmoid, plain tanh, residual relu+BatchNorm (post blocks of 2). For each network it
# alternates ROUNDS rounds; a round runs gradscope once and PyTorch twice (with OPENBLAS_CORETYPE
# as the environment sets it, and without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE), reversing the
# order every other round so that drift of this noisy shared host hits both sides alike
# (DESIGN.md section 7). Then it prints one table: medians, the median of the per-round ratios
# gradscope / PyTorch (against the PyTorch setting with the higher median), and gradscope's
# achieved GFLOP/s counted as 6 * params * samples/s.
#
# Environment knobs (defaults in brackets):
#   ROUNDS [5]  STEPS [100]  WARMUP [10] (PyTorch only; bench_train does its own)
#   GS_THREADS [2]            gradscope --threads
#   TORCH_THREADS [1]         torch.set_num_threads
#   TORCH_BLAS_THREADS [1]    OPENBLAS_NUM_THREADS for PyTorch
#   PYTHON [/usr/bin/python3] Debian's interpreter, which has torch
# PyTorch always runs with OMP_WAIT_POLICY=PASSIVE and glibc's mmap/trim thresholds at 1 GiB,
# its best setting on this machine (bench/README.md has the measurements).
#
# No python here except PyTorch itself; medians are computed with awk. Exits 0 even when
# bench_train is missing (it then runs PyTorch alone) - benchmarks never gate anything.

BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
STEPS=${STEPS:-100}
WARMUP=${WARMUP:-10}
GS_THREADS=${GS_THREADS:-2}
TORCH_THREADS=${TORCH_THREADS:-1}
TORCH_BLAS_THREADS=${TORCH_BLAS_THREADS:-1}
PYTHON=${PYTHON:-/usr/bin/python3}

DEPTH=50
WIDTH=256
BATCH=128
IN=784
CLASSES=10

HERE=$(cd "$(dirname "$0")" && pwd)
GS="$BUILD/bench/bench_train"
TORCH_PY="$HERE/torch_train.py"
CT="${OPENBLAS_CORETYPE:-unset}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gsbench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

if [ -x "$GS" ]; then
    have_gs=1
else
    have_gs=0
    echo "gradscope: $GS is missing (build it with 'make'); running PyTorch only" >&2
fi
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "PyTorch: '$PYTHON -c \"import torch\"' fails; install Debian's python3-torch" >&2
    have_torch=0
else
    have_torch=1
fi

# samples_per_s from a command's stdout, or NA; its stderr goes to $TMP/last.err
value() {
    "$@" 2>"$TMP/last.err" | awk '$1 == "samples_per_s" { v = $2 } END { print (v == "" ? "NA" : v) }'
}

run_gs() { # skip act norm
    [ "$have_gs" = 1 ] || { echo NA; return; }
    v=$(value "$GS" --depth $DEPTH --width $WIDTH --skip "$1" --act "$2" --norm "$3" \
        --batch $BATCH --steps "$STEPS" --threads "$GS_THREADS")
    [ "$v" = NA ] && { echo "gradscope failed:" >&2; tail -n 5 "$TMP/last.err" >&2; }
    echo "$v"
}

run_torch() { # env|noenv skip act norm
    [ "$have_torch" = 1 ] || { echo NA; return; }
    mode=$1; shift
    if [ "$mode" = env ]; then unset_ct=""; else unset_ct="-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"; fi
    # shellcheck disable=SC2086  # unset_ct is deliberately split
    v=$(value env $unset_ct OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="$TORCH_BLAS_THREADS" \
        MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
        "$PYTHON" "$TORCH_PY" --depth $DEPTH --width $WIDTH --skip "$1" --act "$2" --norm "$3" \
        --batch $BATCH --steps "$STEPS" --warmup "$WARMUP" --threads "$TORCH_THREADS")
    [ "$v" = NA ] && { echo "PyTorch failed:" >&2; tail -n 5 "$TMP/last.err" >&2; }
    echo "$v"
}

# median of the numbers on stdin, NA ignored; NA when there are none
median() {
    grep -v '^NA$' | sort -g | awk '{ a[NR] = $1 }
        END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2];
              else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

int() { awk -v x="$1" 'BEGIN { if (x == "NA") print x; else printf "%.0f\n", x }'; }

# name skip act norm
NETS="plain_sigmoid:0:sigmoid:none plain_tanh:0:tanh:none residual_relu_bn:2:relu:batch"

{
    echo "# gradscope vs PyTorch, mlp depth $DEPTH width $WIDTH batch $BATCH, $ROUNDS rounds x $STEPS steps"
    echo "# host: $(uname -n), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "# gradscope: $GS --threads $GS_THREADS"
    echo "# PyTorch: $PYTHON $(${PYTHON} -c 'import torch; print(torch.__version__)' 2>/dev/null)," \
         "torch threads $TORCH_THREADS, OPENBLAS_NUM_THREADS=$TORCH_BLAS_THREADS, OMP_WAIT_POLICY=PASSIVE," \
         "MALLOC_MMAP/TRIM_THRESHOLD_=1GiB; OPENBLAS_CORETYPE=$CT vs unset"
} >&2

for net in $NETS; do
    IFS=: read -r name skip act norm <<EOF
$net
EOF
    : >"$TMP/$name"
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        if [ $((r % 2)) = 1 ]; then
            g=$(run_gs "$skip" "$act" "$norm")
            te=$(run_torch env "$skip" "$act" "$norm")
            tn=$(run_torch noenv "$skip" "$act" "$norm")
        else
            tn=$(run_torch noenv "$skip" "$act" "$norm")
            te=$(run_torch env "$skip" "$act" "$norm")
            g=$(run_gs "$skip" "$act" "$norm")
        fi
        echo "$g $te $tn" >>"$TMP/$name"
        echo "$name round $r/$ROUNDS: gradscope $g, PyTorch (CORETYPE=$CT) $te, PyTorch (unset) $tn samples/s" >&2
        r=$((r + 1))
    done
done

printf '\n%-18s %12s %16s %16s %10s %12s\n' network gradscope "torch CT=$CT" "torch CT unset" "ratio" "gs GFLOP/s"
printf '%-18s %12s %16s %16s %10s %12s\n' "" "samples/s" "samples/s" "samples/s" "gs/torch*" "6*P*samples"
for net in $NETS; do
    IFS=: read -r name skip act norm <<EOF
$net
EOF
    f="$TMP/$name"
    mg=$(awk '{ print $1 }' "$f" | median)
    me=$(awk '{ print $2 }' "$f" | median)
    mn=$(awk '{ print $3 }' "$f" | median)
    # the faster PyTorch setting by median; ratios are taken per round against it
    col=$(awk -v e="$me" -v n="$mn" 'BEGIN { if (e == "NA") print 3; else if (n == "NA") print 2;
                                               else print (n + 0 > e + 0) ? 3 : 2 }')
    ratio=$(awk -v c="$col" '$1 != "NA" && $c != "NA" && $c > 0 { printf "%.6g\n", $1 / $c }' "$f" | median)
    params=$(awk -v i=$IN -v w=$WIDTH -v d=$DEPTH -v k=$CLASSES -v bn="$norm" \
        'BEGIN { p = i * w + w + d * (w * w + w) + w * k + k; if (bn == "batch") p += d * 2 * w; print p }')
    gflops=$(awk -v s="$mg" -v p="$params" 'BEGIN { if (s == "NA") print "NA"; else printf "%.1f\n", 6 * p * s / 1e9 }')
    [ "$ratio" = NA ] || ratio=$(awk -v x="$ratio" 'BEGIN { printf "%.2f", x }')
    best=$([ "$col" = 3 ] && echo unset || echo "$CT")
    printf '%-18s %12s %16s %16s %10s %12s\n' "$name" "$(int "$mg")" "$(int "$me")" "$(int "$mn")" \
        "$ratio" "$gflops"
    echo "  ($name: params $params, faster PyTorch setting: OPENBLAS_CORETYPE=$best)"
done
echo "* median over rounds of gradscope / PyTorch at its faster OPENBLAS_CORETYPE setting"
exit 0
