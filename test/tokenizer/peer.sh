#!/usr/bin/env bash
# peer.sh: the C tokenizer against the real tiktoken, when node is present.
# 1. recounts the committed table (test/fixtures/tokenizer/cases.json) with
#    tiktoken: a stale table fails;
# 2. tiktoken counts fresh random strings (a new seed each run, printed, so
#    a failure can be replayed with TROIKA_PEER_SEED) and the CUnit tok
#    suite must count each of them the same.
# Skips (exit 77) when node, the cached tiktoken package or the rank file
# is missing, unless TROIKA_REQUIRE_TOKENIZER=1. Prints `peer: N passed, M failed`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${TROIKA_TOP_BUILDDIR:-$PWD}
unit=$build/test/unit/unit_tests

skip() {
    echo "peer: skipped ($*)"
    if [ "${TROIKA_REQUIRE_TOKENIZER:-0}" = 1 ]; then echo "peer: 0 passed, 1 failed"; exit 1; fi
    exit 77
}
command -v node >/dev/null 2>&1 || skip "node not found"
[ -x "$unit" ] || skip "$unit not built"
rank=$("$src/tools/fetch-tokenizer.sh" 2>/dev/null) || skip "tiktoken not cached: run tools/fetch-tokenizer.sh"
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
   TROIKA_TOKENIZER_FILE=$rank TROIKA_REQUIRE_TOKENIZER=1 TROIKA_TOK_CASES=$tmp "$unit" >"$tmp.out" 2>&1 &&
   grep -q "^unit: .* 0 failed" "$tmp.out"; then
    passed=$((passed + 1))
else
    grep -E "tok:|Suite|unit:" "$tmp.out" | head -40
    failed=$((failed + 1))
fi
rm -f "$tmp.out"
echo "peer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
