#!/bin/sh
# run.sh - run every test binary, print each one's result and the total.
# The last line is "N passed, N failed".
passed=0; failed=0; broken=""
for t in "$@"; do
    case "$t" in
        *.sh) log="${GS_BUILD:-build}/tests/$(basename "$t").log"; out=$(sh "$t" "${GS_BUILD:-build}" 2>"$log"); rc=$? ;;
        *) log="$t.log"; out=$("$t" 2>"$log"); rc=$? ;;
    esac
    res=$(printf '%s\n' "$out" | awk '/^RESULT/ {print $2, $3}' | tail -n 1)
    if [ -z "$res" ]; then
        echo "CRASH $(basename "$t") (exit $rc); its log:"; tail -n 20 "$log"
        failed=$((failed + 1)); broken="$broken $(basename "$t")"; continue
    fi
    p=${res% *}; f=${res#* }
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
        echo "FAIL $(basename "$t"): $p passed, $f failed"; grep -v '^ok ' "$log" | tail -n 40
        [ "$f" -eq 0 ] && failed=$((failed + 1))
        broken="$broken $(basename "$t")"
    else
        echo "ok   $(basename "$t"): $p passed"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
