#!/usr/bin/python3
"""Relevance harness: nDCG@10 of Troika's product search against two baselines.

For each judged set (bench/relevance/judgments-*.json: queries by kind, each
with products graded 0/1/2) it starts a private stack (MariaDB + troika-fcgi
+ nginx, the integration harness), imports the set's catalog with
`troika-admin import-products`, builds the index, and asks three systems
the same queries over the same products:

  troika      GET /api/products/search?q=...&limit=10 through nginx
  fulltext    MariaDB NATURAL LANGUAGE MODE FULLTEXT over title, description,
              tags, designer, category (the query a PHP shop would write:
              a prepared statement, ordered by the MATCH score)
  minisearch  MiniSearch (npm, version pinned by package-lock.json) over the
              same fields, fuzzy 0.2, prefix, title/designer/category boosted

Then it writes nDCG@10 per kind and overall, the queries with a relevant
product that got an empty page, and the worst queries of each system to
bench/results/relevance.md. Not a test (test/integration/test_relevance.py
checks the harness itself on the generated set).

Sets: `generated` (troika-admin gen-catalog, the count and seed in its
judgments file) and `real` (the real retailer listings, read from
$TROIKA_REAL_CATALOG or ../shared/data/real-catalog.jsonl beside the
checkout, never copied into the project; when absent the set is skipped
with a message). Run from the build folder after `make`:

    bench/relevance/run.py [--catalog real|generated|both] [--out FILE]

MiniSearch is installed on first use with `npm ci` from the pinned lock
file into ${TROIKA_CACHE_DIR:-~/.cache/troika}/relevance-node-<lock hash>.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
import harness  # noqa: E402

K = 10
SYSTEMS = ("troika", "fulltext", "minisearch")
NAMES = {"troika": "Troika", "fulltext": "MariaDB FULLTEXT", "minisearch": "MiniSearch"}
KINDS = ("keyword", "filters", "typo", "hinglish", "brand", "natural", "noanswer")
KIND_NAMES = {"keyword": "keyword", "filters": "filters in words", "typo": "typo",
              "hinglish": "Hinglish", "brand": "brand", "natural": "natural language",
              "noanswer": "no right answer"}
SETS = {
    "generated": os.path.join(HERE, "judgments-generated.json"),
    "real": os.path.join(HERE, "judgments-real.json"),
}


def real_catalog_path():
    env = os.environ.get("TROIKA_REAL_CATALOG")
    if env:
        return env
    for cand in (os.path.join(ROOT, "..", "..", "shared", "data", "real-catalog.jsonl"),
                 os.path.join(ROOT, "..", "shared", "data", "real-catalog.jsonl"),
                 "/work/shared/data/real-catalog.jsonl"):
        if os.path.isfile(cand):
            return os.path.abspath(cand)
    return os.path.abspath(os.path.join(ROOT, "..", "shared", "data", "real-catalog.jsonl"))


# --------------------------------------------------------------------------
# judgments

def sku_key(sku, keys):
    """How a judgments file names a product: the sku itself, or (for a
    catalog that must not be copied into the project) a hash of it."""
    if keys == "sku":
        return sku
    if keys == "sha256-16":
        return hashlib.sha256(sku.encode("utf-8")).hexdigest()[:16]
    raise ValueError("unknown judgments key scheme %r" % keys)


def load_judgments(path):
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    ids = set()
    for q in j["queries"]:
        if q["kind"] not in KINDS:
            raise ValueError("%s: query %s has unknown kind %r" % (path, q["id"], q["kind"]))
        if q["id"] in ids:
            raise ValueError("%s: duplicate query id %s" % (path, q["id"]))
        ids.add(q["id"])
        for key, g in q["grades"].items():
            if g not in (0, 1, 2):
                raise ValueError("%s: query %s grades %s %r (0, 1 or 2)" % (path, q["id"], key, g))
    return j


def read_catalog(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# --------------------------------------------------------------------------
# the metric

def dcg(gains):
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked_keys, grades, k=K):
    """nDCG@k with gain 2^grade - 1 and a log2(rank + 1) discount; unjudged
    products count as grade 0. A query with no product graded above 0 (only
    "no right answer" queries) scores 1 for an empty page and 0 otherwise:
    the right answer is to show nothing rather than something unrelated."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    if not ideal:
        return 1.0 if not ranked_keys else 0.0
    got = [(2 ** grades.get(key, 0)) - 1 for key in ranked_keys[:k]]
    return dcg(got) / dcg([(2 ** g) - 1 for g in ideal])


# --------------------------------------------------------------------------
# the stack and the three systems

def admin_binary():
    env = os.environ.get("TROIKA_ADMIN")
    if env:
        return os.path.abspath(env)
    return os.path.join(os.path.dirname(harness.find_fcgi_binary()), "troika-admin")


