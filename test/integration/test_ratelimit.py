"""Streaming rate limiter (issue 8) through a private nginx: exactness of the
sliding window across workers, headers, whitelist, trusted proxies, and a
worker killed mid-burst.

How exactness is judged. Every limited request carries its own X-Request-Id.
The app logs (at DEBUG) each decision with the monotonic time it was taken
under the limiter's lock (`at_us`), which is the same clock as Python's
time.monotonic(). The test:

1. checks each logged decision time lies inside the request's life as the
   client saw it (sent at t_send, response head at t_recv), so the stamps are
   real, not invented;
2. replays the decisions in server order (the time, then the limiter's own
   decision count `seq` for decisions within one microsecond) and asserts,
   for every decision at t, with n = admissions of that client in (t - window, t]: admitted implies
   n < limit, refused implies n == limit (nobody refused while under the
   limit), and X-RateLimit-Remaining == limit - n after the decision;
3. independently of the log, from client times alone: no limit + 1
   admissions fit inside an interval shorter than the window (which would be
   a proven violation whatever the server order), and no refused request had
   fewer than `limit` admissions that could possibly lie in its window.

Tolerance: client-side checks widen every request to [t_send, t_recv]
(loopback latency through nginx, ~1-10 ms here); this only makes check 3
weaker (it can miss a violation by less than one request's latency), never
hides one from check 2, which uses the exact server times. The schedule puts
bursts right on the window edges so that check 2 sees decisions within
milliseconds of a slot freeing.
"""

import collections
import itertools
import math
import os
import re
import signal
import threading
import time
import unittest
import http.client

import harness

LIMIT = 10
WINDOW_MS = 2000
SHARED_DB = None

DECISION = re.compile(r"-(?P<rid>[A-Za-z0-9]+)\] Rate limit (?P<what>admitted|refused) (?P<ip>\S+) "
                      r"remaining=(?P<rem>\d+) at_us=(?P<at>\d+) seq=(?P<seq>\d+) pid=(?P<pid>\d+)")


harness.shared_db_module(globals())


class Probe:
    """One request as the client saw it."""

    def __init__(self, rid, ip):
        self.rid = rid
        self.ip = ip
        self.t_send = self.t_recv = None
        self.status = None
        self.headers = {}
        self.body = b""
        self.error = None


def fire(port, probe, path, xff=None, timeout=20):
    hdrs = {"X-Request-Id": probe.rid}
    if xff:
        hdrs["X-Forwarded-For"] = xff
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.connect()
        probe.t_send = time.monotonic()
        conn.request("GET", path, headers=hdrs)
        resp = conn.getresponse()
        probe.t_recv = time.monotonic()
        probe.status = resp.status
        probe.headers = {k.lower(): v for k, v in resp.getheaders()}
        probe.body = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        probe.error = exc
        if probe.t_recv is None:
            probe.t_recv = time.monotonic()
    finally:
        conn.close()
    return probe


def decisions_from_log(path):
    out = {}
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = DECISION.search(line)
            if m:
                out[m.group("rid")] = {
                    "admitted": m.group("what") == "admitted", "ip": m.group("ip"),
                    "remaining": int(m.group("rem")), "at": int(m.group("at")) / 1e6,
                    "seq": int(m.group("seq")),
                    "pid": int(m.group("pid"))}
    return out


