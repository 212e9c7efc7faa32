#!/usr/bin/python3
"""--fault through the real binary: each kind (latency, status, reset,
truncate, hang, drop-response) as curl and Python requests see it, live
(proxy, record) against the fake API over HTTP and HTTPS (interception,
--upstream-ca) and in replay; selection (method, path glob, times, every,
rate with --seed, the first matching spec deciding); the fault in the log
line, --log-json, the recorded cassette's "_fault" and `show`; faulted
exchanges reach the log and the cassette exactly once, hung ones when the
client gives up or patchscope stops; in replay, status, reset and hang leave
the entry's place in its sequence, latency, truncate and drop-response take
it; and bad specs refused with one line, exit 2, nothing bound."""

import hashlib
import json
import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AUTH, PROFILE, T  # noqa: E402
from test_cassette import CassetteCase, har_doc, har_entry  # noqa: E402

requests = harness.requests

KNOWN = ("(known: latency, status, reset, truncate, hang, drop-response)")


def read_all(r):
    """Every body byte of a streamed requests answer: (bytes, the error
    that ended the read early, or None)."""
    data = b""
    try:
        while True:
            piece = r.raw.read(65536, decode_content=False)
            if not piece:
                return data, None
            data += piece
    except Exception as e:       # urllib3's ProtocolError and friends
        return data, e


class FaultCase(CassetteCase):
    """A fake API (TLS when tls is set) and helpers to serve with faults."""

    tls = False

    def setUp(self):
        super().setUp()
        if requests is None:
            self.skipTest("python3-requests is not installed")
        self.fake = self.start_fake(tls=self.tls)

    def serve(self, command, *args, faults=(), cassette=None):
        argv = []
        if cassette is not None:
            argv += ["-c", cassette]
        if self.tls:
            argv += ["--upstream-ca", self.fake_ca.cert]
        for f in faults:
            argv += ["--fault", f]
        return self.start_ps(command, *(argv + list(args)))

    def url(self, path):
        return self.fake.url + path

    def client(self, proxy):
        s = self.https_session(proxy) if self.tls else self.session(proxy)
        s.auth = AUTH
        return s

    def curl_through(self, proxy, path, *args, timeout=None):
        """curl through proxy: (status, head, body, exit status)."""
        extra = ["--cacert", self.patchscope_ca()] if self.tls else []
        return self.curl_status(proxy, self.url(path), *(extra + list(args)),
                                timeout=timeout)

    def assert_fault_body(self, doc, status, name):
        self.assertEqual(set(doc), {"type", "code", "message", "status",
                                    "errors", "httpStatusCode"}, doc)
        self.assertEqual(doc["type"], "PatchscopeFault")
        self.assertEqual(doc["code"], "patchscope_fault")
        self.assertEqual(doc["status"], name)
        self.assertEqual(doc["errors"], [])
        self.assertEqual(doc["httpStatusCode"], status)
        self.assertIn("--fault", doc["message"])

    def wait_log(self, proxy, pattern, timeout=None, what=None):
        """harness's wait_log, with ^ and $ at each line."""
        return super().wait_log(proxy, "(?m)" + pattern, timeout, what)

    def log_lines(self, proxy, pattern):
        return re.findall(pattern, proxy.log(), re.M)

    def wait_lines(self, proxy, pattern, n):
        """Wait until n log lines match pattern (re.M); return them."""
        try:
            return harness.wait_for(
                lambda: len(self.log_lines(proxy, pattern)) >= n and
                self.log_lines(proxy, pattern), T(5),
                what="%d log lines matching %r" % (n, pattern))
        except AssertionError as e:
            self.fail("%s; log:\n%s" % (e, proxy.log()[-3000:]))


