"""Context upload (issue 6) through a private nginx and MariaDB.

What a client sees: each of the six types stored with its steps, counts and
pages; refusals before the stream (401, 400, 413 before the body is read,
415 for a type or a content that does not fit); errors after it
(INVALID_UTF8 with the offset, NO_EXTRACTABLE_TEXT); duplicates; and, with
the test-only upload_fault knob, that a failure at any step leaves the
tables and the chatbot's index files exactly as they were.
"""

import hashlib
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
FIX = os.path.join(SRC, "test", "fixtures", "upload")
KEY = "it-upload-key-" + uuid.uuid4().hex
STEPS = ["upload_validation", "extraction", "chunking", "token_counting", "embedding", "storing"]
STREAM = "/api/context/upload-file/stream"
NORMAL = "/api/context/upload-file"
MAX_UPLOAD = 1024 * 1024


RANK = harness.rank_file()
SHARED_DB = None


harness.shared_db_module(globals(), prefix="troika-it-upload-db-")


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def multipart(parts, boundary=None):
    """parts: [(name, value bytes/str, filename or None, content type or None)]."""
    b = boundary or "----troika" + uuid.uuid4().hex
    out = bytearray()
    for name, value, filename, ctype in parts:
        out += b"--" + b.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += ("Content-Disposition: %s\r\n" % disp).encode()
        if ctype:
            out += ("Content-Type: %s\r\n" % ctype).encode()
        out += b"\r\n" + (value.encode() if isinstance(value, str) else value) + b"\r\n"
    out += b"--" + b.encode() + b"--\r\n"
    return bytes(out), "multipart/form-data; boundary=" + b


def parse_sse(text):
    events = []
    for block in re.split(r"\r?\n\r?\n", text):
        ev, data = None, []
        for line in block.splitlines():
            if line.startswith("event:"):
                ev = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if ev:
            events.append((ev, json.loads("\n".join(data))))
    return events


