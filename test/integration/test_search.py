"""Product search (issue 4) through a private nginx and MariaDB.

What a client and an operator see: troika-admin import-products (good, bad
and repeated lines: the summary and the database agree), build-index and
stats, the event order and content of /api/products/search/stream, every
returned product satisfying every filter (checked against the database
independently), the normal twin carrying the stream's final results, a
rebuilt index picked up without a restart, a missing or mismatched index
(INDEX_UNAVAILABLE, text results), and MariaDB stopped in the middle of a
stream (DB_CONNECTION_ERROR after the partial results, then close).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import harness


def admin_binary():
    env = os.environ.get("TROIKA_ADMIN")
    if env:
        return os.path.abspath(env)
    return os.path.join(os.path.dirname(harness.find_fcgi_binary()), "troika-admin")


def admin(stack, *args, env=None, check=True):
    """Runs troika-admin with the stack's config; returns (status, stdout, stderr)."""
    e = stack.app.environ()
    e.update(env or {})
    res = subprocess.run([admin_binary(), "-c", stack.app.conf_path] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e, timeout=300)
    out, err = res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")
    if check and res.returncode not in (0, 3):
        raise AssertionError("troika-admin %s failed (%d):\n%s\n%s" % (args, res.returncode, out, err))
    return res.returncode, out, err


def db_rows(stack, sql):
    """Rows of a query run with the mariadb client (tab-separated, NULL as None)."""
    out = stack.db.query(sql, db=harness.MariaDB.DB_NAME).stdout.decode("utf-8")
    rows = []
    for line in out.splitlines():
        rows.append([None if c == "NULL" else c for c in line.split("\t")])
    return rows


def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


def search_path(stream=True, **params):
    return "/api/products/search%s?%s" % ("/stream" if stream else "", urllib.parse.urlencode(params))


def read_stream(stack, **params):
    with stack.sse(search_path(True, **params)) as c:
        assert c.status == 200, c.read_body()
        return [(e.event, e.json(), e.id) for e in c.read_all()]


def product(sku, **kw):
    p = {"sku": sku, "title": "Test product " + sku, "category": "kurta", "price": 1000}
    p.update(kw)
    return p


def generate(stack, path, count, seed=7, fmt="jsonl"):
    admin(stack, "gen-catalog", "--count", str(count), "--seed", str(seed), "--format", fmt,
          "--out", path)


