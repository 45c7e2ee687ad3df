"""Aza search (issue 5): POST /aza/search/stream and POST /aza/search through nginx.

One MariaDB for the module holds a generated catalog (troika-admin
gen-catalog + import-products). AzaSearchTest runs against a stack whose
index was built (troika-admin build-index); AzaNoIndexTest against one with
no index, then builds it while the workers run. What is asserted is what a
client sees: cosine scores in [0, 1] with 4 decimals, descending, at or
above minScore for semantic results; the text fallback and the reason it
gives; the normal twin's list equal to the stream's final one; and a 400 /
413 / 415 naming the field for each bad body, with the workers unharmed.
"""

import json
import os
import re
import subprocess
import unittest

import harness

CATALOG_SIZE = 2000
SHARED_DB = None
STEPS = ["embedding", "semantic_search", "text_search_fallback", "scoring"]
FOUR_DECIMALS = re.compile(r'"score":(-?[0-9.eE+-]+)')


def admin_binary():
    return os.environ.get("TROIKA_ADMIN") or os.path.join(os.path.dirname(harness.find_fcgi_binary()),
                                                           "troika-admin")


def admin(conf_path, *args):
    """Runs troika-admin with the stack's config; returns its output (raises on failure)."""
    res = subprocess.run([admin_binary(), "-c", conf_path] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = res.stdout.decode("utf-8", "replace")
    if res.returncode != 0:
        raise RuntimeError("troika-admin %s failed (%d):\n%s" % (" ".join(args), res.returncode, out))
    return out


def import_catalog(db):
    """The module's catalog, imported into the shared database by troika-admin."""
    # A config that points at the shared database, for troika-admin.
    conf = harness.Troika(db.tmp, db).conf_path
    catalog = os.path.join(db.tmp, "catalog.jsonl")
    admin(conf, "gen-catalog", "--count", str(CATALOG_SIZE), "--seed", "7", "--out", catalog)
    admin(conf, "import-products", catalog)


harness.shared_db_module(globals(), prefix="troika-it-aza-", after=import_catalog)


class AzaCase(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 2
    BUILD_INDEX = True
    OVERRIDES = {"max_requests": "0"}

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides=cls.OVERRIDES, db=SHARED_DB).start()
        try:
            if cls.BUILD_INDEX:
                admin(cls.stack.app.conf_path, "build-index")
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    # -- clients --------------------------------------------------------
    def stream(self, body):
        """POSTs body (a dict, or raw bytes) to the stream; returns (status, events)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self.stack.sse("/aza/search/stream", method="POST", body=data,
                            headers={"Content-Type": "application/json"}) as s:
            events = s.read_all()
            return s.status, events, bytes(s.raw_body)

    def normal(self, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.stack.request("POST", "/aza/search", body=data, headers={"Content-Type": content_type})

    def search(self, body):
        """A successful stream: its events by type, and the raw body."""
        status, events, raw = self.stream(body)
        self.assertEqual(status, 200, raw[:500])
        names = [e.event for e in events]
        self.assertEqual(names[0], "connected", names)
        self.assertEqual(names[-2:], ["complete", "close"], names)
        self.assertNotIn("error", names)
        return events, raw

    @staticmethod
    def of(events, name):
        return [e.json() for e in events if e.event == name]

    def progress(self, events, step):
        return [p for p in self.of(events, "progress") if p["step"] == step]

    def assert_scores(self, products, min_score):
        """Scores in [0, 1] with at most 4 decimals, descending; semantic ones >= minScore,
        and every semantic result before every text one."""
        scores = [p["score"] for p in products]
        self.assertEqual(scores, sorted(scores, reverse=True), scores)
        for p in products:
            self.assertGreaterEqual(p["score"], 0.0)
            self.assertLessEqual(p["score"], 1.0)
            self.assertEqual(round(p["score"], 4), p["score"])
            self.assertIn(p["source"], ("semantic", "text"))
            if p["source"] == "semantic":
                self.assertGreaterEqual(p["score"], min_score, p)
        sources = [p["source"] for p in products]
        self.assertEqual(sources, sorted(sources, key=lambda s: s != "semantic"), sources)


class AzaSearchTest(AzaCase):
    """With a product index."""

    def test_stream_shape_scores_and_min_score(self):
        events, raw = self.search({"query": "red lehenga for a wedding", "limit": 10})
        # Steps in order, each started and ended.
        steps = [p["step"] for p in self.of(events, "progress")]
        self.assertEqual([s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s], STEPS, steps)
        # Each step starts and ends; a fallback that is not needed says so once.
        for s in STEPS:
            self.assertEqual(steps.count(s), 1 if s == "text_search_fallback" else 2, steps)
        results = self.of(events, "results")
        self.assertEqual([r["stage"] for r in results], ["semantic", "final"])
        connected = self.of(events, "connected")[0]
        self.assertEqual(connected["query"], "red lehenga for a wedding")
        self.assertEqual(connected["minScore"], 0.3)   # aza_min_score default
        final = results[-1]
        self.assertEqual(final["type"], "product_cards")
        self.assertEqual(len(final["products"]), 10)
        self.assert_scores(final["products"], 0.3)
        self.assertTrue(all(p["source"] == "semantic" for p in final["products"]))
        for p in final["products"]:
            for key in ("sku", "title", "price", "currency", "category", "designer", "colors", "sizes", "inStock",
                        "imageUrl", "url", "score", "ranks", "source"):
                self.assertIn(key, p)
        # "red" and "lehenga" became filters, as in product search.
        self.assertTrue(all(p["category"] == "lehenga" for p in final["products"]), final["products"])
        # The semantic stage is the head of the final list here.
        self.assertEqual(results[0]["products"], final["products"])
        # Scores travel with at most four decimals on the wire.
        for s in FOUR_DECIMALS.findall(raw.decode()):
            self.assertLessEqual(len(s.partition(".")[2]), 4, s)
        done = self.of(events, "complete")[0]
        for key in ("total", "duration", "semanticCount", "textCount", "minScore"):
            self.assertIn(key, done)
        self.assertEqual(done["semanticCount"], 10)
        self.assertEqual(done["textCount"], 0)
        self.assertEqual(done["total"], final["total"])
        fallback = self.progress(events, "text_search_fallback")
        self.assertTrue(fallback[-1].get("skipped"), fallback)

    def test_min_score_applies_before_totals_and_facets(self):
        body = {"query": "embroidered sherwani for the groom", "limit": 5}
        low = self.of(self.search(dict(body, minScore=0.2))[0], "results")[-1]
        high = self.of(self.search(dict(body, minScore=0.4))[0], "results")[-1]
        self.assertGreater(low["total"], high["total"])
        for r, ms in ((low, 0.2), (high, 0.4)):
            self.assertEqual(r["minScore"], ms)
            self.assert_scores(r["products"], ms)
            # Every counted product is in exactly one category facet.
            self.assertEqual(sum(f["count"] for f in r["facets"]["categories"]), r["total"], r["facets"])

    def test_nonsense_query_falls_back_to_text(self):
        # nothing reaches minScore: text search fills in ("quuxifrag", no
        # product's word, is said and left out; the saree is what it is about)
        events, _ = self.search({"query": "quuxifrag saree", "limit": 6, "minScore": 0.99})
        self.assertEqual(self.of(events, "connected")[0]["unmatched"], ["quuxifrag"])
        fb = self.progress(events, "text_search_fallback")
        self.assertEqual(len(fb), 2, fb)
        self.assertEqual(fb[0]["reason"], "TOO_FEW_SEMANTIC_RESULTS", fb)
        self.assertIn("minScore", fb[0]["message"])
        done = self.of(events, "complete")[0]
        self.assertEqual(done["semanticCount"], 0)
        self.assertEqual(done["fallback"], "TOO_FEW_SEMANTIC_RESULTS")
        self.assertEqual(self.of(events, "results")[0]["products"], [])
        final = self.of(events, "results")[-1]
        self.assertTrue(final["products"])
        self.assertTrue(all(p["source"] == "text" and p["category"] == "saree" for p in final["products"]))
        # words no product has, and nothing else: the shop has no such thing
        events, _ = self.search({"query": "xqzvw blorptangle quuxifrag", "limit": 6})
        self.assertEqual(self.of(events, "connected")[0]["unmatched"], ["xqzvw", "blorptangle", "quuxifrag"])
        for step in ("embedding", "semantic_search", "text_search_fallback"):
            self.assertTrue(self.progress(events, step)[0].get("skipped"), step)
        final = self.of(events, "results")[-1]
        self.assertEqual((final["products"], final["total"], final["unmatched"]),
                         ([], 0, ["xqzvw", "blorptangle", "quuxifrag"]))

    def test_text_fills_what_semantic_search_leaves(self):
        # At minScore 0.45 only a few products are close enough; text matches fill the rest.
        events, _ = self.search({"query": "kurta", "limit": 20, "minScore": 0.45})
        final = self.of(events, "results")[-1]
        done = self.of(events, "complete")[0]
        self.assertLess(done["semanticCount"], 20)
        self.assertEqual(done["semanticCount"] + done["textCount"], len(final["products"]))
        self.assertEqual(len(final["products"]), 20)
        self.assertGreater(done["textCount"], 0)
        self.assert_scores(final["products"], 0.45)
        skus = [p["sku"] for p in final["products"]]
        self.assertEqual(len(skus), len(set(skus)), "a product listed twice")
        for p in final["products"]:
            if p["source"] == "text":
                self.assertLessEqual(p["score"], 0.45)
                self.assertIsNotNone(p["ranks"]["text"])
        self.assertEqual(self.progress(events, "text_search_fallback")[0]["reason"], "TOO_FEW_SEMANTIC_RESULTS")

    def test_filters_apply_to_every_result(self):
        body = {"query": "silk saree", "limit": 12, "minScore": 0.1,
                "filters": {"category": "Sarees", "maxPrice": 15000, "minPrice": 2000, "inStock": True}}
        events, _ = self.search(body)
        final = self.of(events, "results")[-1]
        self.assertGreater(len(final["products"]), 0)
        for p in final["products"]:
            self.assertEqual(p["category"], "saree")
            self.assertTrue(2000 <= p["price"] <= 15000, p)
            self.assertTrue(p["inStock"], p)
        f = self.of(events, "connected")[0]["filters"]
        self.assertEqual((f["category"], f["maxPrice"], f["minPrice"], f["inStock"]), ("saree", 15000, 2000, True))

    def test_designer_name_in_the_query_is_a_filter(self):
        out = SHARED_DB.query("SELECT designer FROM products WHERE category = 'kurta' GROUP BY designer "
                              "ORDER BY COUNT(*) DESC, designer LIMIT 2", db="troika").stdout.decode()
        name, other = out.strip().split("\n")[:2]
        events, _ = self.search({"query": "%s kurta" % name.upper(), "limit": 10, "minScore": 0.1})
        f = self.of(events, "connected")[0]["filters"]
        self.assertEqual((f.get("designer"), f.get("category")), (name, "kurta"))
        final = self.of(events, "results")[-1]
        self.assertGreater(len(final["products"]), 0)
        for p in final["products"]:
            self.assertEqual((p["designer"], p["category"]), (name, "kurta"), p)
        # filters.designer wins over the name in the query
        events, _ = self.search({"query": "%s kurta" % name, "limit": 5, "minScore": 0.1,
                                 "filters": {"designer": other}})
        self.assertEqual(self.of(events, "connected")[0]["filters"].get("designer"), other)
        for p in self.of(events, "results")[-1]["products"]:
            self.assertEqual(p["designer"], other)

    def test_normal_twin_carries_the_same_final_list(self):
        for body in ({"query": "pastel anarkali for haldi", "limit": 7},
                     {"query": "kurta", "limit": 15, "minScore": 0.45},
                     {"query": "xqzvw blorptangle", "limit": 4}):
            events, _ = self.search(body)
            final = self.of(events, "results")[-1]
            done = self.of(events, "complete")[0]
            resp = self.normal(body)
            self.assertEqual(resp.status, 200, resp)
            doc = resp.json()
            self.assertTrue(doc["success"])
            self.assertEqual(doc["stage"], "final")
            self.assertEqual(doc["products"], final["products"], body)
            for key in ("total", "semanticCount", "textCount", "minScore", "fallback"):
                self.assertEqual(doc[key], done[key], key)
            self.assertEqual([s["step"] for s in doc["steps"]],
                             [p["step"] for p in self.of(events, "progress")])

    def test_sort_orders_every_result_by_the_key(self):
        body = {"query": "silk saree", "limit": 50, "minScore": 0.3}
        by_score, _ = self.search(body)
        plain = self.of(by_score, "complete")[0]
        for sort, desc in (("price_asc", False), ("price_desc", True)):
            events, _ = self.search(dict(body, sort=sort))
            self.assertEqual(self.of(events, "connected")[0]["sort"], sort)
            final = self.of(events, "results")[-1]
            self.assertEqual(final["sort"], sort)
            got = [(p["price"], p["sku"]) for p in final["products"]]
            self.assertEqual(got, sorted(got, key=lambda x: (-x[0] if desc else x[0], x[1])), sort)
            # every candidate at minScore is ordered, not only the nearest page
            self.assertGreaterEqual(final["total"], plain["total"])
            for p in final["products"]:
                if p["source"] == "semantic":
                    self.assertGreaterEqual(p["score"], 0.3, p)
            # a smaller page is the head of the same order
            small, _ = self.search(dict(body, sort=sort, limit=7))
            self.assertEqual([p["sku"] for p in self.of(small, "results")[-1]["products"]],
                             [p["sku"] for p in final["products"]][:7])
            resp = self.normal(dict(body, sort=sort))
            self.assertEqual(resp.json()["products"], final["products"])
        events, _ = self.search(dict(body, sort="newest"))
        skus = [p["sku"] for p in self.of(events, "results")[-1]["products"]]
        out = SHARED_DB.query("SELECT sku, UNIX_TIMESTAMP(created_at) FROM products WHERE sku IN (%s)"
                              % ",".join("'%s'" % x for x in skus), db="troika").stdout.decode()
        created = {line.split("\t")[0]: float(line.split("\t")[1]) for line in out.strip().split("\n")}
        self.assertEqual(skus, sorted(skus, key=lambda x: (-created[x], x)))

    def test_bad_bodies(self):
        pids = sorted(self.stack.app.worker_pids())
        deep = b"[" * 1000 + b"]" * 1000
        deep_obj = b'{"query":"a","filters":' + b'{"a":' * 1000 + b"1" + b"}" * 1001
        cases = [
            # (body, content type, status, code, field)
            (b"not json", "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b"", "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b'{"query":"a"} trailing', "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b"[1, 2]", "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b'"just a string"', "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b"{}", "application/json", 400, "INVALID_PARAMETERS", "query"),
            (b'{"query": "   "}', "application/json", 400, "INVALID_PARAMETERS", "query"),
            (b'{"query": 5}', "application/json", 400, "INVALID_PARAMETERS", "query"),
            (b'{"query": {"q": "a"}}', "application/json", 400, "INVALID_PARAMETERS", "query"),
            (b'{"query": ["a"]}', "application/json", 400, "INVALID_PARAMETERS", "query"),
            (json.dumps({"query": "\u00e9" * 257}).encode(), "application/json", 400, "INVALID_PARAMETERS",
             "query"),
            (b'{"query": "a", "limit": "5"}', "application/json", 400, "INVALID_PARAMETERS", "limit"),
            (b'{"query": "a", "limit": -1}', "application/json", 400, "INVALID_PARAMETERS", "limit"),
            (b'{"query": "a", "limit": 0}', "application/json", 400, "INVALID_PARAMETERS", "limit"),
            (b'{"query": "a", "limit": 51}', "application/json", 400, "INVALID_PARAMETERS", "limit"),
            (b'{"query": "a", "limit": 2.5}', "application/json", 400, "INVALID_PARAMETERS", "limit"),
            (b'{"query": "a", "limit": true}', "application/json", 400, "INVALID_PARAMETERS", "limit"),
            (b'{"query": "a", "minScore": 2}', "application/json", 400, "INVALID_PARAMETERS", "minScore"),
            (b'{"query": "a", "minScore": -0.1}', "application/json", 400, "INVALID_PARAMETERS", "minScore"),
            (b'{"query": "a", "minScore": "0.5"}', "application/json", 400, "INVALID_PARAMETERS", "minScore"),
            (b'{"query": "a", "sort": "cheapest"}', "application/json", 400, "INVALID_PARAMETERS", "sort"),
            (b'{"query": "a", "sort": 1}', "application/json", 400, "INVALID_PARAMETERS", "sort"),
            (b'{"query": "a", "filters": "red"}', "application/json", 400, "INVALID_PARAMETERS", "filters"),
            (b'{"query": "a", "filters": [1]}', "application/json", 400, "INVALID_PARAMETERS", "filters"),
            (b'{"query": "a", "filters": {"colour": "red"}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.colour"),
            (b'{"query": "a", "filters": {"size": 38}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.size"),
            (b'{"query": "a", "filters": {"color": ["red"]}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.color"),
            (b'{"query": "a", "filters": {"category": {}}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.category"),
            (b'{"query": "a", "filters": {"designer": false}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.designer"),
            (b'{"query": "a", "filters": {"minPrice": "100"}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.minPrice"),
            (b'{"query": "a", "filters": {"maxPrice": -5}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.maxPrice"),
            (b'{"query": "a", "filters": {"minPrice": 900, "maxPrice": 100}}', "application/json", 400,
             "INVALID_PARAMETERS", "filters.minPrice"),
            (b'{"query": "a", "filters": {"inStock": "true"}}', "application/json", 400, "INVALID_PARAMETERS",
             "filters.inStock"),
            (deep, "application/json", 400, "INVALID_PARAMETERS", "body"),
            (deep_obj, "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b'{"query": "\xff\xfe lehenga"}', "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b'{"query": "caf\xc3"}', "application/json", 400, "INVALID_PARAMETERS", "body"),
            (b'{"query": "' + b"a" * (70 * 1024) + b'"}', "application/json", 413, "PAYLOAD_TOO_LARGE", None),
            (b'{"query": "lehenga"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", None),
            (b"query=lehenga", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE", None),
        ]
        for body, ctype, status, code, field in cases:
            for path in ("/aza/search/stream", "/aza/search"):
                with self.subTest(path=path, body=body[:60], ctype=ctype):
                    resp = self.stack.request("POST", path, body=body, headers={"Content-Type": ctype})
                    self.assertEqual(resp.status, status, resp)
                    self.assertTrue(resp.header("Content-Type", "").startswith("application/json"), resp)
                    doc = resp.json()
                    self.assertEqual(doc["code"], code, doc)
                    self.assertEqual(doc["status"], status, doc)
                    for key in ("error", "message", "requestId", "timestamp"):
                        self.assertIn(key, doc)
                    if field:
                        self.assertEqual(doc.get("field"), field, doc)
                        self.assertIn(field.split(".")[-1] if field != "body" else "", doc["message"])
        # The same workers still serve, and nothing crashed.
        self.assertEqual(sorted(self.stack.app.worker_pids()), pids)
        events, _ = self.search({"query": "lehenga", "limit": 3})
        self.assertEqual(len(self.of(events, "results")[-1]["products"]), 3)
        with open(self.stack.app.log_file, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertNotRegex(log, r"killed by signal|exited with|CRASH STORM")
        self.assertEqual(sorted(self.stack.app.worker_pids()), pids)

    def test_get_is_not_allowed(self):
        resp = self.stack.get("/aza/search?query=lehenga")
        self.assertEqual(resp.status, 405)
        self.assertEqual(resp.header("Allow"), "POST")
        self.assertEqual(resp.json()["code"], "METHOD_NOT_ALLOWED")


class AzaNoIndexTest(AzaCase):
    """No product index yet: text search answers; once built, semantic search does."""

    BUILD_INDEX = False

    def test_missing_index_then_built(self):
        events, _ = self.search({"query": "navy blue sherwani", "limit": 5})
        fb = self.progress(events, "text_search_fallback")
        self.assertEqual(fb[0]["reason"], "INDEX_UNAVAILABLE", fb)
        self.assertEqual(fb[0]["code"], "INDEX_UNAVAILABLE", fb)
        self.assertEqual(self.progress(events, "semantic_search")[-1]["code"], "INDEX_UNAVAILABLE")
        final = self.of(events, "results")[-1]
        self.assertEqual(len(final["products"]), 5)
        self.assertTrue(all(p["source"] == "text" for p in final["products"]), final["products"])
        self.assertTrue(all(p["category"] == "sherwani" for p in final["products"]), final["products"])
        self.assert_scores(final["products"], 0.3)
        done = self.of(events, "complete")[0]
        self.assertEqual((done["semanticCount"], done["textCount"], done["fallback"]), (0, 5, "INDEX_UNAVAILABLE"))
        twin = self.normal({"query": "navy blue sherwani", "limit": 5}).json()
        self.assertEqual(twin["products"], final["products"])

        # Built while the workers run: picked up at their next search, no restart.
        pids = sorted(self.stack.app.worker_pids())
        admin(self.stack.app.conf_path, "build-index")
        for _ in range(2 * self.WORKERS):   # each worker at least once, whichever answers
            events, _ = self.search({"query": "navy blue sherwani", "limit": 5})
            done = self.of(events, "complete")[0]
            self.assertEqual(done["semanticCount"], 5, done)
            self.assertIsNone(done["fallback"])
        self.assertEqual(sorted(self.stack.app.worker_pids()), pids)

        # Removed again: back to text, not a failure.
        for name in os.listdir(self.stack.app.settings["index_dir"]):
            os.unlink(os.path.join(self.stack.app.settings["index_dir"], name))
        for _ in range(2 * self.WORKERS):
            events, _ = self.search({"query": "navy blue sherwani", "limit": 5})
            self.assertEqual(self.of(events, "complete")[0]["fallback"], "INDEX_UNAVAILABLE")


if __name__ == "__main__":
    unittest.main()
