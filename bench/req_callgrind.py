#!/usr/bin/python3
"""Instructions per request (callgrind Ir inside the request's calls), by route.

Starts a private MariaDB (the integration harness's) holding a generated
catalog (troika-admin gen-catalog --count 2000 --seed 1, imported, and its
vector index built, by --admin: the same data for every binary compared),
then for each route a troika-fcgi --single under `valgrind --tool=callgrind`
collecting inside the calls of one request (COLLECT), sends one warm-up
request (lazy opens: database, tokenizer, index), zeroes the counters,
sends N requests with cgi-fcgi and prints Ir / N. Routes: health, selftest
(JSON and SSE), a product search (JSON and SSE: text + vector + filters +
ranking) and chat (JSON, builtin LLM).

    bench/req_callgrind.py [--binary ./troika-fcgi] [--admin ./troika-admin]
                           [--label NAME] [--n 100] [--only ROUTE,...]

The config is conf/troika.conf of the binary's own tree when it has one
(an older build may not know a newer key), else this tree's. Needs
valgrind, cgi-fcgi and mariadbd. Deterministic enough to compare two
builds (the figures of bench/results/review.md).
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

# What one request costs: the calls wk_handle makes (it is static and the
# compiler inlines it into wk_run, so callgrind cannot toggle on it). None of
# them calls another, so each toggles collection on at entry and off at exit.
COLLECT = os.environ.get("TROIKA_CG_COLLECT", "req_init,op_client_ip,rt_match,op_request_begin,sink_init,"
                                              "rt_dispatch,op_request_end").split(",")
SEARCH_QS = "q=red+silk+lehenga+size+M+under+50000&limit=8"

ROUTES = [
    ("health", "GET", "/api/health", "", None),
    ("selftest-json", "GET", "/api/selftest", "n=5&interval_ms=0", None),
    ("selftest-sse", "GET", "/api/stream/selftest", "n=5&interval_ms=0", None),
    ("search-json", "GET", "/api/products/search", SEARCH_QS, None),
    ("search-sse", "GET", "/api/products/search/stream", SEARCH_QS, None),
    ("chat-json", "POST", "/api/chat/query", "",
     json.dumps({"query": "what are the terms", "chatbotId": "bot1"})),
]


def load_catalog(tmp, db, admin):
    """The generated catalog imported and indexed once, into index_dir."""
    index_dir = os.path.join(tmp, "index")
    t = harness.Troika(os.path.join(tmp, "admin"), db=db, workers=1, overrides={"index_dir": index_dir})
    catalog = os.path.join(tmp, "catalog.jsonl")
    run = dict(env=t.environ(), stdin=subprocess.DEVNULL, capture_output=True, check=True)
    with open(catalog, "wb") as f:
        f.write(subprocess.run([admin, "gen-catalog", "--count", "2000", "--seed", "1"], **run).stdout)
    subprocess.run([admin, "-c", t.conf_path, "import-products", catalog], **run)
    subprocess.run([admin, "-c", t.conf_path, "build-index"], **run)
    return index_dir


def run_route(tmp, db, binary, route, n, index_dir):
    name, method, path, qs, body = route
    overrides = {"log_level": "INFO", "max_requests": "0", "streaming_rate_limit": "1000",
                 "rate_limit_table_size": "64", "index_dir": index_dir}
    rank = harness.rank_file()
    if rank:
        overrides["tokenizer_file"] = rank
    t = harness.Troika(os.path.join(tmp, name), db=db, workers=1, overrides=overrides, binary=binary)
    out = os.path.join(tmp, name + ".cg")
    err = open(os.path.join(tmp, name + ".err"), "w")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] +
                         ["--toggle-collect=" + f for f in COLLECT] + [binary, "-c", t.conf_path, "--single"],
                         env=t.environ(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        harness.wait_for(lambda: os.path.exists(t.socket), 60, "troika-fcgi under valgrind")
        env = dict(REQUEST_METHOD=method, REQUEST_URI=path + ("?" + qs if qs else ""), QUERY_STRING=qs,
                   REMOTE_ADDR="10.0.0.1", SERVER_PROTOCOL="HTTP/1.1", PATH=os.environ["PATH"])
        if body is not None:
            env.update(CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)))

        def one():
            r = subprocess.run(["cgi-fcgi", "-bind", "-connect", t.socket], env=env,
                               input=(body or "").encode(), capture_output=True)
            if r.returncode != 0:
                err.flush()
                raise RuntimeError("%s: cgi-fcgi failed (%d): %s\n%s\n%s" % (
                    name, r.returncode, r.stderr.decode(errors="replace")[-300:],
                    harness.tail(err.name, 30), harness.tail(t.log_file, 10)))
            return r.stdout.split(b"\r\n")[0].decode(errors="replace")

        # The socket file appears at bind(), a moment before listen():
        # under valgrind that moment can be long enough to be refused.
        for attempt in range(20):
            try:
                one()
                break
            except RuntimeError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
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
    ap.add_argument("--admin", default=os.path.join(ROOT, "troika-admin"))
    ap.add_argument("--label", default="this build")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--only", default="", help="comma-separated route names")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    own_conf = os.path.join(os.path.dirname(binary), "conf", "troika.conf")
    if os.path.exists(own_conf):
        harness.BASE_CONF = own_conf
    only = set(filter(None, a.only.split(",")))
    tmp = tempfile.mkdtemp(prefix="troika-cg")
    db = harness.MariaDB(tmp)
    try:
        db.start()
        db.setup()
        index_dir = load_catalog(tmp, db, os.path.abspath(a.admin))
        for route in ROUTES:
            if only and route[0] not in only:
                continue
            ir, status = run_route(tmp, db, binary, route, a.n, index_dir)
            print("%-14s %-12s Ir/request=%8.0f  (%s)" % (route[0], a.label, ir, status), flush=True)
    finally:
        db.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