class SearchCase(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 2
    OVERRIDES = None
    CATALOG = 0          # products generated and imported in setUpClass
    BUILD_INDEX = False

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides=cls.OVERRIDES).start()
        try:
            cls.tmp = tempfile.mkdtemp(prefix="troika-it-search-")
            if cls.CATALOG:
                path = os.path.join(cls.tmp, "catalog.jsonl")
                generate(cls.stack, path, cls.CATALOG)
                admin(cls.stack, "import-products", path)
            if cls.BUILD_INDEX:
                admin(cls.stack, "build-index")
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        if os.environ.get("TROIKA_KEEP_TMP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def count(self, sql="SELECT COUNT(*) FROM products"):
        return int(db_rows(self.stack, sql)[0][0])

    def checksum(self):
        # Every column (also updated_at) of every row: any write changes it.
        return db_rows(self.stack, "CHECKSUM TABLE products, product_sizes, product_colors, product_tags")

    def write(self, name, lines):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            for line in lines:
                f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
        return path

    def facts(self, skus):
        """sku -> what the database says about it, read independently of the app."""
        if not skus:
            return {}
        rows = db_rows(self.stack, """
            SELECT p.sku, p.category, p.designer, p.price, p.in_stock,
                   LOWER(CONCAT_WS(' ', p.title, p.description, p.tags)),
                   (SELECT GROUP_CONCAT(size SEPARATOR '|') FROM product_sizes WHERE product_id = p.id),
                   (SELECT GROUP_CONCAT(family SEPARATOR '|') FROM product_colors WHERE product_id = p.id),
                   (SELECT GROUP_CONCAT(color SEPARATOR '|') FROM product_colors WHERE product_id = p.id),
                   (SELECT GROUP_CONCAT(tag SEPARATOR '|') FROM product_tags WHERE product_id = p.id)
            FROM products p WHERE p.sku IN (%s)""" % ",".join(sql_str(s) for s in skus))
        out = {}
        for r in rows:
            split = lambda v: set(v.split("|")) if v else set()  # noqa: E731
            out[r[0]] = {"category": r[1], "designer": r[2], "price": float(r[3]),
                         "in_stock": r[4] == "1", "text": r[5] or "", "sizes": split(r[6]),
                         "families": split(r[7]), "colors": split(r[8]), "tags": split(r[9])}
        return out


# --------------------------------------------------------------------------

class ImportTest(SearchCase):
    """import-products: the summary and the database agree; reruns change nothing."""

    def test_1_good_bad_and_repeated_lines(self):
        lines = [
            product("IT-1", title="Maroon Velvet Lehenga", category="Lehengas", price=45000,
                    colors=["Maroon", "Gold"], sizes=["s", "M", "2xl"], tags=["Wedding", "velvet"],
                    designer="Test House", inStock=True, stockCount=3),
            product("IT-2", price="4500"),                       # 2: price as a string
            "this is not json",                                   # 3
            product("IT-1", title="again"),                       # 4: duplicate sku
            "",                                                   # 5: blank, skipped
            {"sku": "IT-3", "category": "saree", "price": 10},   # 6: no title
            product("IT-4", price=-1),                            # 7: negative price
            product("IT-5", category="Sari", price=1999.999, colors="navy blue"),
            product("IT-6", imageUrl="ftp://nope"),               # 9
            product("IT-7", inStock="yes"),                       # 10
            product("IT 8"),                                      # 11: space in sku
            product("IT-9", stockCount=0),
        ]
        path = self.write("first.jsonl", lines)
        rc, out, _ = admin(self.stack, "import-products", path, "--json")
        self.assertEqual(rc, 3, out)   # some lines were rejected
        s = json.loads(out)
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"], s["rejected"]), (3, 0, 0, 8), s)
        rejected = {r["line"]: r["reason"] for r in s["rejects"]}
        self.assertEqual(sorted(rejected), [2, 3, 4, 6, 7, 9, 10, 11])
        self.assertIn("price must be a number", rejected[2])
        self.assertIn("not valid JSON", rejected[3])
        self.assertIn("duplicate sku", rejected[4])
        self.assertIn("first on line 1", rejected[4])
        self.assertIn('"title"', rejected[6])
        self.assertIn("price", rejected[7])
        self.assertIn("imageUrl", rejected[9])
        self.assertIn("inStock", rejected[10])
        self.assertIn("sku", rejected[11])

        # The database holds exactly the good products, normalised.
        self.assertEqual(self.count(), 3)
        got = db_rows(self.stack, "SELECT sku, category, price, in_stock, colors, sizes FROM products "
                                  "ORDER BY sku")
        self.assertEqual([r[0] for r in got], ["IT-1", "IT-5", "IT-9"])
        self.assertEqual(got[0][1:], ["lehenga", "45000.00", "1", '["maroon","gold"]', '["S","M","XXL"]'])
        self.assertEqual(got[1][1:3], ["saree", "2000.00"])
        self.assertEqual(got[1][4], '["navy"]')
        self.assertEqual(got[2][3], "0")   # stockCount 0 and no inStock: out of stock
        fam = db_rows(self.stack, "SELECT c.color, c.family FROM product_colors c JOIN products p "
                                  "ON p.id = c.product_id WHERE p.sku = 'IT-1' ORDER BY c.color")
        self.assertEqual(fam, [["gold", "gold"], ["maroon", "red"]])
        tags = db_rows(self.stack, "SELECT t.tag FROM product_tags t JOIN products p ON p.id = t.product_id "
                                   "WHERE p.sku = 'IT-1' ORDER BY t.tag")
        self.assertEqual(tags, [["velvet"], ["wedding"]])

        # The same file again changes nothing, not even a timestamp.
        before = self.checksum()
        time.sleep(1.1)
        rc, out, _ = admin(self.stack, "import-products", path, "--json")
        s = json.loads(out)
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"], s["rejected"]), (0, 0, 3, 8), s)
        self.assertEqual(self.checksum(), before)

        # One product changed: one update, its child rows replaced.
        lines[0] = dict(lines[0], price=47000, sizes=["L"])
        path2 = self.write("second.jsonl", lines)
        rc, out, _ = admin(self.stack, "import-products", path2, "--json")
        s = json.loads(out)
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"]), (0, 1, 2), s)
        self.assertEqual(db_rows(self.stack, "SELECT price FROM products WHERE sku = 'IT-1'"), [["47000.00"]])
        self.assertEqual(db_rows(self.stack, "SELECT s.size FROM product_sizes s JOIN products p ON "
                                             "p.id = s.product_id WHERE p.sku = 'IT-1'"), [["L"]])

    def test_2_csv_matches_jsonl(self):
        # The same generated catalog as JSON Lines and as CSV: the second
        # import finds every product unchanged.
        j = os.path.join(self.tmp, "gen.jsonl")
        c = os.path.join(self.tmp, "gen.csv")
        generate(self.stack, j, 300, seed=11)
        generate(self.stack, c, 300, seed=11, fmt="csv")
        rc, out, _ = admin(self.stack, "import-products", j, "--json")
        s = json.loads(out)
        self.assertEqual((rc, s["inserted"], s["rejected"]), (0, 300, 0), s)
        rc, out, _ = admin(self.stack, "import-products", c, "--json")
        s = json.loads(out)
        self.assertEqual((rc, s["format"], s["unchanged"], s["inserted"], s["updated"]), (0, "CSV", 300, 0, 0), s)

    def test_2b_generator_is_deterministic_and_has_no_lookalikes(self):
        a = os.path.join(self.tmp, "a.jsonl")
        b = os.path.join(self.tmp, "b.jsonl")
        generate(self.stack, a, 6000, seed=3)
        generate(self.stack, b, 6000, seed=3)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())   # the same seed, the same catalog
        seen = {}
        with open(a, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                p = json.loads(line)
                key = (p["title"], p["designer"])
                self.assertFalse(key in seen, "line %d repeats line %s's title and designer %s" % (n, seen.get(key), key))
                seen[key] = n
        self.assertEqual(len(seen), 6000)
        # a shorter catalog is the start of a longer one
        generate(self.stack, b, 1500, seed=3)
        with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
            self.assertEqual(fa.readlines()[:1500], fb.readlines())

    def test_3_csv_bad_rows_and_line_numbers(self):
        path = self.write("bad.csv", [
            "sku,title,category,price,colors,sizes,description",
            'CSV-1,"Quoted, with ""quotes""",kurta,1200,red|navy,S|M,',
            "CSV-2,Bad price,kurta,abc,red,M,",
            'CSV-3,Two lines,kurta,5,,,"first line',
            'second line"',
            'CSV-4,"A title with',
            'a line break",kurta,5,,,',
            "CSV-5,Too few",
            "CSV-6,Last,saree,99,,,",
        ])
        rc, out, _ = admin(self.stack, "import-products", path, "--json")
        s = json.loads(out)
        self.assertEqual(rc, 3)
        self.assertEqual((s["inserted"], s["rejected"]), (3, 3), s)
        rejected = {r["line"]: r["reason"] for r in s["rejects"]}
        self.assertEqual(sorted(rejected), [3, 6, 8])
        self.assertIn("price", rejected[3])
        self.assertIn("title", rejected[6])
        self.assertIn("cells", rejected[8])
        self.assertEqual(db_rows(self.stack, "SELECT sku, title, description FROM products WHERE sku LIKE 'CSV-%' "
                                             "ORDER BY sku"),
                         [["CSV-1", 'Quoted, with "quotes"', None], ["CSV-3", "Two lines", "first line\\nsecond line"],
                          ["CSV-6", "Last", None]])

    def test_4_missing_file_and_usage(self):
        rc, out, err = admin(self.stack, "import-products", "/nonexistent.jsonl", check=False)
        self.assertEqual(rc, 1)
        self.assertIn("cannot open", err)
        rc, out, err = admin(self.stack, "no-such-command", check=False)
        self.assertEqual(rc, 2)
        rc, out, err = admin(self.stack, "--help", check=False)
        self.assertEqual(rc, 0)
        for word in ("import-products", "gen-catalog", "build-index", "stats"):
            self.assertIn(word, out)


# --------------------------------------------------------------------------

STEP_ORDER = ["text_search", "vector_search", "filters", "ranking"]
CARD_KEYS = {"sku", "title", "price", "currency", "category", "designer", "colors", "sizes", "inStock",
             "imageUrl", "url", "score", "ranks"}


class PruneTest(SearchCase):
    """import-products --prune: the file is the whole catalog."""

    def test_prune(self):
        three = [product("PR-1", colors=["red"], sizes=["M"], tags=["wedding"]), product("PR-2"),
                 product("PR-3", colors=["blue"], sizes=["L"], tags=["velvet"])]
        admin(self.stack, "import-products", self.write("three.jsonl", three))
        pr3 = db_rows(self.stack, "SELECT id FROM products WHERE sku = 'PR-3'")[0][0]
        self.assertEqual(self.count(), 3)

        # a dry run counts what would go and writes nothing
        before = self.checksum()
        two = self.write("two.jsonl", three[:2])
        rc, out, _ = admin(self.stack, "import-products", two, "--prune", "--dry-run", "--json")
        self.assertEqual((rc, json.loads(out)["deleted"]), (0, 1))
        self.assertEqual(self.checksum(), before)

        # a line rejected: nothing is pruned, the status says partial
        rc, out, _ = admin(self.stack, "import-products", self.write("bad.jsonl", [three[0], "{not json"]),
                           "--prune", "--json")
        s = json.loads(out)
        self.assertEqual((rc, s["rejected"], s["deleted"]), (3, 1, 0), s)
        self.assertIn("rejected", s["notPruned"])
        self.assertEqual(self.count(), 3)

        # the real thing: PR-3 and its sizes, colours and tags are gone
        rc, out, _ = admin(self.stack, "import-products", two, "--prune", "--json")
        s = json.loads(out)
        self.assertEqual((rc, s["deleted"], s["unchanged"]), (0, 1, 2), s)
        self.assertEqual([r[0] for r in db_rows(self.stack, "SELECT sku FROM products ORDER BY sku")],
                         ["PR-1", "PR-2"])
        for t in ("product_sizes", "product_colors", "product_tags"):
            self.assertEqual(self.count("SELECT COUNT(*) FROM %s WHERE product_id = %s" % (t, pr3)), 0, t)
        # the derived tables follow: the bitmaps count two products
        self.assertEqual(self.count("SELECT n FROM attr_bitmaps WHERE k = '#all'"), 2)
        # and a rerun changes nothing
        before = self.checksum()
        rc, out, _ = admin(self.stack, "import-products", two, "--prune", "--json")
        self.assertEqual((rc, json.loads(out)["deleted"]), (0, 0))
        self.assertEqual(self.checksum(), before)


class SearchStreamTest(SearchCase):
    """A catalog with an index: the stream, its content, filters, the twin."""

    CATALOG = 2500
    BUILD_INDEX = True

    def test_01_build_index_and_stats(self):
        rc, out, _ = admin(self.stack, "stats", "--json")
        s = json.loads(out)
        self.assertEqual(s["products"], 2500)
        idx = s["index"]
        self.assertTrue(idx["present"], idx)
        self.assertEqual(idx["count"], 2500)
        self.assertEqual(idx["kind"], "IVFFlat")
        self.assertTrue(idx["matchesConfig"])
        self.assertTrue(idx["upToDate"])
        d = self.stack.app.settings["index_dir"]
        for f in ("products.faiss", "products.ids", "products.meta.json"):
            self.assertTrue(os.path.getsize(os.path.join(d, f)) > 0, f)
        # --if-stale: an index built in the same second as the last import
        # may be rebuilt once (updated_at has one-second resolution); after
        # that it is up to date and nothing is written.
        time.sleep(1.1)
        admin(self.stack, "build-index", "--if-stale")
        before = os.stat(os.path.join(d, "products.meta.json")).st_ino
        rc, out, _ = admin(self.stack, "build-index", "--if-stale")
        self.assertIn("up to date", out)
        self.assertEqual(os.stat(os.path.join(d, "products.meta.json")).st_ino, before)

    def test_02_event_order_and_content(self):
        evs = read_stream(self.stack, q="red lehenga size M under 50000", limit=5)
        names = [e[0] for e in evs]
        self.assertEqual(names[0], "connected")
        self.assertEqual(names[-2:], ["complete", "close"])
        self.assertEqual([int(e[2]) for e in evs], list(range(1, len(evs) + 1)))
        steps = [(d["step"], d.get("count") is not None) for n, d, _ in evs if n == "progress"]
        self.assertEqual(steps, [(s, end) for s in STEP_ORDER for end in (False, True)])
        # results after the step that produced them, stages in order
        order = [(n, d.get("step") or d.get("stage")) for n, d, _ in evs if n in ("progress", "results")]
        self.assertEqual([x for x in order if x[0] == "results"],
                         [("results", "text"), ("results", "semantic"), ("results", "final")])
        self.assertLess(order.index(("results", "text")), order.index(("progress", "vector_search")))
        self.assertGreater(order.index(("results", "final")), len(order) - 2)

        conn = evs[0][1]
        self.assertEqual(conn["message"], "Stream started")
        self.assertEqual(conn["query"], "red lehenga size M under 50000")
        self.assertEqual(conn["filters"], {"size": "M", "color": "red", "colorFamily": "red",
                                           "category": "lehenga", "maxPrice": 50000})
        self.assertEqual(conn["residual"], "")
        for n, d, _ in evs:
            self.assertIn("requestId", d)
            self.assertIn("timestamp", d)
        final = [d for n, d, _ in evs if n == "results"][-1]
        complete = [d for n, d, _ in evs if n == "complete"][0]
        self.assertEqual(final["type"], "product_cards")
        self.assertEqual(final["stage"], "final")
        self.assertEqual(final["total"], complete["total"])
        self.assertGreater(final["total"], 0)
        self.assertLessEqual(len(final["products"]), 5)
        for p in final["products"]:
            self.assertTrue(CARD_KEYS <= set(p), p)
            self.assertEqual(p["currency"], "INR")
            self.assertTrue(p["ranks"]["text"] or p["ranks"]["vector"], p)
        scores = [p["score"] for p in final["products"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        f = final["facets"]
        self.assertEqual(set(f), {"sizes", "colors", "categories", "designers", "price"})
        self.assertEqual(f["categories"], [{"value": "lehenga", "count": final["total"]}])
        self.assertEqual(f["colors"][0], {"value": "red", "count": final["total"]})
        self.assertIn({"value": "M", "count": final["total"]}, f["sizes"])
        self.assertLessEqual(f["price"]["max"], 50000)
        self.assertEqual(complete["counts"]["final"], final["total"])
        self.assertEqual(complete["vectorSearch"], "used")

    # the expect keys of check_filters, and the filter a preference of
    # that key is named by in a card's `matched` and the results' `relaxed`
    PREF = {"category": "category", "family": "color", "color": "color", "designer": "designer",
            "tags": "occasion", "fabric": "fabric", "work": "work"}

    def holds(self, fa, key, want):
        """Whether the database's facts fa meet expect's key."""
        if key == "category":
            return fa["category"] == want
        if key == "family":
            return want in fa["families"]
        if key == "color":
            return want in fa["colors"]
        if key == "size":
            return want in fa["sizes"]
        if key == "min":
            return fa["price"] >= want
        if key == "max":
            return fa["price"] <= want
        if key == "in_stock":
            return fa["in_stock"] == want
        if key == "designer":
            return fa["designer"] == want
        if key in ("tags", "fabric", "work"):
            return bool(fa["tags"] & want)
        raise KeyError(key)

    # what the lexicon says is worn to a wedding (qp_occasion_text): an
    # occasion matched by its words counts as met
    WEDDING = ("wedding bridal (+(lehenga lehengas saree sarees sherwani sherwanis anarkali gown) "
               "+(zari zardozi banarasi kanjeevaram silk velvet embroidered embellished))")

    def check_filters(self, params, expect, prefs=(), broad=None):
        """Runs a search and checks it against the database (broad: expect
        key -> the FULLTEXT expression by which its preference may also be
        met, once widened to the products' words).

        Keys of expect not in prefs are filters (parameters, and the words
        that stay filters: size, price, stock): every product of every
        stage meets them. Keys in prefs came from q's words as
        preferences: every product of the text and semantic stages (the
        strict search) meets them; in the final results each card's
        `matched` names exactly the preferences it meets (a category met
        by its name in the product's text counts), a card missing one comes
        after every card that meets them all, and `relaxed` names each one
        some card misses."""
        evs = read_stream(self.stack, limit=50, **params)
        names = [e[0] for e in evs]
        self.assertIn("complete", names, evs[-3:])
        seen = []
        for n, d, _ in evs:
            if n == "results":
                seen += [p["sku"] for p in d["products"]]
        self.assertTrue(seen, "no products for %r" % (params,))
        facts = self.facts(sorted(set(seen)))
        self.assertEqual(set(facts), set(seen))
        self.assertEqual(sorted(evs[0][1]["preferences"]), sorted({self.PREF[k] for k in prefs}))
        by_words = {}
        for key, expr in (broad or {}).items():
            by_words[key] = {r[0] for r in db_rows(self.stack, "SELECT sku FROM products WHERE sku IN (%s) AND MATCH("
                                                              "title, description, tags, designer, category) AGAINST "
                                                              "(%s IN BOOLEAN MODE)" % (",".join(sql_str(x) for x in seen),
                                                                                        sql_str(expr)))}
        for n, d, _ in evs:
            if n != "results":
                continue
            missing_seen = False
            for p in d["products"]:
                fa = facts[p["sku"]]
                for key, want in expect.items():
                    if key not in prefs or d["stage"] != "final":
                        self.assertTrue(self.holds(fa, key, want), (d["stage"], p["sku"], key, want, fa))
                if d["stage"] != "final":
                    continue
                met = set(p["matched"]) if prefs else set()
                for key in prefs:
                    name, want = self.PREF[key], expect[key]
                    ok = self.holds(fa, key, want)
                    if key == "category" and name in met:
                        ok = ok or want in fa["text"]
                    if key in by_words and name in met:
                        ok = ok or p["sku"] in by_words[key]
                    self.assertEqual(name in met, ok, (p["sku"], key, want, met, fa))
                if d["stage"] == "final" and prefs:
                    complete = met >= {self.PREF[k] for k in prefs}
                    self.assertFalse(complete and missing_seen, (p["sku"], "after a card that missed a preference"))
                    missing_seen = missing_seen or not complete
                    for name in {self.PREF[k] for k in prefs} - met:
                        self.assertIn(name, d["relaxed"], (p["sku"], d["relaxed"]))
        return evs

    def test_03_every_product_satisfies_every_filter(self):
        self.check_filters({"q": "red lehenga size M under 50000"},
                           {"category": "lehenga", "family": "red", "size": "M", "max": 50000},
                           prefs=("category", "family"))
        self.check_filters({"q": "maroon velvet lehenga"}, {"category": "lehenga", "family": "red",
                                                             "fabric": {"velvet"}},
                           prefs=("category", "family", "fabric"))
        self.check_filters({"q": "navy sherwani size 40 in stock"},
                           {"category": "sherwani", "family": "blue", "size": "40", "in_stock": True},
                           prefs=("category", "family"))
        self.check_filters({"q": "laal saree shaadi ke liye between 5000 and 80000"},
                           {"category": "saree", "family": "red", "tags": {"wedding", "bridal"},
                            "min": 5000, "max": 80000}, prefs=("category", "family", "tags"),
                           broad={"tags": self.WEDDING})
        self.check_filters({"q": "kurta", "minPrice": "2000", "maxPrice": "9000", "inStock": "false"},
                           {"category": "kurta", "min": 2000, "max": 9000, "in_stock": False},
                           prefs=("category",))
        designer = db_rows(self.stack, "SELECT designer FROM products GROUP BY designer ORDER BY COUNT(*) DESC "
                                       "LIMIT 1")[0][0]
        self.check_filters({"q": "embroidered", "designer": designer}, {"designer": designer})
        self.check_filters({"q": "gown", "color": "wine"}, {"category": "gown", "family": "red"},
                           prefs=("category",))
        self.check_filters({"q": "anarkali free size", "size": "XL"}, {"category": "anarkali", "size": "XL"},
                           prefs=("category",))
        # explicit parameters are filters, never preferences
        self.check_filters({"q": "dupatta", "category": "lehenga", "color": "red", "size": "M"},
                           {"category": "lehenga", "family": "red", "size": "M"})

    def test_04_parameters_override_the_query(self):
        evs = read_stream(self.stack, q="red lehenga under 5000", color="blue", maxPrice="300000",
                          category="saree")
        f = evs[0][1]["filters"]
        self.assertEqual((f["colorFamily"], f["category"], f["maxPrice"]), ("blue", "saree", 300000))
        self.assertEqual(evs[0][1]["parsed"]["colorFamily"], "red")

    def test_04b_fabric_and_work_filters(self):
        silks = {"silk", "raw silk", "banarasi silk", "kanjeevaram silk", "tussar silk"}
        # Words of the query: fabric and handwork are tag filters, not text.
        evs = self.check_filters({"q": "silk saree with zardozi work"},
                                 {"category": "saree", "fabric": silks, "work": {"zardozi"}},
                                 prefs=("category", "fabric", "work"))
        conn = evs[0][1]
        self.assertEqual((conn["filters"]["fabric"], conn["filters"]["work"]), ("silk", "zardozi"))
        self.assertEqual(conn["residual"], "")
        text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
        self.assertEqual(text["textMode"], "browse")
        # Nothing the filters allow is lost: the count the database gives
        # independently is what the search found.
        want = int(db_rows(self.stack, """
            SELECT COUNT(*) FROM products p WHERE p.category = 'saree'
              AND EXISTS (SELECT 1 FROM product_tags t WHERE t.product_id = p.id AND t.tag IN
                          ('silk', 'raw silk', 'banarasi silk', 'kanjeevaram silk', 'tussar silk'))
              AND EXISTS (SELECT 1 FROM product_tags t WHERE t.product_id = p.id AND t.tag = 'zardozi')""")[0][0])
        final = [d for n, d, _ in evs if n == "results"][-1]
        text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
        self.assertGreater(want, 0)
        self.assertEqual(text["total"], want)
        strict = [p for p in final["products"] if {"category", "fabric", "work"} <= set(p["matched"])]
        self.assertEqual(len(strict), min(want, 50))
        self.assertGreaterEqual(final["total"], want)
        # Spellings, and the explicit parameters over the query's words.
        self.check_filters({"q": "kanjivaram saree"}, {"category": "saree", "fabric": {"kanjeevaram silk"}},
                           prefs=("category", "fabric"))
        evs = self.check_filters({"q": "velvet lehenga with mirror work", "fabric": "Banarsi", "work": "gota"},
                                 {"category": "lehenga", "fabric": {"banarasi silk"}, "work": {"gota patti"}},
                                 prefs=("category",))
        self.assertEqual((evs[0][1]["filters"]["fabric"], evs[0][1]["filters"]["work"]),
                         ("banarasi silk", "gota patti"))
        self.assertEqual((evs[0][1]["parsed"]["fabric"], evs[0][1]["parsed"]["work"]), ("velvet", "mirror work"))
        # The rarer words stay text: "hand embroidered" with organza as a filter.
        evs = read_stream(self.stack, q="hand embroidered organza saree")
        self.assertEqual(evs[0][1]["residual"], "hand embroidered")
        self.assertEqual(evs[0][1]["filters"]["fabric"], "organza")

    def test_05_normal_twin_equals_final_results(self):
        params = dict(q="emerald anarkali with mirror work", limit=7, offset=2)
        evs = read_stream(self.stack, **params)
        final = [d for n, d, _ in evs if n == "results"][-1]
        complete = [d for n, d, _ in evs if n == "complete"][0]
        r = self.stack.get(search_path(False, **params))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        doc = r.json()
        self.assertTrue(doc["success"])
        self.assertEqual(doc["products"], final["products"])
        self.assertEqual(doc["facets"], final["facets"])
        self.assertEqual(doc["total"], final["total"])
        self.assertEqual(doc["stage"], "final")
        self.assertEqual(doc["counts"], complete["counts"])
        self.assertEqual(doc["filters"], evs[0][1]["filters"])
        self.assertEqual([s["step"] for s in doc["steps"]], [d["step"] for n, d, _ in evs if n == "progress"])
        self.assertEqual([s for s in dict.fromkeys(x["step"] for x in doc["steps"]) if s != "widening"], STEP_ORDER)
        self.assertEqual(doc["relaxed"], final["relaxed"])

    def test_06_paging(self):
        first = [d for n, d, _ in read_stream(self.stack, q="silk saree", limit=10) if n == "results"][-1]
        second = [d for n, d, _ in read_stream(self.stack, q="silk saree", limit=5, offset=5)
                  if n == "results"][-1]
        self.assertEqual([p["sku"] for p in first["products"]][5:], [p["sku"] for p in second["products"]])
        self.assertEqual(first["total"], second["total"])

    def test_07_bad_parameters(self):
        cases = [("", "q"), ("q=%20", "q"), ("q=x&limit=0", "limit"), ("q=x&limit=51", "limit"),
                 ("q=x&limit=five", "limit"), ("q=x&offset=-1", "offset"), ("q=x&minPrice=abc", "minPrice"),
                 ("q=x&maxPrice=-3", "maxPrice"), ("q=x&inStock=maybe", "inStock"),
                 ("q=x&minPrice=9&maxPrice=1", "minPrice"), ("q=%FF", "q"), ("q=" + "a" * 257, "q")]
        for qs, field in cases:
            for path in ("/api/products/search/stream", "/api/products/search"):
                r = self.stack.get(path + "?" + qs)
                self.assertEqual(r.status, 400, (qs, r))
                body = r.json()
                self.assertEqual((body["code"], body["field"]), ("INVALID_PARAMETERS", field), (qs, body))
        # 256 characters (not bytes) is fine
        r = self.stack.get(search_path(False, q="é" * 256))
        self.assertEqual(r.status, 200)

    def disjoint_words(self, category=None):
        """Two words of the vocabulary (no filter word) that no product
        (of category) has both of."""
        # words of descriptions, not of a category, tag, colour or designer
        words = [r[0] for r in db_rows(self.stack, """
            SELECT word FROM search_vocab WHERE docs BETWEEN 2 AND 400 AND word REGEXP '^[a-z]{6,}$'
              AND word NOT IN (SELECT DISTINCT LOWER(category) FROM products)
              AND word NOT IN (SELECT DISTINCT LOWER(tag) FROM product_tags)
              AND word NOT IN (SELECT DISTINCT LOWER(color) FROM product_colors)
              AND NOT EXISTS (SELECT 1 FROM products WHERE LOWER(designer) LIKE CONCAT('%', word, '%'))
            ORDER BY docs DESC, word LIMIT 80""")]
        where = " AND category = %s" % sql_str(category) if category else ""
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                both = self.count("SELECT COUNT(*) FROM products WHERE MATCH(title, description, tags, designer, "
                                  "category) AGAINST ('+%s +%s*' IN BOOLEAN MODE)%s" % (a, b, where))
                one = self.count("SELECT COUNT(*) FROM products WHERE MATCH(title, description, tags, designer, "
                                 "category) AGAINST ('%s %s' IN BOOLEAN MODE)%s" % (a, b, where))
                if both or not one:
                    continue
                # and words the parser leaves to full text (no filter, filler or category word)
                conn = read_stream(self.stack, q="%s %s" % (a, b), limit=1)[0][1]
                if conn["residual"] == "%s %s" % (a, b) and not conn["filters"]:
                    return a, b
        self.fail("no two words apart in %r" % words)

    def test_08_typo_and_text_fallback(self):
        # "lehnga" is understood as the category; nonsense words fall back
        # to natural-language mode instead of killing the query.
        evs = read_stream(self.stack, q="lehnga")
        self.assertEqual(evs[0][1]["filters"].get("category"), "lehenga")
        # a word no product has, and nothing close, is said and left out
        evs = read_stream(self.stack, q="qwertyuiop silhouette")
        self.assertEqual(evs[0][1]["unmatched"], ["qwertyuiop"])
        self.assertEqual(evs[0][1]["residual"], "silhouette")
        final = [d for n, d, _ in evs if n == "results" and d["stage"] == "final"][0]
        self.assertEqual(final["unmatched"], ["qwertyuiop"])
        self.assertGreater(final["total"], 0)
        # ...unless it is what the query is about: the shop has none of it
        evs = read_stream(self.stack, q="silhouette qwertyuiop")
        self.assertEqual(evs[0][1]["unmatched"], ["qwertyuiop"])
        final = [d for n, d, _ in evs if n == "results" and d["stage"] == "final"][0]
        self.assertEqual((final["total"], final["products"]), (0, []))
        # words the catalog has, never together: natural-language mode
        a, b = self.disjoint_words()
        evs = read_stream(self.stack, q="%s %s" % (a, b))
        text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
        self.assertEqual(text["textMode"], "natural")
        self.assertGreater(text["total"], 0)
        self.assertNotIn("unmatched", evs[0][1])

    def test_08b_prefix_only_when_whole_words_find_nothing(self):
        # whole words first: no prefix in the expression that ran
        evs = read_stream(self.stack, q="embroidered gown")
        step = [d for n, d, _ in evs if n == "progress" and d.get("step") == "text_search" and "mode" in d][0]
        self.assertEqual(step["mode"], "boolean")
        self.assertNotIn("*", step["expression"])
        # a word still being typed: the whole word finds nothing, its prefix does
        evs = read_stream(self.stack, q="embroide")
        step = [d for n, d, _ in evs if n == "progress" and d.get("step") == "text_search" and "mode" in d][0]
        text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
        self.assertEqual(step["mode"], "prefix")
        self.assertEqual(step["expression"], "+embroide*")
        self.assertEqual(text["textMode"], "prefix")
        want = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE MATCH(title, description, tags, "
                                       "designer, category) AGAINST ('+embroide*' IN BOOLEAN MODE)")[0][0])
        self.assertGreater(want, 0)
        # the text stage counts every match (up to search_result_cap), not the fetched depth
        self.assertEqual(text["total"], want)

    def test_08c_word_counts_and_frequent_words_on_rows(self):
        ft = "MATCH(title, description, tags, designer, category) AGAINST (%s IN BOOLEAN MODE)"
        # search_terms holds what FULLTEXT itself counts
        counts = dict((r[0], int(r[1])) for r in db_rows(
            self.stack, "SELECT term, docs FROM search_terms WHERE term IN "
                        "('#products', 'hand', 'embroidered', 'saree', 'with')"))
        self.assertEqual(counts["#products"], 2500)
        for w in ("hand", "embroidered", "saree"):
            n = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE " + ft % sql_str("+" + w))[0][0])
            self.assertEqual(counts[w], n, w)
        self.assertNotIn("with", counts)   # an InnoDB stopword: never indexed, so not counted

        # "hand" (care lines) is in about half the catalog, "embroidered" in
        # a few percent: FULLTEXT matches the rare word, "hand" is checked on
        # the rows, and the products are exactly those of the plain query.
        want = []
        for q, cat in (("hand embroidered saree", "saree"), ("hand embroidered lehenga", "lehenga"),
                       ("hand embroidered kurta", "kurta")):
            want = [r[0] for r in db_rows(self.stack, (
                "SELECT p.sku FROM products p WHERE " + ft % "'+hand +embroidered'" +
                " AND p.category = " + sql_str(cat)))]
            if 0 < len(want) <= 50:
                break
        self.assertTrue(0 < len(want) <= 50, len(want))
        evs = read_stream(self.stack, q=q, limit=50)
        step = [d for n, d, _ in evs if n == "progress" and d.get("step") == "text_search" and "mode" in d][0]
        self.assertEqual(step.get("checkedOnRows"), "hand", step)
        self.assertNotIn("hand", step["expression"])
        self.assertIn("+embroidered", step["expression"])
        text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
        self.assertEqual(text["total"], len(want))
        self.assertEqual(sorted(c["sku"] for c in text["products"]), sorted(want))

        # Without counts (search_terms emptied): every word as typed, the
        # same products.
        db_rows(self.stack, "DELETE FROM search_terms")
        try:
            evs = read_stream(self.stack, q=q, limit=50)
            steps = [d for n, d, _ in evs if n == "progress" and d.get("step") == "text_search" and "mode" in d]
            self.assertTrue(steps, evs)
            step = steps[0]
            self.assertNotIn("checkedOnRows", step)
            self.assertEqual(step["expression"], "+hand +embroidered")
            text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
            self.assertEqual(sorted(c["sku"] for c in text["products"]), sorted(want))
        finally:
            # another version's counts are rebuilt by the next build-index
            db_rows(self.stack, "DELETE FROM catalog_meta WHERE k = 'terms_version'")
            _, out, _ = admin(self.stack, "build-index", "--if-stale")
            self.assertIn("rebuilt the word counts", out)
        self.assertEqual(int(db_rows(self.stack, "SELECT docs FROM search_terms WHERE term = 'hand'")[0][0]),
                         counts["hand"])

    def test_08d_designer_name_is_a_filter(self):
        # the most-stocked designer of lehengas, named in the query
        name, n = db_rows(self.stack, "SELECT designer, COUNT(*) FROM products WHERE category = 'lehenga' "
                                      "GROUP BY designer ORDER BY 2 DESC, 1 LIMIT 1")[0]
        q = "%s lehenga" % name.lower()
        evs = read_stream(self.stack, q=q, limit=50)
        conn = evs[0][1]
        self.assertEqual(conn["parsed"].get("designer"), name)     # as the catalog spells it
        self.assertEqual(conn["filters"].get("category"), "lehenga")
        self.assertEqual(conn["residual"].strip(), "")
        text = [d for n_, d, _ in evs if n_ == "results" and d["stage"] == "text"][0]
        final = [d for n_, d, _ in evs if n_ == "results" and d["stage"] == "final"][0]
        self.assertEqual(text["total"], min(int(n), 200))
        self.assertEqual(conn["preferences"], ["category", "designer"])
        for p in text["products"]:
            self.assertEqual((p["designer"], p["category"]), (name, "lehenga"), p)
        # the name is a preference: the designer's lehengas first, then,
        # to fill the page, the designer's other pieces, then other
        # designers' (a brand named is held to longest; said in `relaxed`)
        self.assertEqual(len(final["products"]), 50)
        mine = min(int(n), 50)
        total_mine = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE designer = %s" % sql_str(name))[0][0])
        for p in final["products"][:mine]:
            self.assertEqual((p["designer"], p["category"], p["matched"]), (name, "lehenga", ["category", "designer"]), p)
        others = min(total_mine, 50) - mine
        for p in final["products"][mine:mine + others]:
            self.assertEqual((p["designer"], p["matched"]), (name, ["designer"]), p)
            self.assertNotEqual(p["category"], "lehenga", p)
        for p in final["products"][mine + others:]:
            self.assertNotEqual(p["designer"], name, p)
            self.assertNotIn("designer", p["matched"], p)
        if mine < 50:
            self.assertEqual(final["relaxed"][0], "category")
        # an explicit designer parameter wins over the name in the query
        other = db_rows(self.stack, "SELECT designer FROM products WHERE designer <> %s AND category = 'lehenga' "
                                    "GROUP BY designer ORDER BY COUNT(*) DESC, designer LIMIT 1" % sql_str(name))[0][0]
        evs = read_stream(self.stack, q=q, designer=other, limit=5)
        self.assertEqual(evs[0][1]["filters"].get("designer"), other)
        final = [d for n_, d, _ in evs if n_ == "results" and d["stage"] == "final"][0]
        for p in final["products"]:
            self.assertEqual(p["designer"], other)
        # part of a name is only a word ("<first name>s" is not the designer)
        first = name.split()[0].lower()
        evs = read_stream(self.stack, q=first + "s lehenga", limit=3)
        self.assertNotIn("designer", evs[0][1]["parsed"])

    def test_08e_no_results_says_what_would_widen_it(self):
        cat, lo, hi, n = db_rows(self.stack, "SELECT category, MIN(price), MAX(price), COUNT(*) FROM products "
                                            "GROUP BY category ORDER BY MIN(price) DESC LIMIT 1")[0]
        lo, hi, n = float(lo), float(hi), int(n)
        budget = int(lo) - 1
        evs = read_stream(self.stack, q="%s under %d" % (cat, budget), limit=5)
        names = [e for e, _, _ in evs]
        final = [d for e, d, _ in evs if e == "results"][-1]
        # nothing is a <cat> under the budget: the category, a preference
        # read from the words, is given up to fill the page (the price, a
        # phrase, stays), and the relaxations say what else would widen it
        self.assertEqual(final["relaxed"], ["category"])
        self.assertTrue(final["products"])
        for p in final["products"]:
            self.assertLessEqual(p["price"], budget)
            self.assertNotEqual(p["category"], cat)
            self.assertEqual(p["matched"], [])
        rel = {r["drop"]: r for r in final["relaxations"]}
        self.assertEqual([r["drop"] for r in final["relaxations"]], ["price", "category"])
        # without the price limit: the whole category, counted and priced exactly
        p = rel["price"]
        self.assertEqual((p["query"], p["filters"], p["total"], p["capped"]), (cat, {"category": cat}, n, False))
        self.assertEqual((p["values"]["min"], p["values"]["max"]), (lo, hi))
        self.assertIn("%d match" % n, p["message"])
        self.assertIn("without the price limit", p["message"])
        # without the category: what the budget buys elsewhere, capped at the candidates
        c = rel["category"]
        under = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE price <= %d" % budget)[0][0])
        self.assertGreater(under, 0)
        self.assertEqual((c["query"], c["filters"]), ("under %d" % budget, {"maxPrice": budget}))
        self.assertEqual((c["total"], c["capped"]), (min(under, 200), under >= 200))
        self.assertNotIn(cat, [v["value"] for v in c["values"]])
        top = db_rows(self.stack, "SELECT category FROM products WHERE price <= %d GROUP BY category "
                                  "ORDER BY COUNT(*) DESC LIMIT 1" % budget)[0][0]
        if not c["capped"]:
            self.assertEqual(c["values"][0]["value"], top)
        # the queries come as suggestions, after the final results and before complete
        sg = [d for e, d, _ in evs if e == "suggestions"]
        self.assertEqual(len(sg), 1)
        self.assertEqual(sg[0]["suggestions"], [cat, "under %d" % budget])
        self.assertEqual(names[-3:], ["suggestions", "complete", "close"])
        # each one, run, finds what it promised
        again = [d for e, d, _ in read_stream(self.stack, q=cat, limit=5) if e == "results"][-1]
        self.assertGreater(again["total"], 0)
        self.assertNotIn("relaxations", again)
        self.assertNotIn("suggestions", [e for e, _, _ in read_stream(self.stack, q=cat, limit=1)])
        again = [d for e, d, _ in read_stream(self.stack, q="under %d" % budget, limit=50) if e == "results"][-1]
        self.assertTrue(again["products"])
        self.assertTrue(all(x["price"] <= budget for x in again["products"]))
        # the normal twin carries both
        doc = self.stack.get(search_path(False, q="%s under %d" % (cat, budget), limit=5)).json()
        self.assertEqual(doc["relaxations"], final["relaxations"])
        self.assertEqual(doc["suggestions"], [cat, "under %d" % budget])
        # explicit parameters are dropped the same way, and said in the query
        # (the category a parameter too: nothing to widen, no results)
        evs = read_stream(self.stack, q=cat, category=cat, maxPrice=str(budget), inStock="true", limit=5)
        final = [d for e, d, _ in evs if e == "results"][-1]
        self.assertEqual(final["total"], 0)
        drops = [r["drop"] for r in final["relaxations"]]
        self.assertEqual(drops[0], "price")
        r0 = final["relaxations"][0]
        self.assertEqual((r0["query"], r0["filters"]), (cat + " in stock", {"category": cat, "inStock": True}))
        instock = db_rows(self.stack, "SELECT COUNT(*), MIN(price) FROM products WHERE category = %s AND in_stock = 1"
                          % sql_str(cat))[0]
        self.assertEqual((r0["total"], r0["values"]["min"]), (int(instock[0]), float(instock[1])))
        self.assertNotIn("inStock", drops)   # dropping stock alone still leaves nothing under the budget
        # words with filters no product passes: the dear fallbacks (prefix,
        # natural mode) are skipped, and the progress says why
        evs = read_stream(self.stack, q="embroidered %s under %d" % (cat, budget), limit=5)
        ts = [d for e, d, _ in evs if e == "progress" and d["step"] == "text_search" and "count" in d][0]
        self.assertEqual((ts["mode"], ts.get("filteredOut"), ts["count"]), ("boolean", True, 0), ts)
        self.assertIn("no product passes the filters", ts["message"])
        final = [d for e, d, _ in evs if e == "results"][-1]
        self.assertEqual(final["relaxations"][0]["drop"], "price")
        self.assertEqual(final["relaxations"][0]["query"], "embroidered " + cat)
        # words that match nothing under filters some product passes still fall back
        a, b = self.disjoint_words(cat)
        evs = read_stream(self.stack, q="%s %s %s" % (a, b, cat), limit=5)
        ts = [d for e, d, _ in evs if e == "progress" and d["step"] == "text_search" and "count" in d][0]
        self.assertEqual(ts["mode"], "natural", ts)
        self.assertNotIn("filteredOut", ts)

    def test_09_logs(self):
        read_stream(self.stack, q="ivory chikankari kurta", limit=3)
        with open(self.stack.app.log_file, encoding="utf-8") as f:
            log = f.read()
        started = [l for l in log.splitlines() if "Product search started" in l and "ivory chikankari" in l]
        done = [l for l in log.splitlines() if "Product search complete" in l and "ivory chikankari" in l]
        self.assertTrue(started and done, log[-2000:])
        self.assertIn(" INFO ", started[-1])
        self.assertIn('"filters":{"color":"ivory","colorFamily":"white","category":"kurta","work":"chikankari"}', done[-1])
        self.assertIn('"total":', done[-1])

    def test_10_rebuilt_index_is_picked_up_without_restart(self):
        pids = self.stack.app.worker_pids()
        # (no fabric or handwork word: those would filter, and the old
        # index would have no emerald silk zari kurta to show)
        title = "Emerald Kurta Set Quillon"
        unique = product("IT-NEW-1", title=title, category="kurta", designer="Studio Kesar",
                         colors=["emerald"], tags=["festive", "silk", "zari"], price=4999,
                         description="An emerald silk kurta set with zari on the yoke, for festive days.")
        admin(self.stack, "import-products", self.write("new.jsonl", [unique]))

        def semantic_skus():
            out = set()
            for _ in range(4):   # reach both workers
                for n, d, _ in read_stream(self.stack, q=title, limit=50):
                    if n == "results" and d["stage"] == "semantic":
                        out |= {p["sku"] for p in d["products"]}
            return out
        before = semantic_skus()
        self.assertTrue(before)                    # the old index answers...
        self.assertNotIn("IT-NEW-1", before)       # ...without the new product
        admin(self.stack, "build-index")
        self.assertIn("IT-NEW-1", semantic_skus())
        self.assertEqual(self.stack.app.worker_pids(), pids)   # no restart


class NoIndexTest(SearchCase):
    """No index yet, then one built by another embedder: text results, INDEX_UNAVAILABLE."""

    CATALOG = 400

    def vector_progress(self, evs):
        return [d for n, d, _ in evs if n == "progress" and d["step"] == "vector_search"]

    def test_1_no_index(self):
        for path_stream in (True, False):
            if path_stream:
                evs = read_stream(self.stack, q="silk saree", limit=5)
                names = [e[0] for e in evs]
                self.assertEqual(names[-2:], ["complete", "close"])
                self.assertNotIn("error", names)
                vp = self.vector_progress(evs)
                self.assertEqual(vp[-1]["code"], "INDEX_UNAVAILABLE")
                self.assertIn("build-index", vp[-1]["message"])
                stages = [d["stage"] for n, d, _ in evs if n == "results"]
                self.assertEqual(stages, ["text", "final"])
                final = [d for n, d, _ in evs if n == "results"][-1]
                self.assertGreater(final["total"], 0)
                for p in final["products"]:
                    self.assertIsNone(p["ranks"]["vector"])
                    self.assertIsNotNone(p["ranks"]["text"])
                complete = [d for n, d, _ in evs if n == "complete"][0]
                self.assertEqual(complete["vectorSearch"], "unavailable")
            else:
                r = self.stack.get(search_path(False, q="silk saree"))
                self.assertEqual(r.status, 200)
                doc = r.json()
                codes = [s.get("code") for s in doc["steps"]]
                self.assertIn("INDEX_UNAVAILABLE", codes)
                self.assertGreater(doc["total"], 0)

    def test_2_index_of_another_embedder_is_refused(self):
        admin(self.stack, "build-index", env={"EMBEDDING_DIM": "128"})
        evs = read_stream(self.stack, q="silk saree", limit=5)
        vp = self.vector_progress(evs)
        self.assertEqual(vp[-1]["code"], "INDEX_UNAVAILABLE")
        self.assertIn("dim 128", vp[-1]["message"])
        self.assertIn("dim 384", vp[-1]["message"])
        self.assertEqual([e[0] for e in evs][-2:], ["complete", "close"])
        rc, out, _ = admin(self.stack, "stats", "--json")
        self.assertFalse(json.loads(out)["index"]["matchesConfig"])
        # rebuilt with the configured embedder: used at once
        admin(self.stack, "build-index")
        evs = read_stream(self.stack, q="silk saree", limit=5)
        self.assertIsNone(self.vector_progress(evs)[-1].get("code"))
        self.assertEqual([d["stage"] for n, d, _ in evs if n == "results"], ["text", "semantic", "final"])


class DatabaseGoneTest(SearchCase):
    """MariaDB stops while a stream is in flight (search_step_delay_ms paces the steps)."""

    WORKERS = 1
    CATALOG = 1200
    BUILD_INDEX = True
    OVERRIDES = {"search_step_delay_ms": "1500", "streaming_heartbeat_ms": "500"}

    def test_db_connection_error_after_partial_results(self):
        with self.stack.sse(search_path(True, q="silk saree", limit=5), timeout=60) as c:
            self.assertEqual(c.status, 200)
            got = []
            while True:
                e = c.next_event()
                self.assertIsNotNone(e, got)
                got.append((e.event, e.json()))
                if e.event == "results":
                    break
            self.assertEqual(got[-1][1]["stage"], "text")
            self.stack.db.stop()
            rest = [(e.event, e.json()) for e in c.read_all()[len(got):]]
        names = [n for n, _ in rest]
        self.assertEqual(names[-2:], ["error", "close"], rest)
        err = rest[-2][1]
        self.assertEqual(err["code"], "DB_CONNECTION_ERROR")
        self.assertTrue(err["partial"])
        self.assertNotIn("complete", names)
        self.assertNotIn("results", names)
        with open(self.stack.app.log_file, encoding="utf-8") as f:
            self.assertIn("DB_CONNECTION_ERROR", f.read())


if __name__ == "__main__":
    unittest.main()