class LimiterCase(harness.LogsOnFailure, unittest.TestCase):
    OVERRIDES = {}
    WORKERS = 4
    _seq = itertools.count(1)   # next() is atomic; `+= 1` from the pool's threads could hand out one id twice
    killed = frozenset()   # worker pids a test killed

    @classmethod
    def setUpClass(cls):
        overrides = {"streaming_rate_limit": str(LIMIT), "streaming_window_ms": str(WINDOW_MS),
                     "streaming_rate_whitelist": "",
                     # the window alone: bursts of one address run many at once
                     "max_requests_per_client": "64"}
        overrides.update(cls.OVERRIDES)
        cls.stack = harness.Stack(workers=cls.WORKERS, overrides=overrides, db=SHARED_DB).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def rid(self):
        return "rl%s%05d" % (os.getpid(), next(LimiterCase._seq))

    def run_schedule(self, schedule, path="/api/stream/selftest?n=1&interval_ms=0", threads=6, during=None):
        """schedule: [(offset_ms, ip, xff)]; fires each at t0 + offset from a
        pool of threads. `during(t0)` runs in the main thread meanwhile."""
        probes = []
        lock = threading.Lock()
        jobs = collections.deque(sorted(schedule, key=lambda j: j[0]))
        t0 = time.monotonic() + 0.2

        def worker():
            while True:
                with lock:
                    if not jobs:
                        return
                    off, ip, xff = jobs.popleft()
                delay = t0 + off / 1000.0 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                p = fire(self.stack.port, Probe(self.rid(), ip), path, xff)
                with lock:
                    probes.append(p)
        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        if during:
            during(t0)
        for t in ts:
            t.join(120)
        time.sleep(0.3)   # let the log lines land
        return probes

    # -- the checks -----------------------------------------------------------
    def check_exact(self, probes, ip, allow_unknown=False):
        log = decisions_from_log(self.stack.app.log_file)
        mine = [p for p in probes if p.ip == ip]
        known, unknown = [], []
        W = WINDOW_MS / 1000.0
        for p in mine:
            d = log.get(p.rid)
            if d is None:
                unknown.append(p)
                continue
            self.assertEqual(d["ip"], ip, (p.rid, d))
            # 1. the server's decision time lies within the request's life
            self.assertGreaterEqual(d["at"], p.t_send - 0.002, (p.rid, d, p.t_send))
            self.assertLessEqual(d["at"], p.t_recv + 0.002, (p.rid, d, p.t_recv))
            if d["pid"] in self.killed:
                p.error = "its worker was killed"   # a 502 or a cut stream: only the log counts
            if p.error is None:
                self.assertEqual(p.status, 200 if d["admitted"] else 429, (p.rid, p.status, d, p.body[:200]))
                self.assertEqual(int(p.headers["x-ratelimit-remaining"]), d["remaining"], p.rid)
                self.assertEqual(int(p.headers["x-ratelimit-limit"]), LIMIT)
            known.append((d["at"], d, p))
        if not allow_unknown:
            self.assertEqual(unknown, [], "requests without a logged decision")
        # server order: the time, then the limiter's own count for two
        # decisions taken within one microsecond (lock hand-offs between
        # workers can be that quick)
        known.sort(key=lambda x: (x[0], x[1]["seq"]))
        self.assertEqual(len({d["seq"] for _, d, _ in known}), len(known), "one decision logged for two requests")
        # 2. replay in server order
        admitted = []
        wall_off = time.time() - time.monotonic()
        for at, d, p in known:
            inwin = [a for a in admitted if a > at - W]
            maybe = [u for u in unknown if u.t_recv > at - W and u.t_send <= at]
            if d["admitted"]:
                self.assertLess(len(inwin), LIMIT, "admitted over the limit at %.6f: %r" % (at, inwin))
                self.assertEqual(d["remaining"], LIMIT - len(inwin) - 1, p.rid)
                admitted.append(at)
                if p.error is None:
                    oldest = min([a for a in admitted if a > at - W])
                    reset = math.ceil(oldest + W + wall_off)
                    self.assertLessEqual(abs(int(p.headers["x-ratelimit-reset"]) - reset), 1, p.headers)
            else:
                self.assertGreaterEqual(len(inwin) + len(maybe), LIMIT,
                                        "refused while under the limit at %.6f (%d in window)" % (at, len(inwin)))
                self.assertEqual(d["remaining"], 0)
                if p.error is None and not maybe:
                    oldest = min(inwin)
                    wait_ms = math.ceil(round((oldest + W - at) * 1e6) / 1000.0)
                    self.assertEqual(int(p.headers["retry-after"]), max(1, math.ceil(wait_ms / 1000.0)),
                                     (p.headers, oldest, at))
                    body = p.body.decode()
                    self.assertIn('"code":"RATE_LIMIT_EXCEEDED"', body)
                    self.assertIn('"status":429', body)
                    self.assertIn('"error":"Streaming rate limit exceeded"', body)
        # 3. client times alone
        adm = sorted([p for _, d, p in known if d["admitted"]], key=lambda p: p.t_send)
        for k in range(len(adm) - LIMIT):
            group = adm[k:k + LIMIT + 1]
            span = max(g.t_recv for g in group) - group[0].t_send
            self.assertGreaterEqual(span, W, "%d admissions within %.3fs" % (LIMIT + 1, span))
        for _, d, p in known:
            if d["admitted"]:
                continue
            possible = [a for a in adm if a.t_recv > p.t_send - W and a.t_send < p.t_recv]
            self.assertGreaterEqual(len(possible) + len(unknown), LIMIT,
                                    "refused with at most %d admissions in its window" % len(possible))
        return known, unknown, log


