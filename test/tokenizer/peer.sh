#!/usr/bin/env bash
# peer.sh: the C tokenizer against the real tiktoken, when node is present.
# 1. recounts the committed table (test/fixtures/tokenizer/cases.json) with
#    tiktoken: a stale table fails;
# 2. tiktoken counts fresh random strings (a new seed each run, printed, so
#    a failure can be replayed with TROIKA_PEER_SEED) and the CUnit tok
#    suite must count each of them the same.
# Fails when node, the cached tiktoken package or the rank file is missing
# (run tools/fetch-tokenizer.sh), unless TROIKA_SKIP_TOKENIZER=1 told the
# run to go without them: then it says so and skips (exit 77). Prints
# `peer: N passed, M failed`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${TROIKA_TOP_BUILDDIR:-$PWD}
unit=$build/test/unit/unit_tests

skip() {
    if [ "${TROIKA_SKIP_TOKENIZER:-0}" = 1 ]; then
        echo "peer: skipped ($*; TROIKA_SKIP_TOKENIZER=1)"
        exit 77
    fi
    echo "peer: $*: run tools/fetch-tokenizer.sh (or set TROIKA_SKIP_TOKENIZER=1 to skip this check)"
    echo "peer: 0 passed, 1 failed"
    exit 1
}
command -v node >/dev/null 2>&1 || skip "node not found"
[ -x "$unit" ] || { echo "peer: $unit not built"; echo "peer: 0 passed, 1 failed"; exit 1; }
rank=$("$src/tools/fetch-tokenizer.sh" 2>/dev/null) || skip "the tiktoken package is not cached"
pkg=$(dirname "$(dirname "$rank")")

passed=0 failed=0
if TIKTOKEN_PKG=$pkg node "$here/tiktoken-peer.js" check "$src/test/fixtures/tokenizer/cases.json"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

seed=${TROIKA_PEER_SEED:-$(( $(date +%s) % 100000 ))}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "peer: 3000 random strings, seed $seed"
if TIKTOKEN_PKG=$pkg node "$here/tiktoken-peer.js" random 3000 "$seed" >"$tmp" &&
   TROIKA_TOKENIZER_FILE=$rank TROIKA_SKIP_TOKENIZER=0 TROIKA_TOK_CASES=$tmp "$unit" >"$tmp.out" 2>&1 &&
   grep -q "^unit: .* 0 failed" "$tmp.out"; then
    passed=$((passed + 1))
else
    grep -E "tok:|Suite|unit:" "$tmp.out" | head -40
    failed=$((failed + 1))
fi
rm -f "$tmp.out"
echo "peer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
