"""A shop's page on another origin than the API, in a real browser (issue
15 part 4, with docs/client.md): Debian's Chromium (playwright-core,
test/web/cross_origin.mjs) loads a page from one port of the test's own
static server, two origins in all: one in cors_allowed_origins, one not.
The page loads troika.js and widget.js from the API (a classic script:
no CORS needed) and calls the API across origins: a GET stream
(EventSource), a JSON POST stream (preflighted), an upload with a key
(preflighted, XHR), the file list and a delete with fetch, the headers a
page may read (X-Request-Id, X-RateLimit-*), and the widget's answer. From
the refused origin every call fails in the browser (NETWORK_ERROR), as
CORS means it to."""

import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
import unittest
import uuid

import harness
import web_stack

harness.shared_db_module(globals(), prefix="troika-it-webcors-db-", after=web_stack.import_catalog)

QUESTION = "How many days do I have to return an item?"

PAGE = """<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Shop {name}</title>
<link rel="icon" href="data:,">
<h1>A shop on {name}</h1>
<script src="{api}/troika.js"></script>
<script src="{api}/widget.js" data-chatbot="{bot}" data-api="{api}" defer></script>
"""


class ShopServer:
    """A static server for the shop's page on its own port (its own origin)."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="troika-it-shop-")
        handler = functools.partial(Quiet, directory=self.dir)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(self, api, bot):
        """The shop's page, which loads the client and the widget from the API at api."""
        with open(os.path.join(self.dir, "index.html"), "w", encoding="utf-8") as f:
            f.write(PAGE.format(name=self.name, api=api, bot=bot))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class CrossOriginBrowserTest(harness.LogsOnFailure, unittest.TestCase):
    bot = "webc-" + uuid.uuid4().hex[:8]

    @classmethod
    def setUpClass(cls):
        web_stack.require_node()
        chromium = web_stack.require_chromium()
        # the shops' origins first: the API's config names the allowed one
        cls.shops = []
        try:
            cls.allowed = ShopServer("allowed")
            cls.shops.append(cls.allowed)
            cls.refused = ShopServer("refused")
            cls.shops.append(cls.refused)
            cls.ws = web_stack.WebStack(SHARED_DB, cors_allowed_origins=cls.allowed.origin)
        except BaseException:
            for s in cls.shops:
                s.close()
            raise
        cls.stack = cls.ws.stack
        try:
            for shop in cls.shops:
                shop.page(cls.ws.base, cls.bot)
            cls.ws.upload_text(cls.bot, "policies.md", web_stack.POLICIES, "Store policies")
            made = web_stack.admin(cls.stack.app.conf_path, "key", "create", "--chatbot", cls.bot,
                                   "--scope", "manage", "--json")
            key = json.loads([line for line in made.splitlines() if line.startswith("{")][0])["key"]
            cls.out = web_stack.node("cross_origin.mjs", {
                "api": cls.ws.base, "allowed": cls.allowed.origin + "/", "refused": cls.refused.origin + "/",
                "chatbot": cls.bot, "key": key, "question": QUESTION, "chromium": chromium}, timeout=240)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ws.close()
        for s in cls.shops:
            s.close()

    def page(self, name):
        p = self.out["pages"][name]
        self.assertNotIn("failed", p, p.get("failed"))
        return p

    def test_the_allowed_origin_uses_every_route(self):
        p = self.page("allowed")
        self.assertEqual(p["origin"], self.allowed.origin)
        self.assertNotEqual(p["origin"], self.ws.base)             # really another origin
        self.assertEqual(p["search"]["status"], "done", p["search"])
        self.assertGreater(p["search"]["products"], 0)
        self.assertEqual(p["chat"]["status"], "done", p["chat"])
        self.assertIn("7 days", p["chat"]["text"])
        self.assertRegex(p["chat"]["sessionId"], r"^[0-9a-f]{32}$")
        self.assertEqual(p["upload"]["status"], "done", p["upload"])
        self.assertIsInstance(p["upload"]["fileId"], int)
        self.assertEqual(p["files"]["status"], 200, p["files"])
        self.assertEqual(p["files"]["count"], 2)                   # the policies and the page's upload
        self.assertEqual(p["files"]["deleted"], 200)
        self.assertRegex(p["files"]["requestId"] or "", r"^[0-9a-f]{32}$")   # exposed to the page
        h = p["headers"]
        self.assertEqual(h["status"], 200, h)
        self.assertEqual(h["limit"], "1000")                       # X-RateLimit-* exposed too
        self.assertIsNotNone(h["remaining"])
        self.assertIn("7 days", p["widget"]["text"])
        self.assertIsNone(p["widget"]["error"])
        self.assertEqual(self.out["console"]["allowed"], [])

    def test_the_refused_origin_reads_nothing(self):
        p = self.page("refused")
        self.assertEqual(p["origin"], self.refused.origin)
        for call in ("search", "chat", "upload"):
            self.assertEqual(p[call]["status"], "error", (call, p[call]))
            self.assertEqual(p[call]["error"]["code"], "NETWORK_ERROR", (call, p[call]))
        self.assertIn("error", p["files"])                         # fetch rejects: a CORS failure
        self.assertIn("error", p["headers"])
        self.assertIsNotNone(p["widget"]["error"])
        self.assertTrue(any("CORS" in m for m in self.out["console"]["refused"]), self.out["console"]["refused"])
        # the preflighted upload never reached the app: no file from it
        rows = SHARED_DB.query("SELECT COUNT(*) FROM context_files WHERE chatbot_id = '%s' AND title = 'Care guide'"
                               % self.bot, db=harness.MariaDB.DB_NAME).stdout.decode().split()
        self.assertEqual(rows, ["0"])


if __name__ == "__main__":
    unittest.main()