class Upload(harness.LogsOnFailure, unittest.TestCase):
    """Helpers shared by the upload test classes."""

    OVERRIDES = {}
    stack = None

    @classmethod
    def start_stack(cls, **extra):
        ov = {"upload_api_keys": "other-key, " + KEY, "max_upload": str(MAX_UPLOAD),
              "tokenizer_file": RANK or "/nonexistent/cl100k_base.json"}
        ov.update(cls.OVERRIDES)
        ov.update(extra)
        return harness.Stack(workers=2, overrides=ov, db=SHARED_DB).start()

    @classmethod
    def setUpClass(cls):
        cls.stack = cls.start_stack()

    @classmethod
    def tearDownClass(cls):
        if cls.stack:
            cls.stack.close()

    # -- client ---------------------------------------------------------
    def post(self, path, body, ctype, key=KEY, headers=None, timeout=60):
        h = {"Content-Type": ctype}
        if key:
            h["Authorization"] = "Bearer " + key
        h.update(headers or {})
        return self.stack.request("POST", path, body=body, headers=h, timeout=timeout)

    def upload(self, chatbot, name, data, ctype=None, title=None, path=STREAM, key=KEY, headers=None):
        parts = [("chatbotId", chatbot, None, None)]
        if title is not None:
            parts.append(("title", title, None, None))
        parts.append(("file", data, name, ctype))
        body, ct = multipart(parts)
        return self.post(path, body, ct, key=key, headers=headers)

    def events(self, resp):
        self.assertEqual(resp.status, 200, resp)
        self.assertTrue(resp.header("Content-Type", "").startswith("text/event-stream"), resp)
        evs = parse_sse(resp.body.decode("utf-8"))
        self.assertEqual(evs[0][0], "connected", evs)
        self.assertEqual(evs[-1][0], "close", evs)
        return evs

    def complete(self, resp):
        evs = self.events(resp)
        names = [e for e, _ in evs]
        self.assertIn("complete", names, evs)
        steps = []
        for e, d in evs:
            if e == "progress" and (not steps or steps[-1] != d["step"]):
                steps.append(d["step"])
        return [d for e, d in evs if e == "complete"][0], steps, evs

    def error_event(self, resp):
        evs = self.events(resp)
        errs = [d for e, d in evs if e == "error"]
        self.assertEqual(len(errs), 1, evs)
        self.assertNotIn("complete", [e for e, _ in evs])
        self.assertEqual(evs[-2][0], "error", evs)
        return errs[0]

    def assert_refused(self, resp, status, code, field=None):
        self.assertEqual(resp.status, status, resp)
        body = resp.json()
        self.assertEqual(body["code"], code, body)
        self.assertEqual(body["status"], status, body)
        if field:
            self.assertEqual(body.get("field"), field, body)
        return body

    def sql(self, q):
        return SHARED_DB.query(q, db="troika").stdout.decode().strip()

    def counts(self, chatbot=None):
        where = " WHERE chatbot_id = '%s'" % chatbot if chatbot else ""
        return (int(self.sql("SELECT COUNT(*) FROM context_files" + where)),
                int(self.sql("SELECT COUNT(*) FROM context_chunks" + where)),
                int(self.sql("SELECT COUNT(*) FROM chatbots" + (" WHERE id = '%s'" % chatbot if chatbot else ""))))

    def meta(self, chatbot):
        with open(os.path.join(self.stack.app.settings["index_dir"], "chatbot-%s.meta.json" % chatbot)) as f:
            return json.load(f)

    def index_state(self, chatbot, d=None):
        """The sha256 of each index file of the chatbot, and stray files."""
        d = d or self.stack.app.settings["index_dir"]
        out = {}
        for ext in (".faiss", ".ids", ".meta.json"):
            p = os.path.join(d, "chatbot-%s%s" % (chatbot, ext))
            out[ext] = None
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out[ext] = hashlib.sha256(f.read()).hexdigest()
        leftovers = [f for f in os.listdir(d) if "staging" in f or f.startswith(".")]
        return out, leftovers


def node_count(data):
    """tiktoken's own count of UTF-8 bytes, or None without node and the package."""
    if not RANK or not shutil.which("node"):
        return None
    pkg = os.path.dirname(os.path.dirname(RANK))
    js = ("const {get_encoding}=require(process.argv[1]);const e=get_encoding('cl100k_base');"
          "let s='';process.stdin.on('data',d=>s+=d);process.stdin.on('end',()=>"
          "console.log(e.encode_ordinary(s).length));")
    r = subprocess.run(["node", "-e", js, pkg], input=data, stdout=subprocess.PIPE, timeout=60)
    return int(r.stdout) if r.returncode == 0 else None


