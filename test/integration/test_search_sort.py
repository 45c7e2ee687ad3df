"""Product search over its whole match set: sort orders, deep paging with
offset and with the cursor (also across an import), and exact totals and
facets (docs/search.md "Sort, paging and totals").

What the app returns is checked against the database read independently
(prices, popularity, creation times, the child tables). The stacks build no
vector index: the match set is then exactly the text matches (or the
products a browse lets through), which SQL can count. search_text_candidates
is small, so that every match set here is deeper than the candidates the
first results are made of.
"""

import json
import os
import shutil
import tempfile
import time
import unittest
import urllib.parse

import harness
from test_search import admin, db_rows, generate, read_stream

SORTS = ("price_asc", "price_desc", "newest", "popularity")
MATCH = "MATCH(title, description, tags, designer, category)"


def get(stack, **params):
    r = stack.get("/api/products/search?" + urllib.parse.urlencode(params), timeout=60)
    return r.status, r.json()


class SortCase(harness.LogsOnFailure, unittest.TestCase):
    OVERRIDES = {"search_text_candidates": "20"}
    CATALOG = 1200

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=2, overrides=cls.OVERRIDES).start()
        cls.tmp = tempfile.mkdtemp(prefix="troika-it-sort-")
        try:
            cls.base = os.path.join(cls.tmp, "base.jsonl")
            generate(cls.stack, cls.base, cls.CATALOG, seed=9)
            admin(cls.stack, "import-products", cls.base)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def facts(self):
        """sku -> (price, popularity, created) read from the database."""
        rows = db_rows(self.stack, "SELECT sku, price, popularity, UNIX_TIMESTAMP(created_at) FROM products")
        return {r[0]: (float(r[1]), float(r[2]), int(r[3])) for r in rows}

    def walk(self, limit=7, **params):
        """Every page through the cursor: the skus in order, the pages and the last answer."""
        skus, docs, cursor = [], [], None
        while True:
            p = dict(params, limit=limit)
            if cursor:
                p["cursor"] = cursor
            status, doc = get(self.stack, **p)
            self.assertEqual(status, 200, doc)
            docs.append(doc)
            skus += [x["sku"] for x in doc["products"]]
            cursor = doc["cursor"]
            if not cursor:
                return skus, docs
            self.assertEqual(len(doc["products"]), limit, doc)
            self.assertLess(len(docs), 500, "the cursor never ends")

    def expected(self, skus, sort, facts):
        """skus in `sort`'s order by the database's values, ties by sku (byte order)."""
        def key(s):
            price, pop, created = facts[s]
            k = {"price_asc": price, "price_desc": -price, "newest": -created, "popularity": -pop}[sort]
            return (k, s.encode())
        return sorted(skus, key=key)


