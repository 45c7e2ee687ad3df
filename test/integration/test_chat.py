"""Chat streaming (issue 7) through a private nginx, MariaDB and, for the
`openai` providers, test/fixtures/fake_openai.py.

What a client sees: the builtin answer built only from what was uploaded
(with numbered sources), the honest answer when nothing fits, audio
interleaved with text sentence by sentence and decodable as MP3, sessions
that carry history, the request checks; and against the fake upstream: the
prompt (passages and history), usage and stopReason, upstream errors before
and after the first token, a stall, and a client that hangs up (the
upstream connection is closed within a second and the worker takes the next
request).
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
FAKE = os.path.join(SRC, "test", "fixtures", "fake_openai.py")
KEY = "it-upload-key-" + uuid.uuid4().hex
LLM_KEY = "sk-it-llm-" + uuid.uuid4().hex
STREAM = "/api/chat/query/stream"
NORMAL = "/api/chat/query"
NO_ANSWER = "I don't have that in this shop's documents."

POLICIES = """# Returns and exchanges

Unworn items can be returned within 7 days of delivery for a full refund. Refunds reach the original payment method within 5 working days. Custom-stitched lehengas cannot be returned.

# Shipping

We ship to every pin code in India. Standard delivery takes 3 to 5 working days. Express delivery costs Rs. 250 extra and arrives in 2 days.

# Fabric care

Silk sarees must be dry cleaned only. Store zari work wrapped in a muslin cloth, away from damp cupboards.
"""

SIZES = """# Size guide

Our kurtas run true to size. A size M kurta fits a 38 inch chest. Blouse pieces come unstitched with 0.8 metres of fabric.

# Alterations

Free alterations are offered within 14 days for lehengas bought at full price.
"""


RANK = harness.rank_file()
SHARED_DB = None


harness.shared_db_module(globals(), prefix="troika-it-chat-db-")


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def strip_refs(s):
    return norm(re.sub(r"\s*\[\d+\]", "", s))


def split_sentences(s):
    """Sentences of an answer: a period, ! or ? then a capital ("Rs. 250" stays whole)."""
    return [x for x in re.split(r"(?<=[.!?])\s+(?=[A-Z])", s) if x]


def multipart(parts):
    b = "----troika" + uuid.uuid4().hex
    out = bytearray()
    for name, value, filename, ctype in parts:
        out += b"--" + b.encode() + b"\r\n"
        disp = 'Content-Disposition: form-data; name="%s"' % name
        if filename:
            disp += '; filename="%s"' % filename
        out += disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + (value.encode() if isinstance(value, str) else value) + b"\r\n"
    out += b"--" + b.encode() + b"--\r\n"
    return bytes(out), "multipart/form-data; boundary=" + b


def upload(st, chatbot, filename, text, title):
    body, ctype = multipart([("chatbotId", chatbot, None, None), ("title", title, None, None),
                             ("file", text, filename, "text/markdown")])
    r = st.request("POST", "/api/context/upload-file", body=body,
                   headers={"Content-Type": ctype, "Authorization": "Bearer " + KEY}, timeout=60)
    if r.status != 200:
        raise AssertionError("upload failed: %r" % r)
    return r.json()


def chat(st, body, path=STREAM, timeout=30):
    c = st.sse(path, method="POST", body=body, timeout=timeout)
    try:
        evs = c.read_all()
    finally:
        c.close()
    return c, evs


def by(evs, name):
    return [e.json() for e in evs if e.event == name]


def final_text(evs):
    texts = by(evs, "text")
    return texts[-1]["fullText"] if texts else ""


def db_rows(sql):
    out = SHARED_DB.query(sql, db=harness.MariaDB.DB_NAME).stdout.decode()
    return [line.split("\t") for line in out.splitlines() if line]


def stack(workers=1, **overrides):
    conf = {"upload_api_keys": KEY, "streaming_timeout": "30000"}
    if RANK:
        conf["tokenizer_file"] = RANK
    conf.update(overrides)
    return harness.Stack(workers=workers, overrides=conf, db=SHARED_DB).start()


class FakeUpstream:
    """test/fixtures/fake_openai.py on a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="troika-it-fake-")
        pf = os.path.join(self.dir, "port")
        self.proc = harness.ManagedProcess("fake_openai", ["/usr/bin/python3", FAKE, "--port", "0", "--port-file", pf],
                                           os.path.join(self.dir, "fake.log"))
        self.port = int(harness.wait_for(lambda: os.path.exists(pf) and open(pf).read().strip(), 20,
                                         "the fake upstream's port"))
        self.url = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, obj=None):
        r = harness.http_request("127.0.0.1", self.port, method, path,
                                 json.dumps(obj) if obj is not None else None,
                                 {"Content-Type": "application/json"} if obj is not None else None)
        if r.status != 200:
            raise AssertionError("fake upstream %s %s: %r" % (method, path, r))
        return r.json()

    def control(self, **knobs):
        return self.call("POST", "/_control", knobs)

    def reset(self):
        self.call("POST", "/_reset", {})

    def requests(self, path=None):
        return [r for r in self.call("GET", "/_requests") if path is None or r["path"] == path]

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------
# builtin LLM and TTS

