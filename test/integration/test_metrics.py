"""/api/metrics (issue 8): after a scripted mix of requests through nginx,
the shared counters equal what the test sent, whichever worker served each
request."""

import re
import time
import unittest

import harness

SHARED_DB = None
# The text format's grammar: a label value is any text in quotes, with \\,
# \" and \n escaped (a route label such as "/api/context/files/{id}" holds
# braces).
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
SAMPLE = re.compile(r'^([a-z_]+)(\{(?:%s)(?:,%s)*\})? ([0-9.e+-]+|\+Inf)$' % (LABEL, LABEL))


harness.shared_db_module(globals())


def parse_metrics(text):
    """{(name, frozenset(labels)): value}, and the families' TYPE lines."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = harness.Stack(workers=2, db=SHARED_DB, overrides={
            "streaming_rate_limit": "5", "streaming_window_ms": "60000",
            "streaming_rate_whitelist": "", "trusted_proxies": "127.0.0.1"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def scrape(self):
        r = self.stack.get("/api/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"), r.headers)
        return parse_metrics(r.body.decode())

    def test_counters_equal_what_was_sent(self):
        st = self.stack
        base, _ = self.scrape()   # the health checks of start-up are already counted
        S = "/api/stream/selftest"
        H = {"X-Forwarded-For": "203.0.113.10"}   # this test's own quota

        def v(samples, name, **labels):
            return samples.get((name, frozenset(labels.items())), 0.0)

        def delta(after, name, **labels):
            return v(after, name, **labels) - v(base, name, **labels)

        # 4 complete streams
        events = 0
        body_bytes = 0
        for _ in range(4):
            with st.sse(S + "?n=2&interval_ms=0", headers=H) as c:
                evs = c.read_all()
                self.assertEqual([e.event for e in evs][-2:], ["complete", "close"])
                events += len(evs)
                body_bytes += len(c.raw_body)
        # 1 stream the client leaves after the first event
        c = st.sse(S + "?n=5&interval_ms=400", headers=H)
        self.assertEqual(c.next_event().event, "connected")
        c.close()
        time.sleep(1.5)   # the worker notices at its next write
        # the 6th limited request in the window: 429
        r = st.get(S + "?n=1&interval_ms=0", headers=H)
        self.assertEqual(r.status, 429)
        # two unknown routes, one wrong method, one normal twin, one health
        self.assertEqual(st.get("/api/nope").status, 404)
        self.assertEqual(st.get("/api/nope/either").status, 404)
        self.assertEqual(st.request("POST", "/api/health", body="").status, 405)
        self.assertEqual(st.get("/api/selftest?n=1&interval_ms=0").status, 200)
        self.assertEqual(st.get("/api/health").status, 200)

        after, types = self.scrape()
        self.assertEqual(delta(after, "troika_requests_total", route=S, status="200"), 5)
        self.assertEqual(delta(after, "troika_requests_total", route=S, status="429"), 1)
        self.assertEqual(delta(after, "troika_streams_started_total", route=S), 5)
        self.assertEqual(delta(after, "troika_streams_completed_total", route=S), 4)
        self.assertEqual(delta(after, "troika_streams_failed_total", route=S), 1)
        self.assertEqual(delta(after, "troika_client_disconnects_total", route=S), 1)
        self.assertEqual(delta(after, "troika_rate_limited_total", route=S), 1)
        self.assertEqual(delta(after, "troika_requests_total", route="other", status="404"), 2)
        self.assertEqual(delta(after, "troika_requests_total", route="other", status="405"), 1)
        self.assertEqual(delta(after, "troika_requests_total", route="/api/selftest", status="200"), 1)
        self.assertEqual(delta(after, "troika_requests_total", route="/api/health", status="200"), 1)
        self.assertEqual(delta(after, "troika_streams_started_total", route="/api/selftest"), 0)
        # events: the 4 complete streams as received, plus what the server
        # wrote to the stream that was left (connected, then 1-2 ticks at
        # most before it saw the broken pipe)
        extra = delta(after, "troika_events_sent_total", route=S) - events
        self.assertTrue(1 <= extra <= 3, extra)
        self.assertGreaterEqual(delta(after, "troika_bytes_sent_total", route=S), body_bytes)
        self.assertEqual(delta(after, "troika_stream_duration_seconds_count", route=S), 5)
        self.assertEqual(delta(after, "troika_time_to_first_event_seconds_count", route=S), 5)
        self.assertEqual(delta(after, "troika_stream_duration_seconds_bucket", route=S, le="+Inf"), 5)
        # the left stream ran ~0.4-0.8 s; the complete ones far less
        self.assertEqual(delta(after, "troika_stream_duration_seconds_bucket", route=S, le="0.1"), 4)
        # gauges from the scoreboard: only this scrape is busy
        self.assertEqual(v(after, "troika_workers", state="busy"), 1)
        self.assertEqual(v(after, "troika_workers", state="idle"), 1)
        self.assertEqual(v(after, "troika_active_streams"), 0)
        for fam in ("troika_requests_total", "troika_streams_started_total", "troika_events_sent_total",
                    "troika_bytes_sent_total", "troika_client_disconnects_total", "troika_rate_limited_total",
                    "troika_worker_restarts_total"):
            self.assertEqual(types.get(fam), "counter", fam)
        for fam in ("troika_stream_duration_seconds", "troika_time_to_first_event_seconds"):
            self.assertEqual(types.get(fam), "histogram", fam)
        self.assertEqual(types.get("troika_active_streams"), "gauge")
        # the scrape itself shows up in the next one
        again, _ = self.scrape()
        self.assertEqual(v(again, "troika_requests_total", route="/api/metrics", status="200") -
                         v(after, "troika_requests_total", route="/api/metrics", status="200"), 1)

    def test_active_streams_gauge(self):
        c = self.stack.sse("/api/stream/selftest?n=3&interval_ms=500", headers={"X-Forwarded-For": "203.0.113.11"})
        try:
            self.assertEqual(c.status, 200)
            c.next_event()
            samples, _ = self.scrape()
            self.assertEqual(samples[("troika_active_streams", frozenset())], 1)
            self.assertEqual(samples[("troika_workers", frozenset({("state", "busy")}))], 2)
            c.read_all()   # to the end, so that no other test sees it finish
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
