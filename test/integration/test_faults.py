"""Faults with real processes (issue 17, part "Faults"): what a client sees
when a part of the stack fails under it, and that the stack heals.

- MariaDB: killed (SIGKILL) in the middle of a stream, then started again:
  an `error` event and `close`, then the next requests succeed on every
  worker (a kept connection is checked and the statement retried once), no
  worker stuck or replaced. During the outage /api/health says 503 without
  a socket path or any other internal detail.

Every test starts its own stack (each breaks it on purpose) with short
timeouts, so the class stays well under a minute.
"""

import json
import os
import signal
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "upload")
KEY = "it-faults-key-0123456789"


def multipart(parts):
    """(body, content type) of a multipart/form-data body: parts are
    (name, value, filename, content type)."""
    b = "----troikafaults"
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


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def upload_stream(stack, filename, data, ctype, chatbot="bomb-shop", timeout=60):
    body, mp = multipart([("chatbotId", chatbot, None, None), ("file", data, filename, ctype)])
    with stack.sse("/api/context/upload-file/stream", method="POST", body=body, timeout=timeout,
                   headers={"Content-Type": mp, "Authorization": "Bearer " + KEY}) as c:
        return c.read_all()


def admin_binary():
    env = os.environ.get("TROIKA_ADMIN")
    if env:
        return os.path.abspath(env)
    return os.path.join(os.path.dirname(harness.find_fcgi_binary()), "troika-admin")


def admin(stack, *args):
    res = subprocess.run([admin_binary(), "-c", stack.app.conf_path] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=stack.app.environ(), timeout=300)
    if res.returncode not in (0, 3):
        raise AssertionError("troika-admin %s failed (%d): %s" % (args, res.returncode, res.stderr.decode()))
    return res.stdout.decode("utf-8", "replace")


def search(stream, **params):
    return "/api/products/search%s?%s" % ("/stream" if stream else "", urllib.parse.urlencode(params))


def idle_workers(stack):
    """The scoreboard's view: (busy, idle) over the stack's workers."""
    r = stack.get("/api/health?full=1")
    board = r.json().get("scoreboard", [])
    busy = sum(1 for w in board if w["state"] == "busy")
    return busy, len(board) - busy


