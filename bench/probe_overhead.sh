#!/bin/sh
# probe_overhead.sh [BUILD_DIR] - what the per-step instruments (DESIGN.md section 2) cost,
# gradscope against PyTorch's hook-based equivalents.
#
# Networks: those of bench/run.sh (depth 50, width 256, batch 128: plain sigmoid, plain tanh,
# residual relu+BatchNorm post blocks of 2) and a small one (depth 10, residual relu+BN).
# For each network it alternates ROUNDS rounds; a round runs
#   gradscope probe off, gradscope probe on, PyTorch probe off, PyTorch probe on
# (order reversed every other round, so that drift of this noisy host hits both sides alike).
#   gradscope: $BUILD/bench/bench_train --threads GS_THREADS --probe 0|1
#              (--probe 1: gs_probe_collect + the optimizer's fused per-parameter norms each step)
#   PyTorch:   bench/torch_train.py --probe 0|1 at its best: one torch thread, OpenBLAS at one
#              thread, OMP_WAIT_POLICY=PASSIVE, glibc mmap/trim thresholds at 1 GiB, and
#              OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (the AVX-512 kernel; bench/README.md)
# The overhead of a round is (time per step with probes) / (time per step without) - 1
# = off/on - 1 in samples/s; the table gives the medians of samples/s and the median over
# rounds of the per-round overhead, in percent.
#
# Environment knobs (defaults in brackets):
#   ROUNDS [5]  STEPS [100]  WARMUP [10] (PyTorch only; bench_train does its own)
#   GS_THREADS [2]  TORCH_THREADS [1]  TORCH_BLAS_THREADS [1]  PYTHON [/usr/bin/python3]
#   NETS  space-separated name:depth:skip:act:norm (default: the four networks above)
# Progress goes to stderr, the table to stdout. POSIX sh; medians with awk. Exits 0 even when
# one side is missing (its columns read NA) - benchmarks never gate anything.

BUILD=${1:-build}
ROUNDS=${ROUNDS:-5}
STEPS=${STEPS:-100}
WARMUP=${WARMUP:-10}
GS_THREADS=${GS_THREADS:-2}
TORCH_THREADS=${TORCH_THREADS:-1}
TORCH_BLAS_THREADS=${TORCH_BLAS_THREADS:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
NETS=${NETS:-"plain_sigmoid:50:0:sigmoid:none plain_tanh:50:0:tanh:none residual_relu_bn:50:2:relu:batch small_res_relu_bn:10:2:relu:batch"}

WIDTH=256
BATCH=128

HERE=$(cd "$(dirname "$0")" && pwd)
GS="$BUILD/bench/bench_train"
TORCH_PY="$HERE/torch_train.py"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gsprobe.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

if [ -x "$GS" ]; then
    have_gs=1
else
    have_gs=0
    echo "gradscope: $GS is missing (build it with 'make'); running PyTorch only" >&2
fi
if "$PYTHON" -c 'import torch' 2>/dev/null; then
    have_torch=1
else
    have_torch=0
    echo "PyTorch: '$PYTHON -c \"import torch\"' fails; install Debian's python3-torch" >&2
fi

# samples_per_s from a command's stdout, or NA; its stderr goes to $TMP/last.err
value() {
    "$@" 2>"$TMP/last.err" | awk '$1 == "samples_per_s" { v = $2 } END { print (v == "" ? "NA" : v) }'
}

run_gs() { # probe depth skip act norm
    [ "$have_gs" = 1 ] || { echo NA; return; }
    v=$(value "$GS" --depth "$2" --width $WIDTH --skip "$3" --act "$4" --norm "$5" \
        --batch $BATCH --steps "$STEPS" --threads "$GS_THREADS" --probe "$1")
    [ "$v" = NA ] && { echo "gradscope failed:" >&2; tail -n 5 "$TMP/last.err" >&2; }
    echo "$v"
}

run_torch() { # probe depth skip act norm
    [ "$have_torch" = 1 ] || { echo NA; return; }
    v=$(value env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE \
        OPENBLAS_NUM_THREADS="$TORCH_BLAS_THREADS" \
        MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
        "$PYTHON" "$TORCH_PY" --depth "$2" --width $WIDTH --skip "$3" --act "$4" --norm "$5" \
        --batch $BATCH --steps "$STEPS" --warmup "$WARMUP" --threads "$TORCH_THREADS" --probe "$1")
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

# per-round overheads in percent from columns off, on of file f; then their median
overhead() { # file col_off col_on
    awk -v a="$2" -v b="$3" '$a != "NA" && $b != "NA" && $b > 0 { printf "%.6g\n", ($a / $b - 1) * 100 }' "$1" |
        median | awk '{ if ($1 == "NA") print "NA"; else printf "%+.1f%%\n", $1 }'
}

{
    echo "# instrument overhead, mlp width $WIDTH batch $BATCH, $ROUNDS rounds x $STEPS steps"
    echo "# host: $(uname -n), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "# gradscope: $GS --threads $GS_THREADS --probe 0|1"
    echo "# PyTorch: $PYTHON $(${PYTHON} -c 'import torch; print(torch.__version__)' 2>/dev/null)," \
         "torch threads $TORCH_THREADS, OPENBLAS_NUM_THREADS=$TORCH_BLAS_THREADS, OMP_WAIT_POLICY=PASSIVE," \
         "MALLOC_MMAP/TRIM_THRESHOLD_=1GiB, OPENBLAS_CORETYPE unset, --probe 0|1"
} >&2

for net in $NETS; do
    IFS=: read -r name depth skip act norm <<EOF
$net
EOF
    : >"$TMP/$name"
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        if [ $((r % 2)) = 1 ]; then
            g0=$(run_gs 0 "$depth" "$skip" "$act" "$norm")
            g1=$(run_gs 1 "$depth" "$skip" "$act" "$norm")
            t0=$(run_torch 0 "$depth" "$skip" "$act" "$norm")
            t1=$(run_torch 1 "$depth" "$skip" "$act" "$norm")
        else
            t1=$(run_torch 1 "$depth" "$skip" "$act" "$norm")
            t0=$(run_torch 0 "$depth" "$skip" "$act" "$norm")
            g1=$(run_gs 1 "$depth" "$skip" "$act" "$norm")
            g0=$(run_gs 0 "$depth" "$skip" "$act" "$norm")
        fi
        echo "$g0 $g1 $t0 $t1" >>"$TMP/$name"
        echo "$name round $r/$ROUNDS: gradscope off $g0 on $g1, PyTorch off $t0 on $t1 samples/s" >&2
        r=$((r + 1))
    done
done

printf '\n%-24s %10s %10s %9s %10s %10s %9s\n' network "gs off" "gs on" "gs cost" "torch off" "torch on" "torch cost"
printf '%-24s %10s %10s %9s %10s %10s %9s\n' "" samples/s samples/s "median*" samples/s samples/s "median*"
for net in $NETS; do
    IFS=: read -r name depth skip act norm <<EOF
$net
EOF
    f="$TMP/$name"
    printf '%-24s %10s %10s %9s %10s %10s %9s\n' "$name (d$depth)" \
        "$(int "$(awk '{ print $1 }' "$f" | median)")" "$(int "$(awk '{ print $2 }' "$f" | median)")" \
        "$(overhead "$f" 1 2)" \
        "$(int "$(awk '{ print $3 }' "$f" | median)")" "$(int "$(awk '{ print $4 }' "$f" | median)")" \
        "$(overhead "$f" 3 4)"
done
echo "* median over rounds of (step time with instruments / without) - 1 = off/on - 1 in samples/s"
exit 0
