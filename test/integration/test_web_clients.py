"""The streams read by real clients (issue 16): web/troika.js's own tests
(node --test test/web/), then, through a private nginx with a generated
catalog, npm `eventsource` on the GET routes, `@microsoft/fetch-event-source`
on the POST routes and troika.js on every route (test/web/clients.mjs, which
prints what each client received; the assertions are here).
Needs node and `npm ci` (./quickstart test does both); a missing module
fails with that advice."""

import base64
import os
import re
import subprocess
import time
import unittest
import uuid

import harness
import web_stack

harness.shared_db_module(globals(), prefix="troika-it-webc-db-", after=web_stack.import_catalog)

QUESTION = "How many days do I have to return an item?"
AGENT = "I need a red lehenga for my sister's sangeet, budget around 40k, size M"
SEARCH = "red lehenga under 50k"
AZA = {"query": "maroon velvet lehenga for a winter wedding", "limit": 6}
UPLOAD_STEPS = ["upload_validation", "extraction", "chunking", "token_counting", "embedding", "storing"]
CALLBACKS = ["onConnected", "onProgress", "onResults", "onText", "onAudio", "onIntent", "onMarket",
             "onSuggestions", "onComplete", "onError"]


class ClientUnitTest(unittest.TestCase):
    """troika.js against local servers that misbehave on purpose, and its
    TypeScript declarations (no stack)."""

    def test_client_unit_tests_pass(self):
        node = web_stack.require_node()
        res = subprocess.run([node, "--test", "--test-timeout=30000", os.path.join(web_stack.WEB_TESTS, "client.test.mjs")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180, cwd=web_stack.SRC)
        out = res.stdout.decode("utf-8", "replace")
        passed = re.search(r"^# pass (\d+)$", out, re.M)
        failed = re.search(r"^# fail (\d+)$", out, re.M)
        self.assertEqual(res.returncode, 0, out[-6000:])
        self.assertIsNotNone(passed, out[-3000:])
        self.assertEqual(failed.group(1), "0", out[-6000:])
        self.assertGreaterEqual(int(passed.group(1)), 15, "a test of client.test.mjs went missing")


    def test_typescript_declarations_compile(self):
        """web/troika.d.ts, used as a shop's TypeScript would (test/web/types.ts), passes tsc --strict."""
        node = web_stack.require_node()
        tsc = os.path.join(web_stack.SRC, "node_modules", "typescript", "bin", "tsc")
        self.assertTrue(os.path.isfile(tsc), "typescript missing: run ./quickstart test (npm ci)")
        res = subprocess.run([node, tsc, "-p", os.path.join(web_stack.WEB_TESTS, "tsconfig.json")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180, cwd=web_stack.SRC)
        self.assertEqual(res.returncode, 0, res.stdout.decode("utf-8", "replace")[-4000:])


class RealClientsTest(harness.LogsOnFailure, unittest.TestCase):
    bot = "webc-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        web_stack.require_node()
        cls.ws = web_stack.WebStack(SHARED_DB)
        cls.stack = cls.ws.stack
        try:
            cls.ws.upload_text(cls.bot, "policies.md", web_stack.POLICIES, "Store policies")
            cls.out = web_stack.node("clients.mjs", {
                "base": cls.ws.base, "key": cls.ws.key, "chatbot": cls.bot, "question": QUESTION,
                "agentMessage": AGENT, "searchQuery": SEARCH, "azaBody": AZA})
        except BaseException:
            cls.ws.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ws.close()

    def check_stream(self, events, name):
        """The frame every stream has: ids 1..N, connected first, close last, JSON data."""
        types = [e["type"] for e in events]
        self.assertNotIn("transport-error", types, "%s: %r" % (name, events[-1:]))
        self.assertEqual(types[0], "connected", name)
        self.assertEqual(types[-1], "close", name)
        self.assertEqual([int(e["id"]) for e in events], list(range(1, len(events) + 1)), name)
        for e in events:
            self.assertIn("requestId", e["data"], name)
            self.assertRegex(e["data"]["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", name)
        return types

    def of(self, events, kind):
        return [e["data"] for e in events if e["type"] == kind]

    # -- npm eventsource -----------------------------------------------------------
    def test_eventsource_reads_the_get_routes(self):
        es = self.out["eventsource"]
        types = self.check_stream(es["search"], "search")
        self.assertEqual([r["stage"] for r in self.of(es["search"], "results")][-1], "final")
        self.assertIn("complete", types)
        final = self.of(es["search"], "results")[-1]
        self.assertTrue(final["products"])
        self.assertTrue(all(p["category"] == "lehenga" and p["price"] <= 50000 for p in final["products"]))
        types = self.check_stream(es["selftest"], "selftest")
        self.assertEqual(types.count("progress"), 3)

    # -- @microsoft/fetch-event-source ----------------------------------------------
    def test_fetch_event_source_reads_the_post_routes(self):
        fes = self.out["fes"]
        types = self.check_stream(fes["chat"], "chat")
        text = self.of(fes["chat"], "text")[-1]["fullText"]
        self.assertIn("7 days", text)                     # the builtin answer quotes the upload
        audio = self.of(fes["chat"], "audio")
        self.assertTrue(audio)
        self.assertTrue(all(base64.b64decode(a["chunk"]) for a in audio))
        self.assertLess(types.index("text"), types.index("audio"))
        self.assertTrue(self.of(fes["chat"], "suggestions")[0]["suggestions"])

        self.check_stream(fes["agent"], "agent")
        intent = self.of(fes["agent"], "intent")[0]
        self.assertEqual(intent["entities"]["category"], "lehenga")
        self.assertEqual(intent["entities"]["size"], "M")
        market = self.of(fes["agent"], "market")[0]
        self.assertLessEqual(market["price"]["min"], market["price"]["median"])
        self.assertLessEqual(market["price"]["median"], market["price"]["max"])
        self.assertEqual(self.of(fes["agent"], "results")[-1]["stage"], "final")

        self.check_stream(fes["aza"], "aza")
        scores = [p["score"] for p in self.of(fes["aza"], "results")[-1]["products"]]
        self.assertTrue(scores)
        self.assertEqual(scores, sorted(scores, reverse=True))

        self.check_stream(fes["upload"], "upload")
        steps = []
        for p in self.of(fes["upload"], "progress"):
            if not steps or steps[-1] != p["step"]:
                steps.append(p["step"])
        self.assertEqual(steps, UPLOAD_STEPS)
        self.assertIsInstance(self.of(fes["upload"], "complete")[0]["fileId"], int)

    # -- troika.js -----------------------------------------------------------------
    def calls(self, route):
        return [c["cb"] for c in self.out["troika"][route]["calls"]]

    def test_troika_js_fires_every_callback(self):
        tr = self.out["troika"]
        fired = set()
        for route in tr:
            fired.update(self.calls(route))
        self.assertEqual(sorted(fired), sorted(CALLBACKS))
        for route in ("search", "chat", "agent", "aza", "upload"):
            self.assertEqual(tr[route]["status"], "done", route)
            self.assertEqual(self.calls(route)[-1], "onComplete", route)
        self.assertEqual([c["stage"] for c in tr["search"]["calls"] if c["cb"] == "onResults"],
                         ["text", "semantic", "final"])
        self.assertTrue({"onText", "onAudio", "onSuggestions"} <= set(self.calls("chat")))
        self.assertIn("7 days", tr["chat"]["text"])
        # a sentence's audio events joined: an MP3 (frame sync 0xFFE or an ID3 tag)
        whole = [c["sentenceAudio"] for c in tr["chat"]["calls"] if c.get("sentenceAudio")]
        self.assertTrue(whole)
        for w in whole:
            head, size = w.split(":")
            self.assertTrue(head.startswith("fff") or head == "494433", w)
            self.assertGreater(int(size), 1000)
        agent = self.calls("agent")
        self.assertLess(agent.index("onIntent"), agent.index("onMarket"))
        self.assertLess(agent.index("onMarket"), agent.index("onResults"))
        self.assertLess(agent.index("onResults"), agent.index("onText"))
        up = tr["upload"]["calls"]
        self.assertEqual(up[0]["step"], "sending")                  # the bytes, before the server's steps
        steps = []
        for c in up[1:]:
            if c["cb"] == "onProgress" and (not steps or steps[-1] != c["step"]):
                steps.append(c["step"])
        self.assertEqual(steps, UPLOAD_STEPS)
        # ids as sent: the last event seen is the close event, numbered as the stream's length
        for route in ("search", "chat", "agent", "aza", "upload"):
            ids = [int(c["id"]) for c in tr[route]["calls"] if c["id"]]
            self.assertEqual(ids, sorted(ids), route)
            self.assertEqual(int(tr[route]["lastEventId"]), ids[-1] + 1, route)

    def test_troika_js_reports_errors(self):
        tr = self.out["troika"]
        err = [c for c in tr["uploadLatin1"]["calls"] if c["cb"] == "onError"]
        self.assertEqual(len(err), 1)
        self.assertEqual(err[0]["code"], "INVALID_UTF8")            # an error event after the stream opened
        self.assertIsNone(err[0].get("status"))
        self.assertGreater(err[0]["receivedEvents"], 0)
        self.assertEqual(tr["uploadLatin1"]["status"], "error")
        for route, status, code in (("uploadNoKey", 401, "UNAUTHORIZED"), ("chatBad", 400, "INVALID_PARAMETERS"),
                                    ("searchBad", 400, "INVALID_PARAMETERS")):
            calls = tr[route]["calls"]
            self.assertEqual([(c["cb"], c.get("status"), c["code"]) for c in calls], [("onError", status, code)], route)

    def test_three_parsers_agree(self):
        """fetch-event-source, troika.js and the harness's parser see the same events."""
        fes = [e["type"] for e in self.out["fes"]["aza"]]
        ours = [c["cb"][2].lower() + c["cb"][3:] for c in self.out["troika"]["aza"]["calls"]]
        with self.stack.sse("/aza/search/stream", method="POST", body=AZA) as s:
            py = [e.event for e in s.read_all()]
        self.assertEqual(fes, py)
        self.assertEqual(ours, fes[:-1])            # close ends the stream; it has no callback

    def test_get_streams_are_not_opened_again(self):
        """After `close` no client reconnects (clients.mjs waited 3.5 s after its last stream)."""
        log = os.path.join(self.stack.nginx.dir, "access.log")

        def lines():
            with open(log, encoding="utf-8", errors="replace") as f:
                return f.read()
        pat = re.compile(r"GET /api/products/search/stream\?q=red(\+|%20)lehenga(\+|%20)under(\+|%20)50k")
        # nginx writes its access log at least once a second
        got = harness.wait_for(lambda: len(pat.findall(lines())) >= 2 and lines(), 10, "the access log")
        time.sleep(1.2)
        got = lines()
        self.assertEqual(len(pat.findall(got)), 2, "one stream by eventsource, one by troika.js")
        self.assertEqual(got.count("GET /api/stream/selftest"), 1)


if __name__ == "__main__":
    unittest.main()
