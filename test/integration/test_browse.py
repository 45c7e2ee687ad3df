"""Browsing through the attribute bitmaps (docs/search.md, "Browsing").

A search whose words all became filters lists the filtered catalog by
popularity. troika-admin builds attribute bitmaps after an import; the
workers intersect them and read the survivors by id when that is cheaper
than walking the SQL indexes. What a client sees must not change: for a
dozen browses through nginx, the whole text-stage list equals what the
filters select in SQL, computed here independently; the bitmap path is
taken for the selective ones (`textPlan` in `complete`); an import that
changes a product's tags shows in the next browse; a product inserted
behind the importer's back makes the bitmaps stale ("nobits", the walk);
with attr_bitmaps emptied every browse still works through the walk.
"""

import unittest

import harness
from test_search import SearchCase, admin, db_rows, read_stream, sql_str

CANDIDATES = 40   # search_text_candidates: the whole text list fits one results event

OCCASION_TAGS = {"wedding": ["wedding", "bridal"], "festive": ["festive", "diwali", "eid", "navratri"],
                 "diwali": ["diwali", "festive"], "eid": ["eid", "festive"], "navratri": ["navratri", "festive"],
                 "party": ["party", "cocktail"], "cocktail": ["cocktail", "party"]}
FABRIC_TAGS = {"silk": ["silk", "raw silk", "banarasi silk", "kanjeevaram silk", "tussar silk"],
               "cotton": ["cotton", "mul cotton"]}

# (query, extra parameters, the plan expected on 3,000 generated products)
BROWSES = [
    ("maroon velvet bridal lehenga", {}, "bitmap"),
    ("yellow haldi outfit", {}, "bitmap"),
    ("kanjeevaram silk saree for wedding", {}, "bitmap"),
    ("festive kurta in stock", {}, "bitmap"),
    ("sequin saree under 15000", {}, "bitmap"),
    ("navy sherwani size 40", {}, "bitmap"),
    ("silk saree with zardozi work", {}, "bitmap"),
    ("red lehenga size M under 50000", {}, "bitmap"),
    ("chikankari kurta 2k-4k", {}, "bitmap"),
    ("kurta", {"minPrice": "2000", "maxPrice": "9000", "inStock": "false"}, None),
    ("gown", {"color": "wine", "occasion": "party"}, "bitmap"),
    ("men's kurta for diwali", {}, "bitmap"),
    ("gown for cocktail party", {}, "bitmap"),
    ("lehenga", {}, "walk"),
    ("saree around 40k", {}, None),
]


def expected_sql(f, limit):
    """The browse the filters describe, written here without the app's code."""
    where = ["1 = 1"]

    def exists(table, cond):
        where.append("EXISTS (SELECT 1 FROM %s x WHERE x.product_id = p.id AND %s)" % (table, cond))

    def tags_in(tags):
        return "x.tag IN (%s)" % ", ".join(sql_str(t) for t in tags)

    if "size" in f:
        exists("product_sizes", "x.size = " + sql_str(f["size"]))
    if "colorFamily" in f:
        exists("product_colors", "x.family = " + sql_str(f["colorFamily"]))
    elif "color" in f:
        exists("product_colors", "x.color = " + sql_str(f["color"]))
    if "category" in f:
        where.append("p.category = " + sql_str(f["category"]))
    if "designer" in f:
        where.append("p.designer = " + sql_str(f["designer"]))
    if "occasion" in f:
        exists("product_tags", tags_in(OCCASION_TAGS.get(f["occasion"], [f["occasion"]])))
    if "fabric" in f:
        exists("product_tags", tags_in(FABRIC_TAGS.get(f["fabric"], [f["fabric"]])))
    if "work" in f:
        exists("product_tags", "x.tag = " + sql_str(f["work"]))
    if "minPrice" in f:
        where.append("p.price >= %r" % float(f["minPrice"]))
    if "maxPrice" in f:
        where.append("p.price <= %r" % float(f["maxPrice"]))
    if "inStock" in f:
        where.append("p.in_stock = %d" % (1 if f["inStock"] else 0))
    return ("SELECT p.sku FROM products p WHERE %s ORDER BY p.popularity DESC, p.id DESC LIMIT %d"
            % (" AND ".join(where), limit))


