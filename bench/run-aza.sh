#!/usr/bin/env bash
# Aza search latency at catalog scale: wrk through a private nginx against
# POST /aza/search/stream and POST /aza/search (a rotation of queries, one of
# them nonsense so the text fallback runs), at c=1 and c=2 with 2 workers,
# and GET /api/products/search/stream with the same queries on the same stack
# for a side-by-side figure. The catalog is generated (troika-admin
# gen-catalog), imported and indexed (build-index) first.
# Writes bench/results/aza.md. A benchmark, not a test.
#
#   bench/run-aza.sh            (after make; uses ./troika-fcgi, ./troika-admin)
# Environment: BENCH_PRODUCTS (100000), BENCH_DURATION (20s), TROIKA_FCGI,
# TROIKA_ADMIN, BENCH_OUT (result file).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
ROOT=$PWD
. bench/stack.sh
export TROIKA_FCGI=${TROIKA_FCGI:-$ROOT/troika-fcgi}
ADMIN=${TROIKA_ADMIN:-$(dirname "$TROIKA_FCGI")/troika-admin}
PRODUCTS=${BENCH_PRODUCTS:-100000}
DURATION=${BENCH_DURATION:-20s}
OUT=${BENCH_OUT:-$ROOT/bench/results/aza.md}
WORKERS=2
export PATH="$PATH:/usr/sbin:/sbin"

[ -x "$TROIKA_FCGI" ] || { echo "bench: $TROIKA_FCGI not built (run make)" >&2; exit 1; }
[ -x "$ADMIN" ] || { echo "bench: $ADMIN not built (run make)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk not installed (apt-get install wrk)" >&2; exit 1; }

# A buffer pool that holds the catalog (the harness's 32M does not hold 100k
# products: every candidate lookup would read pages), as bench/run-search.py.
stack_up "$(mktemp -d /tmp/troika-bench-aza-XXXXXX)" --workers "$WORKERS" --db-buffer-pool 512M
CONF=$(js tmp)/troika/troika.conf

echo "bench: generating and importing $PRODUCTS products"
t0=$(date +%s.%N)
"$ADMIN" -c "$CONF" gen-catalog --count "$PRODUCTS" --seed 1 --out "$work/catalog.jsonl" >/dev/null
"$ADMIN" -c "$CONF" import-products "$work/catalog.jsonl" >"$work/import.log"
t1=$(date +%s.%N)
"$ADMIN" -c "$CONF" build-index >"$work/index.log"
t2=$(date +%s.%N)
index_line=$(grep -m1 'wrote' "$work/index.log" | sed 's/^ *//')
import_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
index_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.1f", b - a}')

# The query rotation: product search's 50 shopper queries
# (bench/search-queries.txt, as bench/run-search.py uses them), so the two
# routes are measured on the same questions. Aza also runs them with
# explicit filters (inStock, maxPrice 60000: the over-fetch rounds), and a
# nonsense query on its own (the text fallback every time).
mapfile -t QUERIES < <(grep -v '^[[:space:]]*\(#\|$\)' bench/search-queries.txt)
NONSENSE='xqzvw blorptangle'
aza_bodies() {
    /usr/bin/python3 -c '
import json, sys
filters = json.loads(sys.argv[1])
out = []
for q in sys.argv[2:]:
    b = {"query": q, "limit": 8}
    if filters:
        b["filters"] = filters
    out.append(json.dumps(json.dumps(b)))
print(", ".join(out))' "$@"
}
ps_paths=$(/usr/bin/python3 -c '
import sys, urllib.parse
print(", ".join("\"/api/products/search/stream?limit=8&q=%s\"" % urllib.parse.quote(q) for q in sys.argv[1:]))' "${QUERIES[@]}")

for f in plain filtered; do
    if [ $f = plain ]; then bodies=$(aza_bodies '{}' "${QUERIES[@]}"); else
        bodies=$(aza_bodies '{"inStock": true, "maxPrice": 60000}' "${QUERIES[@]}"); fi
    cat >"$work/aza-$f.lua" <<EOF
local bodies = { $bodies }
local i = 0
request = function()
    i = i % #bodies + 1
    return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, bodies[i])
end
EOF
done
cat >"$work/nonsense.lua" <<EOF
request = function()
    return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"},
                      '{"query": "$NONSENSE", "limit": 8}')
end
EOF
cat >"$work/ps.lua" <<EOF
local paths = { $ps_paths }
local i = 0
request = function()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
EOF

# Every query answers with a complete event before anything is timed.
for b in "${QUERIES[@]}" "$NONSENSE"; do
    body=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "limit": 8}))' "$b")
    events=$(curl -sN -X POST -H 'Content-Type: application/json' --data "$body" "$URL/aza/search/stream")
    grep -q '^event: complete' <<<"$events" || { echo "bench: no complete event for: $b" >&2; exit 1; }
