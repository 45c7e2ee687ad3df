"""The demo page and the widget in a real browser (issue 16): Debian's
Chromium driven by playwright-core (test/web/browser.mjs, one browser for
the whole class) against a private nginx with a generated catalog, builtin
LLM and speech; a second stack whose LLM is test/fixtures/fake_openai.py,
told to fail after its first token. browser.mjs records what a person would
see (sampled inside the page by MutationObservers, so a fast stream still
shows each state) and takes screenshots into the stack's temp folder
(kept with TROIKA_KEEP_TMP=1); the assertions are here."""

import os
import re
import unittest
import uuid

import harness
import web_stack

harness.shared_db_module(globals(), prefix="troika-it-webb-db-", after=web_stack.import_catalog)

QUESTION = "How many days do I have to return an item?"
AGENT = "I need a red lehenga for my sister's sangeet, budget around 40k, size M"
SEARCH = "red lehenga under 50k"
DOC = {"name": "returns.md", "title": "Returns policy",
       "text": "# Returns\n\nUnworn items can be returned within **7 days** of delivery for a full refund. "
               "Refunds reach the original payment method within 5 working days.\n\n# Shipping\n\n"
               "We ship to every pin code in India. Standard delivery takes 3 to 5 working days.\n"}
SERVER_STEPS = ["upload_validation", "extraction", "chunking", "token_counting", "embedding", "storing"]
FAKE_ANSWER = "Unworn items can be returned within 7 days [1]. Refunds take 5 working days [1]."