def edge_schedule(ip, xff, base=0):
    """Bursts and trickles straddling the window edges."""
    s = []
    s += [(base + 0, ip, xff)] * 14                              # 10 admitted, 4 refused
    s += [(base + 600, ip, xff)] * 3                             # full: refused
    s += [(base + 1900 + 20 * i, ip, xff) for i in range(12)]    # the first admissions leave at ~2000
    s += [(base + 3000, ip, xff)] * 8
    s += [(base + 3950 + 10 * i, ip, xff) for i in range(15)]    # second edge
    s += [(base + 6300, ip, xff)] * 12
    s += [(base + 8300 + 5 * i, ip, xff) for i in range(10)]
    return s


class ExactWindowTest(LimiterCase):
    OVERRIDES = {"trusted_proxies": "127.0.0.1"}

    def test_exact_across_workers(self):
        ip = "203.0.113.50"
        probes = self.run_schedule(edge_schedule(ip, ip))
        known, _, log = self.check_exact(probes, ip)
        n_adm = sum(1 for _, d, _ in known if d["admitted"])
        n_ref = len(known) - n_adm
        self.assertGreater(n_ref, 10)
        self.assertGreater(n_adm, 2 * LIMIT)
        pids = {d["pid"] for _, d, _ in known}
        self.assertGreaterEqual(len(pids), 2, "decisions from one worker only: %r" % pids)
        print("\n  exact: %d admitted, %d refused, decided by %d workers" % (n_adm, n_ref, len(pids)))

    def test_several_clients_at_once(self):
        ips = ["203.0.113.%d" % i for i in (1, 2, 3)] + ["2001:db8::5"]
        sched = []
        for ip in ips:
            sched += [(0, ip, ip)] * 13 + [(2100, ip, ip)] * 12
        probes = self.run_schedule(sched, threads=8)
        for ip in ips:
            known, _, _ = self.check_exact(probes, ip)
            first = [d for at, d, p in known if at < min(k[0] for k in known) + 1.0]
            self.assertEqual(sum(1 for d in first if d["admitted"]), LIMIT, ip)

    def test_v4_mapped_is_the_same_client(self):
        ip = "198.18.0.7"
        sched = [(0, ip, ip)] * 6 + [(0, ip, "::ffff:" + ip)] * 6
        probes = self.run_schedule(sched)
        adm = sum(1 for p in probes if p.status == 200)
        self.assertEqual(adm, LIMIT)
        log = decisions_from_log(self.stack.app.log_file)
        self.assertEqual({log[p.rid]["ip"] for p in probes}, {ip})

    def test_kill_9_mid_burst(self):
        # A worker killed in the middle of a burst (its request too) leaves
        # the limiter exact: the next locker recovers any lock it held.
        ip = "203.0.113.60"
        path = "/api/stream/selftest?n=2&interval_ms=150"
        killed = []

        def killer(t0):
            time.sleep(max(0, t0 + 0.1 - time.monotonic()))
            for _ in range(2):
                pids = self.stack.app.worker_pids()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                time.sleep(0.9)
        sched = [(0, ip, ip)] * 14 + [(1000, ip, ip)] * 4 + [(2050 + 30 * i, ip, ip) for i in range(12)]
        probes = self.run_schedule(sched, path=path, during=killer)
        self.assertEqual(len(killed), 2)
        self.killed = frozenset(killed)
        self.check_exact(probes, ip, allow_unknown=True)
        # Afterwards the limiter still counts exactly, for a fresh client too.
        harness.wait_for(lambda: len(self.stack.app.worker_pids()) == self.WORKERS, 20, "respawned workers")
        ip2 = "203.0.113.61"
        probes = self.run_schedule([(0, ip2, ip2)] * 13)
        self.assertEqual(sum(1 for p in probes if p.status == 200), LIMIT)
        self.assertEqual(sum(1 for p in probes if p.status == 429), 3)
        self.check_exact(probes, ip2)


