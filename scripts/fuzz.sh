#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer targets with clang, ASan and UBSan and runs each for SECONDS
# (default 25) on a copy of its committed corpus (tests/fuzz/corpus/TARGET). Writes one
# result line per target to RESULTS_FILE (the format of meson's testlog.json) and
# prints the executions. A crash, leak or sanitizer report fails the target.
#   scripts/fuzz.sh BUILD_DIR RESULTS_FILE [SECONDS]
set -u
cd "$(dirname "$0")/.."
BUILD=$(realpath -m "$1") RESULTS=$2 SECONDS_EACH=${3:-25}

if [ ! -f "$BUILD/build.ninja" ]; then
        CC=clang meson setup "$BUILD" -Dfuzz=true -Dman=disabled -Db_sanitize=address,undefined \
                -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null || exit 1
fi
ninja -C "$BUILD" tests/fuzz/fuzz-methods tests/fuzz/fuzz-parsers >/dev/null || exit 1

: > "$RESULTS"
for target in fuzz-methods fuzz-parsers; do
        corpus=$(mktemp -d)
        cp tests/fuzz/corpus/$target/* "$corpus/"
        log=$(mktemp)
        if (cd "$corpus" && "$BUILD/tests/fuzz/$target" -max_total_time="$SECONDS_EACH" \
                -print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$BUILD/$target-" \
                "$corpus") > "$log" 2>&1; then
                result=OK
        else
                result=FAIL
                tail -n 40 "$log"
        fi
        executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "$target: $result, ${executions:-0} executions in ${SECONDS_EACH} s"
        printf '{"name": "%s", "result": "%s"}\n' "$target" "$result" >> "$RESULTS"
        rm -rf "$corpus" "$log"
done
