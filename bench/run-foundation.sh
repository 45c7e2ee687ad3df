#!/usr/bin/env bash
# Foundation baseline: wrk through a private nginx against GET /api/health and
# a short selftest stream (n=3, interval_ms=0: connected, 3 progress,
# complete, close), troika-fcgi with 2 workers.
# Records requests/s, p50/p99 and per-process RSS/PSS (smaps_rollup) with the
# machine's description in bench/results/foundation.md. A benchmark, not a
# test: the figures are for later issues to compare against.
#
#   bench/run-foundation.sh            (after make; uses ./troika-fcgi)
# Environment: BENCH_DURATION (10s), BENCH_CONNECTIONS (8), BENCH_THREADS (2),
# TROIKA_FCGI (binary), BENCH_OUT (result file).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
ROOT=$PWD
. bench/stack.sh
export TROIKA_FCGI=${TROIKA_FCGI:-$ROOT/troika-fcgi}
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-8}
THREADS=${BENCH_THREADS:-2}
OUT=${BENCH_OUT:-$ROOT/bench/results/foundation.md}
WORKERS=2
export PATH="$PATH:/usr/sbin:/sbin"

[ -x "$TROIKA_FCGI" ] || { echo "bench: $TROIKA_FCGI not built (run make)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk not installed (apt-get install wrk)" >&2; exit 1; }

stack_up "$(mktemp -d /tmp/troika-bench-XXXXXX)" --workers "$WORKERS"
MASTER=$(js master)

# children PID: live child pids (workers are recycled after max_requests,
# so they are looked up each time)
children() {
    local f
    for f in /proc/[0-9]*/stat; do
        awk -v p="$1" '{ sub(/^.*\) /, ""); if ($2 == p && $1 != "Z") print FILENAME }' "$f" 2>/dev/null
    done | sed 's|/proc/\([0-9]*\)/stat|\1|' | sort -n
}

code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/health")
[ "$code" = 200 ] || { echo "bench: /api/health answered $code, not 200" >&2; exit 1; }

# mem PID: "RSS PSS" in KiB from smaps_rollup
mem() { awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {printf "%d %d", r, p}' "/proc/$1/smaps_rollup"; }

mem_table() {
    local pid r p
    echo "| process | pid | RSS KiB | PSS KiB |"
    echo "|---|---|---|---|"
    read -r r p <<<"$(mem "$MASTER")"; echo "| troika master | $MASTER | $r | $p |"
    for pid in $(children "$MASTER"); do
        read -r r p <<<"$(mem "$pid")"; echo "| troika worker | $pid | $r | $p |"
    done
}

run_wrk() {
    local name=$1 path=$2 out
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$URL$path")
    wrk_record "$name" "$out"
    echo "$name: ${RPS[$name]} req/s, p50 ${P50[$name]}, p99 ${P99[$name]}, non-2xx ${NON2XX[$name]}"
}

mem_idle=$(mem_table)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
SSE_PATH='/api/stream/selftest?n=3&interval_ms=0'
# warm-up (connections, page cache, the workers' DB connections)
wrk -t1 -c2 -d2s "$URL/api/health" >/dev/null
run_wrk health /api/health
run_wrk selftest "$SSE_PATH"
# A worker may have just been recycled: let the pool settle and serve a few
# requests before reading memory again.
for _ in $(seq 50); do
    [ "$(children "$MASTER" | wc -l)" -eq "$WORKERS" ] && break
    sleep 0.1
done
for _ in $(seq 20); do curl -s -o /dev/null "$URL/api/health"; done
mem_loaded=$(mem_table)

events=$(curl -sN "$URL$SSE_PATH" | grep -c '^event:')
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
memtotal=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- fcgi common handlers index 2>/dev/null | grep -q . && echo " (+ uncommitted changes)" || true)
ngx_ver=$(nginx -v 2>&1 | sed 's/^nginx version: nginx.//')
db_ver=$(mariadbd --version | awk '{print $3}')

mkdir -p "$(dirname "$OUT")"
{
    echo "# Foundation baseline"
    echo
    echo "Written by \`bench/run-foundation.sh\`. wrk through a private nginx"
    echo "(shipped site config, \`worker_processes auto\`) to troika-fcgi over a unix"
    echo "socket, $WORKERS workers (recycled every max_requests = $(awk -F' *= *' 'tolower($1) == "max_requests" {v=$2} END {print v}' "$(js tmp)/troika/troika.conf")"
    echo "requests, as shipped), log level INFO, a private MariaDB. Load and server share"
    echo "the machine's cores, so these are relative figures: compare runs on the same kind"
    echo "of machine."
    echo
    echo "## Machine"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- cores (nproc): $(nproc); CPU: $cpu"
    echo "- memory: $memtotal; kernel: $(uname -sr)"
    echo "- nginx $ngx_ver, MariaDB $db_ver, wrk $(wrk -v 2>&1 | head -n 1 | awk '{print $2}')"
    echo "- troika commit $commit$dirty"
    echo "- load average (1/5/15 min) before the runs: $load_before (anything above 0 is"
    echo "  other work on the machine competing with wrk, nginx and the app)"
    echo
    echo "## Throughput and latency"
    echo
    echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency"
    echo
    echo "| route | requests/s | p50 | p99 | non-2xx |"
    echo "|---|---|---|---|---|"
    echo "| GET /api/health | ${RPS[health]} | ${P50[health]} | ${P99[health]} | ${NON2XX[health]} |"
    echo "| GET $SSE_PATH ($events events) | ${RPS[selftest]} | ${P50[selftest]} | ${P99[selftest]} | ${NON2XX[selftest]} |"
    echo
    echo "## Memory of troika-fcgi"
    echo
    echo "From /proc/PID/smaps_rollup. PSS divides shared pages among the processes"
    echo "that map them, so the PSS column adds up to the pool's real footprint."
    echo
    echo "Idle, after start-up:"
    echo
    echo "$mem_idle"
    echo
    echo "After the runs above:"
    echo
    echo "$mem_loaded"
    wrk_raw_section health selftest
} >"$OUT"
echo "bench: wrote $OUT"
