"""Tenancy and access (issue 15) through a private nginx and MariaDB.

What a shop and its shoppers see: sessions the server issues and that
belong to the chatbot (or the sales agent) that created them: another
chatbot sending the id starts a fresh session and its model never sees the
first chatbot's conversation (checked in the fake upstream's record); a
client's own id is never adopted; idle sessions expire and
`troika-admin sessions prune` deletes old ones with their messages. Keys
made by `troika-admin key create` (scoped to one chatbot: 403 on another;
revoked: 401; never in a log). The document management API: list, one
file, delete (rows and index entries: the chat no longer cites the file,
the index no longer holds its chunks). CORS preflight and answers for an
allowed and a refused origin, a chatbot's own origin. /api/metrics and
/api/health?full=1 refused outside ops_allowed_networks. And the schema:
a version 1 database upgrades in place, twice without harm.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import uuid

import harness
import web_stack

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
FAKE = os.path.join(SRC, "test", "fixtures", "fake_openai.py")
SCHEMA_V1 = os.path.join(SRC, "test", "fixtures", "schema_v1.sql")
ADMIN_KEY = "it-admin-" + uuid.uuid4().hex
CHAT = "/api/chat/query/stream"
AGENT = "/api/troika/intelligent-chat/stream"

RETURNS = "# Returns\n\nSilk sarees can be returned within 9 days of delivery for a full refund.\n"
SHIPPING = "# Shipping\n\nWe ship lehengas to every pin code in India within 4 working days.\n"
SIZES = "# Sizes\n\nA size M kurta fits a 38 inch chest. Blouse pieces come unstitched.\n"

SHARED_DB = None
harness.shared_db_module(globals(), prefix="troika-it-tenancy-db-")


def multipart(parts):
    b = "----tenancy" + uuid.uuid4().hex
    out = bytearray()
    for name, value, filename in parts:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"" % (b, name)).encode()
        if filename:
            out += ("; filename=\"%s\"\r\nContent-Type: text/markdown" % filename).encode()
        out += b"\r\n\r\n" + value.encode() + b"\r\n"
    out += ("--%s--\r\n" % b).encode()
    return bytes(out), "multipart/form-data; boundary=" + b


def upload(st, bot, name, text, key=ADMIN_KEY, headers=None):
    body, ctype = multipart([("chatbotId", bot, None), ("file", text, name)])
    h = {"Content-Type": ctype}
    if key:
        h["Authorization"] = "Bearer " + key
    h.update(headers or {})
    return st.request("POST", "/api/context/upload-file", body=body, headers=h, timeout=60)


def admin(st, *args, check=True):
    res = subprocess.run([web_stack.admin_binary(), "-c", st.app.conf_path] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out, err = res.stdout.decode(), res.stderr.decode()
    if check and res.returncode != 0:
        raise AssertionError("troika-admin %s: %d\n%s%s" % (" ".join(args), res.returncode, out, err))
    return res.returncode, out, err


def new_key(st, bot, scope):
    _, out, _ = admin(st, "key", "create", "--chatbot", bot, "--scope", scope, "--json")
    return json.loads(out)


def chat(st, body, path=CHAT):
    c = st.sse(path, method="POST", body=body, timeout=30)
    try:
        evs = c.read_all()
    finally:
        c.close()
    return c, [(e.event, e.json()) for e in evs]


def first(evs, name, **match):
    for n, d in evs:
        if n == name and all(d.get(k) == v for k, v in match.items()):
            return d
    return None


def sql(q):
    out = SHARED_DB.query(q, db=harness.MariaDB.DB_NAME).stdout.decode()
    return [line.split("\t") for line in out.splitlines() if line]


def index_ids(st, bot):
    """The row ids the chatbot's vector index holds; None when there is none."""
    path = os.path.join(st.app.settings["index_dir"], "chatbot-%s.ids" % bot)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()[32:]
    return set(struct.unpack("<%dq" % (len(data) // 8), data))


def auth(key):
    return {"Authorization": "Bearer " + key}


class FakeUpstream(web_stack.FakeUpstream):
    def reset(self):
        r = harness.http_request("127.0.0.1", self.port, "POST", "/_reset", "{}",
                                 {"Content-Type": "application/json"})
        assert r.status == 200, r

    def chats(self):
        r = harness.http_request("127.0.0.1", self.port, "GET", "/_requests")
        return [x["body"] for x in r.json() if x["path"] == "/v1/chat/completions"]


# --------------------------------------------------------------------------

class SessionsTest(harness.LogsOnFailure, unittest.TestCase):
    """Sessions belong to their owner; the model of another chatbot never
    sees them; ids are the server's; idle ones expire; old ones are pruned."""
    a = "sa-" + uuid.uuid4().hex[:8]
    b = "sb-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeUpstream()
        try:
            cls.stack = harness.Stack(workers=2, db=SHARED_DB, overrides={
                "upload_api_keys": ADMIN_KEY, "llm_provider": "openai", "llm_url": cls.fake.url,
                "llm_model": "fake-chat", "troika_llm_refine": "false", "streaming_rate_limit": "1000",
                "session_idle_timeout_s": "3600", "session_retention_days": "30"}).start()
            for bot, name, text in ((cls.a, "returns.md", RETURNS), (cls.b, "shipping.md", SHIPPING)):
                r = upload(cls.stack, bot, name, text)
                assert r.status == 200, r
        except BaseException:
            cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        cls.fake.stop()


    def test_another_chatbot_gets_a_fresh_session_and_never_the_history(self):
        secret = "My phone is 98100 12345 and I live at 7 Lodhi Road"
        _, evs = chat(self.stack, {"query": secret + ". Can silk sarees be returned?", "chatbotId": self.a})
        sid = first(evs, "connected")["sessionId"]
        self.assertRegex(sid, r"^[0-9a-f]{32}$")
        self.fake.reset()
        _, evs = chat(self.stack, {"query": "When do you ship?", "chatbotId": self.b, "sessionId": sid})
        self.assertEqual(evs[-1][0], "close")
        self.assertIsNone(first(evs, "error"))
        new = first(evs, "connected")["sessionId"]
        self.assertNotEqual(new, sid)
        self.assertRegex(new, r"^[0-9a-f]{32}$")
        note = first(evs, "progress", step="session", newSession=True)
        self.assertEqual(note["reason"], "other_owner")
        self.assertEqual(note["requestedSessionId"], sid)
        self.assertIn("belongs to another chatbot", note["message"])
        self.assertTrue(first(evs, "complete")["newSession"])
        # what botB's model was sent: its system prompt and the question, nothing of botA's talk
        sent = self.fake.chats()
        self.assertTrue(sent)
        for body in sent:
            text = json.dumps(body)
            self.assertNotIn("98100", text)
            self.assertNotIn("Lodhi", text)
        self.assertEqual([m["role"] for m in sent[0]["messages"]], ["system", "user"])
        # botA's session is as it was; botB's is its own
        self.assertEqual(sql("SELECT COUNT(*) FROM messages WHERE session_id = '%s'" % sid), [["2"]])
        self.assertEqual(sql("SELECT kind, chatbot_id FROM sessions WHERE id = '%s'" % new), [["chat", self.b]])
        # botA itself continues it, and its model does get the history
        self.fake.reset()
        _, evs = chat(self.stack, {"query": "And exchanges?", "chatbotId": self.a, "sessionId": sid})
        self.assertEqual(first(evs, "connected")["sessionId"], sid)
        self.assertFalse(first(evs, "complete")["newSession"])
        self.assertIn("98100", json.dumps(self.fake.chats()[0]))

    def test_the_agent_does_not_read_a_chat_session(self):
        _, evs = chat(self.stack, {"query": "I want a red lehenga in size M", "chatbotId": self.a})
        sid = first(evs, "connected")["sessionId"]
        _, evs = chat(self.stack, {"message": "show me something in blue", "sessionId": sid}, path=AGENT)
        con = first(evs, "connected")
        self.assertNotEqual(con["sessionId"], sid)
        self.assertTrue(con["newSession"])
        note = first(evs, "progress", step="intent_analysis", reason="other_owner")
        self.assertIsNotNone(note, evs[:4])
        self.assertNotIn("history", first(evs, "intent")["sources"].values())
        # and a chatbot's chat does not read the agent's session either
        agent_sid = con["sessionId"]
        _, evs = chat(self.stack, {"query": "returns?", "chatbotId": self.a, "sessionId": agent_sid})
        self.assertNotEqual(first(evs, "connected")["sessionId"], agent_sid)
        self.assertEqual(sql("SELECT kind FROM sessions WHERE id = '%s'" % agent_sid), [["agent"]])

    def test_a_client_chosen_id_is_never_adopted(self):
        mine = "client-" + uuid.uuid4().hex[:10]
        ids = set()
        for path, body in ((CHAT, {"query": "returns?", "chatbotId": self.a, "sessionId": mine}),
                           (CHAT, {"query": "returns?", "chatbotId": self.a, "sessionId": mine}),
                           (AGENT, {"message": "hello", "sessionId": mine})):
            _, evs = chat(self.stack, body, path=path)
            got = first(evs, "connected")["sessionId"]
            self.assertNotEqual(got, mine)
            self.assertRegex(got, r"^[0-9a-f]{32}$")
            ids.add(got)
        self.assertEqual(len(ids), 3)
        self.assertEqual(sql("SELECT COUNT(*) FROM sessions WHERE id = '%s'" % mine), [["0"]])
        note = first(evs, "progress", step="intent_analysis", reason="unknown")
        self.assertIsNotNone(note)

    def test_an_idle_session_expires(self):
        _, evs = chat(self.stack, {"query": "returns?", "chatbotId": self.a})
        sid = first(evs, "connected")["sessionId"]
        sql("UPDATE sessions SET updated_at = CURRENT_TIMESTAMP(3) - INTERVAL 2 HOUR WHERE id = '%s'" % sid)
        _, evs = chat(self.stack, {"query": "returns?", "chatbotId": self.a, "sessionId": sid})
        self.assertNotEqual(first(evs, "connected")["sessionId"], sid)
        self.assertEqual(first(evs, "progress", step="session", newSession=True)["reason"], "expired")

    def test_prune_deletes_old_sessions_with_their_messages(self):
        old, fresh = [], []
        for i in range(3):
            _, evs = chat(self.stack, {"query": "returns? %d" % i, "chatbotId": self.a})
            old.append(first(evs, "connected")["sessionId"])
        _, evs = chat(self.stack, {"query": "returns?", "chatbotId": self.a})
        fresh.append(first(evs, "connected")["sessionId"])
        sql("UPDATE sessions SET updated_at = CURRENT_TIMESTAMP(3) - INTERVAL 31 DAY WHERE id IN (%s)"
            % ",".join("'%s'" % s for s in old))
        # others' old sessions (other tests') may be there too: count ours
        ours = ",".join("'%s'" % s for s in old + fresh)
        _, out, _ = admin(self.stack, "sessions", "prune", "--dry-run")
        self.assertRegex(out, r"would delete \d+ sessions")
        self.assertEqual(sql("SELECT COUNT(*) FROM sessions WHERE id IN (%s)" % ours), [["4"]])
        _, out, _ = admin(self.stack, "sessions", "prune")
        n = int(re.search(r"deleted (\d+) sessions and their (\d+) messages", out).group(1))
        self.assertGreaterEqual(n, 3)
        self.assertEqual(sql("SELECT id FROM sessions WHERE id IN (%s)" % ours), [[fresh[0]]])
        self.assertEqual(sql("SELECT COUNT(*) FROM messages WHERE session_id IN (%s)"
                             % ",".join("'%s'" % s for s in old)), [["0"]])
        self.assertEqual(sql("SELECT COUNT(*) FROM messages WHERE session_id = '%s'" % fresh[0]), [["2"]])
        # a pruned id sent again is unknown: a fresh session
        _, evs = chat(self.stack, {"query": "returns?", "chatbotId": self.a, "sessionId": old[0]})
        self.assertEqual(first(evs, "progress", step="session", newSession=True)["reason"], "unknown")


# --------------------------------------------------------------------------

class KeysAndFilesTest(harness.LogsOnFailure, unittest.TestCase):
    """Scoped keys (403 on another chatbot), revoking, and the document
    management API: list, one file, delete; the chat and the index forget
    a deleted file."""
    a = "ka-" + uuid.uuid4().hex[:8]
    b = "kb-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=2, db=SHARED_DB, overrides={
            "upload_api_keys": ADMIN_KEY, "streaming_rate_limit": "1000"}).start()
        try:
            cls.ka = new_key(cls.stack, cls.a, "manage")
            cls.kb = new_key(cls.stack, cls.b, "manage")
            cls.ku = new_key(cls.stack, cls.a, "upload")
            cls.b_file = upload(cls.stack, cls.b, "sizes.md", SIZES).json()["fileId"]
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()


    def assert_refused(self, r, status, code):
        self.assertEqual(r.status, status, r)
        d = r.json()
        self.assertEqual(d["code"], code)
        self.assertEqual(d["status"], status)
        self.assertTrue(d["message"])

    def test_a_key_for_chatbot_a_gets_403_on_b(self):
        ka = self.ka["key"]
        self.assertTrue(ka.startswith("trk_") and len(ka) == 68, ka)
        self.assert_refused(self.stack.get("/api/context/files?chatbotId=" + self.b, headers=auth(ka)), 403, "FORBIDDEN")
        self.assert_refused(self.stack.request("GET", "/api/context/files/%d" % self.b_file, headers=auth(ka)),
                            403, "FORBIDDEN")
        self.assert_refused(self.stack.request("DELETE", "/api/context/files/%d" % self.b_file, headers=auth(ka)),
                            403, "FORBIDDEN")
        self.assert_refused(upload(self.stack, self.b, "x.md", "# X\n\nSomething to store here.\n", key=ka),
                            403, "FORBIDDEN")
        self.assertEqual(sql("SELECT COUNT(*) FROM context_files WHERE id = %d" % self.b_file), [["1"]])
        # its own chatbot: fine; X-API-Key works as well as Bearer
        r = self.stack.get("/api/context/files?chatbotId=" + self.a, headers={"X-API-Key": ka})
        self.assertEqual(r.status, 200, r)
        r = self.stack.get("/api/context/files?chatbotId=" + self.b, headers=auth(self.kb["key"]))
        self.assertEqual(r.status, 200, r)
        # an upload key uploads but does not manage
        self.assertEqual(upload(self.stack, self.a, "u.md", "# U\n\nUploaded with an upload key.\n",
                                key=self.ku["key"]).status, 200)
        self.assert_refused(self.stack.get("/api/context/files?chatbotId=" + self.a, headers=auth(self.ku["key"])),
                            403, "FORBIDDEN")
        # no key, a wrong one: 401 with WWW-Authenticate
        r = self.stack.get("/api/context/files?chatbotId=" + self.a)
        self.assert_refused(r, 401, "UNAUTHORIZED")
        self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
        self.assert_refused(self.stack.get("/api/context/files?chatbotId=" + self.a, headers=auth(ka + "x")),
                            401, "UNAUTHORIZED")
        self.assert_refused(self.stack.request("GET", "/api/context/files/987654321", headers=auth(ka)),
                            404, "NOT_FOUND")

    def test_list_delete_then_the_chat_no_longer_cites_the_file(self):
        bot = "kc-" + uuid.uuid4().hex[:8]
        key = new_key(self.stack, bot, "manage")["key"]
        keep = upload(self.stack, bot, "shipping.md", SHIPPING, key=key).json()
        gone = upload(self.stack, bot, "returns.md", RETURNS, key=key).json()
        r = self.stack.get("/api/context/files?chatbotId=" + bot, headers=auth(key))
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["total"], 2)
        self.assertEqual([f["id"] for f in doc["files"]], [gone["fileId"], keep["fileId"]])   # newest first
        f = doc["files"][0]
        for k in ("id", "title", "type", "bytes", "tokens", "chunks", "pages", "sha256", "uploadedAt"):
            self.assertIn(k, f)
        self.assertEqual((f["title"], f["type"], f["bytes"], f["sha256"], f["pages"]),
                         ("returns.md", "text/markdown", len(RETURNS), gone["sha256"], None))
        self.assertRegex(f["uploadedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        one = self.stack.get("/api/context/files/%d" % gone["fileId"], headers=auth(key)).json()["file"]
        self.assertEqual(one, f)

        chunk_ids = {int(x[0]) for x in sql("SELECT id FROM context_chunks WHERE file_id = %d" % gone["fileId"])}
        self.assertTrue(chunk_ids <= index_ids(self.stack, bot))
        q = {"query": "Can silk sarees be returned?", "chatbotId": bot}
        _, evs = chat(self.stack, q)
        cited = [s for s in first(evs, "complete")["sources"] if s["fileId"] == gone["fileId"]]
        self.assertTrue(cited and cited[0]["cited"], first(evs, "complete")["sources"])

        r = self.stack.request("DELETE", "/api/context/files/%d" % gone["fileId"], headers=auth(key))
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertTrue(d["deleted"])
        self.assertEqual(d["index"], "rebuilt")
        self.assertEqual(d["chunksDeleted"], gone["chunks"])
        # gone from the list, the file route, the rows and the index
        doc = self.stack.get("/api/context/files?chatbotId=" + bot, headers=auth(key)).json()
        self.assertEqual([x["id"] for x in doc["files"]], [keep["fileId"]])
        self.assert_refused(self.stack.request("GET", "/api/context/files/%d" % gone["fileId"], headers=auth(key)),
                            404, "NOT_FOUND")
        self.assert_refused(self.stack.request("DELETE", "/api/context/files/%d" % gone["fileId"], headers=auth(key)),
                            404, "NOT_FOUND")
        self.assertEqual(sql("SELECT COUNT(*) FROM context_chunks WHERE file_id = %d" % gone["fileId"]), [["0"]])
        left = index_ids(self.stack, bot)
        self.assertFalse(chunk_ids & left)
        self.assertEqual(len(left), keep["chunks"])
        _, evs = chat(self.stack, q)
        done = first(evs, "complete")
        self.assertFalse([s for s in done["sources"] if s["fileId"] == gone["fileId"]], done["sources"])
        text = [d for n, d in evs if n == "text"]
        self.assertNotIn("9 days", text[-1]["fullText"] if text else "")
        # the last file: the index goes with it
        r = self.stack.request("DELETE", "/api/context/files/%d" % keep["fileId"], headers=auth(key))
        self.assertEqual(r.json()["index"], "removed")
        self.assertIsNone(index_ids(self.stack, bot))

    def test_revoked_keys_and_last_use(self):
        k = new_key(self.stack, self.a, "manage")
        r = self.stack.get("/api/context/files?chatbotId=" + self.a, headers=auth(k["key"]))
        self.assertEqual(r.status, 200)
        _, out, _ = admin(self.stack, "key", "list", "--json")
        row = [x for x in json.loads(out) if x["id"] == k["id"]][0]
        self.assertIsNotNone(row["lastUsed"])
        self.assertEqual(row["prefix"], k["key"][:12])
        self.assertEqual((row["scopes"], row["chatbotId"], row["revoked"]), ("manage", self.a, None))
        self.assertNotIn(k["key"], out)
        admin(self.stack, "key", "revoke", k["id"])
        r = self.stack.get("/api/context/files?chatbotId=" + self.a, headers=auth(k["key"]))
        self.assert_refused(r, 401, "UNAUTHORIZED")
        self.assertIn("revoked", r.json()["message"])
        rc, _, _ = admin(self.stack, "key", "revoke", k["id"], check=False)
        self.assertNotEqual(rc, 0)
        # the database holds the digest only
        self.assertEqual(sql("SELECT HEX(hash) = UPPER(SHA2('%s', 256)) FROM api_keys WHERE id = '%s'"
                             % (k["key"], k["id"])), [["1"]])
        self.assertEqual(sql("SELECT COUNT(*) FROM api_keys WHERE prefix LIKE '%%%s%%' OR name LIKE '%%%s%%'"
                             % (k["key"][12:], k["key"][12:])), [["0"]])

    def test_keys_never_reach_the_log(self):
        rids = []
        for key in (self.ka["key"], self.ku["key"], ADMIN_KEY, "trk_wrong" + uuid.uuid4().hex):
            rids.append(self.stack.get("/api/context/files?chatbotId=" + self.b, headers=auth(key))
                        .header("X-Request-Id"))
            upload(self.stack, self.b, "y.md", "# Y\n\nA file for the log check.\n", key=key)
        with open(self.stack.app.log_file, encoding="utf-8", errors="replace") as f:
            log = f.read()
        for rid in rids:   # the requests were logged (DEBUG: one line each at least)
            self.assertIn(rid, log)
        for key in (self.ka["key"], self.ku["key"], self.kb["key"], ADMIN_KEY):
            self.assertNotIn(key, log)
            self.assertNotIn(key[4:20], log)

    def test_admin_files(self):
        bot = "kd-" + uuid.uuid4().hex[:8]
        f = upload(self.stack, bot, "returns.md", RETURNS).json()
        _, out, _ = admin(self.stack, "files", "list", bot)
        self.assertIn("returns.md", out)
        self.assertIn(f["sha256"], out)
        _, out, _ = admin(self.stack, "files", "show", str(f["fileId"]))
        self.assertIn(bot, out)
        _, out, _ = admin(self.stack, "files", "delete", str(f["fileId"]))
        self.assertIn("deleted", out)
        self.assertEqual(sql("SELECT COUNT(*) FROM context_files WHERE id = %d" % f["fileId"]), [["0"]])
        self.assertIsNone(index_ids(self.stack, bot))
        rc, _, err = admin(self.stack, "files", "delete", str(f["fileId"]), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("no file", err)


# --------------------------------------------------------------------------

class CorsTest(harness.LogsOnFailure, unittest.TestCase):
    """Preflight and actual requests from an allowed and a refused origin,
    a chatbot's own origin, the upload and management routes."""
    shop = "https://shop.example"
    own = "http://own-" + uuid.uuid4().hex[:6] + ".example:8081"
    bot = "co-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=2, db=SHARED_DB, overrides={
            "upload_api_keys": ADMIN_KEY, "cors_allowed_origins": cls.shop, "cors_max_age": "900",
            "streaming_rate_limit": "1000"}).start()
        try:
            admin(cls.stack, "origin", "add", cls.bot, cls.own.upper().replace("HTTP://", "http://"))
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()


    def preflight(self, path, origin, method="POST", headers="content-type"):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if headers:
            h["Access-Control-Request-Headers"] = headers
        return self.stack.request("OPTIONS", path, headers=h)

    def test_preflight_allowed_and_refused(self):
        r = self.preflight(CHAT, self.shop)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), self.shop)
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "POST")
        allowed = [h.strip().lower() for h in r.header("Access-Control-Allow-Headers").split(",")]
        for h in ("content-type", "authorization", "x-api-key"):
            self.assertIn(h, allowed)
        self.assertEqual(r.header("Access-Control-Max-Age"), "900")
        self.assertIn("Origin", r.header("Vary"))
        self.assertIsNone(r.header("Access-Control-Allow-Credentials"))
        # upload and management routes too
        r = self.preflight("/api/context/upload-file/stream", self.shop, headers="authorization")
        self.assertEqual(r.status, 204, r)
        r = self.preflight("/api/context/files/1", self.shop, method="DELETE", headers="authorization")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "GET, HEAD, DELETE")
        # refused: another origin, a method the path lacks, a header not read
        for path, origin, method, hdrs in ((CHAT, "https://evil.example", "POST", "content-type"),
                                           (CHAT, self.shop + "/", "POST", None),
                                           (CHAT, self.shop, "PUT", None),
                                           (CHAT, self.shop, "POST", "content-type, x-evil")):
            r = self.preflight(path, origin, method, hdrs)
            self.assertEqual(r.status, 403, (origin, method, hdrs, r))
            self.assertEqual(r.json()["code"], "FORBIDDEN")
            self.assertIsNone(r.header("Access-Control-Allow-Origin"))

    def test_actual_requests(self):
        c = self.stack.sse("/api/products/search/stream?q=red+lehenga", headers={"Origin": self.shop})
        c.read_all()
        c.close()
        self.assertEqual(c.header("access-control-allow-origin"), self.shop)
        expose = [h.strip().lower() for h in c.header("access-control-expose-headers").split(",")]
        for h in ("x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            self.assertIn(h, expose)
        self.assertEqual(c.header("vary"), "Origin")
        c = self.stack.sse("/api/products/search/stream?q=red+lehenga", headers={"Origin": "https://evil.example"})
        c.read_all()
        c.close()
        self.assertEqual(c.status, 200)
        self.assertIsNone(c.header("access-control-allow-origin"))
        self.assertEqual(c.header("vary"), "Origin")
        # a JSON answer, an error, an upload
        r = self.stack.get("/api/products/search?q=red", headers={"Origin": self.shop})
        self.assertEqual(r.header("Access-Control-Allow-Origin"), self.shop)
        r = self.stack.get("/api/products/search?limit=0", headers={"Origin": self.shop})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), self.shop)
        r = upload(self.stack, self.bot, "c.md", "# C\n\nA cross-origin upload.\n", headers={"Origin": self.shop})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), self.shop)
        r = self.stack.get("/api/context/files?chatbotId=" + self.bot, headers=dict(auth(ADMIN_KEY), Origin=self.shop))
        self.assertEqual(r.header("Access-Control-Allow-Origin"), self.shop)
        r = self.stack.get("/api/context/files?chatbotId=" + self.bot,
                        headers=dict(auth(ADMIN_KEY), Origin="https://evil.example"))
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))

    def test_a_chatbots_own_origin(self):
        own = self.own
        self.assertEqual(self.preflight(CHAT, own).status, 204)
        _, out, _ = admin(self.stack, "origin", "list", self.bot)
        self.assertIn(own.lower(), out)
        for bot, allowed in ((self.bot, True), ("not-" + self.bot, False)):
            c = self.stack.sse(CHAT, method="POST", body={"query": "returns?", "chatbotId": bot},
                            headers={"Origin": own})
            c.read_all()
            c.close()
            self.assertEqual(c.header("access-control-allow-origin"), own if allowed else None, bot)
        r = upload(self.stack, "not-" + self.bot, "d.md", "# D\n\nAnother shop's file.\n", headers={"Origin": own})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        admin(self.stack, "origin", "remove", self.bot, own)
        self.assertEqual(self.preflight(CHAT, own).status, 403)
        admin(self.stack, "origin", "add", self.bot, own)
        rc, _, err = admin(self.stack, "origin", "add", self.bot, own + "/path", check=False)
        self.assertEqual(rc, 2)
        self.assertIn("path", err)


