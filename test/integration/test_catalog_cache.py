"""What a worker derives from the catalog follows the catalog at once.

Each worker keeps what it derives from the catalog (the designer names a
query is read against, ...) only while the catalog version stays the same,
and every import that changes something bumps that version
(catalog_meta "catalog_version"). So right after an import returns, every
worker answers an identical request identically, with the new catalog.

Three workers; the searches are paced (search_step_delay_ms), so three
requests in flight at once are three workers, one each (a prefork worker
takes one request at a time), and the scoreboard confirms it.
"""

import concurrent.futures
import json
import os
import shutil
import tempfile
import unittest
import urllib.parse

import harness
from test_search import admin, db_rows, generate


def lehenga(sku, designer, title):
    return {"sku": sku, "title": title, "category": "lehenga", "designer": designer, "price": 45000,
            "colors": ["emerald"], "sizes": ["M"], "tags": ["wedding", "velvet"],
            "description": "A %s by %s." % (title.lower(), designer)}


class CatalogVersionTest(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 3

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides={"search_step_delay_ms": "250"}).start()
        cls.tmp = tempfile.mkdtemp(prefix="troika-it-catver-")
        try:
            cls.base = os.path.join(cls.tmp, "base.jsonl")
            generate(cls.stack, cls.base, 300, seed=5)
            admin(cls.stack, "import-products", cls.base)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def served(self):
        """pid -> requests served, from the scoreboard."""
        r = self.stack.get("/api/health?full=1")
        self.assertEqual(r.status, 200, r)
        return {w["pid"]: w["served"] for w in r.json()["scoreboard"]}

    def burst(self, q):
        """The same search on every worker at once: their answers."""
        path = "/api/products/search?" + urllib.parse.urlencode({"q": q, "limit": 10})
        before = self.served()
        with concurrent.futures.ThreadPoolExecutor(self.WORKERS) as ex:
            answers = list(ex.map(lambda _: self.stack.get(path, timeout=60), range(self.WORKERS)))
        after = self.served()
        for r in answers:
            self.assertEqual(r.status, 200, r)
        self.assertEqual(len(after), self.WORKERS, after)
        # every worker took one of them (and the first health probe's worker one more)
        self.assertTrue(all(after[pid] > before.get(pid, -1) for pid in after), (before, after))
        return [r.json() for r in answers]

    def version(self):
        rows = db_rows(self.stack, "SELECT v FROM catalog_meta WHERE k = 'catalog_version'")
        return int(rows[0][0]) if rows else 0

    def test_a_new_designer_is_known_to_every_worker_once_the_import_returns(self):
        q = "zenith looms velvet lehenga"
        # every worker loads the designer list of the catalog without it
        for doc in self.burst(q):
            self.assertNotIn("designer", doc["filters"], doc["filters"])
        v0 = self.version()
        with open(self.base, encoding="utf-8") as f:
            lines = f.read().splitlines()
        new = [lehenga("ZL-%d" % i, "Zenith Looms", "Zenith Velvet Lehenga %d" % i) for i in range(3)]
        path = os.path.join(self.tmp, "more.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines + [json.dumps(p) for p in new]) + "\n")
        admin(self.stack, "import-products", path)
        self.assertEqual(self.version(), v0 + 1)
        docs = self.burst(q)
        for doc in docs:
            self.assertEqual(doc["filters"].get("designer"), "Zenith Looms", doc["filters"])
        skus = [[p["sku"] for p in doc["products"]] for doc in docs]
        # the designer named in the words is a preference: its three
        # lehengas first (meeting it), then others fill the page
        self.assertEqual(sorted(skus[0][:3]), ["ZL-0", "ZL-1", "ZL-2"])
        for doc in docs:
            self.assertTrue(all("designer" in p["matched"] for p in doc["products"][:3]), doc["products"][:3])
            self.assertTrue(all("designer" not in p["matched"] for p in doc["products"][3:]), doc["products"][3:])
        self.assertTrue(all(s == skus[0] for s in skus), skus)

    def test_an_unchanged_import_keeps_the_version(self):
        v0 = self.version()
        _, out, _ = admin(self.stack, "import-products", self.base, "--json")
        summary = json.loads(out)
        self.assertEqual((summary["inserted"], summary["updated"]), (0, 0), summary)
        self.assertEqual(self.version(), v0)


if __name__ == "__main__":
    unittest.main()
