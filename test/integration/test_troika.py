"""The Troika sales agent (issue 9) through nginx, on a known catalog.

The fixture catalog (test/fixtures/troika_catalog.jsonl) is imported with
`troika-admin import-products`. Market figures are checked against values
this test computes itself: its own SQL through the `mariadb` client, and
quartiles in Python (statistics.quantiles, inclusive method). Also: event
order, the relaxation ladder, a two-turn conversation, every product the
answer names being in the results, request validation, the normal twin, and
the openai path against the fake upstream (test/fixtures/fake_openai.py),
including an answer that invents a product.
"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
CATALOG = os.path.join(FIXTURES, "troika_catalog.jsonl")
FAKE = os.path.join(FIXTURES, "fake_openai.py")
STREAM = "/api/troika/intelligent-chat/stream"
NORMAL = "/api/troika/intelligent-chat"
HEADLINE = "I need a red lehenga for my sister's sangeet, budget around 40k, size M"

SHARED_DB = None


def admin_binary():
    return os.path.join(os.path.dirname(harness.find_fcgi_binary()), "troika-admin")


def import_catalog(stack):
    res = subprocess.run([admin_binary(), "-c", stack.app.conf_path, "import-products", CATALOG],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=stack.app.environ(),
                         timeout=120)
    if res.returncode != 0:
        raise RuntimeError("import-products failed (%d): %s" % (res.returncode, res.stdout.decode()))


def load_catalog():
    with open(CATALOG, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


harness.shared_db_module(globals())


def sql_rows(sql):
    """Rows of the test's own query, as lists of strings."""
    res = SHARED_DB.query(sql, db=SHARED_DB.DB_NAME)
    out = res.stdout.decode("utf-8").strip("\n")
    return [line.split("\t") for line in out.split("\n")] if out else []


class TroikaCase(unittest.TestCase):
    WORKERS = 2
    OVERRIDES = None
    catalog = load_catalog()

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides=cls.OVERRIDES, db=SHARED_DB).start()
        try:
            import_catalog(cls.stack)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def run(self, result=None):
        res = super().run(result)
        if result is not None and not result.wasSuccessful() and os.environ.get("TROIKA_IT_VERBOSE"):
            sys.stderr.write(self.stack.diagnostics() + "\n")
        return res

    # -- helpers -----------------------------------------------------------
    def chat(self, body, timeout=30):
        """The whole stream: [(event, data)]; asserts the SSE head."""
        with self.stack.sse(STREAM, timeout=timeout, method="POST", body=body) as s:
            self.assertEqual(s.status, 200, s.status_line)
            events = s.read_all()
        return [(e.event, e.json()) for e in events]

    @staticmethod
    def first(events, name):
        for ev, data in events:
            if ev == name:
                return data
        return None

    @staticmethod
    def all_of(events, name):
        return [d for ev, d in events if ev == name]

    def final_products(self, events):
        res = self.all_of(events, "results")
        self.assertTrue(res, "no results event")
        self.assertEqual(res[-1]["stage"], "final")
        return res[-1]["products"]

    def full_text(self, events):
        texts = self.all_of(events, "text")
        return texts[-1]["fullText"] if texts else ""

    def by_sku(self, sku):
        return next(p for p in self.catalog if p["sku"] == sku)


