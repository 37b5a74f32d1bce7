#!/bin/sh
# table.sh [BUILD_DIR] - the speed table: gradscope against PyTorch on every network the study
# trains, side by side, plus thread scaling and throughput against batch and width.
#
# 1. The networks, batch 128: mlp depth 50 width 256 (plain sigmoid, plain tanh, residual
#    relu+BN with blocks of 2) and resnet-20, resnet-56, plain-20 on 1x28x28.  ROUNDS rounds; a
#    round runs gradscope (GS_THREADS threads) and PyTorch in each of its candidate settings, the
#    order reversed every other round.  PyTorch always gets OMP_WAIT_POLICY=PASSIVE, OpenBLAS on
#    1 thread and glibc's mmap/trim thresholds at 1 GiB; mlp: 1 torch thread with
#    OPENBLAS_CORETYPE unset (AVX-512) and as the environment sets it; conv: 1 and 2 torch
#    threads, OPENBLAS_CORETYPE unset.  Columns: medians of samples/s, the median of the per-round
#    ratios gradscope / the best PyTorch setting of that round, gradscope's GFLOP/s (6 x the
#    forward multiply-adds of the linear and conv layers per sample) and % of PEAK, and the peak
#    RSS of each process (/usr/bin/time).
# 2. Threads: gradscope on 1 and on 2 threads, mlp-50, alternating; median ratio.  Then what the
#    cores give with nothing shared: two 1-thread sigmoid mlp-50 processes at once, one pinned to
#    each cpu, against one alone, and the slower core's speed as a fraction of the faster's; the
#    same two processes on half the batch each (the bound of a 2-thread step split by samples with
#    no exchange at all); and a cache line's round trip between the cpus before and after
#    (bench/roundtrip), which sets what a step that hands each layer across costs.
# 3. Sweeps, plain sigmoid mlp depth 50: batch 32..1024 at width 256 and width 64..1024 at batch
#    128, SWEEP_ROUNDS rounds of gradscope and PyTorch (1 thread, OPENBLAS_CORETYPE unset).
#
# Knobs [defaults]: ROUNDS [3] STEPS [100] (mlp) CONV_STEPS [20] SWEEP_ROUNDS [1] GS_THREADS [2]
# PEAK [measured: bench/peak, an FMA loop on GS_THREADS threads with the widest vectors the CPU has;
# ~460 GFLOP/s on 2 Zen 5 cores with AVX-512, ~190 on 2 Zen 3 cores with AVX2] PYTHON [/usr/bin/python3]
# PARTS [123].
# The table goes to stdout, progress to stderr.  Exits 0 whatever happens: benchmarks never gate.

BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-100}
CONV_STEPS=${CONV_STEPS:-20}
SWEEP_ROUNDS=${SWEEP_ROUNDS:-1}
GS_THREADS=${GS_THREADS:-2}
PEAK=${PEAK:-}
PYTHON=${PYTHON:-/usr/bin/python3}
PARTS=${PARTS:-123}

HERE=$(cd "$(dirname "$0")" && pwd)
GS="$BUILD/bench/bench_train"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gstable.XXXXXX") || exit 0
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
[ -x "$GS" ] || { echo "table.sh: $GS is missing (run make first)" >&2; exit 0; }
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "table.sh: $PYTHON has no torch (apt-get install python3-torch)" >&2; exit 0; }
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=""
PEAK_NOTE="given"
if [ -z "$PEAK" ]; then
    # the best of two runs of the FMA loop, before anything else loads the cores
    PEAK=$({ "$BUILD/bench/peak" "$GS_THREADS"; "$BUILD/bench/peak" "$GS_THREADS"; } 2>/dev/null |
           awk '$1 == "peak_gflops" { if ($2 > p) p = $2; isa = $6 } END { if (p) printf "%.0f %s\n", p, isa }')
    PEAK_NOTE="measured, ${PEAK#* }"
    PEAK=${PEAK%% *}
    case $PEAK in ''|*[!0-9]*) echo "table.sh: $BUILD/bench/peak gave no figure; % of peak against 460" >&2
                               PEAK=460; PEAK_NOTE="assumed" ;; esac
fi

# run CMD...: prints "samples/s gflop_per_sample rss_MB" (NA where missing)
run() {
    if [ -n "$TIME" ]; then "$TIME" -f "%M" -o "$TMP/rss" "$@" >"$TMP/out" 2>"$TMP/err"
    else "$@" >"$TMP/out" 2>"$TMP/err"; echo NA >"$TMP/rss"; fi
    awk -v rss="$(tail -n 1 "$TMP/rss")" '
        $1 == "samples_per_s" { v = $2 } $1 == "gflop_per_sample" { g = $2 }
        END { printf "%s %s %s\n", (v == "" ? "NA" : v), (g == "" ? "NA" : g),
                     (rss ~ /^[0-9]+$/ ? sprintf("%.0f", rss / 1024) : "NA") }' "$TMP/out"
}