class KindsMixin:
    """Each kind, live, as clients see it (run over HTTP and HTTPS)."""

    def test_status_answers_in_the_api_error_shape_and_keeps_alive(self):
        p = self.serve("proxy", faults=[
            "PATCH /v1/*/profiles/*=status:503:retry-after=2,times=1",
            "GET /_fake/echo=status:429"])
        s = self.client(p)
        r = s.patch(self.url(PROFILE), json={"title": "t1"}, timeout=T(10))
        self.assertEqual(r.status_code, 503, r.text)
        self.assertEqual(r.reason, "Service Unavailable")
        self.assertEqual(r.headers.get("Retry-After"), "2")
        self.assertEqual(r.headers.get("X-Patchscope-Fault"),
                         "status:503:retry-after=2")
        self.assertTrue(r.headers["Content-Type"].startswith(
            "application/json"))
        self.assertNotIn("close", r.headers.get("Connection", "").lower())
        self.assert_fault_body(r.json(), 503, "SERVICE_UNAVAILABLE")
        # Not sent on: the API never saw it.
        self.assertEqual(self.fake.requests_for(PROFILE), 0)
        # The retry (times=1: no fault) goes through on the same connection.
        r = s.patch(self.url(PROFILE), json={"title": "t1"}, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.fake.requests_for(PROFILE), 1)
        self.assertEqual(self.fake.stats()["connections"], 1)
        # curl: 429 without Retry-After.
        status, head, body, rc = self.curl_through(p, "/_fake/echo?x=1")
        self.assertEqual((rc, status), (0, 429), head)
        self.assertNotIn("retry-after", head.lower())
        self.assertRegex(head, r"HTTP/1.1 429 Too Many Requests")
        self.assert_fault_body(json.loads(body), 429, "TOO_MANY_REQUESTS")
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 0)
        self.wait_log(p, r"PATCH \S+/v1/acc1/profiles/p1 -> 503 \(.*\) "
                      r"fault=status:503:retry-after=2$")
        self.wait_log(p, r"GET \S+/_fake/echo\?x=1 -> 429 \(.*\) "
                      r"fault=status:429$")

    def test_reset_before_any_answer(self):
        p = self.serve("proxy", faults=["POST /_fake/echo=reset"])
        s = self.client(p)
        with self.assertRaises(requests.exceptions.ConnectionError) as cm:
            s.post(self.url("/_fake/echo"), data=b"x" * 100, timeout=T(10))
        # Python's TLS layer may report the reset as an EOF; curl names it.
        if not self.tls:
            self.assertRegex(repr(cm.exception),
                             r"ConnectionResetError|[Cc]onnection reset")
        status, head, body, rc = self.curl_through(p, "/_fake/echo",
                                                   "-d", "x=1")
        self.assertEqual(rc, 56, "curl: connection reset (%r)" % body)
        self.assertEqual(body, b"")
        # (Over HTTPS the only head curl saw is the CONNECT's.)
        self.assertEqual(status, 200 if self.tls else 0)
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 0)
        # Others are still served.
        r = self.client(p).get(self.url("/_fake/echo"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.wait_log(p, r"POST \S+/_fake/echo -> 0 \(req \d+ B, resp 0 B, "
                      r"[\d.]+ ms\) fault=reset$")
        self.assertEqual(len(self.log_lines(p, r"fault=reset$")), 2)

    def test_truncate_cuts_the_body_after_a_full_length_head(self):
        p = self.serve("proxy", faults=["GET /_fake/stream=truncate"])
        for chunked in ("", "&chunked=1"):
            r = self.client(p).get(self.url("/_fake/stream?bytes=100000" +
                                            chunked), stream=True,
                                   timeout=T(10))
            self.assertEqual(r.status_code, 200)
            # The head says the whole length (a chunked answer was held).
            self.assertEqual(r.headers.get("Content-Length"), "100000")
            self.assertNotIn("Transfer-Encoding", r.headers)
            self.assertIn("close", r.headers.get("Connection", "").lower())
            data, err = read_all(r)
            r.close()
            self.assertEqual(len(data), 50000, err)
            self.assertEqual(data, (harness.STREAM_BLOCK * 2)[:50000])
            status, head, body, rc = self.curl_through(
                p, "/_fake/stream?bytes=100001" + chunked)
            self.assertEqual(rc, 18, "curl: transfer closed early")
            self.assertEqual((status, len(body)), (200, 50000))
        # Forwarded each time: the origin sent it all.
        self.assertEqual(self.fake.requests_for("/_fake/stream"), 4)
        self.assertEqual(len(self.log_lines(
            p, r"GET \S+/_fake/stream\S* -> 200 \(req 0 B, resp 10000[01] B"
            r".*fault=truncate$")), 4)

    def test_hang_answers_nothing_and_outlasts_the_timeouts(self):
        # The client waits well past --idle-timeout and --header-timeout.
        idle = T(0.4)
        p = self.serve("proxy", "--idle-timeout", str(idle),
                       "--header-timeout", str(idle),
                       faults=["GET /_fake/echo=hang"])
        t0 = time.monotonic()
        with self.assertRaises(requests.exceptions.ReadTimeout):
            self.client(p).get(self.url("/_fake/echo"), timeout=4 * idle)
        self.assertGreaterEqual(time.monotonic() - t0, 4 * idle - 0.1)
        # Meanwhile, and after, the process answers others.
        s = self.client(p)
        status, head, body, rc = self.curl_through(p, "/_fake/echo", "-m",
                                                   str(3 * idle))
        self.assertEqual(rc, 28, "curl: timed out")
        r = s.get(self.url("/_fake/stream?bytes=10"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 0)
        # Each hung request that the client gave up is logged, once.
        self.wait_lines(p, r"GET \S+/_fake/echo -> 499 client_closed: .* "
                        r"fault=hang$", 2)
        time.sleep(0.2)
        self.assertEqual(len(self.log_lines(p, r"fault=hang$")), 2)


class LiveFaults(KindsMixin, FaultCase):
    """Live over HTTP: the kinds, selection, matching, the log."""

    def test_hang_is_ended_and_logged_when_patchscope_stops(self):
        p = self.serve("proxy", faults=["PUT /x/*=hang"])
        c = self.raw(p, timeout=T(5))
        c.send(harness.request_bytes("PUT", self.url("/x/y"),
                                     "127.0.0.1:%d" % self.fake.port,
                                     body=b"{}"))
        self.wait_log(p, r"fault: PUT /x/\*=hang")
        time.sleep(0.3)
        self.assertFalse(c.closed_by_peer(0.5), "a hung request is answered")
        t0 = time.monotonic()
        rc = p.stop(signal.SIGTERM, T(8))
        self.assertEqual(rc, 0)
        # Closed at once, not after the 5 s shutdown deadline.
        self.assertLess(time.monotonic() - t0, T(3))
        self.assertNotIn("still busy", p.log())
        self.assertEqual(c.read_until_close(T(2)), b"")
        self.assertRegex(p.log(), r"PUT \S+/x/y -> 0 shutting_down: .* "
                         r"fault=hang\n")

    def test_latency_holding_a_body_does_not_spin(self):
        """While latency holds a request whose body filled the input, the
        proxy sleeps: it once woke its read callback again and again."""
        if harness.VALGRIND:
            self.skipTest("CPU time means nothing under valgrind")
        p = self.serve("proxy", faults=["POST /_fake/upload=latency:1500"])
        s = self.client(p)
        body = os.urandom(600000)

        def cpu():
            with open("/proc/%d/stat" % p.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / \
                os.sysconf("SC_CLK_TCK")

        before = cpu()
        r = s.post(self.url("/_fake/upload"), data=body, timeout=T(10))
        used = cpu() - before
        self.assertEqual(r.json(), {"bytes": len(body), "sha256":
                                    hashlib.sha256(body).hexdigest()})
        # A busy loop burns the whole 1.5 s; the work itself is a few ms.
        self.assertLess(used, 0.5 * harness.TIME_SCALE, "CPU seconds")

    def test_latency_delays_the_answer(self):
        p = self.serve("proxy", faults=["GET /_fake/echo=latency:400",
                                        "POST /_fake/upload=latency:300"])
        s = self.client(p)
        t0 = time.monotonic()
        r = s.get(self.url("/_fake/echo?a=1"), timeout=T(10))
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.assertEqual(r.json()["query"], "a=1")
        t0 = time.monotonic()
        r = s.get(self.url("/_fake/stream?bytes=10"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        if not harness.VALGRIND:
            self.assertLess(time.monotonic() - t0, 0.4, "no fault, no delay")
        # A body that arrives during the wait goes on whole.
        body = os.urandom(300000)
        t0 = time.monotonic()
        r = s.post(self.url("/_fake/upload"), data=body, timeout=T(10))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(r.json(), {"bytes": len(body), "sha256":
                                    hashlib.sha256(body).hexdigest()})
        status, head, out, rc = self.curl_through(p, "/_fake/echo", "-w",
                                                  "%{time_total}")
        self.assertEqual((rc, status), (0, 200))
        self.assertGreaterEqual(float(out.decode().rsplit("}", 1)[-1]), 0.4)
        # Pipelined: each request waits its turn, bodies and order kept.
        c = self.raw(p)
        host = "127.0.0.1:%d" % self.fake.port
        c.send(harness.request_bytes("GET", self.url("/_fake/echo?p=1"),
                                     host) +
               harness.request_bytes("POST", self.url("/_fake/upload"), host,
                                     body=b"0123456789") +
               harness.request_bytes("GET", self.url("/_fake/echo?p=3"),
                                     host))
        t0 = time.monotonic()
        got = [c.read_response() for _ in range(3)]
        self.assertGreaterEqual(time.monotonic() - t0, 1.1)
        self.assertEqual([r.json().get("query") for r in got[::2]],
                         ["p=1", "p=3"])
        self.assertEqual(got[1].json()["bytes"], 10)
        self.wait_log(p, r"GET \S+/_fake/echo\?a=1 -> 200 \(.* ([\d.]+) ms\)"
                      r" fault=latency:400$")
        ms = float(re.search(r"_fake/echo\?a=1 -> 200 \(.* ([\d.]+) ms\)",
                             p.log()).group(1))
        self.assertGreaterEqual(ms, 400)

    def test_drop_response_applies_the_patch_then_closes(self):
        p = self.serve("proxy", faults=[
            "PATCH /v1/*/profiles/*=drop-response,times=1",
            "POST /_fake/echo=drop-response"])
        s = self.client(p)
        with self.assertRaises(requests.exceptions.ConnectionError) as cm:
            s.patch(self.url(PROFILE + "?fields=title"),
                    json={"title": "applied, then lost"}, timeout=T(10))
        self.assertIn("Remote end closed connection without response",
                      str(cm.exception))
        # The origin got it and applied it.
        self.assertEqual(self.fake.requests_for(PROFILE), 1)
        r = s.get(self.url(PROFILE + "?fields=title"), timeout=T(10))
        self.assertEqual(r.json(), {"title": "applied, then lost"})
        status, head, body, rc = self.curl_through(p, "/_fake/echo", "-d",
                                                   "a=1")
        self.assertEqual(rc, 52, "curl: empty reply from server")
        self.assertEqual(body, b"")
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 1)
        self.wait_log(p, r"PATCH \S+/v1/acc1/profiles/p1\?fields=title -> "
                      r"200 \(req \d+ B, resp \d+ B, .*\) "
                      r"fault=drop-response$")
        self.wait_log(p, r"POST \S+/_fake/echo -> 200 .* "
                      r"fault=drop-response$")

    def test_selection_times_every_and_first_spec_decides(self):
        p = self.serve("proxy", faults=[
            "GET /_fake/echo=status:503,every=2",
            "GET /_fake/stream=status:500,times=2",
            "GET /_fake/st*=status:418"])
        s = self.client(p)
        got = [s.get(self.url("/_fake/echo"), timeout=T(10)).status_code
               for _ in range(6)]
        self.assertEqual(got, [200, 503, 200, 503, 200, 503])
        got = [s.get(self.url("/_fake/stream?bytes=1"),
                     timeout=T(10)).status_code for _ in range(4)]
        # The second spec decides for /_fake/stream even once used up.
        self.assertEqual(got, [500, 500, 200, 200])
        r = s.get(self.url("/_fake/stats"), timeout=T(10))
        self.assertEqual(r.status_code, 418)
        self.assertEqual(r.reason, "")
        self.assert_fault_body(r.json(), 418, "STATUS_418")

    def rate_run(self, *args):
        p = self.serve("proxy", *args, faults=[
            "GET /_fake/echo=status:503,rate=0.5"])
        s = self.client(p)
        pattern = "".join(
            "x" if s.get(self.url("/_fake/echo"),
                         timeout=T(10)).status_code == 503 else "."
            for _ in range(24))
        seed = re.search(r"rate choices follow --seed (\d+)", p.log())
        self.stop_ok(p)
        return pattern, int(seed.group(1)), p.log()

    def test_rate_is_reproducible_with_seed(self):
        a, seed, log = self.rate_run("--seed", "7")
        self.assertEqual(seed, 7)
        self.assertNotIn("from the clock", log)
        self.assertIn("x", a)
        self.assertIn(".", a)
        b, _, _ = self.rate_run("--seed", "7")
        self.assertEqual(a, b)
        # Without --seed the seed used is logged; giving it repeats the run.
        c, seed, log = self.rate_run()
        self.assertIn("from the clock", log)
        d, _, _ = self.rate_run("--seed", str(seed))
        self.assertEqual(c, d)

    def test_method_and_path_glob_matching(self):
        p = self.serve("proxy", faults=[
            "PATCH /v1/*/profiles/*=status:503",
            "GET /_fake/ech?=status:502"])
        s = self.client(p)
        self.assertEqual(s.get(self.url(PROFILE),
                               timeout=T(10)).status_code, 200)
        self.assertEqual(s.patch(self.url(PROFILE + "?fields=id"), json={},
                                 timeout=T(10)).status_code, 503)
        self.assertEqual(s.patch(self.url("/_fake/echo"), json={},
                                 timeout=T(10)).status_code, 200)
        self.assertEqual(s.get(self.url("/_fake/echo?q=/v1/a/profiles/b"),
                               timeout=T(10)).status_code, 502)
        self.assertEqual(s.get(self.url("/_fake/echoo"),
                               timeout=T(10)).status_code, 404)

    def test_log_json_has_the_fault(self):
        p = self.serve("proxy", "--log-json", faults=[
            "GET /_fake/echo=status:503:retry-after=1"])
        self.client(p).get(self.url("/_fake/echo"), timeout=T(10))
        self.client(p).get(self.url("/_fake/stream?bytes=1"), timeout=T(10))
        recs = []

        def two():
            recs[:] = [json.loads(line) for line in p.log().splitlines()
                       if line.startswith("{")]
            return len(recs) >= 2
        harness.wait_for(two, T(5), what="two JSON log records")
        self.assertEqual(recs[0]["fault"], "status:503:retry-after=1")
        self.assertEqual(recs[0]["status"], 503)
        self.assertNotIn("fault", recs[1])


class LiveFaultsHttps(KindsMixin, FaultCase):
    """The kinds inside intercepted HTTPS (CONNECT, --upstream-ca)."""

    tls = True

    def test_drop_response_over_https(self):
        p = self.serve("proxy", faults=[
            "PATCH /v1/*/profiles/*=drop-response,times=1"])
        s = self.client(p)
        with self.assertRaises(requests.exceptions.ConnectionError):
            s.patch(self.url(PROFILE + "?fields=title"),
                    json={"title": "over tls"}, timeout=T(10))
        self.assertEqual(self.fake.requests_for(PROFILE), 1)
        r = self.client(p).get(self.url(PROFILE + "?fields=title"),
                               timeout=T(10))
        self.assertEqual(r.json(), {"title": "over tls"})

    def test_latency_over_https(self):
        p = self.serve("proxy", faults=["GET /_fake/echo=latency:300"])
        s = self.client(p)
        s.get(self.url("/_fake/stream?bytes=1"), timeout=T(10))
        t0 = time.monotonic()
        r = s.get(self.url("/_fake/echo"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)


class RecordFaults(FaultCase):
    """record: faulted exchanges in the cassette, once each, with _fault."""

    def test_every_kind_recorded_once_with_its_fault(self):
        har = self.cassette()
        p = self.serve("record", cassette=har, faults=[
            "PATCH /v1/*/profiles/*=status:503:retry-after=1,times=1",
            "GET /_fake/stream=truncate",
            "POST /_fake/echo=drop-response",
            "DELETE /_fake/echo=reset",
            "PUT /_fake/echo=hang",
            "GET /_fake/echo=latency:100"])
        s = self.client(p)
        self.assertEqual(s.patch(self.url(PROFILE), json={"title": "r"},
                                 timeout=T(10)).status_code, 503)
        self.assertEqual(s.patch(self.url(PROFILE), json={"title": "r"},
                                 timeout=T(10)).status_code, 200)
        r = self.client(p).get(self.url("/_fake/stream?bytes=1000"),
                               stream=True, timeout=T(10))
        self.assertEqual(len(read_all(r)[0]), 500)
        r.close()
        with self.assertRaises(requests.exceptions.ConnectionError):
            self.client(p).post(self.url("/_fake/echo"), data=b"dropped",
                                timeout=T(10))
        with self.assertRaises(requests.exceptions.ConnectionError):
            self.client(p).delete(self.url("/_fake/echo"), timeout=T(10))
        with self.assertRaises(requests.exceptions.ReadTimeout):
            self.client(p).put(self.url("/_fake/echo"), data=b"{}",
                               timeout=T(0.5))
        self.assertEqual(self.client(p).get(self.url("/_fake/echo"),
                                            timeout=T(10)).status_code, 200)
        self.wait_log(p, r"PUT \S+/_fake/echo -> 499 client_closed")
        self.stop_ok(p)
        entries = self.entries(har)
        got = [(e["request"]["method"], e["request"]["url"].split("?")[0]
                .replace(self.fake.url, ""), e["response"]["status"],
                e.get("_fault")) for e in entries]
        # Exactly once each, in the order they ended.
        self.assertEqual(sorted(got, key=repr), sorted([
            ("PATCH", PROFILE, 503, "status:503:retry-after=1"),
            ("PATCH", PROFILE, 200, None),
            ("GET", "/_fake/stream", 200, "truncate"),
            ("POST", "/_fake/echo", 200, "drop-response"),
            ("DELETE", "/_fake/echo", 0, "reset"),
            ("PUT", "/_fake/echo", 0, "hang"),
            ("GET", "/_fake/echo", 200, "latency:100")], key=repr))
        by = {(m, u, f): e for (m, u, st, f), e in zip(got, entries)}
        e = by[("PATCH", PROFILE, "status:503:retry-after=1")]
        self.assertEqual(e["_answeredBy"], "patchscope")
        self.assertIn({"name": "Retry-After", "value": "1"},
                      e["response"]["headers"])
        self.assert_fault_body(json.loads(e["response"]["content"]["text"]),
                               503, "SERVICE_UNAVAILABLE")
        self.assertEqual(json.loads(e["request"]["postData"]["text"]),
                         {"title": "r"})
        # truncate and drop-response keep the origin's whole answer.
        e = by[("GET", "/_fake/stream", "truncate")]
        self.assertEqual(e["response"]["content"]["size"], 1000)
        e = by[("POST", "/_fake/echo", "drop-response")]
        self.assertEqual(json.loads(e["response"]["content"]["text"])
                         ["method"], "POST")
        e = by[("PUT", "/_fake/echo", "hang")]
        self.assertEqual(e["_error"], "client_closed")
        self.assertNotIn("_answeredBy", by[("DELETE", "/_fake/echo",
                                            "reset")])
        # show prints it, as text and JSON.
        cp = self.run_ps("show", har)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        for fault in ("status:503:retry-after=1", "truncate",
                      "drop-response", "reset", "hang", "latency:100"):
            self.assertIn("(fault: %s)" % fault, cp.stdout)
        cp = self.run_ps("show", "--json", har)
        faults = [json.loads(line).get("fault")
                  for line in cp.stdout.splitlines()]
        self.assertEqual(sorted(f for f in faults if f), sorted([
            "status:503:retry-after=1", "truncate", "drop-response", "reset",
            "hang", "latency:100"]))
        # The log: one line per exchange, the fault on each faulted one.
        self.assertEqual(len(self.log_lines(p, r" fault=\S+$")), 6)

    def test_recorded_faults_replay_as_they_happened(self):
        har = self.cassette()
        p = self.serve("record", cassette=har, faults=[
            "PATCH /v1/*/profiles/*=status:503:retry-after=3,times=1",
            "GET /_fake/echo=reset"])
        s = self.client(p)
        self.assertEqual(s.patch(self.url(PROFILE), json={"title": "x"},
                                 timeout=T(10)).status_code, 503)
        self.assertEqual(s.patch(self.url(PROFILE), json={"title": "x"},
                                 timeout=T(10)).status_code, 200)
        with self.assertRaises(requests.exceptions.ConnectionError):
            s.get(self.url("/_fake/echo"), timeout=T(10))
        self.stop_ok(p)
        self.assertEqual(len(self.entries(har)), 3)
        rp = self.replay(har)
        s = self.client(rp)
        r = s.patch(self.url(PROFILE), json={"title": "x"}, timeout=T(10))
        self.assertEqual((r.status_code, r.headers.get("Retry-After")),
                         (503, "3"))
        self.assert_fault_body(r.json(), 503, "SERVICE_UNAVAILABLE")
        r = s.patch(self.url(PROFILE), json={"title": "x"}, timeout=T(10))
        self.assertEqual(r.status_code, 200)
        # The reset (no response) never matches.
        self.wait_log(rp, r"1 entries have no response \(status 0\)")
        self.assertEqual(s.get(self.url("/_fake/echo"),
                               timeout=T(10)).status_code, 404)


class ReplayFaults(FaultCase):
    """replay: which kinds take the entry's place in its sequence."""

    def cassette_of(self, base, names=("a", "b", "c")):
        entries = []
        for n in names:
            entries.append(har_entry("GET", base + "/" + n,
                                     body='{"n": "%s1"}' % n))
            entries.append(har_entry("GET", base + "/" + n,
                                     body='{"n": "%s2"}' % n))
        return self.write_file("replay.har", har_doc(entries))

    def get(self, s, url, **kw):
        kw.setdefault("timeout", T(10))
        r = s.get(url, **kw)
        return r.status_code, r.headers.get(
            "X-Patchscope-Replay-Sequence"), r.text

    def test_status_reset_hang_leave_the_sequence(self):
        har = self.cassette_of("http://api.test")
        rp = self.serve("replay", cassette=har, faults=[
            "GET /a=status:503,times=1", "GET /b=reset,times=1",
            "GET /c=hang,times=1"])
        s = self.plain_session()
        base = rp.url
        self.assertEqual(self.get(s, base + "/a")[0], 503)
        self.assertEqual(self.get(s, base + "/a"),
                         (200, "1/2", '{"n": "a1"}'))
        self.assertEqual(self.get(s, base + "/a"),
                         (200, "2/2", '{"n": "a2"}'))
        with self.assertRaises(requests.exceptions.ConnectionError):
            s.get(base + "/b", timeout=T(10))
        self.assertEqual(self.get(s, base + "/b")[1:],
                         ("1/2", '{"n": "b1"}'))
        with self.assertRaises(requests.exceptions.ReadTimeout):
            s.get(base + "/c", timeout=T(0.5))
        self.assertEqual(self.get(self.plain_session(), base + "/c")[1:],
                         ("1/2", '{"n": "c1"}'))
        self.wait_log(rp, r"GET \S+/c -> 499 client_closed: .* fault=hang$")
        self.assertRegex(rp.log(), r"GET \S+/a -> 503 .* "
                         r"fault=status:503\n")
        self.assertRegex(rp.log(), r"GET \S+/b -> 0 .* fault=reset\n")

    def test_latency_truncate_drop_response_take_the_entry(self):
        har = self.cassette_of("http://api.test")
        rp = self.serve("replay", cassette=har, faults=[
            "GET /a=drop-response,times=1", "GET /b=truncate,times=1",
            "GET /c=latency:300,times=1"])
        base = rp.url
        s = self.plain_session()
        with self.assertRaises(requests.exceptions.ConnectionError) as cm:
            s.get(base + "/a", timeout=T(10))
        self.assertIn("Remote end closed connection without response",
                      str(cm.exception))
        # Served, then lost: the next identical request gets the next one.
        self.assertEqual(self.get(s, base + "/a"),
                         (200, "2/2", '{"n": "a2"}'))
        r = s.get(base + "/b", stream=True, timeout=T(10))
        self.assertEqual(r.headers["Content-Length"], "11")
        self.assertEqual(r.headers["X-Patchscope-Replay-Sequence"], "1/2")
        self.assertIn("close", r.headers["Connection"].lower())
        self.assertEqual(read_all(r)[0], b'{"n":')
        r.close()
        self.assertEqual(self.get(s, base + "/b")[1:],
                         ("2/2", '{"n": "b2"}'))
        t0 = time.monotonic()
        self.assertEqual(self.get(s, base + "/c")[1:],
                         ("1/2", '{"n": "c1"}'))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(self.get(s, base + "/c")[1:],
                         ("2/2", '{"n": "c2"}'))
        # curl, through the proxy (absolute form): truncate seen as such.
        rp2 = self.serve("replay", cassette=har, faults=["GET /b=truncate",
                                                         "GET /zz=truncate"])
        status, head, body, rc = self.curl_status(rp2, "http://api.test/b")
        self.assertEqual((rc, status, body), (18, 200, b'{"n":'))
        # patchscope's own answers are cut too (a miss report here).
        c = self.raw(rp2)
        c.send(harness.request_bytes("GET", "/zz", "api.test"))
        version, status, reason, headers = c.read_head()
        length = int(dict((n.lower(), v) for n, v in headers)
                     ["content-length"])
        self.assertEqual(status, 404)
        self.assertGreater(length, 100)
        self.assertEqual(len(c.read_until_close(T(5))), length // 2)

    def test_faults_in_replay_over_https(self):
        har = self.cassette_of("https://127.0.0.1:%d" % self.fake.port,
                               names=("a",))
        self.fake.stop()
        rp = self.serve("replay", cassette=har, faults=[
            "GET /a=status:503,times=1", "GET /b=reset"])
        s = self.https_session(rp)
        url = "https://127.0.0.1:%d" % self.fake.port
        r = s.get(url + "/a", timeout=T(10))
        self.assertEqual(r.status_code, 503)
        self.assert_fault_body(r.json(), 503, "SERVICE_UNAVAILABLE")
        self.assertEqual(self.get(s, url + "/a")[1:],
                         ("1/2", '{"n": "a1"}'))
        rp2 = self.serve("replay", cassette=har, faults=[
            "GET /a=drop-response,times=1"])
        s = self.https_session(rp2)
        with self.assertRaises(requests.exceptions.ConnectionError):
            s.get(url + "/a", timeout=T(10))
        self.assertEqual(self.get(self.https_session(rp2), url + "/a")[1:],
                         ("2/2", '{"n": "a2"}'))


class BadSpecs(CassetteCase):
    """Refused before anything is bound: one line, exit 2."""

    BAD = [
        ("/v1/x", "--fault '/v1/x': expected MATCH=KIND"),
        ("PATCH /x=stat:503", "--fault 'PATCH /x=stat:503': unknown kind "
         "\"stat\" at column 10 " + KNOWN),
        ("*=reset,rate=1.5", "--fault '*=reset,rate=1.5': rate needs a "
         "probability from 0 to 1 such as 0.25, not \"1.5\" at column 14"),
        ("*=reset,every=0", "--fault '*=reset,every=0': every needs a whole "
         "number from 1 up, not \"0\" at column 15"),
        ("*=status:600", "status needs a code from 100 to 599"),
        ("patch /x=reset", "is not in upper case letters at column 1"),
    ]

    def test_bad_specs_exit_2_with_one_line_and_nothing_bound(self):
        port = harness.free_port()
        har = self.cassette("never.har")
        for command in ("proxy", "record", "replay"):
            for spec, want in self.BAD:
                args = [command, "--listen", "127.0.0.1:%d" % port]
                if command != "proxy":
                    args += ["-c", har]
                rc, out, err = self.refuse(*(args + [
                    "--fault", "*=latency:5", "--fault", spec]))
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "", "nothing listens")
                lines = err.splitlines()
                self.assertEqual(len(lines), 1, err)
                self.assertTrue(lines[0].startswith("patchscope: "), err)
                self.assertIn(want, lines[0])
                self.assertFalse(os.path.exists(har))
        s = socket.socket()
        self.addCleanup(s.close)
        self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)

    def test_bad_seed_and_fault_elsewhere(self):
        rc, out, err = self.refuse("proxy", "--listen", "127.0.0.1:0",
                                   "--seed", "x")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("--seed: bad seed \"x\"", err)
        cp = self.run_ps("show", "--fault", "*=reset", "x.har")
        self.assertEqual(cp.returncode, 2)
        self.assertIn("unknown option --fault", cp.stderr)


if __name__ == "__main__":
    harness.main()
