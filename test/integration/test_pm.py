"""Process manager (issue 8), measured against php-fpm: graceful reload under
load, reload with a bad config, SIGTERM drain of several streams, max_requests
recycling seen in the scoreboard, the crash-storm guard, and
request_terminate_timeout_ms. Everything through a private nginx."""

import concurrent.futures
import json
import os
import signal
import time
import unittest

import harness

SHARED_DB = None


harness.shared_db_module(globals())


def metric(stack, name, labels=""):
    body = stack.get("/api/metrics").body.decode()
    for line in body.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    return 0.0


class PmCase(harness.LogsOnFailure, unittest.TestCase):
    WORKERS = 2
    OVERRIDES = {}

    def setUp(self):
        self.stack = harness.Stack(workers=self.WORKERS, overrides=self.OVERRIDES, db=SHARED_DB).start()
        self.addCleanup(self.stack.close)

    def log_text(self):
        with open(self.stack.app.log_file, encoding="utf-8", errors="replace") as f:
            return f.read()

    def assert_complete(self, events):
        names = [e.event for e in events]
        self.assertEqual(names[0], "connected", names)
        self.assertEqual(names[-2:], ["complete", "close"], names)
        self.assertEqual([int(e.id) for e in events], list(range(1, len(events) + 1)))


class ReloadTest(PmCase):
    WORKERS = 20

    def test_sighup_during_20_streams_loses_none(self):
        st = self.stack
        old = set(st.app.worker_pids())
        self.assertEqual(len(old), 20)
        clients = [st.sse("/api/stream/selftest?n=8&interval_ms=400") for _ in range(20)]
        for c in clients:
            self.assertEqual(c.status, 200)
            self.assertEqual(c.next_event().event, "connected")
        # every worker is now busy with one stream
        st.app.proc.send_signal(signal.SIGHUP)

        # requests arriving during the reload are all served
        def quick(i):
            return st.get("/api/selftest?n=1&interval_ms=0", timeout=30).status
        with concurrent.futures.ThreadPoolExecutor(10) as ex:
            statuses = list(ex.map(quick, range(30)))
        self.assertEqual(statuses, [200] * 30)
        for c in clients:
            evs = c.read_all()
            c.close()
            self.assert_complete(evs)
            self.assertEqual(sum(1 for e in evs if e.event == "progress"), 8)
        harness.wait_for(lambda: not (set(harness.children_of(st.app.master_pid)) & old), 20,
                         "the old workers to exit")
        new = set(st.app.worker_pids())
        self.assertEqual(len(new), 20)
        self.assertFalse(new & old)
        self.assertIn("Reloaded configuration: 20 new workers", self.log_text())
        self.assertEqual(metric(st, "troika_worker_restarts_total", '{reason="reloaded"}'), 20)

    def test_sighup_with_a_bad_config_is_refused(self):
        st = self.stack
        old = set(st.app.worker_pids())
        with open(st.app.conf_path, "a") as f:
            f.write("streaming_rate_limit = lots\n")
        st.app.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: "Reload refused" in self.log_text(), 10, "the refusal in the log")
        self.assertIn("streaming_rate_limit: 'lots'", self.log_text())
        time.sleep(0.5)
        self.assertEqual(set(st.app.worker_pids()), old)
        self.assertEqual(st.get("/api/selftest?n=1&interval_ms=0").status, 200)


class DrainTest(PmCase):
    WORKERS = 4

    def test_sigterm_drains_every_stream(self):
        st = self.stack
        clients = [st.sse("/api/stream/selftest?n=5&interval_ms=300") for _ in range(4)]
        for c in clients:
            self.assertEqual(c.next_event().event, "connected")
        t0 = time.monotonic()
        st.app.proc.send_signal(signal.SIGTERM)
        for c in clients:
            evs = c.read_all()
            c.close()
            self.assert_complete(evs)
        rc = st.app.proc.wait(10)
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 4.5)
        self.assertEqual(st.app.session_pids(), [])
        self.assertFalse(os.path.exists(st.app.socket))


