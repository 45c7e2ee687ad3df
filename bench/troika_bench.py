#!/usr/bin/python3
"""troika_bench.py: the sales agent's builtin path through a private nginx at 100k products.

Builds the catalog the way an operator would (`troika-admin gen-catalog
--count N --seed 1`, `import-products`, `build-index`), then streams a
rotation of shopper messages to POST /api/troika/intelligent-chat/stream
and records, per request, the client's time from sending to the `intent`,
`market` and first `results` event, the first `text` event, and `close`
(end to end). Concurrency 1 (one client, sequential) and 2 (two clients,
two workers). The server's own timings (`complete.timings`) are recorded
beside them. A benchmark, not a test: nothing here fails on a number.

    bench/troika_bench.py [--count 100000] [--runs 200] [--out bench/results/troika.md]
Needs: make (troika-fcgi, troika-admin), nginx, mariadb.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
os.environ.setdefault("TROIKA_FCGI", os.path.join(ROOT, "troika-fcgi"))
import harness  # noqa: E402
from stack import HEAD, git_head, pct, row, start_db, stop_db  # noqa: E402

STREAM = "/api/troika/intelligent-chat/stream"
ADMIN = os.path.join(ROOT, "troika-admin")

# A rotation of what shoppers ask; each is sent as a fresh conversation
# except the follow-ups, which reuse the session of the message before.
MESSAGES = [
    ("I need a red lehenga for my sister's sangeet, budget around 40k, size M", False),
    ("show me in blue instead", True),
    ("silk saree for a wedding under 20000", False),
    ("anything cheaper?", True),
    ("what should I wear to a mehendi?", False),
    ("is the green anarkali available in XL?", False),
    ("kurta for office under 3000 size L", False),
    ("sherwani for my brother's shaadi, size 40", False),
    ("what's the price range for gowns?", False),
    ("compare lehengas vs sharara for sangeet", False),
    ("laal lehenga chahiye 50k tak", False),
    ("namaste", False),
]


def admin(st, *args, timeout=3600):
    t0 = time.monotonic()
    res = subprocess.run([ADMIN, "-c", st.app.conf_path] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=st.app.environ(), timeout=timeout)
    if res.returncode != 0:
        raise SystemExit("troika-admin %s failed (%d): %s" % (args[0], res.returncode, res.stdout.decode()[-2000:]))
    return time.monotonic() - t0, res.stdout.decode()


def one(st, body):
    """One stream: (t_send, {event: first arrival}, t_close, complete data)."""
    t_send = time.monotonic()
    c = st.sse(STREAM, method="POST", body=body, timeout=60)
    first, complete, sid, last = {}, None, None, None
    try:
        while True:
            e = c.next_event()
            if e is None:
                break
            last = e
            first.setdefault(e.event, e.t)
            if e.event == "connected":
                sid = e.json()["sessionId"]
            elif e.event == "complete":
                complete = e.json()
            elif e.event == "error":
                raise SystemExit("stream failed: %s" % e.data)
    finally:
        c.close()
    return t_send, first, last.t, complete, sid


def client(st, runs, warm, out, lock, offset=0):
    sid = None
    for i in range(warm + runs):
        msg, follow = MESSAGES[(i + offset) % len(MESSAGES)]
        body = {"message": msg}
        if follow and sid:
            body["sessionId"] = sid
        t_send, first, t_end, complete, sid = one(st, body)
        if i < warm:
            continue
        with lock:
            out["per_message"].setdefault(msg, []).append((t_end - t_send, first.get("market"), t_send))
            out["end_to_end"].append(t_end - t_send)
            out["first_text"].append(first["text"] - t_send)
            out["intent"].append(first["intent"] - t_send)
            if "market" in first:
                out["market"].append(first["market"] - t_send)
            if "results" in first:
                out["first_results"].append(first["results"] - t_send)
            tm = complete["timings"]
            out["srv_duration"].append(complete["duration"] / 1000.0)
            out["srv_intent"].append(tm["intentMs"] / 1000.0)
            if tm.get("marketMs") is not None:
                out["srv_market"].append(tm["marketMs"] / 1000.0)
            if tm.get("firstResultsMs") is not None:
                out["srv_results"].append(tm["firstResultsMs"] / 1000.0)


def run(st, clients, runs, warm):
    keys = ("end_to_end", "first_text", "intent", "market", "first_results", "srv_duration", "srv_intent",
            "srv_market", "srv_results")
    out = {k: [] for k in keys}
    out["per_message"] = {}
    lock = threading.Lock()
    ths = [threading.Thread(target=client, args=(st, runs // clients, warm, out, lock, k * 5)) for k in range(clients)]
    t0 = time.monotonic()
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return out, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=240)
    ap.add_argument("--warm", type=int, default=12)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "troika.md"))
    args = ap.parse_args()
    load0 = open("/proc/loadavg").read().split()[:3]
    # A buffer pool that holds the 100k catalog (~170 MB of data and indexes).
    db = start_db("troika-bench-", "256M")
    st = harness.Stack(workers=2, overrides={"log_level": "INFO"}, db=db).start()
    try:
        cat = os.path.join(db.tmp, "catalog.jsonl")
        t_gen, _ = admin(st, "gen-catalog", "--count", str(args.count), "--seed", "1", "--out", cat)
        t_imp, imp_out = admin(st, "import-products", cat)
        t_idx, _ = admin(st, "build-index")
        print("catalog: gen %.1f s, import %.1f s, build-index %.1f s" % (t_gen, t_imp, t_idx), flush=True)
        load1 = open("/proc/loadavg").read().split()[:3]
        c1, wall1 = run(st, 1, args.runs, args.warm)
        print("c=1 done: p50 %.1f ms" % (pct(c1["end_to_end"], 50) * 1000), flush=True)
        c2, wall2 = run(st, 2, args.runs, args.warm)
        print("c=2 done: p50 %.1f ms" % (pct(c2["end_to_end"], 50) * 1000), flush=True)
        load2 = open("/proc/loadavg").read().split()[:3]
    finally:
        st.close()
        stop_db(db)

    lines = [
        "# Troika sales agent benchmark (`bench/troika_bench.py`)",
        "",
        "What: POST /api/troika/intelligent-chat/stream through a private nginx",
        "(harness stack: nginx, troika-fcgi with 2 workers, MariaDB 10.11 with a",
        "256 MB buffer pool that holds the catalog), builtin intent, builtin LLM (composed answer",
        "streamed word by word), TTS off, at %d generated products" % args.count,
        "(`troika-admin gen-catalog --count %d --seed 1`, imported, indexed with" % args.count,
        "`build-index`, so product matching runs text and vector search). A",
        "rotation of %d shopper messages (product searches, a follow-up in the same" % len(MESSAGES),
        "session, advice, price and availability questions, Hinglish, a greeting),",
        "each a new stream. Times are from the client's send to the first",
        "arrival of each event (client clock), and the server's own `complete.timings`",
        "(from the request's start in the worker).",
        "",
        "Run: %s UTC, commit %s, %s, %s; load average before %s, after setup %s, after %s (2 cores, shared"
        % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), git_head(), platform.node() or "?",
           platform.platform(), " ".join(load0), " ".join(load1), " ".join(load2)),
        "with other engineers' builds: p50 is the robust figure).",
        "",
        "## Catalog setup",
        "",
        "| step | seconds |",
        "|---|---|",
        "| gen-catalog | %.1f |" % t_gen,
        "| import-products | %.1f |" % t_imp,
        "| build-index | %.1f |" % t_idx,
        "",
        "## Concurrency 1 (%d streams, %.1f s)" % (len(c1["end_to_end"]), wall1),
        "",
        HEAD,
        row("end to end (send -> close)", c1["end_to_end"]),
        row("time to `intent`", c1["intent"]),
        row("time to `market`", c1["market"]),
        row("time to first `results`", c1["first_results"]),
        row("time to first `text`", c1["first_text"]),
        row("server: duration", c1["srv_duration"]),
        row("server: intent", c1["srv_intent"]),
        row("server: market", c1["srv_market"]),
        row("server: first results", c1["srv_results"]),
        "",
        "Per message (concurrency 1):",
        "",
        "| message | n | end to end p50 (ms) | time to `market` p50 (ms) |",
        "|---|---|---|---|",
    ] + ["| %s%s | %d | %.1f | %s |" % (m, " (same session)" if f else "", len(c1["per_message"].get(m, [])),
                                        pct([x[0] for x in c1["per_message"].get(m, [])], 50) * 1000,
                                        "%.1f" % (pct([x[1] - x[2] for x in c1["per_message"].get(m, []) if x[1]], 50) * 1000)
                                        if any(x[1] for x in c1["per_message"].get(m, [])) else "no market")
         for m, f in MESSAGES] + [
        "",
        "## Concurrency 2 (%d streams, %.1f s, %.1f streams/s)" % (len(c2["end_to_end"]), wall2,
                                                                   len(c2["end_to_end"]) / wall2),
        "",
        HEAD,
        row("end to end (send -> close)", c2["end_to_end"]),
        row("time to `intent`", c2["intent"]),
        row("time to `market`", c2["market"]),
        row("time to first `results`", c2["first_results"]),
        row("time to first `text`", c2["first_text"]),
        row("server: duration", c2["srv_duration"]),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