class WhitelistAndProxyTest(LimiterCase):
    OVERRIDES = {"trusted_proxies": "127.0.0.0/8, ::1",
                 "streaming_rate_whitelist": "198.51.100.0/24, 2001:db8:aaaa::/48"}
    WORKERS = 2

    def burst(self, xff, n):
        return self.run_schedule([(0, xff, xff)] * n, threads=4)

    def test_whitelisted_cidr_is_not_limited(self):
        for xff in ("198.51.100.9", "2001:db8:aaaa:1::9"):
            probes = self.burst(xff, LIMIT + 5)
            self.assertEqual([p.status for p in probes], [200] * (LIMIT + 5), xff)
            for p in probes:
                self.assertEqual(p.headers["x-ratelimit-limit"], str(LIMIT))
                self.assertEqual(p.headers["x-ratelimit-remaining"], str(LIMIT))

    def test_non_whitelisted_neighbour_is_limited(self):
        probes = self.burst("198.51.101.9", LIMIT + 3)
        self.assertEqual(sorted(p.status for p in probes), [200] * LIMIT + [429] * 3)

    def test_rightmost_untrusted_address_is_the_client(self):
        # A client cannot escape by prepending addresses: the proxy chain is
        # read from the right, skipping trusted proxies.
        probes = []
        for i in range(LIMIT + 3):
            probes.append(fire(self.stack.port, Probe(self.rid(), "x"), "/api/stream/selftest?n=1&interval_ms=0",
                               xff="10.%d.0.1, 203.0.113.77, 127.0.0.5" % i))
        self.assertEqual([p.status for p in probes], [200] * LIMIT + [429] * 3)
        log = decisions_from_log(self.stack.app.log_file)
        self.assertEqual({log[p.rid]["ip"] for p in probes}, {"203.0.113.77"})

    def test_headers_on_every_response_of_a_limited_route(self):
        # A 400 from the handler still carries the headers (and counts).
        p = fire(self.stack.port, Probe(self.rid(), "x"), "/api/stream/selftest?n=abc", xff="203.0.113.88")
        self.assertEqual(p.status, 400)
        for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            self.assertIn(h, p.headers)
        self.assertEqual(p.headers["x-ratelimit-remaining"], str(LIMIT - 1))
        # Reset is a Unix time in seconds, within the window from now.
        reset = int(p.headers["x-ratelimit-reset"])
        self.assertTrue(time.time() <= reset <= time.time() + WINDOW_MS / 1000 + 1, reset)
        # Routes that are not limited carry none.
        r = self.stack.get("/api/health")
        self.assertNotIn("x-ratelimit-limit", r.headers)


class UntrustedProxyTest(LimiterCase):
    """With no trusted proxies the header is ignored: everyone behind nginx
    is 127.0.0.1 and shares one quota."""
    OVERRIDES = {"trusted_proxies": ""}
    WORKERS = 2

    def test_forwarded_header_is_ignored(self):
        sched = [(0, "127.0.0.1", "203.0.113.%d" % i) for i in range(LIMIT + 4)]
        probes = self.run_schedule(sched, threads=4)
        for p in probes:
            p.ip = "127.0.0.1"
        self.assertEqual(sum(1 for p in probes if p.status == 200), LIMIT)
        self.check_exact(probes, "127.0.0.1")


if __name__ == "__main__":
    unittest.main()