class BuiltinChatTest(unittest.TestCase):
    bot = "shop-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        cls.st = stack(workers=1)
        try:
            cls.up1 = upload(cls.st, cls.bot, "policies.md", POLICIES, "Store policies")
            cls.up2 = upload(cls.st, cls.bot, "sizes.md", SIZES, "Size guide")
        except BaseException:
            cls.st.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.st.close()

    def check_frame(self, c, evs):
        self.assertEqual(c.status, 200)
        self.assertTrue(c.header("content-type", "").startswith("text/event-stream"))
        self.assertEqual(evs[0].event, "connected")
        self.assertEqual(evs[-1].event, "close")
        self.assertEqual([int(e.id) for e in evs], list(range(1, len(evs) + 1)))
        for e in evs:
            d = e.json()
            self.assertIn("requestId", d)
            self.assertIn("timestamp", d)

    def test_answer_cites_only_uploaded_content(self):
        c, evs = chat(self.st, {"query": "How many days do I have to return an item?", "chatbotId": self.bot})
        self.check_frame(c, evs)
        steps = [p["step"] for p in by(evs, "progress")]
        self.assertEqual([s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s],
                         ["session", "retrieval", "generation"])
        retrieval = [p for p in by(evs, "progress") if p["step"] == "retrieval" and "count" in p][0]
        done = by(evs, "complete")[0]
        self.assertGreaterEqual(retrieval["count"], 1)
        self.assertEqual(done["chunks"], retrieval["count"])
        text = final_text(evs)
        self.assertIn("7 days", text)
        # every sentence of the answer is in an uploaded document, word for word
        docs = norm(POLICIES + " " + SIZES)
        sentences = split_sentences(strip_refs(text))
        self.assertTrue(sentences)
        for s in sentences:
            self.assertIn(s, docs)
        # every reference names a source of `complete`, titled as uploaded
        refs = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        self.assertTrue(refs)
        sources = {s["ref"]: s for s in done["sources"]}
        for r in refs:
            self.assertIn(r, sources)
            self.assertTrue(sources[r]["cited"])
            self.assertIn(sources[r]["title"], ("Store policies", "Size guide"))
        self.assertEqual(sources[min(refs)]["title"], "Store policies")
        # text events grow one word at a time
        texts = by(evs, "text")
        self.assertGreater(len(texts), 3)
        acc = ""
        for t in texts:
            acc += t["token"]
            self.assertEqual(t["fullText"], acc)
        self.assertEqual(done["stopReason"], "stop")
        self.assertIsInstance(done["tokens"], int)
        self.assertGreater(done["tokens"], 0)
        self.assertEqual(done["tokenizer"], harness.expected_tokenizer(RANK), harness.NO_RANK_FILE)
        self.assertEqual(done["usage"]["completionTokens"], done["tokens"])
        self.assertEqual(done["audioChunks"], 0)
        self.assertIsInstance(done["duration"], int)
        sug = by(evs, "suggestions")[0]["suggestions"]
        self.assertTrue(2 <= len(sug) <= 4, sug)
        self.assertTrue(all(isinstance(s, str) and 0 < len(s) <= 80 for s in sug))
        self.assertFalse(any("Returns" in s for s in sug), sug)   # just asked about

    def test_no_context_answer(self):
        c, evs = chat(self.st, {"query": "Do you sell helicopters or submarines?", "chatbotId": self.bot})
        self.check_frame(c, evs)
        self.assertEqual(final_text(evs), NO_ANSWER)
        done = by(evs, "complete")[0]
        self.assertEqual(done["sources"], [])
        self.assertFalse(any(e.event == "error" for e in evs))

    def test_fulltext_operators_are_text(self):
        # InnoDB's full-text parser runs even in NATURAL LANGUAGE MODE and
        # refused "*" and '"*' with a syntax error (500 DB_QUERY_ERROR).
        queries = ["*", '"*', "**", '"', "+a -b \"x\" (c) ~d e* @8", "return* @3", "(", ")", "~", "<>",
                   "\\", "%", "_", "'", "returns' OR '1'='1", "ret%rn_ policy", "@8 +++ ---", '"returns'
                   ]
        for q in queries:
            c, evs = chat(self.st, {"query": q, "chatbotId": self.bot})
            self.check_frame(c, evs)
            self.assertEqual([e.json() for e in evs if e.event == "error"], [], q)
            self.assertEqual(len(by(evs, "complete")), 1, q)
            r = self.st.request("POST", NORMAL, body=json.dumps({"query": q, "chatbotId": self.bot}),
                                headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, (q, r))
        # the words still count: an operator-laden question finds the policy
        c, evs = chat(self.st, {"query": '+return* "days" (item)', "chatbotId": self.bot})
        self.assertIn("7 days", final_text(evs))

    def test_unknown_chatbot_has_no_documents(self):
        c, evs = chat(self.st, {"query": "How many days do I have to return an item?",
                                "chatbotId": "nobody-" + uuid.uuid4().hex[:6]})
        self.check_frame(c, evs)
        self.assertEqual(final_text(evs), NO_ANSWER)
        self.assertEqual(by(evs, "complete")[0]["chunks"], 0)

    def test_text_and_audio_interleave_by_sentence(self):
        c, evs = chat(self.st, {"query": "How long does express delivery take and what does shipping cost?",
                                "chatbotId": self.bot, "enableTTS": True})
        self.check_frame(c, evs)
        text = final_text(evs)
        sentences = split_sentences(text)
        self.assertGreaterEqual(len(sentences), 2, text)
        order = [e.event for e in evs if e.event in ("text", "audio")]
        first_audio = order.index("audio")
        self.assertLess(first_audio, len(order) - 1 - order[::-1].index("text"),
                        "audio must start before the last text event: %s" % "".join(x[0] for x in order))
        # each sentence's audio comes after the text that finished it
        full = ""
        seq = 0
        spoken = []
        for e in evs:
            if e.event == "text":
                full = e.json()["fullText"]
            elif e.event == "audio":
                a = e.json()
                seq += 1
                self.assertEqual(a["sequence"], seq)
                self.assertEqual(a["format"], "mp3")
                self.assertIn(a["text"], full)
                if not spoken or spoken[-1][0] != a["sentence"]:
                    spoken.append((a["sentence"], a["text"], bytearray()))
                spoken[-1][2].extend(base64.b64decode(a["chunk"], validate=True))
        self.assertEqual([s[0] for s in spoken], list(range(1, len(spoken) + 1)))
        self.assertEqual([s[1] for s in spoken], sentences)
        done = by(evs, "complete")[0]
        self.assertEqual(done["audioChunks"], seq)
        self.assertEqual(done["sentencesSpoken"], len(sentences))
        # no data line over streaming_chunk_size (1024) in an audio event
        for e in evs:
            if e.event == "audio":
                for line in e.data_lines:
                    self.assertLessEqual(len(line.encode()), 1024)
        # each sentence's audio is an MP3 that lame decodes
        with tempfile.TemporaryDirectory() as d:
            for i, (_, _, mp3) in enumerate(spoken):
                path = os.path.join(d, "s%d.mp3" % i)
                with open(path, "wb") as f:
                    f.write(mp3)
                kind = subprocess.run(["file", "-b", path], stdout=subprocess.PIPE).stdout.decode()
                self.assertIn("MPEG ADTS, layer III", kind)
                res = subprocess.run(["lame", "--quiet", "--decode", path, path + ".wav"])
                self.assertEqual(res.returncode, 0)
                self.assertGreater(os.path.getsize(path + ".wav"), 10000)

    def test_voice(self):
        c, evs = chat(self.st, {"query": "How should I store silk sarees?", "chatbotId": self.bot,
                                "enableTTS": True, "voice": "en-gb+f3"})
        self.check_frame(c, evs)
        self.assertEqual(by(evs, "connected")[0]["voice"], "en-gb+f3")
        self.assertGreater(by(evs, "complete")[0]["audioChunks"], 0, [e.data[:200] for e in evs if e.event != "audio"])

    def test_request_checks(self):
        cases = [
            ({"chatbotId": self.bot}, "query"),
            ({"query": "  ", "chatbotId": self.bot}, "query"),
            ({"query": "x" * 4001, "chatbotId": self.bot}, "query"),
            ({"query": 12, "chatbotId": self.bot}, "query"),
            ({"query": "hi"}, "chatbotId"),
            ({"query": "hi", "chatbotId": {"id": 1}}, "chatbotId"),
            ({"query": "hi", "chatbotId": "bad id!"}, "chatbotId"),
            ({"query": "hi", "chatbotId": self.bot, "enableTTS": "yes"}, "enableTTS"),
            ({"query": "hi", "chatbotId": self.bot, "voice": 7}, "voice"),
            ({"query": "hi", "chatbotId": self.bot, "voice": "klingon"}, "voice"),
            ({"query": "hi", "chatbotId": self.bot, "sessionId": ["a"]}, "sessionId"),
            ({"query": "hi", "chatbotId": self.bot, "sessionId": "has space"}, "sessionId"),
        ]
        for body, field in cases:
            for path in (STREAM, NORMAL):
                r = self.st.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
                self.assertEqual(r.status, 400, (body, path, r))
                d = r.json()
                self.assertEqual(d["code"], "INVALID_PARAMETERS")
                self.assertEqual(d.get("field"), field, (body, d))
        # 4000 characters (not bytes) are fine
        r = self.st.request("POST", NORMAL, body=json.dumps({"query": "é" * 4000, "chatbotId": self.bot}),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        r = self.st.request("POST", STREAM, body='{"query": "hi", "chatbotId": ', headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["code"], "INVALID_PARAMETERS")
        r = self.st.request("POST", STREAM, body="query=hi", headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 415)
        r = self.st.get(STREAM)
        self.assertEqual(r.status, 405)

    def test_session_continuity(self):
        c, evs = chat(self.st, {"query": "What does express delivery cost?", "chatbotId": self.bot})
        sid = by(evs, "connected")[0]["sessionId"]
        self.assertRegex(sid, r"^[0-9a-f]{32}$")
        self.assertTrue(by(evs, "complete")[0]["newSession"])
        c, evs2 = chat(self.st, {"query": "Can custom-stitched lehengas be returned?", "chatbotId": self.bot,
                                 "sessionId": sid})
        self.assertEqual(by(evs2, "connected")[0]["sessionId"], sid)
        sess = [p for p in by(evs2, "progress") if p["step"] == "session" and "count" in p][0]
        self.assertEqual(sess["count"], 1)
        self.assertFalse(sess["newSession"])
        self.assertEqual(by(evs2, "complete")[0]["sessionId"], sid)
        rows = db_rows("SELECT role, partial, content FROM messages WHERE session_id = '%s' ORDER BY id" % sid)
        self.assertEqual([r[0] for r in rows], ["user", "assistant", "user", "assistant"])
        self.assertEqual(rows[0][2], "What does express delivery cost?")
        self.assertEqual(rows[1][2], final_text(evs))
        self.assertEqual(rows[3][2], final_text(evs2))
        self.assertEqual({r[1] for r in rows}, {"0"})
        # a client-chosen id that does not exist is never adopted: the server issues one (issue 15)
        mine = "client-" + uuid.uuid4().hex[:10]
        c, evs3 = chat(self.st, {"query": "Do you ship to every pin code?", "chatbotId": self.bot, "sessionId": mine})
        self.assertRegex(by(evs3, "connected")[0]["sessionId"], r"^[0-9a-f]{32}$")
        self.assertTrue(by(evs3, "complete")[0]["newSession"])
        self.assertEqual(db_rows("SELECT COUNT(*) FROM sessions WHERE id = '%s'" % mine), [["0"]])

    def test_normal_route(self):
        r = self.st.request("POST", NORMAL, body=json.dumps({"query": "What size kurta fits a 38 inch chest?",
                                                             "chatbotId": self.bot}),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertTrue(d["success"])
        self.assertIn("size M kurta", d["text"])
        self.assertEqual(d["sources"][0]["title"], "Size guide")
        self.assertTrue(2 <= len(d["suggestions"]) <= 4)
        self.assertEqual(d["stopReason"], "stop")
        self.assertIn("sessionId", d)


# --------------------------------------------------------------------------
# openai LLM and TTS against the fake upstream

class OpenAIChatTest(unittest.TestCase):
    bot = "oa-" + uuid.uuid4().hex[:8]
    STALL_MS = 1000

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeUpstream()
        try:
            cls.st = stack(workers=1, llm_provider="openai", llm_url=cls.fake.url, llm_api_key=LLM_KEY,
                           llm_model="fake-chat", llm_stall_timeout_ms=str(cls.STALL_MS), llm_timeout_ms="20000",
                           llm_max_tokens="60", chat_history_turns="2", tts_provider="openai", tts_url=cls.fake.url + "/v1",
                           tts_api_key=LLM_KEY, tts_model="fake-tts")
            upload(cls.st, cls.bot, "policies.md", POLICIES, "Store policies")
        except BaseException:
            cls.fake.stop()
            if getattr(cls, "st", None):
                cls.st.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.st.close()
        cls.fake.stop()

    def setUp(self):
        self.fake.reset()

    def test_prompt_carries_chunks_and_history_usage_and_stop_reason(self):
        self.fake.control(answer="Unworn items can be returned within 7 days [1]. Refunds take 5 days [1].")
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot})
        sid = by(evs, "connected")[0]["sessionId"]
        first = final_text(evs)
        self.assertEqual(first, "Unworn items can be returned within 7 days [1]. Refunds take 5 days [1].")
        self.fake.control(answer="Express delivery costs Rs. 250 extra [1].")
        c, evs = chat(self.st, {"query": "And how much is express delivery?", "chatbotId": self.bot,
                                "sessionId": sid})
        self.assertEqual(final_text(evs), "Express delivery costs Rs. 250 extra [1].")
        reqs = self.fake.requests("/v1/chat/completions")
        body = [r for r in reqs if r["body"].get("stream")][-1]["body"]
        self.assertEqual(body["model"], "fake-chat")
        self.assertTrue(body["stream"])
        self.assertTrue(body["stream_options"]["include_usage"])
        self.assertEqual(body["max_tokens"], 60)
        msgs = body["messages"]
        self.assertEqual(msgs[0]["role"], "system")
        self.assertIn("Express delivery costs Rs. 250 extra", msgs[0]["content"])   # the retrieved chunk
        self.assertIn("[1] Store policies", msgs[0]["content"])
        self.assertEqual([m["role"] for m in msgs[1:]], ["user", "assistant", "user"])
        self.assertEqual(msgs[1]["content"], "What is the return window?")
        self.assertEqual(msgs[2]["content"], first)
        self.assertEqual(msgs[3]["content"], "And how much is express delivery?")
        self.assertTrue(all(r["auth"] for r in reqs))
        done = by(evs, "complete")[0]
        self.assertEqual(done["stopReason"], "stop")
        self.assertEqual(done["usage"]["source"], "upstream")
        self.assertEqual(done["usage"]["completionTokens"], 7)   # the fake counts words
        self.assertEqual(done["usage"]["totalTokens"],
                         done["usage"]["promptTokens"] + done["usage"]["completionTokens"])
        self.assertTrue(done["sources"][0]["cited"])
        sug = by(evs, "suggestions")[0]
        self.assertEqual(sug["source"], "llm")
        self.assertEqual(sug["suggestions"], ["What sizes are available?", "How long does delivery take?",
                                              "Can I return an item?"])
        with open(self.st.app.log_file, encoding="utf-8", errors="replace") as f:
            self.assertNotIn(LLM_KEY, f.read())

    def test_history_is_the_last_turns(self):
        sid = None
        for i in range(1, 5):
            self.fake.control(answer="Answer %d." % i)
            body = {"query": "Question %d?" % i, "chatbotId": self.bot}
            if sid:
                body["sessionId"] = sid
            c, evs = chat(self.st, body)
            sid = by(evs, "connected")[0]["sessionId"]
            self.assertEqual(final_text(evs), "Answer %d." % i)
        body = [r for r in self.fake.requests("/v1/chat/completions") if r["body"].get("stream")][-1]["body"]
        # chat_history_turns = 2: the 2nd and 3rd turns, then the question
        self.assertEqual([(m["role"], m["content"]) for m in body["messages"][1:]],
                         [("user", "Question 2?"), ("assistant", "Answer 2."), ("user", "Question 3?"),
                          ("assistant", "Answer 3."), ("user", "Question 4?")])

    def test_stop_reason_length(self):
        self.fake.control(answer=" ".join("word%d" % i for i in range(80)) + ".")
        c, evs = chat(self.st, {"query": "Tell me everything", "chatbotId": self.bot})
        done = by(evs, "complete")[0]
        self.assertEqual(done["stopReason"], "length")
        self.assertEqual(len(by(evs, "text")), 60)

    def test_upstream_error_before_first_token(self):
        self.fake.control(chat_status=500, error_message="model is overloaded")
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot})
        self.assertEqual(evs[-1].event, "close")
        err = by(evs, "error")
        self.assertEqual(len(err), 1)
        self.assertEqual(err[0]["code"], "UPSTREAM_ERROR")
        self.assertFalse(err[0]["partial"])
        self.assertIn("500", err[0]["message"])
        self.assertIn("model is overloaded", err[0]["message"])
        self.assertEqual(by(evs, "text"), [])
        r = self.st.request("POST", NORMAL, body=json.dumps({"query": "What is the return window?",
                                                             "chatbotId": self.bot}),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 502)
        self.assertEqual(r.json()["code"], "UPSTREAM_ERROR")

    def _mid_stream(self, mode):
        self.fake.control(answer="One two three four five six seven eight nine ten.", fail_after_tokens=3,
                          fail_mode=mode, error_message="inference server crashed")
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot})
        sid = by(evs, "connected")[0]["sessionId"]
        self.assertEqual(final_text(evs), "One two three")
        err = by(evs, "error")
        self.assertEqual(len(err), 1)
        self.assertEqual(err[0]["code"], "UPSTREAM_ERROR")
        self.assertTrue(err[0]["partial"])
        self.assertEqual(evs[-1].event, "close")
        rows = db_rows("SELECT role, partial, content FROM messages WHERE session_id = '%s' ORDER BY id" % sid)
        self.assertEqual(rows, [["user", "0", "What is the return window?"], ["assistant", "1", "One two three"]])
        return err[0]

    def test_upstream_error_after_first_token(self):
        self.assertIn("inference server crashed", self._mid_stream("error")["message"])

    def test_upstream_drop_after_first_token(self):
        self._mid_stream("drop")

    def test_stall_is_an_upstream_timeout(self):
        self.fake.control(answer="One two three four five.", stall_after_tokens=2, stall_ms=8000)
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot})
        texts = [e for e in evs if e.event == "text"]
        errs = [e for e in evs if e.event == "error"]
        self.assertEqual(len(texts), 2)
        self.assertEqual(len(errs), 1)
        self.assertEqual(errs[0].json()["code"], "UPSTREAM_TIMEOUT")
        self.assertTrue(errs[0].json()["partial"])
        waited = errs[0].t - texts[-1].t
        self.assertGreaterEqual(waited, self.STALL_MS / 1000.0 - 0.05)
        self.assertLess(waited, self.STALL_MS / 1000.0 + 0.5)
        rec = self.fake.requests("/v1/chat/completions")[-1]
        self.assertIsNotNone(rec["closed_at"])

    def test_client_hangup_closes_the_upstream(self):
        self.fake.control(answer=" ".join("w%d" % i for i in range(50)) + ".", tokens_per_s=20)
        c = self.st.sse(STREAM, method="POST", body={"query": "What is the return window?", "chatbotId": self.bot})
        sid = None
        got = 0
        while got < 3:
            e = c.next_event()
            self.assertIsNotNone(e)
            if e.event == "connected":
                sid = e.json()["sessionId"]
            got += e.event == "text"
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        t_gone = time.monotonic()
        rec = harness.wait_for(lambda: [r for r in self.fake.requests("/v1/chat/completions")
                                        if r["closed_at"]], 5, "the upstream to see its connection closed")[-1]
        self.assertFalse(rec["completed"])
        self.assertLess(rec["closed_at"] - t_gone, 1.0)
        # the worker (workers = 1) takes the next request at once
        self.fake.control(answer="Fine.", tokens_per_s=0)
        t0 = time.monotonic()
        c2, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot}, timeout=10)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(final_text(evs), "Fine.")
        rows = harness.wait_for(lambda: db_rows("SELECT role, partial FROM messages WHERE session_id = '%s' "
                                                "ORDER BY id" % sid), 5, "the partial answer")
        self.assertEqual(rows, [["user", "0"], ["assistant", "1"]])

    def test_openai_speech(self):
        self.fake.control(answer="Returns are accepted for 7 days [1]. Refunds take 5 working days [1].")
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot,
                                "enableTTS": True, "voice": "nova"})
        self.assertEqual(evs[-1].event, "close")
        audio = by(evs, "audio")
        self.assertTrue(audio)
        self.assertEqual(sorted({a["sentence"] for a in audio}), [1, 2])
        speech = self.fake.requests("/v1/audio/speech")
        # two requests may be in flight at once, so the fake sees them in either order;
        # the audio events still come in sentence order
        self.assertEqual(sorted(r["body"]["input"] for r in speech),
                         ["Refunds take 5 working days.", "Returns are accepted for 7 days."])
        self.assertEqual([a["sentence"] for a in audio], sorted(a["sentence"] for a in audio))
        self.assertEqual([a["text"] for a in audio if a["last"]],
                         ["Returns are accepted for 7 days [1].", "Refunds take 5 working days [1]."])
        self.assertTrue(all(r["body"]["voice"] == "nova" and r["body"]["model"] == "fake-tts" and
                            r["body"]["response_format"] == "mp3" for r in speech))
        mp3 = b"".join(base64.b64decode(a["chunk"]) for a in audio if a["sentence"] == 1)
        with tempfile.NamedTemporaryFile(suffix=".mp3") as f:
            f.write(mp3)
            f.flush()
            self.assertIn("MPEG ADTS, layer III", subprocess.run(["file", "-b", f.name],
                                                                 stdout=subprocess.PIPE).stdout.decode())
        self.assertEqual(by(evs, "complete")[0]["tts"], "openai:fake-tts")
        # an espeak voice is not an openai voice
        r = self.st.request("POST", STREAM, body=json.dumps({"query": "hi", "chatbotId": self.bot,
                                                             "enableTTS": True, "voice": "en-us"}),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["field"], "voice")

    def test_speech_failure_keeps_the_text(self):
        self.fake.control(answer="Returns are accepted for 7 days [1]. Refunds take 5 working days [1].",
                          tts_status=503)
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot, "enableTTS": True})
        self.assertEqual(final_text(evs), "Returns are accepted for 7 days [1]. Refunds take 5 working days [1].")
        self.assertFalse(by(evs, "error"))
        done = by(evs, "complete")[0]
        self.assertEqual(done["ttsError"]["code"], "UPSTREAM_ERROR")
        self.assertIn("503", done["ttsError"]["message"])

    def test_bad_json_suggestions_fall_back_to_the_context(self):
        self.fake.control(answer="Returns take 7 days [1].", json_answer="not json at all")
        c, evs = chat(self.st, {"query": "What is the return window?", "chatbotId": self.bot})
        sug = by(evs, "suggestions")[0]
        self.assertEqual(sug["source"], "context")
        self.assertTrue(2 <= len(sug["suggestions"]) <= 4)


if __name__ == "__main__":
    unittest.main()
