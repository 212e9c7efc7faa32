#!/usr/bin/python3
"""replay's record modes and sessions through the real binary, over HTTP
(Python requests) and HTTPS (curl through the intercepting proxy), against
the fake API: `--record=once` recording a new cassette and then replaying
it with the upstream stopped (a new request is a miss, `--strict` exits 1);
`--record=new` and its old name `--fallback=proxy` appending; `--record=all`
replacing the cassette (through a symbolic link, which stays) only when the
run ends cleanly, the old file intact after a SIGKILL; `none` never
forwarding; bad values refused with nothing written; `--session-header`
keeping each session's place in a repeated request while requests without
it share one; the miss report and `--report` naming the session; a flood of
session values staying bounded."""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402
from test_cassette import (CassetteCase, har_doc, har_entry,  # noqa: E402
                           read_har, reply_of)

SEQ_URL = "https://api.test/v1/acc1/seq"


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class Modes(CassetteCase):

    def setUp(self):
        super().setUp()
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")

    def listing(self):
        return sorted(os.listdir(self.tmp))

    def https_get(self, proxy, url, *headers):
        """curl through proxy to an HTTPS url, trusting patchscope's CA."""
        return self.curl_call(proxy, "GET", url, auth=None,
                              cacert=self.patchscope_ca(), headers=headers)

    def test_once_records_then_replays_with_the_upstream_stopped(self):
        fake = self.start_fake()
        tls = self.start_fake(tls=True)
        cassette = self.cassette("once.har")
        rp = self.replay(cassette, "--record=once", "--upstream-ca",
                         self.fake_ca.cert)
        self.wait_log(rp, r"record=once: \S+once\.har does not exist, "
                      r"recording")
        s = self.session(rp)
        live = s.get(fake.url + "/_fake/echo?first=1", timeout=T(10))
        self.assertEqual(live.status_code, 200)
        self.assertIsNone(live.headers.get("X-Patchscope-Replay"))
        live_tls = self.https_get(rp, tls.url + "/_fake/echo?tls=1")
        self.assertEqual(live_tls.status, 200, live_tls)
        # And the other way round: curl over HTTP, requests over HTTPS.
        live_curl = self.curl_call(rp, "GET", fake.url + "/_fake/echo?c=1",
                                   auth=None)
        hs = self.https_session(rp)
        live_req_tls = hs.get(tls.url + "/_fake/echo?r=1", timeout=T(10))
        self.assertEqual(live_req_tls.status_code, 200)
        self.assertEqual(fake.requests_for("/_fake/echo"), 2)
        self.assertEqual(tls.requests_for("/_fake/echo"), 2)
        self.stop_ok(rp)
        entries = self.entries(cassette)
        self.assertEqual([e["request"]["url"] for e in entries],
                         [fake.url + "/_fake/echo?first=1",
                          tls.url + "/_fake/echo?tls=1",
                          fake.url + "/_fake/echo?c=1",
                          tls.url + "/_fake/echo?r=1"])
        recorded = file_bytes(cassette)

        # The upstream is gone: the second run answers from the file.
        fake.stop()
        tls.stop()
        report = os.path.join(self.tmp, "report.json")
        rp = self.replay(cassette, "--record=once", "--strict", "--report",
                         report)
        self.wait_log(rp, r"record=once: \S+once\.har exists, replaying it")
        s = self.session(rp)
        got = reply_of(s.get(fake.url + "/_fake/echo?first=1",
                             timeout=T(10)))
        self.assert_hit(got, 0, "1/1")
        self.assertEqual(got.body, live.content)
        got = self.https_get(rp, tls.url + "/_fake/echo?tls=1")
        self.assert_hit(got, 1, "1/1")
        self.assertEqual(got.body, live_tls.body)
        got = self.curl_call(rp, "GET", fake.url + "/_fake/echo?c=1",
                             auth=None)
        self.assert_hit(got, 2, "1/1")
        self.assertEqual(got.body, live_curl.body)
        got = reply_of(self.https_session(rp).get(
            tls.url + "/_fake/echo?r=1", timeout=T(10)))
        self.assert_hit(got, 3, "1/1")
        self.assertEqual(got.body, live_req_tls.content)
        # A request that was not recorded is a miss, not forwarded.
        self.assert_miss(reply_of(s.get(fake.url + "/_fake/echo?new=1",
                                        timeout=T(10))))
        self.assert_miss(self.https_get(rp, tls.url + "/_fake/echo?new=2"))
        self.assertEqual(rp.stop(signal.SIGTERM, T(8)), 1, rp.log())
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual((doc["entries"], doc["served"], len(doc["misses"])),
                         (4, 4, 2))
        self.assertEqual(file_bytes(cassette), recorded)

    def test_new_and_its_old_name_append_misses(self):
        fake = self.start_fake()
        tls = self.start_fake(tls=True)
        cassette = self.write_file("new.har", har_doc([
            har_entry("GET", fake.url + "/_fake/echo?rec=1",
                      body='{"from": "cassette"}')]))
        rp = self.replay(cassette, "--record=new", "--upstream-ca",
                         self.fake_ca.cert)
        self.wait_log(rp, r"record=new: answering from the cassette")
        s = self.session(rp)
        got = reply_of(s.get(fake.url + "/_fake/echo?rec=1", timeout=T(10)))
        self.assert_hit(got, 0, "1/1")
        self.assertEqual(got.json(), {"from": "cassette"})
        self.assertEqual(fake.requests_for("/_fake/echo"), 0)
        r = s.get(fake.url + "/_fake/echo?new=1", timeout=T(10))
        self.assertEqual(r.json()["query"], "new=1")
        got = self.https_get(rp, tls.url + "/_fake/echo?new=2")
        self.assertEqual(json.loads(got.body)["query"], "new=2")
        self.assertEqual(fake.requests_for("/_fake/echo"), 1)
        self.assertEqual(tls.requests_for("/_fake/echo"), 1)
        # Once recorded, the same request is a hit.
        self.assert_hit(self.https_get(rp, tls.url + "/_fake/echo?new=2"),
                        2, "1/1")
        self.assertEqual(tls.requests_for("/_fake/echo"), 1)
        self.stop_ok(rp)
        self.assertEqual([e["request"]["url"] for e in
                          self.entries(cassette)],
                         [fake.url + "/_fake/echo?rec=1",
                          fake.url + "/_fake/echo?new=1",
                          tls.url + "/_fake/echo?new=2"])

        # --fallback=proxy is the same thing, and says so.
        rp = self.replay(cassette, "--fallback=proxy")
        self.wait_log(rp, r"record=new \(--fallback=proxy\)")
        s = self.session(rp)
        self.assert_hit(reply_of(s.get(fake.url + "/_fake/echo?new=1",
                                       timeout=T(10))), 1, "1/1")
        r = s.get(fake.url + "/_fake/echo?alias=1", timeout=T(10))
        self.assertEqual(r.json()["query"], "alias=1")
        self.stop_ok(rp)
        self.assertEqual(len(self.entries(cassette)), 4)
        self.assertEqual(self.entries(cassette)[3]["request"]["url"],
                         fake.url + "/_fake/echo?alias=1")

        # new on a file that does not exist begins it.
        fresh = self.cassette("fresh.har")
        rp = self.replay(fresh, "--record=new")
        self.wait_log(rp, r"the cassette does not exist yet")
        s = self.session(rp)
        s.get(fake.url + "/_fake/echo?fresh=1", timeout=T(10))
        self.stop_ok(rp)
        self.assertEqual([e["request"]["url"] for e in self.entries(fresh)],
                         [fake.url + "/_fake/echo?fresh=1"])

    def old_cassette_behind_a_link(self, fake):
        """An old cassette in real/, and link.har pointing at it."""
        os.mkdir(os.path.join(self.tmp, "real"))
        real = self.write_file(os.path.join("real", "c.har"), har_doc([
            har_entry("GET", fake.url + "/_fake/echo?old=1",
                      body='{"old": "cassette"}'),
            har_entry("GET", fake.url + "/_fake/echo?gone=1",
                      body='{"gone": true}')]))
        os.chmod(real, 0o640)
        link = os.path.join(self.tmp, "link.har")
        os.symlink(os.path.join("real", "c.har"), link)
        return real, link

    def test_all_replaces_the_cassette_when_the_run_ends(self):
        fake = self.start_fake()
        tls = self.start_fake(tls=True)
        real, link = self.old_cassette_behind_a_link(fake)
        old = file_bytes(real)
        rp = self.replay(link, "--record=all", "--upstream-ca",
                         self.fake_ca.cert)
        self.wait_log(rp, r"is a symbolic link: its target \S+real/c\.har "
                      r"is written")
        self.wait_log(rp, r"record=all: every request is forwarded")
        s = self.session(rp)
        # Even a recorded request goes to the origin.
        r = s.get(fake.url + "/_fake/echo?old=1", timeout=T(10))
        self.assertEqual(r.json()["query"], "old=1")
        self.assertIsNone(r.headers.get("X-Patchscope-Replay"))
        got = self.https_get(rp, tls.url + "/_fake/echo?new=1")
        self.assertEqual(json.loads(got.body)["query"], "new=1")
        self.assertEqual(fake.requests_for("/_fake/echo"), 1)
        self.assertEqual(tls.requests_for("/_fake/echo"), 1)
        # Until the run ends, the cassette is as it was.
        temp = glob.glob(real + ".recording-*")
        self.assertEqual(len(temp), 1, self.listing())
        self.wait_entries(temp[0], 2)
        self.assertEqual(file_bytes(real), old)
        self.stop_ok(rp)
        self.assertTrue(os.path.islink(link), "the link is kept")
        entries = self.entries(link)
        self.assertEqual([e["request"]["url"] for e in entries],
                         [fake.url + "/_fake/echo?old=1",
                          tls.url + "/_fake/echo?new=1"])
        self.assertNotIn(b"cassette", file_bytes(real))
        self.assertEqual(os.stat(real).st_mode & 0o777, 0o640)
        self.assertEqual(glob.glob(real + ".recording-*"), [])
        self.assertIn("replaced by this run's 2 exchange(s)", rp.log())

        # A run that records nothing leaves the file as it was.
        now = file_bytes(real)
        rp = self.replay(link, "--record=all")
        self.stop_ok(rp)
        self.assertEqual(file_bytes(real), now)
        self.assertIn("nothing was recorded", rp.log())
        self.assertEqual(glob.glob(real + ".recording-*"), [])

    def test_all_killed_leaves_the_old_cassette(self):
        fake = self.start_fake()
        real, link = self.old_cassette_behind_a_link(fake)
        old = file_bytes(real)
        rp = self.replay(link, "--record=all")
        s = self.session(rp)
        s.get(fake.url + "/_fake/echo?new=1", timeout=T(10))
        temp = glob.glob(real + ".recording-*")
        self.assertEqual(len(temp), 1, self.listing())
        self.wait_entries(temp[0], 1)
        rp.kill()
        self.assertEqual(file_bytes(real), old)
        self.assertTrue(os.path.islink(link))
        # What the killed run recorded is kept beside it, whole.
        self.assertEqual([e["request"]["url"] for e in
                          read_har(temp[0])["log"]["entries"]],
                         [fake.url + "/_fake/echo?new=1"])

    def test_all_refuses_to_replace_what_is_not_a_cassette(self):
        path = self.write_file("notes.txt", "my notes, not a cassette\n")
        before = self.listing()
        rc, out, err = self.refuse("replay", "-c", path, "--record=all",
                                   "--listen", "127.0.0.1:0")
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("notes.txt", err)
        self.assertIn("replaces only a cassette", err)
        self.assertEqual(self.listing(), before)
        self.assertEqual(file_bytes(path), b"my notes, not a cassette\n")
        # A run that cannot start leaves no new file beside the cassette.
        cassette = self.write_file("c.har", har_doc([
            har_entry("GET", "http://api.test/x", body="{}")]))
        old = file_bytes(cassette)
        before = self.listing()
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        rc, out, err = self.refuse(
            "replay", "-c", cassette, "--record=all", "--listen",
            "127.0.0.1:%d" % busy.getsockname()[1])
        self.assertEqual(rc, 2, err)
        self.assertEqual(self.listing(), before)
        self.assertEqual(file_bytes(cassette), old)

    def test_none_never_forwards(self):
        fake = self.start_fake()
        tls = self.start_fake(tls=True)
        cassette = self.write_file("none.har", har_doc([
            har_entry("GET", fake.url + "/_fake/echo?rec=1", body="{}")]))
        before = file_bytes(cassette)
        for args in ((), ("--record=none",), ("--fallback=error",)):
            rp = self.replay(cassette, *args)
            s = self.session(rp)
            self.assert_miss(reply_of(s.get(fake.url + "/_fake/echo?x=1",
                                            timeout=T(10))))
            self.assert_miss(self.https_get(rp, tls.url + "/_fake/echo"))
            self.stop_ok(rp)
            self.assertNotIn("record=", rp.log())
        self.assertEqual(fake.stats()["requests"], 0)
        self.assertEqual(tls.stats()["requests"], 0)
        self.assertEqual(file_bytes(cassette), before)

    def test_bad_values_are_refused_with_nothing_written(self):
        missing = self.cassette("missing.har")
        before = self.listing()
        for args, words in (
                (("--record=sometimes",),
                 ("--record", "\"sometimes\"", "\"none\"", "\"new\"",
                  "\"once\"", "\"all\"")),
                (("--record=once", "--fallback=proxy"),
                 ("--record=once", "--fallback=proxy")),
                (("--fallback=error", "--record=all"),
                 ("--record=all", "--fallback=error")),
                (("--record=new", "--session-header", "X Session"),
                 ("--session-header", "X Session"))):
            rc, out, err = self.refuse("replay", "-c", missing,
                                       "--listen", "127.0.0.1:0", *args)
            self.assertEqual(rc, 2, (args, err))
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertTrue(lines[0].startswith("patchscope: "), lines[0])
            for w in words:
                self.assertIn(w, lines[0])
        self.assertEqual(self.listing(), before)

    def test_once_that_records_nothing_leaves_no_cassette(self):
        """An empty once.har would make every later run replay nothing:
        a run that cannot start (port taken, exit 2), whose command is
        not found (127) or that sends no request leaves no file, so the
        next run records; record that cannot start writes nothing too."""
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = "127.0.0.1:%d" % busy.getsockname()[1]
        once = self.cassette("once.har")
        rec = self.cassette("rec.har")
        self.patchscope_ca()            # the CA dir, made once, first
        before = self.listing()
        for argv, want in (
                (("replay", "-c", once, "--record=once", "--listen", taken,
                  "--", "true"), 2),
                (("record", "-c", rec, "--listen", taken, "--", "true"), 2),
                (("replay", "-c", once, "--record=once", "--",
                  "no-such-command-xyz"), 127),
                (("replay", "-c", once, "--record=once", "--", "true"), 0)):
            cp = self.run_ps(*argv)
            self.assertEqual(cp.returncode, want, (argv, cp.stderr))
            self.assertEqual(self.listing(), before, (argv, cp.stderr))
        self.assertIn("nothing was recorded", cp.stderr)
        # The next run does record.
        fake = self.start_fake()
        cp = self.run_ps("replay", "-c", once, "--record=once", "--",
                         "curl", "-s", "-o", "/dev/null",
                         fake.url + "/v1/acc1/seq")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(len(read_har(once)["log"]["entries"]), 1)


