#!/usr/bin/python3
"""Starts a private Troika stack (MariaDB + troika-fcgi + nginx) for a benchmark.

It reuses the integration harness (test/integration/harness.py), writes the
stack's ports and pids as JSON to --state once it answers, and keeps it up
until SIGTERM, SIGINT or end of standard input; then it tears it all down.

    bench/stack.py --workers 2 --state /tmp/s.json [--set key=value ...]
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "integration"))
import harness  # noqa: E402


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

    db = None
    if args.db_buffer_pool:
        pool = args.db_buffer_pool

        class BenchDB(harness.MariaDB):
            def _common_args(self):
                return super()._common_args() + ["--innodb-buffer-pool-size=" + pool]
        db_dir = tempfile.mkdtemp(prefix="troika-bench-db-")
        db = BenchDB(db_dir)
        db.tmp = db_dir
        db.start()
        db.setup()
    try:
        stack = harness.Stack(workers=args.workers, overrides=overrides, db=db).start()
    except BaseException:
        if db is not None:
            db.stop()
            shutil.rmtree(db.tmp, ignore_errors=True)
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
            db.stop()
            shutil.rmtree(db.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