class MarketTest(TroikaCase):
    """Market figures against the test's own SQL and statistics."""

    def expected_segment(self, where):
        rows = sql_rows("SELECT p.price, p.in_stock, COALESCE(p.designer, '') FROM products p WHERE %s "
                        "ORDER BY p.price" % where)
        prices = [float(r[0]) for r in rows]
        return prices, rows

    def check_figures(self, market, where, where_nocolor=None, family=None):
        prices, rows = self.expected_segment(where)
        self.assertEqual(market["count"], len(prices))
        self.assertEqual(market["inStock"], sum(int(r[1]) for r in rows))
        self.assertEqual(market["designerCount"], len({r[2] for r in rows if r[2]}))
        price = market["price"]
        self.assertAlmostEqual(price["min"], prices[0], places=2)
        self.assertAlmostEqual(price["max"], prices[-1], places=2)
        if len(prices) >= 2:
            q1, med, q3 = statistics.quantiles(prices, n=4, method="inclusive")
        else:
            q1 = med = q3 = prices[0]
        self.assertAlmostEqual(price["q1"], round(q1, 2), places=2)
        self.assertAlmostEqual(price["median"], round(med, 2), places=2)
        self.assertAlmostEqual(price["q3"], round(q3, 2), places=2)
        # top designers with counts, most first
        des = sql_rows("SELECT p.designer, COUNT(*) n FROM products p WHERE %s AND p.designer <> '' "
                       "GROUP BY p.designer ORDER BY n DESC, p.designer LIMIT 5" % where)
        self.assertEqual([(d["name"], d["count"]) for d in market["topDesigners"]],
                         [(r[0], int(r[1])) for r in des])
        # top colours: the shades of the segment's family (every shade when it has none)
        cols = sql_rows("SELECT c.color, COUNT(DISTINCT p.id) n FROM products p JOIN product_colors c "
                        "ON c.product_id = p.id WHERE %s %s GROUP BY c.color ORDER BY n DESC, c.color LIMIT 5"
                        % (where_nocolor or where, "AND c.family = '%s'" % family if family else ""))
        self.assertEqual([(c["name"], c["count"]) for c in market["topColors"]],
                         [(r[0], int(r[1])) for r in cols])
        trend = sql_rows("SELECT p.sku FROM products p WHERE %s ORDER BY p.popularity DESC, p.id LIMIT 5" % where)
        self.assertEqual([t["sku"] for t in market["trending"]], [r[0] for r in trend])

    def test_headline_segment(self):
        events = self.chat({"message": HEADLINE})
        market = self.first(events, "market")
        self.assertIsNotNone(market)
        self.assertFalse(market["relaxed"])
        seg = market["segment"]
        self.assertEqual(seg["category"], "lehenga")
        self.assertEqual(seg["color"], "red")
        self.assertEqual(seg["budget"], {"min": 34000, "max": 46000})
        self.assertIn("red lehenga around \u20b940,000", seg["description"])
        where = ("p.category = 'lehenga' AND p.price BETWEEN 34000 AND 46000 AND EXISTS (SELECT 1 FROM "
                 "product_colors c WHERE c.product_id = p.id AND c.family = 'red')")
        self.check_figures(market, where, "p.category = 'lehenga' AND p.price BETWEEN 34000 AND 46000", "red")
        # the fixture's own arithmetic agrees (independent of SQL)
        reds = {"red", "maroon", "crimson", "wine", "scarlet"}
        mine = sorted(p["price"] for p in self.catalog if p["category"] == "lehenga" and
                      34000 <= p["price"] <= 46000 and reds & set(p["colors"]))
        self.assertEqual(market["count"], len(mine))
        self.assertAlmostEqual(market["price"]["median"], statistics.median(mine), places=2)
        # the answer states them with Indian digit grouping
        text = self.full_text(events)
        self.assertIn("For a red lehenga around \u20b940,000 I found %d pieces" % len(mine), text)
        self.assertIn("median \u20b9%s" % format_inr(statistics.median(mine)), text)

    def test_category_segment(self):
        events = self.chat({"message": "what's the price range for sarees?"})
        market = self.first(events, "market")
        self.assertEqual(self.first(events, "intent")["intent"], "price_inquiry")
        self.check_figures(market, "p.category = 'saree'")
        self.assertIn("Half of them cost between", self.full_text(events))

    def test_empty_segment_relaxes_to_category(self):
        events = self.chat({"message": "black sherwani under 5000"})
        market = self.first(events, "market")
        self.assertTrue(market["relaxed"])
        self.assertEqual(market["segment"]["category"], "sherwani")
        self.assertIsNone(market["segment"]["color"])
        self.assertEqual(market["requested"]["color"], "black")
        self.check_figures(market, "p.category = 'sherwani'")
        steps = [d for ev, d in events if ev == "progress" and d["step"] == "market_intelligence"]
        self.assertTrue(any("the whole sherwani category" in s["message"] for s in steps), steps)


