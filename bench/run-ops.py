#!/usr/bin/python3
"""Operations benchmark (issue 8): throughput of a limited streaming route
through a private nginx with the rate limiter off, on (admitting), and on
(refusing with 429), plus the limiter's own decision cost (bench/rl_bench).
Writes bench/results/ops.md. A benchmark, not a test.

    bench/run-ops.py            (after make and make bench/rl_bench)
Environment: BENCH_DURATION (10s), BENCH_CONNECTIONS (8), BENCH_THREADS (2),
TROIKA_FCGI (the binary).
"""

import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
os.environ.setdefault("TROIKA_FCGI", os.path.join(ROOT, "troika-fcgi"))
import harness  # noqa: E402
from stack import cpu_model  # noqa: E402

DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNS = os.environ.get("BENCH_CONNECTIONS", "8")
THREADS = os.environ.get("BENCH_THREADS", "2")
PATH = "/api/stream/selftest?n=1&interval_ms=0"

CASES = [
    ("limiter off (client whitelisted)", {"streaming_rate_whitelist": "127.0.0.1"}),
    ("limiter on, admitting (limit 100000 / 1 s)",
     {"streaming_rate_whitelist": "", "streaming_rate_limit": "100000", "streaming_window_ms": "1000",
      "rate_limit_table_size": "16"}),
    ("limiter on, refusing (limit 1 / 1 h: 429s)",
     {"streaming_rate_whitelist": "", "streaming_rate_limit": "1", "streaming_window_ms": "3600000"}),
]


def wrk(port):
    out = subprocess.run(["wrk", "-t", THREADS, "-c", CONNS, "-d", DURATION, "--latency",
                          "http://127.0.0.1:%d%s" % (port, PATH)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True).stdout.decode()
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, lat.get("50", "?"), lat.get("99", "?"), int(non2xx.group(1)) if non2xx else 0, total


def main():
    rows = []
    for name, overrides in CASES:
        ov = {"log_level": "INFO", "max_requests": "0"}
        ov.update(overrides)
        with harness.Stack(workers=2, overrides=ov) as st:
            wrk_warm = subprocess.run(["wrk", "-t", "1", "-c", "2", "-d", "2s",
                                       "http://127.0.0.1:%d%s" % (st.port, PATH)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            del wrk_warm
            rps, p50, p99, non2xx, total = wrk(st.port)
            rows.append((name, rps, p50, p99, non2xx, total))
            print("%-45s %9.0f req/s  p50 %s  p99 %s  non-2xx %d/%d" % (name, rps, p50, p99, non2xx, total))
    micro = subprocess.run([os.path.join(ROOT, "bench", "rl_bench")], stdout=subprocess.PIPE,
                           check=True).stdout.decode()
    print(micro)
    cpu = cpu_model()
    out = os.path.join(ROOT, "bench", "results", "ops.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write("# Operations benchmark (rate limiter)\n\n")
        f.write("Recorded %s on %s, %d cores (%s), Linux %s. `bench/run-ops.py`: troika-fcgi with 2 workers "
                "behind a private nginx (worker_processes auto), wrk -t%s -c%s -d%s on `GET %s` "
                "(a limited SSE route: connected, 1 progress, complete, close). One run each; "
                "the machine is shared with other work, so differences under ~5%% are noise.\n\n"
                % (time.strftime("%Y-%m-%d"), platform.node(), os.cpu_count(), cpu, platform.release(),
                   THREADS, CONNS, DURATION, PATH))
        f.write("| case | req/s | p50 | p99 | non-2xx / total |\n|---|---:|---:|---:|---:|\n")
        for name, rps, p50, p99, non2xx, total in rows:
            f.write("| %s | %.0f | %s | %s | %d / %d |\n" % (name, rps, p50, p99, non2xx, total))
        f.write("\nLimiter decision cost (`bench/rl_bench`, 2,000,000 decisions per case, table in a "
                "MAP_SHARED mapping, one robust process-shared mutex, the monotonic clock read under "
                "the lock):\n\n```\n%s```\n" % micro)
    print("wrote", out)


if __name__ == "__main__":
    main()
