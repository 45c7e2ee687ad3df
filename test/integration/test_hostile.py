"""Hostile requests through nginx (issue 17): what an attacker may send, and
that every answer is a SPEC error or a normal result: never a 5xx, never a
crash (the worker pids never change), nothing stored, in bounded time.

Cases: path tricks (%00, %0a, .., //, overlong UTF-8), a 100 KB query
string, 10,000 parameters, duplicate parameters, invalid escapes, 60 KB of
headers, X-Request-Id with newlines or quotes, X-Forwarded-For from an
untrusted source, Content-Length mismatches, chunked bodies to the JSON
routes, bodies and headers sent a byte at a time (nginx buffers them: they
never reach a worker, however many there are), a body sent a byte at a time
straight to the app (ended at body_timeout_ms with 408), an SSE reader
taking one byte a second (the worker is freed by the stream deadline), SQL
and FULLTEXT boolean operators in every text field, and 1,000 seeded random
malformed JSON bodies per POST route (TROIKA_HOSTILE_SEED picks another
seed; the failing body is printed with its seed and index).

Answers that come from nginx itself, before the app (an HTML 400 or 414 for
a request line or header it will not parse), are 4xx and never reach a
worker; answers from the app carry X-Request-Id and the SPEC JSON.
"""

import json
import os
import random
import socket
import struct
import threading
import time
import unittest
import urllib.parse

import harness

# SPEC §2.2 and docs/operations.md: every code an answer may carry.
SPEC_CODES = {
    "INVALID_PARAMETERS", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "REQUEST_TIMEOUT",
    "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "RATE_LIMIT_EXCEEDED", "STREAMING_DISABLED", "BUSY",
    "DB_CONNECTION_ERROR", "DB_QUERY_ERROR", "INDEX_UNAVAILABLE", "UPSTREAM_ERROR", "UPSTREAM_TIMEOUT",
    "STREAM_TIMEOUT", "PROCESSING_ERROR", "INVALID_UTF8", "NO_EXTRACTABLE_TEXT", "SHUTTING_DOWN",
}
KEY = "it-hostile-key-0123456789"
JSON_ROUTES = ["/aza/search", "/api/chat/query", "/api/troika/intelligent-chat"]
SEED = int(os.environ.get("TROIKA_HOSTILE_SEED", "17"))

HERE = os.path.dirname(os.path.abspath(__file__))


def admin(stack, *args):
    import subprocess
    binary = os.environ.get("TROIKA_ADMIN") or os.path.join(os.path.dirname(harness.find_fcgi_binary()),
                                                             "troika-admin")
    res = subprocess.run([binary, "-c", stack.app.conf_path] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=stack.app.environ(), timeout=300)
    if res.returncode not in (0, 3):
        raise AssertionError("troika-admin %s: %s" % (args, res.stderr.decode()))