class UploadTypesTest(Upload):
    """Each accepted type goes through every step and is stored."""

    def check_stored(self, chatbot, c, mime, pages=None):
        self.assertFalse(c["duplicate"])
        self.assertGreater(c["fileId"], 0)
        self.assertGreater(c["chunks"], 0)
        self.assertGreater(c["tokens"], 0)
        self.assertEqual(c["mime"], mime)
        self.assertEqual(c["pages"], pages)
        self.assertEqual(c["tokenizer"], harness.expected_tokenizer(RANK), harness.NO_RANK_FILE)
        self.assertIsInstance(c["duration"], int)
        row = self.sql("SELECT mime, chunks, tokens, IFNULL(pages, 'null'), tokenizer FROM context_files "
                       "WHERE id = %d AND chatbot_id = '%s'" % (c["fileId"], chatbot)).split("\t")
        self.assertEqual(row, [mime, str(c["chunks"]), str(c["tokens"]), str(pages or "null"), c["tokenizer"]])
        n = int(self.sql("SELECT COUNT(*) FROM context_chunks WHERE file_id = %d" % c["fileId"]))
        self.assertEqual(n, c["chunks"])
        dims = self.sql("SELECT DISTINCT LENGTH(vector) FROM context_chunks WHERE file_id = %d" % c["fileId"])
        self.assertEqual(dims, str(384 * 4))
        state, leftovers = self.index_state(chatbot)
        self.assertTrue(all(state.values()), state)
        self.assertEqual(leftovers, [])
        meta = self.meta(chatbot)
        total = int(self.sql("SELECT COUNT(*) FROM context_chunks WHERE chatbot_id = '%s'" % chatbot))
        self.assertEqual(meta["count"], total)

    def test_text_markdown_csv_json_html(self):
        cases = [("guide.txt", "text/plain", "text/plain", "Custom-tailored blouses"),
                 ("guide.md", None, "text/markdown", "## Returns"),
                 ("sizes.csv", "text/csv", "text/csv", "notes: Silk, hand embroidered"),
                 ("products.json", "application/json", "application/json", "products[0].care.wash: dry clean only"),
                 ("care.html", "text/html; charset=utf-8", "text/html", "Keep away from perfume & deodorant")]
        bot = "types-" + uuid.uuid4().hex[:8]
        for name, ctype, mime, needle in cases:
            with self.subTest(name=name):
                c, steps, evs = self.complete(self.upload(bot, name, fixture(name), ctype, title="T " + name))
                self.assertEqual(steps, STEPS)
                self.check_stored(bot, c, mime)
                self.assertEqual(c["title"], "T " + name)
                text = self.sql("SELECT GROUP_CONCAT(text SEPARATOR '') FROM context_chunks WHERE file_id = %d"
                                % c["fileId"])
                self.assertIn(needle, text)
                if name == "care.html":
                    self.assertNotIn("tracking", text)
                    self.assertNotIn("Hidden promo", text)
                pct = [d["percent"] for e, d in evs if e == "progress" and d["step"] == "embedding"]
                self.assertEqual(pct[-1], 100)

    def test_text_tokens_match_tiktoken(self):
        data = fixture("guide.txt")
        want = node_count(data)
        harness.need_tokenizer(self, want is not None)
        c, _, _ = self.complete(self.upload("tk-" + uuid.uuid4().hex[:8], "guide.txt", data, "text/plain"))
        self.assertEqual(c["tokens"], want)
        self.assertEqual(c["tokenizer"], "cl100k_base")

    def test_pdf_pages(self):
        bot = "pdf-" + uuid.uuid4().hex[:8]
        c, steps, evs = self.complete(self.upload(bot, "guide.pdf", fixture("guide.pdf"), "application/pdf"))
        self.assertEqual(steps, STEPS)
        self.check_stored(bot, c, "application/pdf", pages=2)
        ext = [d for e, d in evs if e == "progress" and d["step"] == "extraction" and d.get("percent") == 100][0]
        self.assertIn("2 pages", ext["message"])
        pages = self.sql("SELECT DISTINCT page FROM context_chunks WHERE file_id = %d ORDER BY page" % c["fileId"])
        self.assertEqual(pages.split(), ["1"])
        # a longer PDF: chunks on later pages carry their page numbers
        tmp = tempfile.mkdtemp()
        try:
            p = os.path.join(tmp, "ten.pdf")
            subprocess.check_call(["python3", os.path.join(FIX, "make_pdf.py"), "text", p, "10"])
            with open(p, "rb") as f:
                ten = f.read()
            c2, _, _ = self.complete(self.upload(bot, "ten.pdf", ten, "application/pdf"))
        finally:
            shutil.rmtree(tmp)
        self.assertEqual(c2["pages"], 10)
        pages = [int(x) for x in self.sql("SELECT page FROM context_chunks WHERE file_id = %d ORDER BY seq"
                                          % c2["fileId"]).split()]
        self.assertEqual(pages, sorted(pages))
        self.assertGreater(pages[-1], 5)
        self.check_stored(bot, c2, "application/pdf", pages=10)

    def test_normal_route(self):
        bot = "normal-" + uuid.uuid4().hex[:8]
        r = self.upload(bot, "guide.md", fixture("guide.md"), "text/markdown", path=NORMAL)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        body = r.json()
        self.assertTrue(body["success"], body)
        self.assertGreater(body["fileId"], 0)
        self.assertEqual([s["step"] for s in body["steps"]][-1], "storing")
        self.check_stored(bot, body, "text/markdown")

    def test_duplicate(self):
        bot = "dup-" + uuid.uuid4().hex[:8]
        first, _, _ = self.complete(self.upload(bot, "guide.txt", fixture("guide.txt"), "text/plain"))
        before = self.counts(bot)
        state = self.index_state(bot)
        again, steps, _ = self.complete(self.upload(bot, "renamed.txt", fixture("guide.txt"), "text/plain",
                                                    title="Another title"))
        self.assertTrue(again["duplicate"])
        self.assertEqual(again["fileId"], first["fileId"])
        self.assertEqual(again["chunks"], first["chunks"])
        self.assertEqual(again["tokens"], first["tokens"])
        self.assertNotIn("embedding", steps)   # nothing re-embedded
        self.assertEqual(self.counts(bot), before)
        self.assertEqual(self.index_state(bot), state)
        # the normal route says the same; another chatbot stores its own copy
        r = self.upload(bot, "guide.txt", fixture("guide.txt"), "text/plain", path=NORMAL)
        self.assertTrue(r.json()["duplicate"])
        other, _, _ = self.complete(self.upload(bot + "-b", "guide.txt", fixture("guide.txt"), "text/plain"))
        self.assertFalse(other["duplicate"])
        self.assertNotEqual(other["fileId"], first["fileId"])

    def test_chatbots_apart(self):
        a, b = "iso-a-" + uuid.uuid4().hex[:6], "iso-b-" + uuid.uuid4().hex[:6]
        ca, _, _ = self.complete(self.upload(a, "guide.txt", fixture("guide.txt"), "text/plain"))
        cb, _, _ = self.complete(self.upload(b, "guide.md", fixture("guide.md"), "text/markdown"))
        meta_a = self.meta(a)
        self.assertEqual(meta_a["count"], ca["chunks"])   # b's chunks are not in a's index
        self.assertEqual(self.sql("SELECT COUNT(*) FROM context_chunks WHERE chatbot_id = '%s' AND file_id = %d"
                                  % (a, cb["fileId"])), "0")


    def test_dead_workers_staging_files_are_swept(self):
        # A worker killed between building and renaming leaves staging
        # files; the next upload to that chatbot removes those whose process
        # is gone, and leaves a live process's alone.
        bot = "sweep-" + uuid.uuid4().hex[:8]
        d = self.stack.app.settings["index_dir"]
        gone = subprocess.Popen(["true"])
        gone.wait()
        dead = [os.path.join(d, "chatbot-%s.staging-%d%s" % (bot, gone.pid, ext))
                for ext in (".faiss", ".ids", ".meta.json")]
        live = os.path.join(d, "chatbot-%s.staging-%d.faiss" % (bot, os.getpid()))
        other = os.path.join(d, "chatbot-%s-x.staging-%d.faiss" % (bot, gone.pid))   # another chatbot's
        try:
            for p in dead + [live, other]:
                with open(p, "wb") as f:
                    f.write(b"partial")
            c, _, _ = self.complete(self.upload(bot, "guide.txt", fixture("guide.txt"), "text/plain"))
            self.assertGreater(c["fileId"], 0)
            for p in dead:
                self.assertFalse(os.path.exists(p), p)
            self.assertTrue(os.path.exists(live))
            self.assertTrue(os.path.exists(other))
            state, _ = self.index_state(bot)
            self.assertTrue(all(state.values()), state)
        finally:
            for p in dead + [live, other]:
                if os.path.exists(p):
                    os.unlink(p)


