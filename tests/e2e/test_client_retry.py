#!/usr/bin/python3
"""End to end: patchscope judges how a client reacts to failures.

A small retrying client of our own (retry_client.py), configured to do it
right or wrong, runs through the real binary under each --fault kind, live
against the fake API and in replay, over HTTP and HTTPS. The diagnoses must
name the bad behaviour (client.retry.early: retried before Retry-After;
client.retry.unsafe: a PATCH sent again after an ambiguous failure with no
GET in between) and stay silent for the good one: in the log line of the
retried request, in its cassette entry, and in --report.
"""

import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import AUTH, PROFILE, T  # noqa: E402
from test_cassette import CassetteCase  # noqa: E402

try:
    from retry_client import RetryClient
except ImportError:         # python3-requests missing: tests skip
    RetryClient = None

EARLY = "client.retry.early"
UNSAFE = "client.retry.unsafe"
BODY = {"title": "Retried call"}


class ClientRetryBase(CassetteCase):
    def run_client(self, proxy, fake_url, honour, look, verify=None,
                   timeout=None):
        if RetryClient is None:
            self.skipTest("python3-requests is not installed")
        s = self.https_session(proxy, verify) if fake_url.startswith(
            "https") else self.session(proxy)
        c = RetryClient(s, fake_url, AUTH, honour_retry_after=honour,
                        look_first=look, timeout=timeout or T(3))
        r = c.patch(PROFILE, BODY)
        return c, r

    def stop_report(self, proxy, report):
        self.assertEqual(proxy.stop(), 0, proxy.log()[-2000:])
        with open(report) as f:
            doc = json.load(f)
        return doc

    def codes(self, doc):
        return [f["code"] for f in doc["client"]["findings"]]

    def assert_judged(self, proxy, report, want, client):
        """want: the codes the run must have earned, in order."""
        doc = self.stop_report(proxy, report)
        self.assertEqual(self.codes(doc), want,
                         "client log %r; patchscope's log:\n%s"
                         % (client.log, proxy.log()[-3000:]))
        self.assertEqual(doc["client"]["total"], len(want))
        log = proxy.log()
        for code in (EARLY, UNSAFE):
            n = len(re.findall(r"\] +warning\[%s\]" % re.escape(code), log))
            self.assertEqual(n, want.count(code),
                             "%s lines in the log:\n%s" % (code, log[-3000:]))
        for f in doc["client"]["findings"]:
            self.assertEqual(f["client"], "127.0.0.1")
            self.assertEqual(f["severity"], "warning")
            self.assertIsInstance(f["connection"], int)
            self.assertTrue(f["url"].endswith(PROFILE), f)
            self.assertTrue(f["message"], f)
        if want:
            self.assertRegex(log, r"clients: %d finding" % len(want))
        return doc


# Each scenario: the fault, and what a client that does it wrong earns.
AMBIGUOUS = [
    ("drop-response", "PATCH /v1/*=drop-response,times=1"),
    ("reset", "PATCH /v1/*=reset,times=1"),
    ("truncate", "PATCH /v1/*=truncate,times=1"),
    ("hang", "PATCH /v1/*=hang,times=1"),
]