class Sessions(CassetteCase):

    def setUp(self):
        super().setUp()
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        # The same GET recorded three times, with three answers.
        self.seq = self.write_file("seq.har", har_doc([
            har_entry("GET", SEQ_URL, body='{"n": %d}' % n)
            for n in (1, 2, 3)]))

    def n_of(self, reply):
        self.assertEqual(reply.status, 200, reply)
        return reply.json()["n"]

    def http_n(self, rp, session=None):
        """GET the recorded path from replay as from a base URL."""
        headers = {"X-Test-Session": session} if session else {}
        r = self.plain_session().get(rp.url + "/v1/acc1/seq",
                                     headers=headers, timeout=T(10))
        return self.n_of(reply_of(r))

    def https_n(self, rp, session=None):
        headers = ("X-Test-Session: " + session,) if session else ()
        return self.n_of(self.curl_call(rp, "GET", SEQ_URL, auth=None,
                                        cacert=self.patchscope_ca(),
                                        headers=headers))

    def test_interleaved_sessions_each_get_the_recorded_order(self):
        rp = self.replay(self.seq, "--session-header", "X-Test-Session")
        for get in (self.http_n, self.https_n):
            tag = get.__name__
            got = [(w, get(rp, tag + w)) for w in "ABABAB"]
            self.assertEqual(got, [("A", 1), ("B", 1), ("A", 2), ("B", 2),
                                   ("A", 3), ("B", 3)], tag)
            # After the last, the last repeats, per session.
            self.assertEqual(get(rp, tag + "A"), 3)
        # Without the header, requests share the default place.
        self.assertEqual([self.http_n(rp), self.https_n(rp),
                          self.http_n(rp), self.http_n(rp)], [1, 2, 3, 3])
        self.stop_ok(rp)
        # Without --session-header the header means nothing: one place.
        rp = self.replay(self.seq)
        self.assertEqual([self.http_n(rp, w) for w in "ABABA"],
                         [1, 2, 3, 3, 3])
        self.stop_ok(rp)

    def test_misses_and_the_report_name_the_session(self):
        report = os.path.join(self.tmp, "report.json")
        rp = self.replay(self.seq, "--session-header", "X-Test-Session",
                         "--report", report, "--strict")
        self.assertEqual(self.http_n(rp, "w1"), 1)
        s = self.plain_session()
        got = reply_of(s.get(rp.url + "/v1/acc1/nope",
                             headers={"X-Test-Session": "w1"},
                             timeout=T(10)))
        doc = self.assert_miss(got)
        self.assertEqual(doc["session"], "w1")
        self.assertIn('(session "w1")', doc["message"])
        got = self.curl_call(rp, "GET", "https://api.test/v1/acc1/nope",
                             auth=None, cacert=self.patchscope_ca())
        self.assertIsNone(self.assert_miss(got)["session"])
        self.assertEqual(rp.stop(signal.SIGTERM, T(8)), 1, rp.log())
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual([(m["url"].rsplit("/", 1)[1], m["session"])
                          for m in doc["misses"]],
                         [("nope", "w1"), ("nope", None)])
        # Entries 1 and 2 (the 2nd and 3rd answers) were never served.
        self.assertEqual([u["entry"] for u in doc["unused"]], [1, 2])
        self.assertEqual(doc["sessions"], {
            "header": "X-Test-Session", "begun": 1, "kept": 1,
            "forgotten": 0, "max": 4096})
        log = rp.log()
        self.assertIn('missed: GET %s/v1/acc1/nope (session "w1")'
                      % rp.url, log)

    def test_a_flood_of_session_values_stays_bounded(self):
        report = os.path.join(self.tmp, "report.json")
        rp = self.replay(self.seq, "--session-header", "X-Test-Session",
                         "--report", report)
        n = 4096 + 904
        sock = socket.create_connection(rp.addr, timeout=T(20))
        self.addCleanup(sock.close)
        # Pipelined in batches: the answers are small and sized.
        batch = 500
        got = b""
        for start in range(0, n, batch):
            reqs = b"".join(
                b"GET /v1/acc1/seq HTTP/1.1\r\nHost: x\r\n"
                b"X-Test-Session: flood-%d\r\n\r\n" % i
                for i in range(start, min(n, start + batch)))
            sock.sendall(reqs)
            want = min(n, start + batch)
            while got.count(b"\r\n\r\n{\"n\": 1}") < want:
                data = sock.recv(1 << 20)
                self.assertTrue(data, "replay closed the connection")
                got += data
        self.assertEqual(got.count(b"HTTP/1.1 200 "), n)
        self.assertEqual(got.count(b"{\"n\": 1}"), n, "each a new session")
        sock.close()
        # A value longer than 256 bytes is refused, not kept.
        r = self.plain_session().get(
            rp.url + "/v1/acc1/seq", headers={"X-Test-Session": "v" * 257},
            timeout=T(10))
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("longer than 256 bytes", r.json()["message"])
        if not harness.SANITIZED and not harness.VALGRIND:
            self.assertLess(rp.peak_rss(), harness.RSS_LIMIT)
        self.stop_ok(rp)
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual(doc["sessions"], {
            "header": "X-Test-Session", "begun": n, "kept": 4096,
            "forgotten": n - 4096, "max": 4096})
        log = rp.log()
        self.assertEqual(log.count("the least recently used are "
                                   "forgotten"), 1, log[-2000:])


if __name__ == "__main__":
    harness.main()