def format_inr(v):
    """Indian digit grouping, as the app writes it."""
    s = "%d" % round(v)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join(groups + [tail])


class StreamTest(TroikaCase):
    """Event order and content of one answer; the answer's products."""

    def test_event_order(self):
        events = self.chat({"message": HEADLINE})
        names = [ev for ev, _ in events]
        self.assertEqual(names[0], "connected")
        self.assertEqual(names[-1], "close")
        self.assertEqual(names[-2], "complete")
        self.assertNotIn("error", names)
        order = [names.index(n) for n in ("intent", "market", "results", "text", "suggestions", "complete")]
        self.assertEqual(order, sorted(order), names)
        self.assertEqual(names.count("intent"), 1)
        self.assertEqual(names.count("market"), 1)
        # steps in their order, each started and ended
        steps = [d["step"] for ev, d in events if ev == "progress" and d["step"] in
                 ("intent_analysis", "market_intelligence", "product_matching", "generation", "tts")]
        firsts = []
        for s in steps:
            if s not in firsts:
                firsts.append(s)
        self.assertEqual(firsts, ["intent_analysis", "market_intelligence", "product_matching", "generation",
                                  "tts"])
        for ev, data in events:
            self.assertIn("requestId", data)
            self.assertRegex(data["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        conn = events[0][1]
        self.assertEqual(conn["message"], "Stream started")
        self.assertTrue(conn["sessionId"])
        intent = self.first(events, "intent")
        self.assertEqual(intent["intent"], "product_search")
        self.assertGreaterEqual(intent["confidence"], 0.85)
        ents = intent["entities"]
        self.assertEqual((ents["category"], ents["color"], ents["size"], ents["occasion"]),
                         ("lehenga", "red", "M", "sangeet"))
        self.assertEqual(ents["budget"], {"min": 34000, "max": 46000, "around": 40000})
        self.assertEqual(intent["sources"], {k: "message" for k in ("category", "color", "size", "budget",
                                                                     "occasion")})
        complete = self.first(events, "complete")
        self.assertEqual(complete["sessionId"], conn["sessionId"])
        self.assertEqual(complete["total"], len(self.final_products(events)))
        self.assertEqual(complete["relaxed"], [])

    def test_products_satisfy_filters(self):
        events = self.chat({"message": HEADLINE})
        products = self.final_products(events)
        self.assertTrue(products)
        reds = {"red", "maroon", "crimson", "wine", "scarlet"}
        for p in products:
            self.assertEqual(p["category"], "lehenga")
            self.assertTrue(34000 <= p["price"] <= 46000, p)
            self.assertIn("M", p["sizes"])
            self.assertTrue(reds & set(p["colors"]), p)

    def test_answer_names_only_results(self):
        for msg in (HEADLINE, "compare red lehengas under 50000", "what should I wear to a mehendi?",
                    "is the green anarkali available in XL?", "kurtas for office"):
            events = self.chat({"message": msg})
            text = self.full_text(events)
            shown = {p["sku"] for p in self.final_products(events)} if self.all_of(events, "results") else set()
            named = {p["sku"] for p in self.catalog if p["title"] in text or p["sku"] in text}
            self.assertTrue(named <= shown, "%s: the answer names %s, results hold %s" % (msg, named, shown))
            if shown:
                self.assertTrue(named, "%s: the answer names no product: %s" % (msg, text))

    def test_greeting_and_support(self):
        events = self.chat({"message": "namaste"})
        self.assertEqual(self.first(events, "intent")["intent"], "greeting")
        self.assertIsNone(self.first(events, "market"))
        self.assertIn("Namaste", self.full_text(events))
        self.assertTrue(self.first(events, "suggestions")["suggestions"])
        events = self.chat({"message": "where is my order?"})
        self.assertEqual(self.first(events, "intent")["intent"], "support")
        self.assertIn("customer care", self.full_text(events))

    def test_suggestions_carry_counts(self):
        events = self.chat({"message": HEADLINE})
        sug = self.first(events, "suggestions")
        self.assertTrue(2 <= len(sug["suggestions"]) <= 4, sug)
        colors = [d for d in sug["details"] if d["kind"] == "color"]
        self.assertTrue(colors, sug)
        fam = colors[0]["text"].split()[2]
        n = sql_rows("SELECT COUNT(DISTINCT p.id) FROM products p JOIN product_colors c ON c.product_id = p.id "
                     "WHERE p.category = 'lehenga' AND p.price BETWEEN 34000 AND 46000 AND c.family = '%s'" % fam)
        self.assertEqual(colors[0]["count"], int(n[0][0]))

    def test_normal_twin(self):
        r = self.stack.request("POST", NORMAL, json.dumps({"query": HEADLINE}),
                               {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertTrue(doc["success"])
        self.assertEqual(doc["intent"]["intent"], "product_search")
        self.assertEqual(doc["market"]["segment"]["category"], "lehenga")
        self.assertEqual(doc["stage"], "final")
        self.assertTrue(doc["products"])
        self.assertIn("My pick for the sangeet", doc["text"])
        self.assertTrue(doc["suggestions"])
        self.assertIn("duration", doc)
        steps = [s["step"] for s in doc["steps"]]
        self.assertIn("product_matching", steps)


class ValidationTest(TroikaCase):
    """Types are checked before the stream opens: 400 naming the field."""

    def post(self, body, raw=False):
        data = body if raw else json.dumps(body)
        return self.stack.request("POST", STREAM, data, {"Content-Type": "application/json"})

    def test_fields(self):
        cases = [
            ({}, "message"),
            ({"message": 42}, "message"),
            ({"query": ["red lehenga"]}, "query"),
            ({"message": "   "}, "message"),
            ({"message": "x" * 4001}, "message"),
            ({"message": "hi", "enableTTS": "yes"}, "enableTTS"),
            ({"message": "hi", "sessionId": "bad id!"}, "sessionId"),
            ({"message": "hi", "sessionId": 7}, "sessionId"),
            ({"message": "hi", "customerContext": "rich"}, "customerContext"),
            ({"message": "hi", "customerContext": {"budget": "lots"}}, "customerContext.budget"),
            ({"message": "hi", "customerContext": {"budget": {"min": "a"}}}, "customerContext.budget.min"),
            ({"message": "hi", "customerContext": {"preferredSizes": "M"}}, None),
            ({"message": "hi", "customerContext": {"preferredSizes": [1]}}, "customerContext.preferredSizes"),
            ({"message": "hi", "customerContext": {"location": 5}}, "customerContext.location"),
            ({"message": "hi", "chatbotId": {}}, "chatbotId"),
        ]
        for body, field in cases:
            r = self.post(body)
            if field is None:
                self.assertEqual(r.status, 200, (body, r.body[:200]))
                continue
            self.assertEqual(r.status, 400, (body, r.body))
            doc = r.json()
            self.assertEqual(doc["code"], "INVALID_PARAMETERS", doc)
            self.assertEqual(doc.get("field"), field, (body, doc))

    def test_malformed_and_media_type(self):
        r = self.post("{not json", raw=True)
        self.assertEqual(r.status, 400)
        r = self.stack.request("POST", STREAM, "message=hi", {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 415)
        r = self.stack.request("GET", STREAM)
        self.assertEqual(r.status, 405)

    def test_customer_context_fills_gaps(self):
        events = self.chat({"message": "show me lehengas",
                            "customerContext": {"budget": {"max": 45000}, "preferredSizes": ["m"],
                                                "preferredColors": ["Maroon"], "location": "Pune"}})
        intent = self.first(events, "intent")
        self.assertEqual(intent["entities"]["size"], "M")
        self.assertEqual(intent["entities"]["color"], "maroon")
        self.assertEqual(intent["entities"]["budget"], {"min": None, "max": 45000})
        self.assertEqual(intent["sources"], {"category": "message", "size": "customerContext",
                                             "color": "customerContext", "budget": "customerContext"})
        self.assertEqual(intent.get("location"), "Pune")


class RelaxationTest(TroikaCase):
    """Nothing matches: budget +20%, then the colour family, then the size."""

    def relax(self, msg):
        events = self.chat({"message": msg})
        complete = self.first(events, "complete")
        steps = [d["message"] for ev, d in events if ev == "progress" and d["step"] == "product_matching"]
        return events, complete["relaxed"], steps

    def test_budget(self):
        events, relaxed, steps = self.relax("green saree under 10000")
        self.assertEqual(relaxed, ["budget"])
        products = self.final_products(events)
        self.assertEqual([p["sku"] for p in products], ["TRK-SAR-001"])
        self.assertTrue(all(p["price"] <= 12000 for p in products))
        self.assertTrue(any("budget" in m and "12,000" in m for m in steps), steps)
        self.assertIn("widened the budget by 20% (up to \u20b912,000)", self.full_text(events))

    def test_colour_family(self):
        events, relaxed, steps = self.relax("mint sharara under 20000")
        self.assertEqual(relaxed, ["budget", "color"])
        products = self.final_products(events)
        self.assertEqual([p["sku"] for p in products], ["TRK-SHA-001"])
        self.assertTrue(any("shade of green" in m for m in steps), steps)
        self.assertIn("included every shade of green", self.full_text(events))

    def test_size(self):
        events, relaxed, steps = self.relax("purple kurta size XXL")
        self.assertEqual(relaxed, ["size"])
        skus = sorted(p["sku"] for p in self.final_products(events))
        self.assertEqual(skus, ["TRK-KUR-001", "TRK-KUR-002"])
        self.assertTrue(any("size" in m for m in steps), steps)
        self.assertIn("dropped the size", self.full_text(events))

    def test_exact_needs_nothing(self):
        events, relaxed, _ = self.relax("navy lehenga size M under 45000")
        self.assertEqual(relaxed, [])
        self.assertEqual([p["sku"] for p in self.final_products(events)], ["TRK-LEH-010"])

    def test_nothing_at_all(self):
        events, relaxed, _ = self.relax("black sherwani size S under 5000")
        self.assertEqual(relaxed, ["budget", "size"])
        self.assertEqual(self.final_products(events), [])
        text = self.full_text(events)
        self.assertIn("Even after I widened the budget by 20%", text)
        self.assertNotIn("My pick", text)


class ConversationTest(TroikaCase):
    """The session remembers: a follow-up changes only what it says."""

    def test_two_turns_change_only_the_colour(self):
        first = self.chat({"message": HEADLINE})
        sid = first[0][1]["sessionId"]
        second = self.chat({"message": "show me in blue instead", "sessionId": sid})
        self.assertEqual(second[0][1]["sessionId"], sid)
        self.assertFalse(second[0][1]["newSession"])
        a = self.first(first, "intent")["entities"]
        b = self.first(second, "intent")["entities"]
        src = self.first(second, "intent")["sources"]
        self.assertEqual(b["color"], "blue")
        self.assertEqual(src["color"], "message")
        for k in ("category", "size", "budget", "occasion"):
            self.assertEqual(b[k], a[k], k)
            self.assertEqual(src[k], "history", k)
        products = self.final_products(second)
        self.assertTrue(products)
        blues = {"navy", "royal blue", "powder blue", "blue"}
        for p in products:
            self.assertEqual(p["category"], "lehenga")
            self.assertTrue(blues & set(p["colors"]), p)
            self.assertIn("M", p["sizes"])
            self.assertTrue(34000 <= p["price"] <= 46000)
        self.assertIn("For a blue lehenga around \u20b940,000", self.full_text(second))
        # messages and the resolved entities are stored per session
        rows = sql_rows("SELECT role, JSON_UNQUOTE(JSON_EXTRACT(entities, '$.color')) FROM messages "
                        "WHERE session_id = '%s' ORDER BY id" % sid)
        self.assertEqual([r[0] for r in rows], ["user", "assistant", "user", "assistant"])
        self.assertEqual(rows[0][1], "red")
        self.assertEqual(rows[2][1], "blue")

    def test_cheaper(self):
        first = self.chat({"message": "red lehenga around 40k"})
        sid = first[0][1]["sessionId"]
        second = self.chat({"message": "anything cheaper?", "sessionId": sid})
        b = self.first(second, "intent")["entities"]
        self.assertEqual(b["category"], "lehenga")
        self.assertEqual(b["color"], "red")
        self.assertEqual(b["budget"], {"min": None, "max": 34000})
        for p in self.final_products(second):
            self.assertLessEqual(p["price"], 34000)


class FakeUpstream:
    """test/fixtures/fake_openai.py on a free port."""

    def __init__(self, tmp):
        self.port_file = os.path.join(tmp, "fake.port")
        self.proc = harness.ManagedProcess("fake_openai", [sys.executable, FAKE, "--port", "0", "--port-file",
                                                           self.port_file], os.path.join(tmp, "fake.log"))
        harness.wait_for(lambda: os.path.exists(self.port_file) and open(self.port_file).read().strip(), 20,
                         "the fake upstream")
        self.port = int(open(self.port_file).read().strip())
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, **knobs):
        r = harness.http_request("127.0.0.1", self.port, "POST", "/_control", json.dumps(knobs),
                                 {"Content-Type": "application/json"})
        assert r.status == 200, r

    def reset(self):
        harness.http_request("127.0.0.1", self.port, "POST", "/_reset", b"{}",
                             {"Content-Type": "application/json"})

    def requests(self):
        return harness.http_request("127.0.0.1", self.port, "GET", "/_requests").json()

    def stop(self):
        self.proc.stop()


class OpenAITest(TroikaCase):
    """llm_provider = openai against the fake upstream."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="troika-it-fake-")
        cls.fake = FakeUpstream(cls.tmp)
        cls.OVERRIDES = {"llm_provider": "openai", "llm_url": cls.fake.url, "llm_model": "fake-model",
                         "llm_api_key": "sk-test", "llm_timeout_ms": "5000"}
        try:
            super().setUpClass()
        except BaseException:
            cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.fake.reset()

    def test_invented_product_is_dropped(self):
        self.fake.control(
            json_answer=json.dumps({"intent": "product_search", "category": "lehenga", "color": "red",
                                    "size": "M", "budget_min": 34000, "budget_max": 46000,
                                    "occasion": "sangeet", "designer": None, "fabric": None}),
            answer=("For a red lehenga around \u20b940,000 there is plenty to like. "
                    "My pick is the Ruby Zardozi Lehenga Set [TRK-LEH-001] at \u20b938,500. "
                    "You could also try the Crimson Dream Lehenga by Sabyasachi [TRK-FAKE-999] at \u20b941,000. "
                    "It is in stock in M."))
        events = self.chat({"message": HEADLINE})
        names = [ev for ev, _ in events]
        self.assertNotIn("error", names)
        text = self.full_text(events)
        self.assertIn("Ruby Zardozi Lehenga Set", text)
        self.assertIn("It is in stock in M.", text)
        self.assertNotIn("Crimson Dream", text)
        self.assertNotIn("TRK-FAKE-999", text)
        for ev, data in events:
            self.assertNotIn("Crimson Dream", json.dumps(data))
        complete = self.first(events, "complete")
        self.assertEqual(complete["droppedSentences"], 1)
        self.assertEqual(complete["llm"], "openai:fake-model")
        # text went out a sentence at a time
        tokens = [d["token"] for d in self.all_of(events, "text")]
        self.assertTrue(all(t.rstrip().endswith((".", "!", "?")) for t in tokens), tokens)
        # the prompt carried the facts: the matched SKUs and the market median
        reqs = [r for r in self.fake.requests() if r["path"] == "/v1/chat/completions"]
        streamed = [r for r in reqs if r["body"].get("stream")]
        self.assertEqual(len(streamed), 1)
        system = streamed[0]["body"]["messages"][0]["content"]
        for p in self.final_products(events):
            self.assertIn(p["sku"], system)
        self.assertIn("median", system)
        self.assertEqual(streamed[0]["body"]["messages"][-1]["content"], HEADLINE)
        refine = [r for r in reqs if not r["body"].get("stream")]
        self.assertEqual(len(refine), 1)
        self.assertEqual(refine[0]["body"]["response_format"], {"type": "json_object"})
        self.assertTrue(self.first(events, "intent")["analyzer"].startswith("builtin+openai"))

    def test_refinement_fills_a_gap(self):
        # the builtin analysis cannot read "scarlet-ish"; the model says red
        self.fake.control(json_answer=json.dumps({"intent": "product_search", "category": "lehenga",
                                                  "color": "red", "size": None, "budget_min": None,
                                                  "budget_max": None, "occasion": None,
                                                  "designer": "Nobody Famous", "fabric": "silk"}),
                          answer="Here are some lehengas for you.")
        events = self.chat({"message": "lehenga in a scarlet-ish tone"})
        intent = self.first(events, "intent")
        self.assertEqual(intent["entities"]["category"], "lehenga")
        self.assertEqual(intent["entities"]["fabric"], "silk")
        self.assertIsNone(intent["entities"]["designer"])   # not a catalog designer

    def test_client_leaves_mid_answer(self):
        sentences = " ".join("Sentence number %d is about the Ruby Zardozi Lehenga Set." % i for i in range(1, 30))
        self.fake.control(answer=sentences, tokens_per_s=40)
        c = self.stack.sse(STREAM, method="POST", body={"message": HEADLINE}, timeout=30)
        sid = None
        try:
            while True:
                e = c.next_event()
                self.assertIsNotNone(e, "the stream ended before any text")
                if e.event == "connected":
                    sid = e.json()["sessionId"]
                if e.event == "text":
                    break
        finally:
            c.close()
        # the answer so far is stored as partial, and the upstream transfer is stopped
        rows = harness.wait_for(lambda: sql_rows("SELECT role, partial FROM messages WHERE session_id = '%s' "
                                                 "ORDER BY id" % sid) if len(sql_rows(
            "SELECT id FROM messages WHERE session_id = '%s'" % sid)) == 2 else None, 10, "the partial answer")
        self.assertEqual(rows, [["user", "0"], ["assistant", "1"]])
        streamed = [r for r in self.fake.requests() if r["path"] == "/v1/chat/completions" and r["body"].get("stream")]
        harness.wait_for(lambda: [r for r in self.fake.requests() if r["path"] == "/v1/chat/completions"
                                  and r["body"].get("stream") and r.get("closed_at")], 5, "the upstream hang-up")
        self.assertEqual(len(streamed), 1)
        # the worker is free again
        self.fake.control(tokens_per_s=0)
        events = self.chat({"message": "namaste"})
        self.assertEqual(events[-1][0], "close")

    def test_upstream_failure_falls_back(self):
        self.fake.control(chat_status=500)
        events = self.chat({"message": HEADLINE})
        names = [ev for ev, _ in events]
        self.assertNotIn("error", names)
        self.assertEqual(self.first(events, "intent")["analyzer"], "builtin")
        gen = [d["message"] for ev, d in events if ev == "progress" and d["step"] == "generation"]
        self.assertTrue(any("builtin composer" in m for m in gen), gen)
        self.assertIn("My pick for the sangeet", self.full_text(events))
        self.assertEqual(self.first(events, "complete")["stopReason"], "fallback")


class SpeechTest(TroikaCase):
    """enableTTS with the builtin TTS: audio follows each sentence's text."""

    def test_audio_interleaved(self):
        events = self.chat({"message": HEADLINE, "enableTTS": True})
        names = [ev for ev, _ in events]
        self.assertIn("audio", names)
        self.assertLess(names.index("text"), names.index("audio"))
        last_text = max(i for i, n in enumerate(names) if n == "text")
        self.assertLess(names.index("audio"), last_text, "audio waited for the whole answer")
        audio = self.all_of(events, "audio")
        self.assertEqual([a["sequence"] for a in audio], list(range(1, len(audio) + 1)))
        self.assertEqual(self.first(events, "complete")["audioChunks"], len(audio))

    def test_bad_voice(self):
        r = self.stack.request("POST", STREAM, json.dumps({"message": "hi", "enableTTS": True,
                                                           "voice": "no-such-voice"}),
                               {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["field"], "voice")


if __name__ == "__main__":
    unittest.main()
