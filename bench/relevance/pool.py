#!/usr/bin/python3
"""Judging aid: the candidate pool of each query, to grade by reading.

For the queries of a judgments file (or a draft of them: the same JSON, with
or without grades) it asks the three systems of run.py for their first
--depth products, adds the products whose text contains every word of the
query's --grep pattern (optional per query: "grep": "regex"), and prints
each candidate with its grade so far ("?" when not judged yet) and the facts
a judge reads: category, brand, title, colours, tags, price. Judge the "?"
lines, then write the grades into the judgments file.

    bench/relevance/pool.py --catalog real [--queries FILE] [--only ID,...]
                            [--depth 30] [--state STACK.json]

--state reuses a stack started by bench/stack.py (with the catalog already
imported and indexed) instead of starting one.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402
import harness  # noqa: E402  (run put test/integration on the path)


class StateStack:
    """Enough of harness.Stack to ask a stack bench/stack.py started."""

    def __init__(self, state_path):
        with open(state_path) as f:
            st = json.load(f)
        self.port = st["port"]
        self.db = harness.MariaDB(st["tmp"])

    def get(self, path, headers=None, timeout=15):
        return harness.http_request("127.0.0.1", self.port, "GET", path, None, headers, timeout)


def facts(p):
    return "%-13s | %-20.20s | %s | %s %s | %s" % (
        p["category"], p.get("designer") or "", p["title"], p.get("colors") or [],
        p.get("tags") or [], p["price"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", choices=("real", "generated"), required=True)
    ap.add_argument("--queries", help="judgments or draft file (default: the set's judgments)")
    ap.add_argument("--only", help="comma-separated query ids")
    ap.add_argument("--depth", type=int, default=30)
    ap.add_argument("--state", help="a bench/stack.py state file of a running stack")
    ap.add_argument("--catalog-file", help="the catalog imported into --state's stack")
    args = ap.parse_args()

    j = run.load_judgments(args.queries or run.SETS[args.catalog])
    keys = j.get("keys", "sku")
    queries = j["queries"]
    if args.only:
        want = set(args.only.split(","))
        queries = [q for q in queries if q["id"] in want]

    if args.state:
        stack = StateStack(args.state)
        path = args.catalog_file or (run.real_catalog_path() if args.catalog == "real" else None)
        if not path:
            ap.error("--catalog-file is required with --state for the generated set")
        answers = {"troika": {q["id"]: run.search_troika(stack, q["q"], args.depth)[0] for q in queries},
                   "fulltext": run.search_fulltext(stack, queries, args.depth),
                   "minisearch": run.search_minisearch(path, queries, "/tmp", args.depth)}
        products = run.read_catalog(path)
    else:
        path = run.real_catalog_path() if args.catalog == "real" else None
        with run.SetRun(args.catalog, j, path) as sr:
            answers, _ = sr.ask(run.SYSTEMS, args.depth, queries)
            products = run.read_catalog(sr.catalog_path)
    by_sku = {p["sku"]: p for p in products}

    for q in queries:
        pool = {}
        for s in run.SYSTEMS:
            for rank, sku in enumerate(answers[s].get(q["id"], []), 1):
                pool.setdefault(sku, {})[s] = rank
        if q.get("grep"):
            rx = re.compile(q["grep"], re.I)
            for p in products:
                text = " ".join([p["title"], p.get("description") or "", p["category"],
                                 p.get("designer") or "", " ".join(p.get("colors") or []),
                                 " ".join(p.get("tags") or [])])
                if rx.search(text):
                    pool.setdefault(p["sku"], {})["grep"] = 1
        for key, g in q.get("grades", {}).items():
            if g > 0:
                for p in products:
                    if run.sku_key(p["sku"], keys) == key:
                        pool.setdefault(p["sku"], {})
        print("== %s [%s] %s  (%d candidates)" % (q["id"], q["kind"], q["q"], len(pool)))
        for sku, where in sorted(pool.items(), key=lambda kv: min(kv[1].values() or [99])):
            g = q.get("grades", {}).get(run.sku_key(sku, keys), "?")
            ranks = " ".join("%s%s" % (s[0], where[s]) for s in run.SYSTEMS if s in where)
            print("  %s %-14s %-12s %s" % (g, sku, ranks, facts(by_sku[sku])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