class SortTest(SortCase):

    def test_every_sort_orders_the_whole_match_set(self):
        facts = self.facts()
        text = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE %s AGAINST ('+heirloom' IN BOOLEAN MODE)"
                           % MATCH)[0][0])
        browse = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE category = 'lehenga'")[0][0])
        self.assertGreater(text, 20)
        for q, count in (("heirloom", text), ("lehenga", browse)):
            relevance, docs = self.walk(q=q)
            self.assertEqual(len(relevance), count, q)
            self.assertEqual(len(set(relevance)), count, q)
            self.assertEqual(docs[0]["total"], count)
            self.assertTrue(docs[0]["totalExact"])
            for sort in SORTS:
                skus, docs = self.walk(q=q, sort=sort)
                self.assertEqual(docs[0]["sort"], sort)
                self.assertEqual(sorted(skus), sorted(relevance), (q, sort))
                self.assertEqual(skus, self.expected(skus, sort, facts), (q, sort))

    def test_offset_pages_are_the_cursor_pages(self):
        for sort in ("relevance", "price_desc"):
            by_cursor, _ = self.walk(limit=9, q="heirloom", sort=sort)
            by_offset = []
            for off in range(0, len(by_cursor) + 9, 9):
                status, doc = get(self.stack, q="heirloom", sort=sort, limit=9, offset=off)
                self.assertEqual(status, 200, doc)
                self.assertEqual(doc["offset"], off)
                by_offset += [x["sku"] for x in doc["products"]]
            self.assertEqual(by_offset, by_cursor, sort)

    def test_totals_and_facets_count_the_whole_match_set(self):
        cases = (("heirloom", "%s AGAINST ('+heirloom' IN BOOLEAN MODE)" % MATCH),
                 ("lehenga", "category = 'lehenga'"))
        for q, where in cases:
            status, doc = get(self.stack, q=q, limit=5)
            self.assertEqual(status, 200, doc)
            ids = "SELECT id FROM products WHERE " + where
            n = int(db_rows(self.stack, "SELECT COUNT(*) FROM (%s) m" % ids)[0][0])
            self.assertEqual((doc["total"], doc["totalExact"]), (n, True), q)
            self.assertGreater(n, 20)
            f = doc["facets"]
            self.assertEqual({x["value"]: x["count"] for x in f["categories"]}, {
                r[0]: int(r[1]) for r in db_rows(self.stack, "SELECT category, COUNT(*) FROM products WHERE id IN "
                                                            "(%s) GROUP BY category" % ids)})
            self.assertEqual({x["value"]: x["count"] for x in f["colors"]}, {
                r[0]: int(r[1]) for r in db_rows(self.stack, "SELECT family, COUNT(DISTINCT product_id) FROM "
                                                            "product_colors WHERE product_id IN (%s) GROUP BY family"
                                                 % ids)})
            self.assertEqual({x["value"]: x["count"] for x in f["sizes"]}, {
                r[0]: int(r[1]) for r in db_rows(self.stack, "SELECT size, COUNT(*) FROM product_sizes WHERE "
                                                            "product_id IN (%s) GROUP BY size" % ids)})
            designers = sorted(((-int(r[1]), r[0]) for r in db_rows(
                self.stack, "SELECT designer, COUNT(*) FROM products WHERE id IN (%s) GROUP BY designer" % ids)))
            self.assertEqual([(x["value"], x["count"]) for x in f["designers"]],
                             [(d, -c) for c, d in designers[:20]])
            lo, hi = db_rows(self.stack, "SELECT MIN(price), MAX(price) FROM products WHERE id IN (%s)" % ids)[0]
            self.assertEqual((f["price"]["min"], f["price"]["max"]), (float(lo), float(hi)))

    def test_the_stream_ends_with_the_cursor(self):
        evs = read_stream(self.stack, q="lehenga", sort="price_asc", limit=4)
        final = [d for e, d, _ in evs if e == "results" and d["stage"] == "final"][0]
        self.assertEqual(final["sort"], "price_asc")
        self.assertTrue(final["totalExact"])
        status, doc = get(self.stack, q="lehenga", sort="price_asc", limit=4)
        self.assertEqual(final["cursor"], doc["cursor"])
        self.assertEqual([p["sku"] for p in final["products"]], [p["sku"] for p in doc["products"]])
        complete = [d for e, d, _ in evs if e == "complete"][0]
        self.assertEqual((complete["total"], complete["totalExact"]), (final["total"], True))

    def test_bad_sort_cursor_and_offset_are_refused(self):
        _, first = get(self.stack, q="lehenga", sort="price_asc", limit=3)
        cases = [({"q": "lehenga", "sort": "cheapest"}, "sort"),
                 ({"q": "lehenga", "cursor": "not-a-cursor"}, "cursor"),
                 ({"q": "lehenga", "cursor": first["cursor"][:-4] + "AAAA"}, "cursor"),
                 ({"q": "saree", "cursor": first["cursor"]}, "cursor"),
                 ({"q": "lehenga", "sort": "price_desc", "cursor": first["cursor"]}, "cursor"),
                 ({"q": "lehenga", "offset": "3", "cursor": first["cursor"]}, "offset")]
        for params, field in cases:
            status, doc = get(self.stack, **params)
            self.assertEqual((status, doc.get("field")), (400, field), (params, doc))
        # the cursor's own sort when the request names none
        status, doc = get(self.stack, q="lehenga", cursor=first["cursor"], limit=3)
        self.assertEqual((status, doc["sort"], doc["offset"]), (200, "price_asc", 3), doc)


class WithVectorsTest(SortCase):
    """With a vector index the match set adds the vector candidates that pass
    the filters: a walk by cursor still lists `total` products once each, in
    the order the offset pages give."""
    CATALOG = 800

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            admin(cls.stack, "build-index")
        except BaseException:
            cls.stack.close()
            raise

    def test_walks_cover_the_match_set_once(self):
        added = 0   # products the vector side adds to the text matches
        for q in ("heirloom lehenga", "embroidered kurta", "red saree"):
            for sort in ("relevance", "price_asc", "popularity"):
                skus, docs = self.walk(limit=9, q=q, sort=sort)
                total = docs[0]["total"]
                self.assertTrue(docs[0]["totalExact"], (q, sort))
                self.assertGreater(total, 18, q)   # more than two pages
                self.assertEqual(len(skus), total, (q, sort))
                self.assertEqual(len(set(skus)), total, (q, sort))
                by_offset = []
                for off in range(0, total, 9):
                    status, doc = get(self.stack, q=q, sort=sort, limit=9, offset=off)
                    self.assertEqual(status, 200, doc)
                    by_offset += [x["sku"] for x in doc["products"]]
                self.assertEqual(by_offset, skus, (q, sort))
                if sort != "relevance":
                    self.assertEqual(skus, self.expected(skus, sort, self.facts()), (q, sort))
                step = [x for x in docs[0]["steps"] if x["step"] == "text_search" and "mode" in x][0]
                if step["mode"] != "browse":   # every text match (a browse's count is its candidates)
                    self.assertLessEqual(step["count"], total)
                    added += total - step["count"]
        self.assertGreater(added, 0)


