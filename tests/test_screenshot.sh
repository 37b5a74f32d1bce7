#!/bin/sh
# test_screenshot.sh BUILD - the study report as a person sees it: writes the
# synthetic report of test_report, renders it in headless Chromium and fails
# on console errors, fetches or empty charts (tests/report_screenshot.sh).
BUILD=${1:-${GS_BUILD:-build}}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/gs_shot.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT
if ! "$BUILD/tests/test_report" "$DIR/report" >/dev/null 2>"$DIR/log"; then
    cat "$DIR/log" >&2; echo "RESULT 0 1"; exit 1
fi
if sh tests/report_screenshot.sh "$DIR/report" "$DIR/shot.png" >&2; then
    echo "ok   report renders in Chromium with every chart drawn" >&2
    echo "RESULT 1 0"
else
    echo "FAIL report screenshot" >&2
    echo "RESULT 0 1"; exit 1
fi
