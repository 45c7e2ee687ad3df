#!/usr/bin/python3
"""Instructions per request (callgrind Ir inside wk_handle), by route.

Starts a private MariaDB (the integration harness's), then for each route a
troika-fcgi --single under `valgrind --tool=callgrind --toggle-collect=wk_handle`,
sends one warm-up request (lazy opens: database, tokenizer), zeroes the
counters, sends N requests with cgi-fcgi and prints Ir / N.

    bench/req_callgrind.py [--binary ./troika-fcgi] [--label NAME] [--n 100]

Needs valgrind, cgi-fcgi and mariadbd. Deterministic enough to compare two
builds of the same tree (the figures of bench/results/review.md).
"""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
import harness  # noqa: E402

ROUTES = [
    ("health", "GET", "/api/health", "", None),
    ("selftest-json", "GET", "/api/selftest", "n=5&interval_ms=0", None),
    ("selftest-sse", "GET", "/api/stream/selftest", "n=5&interval_ms=0", None),
    ("chat-json", "POST", "/api/chat/query", "",
     json.dumps({"query": "what are the terms", "chatbotId": "bot1"})),
]


def run_route(tmp, db, binary, route, n):
    name, method, path, qs, body = route
    overrides = {"log_level": "INFO", "max_requests": "0", "streaming_rate_limit": "1000",
                 "rate_limit_table_size": "64"}
    rank = harness.rank_file()
    if rank:
        overrides["tokenizer_file"] = rank
    t = harness.Troika(os.path.join(tmp, name), db=db, workers=1, overrides=overrides, binary=binary)
    out = os.path.join(tmp, name + ".cg")
    err = open(os.path.join(tmp, name + ".err"), "w")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                          "--toggle-collect=wk_handle", binary, "-c", t.conf_path, "--single"],
                         env=t.environ(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        harness.wait_for(lambda: os.path.exists(t.socket), 60, "troika-fcgi under valgrind")
        env = dict(REQUEST_METHOD=method, REQUEST_URI=path + ("?" + qs if qs else ""), QUERY_STRING=qs,
                   REMOTE_ADDR="10.0.0.1", SERVER_PROTOCOL="HTTP/1.1", PATH=os.environ["PATH"])
        if body is not None:
            env.update(CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)))

        def one():
            r = subprocess.run(["cgi-fcgi", "-bind", "-connect", t.socket], env=env,
                               input=(body or "").encode(), capture_output=True, check=True)
            return r.stdout.split(b"\r\n")[0].decode(errors="replace")

        one()
        subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True, check=True)
        status = ""
        for _ in range(n):
            status = one()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(60)
    total = 0
    for f in glob.glob(out + "*"):
        with open(f) as fh:
            for line in fh:
                if line.startswith(("summary:", "totals:")):
                    total = max(total, int(line.split()[1]))
    return total / n, status


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "troika-fcgi"))
    ap.add_argument("--label", default="this build")
    ap.add_argument("--n", type=int, default=100)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="troika-cg")
    db = harness.MariaDB(tmp)
    try:
        db.start()
        db.setup()
        for route in ROUTES:
            ir, status = run_route(tmp, db, os.path.abspath(a.binary), route, a.n)
            print("%-14s %-12s Ir/request=%8.0f  (%s)" % (route[0], a.label, ir, status), flush=True)
    finally:
        db.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
