#!/usr/bin/env bash
# run-fuzzer.sh BINARY CORPUS SECONDS: run a libFuzzer target for SECONDS from a
# copy of CORPUS (the checked-in seeds stay untouched).
set -euo pipefail
bin=$(realpath -m "$1") corpus=$(realpath -m "$2") seconds=$3
if [ ! -x "$bin" ]; then
    echo "FAIL: fuzz target $bin is not built (scripts/test builds it with clang, GOV_FUZZ=ON)" >&2
    exit 1
fi
if [ ! -d "$corpus" ]; then
    echo "FAIL: seed corpus $corpus does not exist (checked in under tests/fuzz/corpus)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus/." "$work/"
cd "$work"
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" \
    2>&1 | tail -n 25
exit "${PIPESTATUS[0]}"