# gradscope on $GT threads (default GS_THREADS), batch $BATCH (default 128)
gs() { run "$GS" --threads "${GT:-$GS_THREADS}" --batch "${BATCH:-128}" --repeats 1 "$@"; }
torch() { # threads coretype(unset|env) args...
    t=$1; ct=$2; shift 2
    if [ "$ct" = unset ]; then u="-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"; else u=""; fi
    # shellcheck disable=SC2086
    run env $u OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=1073741824 \
        MALLOC_TRIM_THRESHOLD_=1073741824 "$PYTHON" "$HERE/torch_train.py" --threads "$t" \
        --batch "${BATCH:-128}" "$@"
}

med() { grep -v NA | sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "NA"; else if (NR % 2) print a[(NR + 1) / 2];
                                      else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$2" | med; }

echo "# gradscope vs PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null), $(nproc) cpus," \
     "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); gradscope $GS_THREADS threads;" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} in the environment; $ROUNDS rounds; peak $PEAK GFLOP/s ($PEAK_NOTE)"

# ---- 1. the networks ----
NETS="mlp_sigmoid|--depth 50 --width 256 --skip 0 --act sigmoid --norm none|mlp
mlp_tanh|--depth 50 --width 256 --skip 0 --act tanh --norm none|mlp
mlp_res_relu_bn|--depth 50 --width 256 --skip 2 --act relu --norm batch|mlp
resnet-20|--model resnet --depth 20|conv
resnet-56|--model resnet --depth 56|conv
plain-20|--model plain --depth 20|conv"

if echo "$PARTS" | grep -q 1; then
    printf '\n%-16s %10s %10s %10s %7s %8s %6s %8s %8s\n' network gs_samp/s torch_s/s torch_set ratio gs_GFLOP "%peak" gs_RSS torch_RSS
    echo "$NETS" | while IFS='|' read -r name args kind; do
        : >"$TMP/rows"
        if [ "$kind" = mlp ]; then steps=$STEPS; sets="1:unset 1:env"; else steps=$CONV_STEPS; sets="1:unset 2:unset"; fi
        r=1
        while [ "$r" -le "$ROUNDS" ]; do
            # shellcheck disable=SC2086
            g=$(gs $args --steps "$steps" --warmup 3)
            best=NA; bset=NA; brss=NA
            for s in $sets; do
                # shellcheck disable=SC2086
                t=$(torch "${s%%:*}" "${s#*:}" $args --steps "$steps" --warmup 3)
                v=${t%% *}
                if [ "$v" != NA ] && { [ "$best" = NA ] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; }; then
                    best=$v; bset="T${s%%:*}/${s#*:}"; brss=${t##* }
                fi
            done
            # shellcheck disable=SC2086  # g is "rate gflop rss": split on purpose
            set -- $g
            echo "$name round $r/$ROUNDS: gradscope $1 samples/s, PyTorch best $best ($bset)" >&2
            awk -v g="$1" -v gf="$2" -v grss="$3" -v t="$best" -v ts="$bset" -v trss="$brss" 'BEGIN {
                printf "%s %s %s %s %s %s %s\n", g, gf, grss, t, trss, (g != "NA" && t != "NA" && t > 0 ? g / t : "NA"), ts }' \
                >>"$TMP/rows"
            r=$((r + 1))
        done
        g=$(col 1 "$TMP/rows"); gf=$(col 2 "$TMP/rows"); grss=$(col 3 "$TMP/rows")
        t=$(col 4 "$TMP/rows"); trss=$(col 5 "$TMP/rows"); ratio=$(col 6 "$TMP/rows")
        tset=$(awk '{ print $7 }' "$TMP/rows" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
        awk -v n="$name" -v g="$g" -v gf="$gf" -v t="$t" -v ts="$tset" -v r="$ratio" -v grss="$grss" -v trss="$trss" \
            -v peak="$PEAK" 'BEGIN {
            gfl = (g != "NA" && gf != "NA") ? g * gf : "NA";
            printf "%-16s %10.0f %10.0f %10s %6.2fx %8.1f %5.1f%% %6s MB %6s MB\n", n, g, t, ts, r, gfl,
                   (gfl == "NA" ? 0 : 100 * gfl / peak), grss, trss }'
    done
fi