class BrowserTest(harness.LogsOnFailure, unittest.TestCase):
    bot = "webb-" + uuid.uuid4().hex[:8]
    err_bot = "webe-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        web_stack.require_node()
        chromium = web_stack.require_chromium()
        cls.ws = web_stack.WebStack(SHARED_DB)
        cls.stack = cls.ws.stack
        cls.err = None
        try:
            cls.err = web_stack.WebStack(SHARED_DB, fake=True)
            cls.err.upload_text(cls.err_bot, "policies.md", web_stack.POLICIES, "Store policies")
            cls.shots = os.path.join(cls.stack.tmp, "screenshots")
            cls.out = web_stack.node("browser.mjs", {
                "base": cls.ws.base, "errorBase": cls.err.base, "errorChatbot": cls.err_bot, "key": cls.ws.key,
                "fakeUrl": cls.err.fake.url, "fakeAnswer": FAKE_ANSWER, "phoneQuery": "silk saree",
                "chatbot": cls.bot, "question": QUESTION, "agentMessage": AGENT, "searchQuery": SEARCH,
                "azaQuery": "elegant maroon velvet lehenga for a winter wedding", "doc": DOC,
                "shots": cls.shots, "chromium": chromium}, timeout=300)
        except BaseException:
            cls.ws.close()
            if cls.err:
                cls.err.close()
            raise
        print("\nbrowser timings (ms): %s\nscreenshots: %s" % (cls.out["timings"], cls.shots))

    @classmethod
    def tearDownClass(cls):
        cls.ws.close()
        cls.err.close()

    def scenario(self, name):
        s = self.out["scenarios"][name]
        self.assertNotIn("failed", s, s.get("failed"))
        if s.get("shot"):
            self.assertTrue(os.path.getsize(s["shot"]) > 5000, s["shot"])
        return s

    def test_search_steps_tick_then_cards_refine(self):
        s = self.scenario("search")
        # each step shows running, then done, in the pipeline's order
        steps = [dict(x.split(":") for x in snap.split()) for snap in s["steps"]]
        for name in ("text_search", "vector_search", "filters", "ranking"):
            states = [st[name] for st in steps if name in st]
            self.assertEqual(states[0], "running", name)
            self.assertEqual(states[-1], "done", name)
        self.assertEqual(list(steps[-1]), ["text_search", "vector_search", "filters", "ranking"])
        # the cards: the text stage first, then refined to the final ranking
        stages = [st for st, n in s["stages"] if st]
        self.assertEqual(stages, ["text", "semantic", "final"])
        self.assertTrue(all(n > 0 for st, n in s["stages"] if st))
        self.assertGreater(s["cards"], 0)
        self.assertRegex(s["stageText"], r"^Results · \d+ products?")
        self.assertRegex(s["time"], r"\d+ ms on the server")

    def test_search_pages(self):
        s = self.scenario("search")
        m = re.match(r"^Page 1 of (\d+)$", s["page1"])
        self.assertIsNotNone(m, s["page1"])
        self.assertGreater(int(m.group(1)), 1)
        self.assertEqual(s["page2"], "Page 2 of %s" % m.group(1))
        self.assertGreater(s["page2Cards"], 0)
        self.assertEqual(s["pageOverlap"], 0, "page 2 repeats page 1's products")
        self.assertFalse(s["prevDisabled"])
        log = os.path.join(self.stack.nginx.dir, "access.log")
        with open(log, encoding="utf-8", errors="replace") as f:
            # page 2 continues from page 1's cursor (the final results carry one)
            self.assertRegex(f.read(), r"limit=12[^ ]*&cursor=[A-Za-z0-9_-]+")

    def test_search_stream_is_not_opened_again(self):
        """EventSource is closed on `close`: the browser does not reconnect and search again."""
        self.scenario("search")
        log = os.path.join(self.stack.nginx.dir, "access.log")
        with open(log, encoding="utf-8", errors="replace") as f:
            hits = re.findall(r"GET /api/products/search/stream\?q=red\+lehenga\+under\+50k&limit=12 ", f.read())
        self.assertEqual(len(hits), 1)

    def test_aza_scores_are_shown(self):
        s = self.scenario("aza")
        scores = [float(x.split()[1]) for x in s["scores"]]
        self.assertTrue(scores)
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertTrue(all(0 <= x <= 1 for x in scores))
        self.assertRegex(s["status"], r"^\d+ found: \d+ semantic \(score ≥ 0\.3\)")

    def test_upload_shows_each_step_complete(self):
        s = self.scenario("upload")
        self.assertEqual(s["doneOrder"], ["sending"] + SERVER_STEPS)
        self.assertEqual(s["sendingValues"][-1], 100)
        self.assertRegex(s["result"], r"^Stored “Returns policy” for chatbot %s: 1 chunk" % self.bot)
        self.assertTrue(all(cls == "done" for _, cls, _ in s["rows"]), s["rows"])
        self.assertEqual(s["widgetBot"], self.bot)

    def test_widget_is_keyboard_and_screen_reader_usable(self):
        s = self.scenario("widget_chat")
        self.assertEqual(s["focused"], "TEXTAREA#troika-q")          # Enter on the launcher, focus in the box
        self.assertEqual(s["expanded"], "true")
        self.assertEqual(s["roles"]["dialog"], 1)
        self.assertEqual(s["roles"]["log"], 1)
        self.assertEqual(s["roles"]["textbox"], 1)
        self.assertEqual(s["roles"]["send"], 1)
        self.assertEqual(s["roles"]["live"], "polite")
        self.assertIn("Spoken answers are on", s["roles"]["mute"])
        a = self.scenario("widget_agent")["afterEscape"]
        self.assertEqual(a, {"hidden": True, "focus": "launcher"})  # Escape closes, focus back on the button

    def test_widget_answers_from_the_upload_text_grows_audio_plays(self):
        s = self.scenario("widget_chat")
        self.assertIn("7 days", s["text"])                            # from the document uploaded in the page
        lengths = [n for n in s["lengths"] if n]
        # then the finished text is rebuilt with its [n] marks as links: pieces, not growth
        lengths = lengths[:lengths.index(max(lengths)) + 1]
        self.assertGreaterEqual(len(lengths), 5, "the text grew event by event: %r" % lengths)
        self.assertEqual(lengths, sorted(lengths))
        self.assertGreaterEqual(s["sourceLinks"], 1)
        self.assertEqual(s["strong"], ["7 days"])                     # the document's **7 days**, in bold
        self.assertEqual(s["sources"], ["Returns policy"])
        self.assertTrue(s["suggestions"])
        self.assertEqual(s["error"], 0)
        self.assertNotIn("failed", s["audio"], s["audio"])
        self.assertGreater(s["audio"]["count"], 0)
        self.assertTrue(s["audio"]["currentTime"] > 0.2 or s["audio"]["ended"], s["audio"])
        self.assertGreater(s["audio"]["duration"], 0.5)

    def test_agent_shows_intent_market_and_cards(self):
        s = self.scenario("widget_agent")
        self.assertRegex(s["chips"][0], r"^product search · \d+%$")
        for chip in ("category: lehenga", "color: red", "size: M", "occasion: sangeet"):
            self.assertIn(chip, s["chips"])
        self.assertIn("budget: ₹34,000–₹46,000", s["chips"])
        m = s["market"]
        self.assertIsNotNone(m)
        self.assertIn("red lehenga", m["title"])
        self.assertRegex(m["figures"], r"^\d+ pieces?, \d+ in stock, median ₹[\d,]+$")
        self.assertRegex(m["rangeLabel"], r"^Prices from ₹[\d,]+ to ₹[\d,]+, middle half ₹[\d,]+ to ₹[\d,]+, median ₹[\d,]+$")
        self.assertRegex(m["iqrWidth"], r"^\d+(\.\d)?%$")
        self.assertRegex(m["designers"], r"^Top designers: .+ \(\d+\)")
        self.assertGreater(s["cards"], 0)
        self.assertEqual(s["stages"][-1], "final")
        self.assertEqual(s["stages"][0], "text")
        self.assertTrue(s["text"])
        self.assertTrue(s["suggestions"])

    def test_no_layout_shift_while_streaming(self):
        s = self.scenario("widget_agent")
        self.assertLess(s["shifts"], 0.01)

    def test_text_grows_while_the_answer_streams(self):
        """The fake upstream paced at 20 tokens a second: the page shows the text growing over time."""
        s = self.scenario("widget_error")
        self.assertEqual(s["paced"], FAKE_ANSWER)
        growth = s["growth"]
        growth = growth[:[g["len"] for g in growth].index(max(g["len"] for g in growth)) + 1]
        self.assertGreaterEqual(len(growth), 10, growth)
        self.assertEqual([g["len"] for g in growth], sorted(g["len"] for g in growth))
        self.assertGreater(growth[-1]["t"] - growth[0]["t"], 300, growth)   # 12 words at 20/s
        self.assertGreaterEqual(len({g["t"] for g in growth}), 8, "seen at distinct moments, not at once")

    def test_error_mid_stream_keeps_the_partial_answer(self):
        s = self.scenario("widget_error")
        self.assertEqual(s["text"], "Unworn")                         # the one token that came
        self.assertEqual(s["role"], "alert")
        self.assertIn("The answer was cut short.", s["error"])
        self.assertIn("stopped part-way", s["error"])
        self.assertEqual(s["retry"], 1)

    def test_phone_sized(self):
        s = self.scenario("phone")
        self.assertLessEqual(s["overflow"], 0, "the page scrolls sideways on a phone")
        p = s["panel"]
        self.assertEqual((p["x"], p["y"], p["width"], p["height"]), (0, 0, 390, 844))
        self.assertGreater(s["cards"], 0)
        self.assertEqual(s["market"], 1)
        self.assertEqual(s["inputFont"], "16px")                      # no zoom on focus in iOS Safari

    def test_widget_alone_on_a_shop_page(self):
        """One tag and nothing else: the widget loads troika.js itself and answers."""
        s = self.scenario("bare_page")
        self.assertEqual(sorted(s["scripts"]), [self.ws.base + "/troika.js", "widget.js"])
        self.assertTrue(s["open"])                                    # data-open="true"
        self.assertEqual(s["modes"], 0)                               # data-mode="chat": no switch
        self.assertEqual(s["title"], "Ask the shop")
        self.assertIn("7 days", s["text"])

    def test_no_console_errors(self):
        self.assertEqual(self.out["console"], [])

    def test_browser_run_is_quick(self):
        self.assertLess(self.out["timings"]["totalMs"], 120000, self.out["timings"])


if __name__ == "__main__":
    unittest.main()