class ChatbotAdminTest(Upload):
    """troika-admin chatbot-create / chatbot-list against the same database."""

    def admin(self, *args):
        binary = os.path.join(os.path.dirname(self.stack.app.binary), "troika-admin")
        r = subprocess.run([binary, "-c", self.stack.app.conf_path] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=self.stack.app.environ(), timeout=60)
        return r.returncode, r.stdout.decode()

    def test_create_and_list(self):
        bot = "adm-" + uuid.uuid4().hex[:8]
        rc, out = self.admin("chatbot-create", bot, "--name", "Admin Shop")
        self.assertEqual(rc, 0, out)
        self.assertIn("created", out)
        rc, out = self.admin("chatbot-create", bot)
        self.assertEqual((rc, "exists" in out), (0, True), out)
        rc, out = self.admin("chatbot-create", "bad/id")
        self.assertEqual(rc, 2, out)
        self.assertEqual(self.sql("SELECT name FROM chatbots WHERE id = '%s'" % bot), "Admin Shop")
        c, _, _ = self.complete(self.upload(bot, "guide.txt", fixture("guide.txt"), "text/plain"))
        rc, out = self.admin("chatbot-list")
        self.assertEqual(rc, 0, out)
        line = [ln for ln in out.splitlines() if ln.startswith(bot + " ")][0].split()
        self.assertEqual(line[:3], [bot, "Admin", "Shop"])
        self.assertEqual(line[3:7], ["1", str(c["chunks"]), str(c["tokens"]), str(c["chunks"])])