class RecycleTest(PmCase):
    WORKERS = 1
    OVERRIDES = {"max_requests": "3"}

    def health(self, rid):
        r = self.stack.get("/api/health?full=1", headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_max_requests_recycling_in_the_scoreboard(self):
        seen = []
        for i in range(7):
            doc = self.health("recycle%d" % i)
            board = doc["scoreboard"]
            self.assertEqual(len(board), 1, board)
            me = board[0]
            self.assertEqual(me["state"], "busy")
            self.assertEqual(me["route"], "/api/health")
            self.assertEqual(me["requestId"], "recycle%d" % i)
            self.assertEqual(me["method"], "GET")
            self.assertIn("started", me)
            self.assertGreaterEqual(me["runningMs"], 0)
            seen.append((me["pid"], me["served"]))
            if me["served"] == 2:   # that was its third request: the worker is recycled
                harness.wait_for(lambda: me["pid"] not in self.stack.app.worker_pids() and
                                 len(self.stack.app.worker_pids()) == 1, 10, "the recycled worker's exit")
        # the startup health probe was this worker's first request
        pids = [p for p, _ in seen]
        self.assertEqual(len(set(pids)), 3, seen)
        self.assertEqual([s for _, s in seen], [1, 2, 0, 1, 2, 0, 1])
        self.assertIn("Recycling after 3 requests", open(self.stack.app.log_file).read())
        self.assertGreaterEqual(metric(self.stack, "troika_worker_restarts_total", '{reason="recycled"}'), 2)


class CrashStormTest(PmCase):
    OVERRIDES = {"crash_storm_deaths": "3", "crash_storm_window_ms": "60000", "respawn_backoff_max_ms": "3000"}

    def test_guard_holds_respawns(self):
        st = self.stack
        killed = set()
        # Kill workers as fast as they come: quick deaths, then a storm.
        deadline = time.monotonic() + 20
        while len(killed) < 4 and time.monotonic() < deadline:
            for pid in st.app.worker_pids():
                if pid not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
            time.sleep(0.02)
        self.assertEqual(len(killed), 4)
        harness.wait_for(lambda: "CRASH STORM" in self.log_text(), 5, "the crash-storm log line")
        # Now every respawn waits the maximum back-off.
        pids = harness.wait_for(lambda: [p for p in st.app.worker_pids() if p not in killed], 10, "a worker")
        t_kill = time.monotonic()
        os.kill(pids[0], signal.SIGKILL)
        killed.add(pids[0])
        harness.wait_for(lambda: len([p for p in st.app.worker_pids() if p not in killed]) >= 1 and
                         len(st.app.worker_pids()) == 2, 10, "all workers back")
        # The slot stayed empty for the full 3 s.
        back = time.monotonic() - t_kill
        self.assertGreaterEqual(back, 2.7, back)
        self.assertEqual(metric(st, "troika_crash_storm_active"), 1)
        self.assertEqual(metric(st, "troika_crash_storms_total"), 1)
        self.assertGreaterEqual(metric(st, "troika_worker_restarts_total", '{reason="crashed"}'), 5)


class TerminateTest(PmCase):
    OVERRIDES = {"request_terminate_timeout_ms": "1000", "request_terminate_grace_ms": "1000"}

    def test_long_stream_is_ended_and_worker_recycled(self):
        st = self.stack
        before = set(st.app.worker_pids())
        c = st.sse("/api/stream/selftest?n=10&interval_ms=500")
        evs = c.read_all()
        c.close()
        names = [e.event for e in evs]
        self.assertEqual(names[-2:], ["error", "close"], names)
        err = evs[-2].json()
        self.assertEqual(err["code"], "STREAM_TIMEOUT")
        self.assertIn("request_terminate_timeout_ms", err["message"])
        elapsed = evs[-2].t - c.t_start
        self.assertTrue(0.9 <= elapsed <= 2.0, elapsed)
        harness.wait_for(lambda: len(set(st.app.worker_pids()) - before) == 1 and
                         len(st.app.worker_pids()) == 2, 10, "the terminated worker's replacement")
        self.assertEqual(metric(st, "troika_worker_restarts_total", '{reason="terminated"}'), 1)
        self.assertIn("over request_terminate_timeout_ms", open(st.app.log_file).read())

    def test_normal_route_gets_504(self):
        r = self.stack.get("/api/selftest?n=10&interval_ms=500", timeout=20)
        self.assertEqual(r.status, 504, r)
        self.assertEqual(r.json()["code"], "STREAM_TIMEOUT")


if __name__ == "__main__":
    unittest.main()