def admin(stack, *args, timeout=900):
    res = subprocess.run([admin_binary(), "-c", stack.app.conf_path] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=stack.app.environ(), timeout=timeout)
    out = res.stdout.decode("utf-8", "replace")
    if res.returncode not in (0, 3):
        raise RuntimeError("troika-admin %s failed (%d):\n%s\n%s" % (
            " ".join(args), res.returncode, out, res.stderr.decode("utf-8", "replace")))
    return out


def search_troika(stack, q, k=K):
    """The skus of Troika's first page, and the response's status."""
    path = "/api/products/search?" + urllib.parse.urlencode({"q": q, "limit": k})
    r = stack.get(path, timeout=60)
    if r.status != 200:
        return [], r.status
    return [p["sku"] for p in r.json().get("products", [])], 200


FT_COLUMNS = "title, description, tags, designer, category"


def search_fulltext(stack, queries, k=K):
    """{id: [sku]}: one prepared NATURAL LANGUAGE MODE statement, executed
    for every query in one client session (the query travels as a hex
    literal, so no quoting is involved)."""
    sql = ["PREPARE ft FROM 'SELECT ?, p.sku FROM products p WHERE MATCH(%s) AGAINST (? IN NATURAL "
           "LANGUAGE MODE) ORDER BY MATCH(%s) AGAINST (? IN NATURAL LANGUAGE MODE) DESC, p.id LIMIT %d';"
           % (FT_COLUMNS, FT_COLUMNS, k)]
    for q in queries:
        sql.append("SET @id = '%s', @q = CONVERT(0x%s USING utf8mb4);" % (
            q["id"], q["q"].encode("utf-8").hex()))
        sql.append("EXECUTE ft USING @id, @q, @q;")
    out = stack.db.query("\n".join(sql), db=harness.MariaDB.DB_NAME).stdout.decode("utf-8")
    res = {q["id"]: [] for q in queries}
    for line in out.splitlines():
        qid, _, sku = line.partition("\t")
        res[qid].append(sku)
    return res


def cache_dir():
    base = os.environ.get("TROIKA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "troika")
    return base


def minisearch_dir():
    """A folder holding minisearch.mjs and its pinned node_modules (npm ci on
    first use; the lock file pins the version and the tarball's hash)."""
    with open(os.path.join(HERE, "package-lock.json"), "rb") as f:
        lock = f.read()
    d = os.path.join(cache_dir(), "relevance-node-" + hashlib.sha256(lock).hexdigest()[:12])
    if not os.path.isfile(os.path.join(d, "node_modules", "minisearch", "package.json")):
        if not shutil.which("npm"):
            raise RuntimeError("npm not found: apt-get install npm (or run ./quickstart test)")
        os.makedirs(d, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(HERE, name), os.path.join(d, name))
        res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=d,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=600)
        if res.returncode != 0:
            raise RuntimeError("npm ci in %s failed:\n%s" % (d, res.stdout.decode("utf-8", "replace")))
    shutil.copy(os.path.join(HERE, "minisearch.mjs"), os.path.join(d, "minisearch.mjs"))
    return d