class UploadRefusalTest(Upload):
    """Answers before the stream opens: plain HTTP statuses with JSON bodies."""

    def test_keys(self):
        data = fixture("guide.txt")
        self.assert_refused(self.upload("k", "g.txt", data, "text/plain", key=None), 401, "UNAUTHORIZED")
        r = self.upload("k", "g.txt", data, "text/plain", key="wrong-" + KEY)
        self.assert_refused(r, 401, "UNAUTHORIZED")
        self.assertIn("Bearer", r.header("WWW-Authenticate", ""))
        self.assert_refused(self.upload("k", "g.txt", data, "text/plain", key=KEY[:-1]), 401, "UNAUTHORIZED")
        self.assert_refused(self.upload("k", "g.txt", data, "text/plain", key=None, path=NORMAL,
                                        headers={"Authorization": "Basic " + KEY}), 401, "UNAUTHORIZED")
        # X-API-Key works as well as Bearer; the other configured key too
        c, _, _ = self.complete(self.upload("k-" + uuid.uuid4().hex[:6], "g.txt", data, "text/plain", key=None,
                                            headers={"X-API-Key": KEY}))
        self.assertFalse(c["duplicate"])
        c, _, _ = self.complete(self.upload("k-" + uuid.uuid4().hex[:6], "g.txt", data, "text/plain",
                                            key="other-key"))
        # the key never reaches the logs
        with open(self.stack.app.log_file, "rb") as f:
            self.assertNotIn(KEY.encode(), f.read())

    def test_types(self):
        bot = "types-refused"
        before = self.counts()
        for path in (STREAM, NORMAL):
            body = self.assert_refused(self.upload(bot, "photo.pdf", fixture("photo.pdf"), "application/pdf",
                                                   path=path), 415, "UNSUPPORTED_MEDIA_TYPE", "file")
            self.assertIn("PNG", body["message"])
        # the same image declared as text, or by its extension alone
        self.assert_refused(self.upload(bot, "photo.txt", fixture("photo.pdf"), "text/plain"), 415,
                            "UNSUPPORTED_MEDIA_TYPE")
        self.assert_refused(self.upload(bot, "photo.pdf", fixture("photo.pdf"), "application/octet-stream"), 415,
                            "UNSUPPORTED_MEDIA_TYPE")
        self.assert_refused(self.upload(bot, "photo.png", fixture("photo.pdf"), "image/png"), 415,
                            "UNSUPPORTED_MEDIA_TYPE")
        self.assert_refused(self.upload(bot, "doc.docx", b"PK\x03\x04 zip", None), 415, "UNSUPPORTED_MEDIA_TYPE")
        body = self.assert_refused(self.upload(bot, "bad.json", b'{"a": }', "application/json"), 415,
                                   "UNSUPPORTED_MEDIA_TYPE")
        self.assertIn("JSON", body["message"])
        self.assert_refused(self.post(STREAM, b'{"chatbotId": "x"}', "application/json"), 415,
                            "UNSUPPORTED_MEDIA_TYPE")
        self.assertEqual(self.counts(), before)

    def test_form(self):
        data = fixture("guide.txt")
        body, ct = multipart([("chatbotId", "f1", None, None)])
        self.assert_refused(self.post(STREAM, body, ct), 400, "INVALID_PARAMETERS", "file")
        body, ct = multipart([("file", data, "g.txt", "text/plain")])
        self.assert_refused(self.post(STREAM, body, ct), 400, "INVALID_PARAMETERS", "chatbotId")
        body, ct = multipart([("chatbotId", "../../etc", None, None), ("file", data, "g.txt", "text/plain")])
        self.assert_refused(self.post(STREAM, body, ct), 400, "INVALID_PARAMETERS", "chatbotId")
        body, ct = multipart([("chatbotId", "f1", None, None), ("file", data, "a.txt", "text/plain"),
                              ("file", data, "b.txt", "text/plain")])
        self.assert_refused(self.post(STREAM, body, ct), 400, "INVALID_PARAMETERS", "file")
        body, ct = multipart([("chatbotId", "f1", None, None), ("file", b"", "e.txt", "text/plain")])
        self.assert_refused(self.post(STREAM, body, ct), 400, "INVALID_PARAMETERS", "file")
        # malformed multipart: no final boundary, no boundary parameter
        body, ct = multipart([("chatbotId", "f1", None, None), ("file", data, "g.txt", "text/plain")])
        cut = body[:body.rindex(b"--" + ct.split("=", 1)[1].encode() + b"--")]
        r = self.assert_refused(self.post(STREAM, cut, ct), 400, "INVALID_PARAMETERS")
        self.assertIn("final boundary", r["message"])
        self.assert_refused(self.post(STREAM, body, "multipart/form-data"), 400, "INVALID_PARAMETERS")
        # a quoted boundary with a space is fine
        body, _ = multipart([("chatbotId", "q-" + uuid.uuid4().hex[:6], None, None),
                             ("file", data, "g.txt", "text/plain")], boundary="quoted boundary")
        self.complete(self.post(STREAM, body, 'multipart/form-data; boundary="quoted boundary"'))

    def test_limits_while_reading(self):
        data = fixture("guide.txt")
        parts = [("chatbotId", "lim", None, None)] + [("x%d" % i, "v", None, None) for i in range(20)] + \
                [("file", data, "g.txt", "text/plain")]
        body, ct = multipart(parts)
        r = self.assert_refused(self.post(STREAM, body, ct), 413, "PAYLOAD_TOO_LARGE")
        self.assertIn("parts", r["message"])
        boundary = "hb" + uuid.uuid4().hex
        huge = ("--%s\r\nContent-Disposition: form-data; name=\"chatbotId\"\r\nX-Pad: %s\r\n\r\nlim\r\n--%s--\r\n"
                % (boundary, "p" * 9000, boundary)).encode()
        r = self.assert_refused(self.post(STREAM, huge, "multipart/form-data; boundary=" + boundary), 413,
                                "PAYLOAD_TOO_LARGE")
        self.assertIn("headers", r["message"])
        # a file over max_upload in a body that Content-Length lets through:
        # refused as soon as the file part passes the limit
        big = b"a" * (MAX_UPLOAD + 100 * 1024)
        body, ct = multipart([("chatbotId", "lim", None, None), ("file", big, "big.txt", "text/plain")])
        r = self.assert_refused(self.post(STREAM, body, ct), 413, "PAYLOAD_TOO_LARGE", "file")

    def test_413_before_the_body_is_read(self):
        # Content-Length over the limit: the answer comes although not one
        # byte of the body was sent.
        for path in (STREAM, NORMAL):
            with self.subTest(path=path):
                s = socket.create_connection(("127.0.0.1", self.stack.port), timeout=10)
                try:
                    head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                            "Content-Type: multipart/form-data; boundary=abc\r\nContent-Length: %d\r\n"
                            "Connection: close\r\n\r\n" % (path, KEY, 4 * MAX_UPLOAD))
                    t0 = time.monotonic()
                    s.sendall(head.encode())
                    data = b""
                    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    took = time.monotonic() - t0
                finally:
                    s.close()
                self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:200])
                self.assertIn(b'"PAYLOAD_TOO_LARGE"', data)
                self.assertLess(took, 5)