# --------------------------------------------------------------------------

class OpsAccessTest(harness.LogsOnFailure, unittest.TestCase):
    """The host's internals answer only to ops_allowed_networks or an admin
    key; plain health answers everyone."""

    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=1, db=SHARED_DB, overrides={
            "upload_api_keys": ADMIN_KEY, "trusted_proxies": "127.0.0.1",
            "ops_allowed_networks": "127.0.0.0/8, 10.20.0.0/16"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()


    def test_metrics_refused_from_a_network_not_allowed(self):
        far = {"X-Forwarded-For": "203.0.113.9"}
        for path in ("/api/metrics", "/api/health?full=1"):
            r = self.stack.get(path, headers=far)
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.json()["code"], "FORBIDDEN")
            self.assertNotIn(b"pid", r.body)
            # an admin key opens it; another chatbot-scoped manage key does not
            self.assertEqual(self.stack.get(path, headers=dict(far, **auth(ADMIN_KEY))).status, 200)
            k = new_key(self.stack, "ops-bot", "admin")["key"]
            self.assertEqual(self.stack.get(path, headers=dict(far, **auth(k))).status, 403)
            self.assertEqual(self.stack.get(path, headers=dict(far, **auth("nope"))).status, 401)
            # an allowed network
            self.assertEqual(self.stack.get(path, headers={"X-Forwarded-For": "10.20.3.4"}).status, 200)
            self.assertEqual(self.stack.get(path).status, 200)
        r = self.stack.get("/api/health", headers=far)
        self.assertEqual(r.status, 200)
        d = r.json()
        self.assertEqual(d["status"], "ok")
        for k in ("scoreboard", "worker", "rateLimiter"):
            self.assertNotIn(k, d)
        d = self.stack.get("/api/health?full=1").json()
        self.assertTrue(d["scoreboard"])
        self.assertIn("pid", d["worker"])


