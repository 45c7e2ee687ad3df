#!/usr/bin/python3
"""Starts a private Troika stack (MariaDB + troika-fcgi + nginx) for a benchmark.

It reuses the integration harness (test/integration/harness.py), writes the
stack's ports and pids as JSON to --state once it answers, and keeps it up
until SIGTERM, SIGINT or end of standard input; then it tears it all down.

    bench/stack.py --workers 2 --state /tmp/s.json [--set key=value ...]

Imported (`import stack` from a bench/ script), it is the benchmarks' shared
set-up: a private MariaDB with a larger buffer pool, and the percentile table
rows and machine facts the results files print.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
import harness  # noqa: E402


class BenchDB(harness.MariaDB):
    """The harness's MariaDB, with an innodb_buffer_pool_size (e.g. "512M")
    that holds a large catalog as a production server would: the tests' 32 MB
    pool measures the disk, not the app. buffer_pool None keeps the harness's."""

    def __init__(self, base_dir, buffer_pool=None):
        super().__init__(base_dir)
        self.buffer_pool = buffer_pool

    def _common_args(self):
        extra = ["--innodb-buffer-pool-size=" + self.buffer_pool] if self.buffer_pool else []
        return super()._common_args() + extra


def start_db(prefix, buffer_pool=None):
    """A private MariaDB in a new temp folder (its .tmp), started, with the
    schema; stop_db ends it and removes the folder."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    db = BenchDB(tmp, buffer_pool)
    db.tmp = tmp
    try:
        db.start()
        db.setup()
    except BaseException:
        stop_db(db)
        raise
    return db


def stop_db(db):
    db.stop()
    shutil.rmtree(db.tmp, ignore_errors=True)


def pct(xs, p):
    """The p-th percentile of xs, interpolated; nan for none."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


HEAD = "| measure (ms) | n | min | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|"


def row(name, xs, scale=1000.0):
    """A HEAD table row for the times xs (seconds, shown in ms by scale)."""
    ms = [x * scale for x in xs]
    if not ms:
        return "| %s | 0 | | | | | |" % name
    return "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
        name, len(ms), min(ms), pct(ms, 50), pct(ms, 90), pct(ms, 99), max(ms))


def git_head():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode().strip()
    except OSError:
        return "?"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--state", required=True, help="where to write the stack's ports and pids (JSON)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a troika.conf override (repeatable)")
    ap.add_argument("--watch-stdin", action="store_true", help="also stop at end of standard input")
    ap.add_argument("--db-buffer-pool", metavar="SIZE",
                    help="innodb_buffer_pool_size of the private MariaDB (the harness's is 32M, too small "
                         "to hold a large catalog), e.g. 512M")
    args = ap.parse_args()

    # Production-like defaults: INFO logging, not the tests' DEBUG.
    overrides = {"log_level": "INFO"}
    for kv in args.set:
        k, _, v = kv.partition("=")
        overrides[k.strip()] = v.strip()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    if args.watch_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    db = start_db("troika-bench-db-", args.db_buffer_pool) if args.db_buffer_pool else None
    try:
        stack = harness.Stack(workers=args.workers, overrides=overrides, db=db).start()
    except BaseException:
        if db is not None:
            stop_db(db)
        raise
    try:
        state = {
            "port": stack.port,
            "url": "http://127.0.0.1:%d" % stack.port,
            "master": stack.app.master_pid,
            "workers": stack.app.worker_pids(),
            "nginx_master": stack.nginx.proc.pid,
            "nginx_workers": harness.children_of(stack.nginx.proc.pid),
            "mariadbd": stack.db.proc.pid,
            "tmp": stack.tmp,
            "troika_log": stack.app.log_file,
            "binary": stack.app.binary,
        }
        tmp = args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1)
        os.replace(tmp, args.state)
        print("stack up: %s (troika master %d, workers %s)" % (state["url"], state["master"],
                                                               state["workers"]), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        stack.close()
        if db is not None:
            stop_db(db)


if __name__ == "__main__":
    main()
