"""Stream slots (issue 17): one client cannot take every worker, the normal
twins are limited like the streams, the default whitelist holds nobody
(behind a local TLS proxy 127.0.0.1 is every client), and when every
worker is taken anyway the answer is a JSON 503 BUSY with Retry-After,
not a hang and not nginx's bare 502.

Through nginx, as a client sees it; the stacks whitelist nobody unless a
test says so.
"""

import json
import threading
import time
import unittest

import harness

SELFTEST = "/api/stream/selftest?n=%d&interval_ms=%d"


def hold(stack, n, interval_ms, out, i, headers=None):
    """A stream that holds its worker for n * interval_ms; its events into out[i]."""
    try:
        with stack.sse(SELFTEST % (n, interval_ms), headers=headers, timeout=60) as c:
            out[i] = (c.status, [e.event for e in c.read_all()])
    except Exception as exc:  # noqa: BLE001 - reported by the test
        out[i] = exc


class SlotCase(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 4
    OVERRIDES = {}

    @classmethod
    def setUpClass(cls):
        conf = {"streaming_rate_whitelist": "", "streaming_timeout": "20000", "max_requests": "0"}
        conf.update(cls.OVERRIDES)
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides=conf).start()
        cls.pids = sorted(cls.stack.app.worker_pids())

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def tearDown(self):
        self.assertEqual(sorted(self.stack.app.worker_pids()), self.pids)

    def wait_idle(self):
        harness.wait_for(lambda: not any(w["state"] == "busy" and w.get("route") != "/api/health"
                                         for w in self.stack.get("/api/health?full=1").json()["scoreboard"]),
                         30, "every worker idle")


class PerClientCapTest(SlotCase):
    """4 workers: one client runs at most 2 limited requests at once."""
    OVERRIDES = {"streaming_rate_limit": "1000"}

    def test_one_client_cannot_take_every_worker(self):
        out = [None] * 2
        threads = [threading.Thread(target=hold, args=(self.stack, 8, 500, out, i)) for i in range(2)]
        for t in threads:
            t.start()
        harness.wait_for(lambda: sum(w["state"] == "busy" and w.get("stream", False)
                                     for w in self.stack.get("/api/health?full=1").json()["scoreboard"]) == 2,
                         10, "two streams running")
        # a third at once, stream or twin: 429 naming the cap, Retry-After 1
        for path in (SELFTEST % (2, 10), "/api/selftest?n=1&interval_ms=0", "/api/products/search?q=silk"):
            r = self.stack.get(path)
            self.assertEqual(r.status, 429, (path, r))
            doc = r.json()
            self.assertEqual(doc["code"], "RATE_LIMIT_EXCEEDED")
            self.assertEqual(doc["concurrent"], 2)
            self.assertEqual(r.header("Retry-After"), "1")
        # another client (through a trusted proxy's header) still gets a worker
        for t in threads:
            t.join(30)
        for res in out:
            self.assertEqual(res, (200, res[1]))
            self.assertEqual(res[1][-2:], ["complete", "close"])
        self.assertEqual(self.stack.get(SELFTEST % (1, 0)).status, 200)


class TwinsLimitedTest(SlotCase):
    WORKERS = 2
    OVERRIDES = {"streaming_rate_limit": "5", "streaming_window_ms": "60000"}

    def test_normal_twins_share_the_window(self):
        paths = ["/api/selftest?n=1&interval_ms=0", "/api/stream/selftest?n=1&interval_ms=0"]
        got = []
        for i in range(7):
            r = self.stack.get(paths[i % 2])
            got.append(r.status)
            self.assertIsNotNone(r.header("X-RateLimit-Limit"), r)
        self.assertEqual(got, [200] * 5 + [429] * 2)
        # health and metrics are not limited
        self.assertEqual(self.stack.get("/api/health").status, 200)
        self.assertEqual(self.stack.get("/api/metrics").status, 200)


class DefaultWhitelistTest(SlotCase):
    """The shipped default whitelists nobody: a local proxy (nginx here,
    127.0.0.1) is limited like anyone."""
    WORKERS = 2
    # None: the harness's own test whitelist is left out, the shipped one holds
    OVERRIDES = {"streaming_rate_limit": "3", "streaming_rate_whitelist": None}

    def test_loopback_is_limited_by_default(self):
        with open(self.stack.app.conf_path) as f:
            lines = [ln.strip() for ln in f if ln.startswith("streaming_rate_whitelist")]
        self.assertEqual(lines[-1:], ["streaming_rate_whitelist ="])   # the shipped value, last
        got = [self.stack.get("/api/products/search?q=silk").status for _ in range(4)]
        self.assertEqual(got, [200, 200, 200, 429])


class TrustedProxyWhitelistTest(SlotCase):
    WORKERS = 2
    OVERRIDES = {"streaming_rate_limit": "3", "streaming_rate_whitelist": "127.0.0.1",
                 "trusted_proxies": "127.0.0.1"}

    def test_a_proxy_that_names_nobody_is_not_whitelisted(self):
        got = [self.stack.get("/api/products/search?q=silk").status for _ in range(4)]
        self.assertEqual(got, [200, 200, 200, 429])
        # a client the proxy names has its own window
        h = {"X-Forwarded-For": "203.0.113.7"}
        got = [self.stack.get("/api/products/search?q=silk", headers=h).status for _ in range(4)]
        self.assertEqual(got, [200, 200, 200, 429])


class BusyTest(SlotCase):
    """2 workers held by long streams: a request that would wait is answered
    at once by the master, 503 BUSY, JSON, Retry-After; the streams are not
    harmed and the next request after them is served."""
    WORKERS = 2
    OVERRIDES = {"streaming_rate_whitelist": "127.0.0.1", "busy_timeout_ms": "500"}

    def test_busy_instead_of_a_hang(self):
        out = [None] * 2
        threads = [threading.Thread(target=hold, args=(self.stack, 12, 500, out, i)) for i in range(2)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        for path in ("/api/products/search?q=silk", "/api/health", "/api/stream/selftest?n=1&interval_ms=0"):
            t0 = time.monotonic()
            r = self.stack.get(path, timeout=30)
            took = time.monotonic() - t0
            self.assertEqual(r.status, 503, (path, r))
            self.assertLess(took, 2.0, path)
            self.assertTrue(r.header("content-type", "").startswith("application/json"), r)
            doc = r.json()
            self.assertEqual(doc["code"], "BUSY")
            self.assertEqual(doc["requestId"], r.header("X-Request-Id"))
            retry = int(r.header("Retry-After"))
            self.assertTrue(1 <= retry <= 60, retry)
        # a burst: every one answered, none a 502
        res = [None] * 20
        burst = [threading.Thread(target=lambda i=i: res.__setitem__(i, self.stack.get("/api/selftest?n=1&interval_ms=0",
                                                                                       timeout=30)))
                 for i in range(20)]
        for t in burst:
            t.start()
        for t in burst:
            t.join(30)
        self.assertEqual(sorted({r.status for r in res}), [503])
        for t in threads:
            t.join(30)
        for r in out:
            self.assertEqual(r[0], 200)
            self.assertEqual(r[1][-2:], ["complete", "close"])
        self.wait_idle()
        self.assertEqual(self.stack.get("/api/products/search?q=silk").status, 200)
        # counted: troika_requests_total with status 503
        self.assertIn('status="503"', self.stack.get("/api/metrics").body.decode())


if __name__ == "__main__":
    unittest.main()
