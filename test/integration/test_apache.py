"""Troika behind Apache 2.4 (issue 8), with the shipped site configs:
mod_fcgid (Apache spawns troika-fcgi processes in single-process mode) and
mod_proxy_fcgi (a troika-fcgi master with prefork workers). Shows that the
events of a stream arrive one by one, and that the streaming rate limit is
one limit across every process, also processes that mod_fcgid spawned on
its own with no Troika master.

Skipped (not failed) when apache2 or a module is missing: ./quickstart test
installs apache2 and libapache2-mod-fcgid."""

import collections
import http.client
import os
import re
import threading
import time
import unittest

import apache
import harness

LIMIT = 10
OVERRIDES = {"streaming_rate_limit": str(LIMIT), "streaming_window_ms": "5000",
             "streaming_rate_whitelist": "", "trusted_proxies": "127.0.0.1",
             "cors_allowed_origins": "https://shop.example",
             "max_requests_per_client": "64"}   # the window alone: bursts of one address overlap
DECISION = re.compile(r"-(?P<rid>[A-Za-z0-9]+)\] Rate limit (?P<what>admitted|refused) (?P<ip>\S+) "
                      r"remaining=(?P<rem>\d+) at_us=(?P<at>\d+) seq=(?P<seq>\d+) pid=(?P<pid>\d+)")


class ApacheCase(harness.LogsOnFailure):
    """The tests both modes share (a mixin: not run on its own)."""
    MODE = None

    @classmethod
    def setUpClass(cls):
        why = apache.available(cls.MODE)
        if why:
            raise unittest.SkipTest(why)
        cls.stack = apache.ApacheStack(cls.MODE, workers=4, overrides=OVERRIDES).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def test_events_arrive_one_by_one(self):
        interval = 400
        with self.stack.sse("/api/stream/selftest?n=5&interval_ms=%d" % interval,
                            headers={"X-Forwarded-For": "198.51.100.200"}) as c:
            self.assertEqual(c.status, 200)
            evs = c.read_all()
        names = [e.event for e in evs]
        self.assertEqual(names, ["connected"] + ["progress"] * 5 + ["complete", "close"])
        ticks = [e.t for e in evs if e.event == "progress"]
        for a, b in zip(ticks, ticks[1:]):
            self.assertGreaterEqual(b - a, interval / 2000.0, "events arrived together: %r" % ticks)
        # the first tick came long before the end, not with it
        self.assertGreaterEqual(evs[-1].t - ticks[0], 4 * interval / 2000.0)
        self.assertEqual(c.header("X-RateLimit-Limit"), str(LIMIT))

    def test_preflight_and_delete_reach_the_app(self):
        """Apache passes OPTIONS (a CORS preflight) and DELETE to the app (issue 15)."""
        for path, method in (("/api/chat/query/stream", "POST"), ("/api/context/files/1", "DELETE")):
            r = self.stack.request("OPTIONS", path, headers={
                "Origin": "https://shop.example", "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type, authorization"})
            self.assertEqual(r.status, 204, r)
            self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://shop.example")
            self.assertIn(method, r.header("Access-Control-Allow-Methods"))
        r = self.stack.request("OPTIONS", "/api/chat/query/stream", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 403, r)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        r = self.stack.request("DELETE", "/api/context/files/1")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["code"], "UNAUTHORIZED")
        with self.stack.sse("/api/stream/selftest?n=1&interval_ms=0",
                            headers={"Origin": "https://shop.example",
                                     "X-Forwarded-For": "198.51.100.%d" % (30 if self.MODE == "fcgid" else 31)}) as c:
            c.read_all()
        self.assertEqual(c.header("Access-Control-Allow-Origin"), "https://shop.example")

    def test_one_limit_across_processes(self):
        ip = "203.0.113.%d" % (7 if self.MODE == "fcgid" else 8)
        # Slow enough that the requests overlap and need several processes.
        path = "/api/stream/selftest?n=2&interval_ms=300"
        results = []
        lock = threading.Lock()
        start = threading.Event()

        def one(i):
            rid = "ap%s%d%03d" % (self.MODE, os.getpid(), i)
            conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
            start.wait()
            conn.request("GET", path, headers={"X-Forwarded-For": ip, "X-Request-Id": rid})
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            with lock:
                results.append((rid, resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body))
        ts = [threading.Thread(target=one, args=(i,)) for i in range(LIMIT + 6)]
        for t in ts:
            t.start()
        start.set()
        for t in ts:
            t.join(60)
        statuses = collections.Counter(r[1] for r in results)
        self.assertEqual(statuses, {200: LIMIT, 429: 6}, results)
        for rid, status, headers, body in results:
            self.assertEqual(headers["x-ratelimit-limit"], str(LIMIT))
            if status == 429:
                self.assertIn("retry-after", headers)
                self.assertIn(b'"code":"RATE_LIMIT_EXCEEDED"', body)
        time.sleep(0.3)
        with open(self.stack.app.log_file, encoding="utf-8", errors="replace") as f:
            log = {m.group("rid"): m for m in map(DECISION.search, f) if m}
        mine = [log[r[0]] for r in results]
        pids = {int(m.group("pid")) for m in mine}
        self.assertGreaterEqual(len(pids), 2, "one process decided everything: %r" % pids)
        # replay: never more than LIMIT in the window, never refused under it
        adm = []
        # server order: time, then the limiter's count for decisions within one microsecond
        for m in sorted(mine, key=lambda m: (int(m.group("at")), int(m.group("seq")))):
            at = int(m.group("at"))
            inwin = [a for a in adm if a > at - 5000000]
            if m.group("what") == "admitted":
                self.assertLess(len(inwin), LIMIT)
                adm.append(at)
            else:
                self.assertEqual(len(inwin), LIMIT)
        return pids


class FcgidTest(ApacheCase, unittest.TestCase):
    MODE = "fcgid"

    def test_processes_are_apaches_own(self):
        # Spawned by mod_fcgid, each in single-process mode: no Troika
        # master anywhere, yet one shared mapping.
        self.stack.get("/api/selftest?n=1&interval_ms=0")
        pids = self.stack.apache.troika_pids()
        self.assertTrue(pids)
        for pid in pids:
            ppid = harness.proc_stat(pid)[0]
            self.assertNotIn(ppid, pids)
            with open("/proc/%d/cmdline" % ppid, "rb") as f:
                self.assertIn(b"apache2", f.read())
        with open(self.stack.app.log_file, encoding="utf-8", errors="replace") as f:
            self.assertIn("Serving the inherited socket in one process", f.read())

    def test_scoreboard_lists_every_spawned_process(self):
        threads = [threading.Thread(target=self.stack.get, args=("/api/selftest?n=2&interval_ms=300",))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        doc = self.stack.get("/api/health?full=1").json()
        board = {w["pid"] for w in doc["scoreboard"]}
        live = set(self.stack.apache.troika_pids())
        self.assertEqual(board, live)
        self.assertTrue(all(w["id"] == 0 for w in doc["scoreboard"]))


class ProxyFcgiTest(ApacheCase, unittest.TestCase):
    MODE = "proxy"


if __name__ == "__main__":
    unittest.main()