# ---- 2. threads ----
if echo "$PARTS" | grep -q 2; then
    trip() { [ -x "$BUILD/bench/roundtrip" ] && "$BUILD/bench/roundtrip" 2>/dev/null | awk '$1 == "roundtrip_ns" { print $2 }'; }
    trip0=$(trip)
    printf '\n%-16s %12s %12s %8s\n' "mlp-50 b128" gs_1thread gs_2threads scaling
    echo "$NETS" | while IFS='|' read -r name args kind; do
        [ "$kind" = mlp ] || continue
        : >"$TMP/rows"
        r=1
        while [ "$r" -le "$ROUNDS" ]; do
            # shellcheck disable=SC2086
            a=$(GT=1; gs $args --steps "$STEPS" --warmup 3)
            # shellcheck disable=SC2086
            b=$(GT=2; gs $args --steps "$STEPS" --warmup 3)
            echo "${a%% *} ${b%% *}" | awk '{ printf "%s %s %s\n", $1, $2, ($1 > 0 ? $2 / $1 : "NA") }' >>"$TMP/rows"
            r=$((r + 1))
        done
        printf '%-16s %12.0f %12.0f %7.2fx\n' "$name" "$(col 1 "$TMP/rows")" "$(col 2 "$TMP/rows")" "$(col 3 "$TMP/rows")"
    done
    # What the two cores give together, with nothing shared: two 1-thread processes at once (one
    # pinned to each cpu where taskset exists) against one alone.  The cores of a virtual machine
    # need not run at the same speed, and a step split between them waits for the slower one.
    : >"$TMP/rows"
    pin0=""; pin1=""
    if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then pin0="taskset -c 0"; pin1="taskset -c 1"; fi
    args="--depth 50 --width 256 --skip 0 --act sigmoid --norm none --threads 1 --repeats 1 --steps $STEPS --warmup 3"
    both() { # batch: two 1-thread processes at once, one on each cpu; prints their two rates
        # shellcheck disable=SC2086
        ( $pin0 "$GS" $args --batch "$1" 2>/dev/null | awk '$1 == "samples_per_s" { print $2 }' >"$TMP/p0" ) &
        # shellcheck disable=SC2086
        $pin1 "$GS" $args --batch "$1" 2>/dev/null | awk '$1 == "samples_per_s" { print $2 }' >"$TMP/p1"
        wait
        echo "$(cat "$TMP/p0") $(cat "$TMP/p1")"
    }
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        # shellcheck disable=SC2086
        a=$("$GS" $args --batch 128 2>/dev/null | awk '$1 == "samples_per_s" { print $2 }')
        full=$(both 128); half=$(both 64)
        echo "${a:-NA} $full $half" | awk 'NF == 5 && $1 > 0 {
            lo = $2 < $3 ? $2 : $3; hi = $2 < $3 ? $3 : $2
            printf "%s %s %s %s %s %s\n", $1, $2, $3, ($2 + $3) / $1, lo / hi, ($4 + $5) / $1 }' >>"$TMP/rows"
        r=$((r + 1))
    done
    printf 'cores: two 1-thread processes at once (cpu 0, cpu 1) %.0f + %.0f against %.0f alone: %.2fx;' \
        "$(col 2 "$TMP/rows")" "$(col 3 "$TMP/rows")" "$(col 1 "$TMP/rows")" "$(col 4 "$TMP/rows")"
    printf ' the slower core at %.2f of the faster (medians of %s rounds)\n' "$(col 5 "$TMP/rows")" "$ROUNDS"
    printf 'the same on batch 64 each, against one on 128 (a step split by samples, with no exchange): %.2fx\n' \
        "$(col 6 "$TMP/rows")"
    printf 'a cache line between cpu 0 and cpu 1 and back: %s ns before the threads part, %s ns after\n' \
        "${trip0:-NA}" "$(trip || echo NA)"
fi

# ---- 3. sweeps ----
sweep_row() { # label args...
    label=$1; shift
    : >"$TMP/rows"
    r=1
    while [ "$r" -le "$SWEEP_ROUNDS" ]; do
        g=$(gs "$@" --steps 40 --warmup 3); t=$(torch 1 unset "$@" --steps 40 --warmup 3)
        echo "$g $t" | awk '{ printf "%s %s %s %s\n", $1, $2, $4, ($1 != "NA" && $4 != "NA" && $4 > 0 ? $1 / $4 : "NA") }' >>"$TMP/rows"
        r=$((r + 1))
    done
    awk -v l="$label" -v g="$(col 1 "$TMP/rows")" -v gf="$(col 2 "$TMP/rows")" -v t="$(col 3 "$TMP/rows")" \
        -v r="$(col 4 "$TMP/rows")" -v peak="$PEAK" 'BEGIN {
        printf "%-16s %10.0f %10.0f %6.2fx %8.1f %5.1f%%\n", l, g, t, r, g * gf, 100 * g * gf / peak }'
}
if echo "$PARTS" | grep -q 3; then
    printf '\n%-16s %10s %10s %7s %8s %6s\n' "sigmoid mlp-50" gs_samp/s torch_s/s ratio gs_GFLOP "%peak"
    for b in 32 64 128 256 512 1024; do
        BATCH=$b
        sweep_row "batch $b" --depth 50 --width 256 --skip 0 --act sigmoid --norm none
    done
    BATCH=128
    for w in 64 128 256 512 1024; do
        sweep_row "width $w" --depth 50 --width "$w" --skip 0 --act sigmoid --norm none
    done
fi
exit 0
