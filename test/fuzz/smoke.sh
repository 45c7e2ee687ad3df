#!/usr/bin/env bash
# test/fuzz/smoke.sh: every fuzz target for a short fixed time, as
# `./quickstart test` (and so CI) runs them.
#
#   test/fuzz/smoke.sh [SECONDS]      (default $TROIKA_FUZZ_SECONDS, else 10)
#
# Builds .build-san/ once (test/san/build.sh), then test/fuzz/run.sh for
# each test/fuzz/fuzz_*.c in turn: its committed crash inputs are replayed
# and it fuzzes for SECONDS. Any crash, leak or sanitizer report fails.
# Without clang (not installed by ./quickstart test) it fails rather than
# passing unchecked. Last line: `fuzz: N passed, M failed`.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
secs=${1:-${TROIKA_FUZZ_SECONDS:-10}}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang is not installed (./quickstart test installs it)"
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi
if ! "$src/test/san/build.sh" >/dev/null; then
    echo "fuzz: the sanitized build failed (.build-san/make.log)"
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi
pass=0 fail=0
for f in "$here"/fuzz_*.c; do
    t=$(basename "$f" .c)
    t=${t#fuzz_}
    if "$here/run.sh" "$t" "$secs" | tail -n 45; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