def search_minisearch(catalog_path, queries, workdir, k=K):
    d = minisearch_dir()
    qpath = os.path.join(workdir, "minisearch-queries.json")
    with open(qpath, "w", encoding="utf-8") as f:
        json.dump([{"id": q["id"], "q": q["q"]} for q in queries], f)
    res = subprocess.run(["node", os.path.join(d, "minisearch.mjs"), catalog_path, qpath, str(k)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=600)
    if res.returncode != 0:
        raise RuntimeError("node minisearch.mjs failed:\n" + res.stderr.decode("utf-8", "replace"))
    return json.loads(res.stdout.decode("utf-8"))


class SetRun:
    """One judged set on its own private stack: start, import, index, ask."""

    def __init__(self, name, judgments, catalog_path=None, workers=2):
        self.name = name
        self.j = judgments
        self.catalog_path = catalog_path
        self.workers = workers
        self.stack = None
        self.tmp = None
        self.timings = {}
        self.notes = []

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="troika-relevance-")
        self.stack = harness.Stack(workers=self.workers, overrides={"log_level": "INFO"}).start()
        try:
            if self.catalog_path is None:
                c = self.j["catalog"]
                self.catalog_path = os.path.join(self.tmp, "catalog.jsonl")
                admin(self.stack, "gen-catalog", "--count", str(c["count"]), "--seed", str(c["seed"]),
                      "--format", "jsonl", "--out", self.catalog_path)
            self.check_catalog()
            t0 = time.monotonic()
            admin(self.stack, "import-products", self.catalog_path)
            self.timings["import_s"] = time.monotonic() - t0
            # InnoDB's NATURAL LANGUAGE relevance divides by the table's row
            # count as its statistics estimate it from sampled pages, so the
            # same products scored differently from one run to the next (and
            # ties broke differently): sample every page, the estimate is then
            # the count.
            self.stack.db.query("SET GLOBAL innodb_stats_persistent_sample_pages = 1000000;\n"
                                "ANALYZE TABLE products;", db=harness.MariaDB.DB_NAME)
            t0 = time.monotonic()
            admin(self.stack, "build-index")
            self.timings["index_s"] = time.monotonic() - t0
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def check_catalog(self):
        """Notes (in self.notes) when the catalog is not the one judged."""
        self.notes = []
        c = self.j["catalog"]
        if c.get("kind") == "generated":
            import judge_generated
            fp = judge_generated.fingerprint(read_catalog(self.catalog_path))
            if fp != c.get("fingerprint"):
                self.notes.append("the generator now writes other products than were judged "
                                  "(run bench/relevance/judge_generated.py and review the diff)")
        elif c.get("sha256"):
            with open(self.catalog_path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != c["sha256"]:
                    self.notes.append("%s differs from the file that was judged" % self.catalog_path)

    def close(self):
        if self.stack is not None:
            self.stack.close()
            self.stack = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def ask(self, systems=SYSTEMS, k=K, queries=None):
        """{system: {query id: [sku]}}, plus Troika's non-200 answers."""
        queries = queries if queries is not None else self.j["queries"]
        out, errors = {}, {}
        if "troika" in systems:
            t0 = time.monotonic()
            out["troika"] = {}
            for q in queries:
                skus, status = search_troika(self.stack, q["q"], k)
                out["troika"][q["id"]] = skus
                if status != 200:
                    errors[q["id"]] = status
            self.timings["troika_s"] = time.monotonic() - t0
        if "fulltext" in systems:
            t0 = time.monotonic()
            out["fulltext"] = search_fulltext(self.stack, queries, k)
            self.timings["fulltext_s"] = time.monotonic() - t0
        if "minisearch" in systems:
            t0 = time.monotonic()
            out["minisearch"] = search_minisearch(self.catalog_path, queries, self.tmp, k)
            self.timings["minisearch_s"] = time.monotonic() - t0
        return out, errors


# --------------------------------------------------------------------------
# scoring and the report

def score_set(j, answers):
    """Per query and system: nDCG@10, relevant in the top 10, empty page."""
    keys = j.get("keys", "sku")
    rows = []
    for q in j["queries"]:
        row = {"id": q["id"], "kind": q["kind"], "q": q["q"],
               "relevant": sum(1 for g in q["grades"].values() if g > 0), "sys": {}}
        for s, ans in answers.items():
            ranked = [sku_key(sku, keys) for sku in ans.get(q["id"], [])]
            row["sys"][s] = {
                "ndcg": ndcg(ranked, q["grades"]),
                "n": len(ranked),
                "hits": sum(1 for key in ranked[:K] if q["grades"].get(key, 0) > 0),
                "unjudged": sum(1 for key in ranked[:K] if key not in q["grades"]),
            }
        rows.append(row)
    return rows


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def summarize(rows, systems):
    """{kind or "overall": {system: mean nDCG}, "n": ...}."""
    out = {}
    for kind in KINDS + ("overall",):
        sel = [r for r in rows if kind == "overall" or r["kind"] == kind]
        if not sel:
            continue
        out[kind] = {"n": len(sel)}
        for s in systems:
            out[kind][s] = mean([r["sys"][s]["ndcg"] for r in sel])
    return out


def empty_pages(rows, s):
    return [r for r in rows if r["relevant"] > 0 and r["sys"][s]["n"] == 0]


def report_set(name, j, rows, systems, timings, errors, notes=()):
    summ = summarize(rows, systems)
    lines = ["## %s catalog" % name, ""]
    for n in notes:
        lines += ["**Warning: %s; the figures below are not comparable.**" % n, ""]
    c = j["catalog"]
    if c.get("kind") == "generated":
        lines.append("`troika-admin gen-catalog --count %d --seed %d`: %d judged queries." % (
            c["count"], c["seed"], len(rows)))
    else:
        lines.append("%s (%s products, read from outside the project): %d judged queries." % (
            c.get("name", name), c.get("products", "?"), len(rows)))
    lines.append("")
    lines.append("| kind | queries | " + " | ".join(NAMES[s] for s in systems) + " |")
    lines.append("|---|---|" + "---|" * len(systems))
    for kind in KINDS + ("overall",):
        if kind not in summ:
            continue
        best = max(summ[kind][s] for s in systems)
        cells = []
        for s in systems:
            v = "%.3f" % summ[kind][s]
            cells.append("**%s**" % v if summ[kind][s] == best and len(systems) > 1 else v)
        label = "**overall**" if kind == "overall" else KIND_NAMES[kind]
        lines.append("| %s | %d | %s |" % (label, summ[kind]["n"], " | ".join(cells)))
    lines.append("")
    lines.append("Empty first page although a product is judged relevant:")
    lines.append("")
    for s in systems:
        e = empty_pages(rows, s)
        lines.append("- %s: %s" % (NAMES[s], "none" if not e else "%d: %s" % (
            len(e), ", ".join('"%s"' % r["q"] for r in e))))
    if errors:
        lines.append("- Troika answered an error status to: %s" % ", ".join(
            "%s (%s)" % (qid, st) for qid, st in sorted(errors.items())))
    lines.append("")
    lines.append("Worst queries per system (nDCG@10; relevant in the top 10 / judged relevant):")
    lines.append("")
    for s in systems:
        worst = sorted(rows, key=lambda r: (r["sys"][s]["ndcg"], r["id"]))[:8]
        lines.append("- %s: %s" % (NAMES[s], "; ".join(
            '"%s" (%s) %.2f, %d/%d' % (r["q"], KIND_NAMES[r["kind"]], r["sys"][s]["ndcg"],
                                        r["sys"][s]["hits"], r["relevant"]) for r in worst)))
    lines.append("")
    lines.append("Import %.1f s, build-index %.1f s; asking: %s." % (
        timings.get("import_s", 0), timings.get("index_s", 0), ", ".join(
            "%s %.1f s" % (NAMES[s], timings.get(s + "_s", 0)) for s in systems)))
    lines.append("")
    return lines, summ


def per_query_table(name, rows, systems):
    lines = ["### %s: every query" % name, "",
             "| id | kind | query | relevant | " + " | ".join(NAMES[s] for s in systems) + " |",
             "|---|---|---|---|" + "---|" * len(systems)]
    for r in rows:
        lines.append("| %s | %s | %s | %d | %s |" % (
            r["id"], KIND_NAMES[r["kind"]], r["q"].replace("|", "\\|"), r["relevant"],
            " | ".join("%.2f" % r["sys"][s]["ndcg"] for s in systems)))
    lines.append("")
    return lines


def git_head():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode().strip() or "?"
    except OSError:
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", choices=("real", "generated", "both"), default="both")
    ap.add_argument("--systems", default=",".join(SYSTEMS),
                    help="comma-separated subset of %s" % ",".join(SYSTEMS))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "relevance.md"),
                    help="the results file ('-': standard output only)")
    ap.add_argument("--json", help="also write every query's scores as JSON here")
    ap.add_argument("--install", action="store_true",
                    help="only install the pinned MiniSearch (npm ci into the cache) and print where")
    args = ap.parse_args(argv)
    if args.install:
        print("relevance: MiniSearch in %s" % minisearch_dir(), flush=True)
        return 0
    systems = tuple(s for s in args.systems.split(",") if s)
    for s in systems:
        if s not in SYSTEMS:
            ap.error("unknown system %r" % s)

    started = datetime.datetime.now(datetime.timezone.utc)
    cmd = "bench/relevance/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    head = ["# Relevance: Troika against two baselines", "",
            "`%s` (commit %s, %s). nDCG@10, gain 2^grade − 1, unjudged = 0; a query with no "
            "relevant product scores 1 for an empty page, else 0. Judgments and how they were "
            "made: bench/relevance/README.md." % (cmd.strip(), git_head(),
                                                  started.strftime("%Y-%m-%d %H:%M UTC")), ""]
    body, per_query, dump = [], [], {}
    names = ("generated", "real") if args.catalog == "both" else (args.catalog,)
    for name in names:
        j = load_judgments(SETS[name])
        path = None
        if name == "real":
            path = real_catalog_path()
            if not os.path.isfile(path):
                msg = "relevance: skipped the real set: %s not found (set TROIKA_REAL_CATALOG)" % path
                print(msg, flush=True)
                body += ["## real catalog", "", "Skipped: %s not found." % path, ""]
                continue
        print("relevance: %s set, %d queries: starting a stack" % (name, len(j["queries"])), flush=True)
        with SetRun(name, j, path) as run:
            answers, errors = run.ask(systems)
            rows = score_set(j, answers)
            lines, summ = report_set(name, j, rows, systems, run.timings, errors, run.notes)
            for n in run.notes:
                print("relevance: warning: %s" % n, flush=True)
        body += lines
        per_query += per_query_table(name, rows, systems)
        dump[name] = {"summary": summ, "queries": rows}
        for kind in KINDS + ("overall",):
            if kind in summ:
                print("relevance: %-9s %-17s %s" % (name, KIND_NAMES.get(kind, kind), "  ".join(
                    "%s %.3f" % (s, summ[kind][s]) for s in systems)), flush=True)
    text = "\n".join(head + body + per_query)
    if args.out == "-":
        print(text)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        print("relevance: wrote %s" % args.out, flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(dump, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