done
# Where the time goes, per query: 5 sequential requests to the normal twin
# (one at a time, nothing else running), medians of the server's own timings.
per_query=$(/usr/bin/python3 - "$URL" "${QUERIES[@]}" "$NONSENSE" <<'PY'
import json, statistics, sys, urllib.request
url, queries = sys.argv[1], sys.argv[2:]
print("| query | total | semantic / text shown | fallback | candidates (rounds) | duration ms | embedding | semantic_search | text_search_fallback | scoring |")
print("|---|---|---|---|---|---|---|---|---|---|")
for q in queries:
    body = {"query": q, "limit": 8}
    runs = []
    for _ in range(5):
        req = urllib.request.Request(url + "/aza/search", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        runs.append(json.load(urllib.request.urlopen(req)))
    d = runs[-1]
    sem = [s for s in d["steps"] if s["step"] == "semantic_search"][-1]
    med = lambda k: statistics.median(r["timings"][k] for r in runs)
    print("| `%s` | %s | %s / %s | %s | %s (%s) | %s | %s | %s | %s | %s |" % (
        q, d["total"], d["semanticCount"], d["textCount"], d["fallback"] or "–", sem.get("candidates", "–"),
        sem.get("rounds", "–"), statistics.median(r["duration"] for r in runs), med("embeddingMs"),
        med("semanticMs"), med("textMs"), med("scoringMs")))
PY
)

run_wrk() {
    local name=$1 conns=$2 script=$3 path=$4 out
    out=$(wrk -t1 -c"$conns" -d"$DURATION" --latency -s "$script" "$URL$path")
    wrk_record "$name" "$out"
    echo "$name: ${RPS[$name]} req/s, p50 ${P50[$name]}, p99 ${P99[$name]}, non-2xx ${NON2XX[$name]}"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# warm-up: page cache for the index and the tables, the workers' connections
wrk -t1 -c2 -d3s -s "$work/aza-plain.lua" "$URL/aza/search/stream" >/dev/null
wrk -t1 -c2 -d2s -s "$work/ps.lua" "$URL/" >/dev/null
NAMES=()
for c in 1 2; do
    run_wrk "aza-stream-c$c" "$c" "$work/aza-plain.lua" /aza/search/stream; NAMES+=("aza-stream-c$c")
    run_wrk "aza-normal-c$c" "$c" "$work/aza-plain.lua" /aza/search; NAMES+=("aza-normal-c$c")
    run_wrk "product-search-c$c" "$c" "$work/ps.lua" /; NAMES+=("product-search-c$c")
done
run_wrk "aza-filtered-c1" 1 "$work/aza-filtered.lua" /aza/search/stream; NAMES+=("aza-filtered-c1")
run_wrk "aza-fallback-c1" 1 "$work/nonsense.lua" /aza/search/stream; NAMES+=("aza-fallback-c1")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- fcgi common handlers index 2>/dev/null | grep -q . && echo " (+ uncommitted changes)" || true)
row() { echo "| $2 | $3 | ${RPS[$1]} | ${P50[$1]} | ${P99[$1]} | ${NON2XX[$1]} |"; }

conf_val() { awk -F' *= *' -v k="$1" 'tolower($1) == k {v=$2} END {print v}' "$CONF"; }

mkdir -p "$(dirname "$OUT")"
{
    echo "# Aza search benchmark"
    echo
    echo "Written by \`bench/run-aza.sh\`. wrk (1 thread, c connections) through a"
    echo "private nginx (shipped site config) to troika-fcgi with $WORKERS workers over a"
    echo "unix socket, log level INFO, a private MariaDB, builtin embedder. Each run"
    echo "lasts $DURATION and takes product search's ${#QUERIES[@]} shopper queries"
    echo "([bench/search-queries.txt](../search-queries.txt)) in turn, limit 8;"
    echo "GET /api/products/search/stream gets the same queries on the same stack in"
    echo "the same minutes, so the two routes compare under the same load. Product"
    echo "search's own figures: [search.md](search.md). Load and server share the"
    echo "machine's 2 cores: these are relative figures."
    echo
    echo "## Set-up"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); troika commit $commit$dirty"
    echo "- cores (nproc): $(nproc); CPU: $cpu; kernel: $(uname -sr)"
    echo "- catalog: $PRODUCTS generated products (gen-catalog --seed 1), generated and"
    echo "  imported in $import_s s; build-index in $index_s s:"
    echo "  $index_line"
    echo "- config as shipped: aza_min_score $(conf_val aza_min_score), aza_candidates $(conf_val aza_candidates),"
    echo "  search_nprobe $(conf_val search_nprobe) (0: the index's default), max_requests $(conf_val max_requests)"
    echo "- MariaDB innodb_buffer_pool_size 512M (holds the catalog)"
    echo "- load average (1/5/15 min) before the runs: $load_before; after: $load_after"
    echo "  (other work on the machine competes with wrk, nginx, MariaDB and the app)"
    echo
    echo "## Latency through nginx"
    echo
    echo "| route | c | requests/s | p50 | p99 | non-2xx |"
    echo "|---|---|---|---|---|---|"
    for c in 1 2; do
        row "aza-stream-c$c" "POST /aza/search/stream" "$c"
        row "aza-normal-c$c" "POST /aza/search" "$c"
        row "product-search-c$c" "GET /api/products/search/stream" "$c"
    done
    row aza-filtered-c1 "POST /aza/search/stream, the same queries with filters inStock true, maxPrice 60000" 1
    row aza-fallback-c1 "POST /aza/search/stream, \`$NONSENSE\` only (text fallback every time)" 1
    echo
    echo "## Per query"
    echo
    echo "One request at a time to POST /aza/search, median of 5; milliseconds as the"
    echo "server measured them (\`complete.duration\` and \`timings\`)."
    echo
    echo "$per_query"
    wrk_raw_section "${NAMES[@]}"
} >"$OUT"
echo "bench: wrote $OUT"