# --------------------------------------------------------------------------

class SchemaUpgradeTest(harness.LogsOnFailure, unittest.TestCase):
    """A version 1 database (sessions without owners, no keys) upgrades in
    place when the current schema is loaded over it, and loading it again
    changes nothing."""

    def test_version_1_upgrades_in_place(self):
        db = "troika_upgrade_" + uuid.uuid4().hex[:8]
        SHARED_DB.query("CREATE DATABASE %s" % db)
        try:
            with open(SCHEMA_V1, encoding="utf-8") as f:
                SHARED_DB.query(f.read(), db=db)
            SHARED_DB.query("INSERT INTO sessions (id, chatbot_id) VALUES ('test-1', 'shop'); "
                            "INSERT INTO messages (session_id, role, content) VALUES ('test-1', 'user', 'hi');", db=db)
            with open(os.path.join(SRC, "conf", "schema.sql"), encoding="utf-8") as f:
                schema = f.read()
            for _ in range(2):
                SHARED_DB.query(schema, db=db)
                rows = SHARED_DB.query("SELECT id, chatbot_id, IFNULL(kind, 'NULL') FROM sessions; "
                                       "SELECT COUNT(*) FROM messages; SELECT version FROM schema_info; "
                                       "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = "
                                       "DATABASE(); SELECT COUNT(*) FROM information_schema.columns WHERE "
                                       "table_schema = DATABASE() AND table_name = 'sessions' AND column_name = "
                                       "'kind'; SELECT COUNT(*) FROM information_schema.tables WHERE "
                                       "table_schema = DATABASE() AND table_name IN ('api_keys', 'chatbot_origins')",
                                       db=db).stdout.decode().split("\n")
                self.assertEqual(rows[:6], ["test-1\tshop\tNULL", "1", "2", "0", "1", "2"])
        finally:
            SHARED_DB.query("DROP DATABASE %s" % db)


if __name__ == "__main__":
    unittest.main()