class FaultCase(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 2
    OVERRIDES = {}
    CATALOG = 300
    BUILD_INDEX = False

    def setUp(self):
        conf = {"streaming_heartbeat_ms": "300", "streaming_rate_whitelist": "127.0.0.1"}
        conf.update(self.OVERRIDES)
        self.stack = harness.Stack(workers=self.WORKERS, overrides=conf).start()
        try:
            if self.CATALOG:
                path = os.path.join(self.stack.tmp, "catalog.jsonl")
                admin(self.stack, "gen-catalog", "--count", str(self.CATALOG), "--seed", "3", "--out", path)
                admin(self.stack, "import-products", path)
            if self.BUILD_INDEX:
                admin(self.stack, "build-index")
        except BaseException:
            self.stack.close()
            raise

    def run(self, result=None):
        # the stack goes after LogsOnFailure printed its logs
        try:
            return super().run(result)
        finally:
            if getattr(self, "stack", None) is not None:
                self.stack.close()
                self.stack = None

    def workers(self):
        return sorted(self.stack.app.worker_pids())


class DatabaseCase(FaultCase):
    OVERRIDES = {"db_connect_timeout_ms": "1000"}

    def warm_every_worker(self):
        """A search on every worker at once, so each holds a connection with
        kept statements (the state a restart finds)."""
        streams = [self.stack.sse(search(True, q="silk saree", limit=3), timeout=30) for _ in range(self.WORKERS)]
        for c in streams:
            evs = c.read_all()
            c.close()
            self.assertEqual(evs[-2].event, "complete", evs)

    def restart_db(self, kill):
        if kill:
            self.stack.db.proc.send_signal(signal.SIGKILL)
            self.stack.db.proc.wait(30)
            self.stack.db.proc = None
        else:
            self.stack.db.stop()
        self.stack.db.start()



class DatabaseRestartTest(DatabaseCase):
    def test_first_requests_after_a_restart_succeed(self):
        pids = self.workers()
        self.warm_every_worker()
        self.restart_db(kill=False)
        # every request succeeds at once, on whichever worker takes it
        for i in range(3 * self.WORKERS):
            r = self.stack.get(search(False, q="silk saree", limit=3))
            self.assertEqual(r.status, 200, (i, r))
        for i in range(self.WORKERS):
            with self.stack.sse(search(True, q="red lehenga", limit=3)) as c:
                names = [e.event for e in c.read_all()]
            self.assertEqual(names[-2:], ["complete", "close"], (i, names))
        self.assertEqual(self.workers(), pids)


class DatabaseRestartTcpTest(DatabaseRestartTest):
    """The same over TCP: a restarted server's old connections look alive
    to a write (the kernel takes it) and fail on the read."""
    OVERRIDES = {"db_connect_timeout_ms": "1000", "db_socket": "", "db_host": "127.0.0.1"}


class DatabaseKilledTest(DatabaseCase):
    # steps paced, so that the kill lands inside the stream
    OVERRIDES = {"db_connect_timeout_ms": "1000", "search_step_delay_ms": "1000"}
    BUILD_INDEX = True   # the semantic stage reads its cards from the database

    def test_killed_mid_stream_then_restarted(self):
        pids = self.workers()
        self.warm_every_worker()
        with self.stack.sse(search(True, q="silk saree", limit=5), timeout=60) as c:
            self.assertEqual(c.status, 200)
            # the text stage's results are out; the final stage reads the
            # cards from the database a paced step later
            while True:
                e = c.next_event()
                self.assertIsNotNone(e)
                if e.event == "results":
                    break
            self.stack.db.proc.send_signal(signal.SIGKILL)
            self.stack.db.proc.wait(30)
            t0 = time.monotonic()
            evs = c.read_all()
            took = time.monotonic() - t0
        names = [e.event for e in evs]
        self.assertEqual(names[-2:], ["error", "close"], names)
        self.assertEqual(evs[-2].json()["code"], "DB_CONNECTION_ERROR")
        self.assertTrue(evs[-2].json()["partial"])
        self.assertLess(took, 15)
        # the outage: health says so, without internals
        self.stack.db.proc = None
        r = self.stack.get("/api/health")
        self.assertEqual(r.status, 503)
        text = r.body.decode("utf-8")
        for leak in ("/", "sock", "mysql", "MariaDB server", "(2", "(111)"):
            self.assertNotIn(leak, json.dumps(r.json()["checks"]), text)
        self.assertEqual(r.json()["failing"], "database")
        # back: no worker stuck, the next requests succeed
        self.stack.db.start()
        for i in range(self.WORKERS + 1):   # Aza: not paced by search_step_delay_ms
            r = self.stack.request("POST", "/aza/search", body=json.dumps({"query": "silk saree", "limit": 3}),
                                   headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, (i, r))
            self.assertGreater(r.json()["total"], 0)
        r = self.stack.get("/api/health")
        self.assertEqual(r.status, 200, r)
        busy, idle = idle_workers(self.stack)
        self.assertEqual((busy, idle), (1, self.WORKERS - 1))   # the health request itself
        self.assertEqual(self.workers(), pids)


class UploadBombTest(FaultCase):
    """test/fixtures/upload/bomb.pdf (make_bomb.py): 31 KB, one page whose
    10 MB Flate content stream repeats "(...) Tj 0 0 Td". poppler spends
    minutes and half a gigabyte on it; before, the worker did so itself and
    its stream never ended (STREAM_TIMEOUT was sent, the response never
    finished). Now the extraction child is killed at extract_timeout_ms."""
    CATALOG = 0
    OVERRIDES = {"upload_api_keys": KEY, "extract_timeout_ms": "3000", "streaming_timeout": "20000"}

    def test_pdf_bomb_ends_with_an_error_and_frees_the_worker(self):
        pids = self.workers()
        rss0 = {p: rss_kib(p) for p in pids}
        with open(os.path.join(FIXTURES, "bomb.pdf"), "rb") as f:
            bomb = f.read()
        t0 = time.monotonic()
        evs = upload_stream(self.stack, "bomb.pdf", bomb, "application/pdf", timeout=40)
        took = time.monotonic() - t0
        names = [e.event for e in evs]
        self.assertEqual(names[-2:], ["error", "close"], names)
        err = evs[-2].json()
        self.assertEqual(err["code"], "PROCESSING_ERROR")
        self.assertIn("extract_timeout_ms", err["message"])
        self.assertLess(took, 10)
        # the worker is the same process, did not grow, and is free
        self.assertEqual(self.workers(), pids)
        for p in pids:
            self.assertLess(rss_kib(p) - rss0[p], 50 * 1024, p)
        self.assertEqual(self.stack.get("/api/health").status, 200)
        out = self.stack.db.query("SELECT COUNT(*) FROM context_files", db="troika").stdout.decode().strip()
        self.assertEqual(out, "0")
        # and the next upload is extracted as usual
        with open(os.path.join(FIXTURES, "guide.pdf"), "rb") as f:
            evs = upload_stream(self.stack, "guide.pdf", f.read(), "application/pdf")
        self.assertEqual([e.event for e in evs][-2:], ["complete", "close"])
        self.assertEqual(evs[-2].json()["pages"], 2)


class LlmFaultTest(FaultCase):
    """The LLM upstream (test/fixtures/fake_openai.py) misbehaving under a
    chat stream. A stall and a drop mid-answer are in test_chat
    (test_stall_is_an_upstream_timeout, test_upstream_drop_after_first_token);
    here: malformed events of four kinds, and 100 MB of answer."""
    CATALOG = 0
    WORKERS = 1
    BOT = "llm-faults"

    def setUp(self):
        from test_chat import FakeUpstream
        self.fake = FakeUpstream()
        self.OVERRIDES = {"upload_api_keys": KEY, "llm_provider": "openai", "llm_url": self.fake.url,
                          "llm_stall_timeout_ms": "2000", "streaming_timeout": "15000",
                          "llm_timeout_ms": "12000", "tts_provider": "builtin"}
        try:
            super().setUp()
            md = ("# Care\n\nSilk sarees are dry cleaned only. Store zari work in muslin. "
                  "Returns are accepted within 7 days.\n").encode()
            evs = upload_stream(self.stack, "care.md", md, "text/markdown", chatbot=self.BOT)
            self.assertEqual(evs[-2].event, "complete", evs)
        except BaseException:
            self.fake.stop()
            raise

    def run(self, result=None):
        try:
            return super().run(result)
        finally:
            if getattr(self, "fake", None) is not None:
                self.fake.stop()

    def chat(self, timeout=40):
        t0 = time.monotonic()
        with self.stack.sse("/api/chat/query/stream", method="POST", timeout=timeout,
                            body={"query": "How do I store silk sarees?", "chatbotId": self.BOT}) as c:
            evs = c.read_all()
            nbytes = len(c.raw_body) if hasattr(c, "raw_body") else 0
        return evs, time.monotonic() - t0, nbytes

    def test_malformed_events(self):
        pid = self.workers()[0]
        for kind in ("nonjson", "binary", "shape", "noeol"):
            self.fake.reset()
            self.fake.control(malformed_after_tokens=2, malformed=kind, tokens_per_s=0)
            evs, took, _ = self.chat()
            names = [e.event for e in evs]
            self.assertEqual(names[-1], "close", (kind, names))
            self.assertIn(names[-2], ("complete", "error"), (kind, names))
            if names[-2] == "error":
                self.assertIn(evs[-2].json()["code"], ("UPSTREAM_ERROR", "UPSTREAM_TIMEOUT"), kind)
            for e in evs:
                e.json()   # every event's data is one valid JSON object (valid UTF-8)
            self.assertLess(took, 20, kind)
            self.assertEqual(self.workers(), [pid], kind)

    def test_a_hundred_megabytes_of_answer(self):
        pid = self.workers()[0]
        rss0 = rss_kib(pid)
        self.fake.reset()
        self.fake.control(flood_bytes=100 * 1024 * 1024, answer="Silk sarees are dry cleaned only, always.")
        evs, took, _ = self.chat(timeout=60)
        names = [e.event for e in evs]
        self.assertEqual(names[-2:], ["complete", "close"], names[-5:])
        # cut as if max_tokens had been honoured, the transfer closed
        self.assertEqual(evs[-2].json()["stopReason"], "length")
        self.assertLess(took, 20)
        sent = [r for r in self.fake.requests("/v1/chat/completions")]
        self.assertTrue(sent)
        # bounded: what the client got and what the worker kept
        total = sum(len(e.data) for e in evs)
        self.assertLess(total, 8 * 1024 * 1024, total)
        self.assertLess(rss_kib(pid) - rss0, 64 * 1024)
        self.assertEqual(self.workers(), [pid])
        self.assertEqual(self.stack.get("/api/health").status, 200)


if __name__ == "__main__":
    unittest.main()
