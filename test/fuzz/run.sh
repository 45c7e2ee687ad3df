#!/usr/bin/env bash
# test/fuzz/run.sh: builds (if needed) and runs one libFuzzer target.
#
#   test/fuzz/run.sh TARGET SECONDS [libFuzzer flags...]
#
# TARGET is a name of test/fuzz/fuzz_NAME.c (`mp` or `fuzz_mp`); the
# target is built by test/san/build.sh (clang, ASan + UBSan, in
# .build-san/). First every committed regression input in
# test/fuzz/crashes/NAME/ is replayed once (each one crashed before its
# fix), then the fuzzer runs for SECONDS seconds on the committed seeds
# (test/fuzz/corpus/NAME/, read only) plus a working corpus that grows
# across runs (.build-san/out/fuzz/work/NAME/). A crash, leak, sanitizer
# report or timeout leaves its input in .build-san/out/fuzz/artifacts/ and
# fails. The last line is
#   fuzz NAME: S s, N execs, cov C, ft F, 0 crashes      (or: FAILED ...)
# Environment: TROIKA_TOKENIZER_FILE names the cl100k_base rank file for
# the targets that count tokens (default: the one ./quickstart installs);
# TROIKA_SAN_DIR the build folder (test/san/build.sh).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
name=${1:-}
secs=${2:-}
[ -n "$name" ] && [ -n "$secs" ] || { echo "usage: $0 TARGET SECONDS [libFuzzer flags...]" >&2; exit 2; }
shift 2
name=${name#fuzz_}
[ -f "$here/fuzz_$name.c" ] || { echo "test/fuzz/run.sh: no target $name (test/fuzz/fuzz_$name.c)" >&2; exit 2; }

dir=$("$src/test/san/build.sh" "test/fuzz/bin/fuzz_$name" | tail -n 1) || {
    echo "fuzz $name: FAILED to build"
    exit 1
}
bin=$dir/test/fuzz/bin/fuzz_$name
work=$dir/out/fuzz/work/$name
art=$dir/out/fuzz/artifacts
mkdir -p "$work" "$art"

if [ -z "${TROIKA_TOKENIZER_FILE:-}" ]; then
    for f in "$src/.run/cl100k_base.json" "${XDG_CACHE_HOME:-$HOME/.cache}/troika/tiktoken-1.0.22/package/encoders/cl100k_base.json"; do
        [ -s "$f" ] && { TROIKA_TOKENIZER_FILE=$f; break; }
    done
fi
export TROIKA_TOKENIZER_FILE=${TROIKA_TOKENIZER_FILE:-}

# Sanitizer reports fail the run; library-internal leaks are listed (with
# the reason for each) in test/san/lsan.supp.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/test/san/lsan.supp:print_suppressions=0}

log=$dir/out/fuzz/$name.log
# Replay the crash inputs of fixed bugs: each must now run clean.
if [ -d "$here/crashes/$name" ] && [ -n "$(ls -A "$here/crashes/$name")" ]; then
    if ! "$bin" -runs=1 "$here/crashes/$name"/* >"$log.replay" 2>&1; then
        tail -n 40 "$log.replay"
        echo "fuzz $name: FAILED: a committed crash input (test/fuzz/crashes/$name/) crashes again"
        exit 1
    fi
fi

seeds=()
[ -d "$here/corpus/$name" ] && seeds=("$here/corpus/$name")
"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$art/$name-" "$@" "$work" "${seeds[@]}" >"$log" 2>&1
rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
last=$(grep -E '^#[0-9]+.*(cov|ft): ' "$log" | tail -n 1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
if [ "$rc" -ne 0 ]; then
    grep -E -A 30 '^==[0-9]+==ERROR|runtime error|^SUMMARY|deadly signal|timeout after|out-of-memory' "$log" | head -n 60
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "fuzz $name: FAILED after ${execs:-?} execs (status $rc): input ${crash:-?}, log $log"
    exit 1
fi
echo "fuzz $name: $secs s, ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, 0 crashes"