class CapTest(SortCase):
    """search_result_cap bounds the text matches fetched; a browse counts everything."""
    OVERRIDES = {"search_text_candidates": "10", "search_result_cap": "25"}

    def test_text_matches_past_the_cap(self):
        n = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE %s AGAINST ('+heirloom' IN BOOLEAN MODE)"
                        % MATCH)[0][0])
        self.assertGreater(n, 25)
        skus, docs = self.walk(q="heirloom", sort="price_asc")
        self.assertEqual((docs[0]["total"], docs[0]["totalExact"], docs[0]["capped"]), (25, False, True))
        self.assertEqual(len(skus), 25)
        self.assertEqual(len(set(skus)), 25)

    def test_a_browse_counts_and_pages_past_the_cap(self):
        n = int(db_rows(self.stack, "SELECT COUNT(*) FROM products WHERE category = 'lehenga'")[0][0])
        self.assertGreater(n, 25)
        for sort in ("relevance", "price_desc"):
            skus, docs = self.walk(limit=40, q="lehenga", sort=sort)
            self.assertEqual((docs[0]["total"], docs[0]["totalExact"]), (n, True))
            self.assertEqual(len(set(skus)), n, sort)


class ImportWhilePagingTest(SortCase):
    """A cursor continues where its page ended after an import changed the catalog."""
    CATALOG = 600

    def lehenga(self, sku, price):
        return {"sku": sku, "title": "Test Lehenga %s" % sku, "category": "lehenga", "price": price,
                "designer": "Test House", "colors": ["red"], "sizes": ["M"]}

    def import_more(self, name, extra):
        with open(self.base, encoding="utf-8") as f:
            lines = f.read().splitlines()
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines + [json.dumps(p) for p in extra]) + "\n")
        admin(self.stack, "import-products", path)

    def test_price_cursor_across_an_import(self):
        _, page1 = get(self.stack, q="lehenga", sort="price_asc", limit=10)
        shown = [p["sku"] for p in page1["products"]]
        last = page1["products"][-1]
        facts = self.facts()
        # one new lehenga cheaper than the page's last (it belongs to page 1's
        # side now: not shown again), two after it, one at its very price
        self.import_more("more1.jsonl", [self.lehenga("AA-CHEAP", facts[shown[0]][0]),
                                         self.lehenga("ZZ-LATER-1", last["price"] + 1),
                                         self.lehenga("ZZ-LATER-2", last["price"] + 2),
                                         self.lehenga("ZZ-SAME", last["price"])])
        facts = self.facts()
        everything = self.expected(
            [r[0] for r in db_rows(self.stack, "SELECT sku FROM products WHERE category = 'lehenga'")],
            "price_asc", facts)
        status, page2 = get(self.stack, q="lehenga", sort="price_asc", limit=10, cursor=page1["cursor"])
        self.assertEqual(status, 200, page2)
        got = [p["sku"] for p in page2["products"]]
        after = everything[everything.index(last["sku"]) + 1:]
        self.assertEqual(got, after[:10])
        self.assertFalse(set(got) & set(shown))
        self.assertNotIn("AA-CHEAP", got)
        self.assertEqual(page2["offset"], everything.index(last["sku"]) + 1)

    def test_relevance_cursor_across_an_import(self):
        _, page1 = get(self.stack, q="heirloom", limit=6)
        shown = [p["sku"] for p in page1["products"]]
        self.import_more("more2.jsonl", [dict(self.lehenga("HH-%d" % i, 1000 + i), title="Heirloom Lehenga %d" % i)
                                         for i in range(3)])
        whole, _ = self.walk(limit=50, q="heirloom")
        status, page2 = get(self.stack, q="heirloom", limit=6, cursor=page1["cursor"])
        self.assertEqual(status, 200, page2)
        got = [p["sku"] for p in page2["products"]]
        self.assertFalse(set(got) & set(shown))
        at = whole.index(shown[-1])
        self.assertEqual(got, whole[at + 1:at + 7])

    def test_newest_puts_the_last_import_first(self):
        time.sleep(1.1)   # created_at has whole seconds
        self.import_more("more3.jsonl", [self.lehenga("NEW-B", 5000), self.lehenga("NEW-A", 6000)])
        facts = self.facts()
        skus, _ = self.walk(limit=20, q="lehenga", sort="newest")
        self.assertEqual(skus[:2], ["NEW-A", "NEW-B"])
        self.assertEqual(skus, self.expected(skus, "newest", facts))


if __name__ == "__main__":
    unittest.main()