def raw(port, data, timeout=20, half_close=False):
    """Sends raw bytes to nginx; returns (status, headers dict, body) of the
    first response (status 0 when the connection closed without one). No
    half-close unless asked: nginx takes a client's FIN for a hang-up and
    drops the request (499)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            out += d
    finally:
        s.close()
    return parse_response(out)


def parse_response(out):
    if not out.startswith(b"HTTP/"):
        return 0, {}, out
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        dec, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            try:
                n = int(size.split(b";")[0], 16)
            except ValueError:
                break
            if n == 0:
                break
            dec, rest = dec + rest[:n], rest[n + 2:]
        body = dec
    return status, headers, body


class HostileCase(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 2
    OVERRIDES = {}

    @classmethod
    def setUpClass(cls):
        conf = {"upload_api_keys": KEY, "streaming_timeout": "4000", "streaming_heartbeat_ms": "500",
                "body_timeout_ms": "1500", "max_json_body": "64K",
                "max_requests": "0"}   # the pids stay those of the start: none recycled
        conf.update(cls.OVERRIDES)
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides=conf).start()
        try:
            path = os.path.join(cls.stack.tmp, "catalog.jsonl")
            admin(cls.stack, "gen-catalog", "--count", "300", "--seed", "5", "--out", path)
            admin(cls.stack, "import-products", path)
            cls.pids = sorted(cls.stack.app.worker_pids())
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def tearDown(self):
        # never a crash: the workers are the ones the class started with
        self.assertEqual(sorted(self.stack.app.worker_pids()), self.pids)

    # -- what an answer may be ------------------------------------------
    def check_answer(self, status, headers, body, what):
        """A SPEC error or a normal result: never a 5xx; from the app, JSON
        (or an event stream) of the SPEC shape."""
        self.assertTrue(status, "no answer to %s" % what)
        self.assertLess(status, 500, "%s: %s %r" % (what, status, body[:300]))
        if "x-request-id" not in headers:
            # nginx's own refusal, before any worker: a 4xx
            self.assertGreaterEqual(status, 400, what)
            return None
        ctype = headers.get("content-type", "")
        if ctype.startswith("text/event-stream"):
            evs = [blk for blk in body.decode("utf-8").split("\n\n") if blk.strip()]
            names = [line[7:] for blk in evs for line in blk.split("\n") if line.startswith("event: ")]
            self.assertEqual(names[-1], "close", what)
            for blk in evs:
                if "event: error" in blk:
                    data = json.loads("\n".join(line[6:] for line in blk.split("\n") if line.startswith("data: ")))
                    self.assertIn(data["code"], SPEC_CODES, what)
                    self.assertNotIn(data["code"], ("PROCESSING_ERROR", "DB_QUERY_ERROR"), (what, data))
            return names
        self.assertTrue(ctype.startswith("application/json"), (what, ctype))
        doc = json.loads(body.decode("utf-8"))
        if status >= 400:
            self.assertIn(doc.get("code"), SPEC_CODES, (what, doc))
            self.assertIsInstance(doc.get("message"), str, what)
            self.assertEqual(doc.get("requestId"), headers["x-request-id"], what)
        return doc

    def req(self, method, path, body=None, headers=None, timeout=20):
        r = self.stack.request(method, path, body=body, headers=headers, timeout=timeout)
        self.check_answer(r.status, r.headers, r.body, "%s %s" % (method, path[:80]))
        return r


class HostileRequestTest(HostileCase):

    def test_path_tricks(self):
        paths = ["/api/health%00", "/api/health%0a", "/api/health%0d%0aX-Evil:%201", "/api/../api/health",
                 "//api/health", "/api//health", "/api/./health", "/api/health/", "/api/health/..",
                 "/api/%2e%2e/api/health", "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/api/%c0%afhealth",
                 "/api/products/search/stream%00?q=a", "/api/products/search%2fstream?q=silk",
                 "/aza/search/stream/..%2f..%2fapi%2fhealth", "/api/health;jsessionid=1", "/api/\xe2\x80\xae",
                 "/api/products/search?q=%ff%fe", "/api/" + "a" * 3000, "/api/%", "/api/%zz"]
        for p in paths:
            target = p.encode("latin-1", "replace")
            status, headers, body = raw(self.stack.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                                        b"Connection: close\r\n\r\n")
            self.check_answer(status, headers, body, p)
        # what the app does with a decoded path it does not know: a JSON 404
        r = self.req("GET", "/api/health%00")
        self.assertIn(r.status, (400, 404))

    def test_oversized_query_string_and_parameters(self):
        # 100 KB: nginx's own 414 (its request-line buffer is 16 KB), never a worker
        status, headers, body = raw(self.stack.port, b"GET /api/products/search?q=" + b"a" * 100000 +
                                    b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.check_answer(status, headers, body, "100 KB query")
        self.assertIn(status, (400, 414))
        # over max_query_string (8 KB) but within nginx's buffer: the app's JSON 413
        r = self.req("GET", "/api/products/search?q=silk&pad=" + "b" * 9000)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json()["code"], "PAYLOAD_TOO_LARGE")
        # 10,000 parameters, straight to the app with room for them: parsed
        # in bounded time, and an answer
        qs = "q=silk+saree&" + "&".join("p%d=%d" % (i, i) for i in range(10000))
        t0 = time.monotonic()
        r = self.stack.fcgi("GET", "/api/products/search", query=qs[:8000])
        self.assertLess(r.status, 500)
        self.assertLess(time.monotonic() - t0, 5)
        many = "&".join(["a"] * 4000)   # 4,000 bare keys within 8 KB, through nginx
        r = self.req("GET", "/api/products/search?q=silk&" + many)
        self.assertEqual(r.status, 200)
        # duplicate parameters: the first wins, as docs/search.md says
        r = self.req("GET", "/api/products/search?q=saree&q=lehenga&limit=1&limit=500")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["query"], "saree")
        self.assertEqual(r.json()["limit"], 1)
        # invalid escapes are kept as they are, never decoded to NUL
        for q in ("%zz", "%4", "%", "%00", "a%00b", "%%", "%c0%80", "%ed%a0%80"):
            r = self.req("GET", "/api/products/search?q=" + q + "&limit=%zz")
            self.assertEqual(r.status, 400)   # limit is not a number
            r = self.req("GET", "/api/products/search?q=" + q)
            self.assertIn(r.status, (200, 400))

    def test_large_and_odd_headers(self):
        # one 60 KB header: nginx refuses it (its buffers are 4 x 16 KB)
        status, headers, body = raw(self.stack.port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                    b"a" * 60000 + b"\r\nConnection: close\r\n\r\n")
        self.check_answer(status, headers, body, "60 KB header")
        self.assertEqual(status, 400)
        # 60 KB in many headers of 6 KB: through to the app, answered
        many = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 6000) for i in range(10))
        status, headers, body = raw(self.stack.port, b"GET /api/products/search?q=silk HTTP/1.1\r\nHost: x\r\n" +
                                    many + b"Connection: close\r\n\r\n")
        self.check_answer(status, headers, body, "10 x 6 KB headers")
        # X-Request-Id that is not an id: never echoed, a fresh one instead
        for rid in ('a"b', "a\\nb", "x' OR 1=1", "a" * 65, "%0d%0aSet-Cookie: x=1", "\u00e9t\u00e9", "a b"):
            status, headers, body = raw(self.stack.port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Request-Id: " +
                                        rid.encode("utf-8") + b"\r\nConnection: close\r\n\r\n")
            doc = self.check_answer(status, headers, body, "X-Request-Id %r" % rid)
            self.assertRegex(headers.get("x-request-id", ""), r"^[0-9a-f]{32}$", rid)
            self.assertEqual(doc["requestId"], headers["x-request-id"])
            self.assertNotIn("set-cookie", headers)
        # a raw line feed inside a header value ends the header: no injection
        status, headers, body = raw(self.stack.port, b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
                                    b"X-Request-Id: abc\nX-Evil: 1\r\nConnection: close\r\n\r\n")
        self.assertLess(status, 500)
        self.assertNotIn("x-evil", headers)

    def test_forwarded_for_from_an_untrusted_source(self):
        # trusted_proxies is empty: the header is not believed, the peer is
        # the client (health?full=1 shows what the limiter tracks)
        for xff in ("203.0.113.9", "203.0.113.9, 198.51.100.1", "garbage", "::1", "10.0.0.1" + ",1" * 2000):
            r = self.req("GET", "/api/products/search?q=silk", headers={"X-Forwarded-For": xff})
            self.assertEqual(r.status, 200, xff[:40])

    def test_content_length_games(self):
        body = b'{"query": "silk saree", "limit": 2}'
        # declared longer than sent, then the client stops sending: nginx
        # reports the short body itself, the app never sees it
        status, headers, out = raw(self.stack.port, b"POST /aza/search HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 500\r\n"
                                   b"Connection: close\r\n\r\n" + body)
        self.assertLess(status, 500)
        # declared shorter: the rest is a second (garbage) request
        status, headers, out = raw(self.stack.port, b"POST /aza/search HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 10\r\n\r\n" + body)
        self.check_answer(status, headers, out.split(b"HTTP/1.1")[0], "short Content-Length")
        self.assertEqual(status, 400)
        for cl in (b"-1", b"abc", b"99999999999999999999", b"10, 20", b" 35"):
            status, headers, out = raw(self.stack.port, b"POST /aza/search HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Type: application/json\r\nContent-Length: " + cl +
                                       b"\r\nConnection: close\r\n\r\n" + body)
            self.check_answer(status, headers, out, "Content-Length %r" % cl)
        # both Content-Length and chunked: nginx refuses or takes the chunks
        status, headers, out = raw(self.stack.port, b"POST /aza/search HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 3\r\n"
                                   b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                                   b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        self.assertLess(status, 500)

    def test_chunked_bodies_to_json_routes(self):
        body = json.dumps({"query": "silk saree", "limit": 2, "chatbotId": "nobody", "message": "silk saree"})
        body = body.encode()
        for route in JSON_ROUTES:
            for stream in ("", "/stream"):
                chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                                  for i in range(0, len(body), 7))
                status, headers, out = raw(self.stack.port, b"POST " + (route + stream).encode() +
                                           b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks +
                                           b"0\r\n\r\n")
                got = self.check_answer(status, headers, out, "chunked " + route + stream)
                self.assertEqual(status, 200, (route, stream, out[:200]))
                if stream:
                    self.assertIn("complete", got)
        # a malformed chunk size: nginx's 400
        status, headers, out = raw(self.stack.port, b"POST /aza/search HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                   b"Connection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        self.assertEqual(status, 400)
        # chunks adding up to more than max_json_body: the app's 413
        big = b"x" * 70000
        status, headers, out = raw(self.stack.port, b"POST /aza/search HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                   b"Connection: close\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big))
        self.check_answer(status, headers, out, "70 KB chunked")
        self.assertEqual(status, 413)

    def test_operators_in_every_text_field(self):
        values = ['+a -b "x" (c) ~d e* @8', '"', "'", "\\", "%", "_", "*", '"*', "') OR 1=1 -- ",
                  "silk%' AND SLEEP(5) #", "lehenga\\' ; DROP TABLE products; --", "@@version", "<script>",
                  "+silk +saree -red", "*saree*", "( ( ( (", ">silk <saree"]
        for v in values:
            t0 = time.monotonic()
            for field in ("q", "color", "category", "designer", "size", "occasion"):
                params = {"q": "saree"}
                params[field] = v
                r = self.req("GET", "/api/products/search?" + urllib.parse.urlencode(params))
                self.assertIn(r.status, (200, 400), (field, v))
            r = self.req("POST", "/aza/search", body=json.dumps({"query": v, "filters": {"color": v, "category": v}}),
                         headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (200, 400), v)
            r = self.req("POST", "/api/chat/query", body=json.dumps({"query": v, "chatbotId": "shop-x"}),
                         headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, v)
            r = self.req("POST", "/api/troika/intelligent-chat",
                         body=json.dumps({"message": v, "customerContext": {"location": v, "budget": v}}),
                         headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (200, 400), v)
            # bounded: SLEEP(5) and friends are text, not SQL
            self.assertLess(time.monotonic() - t0, 8, v)
        rows = self.stack.db.query("SELECT COUNT(*) FROM products", db="troika").stdout.decode().strip()
        self.assertEqual(rows, "300")

    def test_malformed_json_bodies(self):
        rng = random.Random(SEED)
        before = self.counts()
        for route in JSON_ROUTES:
            for i in range(1000):
                body = malformed(rng)
                stream = i % 10 == 0
                path = route + ("/stream" if stream else "")
                r = self.stack.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                what = "seed %d, %s body #%d %r" % (SEED, path, i, body[:120])
                self.check_answer(r.status, r.headers, r.body, what)
                self.assertEqual(r.status, 400, what)
                self.assertEqual(r.json()["code"], "INVALID_PARAMETERS", what)
        self.assertEqual(self.counts(), before)

    def counts(self):
        out = self.stack.db.query("SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM messages), "
                                  "(SELECT COUNT(*) FROM context_files)", db="troika").stdout.decode()
        return out.strip()


def strict_json(body):
    """True when body is RFC 8259 JSON (Python's parser, told to refuse
    NaN/Infinity; it refuses raw control characters in strings)."""
    def no_constant(name):
        raise ValueError(name)
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        json.loads(text, parse_constant=no_constant)
        return True
    except (ValueError, RecursionError):
        return False


def malformed(rng):
    """A body that is not a valid request: not JSON (checked: a mutation
    that happens to stay JSON is drawn again), or JSON of the wrong shape
    or types. Built from a valid one by a random mutation."""
    while True:
        kind, body = mutate(rng)
        if kind in (3, 10, 11) or not strict_json(body):
            return body


def mutate(rng):
    """(kind, body): one random mutation of a valid body."""
    base = {"query": rng.choice(["silk saree", "red lehenga under 5000", "कुर्ता"]), "limit": rng.randint(1, 20),
            "message": "wedding lehenga", "chatbotId": "shop-1",
            "filters": {"color": "red"}, "enableTTS": False}
    text = json.dumps(base, ensure_ascii=rng.random() < 0.5)
    kind = rng.randrange(16)
    if kind == 0:
        return kind, text[:rng.randrange(1, len(text) - 1)]                       # truncated
    if kind == 1:
        i = rng.randrange(len(text))
        return kind, text[:i] + rng.choice('{}[]:,"\\') + text[i:]               # a stray structural byte
    if kind == 2:
        return kind, text + rng.choice(["x", "}", "{}", ",", " 1", "\x00"])      # data after the value
    if kind == 3:
        return kind, "[" * rng.randint(33, 5000) + "]" * rng.randint(0, 5)        # too deep
    if kind == 4:
        b = bytearray(text.encode())
        b[rng.randrange(len(b))] = rng.choice([0xff, 0xc0, 0x80, 0xed, 0xf8])
        return kind, bytes(b)                                                       # invalid UTF-8
    if kind == 5:
        i = text.index("silk") if "silk" in text else text.index("wedding")
        return kind, text[:i] + chr(rng.randrange(0, 32)) + text[i:]               # raw control char in a string
    if kind == 6:
        return kind, rng.choice(["", " ", "null", "true", "1", '"text"', "[]", "[{}]", "\ufeff{}", "NaN", "{}"])
    if kind == 7:
        return kind, text.replace('"limit": %d' % base["limit"],
                            '"limit": ' + rng.choice(["NaN", "Infinity", "-Infinity", "01", "0x10", "+1", ".5"]), 1)
    if kind == 8:
        return kind, text.replace('"query"', "query", 1).replace('"message"', "message", 1)   # unquoted keys
    if kind == 9:
        return kind, text.replace('"', "'")                                          # single quotes
    if kind == 10:
        bad = {"query": rng.choice([1, [], {}, True]), "message": rng.choice([2, [], {}, False]),
               "limit": base["limit"], "chatbotId": rng.choice([3, [], {"a": 1}])}
        return kind, json.dumps(bad)                                                  # wrong types
    if kind == 11:
        bad = dict(base, limit=rng.choice([-1, 0, 10 ** 30, 1.5, "5", None, []]))
        bad["query"] = rng.choice(["", "   ", None])
        bad["message"] = bad["query"]
        return kind, json.dumps(bad)                                                  # bad values
    if kind == 12:
        return kind, text.replace("\\u", "\\x", 1) if "\\u" in text else text[:-1] + ',"a":"\\q"}'   # bad escape
    if kind == 13:
        return kind, text.replace(":", " ", 1)
    if kind == 14:
        return kind, "{" + ",".join('"k%d":%d' % (i, i) for i in range(rng.randint(1, 200))) + ","   # cut object
    return kind, text[:-1] + ',"query":"\\ud800"' * rng.randint(1, 3) + ",}"     # trailing comma


class SlowClientTest(HostileCase):
    """Slow clients through nginx, and straight to the app."""

    def slow_sender(self, data, gap, results, i):
        try:
            s = socket.create_connection(("127.0.0.1", self.stack.port), timeout=60)
            for k in range(len(data)):
                s.sendall(data[k:k + 1])
                time.sleep(gap)
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            s.close()
            results[i] = parse_response(out)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    def test_slow_bodies_and_headers_never_reach_a_worker(self):
        body = b'{"query": "silk saree", "limit": 2}'
        head = (b"POST /aza/search/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        n = 3 * self.WORKERS + 2   # more slow clients than workers, by far
        results = [None] * (2 * n)
        threads = []
        for i in range(n):   # headers at once, then the body a byte every 0.2 s (7 s)
            t = threading.Thread(target=lambda i=i: self.slow_sender_body(head, body, 0.2, results, i))
            threads.append(t)
        for i in range(n):   # the headers themselves a byte every 0.05 s
            t = threading.Thread(target=self.slow_sender, args=(head + body, 0.05, results, n + i))
            threads.append(t)
        for t in threads:
            t.start()
        time.sleep(1.0)
        # every worker is free for everyone else while they drip
        for k in range(4):
            t0 = time.monotonic()
            r = self.stack.get("/api/health", timeout=10)
            self.assertEqual(r.status, 200)
            self.assertLess(time.monotonic() - t0, 1.0, "health waited: the slow clients hold the workers")
            r = self.stack.get("/api/products/search?q=silk", timeout=10)
            self.assertEqual(r.status, 200)
            self.assertLess(r.elapsed, 2.0)
            time.sleep(0.5)
        for t in threads:
            t.join(60)
        # and the slow clients themselves get a normal answer in the end
        for i, res in enumerate(results):
            self.assertIsInstance(res, tuple, (i, res))
            status, headers, out = res
            self.assertEqual(status, 200, (i, out[:200]))
            self.assertIn(b"event: complete", out)

    def slow_sender_body(self, head, body, gap, results, i):
        try:
            s = socket.create_connection(("127.0.0.1", self.stack.port), timeout=60)
            s.sendall(head)
            for k in range(len(body)):
                s.sendall(body[k:k + 1])
                time.sleep(gap)
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            s.close()
            results[i] = parse_response(out)
        except Exception as exc:  # noqa: BLE001
            results[i] = exc

    def test_slow_upload_without_a_key_holds_nothing(self):
        # the upload route passes its body on as it comes; without a key the
        # app answers 401 before reading it
        head = (b"POST /api/context/upload-file/stream HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 100000\r\n\r\n")
        socks = []
        for _ in range(3 * self.WORKERS):
            s = socket.create_connection(("127.0.0.1", self.stack.port), timeout=10)
            s.sendall(head + b"--zz\r\n")
            socks.append(s)
        for s in socks:
            out = s.recv(65536)
            self.assertTrue(out.startswith(b"HTTP/1.1 401"), out[:100])
        t0 = time.monotonic()
        self.assertEqual(self.stack.get("/api/health").status, 200)
        self.assertLess(time.monotonic() - t0, 1.0)
        for s in socks:
            s.close()

    def test_slow_body_straight_to_the_app_ends_at_body_timeout(self):
        """Without a buffering web server in front (Apache's mod_proxy_fcgi
        passes bodies on as they come): 408 at body_timeout_ms (1.5 s here),
        and the worker takes the next request."""
        body = b'{"query": "silk saree", "limit": 2}'
        t0 = time.monotonic()
        status, headers, out = fcgi_slow(self.stack.app.listen, "/aza/search", body, gap=0.3)
        took = time.monotonic() - t0
        self.assertEqual(status, 408, out[:300])
        self.assertEqual(json.loads(out)["code"], "REQUEST_TIMEOUT")
        self.assertLess(took, 4.0)
        self.assertEqual(self.stack.get("/api/health").status, 200)

    def test_slow_sse_reader_is_freed_by_the_stream_deadline(self):
        # streaming_timeout is 4 s here; the reader takes a byte a second
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.stack.port))
        s.sendall(b"GET /api/stream/selftest?n=20&interval_ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        got = b""
        freed_at = None
        while time.monotonic() - t0 < 9:
            got += s.recv(1)
            time.sleep(1.0 if len(got) > 200 else 0.01)
            if freed_at is None and time.monotonic() - t0 > 3:
                board = self.stack.get("/api/health?full=1").json()["scoreboard"]
                if not any(w.get("route") == "/api/stream/selftest" for w in board):
                    freed_at = time.monotonic() - t0
        s.close()
        self.assertIsNotNone(freed_at, "the worker was still on the stream after 9 s")
        self.assertLess(freed_at, 6.5)


def fcgi_slow(sock_path, path, body, gap):
    """A FastCGI request straight to the app, its body one byte per `gap` s."""
    def rec(t, content):
        return struct.pack("!BBHHBB", 1, t, 1, len(content), 0, 0) + content

    def nv(k, v):
        return bytes([len(k), len(v)]) + k + v
    params = b"".join(nv(k, v) for k, v in (
        (b"REQUEST_METHOD", b"POST"), (b"REQUEST_URI", path.encode()), (b"CONTENT_TYPE", b"application/json"),
        (b"CONTENT_LENGTH", str(len(body)).encode()), (b"REMOTE_ADDR", b"127.0.0.1")))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    s.sendall(rec(1, struct.pack("!HB5x", 1, 0)) + rec(4, params) + rec(4, b""))
    out = b""
    s.setblocking(False)
    for k in range(len(body)):
        try:
            s.sendall(rec(5, body[k:k + 1]))
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            break
        time.sleep(gap)
        try:
            d = s.recv(65536)
            if d:
                out += d
                break
        except BlockingIOError:
            pass
    s.settimeout(30)
    while True:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        out += d
    s.close()
    stdout = b""
    while len(out) >= 8:
        _, t, _, n, pad = struct.unpack("!BBHHB", out[:7])
        if t == 6:
            stdout += out[8:8 + n]
        out = out[8 + n + pad:]
    head, _, doc = stdout.partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n")[0].split()[1])
    return status, head, doc


if __name__ == "__main__":
    unittest.main()