class UploadStreamErrorTest(Upload):
    """Errors after the stream opened: an error event, then close; no rows."""

    def test_invalid_utf8(self):
        before = self.counts()
        err = self.error_event(self.upload("utf", "latin1.txt", fixture("latin1.txt"), "text/plain"))
        self.assertEqual(err["code"], "INVALID_UTF8")
        self.assertIn("offset 3", err["message"])
        r = self.upload("utf", "latin1.txt", fixture("latin1.txt"), "text/plain", path=NORMAL)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["code"], "INVALID_UTF8")
        self.assertEqual(self.counts(), before)

    def test_scanned_pdf(self):
        before = self.counts()
        err = self.error_event(self.upload("scan", "scanned.pdf", fixture("scanned.pdf"), "application/pdf"))
        self.assertEqual(err["code"], "NO_EXTRACTABLE_TEXT")
        self.assertIn("no text layer", err["message"])
        self.assertEqual(self.counts(), before)


class UploadFaultTest(Upload):
    """A failure at each step leaves the rows and the index file as they were."""

    FAULTS = ["extraction", "chunking", "token_counting", "embedding", "storing", "index", "commit"]

    @classmethod
    def setUpClass(cls):
        cls.stack = None

    def test_each_step(self):
        idx = tempfile.mkdtemp(prefix="troika-it-index-")
        try:
            for step in self.FAULTS:
                with self.subTest(step=step):
                    self.one_fault(step, idx)
        finally:
            shutil.rmtree(idx, ignore_errors=True)

    def one_fault(self, step, idx):
        bot = "fault-" + step.replace("_", "-")
        # a committed upload first, so that there is an index to keep
        self.stack = self.start_stack(index_dir=idx)
        try:
            self.complete(self.upload(bot, "guide.md", fixture("guide.md"), "text/markdown"))
        finally:
            self.stack.close()
            self.stack = None
        rows = self.counts()
        state = self.index_state(bot, idx)
        self.assertTrue(all(state[0].values()), state)
        self.stack = self.start_stack(index_dir=idx, upload_fault=step)
        try:
            err = self.error_event(self.upload(bot, "care.html", fixture("care.html"), "text/html"))
            self.assertEqual(err["code"], "PROCESSING_ERROR", err)
            self.assertIn(step, err["message"])
            self.assertEqual(self.counts(), rows)
            self.assertEqual(self.index_state(bot, idx), state)
            # the normal route: an error status, nothing stored
            r = self.upload(bot, "care.html", fixture("care.html"), "text/html", path=NORMAL)
            self.assertEqual(r.status, 500, r)
            self.assertFalse(r.json()["success"])
            self.assertEqual(self.counts(), rows)
            self.assertEqual(self.index_state(bot, idx), state)
        finally:
            self.stack.close()
            self.stack = None


if __name__ == "__main__":
    unittest.main()