class TestLive(ClientRetryBase):
    """proxy against the fake API."""

    def start(self, *faults, tls=False):
        fake = self.start_fake(tls=tls)
        report = os.path.join(self.tmp, "report-%d.json" % self._next())
        args = ["-l", "127.0.0.1:0", "--report", report]
        if tls:
            args += ["--upstream-ca", fake.cafile]
        for f in faults:
            args += ["--fault", f]
        return fake, self.start_proxy(*args), report

    def test_retry_after_honoured_is_silent_and_ignored_is_early(self):
        for honour in (True, False):
            with self.subTest(honour_retry_after=honour):
                fake, proxy, report = self.start(
                    "PATCH /v1/*=status:503:retry-after=1,times=1")
                t0 = time.monotonic()
                c, r = self.run_client(proxy, fake.url, honour, True)
                self.assertEqual(r.status_code, 200, c.log)
                self.assertEqual(c.log, [("PATCH", 503), ("PATCH", 200)])
                if honour:
                    self.assertGreaterEqual(time.monotonic() - t0, 1.0)
                self.assert_judged(proxy, report, [] if honour else [EARLY],
                                   c)

    def test_429_on_a_get_retried_at_once_is_early(self):
        fake, proxy, report = self.start(
            "GET /v1/*=status:429:retry-after=30,times=1")
        s = self.session(proxy)
        c = RetryClient(s, fake.url, AUTH, honour_retry_after=False)
        r = c.get(PROFILE)
        self.assertEqual(r.status_code, 200)
        doc = self.assert_judged(proxy, report, [EARLY], c)
        self.assertEqual(doc["client"]["findings"][0]["method"], "GET")
        self.assertIn("wait 30 s", doc["client"]["findings"][0]["message"])

    def test_ambiguous_failures_judged(self):
        for kind, fault in AMBIGUOUS:
            for look in (True, False):
                with self.subTest(fault=kind, look_first=look):
                    fake, proxy, report = self.start(fault)
                    c, r = self.run_client(proxy, fake.url, True, look,
                                           timeout=T(1.5))
                    # The first attempt failed, whatever the client saw.
                    self.assertNotEqual(c.log[0][1], 200, c.log)
                    if look:
                        self.assertEqual(c.log[1][0], "GET", c.log)
                    else:
                        self.assertEqual(c.log[1], ("PATCH", 200), c.log)
                    self.assert_judged(proxy, report,
                                       [] if look else [UNSAFE], c)

    def test_lost_answer_was_applied_and_the_blind_retry_applies_it_again(
            self):
        for look in (True, False):
            with self.subTest(look_first=look):
                fake, proxy, report = self.start(
                    "PATCH /v1/*=drop-response,times=1")
                c, r = self.run_client(proxy, fake.url, True, look)
                patches = [e for e in c.log if e[0] == "PATCH"]
                if look:
                    # The GET showed the change: no second PATCH at all.
                    self.assertEqual(c.log, [("PATCH", "ConnectionError"),
                                             ("GET", 200)])
                else:
                    self.assertEqual(len(patches), 2, c.log)
                # Every PATCH the client sent reached the API.
                self.assertEqual(fake.requests_for(PROFILE), len(c.log))
                self.assert_judged(proxy, report, [] if look else [UNSAFE],
                                   c)

    def test_over_https(self):
        for look in (True, False):
            with self.subTest(look_first=look):
                fake, proxy, report = self.start(
                    "PATCH /v1/*=drop-response,times=1", tls=True)
                c, r = self.run_client(proxy, fake.url, True, look)
                self.assertEqual(c.log[0], ("PATCH", "ConnectionError"))
                self.assert_judged(proxy, report, [] if look else [UNSAFE],
                                   c)

    def test_real_upstream_failure_is_ambiguous_too(self):
        # No --fault: the origin is down, so the PATCH gets a 502.
        port = harness.free_port()
        report = os.path.join(self.tmp, "report.json")
        proxy = self.start_proxy("-l", "127.0.0.1:0", "--report", report)
        s = self.session(proxy)
        url = "http://127.0.0.1:%d" % port
        c = RetryClient(s, url, AUTH, look_first=False, tries=2)
        r = c.patch(PROFILE, BODY)
        self.assertEqual(r.status_code, 502)
        doc = self.assert_judged(proxy, report, [UNSAFE], c)
        self.assertIn("a 502 answer", doc["client"]["findings"][0]["message"])


class TestRecord(ClientRetryBase):
    def test_cassette_holds_the_fault_and_the_diagnosis(self):
        fake = self.start_fake()
        cassette = os.path.join(self.tmp, "retry.har")
        report = os.path.join(self.tmp, "report.json")
        proxy = self.start_ps("record", "-c", cassette, "--report",
                                 report, "--fault",
                                 "PATCH /v1/*=status:503:retry-after=1,"
                                 "times=1")
        c, r = self.run_client(proxy, fake.url, False, True)
        self.assert_judged(proxy, report, [EARLY], c)
        with open(cassette) as f:
            entries = json.load(f)["log"]["entries"]
        self.assertEqual([e["response"]["status"] for e in entries],
                         [503, 200])
        self.assertTrue(entries[0].get("_fault", "").startswith("status:503"),
                        entries[0])
        self.assertNotIn("_fault", entries[1])
        codes = [d["code"] for d in entries[1].get("_diagnoses", [])]
        self.assertEqual(codes, [EARLY])
        # show prints it under the entry.
        cp = self.run_ps("show", cassette)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("warning[%s]" % EARLY, cp.stdout)


class TestReplay(ClientRetryBase):
    """replay of a cassette recorded against the fake API."""

    def setUp(self):
        super().setUp()
        fake = self.start_fake()
        self.cassette = os.path.join(self.tmp, "api.har")
        rec = self.start_ps("record", "-c", self.cassette)
        s = self.session(rec)
        # What the clients will ask: the PATCH twice, the GET once.
        for method in ("PATCH", "GET", "PATCH"):
            r = s.request(method, fake.url + PROFILE, auth=AUTH,
                          json=BODY if method == "PATCH" else None,
                          timeout=T(5))
            self.assertEqual(r.status_code, 200)
        self.assertEqual(rec.stop(), 0)
        fake.stop()
        self.origin = fake.url

    def start(self, fault):
        report = os.path.join(self.tmp, "report-%d.json" % self._next())
        proxy = self.start_ps("replay", "-c", self.cassette, "--report",
                                 report, "--fault", fault)
        return proxy, report

    def test_retry_after(self):
        for honour in (True, False):
            with self.subTest(honour_retry_after=honour):
                proxy, report = self.start(
                    "PATCH /v1/*=status:503:retry-after=1,times=1")
                c, r = self.run_client(proxy, self.origin, honour, True)
                self.assertEqual(r.status_code, 200, c.log)
                self.assert_judged(proxy, report, [] if honour else [EARLY],
                                   c)

    def test_ambiguous_failures(self):
        for kind, fault in AMBIGUOUS:
            for look in (True, False):
                with self.subTest(fault=kind, look_first=look):
                    proxy, report = self.start(fault)
                    c, r = self.run_client(proxy, self.origin, True, look,
                                           timeout=T(1.5))
                    self.assertNotEqual(c.log[0][1], 200, c.log)
                    self.assert_judged(proxy, report,
                                       [] if look else [UNSAFE], c)


if __name__ == "__main__":
    harness.main()