class BrowseTest(SearchCase):
    CATALOG = 3000
    OVERRIDES = {"search_text_candidates": str(CANDIDATES)}

    def browse(self, q, **params):
        """(text-stage skus, complete event, connected event) of a search."""
        evs = read_stream(self.stack, q=q, limit=CANDIDATES, **params)
        names = [e[0] for e in evs]
        self.assertIn("complete", names, evs[-3:])
        text = [d for n, d, _ in evs if n == "results" and d["stage"] == "text"][0]
        complete = [d for n, d, _ in evs if n == "complete"][0]
        self.assertEqual(text["textMode"], "browse", q)
        self.assertEqual(text["textPlan"], complete["textPlan"])
        return [p["sku"] for p in text["products"]], complete, evs[0][1]

    def expected(self, conn):
        return [r[0] for r in db_rows(self.stack, expected_sql(conn["filters"], CANDIDATES))]

    def check_all(self, plans=None):
        """Every browse equals the SQL; returns {query: plan}."""
        seen = {}
        for q, params, _ in BROWSES:
            skus, complete, conn = self.browse(q, **params)
            want = self.expected(conn)
            self.assertTrue(want, "no product for %r: pick another query" % q)
            self.assertEqual(skus, want, "%r (plan %s, %s)" % (q, complete["textPlan"], complete.get("browse")))
            seen[q] = complete["textPlan"]
            if plans:
                self.assertEqual(complete["textPlan"], plans, q)
        return seen

    def test_1_browse_equals_the_sql_walk(self):
        n = int(db_rows(self.stack, "SELECT COUNT(*) FROM attr_bitmaps WHERE k = '#all'")[0][0])
        self.assertEqual(n, 1, "the import built the bitmaps")
        plans = self.check_all()
        for q, _, plan in BROWSES:
            if plan:
                self.assertEqual(plans[q], plan, q)
        # the cost model's figures come with it
        _, complete, _ = self.browse("maroon velvet bridal lehenga")
        b = complete["browse"]
        self.assertGreater(b["base"], b["survivors"])
        self.assertLess(b["costBitmap"], b["costWalk"])
        with open(self.stack.app.log_file, encoding="utf-8") as f:
            self.assertIn("browse plan bitmap", f.read())

    def test_2_an_import_that_changes_tags_shows(self):
        q = "maroon velvet bridal lehenga"
        star = {"sku": "BROWSE-STAR", "title": "Star velvet lehenga", "category": "lehenga", "price": 90000,
                "colors": ["maroon"], "tags": ["velvet", "bridal"], "popularity": 1e9}
        admin(self.stack, "import-products", self.write("star.jsonl", [star]))
        skus, complete, conn = self.browse(q)
        self.assertEqual(complete["textPlan"], "bitmap")
        self.assertEqual(skus[0], "BROWSE-STAR")
        self.assertEqual(skus, self.expected(conn))
        star["tags"] = ["velvet", "sangeet"]
        admin(self.stack, "import-products", self.write("star.jsonl", [star]))
        skus, complete, conn = self.browse(q)
        self.assertEqual(complete["textPlan"], "bitmap")
        self.assertNotIn("BROWSE-STAR", skus)
        self.assertEqual(skus, self.expected(conn))
        # an unchanged rerun leaves the bitmaps alone
        before = db_rows(self.stack, "CHECKSUM TABLE attr_bitmaps")
        admin(self.stack, "import-products", self.write("star.jsonl", [star]))
        self.assertEqual(db_rows(self.stack, "CHECKSUM TABLE attr_bitmaps"), before)

    def test_3_a_product_newer_than_the_bitmaps_makes_them_stale(self):
        self.stack.db.query(
            "INSERT INTO products (sku, title, category, colors, price, currency, tags, popularity) VALUES "
            "('BROWSE-SQL', 'Inserted in SQL', 'lehenga', '[\"maroon\"]', 1000, 'INR', 'velvet, wedding', 2e9);"
            "INSERT INTO product_colors (product_id, color, family) SELECT id, 'maroon', 'red' FROM products "
            "WHERE sku = 'BROWSE-SQL';"
            "INSERT INTO product_tags (product_id, tag) SELECT id, t.tag FROM products, "
            "(SELECT 'velvet' AS tag UNION SELECT 'wedding') t WHERE sku = 'BROWSE-SQL';",
            db=harness.MariaDB.DB_NAME)
        skus, complete, conn = self.browse("maroon velvet bridal lehenga")
        self.assertEqual(complete["textPlan"], "nobits")
        self.assertEqual(skus[0], "BROWSE-SQL")
        self.assertEqual(skus, self.expected(conn))

    def test_4_without_bitmaps_browsing_walks(self):
        # an import that changes something rebuilds them (and ends test 3's staleness)
        star = {"sku": "BROWSE-STAR", "title": "Star velvet lehenga", "category": "lehenga", "price": 90000,
                "colors": ["maroon"], "tags": ["velvet", "wedding"], "popularity": 3e9}
        admin(self.stack, "import-products", self.write("star2.jsonl", [star]))
        skus, complete, conn = self.browse("maroon velvet bridal lehenga")
        self.assertEqual(complete["textPlan"], "bitmap")
        self.assertEqual(skus[:2], ["BROWSE-STAR", "BROWSE-SQL"])
        self.assertEqual(skus, self.expected(conn))
        self.stack.db.query("DELETE FROM attr_bitmaps", db=harness.MariaDB.DB_NAME)
        self.check_all(plans="nobits")


if __name__ == "__main__":
    unittest.main()
