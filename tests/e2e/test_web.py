#!/usr/bin/python3
"""The web view's server through the real binary, with Python sockets,
http.client, requests and curl (no browser: tests/e2e/test_web_browser.py
drives the page): `record --web` prints its `web on` line, /api/exchanges
grows as clients send through the proxy over HTTP and HTTPS, the event
stream delivers every exchange with its id and resumes from Last-Event-ID
without a gap or a repeat, and says when entries were dropped
(--web-keep); the token, the Host check, GET/HEAD only and the security
headers; the proxy refuses to forward to the view (plain and CONNECT);
replay marks hits and misses; `view` over two cassettes; `report`'s single
file (its CSP hashes recomputed here, a hostile exchange only escaped in
it); bad input refused with one line and exit 2."""

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402

SEED = os.path.join(harness.SRCDIR, "cassettes", "seed-story.har")
WEB_LINE = re.compile(r"web on http://127\.0\.0\.1:(\d+)/#token=([0-9a-f]{32})")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
       "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
HOSTILE = "</script><script>alert(1)</script>"


class View:
    """The web view of a running process: its port and token, and
    requests to it with or without them."""

    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.host = "127.0.0.1:%d" % port

    def get(self, path, token=True, host=None, method="GET", headers=None):
        """(status, headers dict lower-cased, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=T(10))
        h = {"Host": host or self.host}
        if token is True:
            h["Cookie"] = "patchscope_token=" + self.token
        elif token:
            h.update(token)
        h.update(headers or {})
        try:
            c.putrequest(method, path, skip_host=True)
            for k, v in h.items():
                c.putheader(k, v)
            c.endheaders()
            r = c.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            c.close()

    def exchanges(self, after=None):
        path = "/api/exchanges" + ("?after=%d" % after if after is not None
                                   else "")
        status, _, body = self.get(path)
        assert status == 200, (status, body[:300])
        return json.loads(body)


class Events:
    """An event stream of the view, read in a thread (HTTP/1.1, chunked,
    as a browser reads it)."""

    def __init__(self, view, last=None, query=""):
        self.text = ""
        self.closed = False
        self.conn = http.client.HTTPConnection("127.0.0.1", view.port,
                                               timeout=T(10))
        h = {"Host": view.host, "Cookie": "patchscope_token=" + view.token,
             "Accept": "text/event-stream"}
        if last is not None:
            h["Last-Event-ID"] = str(last)
        self.conn.request("GET", "/api/events" + query, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                data = self.resp.read1(65536)
                if not data:
                    break
                with self.lock:
                    self.text += data.decode("utf-8")
        except Exception:       # noqa: BLE001 -- closed under the reader
            pass
        self.closed = True

    def events(self):
        """The complete events so far: dicts of their fields."""
        with self.lock:
            blocks = self.text.split("\n\n")[:-1]
        out = []
        for b in blocks:
            ev = {}
            for line in b.split("\n"):
                if line.startswith(":"):
                    ev.setdefault("comment", line)
                    continue
                name, _, value = line.partition(": ")
                ev[name] = value
            out.append(ev)
        return out

    def exchanges(self):
        return [e for e in self.events() if e.get("event") == "exchange"]

    def wait_ids(self, ids, what="events"):
        def got():
            return [int(e["id"]) for e in self.exchanges()] == ids
        try:
            harness.wait_for(got, T(10), what=what)
        except AssertionError:
            raise AssertionError("%s: wanted ids %r, stream so far:\n%s"
                                 % (what, ids, self.text[-3000:]))

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()


class Web(harness.TestCase):

    # -- helpers --

    def web_of(self, proc):
        """Wait for the second stdout line of a serving command."""
        def line():
            return WEB_LINE.search(proc.extra_stdout.decode("utf-8",
                                                            "replace"))
        m = harness.wait_for(line, T(5), what="the `web on` line")
        self.assertEqual(proc.extra_stdout.decode().count("\n"), 1,
                         "exactly one line after `listening on`: %r"
                         % proc.extra_stdout)
        return View(int(m.group(1)), m.group(2))

    def events(self, view, last=None, query=""):
        ev = Events(view, last, query)
        self.addCleanup(ev.close)
        self.assertEqual(ev.status, 200)
        return ev

    def start_view(self, *args):
        """`patchscope view ARGS`: (Process, View)."""
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        p = harness.Process([harness.PATCHSCOPE, "view"] + list(args),
                            os.path.join(self.tmp, "view.log"), env=env,
                            name="patchscope view")
        self._procs.append(p)
        line = harness.read_line_with_timeout(p.proc.stdout, T(10))
        self.assertIsNotNone(line, "view printed nothing; log:\n" + p.log())
        m = WEB_LINE.fullmatch(line.decode())
        self.assertIsNotNone(m, line)
        return p, View(int(m.group(1)), m.group(2))

    def write_har(self, name, entries):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump({"log": {"version": "1.2", "creator": {
                "name": "test", "version": "1"}, "entries": entries}}, f)
        return path

    def entry(self, url, method="GET", status=200, req_headers=(),
              body=None, resp_text="{}", reason="OK"):
        e = {"startedDateTime": "2026-12-03T08:00:00.000Z", "time": 1,
             "request": {"method": method, "url": url,
                         "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": [{"name": n, "value": v}
                                     for n, v in req_headers],
                         "queryString": [], "headersSize": -1,
                         "bodySize": -1},
             "response": {"status": status, "statusText": reason,
                          "httpVersion": "HTTP/1.1", "cookies": [],
                          "headers": [{"name": "Content-Type",
                                       "value": "text/html"}],
                          "content": {"size": len(resp_text),
                                      "mimeType": "text/html",
                                      "text": resp_text},
                          "redirectURL": "", "headersSize": -1,
                          "bodySize": len(resp_text)},
             "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}
        if body is not None:
            e["request"]["postData"] = {"mimeType": "application/json",
                                        "text": body}
        return e

    @staticmethod
    def umask():
        mask = os.umask(0o022)
        os.umask(mask)
        return mask

    def check_headers(self, headers, ctype=None):
        self.assertEqual(headers.get("content-security-policy"), CSP)
        self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertEqual(headers.get("referrer-policy"), "no-referrer")
        self.assertEqual(headers.get("cache-control"), "no-store")
        self.assertEqual(headers.get("x-frame-options"), "DENY")
        if ctype is not None:
            self.assertEqual(headers.get("content-type"), ctype)

    # -- live: record --web --

    def test_record_web_grows_live_and_streams_with_resume(self):
        fake = self.start_fake()
        tls = self.start_fake(tls=True)
        har = os.path.join(self.tmp, "live.har")
        proxy = self.start_ps("record", "-c", har, "--web", "127.0.0.1:0",
                              "--upstream-ca", self.fake_ca.cert)
        view = self.web_of(proxy)
        doc = view.exchanges()
        self.assertEqual(doc, {"mode": "live", "keep": 10000, "dropped": 0,
                               "exchanges": []})
        ev = self.events(view)
        self.check_headers(ev.headers, "text/event-stream; charset=utf-8")
        # curl and requests, HTTP and HTTPS (intercepted).
        self.curl(proxy, fake.url + "/_fake/echo?n=1", check=True)
        s = self.session(proxy)
        r = s.post(fake.url + "/_fake/echo?n=2", json={"k": "v"},
                   timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(view.exchanges()["exchanges"]), 2)
        ca = self.patchscope_ca()
        self.curl(proxy, "--cacert", ca, tls.url + "/_fake/echo?n=3",
                  check=True)
        hs = self.https_session(proxy)
        self.assertEqual(hs.get(tls.url + "/_fake/echo?n=4",
                                timeout=T(10)).status_code, 200)
        doc = view.exchanges()
        got = doc["exchanges"]
        self.assertEqual([e["_id"] for e in got], [1, 2, 3, 4])
        self.assertEqual([e["request"]["url"].split("/", 2)[0] for e in got],
                         ["http:", "http:", "https:", "https:"])
        self.assertEqual([e["request"]["url"].rsplit("=", 1)[1]
                          for e in got], ["1", "2", "3", "4"])
        self.assertEqual(got[1]["request"]["method"], "POST")
        self.assertEqual(json.loads(got[1]["request"]["postData"]["text"]),
                         {"k": "v"})
        self.assertIn('"n=2"', got[1]["response"]["content"]["text"])
        self.assertNotIn("_replay", got[0])
        # The stream: retry first, then ids 1..4 with the same entries.
        ev.wait_ids([1, 2, 3, 4])
        self.assertTrue(ev.text.startswith("retry: 1000\n\n"), ev.text[:40])
        for e, want in zip(ev.exchanges(), got):
            self.assertEqual(json.loads(e["data"]), want)
        self.assertEqual([e["_id"] for e in view.exchanges(2)["exchanges"]],
                         [3, 4])
        self.assertEqual(view.exchanges(4)["exchanges"], [])
        # A reconnect after id 2 gets 3 and 4, then what comes next, once.
        ev2 = self.events(view, last=2)
        ev2.wait_ids([3, 4], "resume after 2")
        ev3 = self.events(view, query="?lastEventId=4")
        self.curl(proxy, fake.url + "/_fake/echo?n=5", check=True)
        ev.wait_ids([1, 2, 3, 4, 5], "first stream")
        ev2.wait_ids([3, 4, 5], "resumed stream")
        ev3.wait_ids([5], "stream after lastEventId=4")
        time.sleep(0.2)
        self.assertEqual(len(ev2.exchanges()), 3, "no repeats")
        self.assertNotIn("event: dropped", ev.text + ev2.text + ev3.text)
        # The view holds what the cassette holds.
        self.assertEqual(proxy.stop(), 0)
        with open(har) as f:
            entries = json.load(f)["log"]["entries"]
        self.assertEqual(len(entries), 5)
        for rec, shown in zip(entries, got):
            shown = dict(shown)
            del shown["_id"]
            self.assertEqual(rec, shown)

    def test_small_keep_drops_the_oldest_and_says_so(self):
        fake = self.start_fake()
        proxy = self.start_proxy("--web", "127.0.0.1:0", "--web-keep", "3",
                                 "-v")
        view = self.web_of(proxy)
        s = self.session(proxy)
        for i in range(6):
            self.assertEqual(s.get(fake.url + "/_fake/echo?i=%d" % i,
                                   timeout=T(10)).status_code, 200)
        doc = view.exchanges()
        self.assertEqual((doc["keep"], doc["dropped"]), (3, 3))
        self.assertEqual([e["_id"] for e in doc["exchanges"]], [4, 5, 6])
        self.assertEqual([e["_id"] for e in view.exchanges(0)["exchanges"]],
                         [4, 5, 6])
        ev = self.events(view, last=1)
        ev.wait_ids([4, 5, 6], "resume across drops")
        first = ev.events()[1]
        self.assertEqual(first.get("event"), "dropped", ev.text[:300])
        self.assertEqual(json.loads(first["data"]),
                         {"dropped": 3, "oldest": 4})
        ev2 = self.events(view, last=4)
        ev2.wait_ids([5, 6], "resume inside the ring")
        self.assertNotIn("event: dropped", ev2.text)
        # A stream that fell behind the ring is told too, then goes on.
        ev3 = self.events(view)
        ev3.wait_ids([4, 5, 6])
        self.assertIn("event: dropped", ev3.text)
        # A client that leaves is forgotten (and its request freed: the
        # sanitizer build checks at exit).
        ev2.close()
        self.wait_log(proxy, r"web: event stream closed \(2 open\)")
        # At most 32 streams at once; the next one is told to come back.
        more = [self.events(view, last=6) for _ in range(30)]
        status, h, body = view.get("/api/events")
        self.assertEqual(status, 503, body)
        self.assertEqual(h.get("retry-after"), "5")
        self.check_headers(h)
        more[0].close()
        self.wait_log(proxy, r"web: event stream closed \(31 open\)")
        self.events(view, last=6)

    def test_bodies_are_cut_as_for_recording(self):
        fake = self.start_fake()
        proxy = self.start_proxy("--web", "127.0.0.1:0",
                                 "--max-body-buffer", "64K")
        view = self.web_of(proxy)
        s = self.session(proxy)
        r = s.get(fake.url + "/_fake/stream?bytes=1000000", timeout=T(10))
        self.assertEqual(len(r.content), 1000000)
        r = s.post(fake.url + "/_fake/upload", data=b"u" * 1000000,
                   timeout=T(10))
        self.assertEqual(r.status_code, 200)
        got = view.exchanges()["exchanges"]
        self.assertEqual(len(got), 2)
        content = got[0]["response"]["content"]
        self.assertEqual(content["_truncated"], 1000000)
        post = got[1]["request"]["postData"]
        self.assertEqual(post["_truncated"], 1000000)
        for e in got:
            self.assertLess(len(json.dumps(e)), 128 * 1024)

    def test_token_host_methods_and_headers(self):
        proxy = self.start_proxy("--web", "127.0.0.1:0")
        view = self.web_of(proxy)
        # The page's files: no token needed, built from src/web/.
        for path, name, ctype in (
                ("/", "index.html", "text/html; charset=utf-8"),
                ("/app.js", "app.js", "text/javascript; charset=utf-8"),
                ("/app.css", "app.css", "text/css; charset=utf-8")):
            status, h, body = view.get(path, token=None)
            self.assertEqual(status, 200, path)
            self.check_headers(h, ctype)
            with open(os.path.join(harness.SRCDIR, "src", "web", name),
                      "rb") as f:
                self.assertEqual(body, f.read(), path)
        status, h, body = view.get("/", token=None, method="HEAD")
        self.assertEqual((status, body), (200, b""))
        # /api/ needs the token: cookie or Bearer.
        for path in ("/api/exchanges", "/api/events"):
            for tok in (None, {"Cookie": "patchscope_token=" + "0" * 32},
                        {"Authorization": "Bearer " + "f" * 32},
                        {"Cookie": "patchscope_token=" + view.token[:-1]},
                        {"Authorization": "Basic " + view.token}):
                status, h, body = view.get(path, token=tok)
                self.assertEqual(status, 403, (path, tok))
                self.check_headers(h, "text/plain; charset=utf-8")
                self.assertIn(b"token", body)
        status, h, _ = view.get("/api/exchanges", token={
            "Authorization": "Bearer " + view.token})
        self.assertEqual(status, 200)
        self.check_headers(h, "application/json; charset=utf-8")
        # The query's token (the page's EventSource sends no header).
        self.assertEqual(view.get("/api/exchanges?token=" + view.token,
                                  token=None)[0], 200)
        for q in ("?token=" + view.token[:-1], "?token=",
                  "?after=0&token=" + "0" * 32, "?tok=" + view.token):
            self.assertEqual(view.get("/api/exchanges" + q, token=None)[0],
                             403, q)
        status, h, _ = view.get("/api/events?lastEventId=0&token=" +
                                view.token, token=None, method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(h.get("content-type"),
                         "text/event-stream; charset=utf-8")
        # Only a path: an absolute-form target names another host than
        # Host (and counts instead of it), even with the token.
        for target in ("http://evil.example/api/exchanges",
                       "http://%s/api/exchanges" % view.host,
                       "//evil.example/api/exchanges"):
            status, h, body = view.get(target)
            self.assertEqual(status, 400, (target, body))
            self.check_headers(h, "text/plain; charset=utf-8")
            self.assertNotIn(b"exchanges", body)
        # Host must name the view: DNS rebinding gets 403 on everything.
        for host in ("evil.example:%d" % view.port, "127.0.0.1:1",
                     "localhost.evil:%d" % view.port, "127.0.0.2:%d"
                     % view.port):
            for path in ("/", "/app.js", "/api/exchanges"):
                status, h, _ = view.get(path, host=host)
                self.assertEqual(status, 403, (host, path))
                self.check_headers(h)
        self.assertEqual(view.get("/", host="localhost:%d" % view.port)[0],
                         200)
        raw = harness.RawClient(("127.0.0.1", view.port), T(10))
        self.addCleanup(raw.close)
        raw.send(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(raw.read_response().status, 403, "no Host")
        raw2 = harness.RawClient(("127.0.0.1", view.port), T(10))
        self.addCleanup(raw2.close)
        raw2.send(("GET / HTTP/1.1\r\nHost: %s\r\nHost: evil.example\r\n\r\n"
                   % view.host).encode())
        self.assertEqual(raw2.read_response().status, 403, "two Hosts")
        # GET and HEAD only.
        for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
            status, h, _ = view.get("/api/exchanges", method=m)
            self.assertEqual(status, 405, m)
            self.assertEqual(h.get("allow"), "GET, HEAD")
            self.check_headers(h)
        status, h, _ = view.get("/nothing")
        self.assertEqual(status, 404)
        self.check_headers(h)
        self.assertEqual(view.get("/api/nothing")[0], 404)
        self.assertEqual(view.get("/api/nothing", token=None)[0], 403)
        self.assertEqual(view.get("/api/exchanges?after=x")[0], 400)
        self.assertEqual(view.get("/api/events", headers={
            "Last-Event-ID": "-1"})[0], 400)

    def test_proxy_refuses_to_forward_to_the_view(self):
        fake = self.start_fake()
        proxy = self.start_proxy("--web", "127.0.0.1:0")
        view = self.web_of(proxy)
        for url in ("http://127.0.0.1:%d/api/exchanges" % view.port,
                    "http://localhost:%d/" % view.port,
                    "http://127.1:%d/" % view.port):
            status, head, body, rc = self.curl_status(
                proxy, url, "-H", "Cookie: patchscope_token=" + view.token)
            self.assertEqual(rc, 0)
            doc = json.loads(body)
            self.assertEqual((status, doc["error"]),
                             (403, "web_view_target"), url)
        s = self.session(proxy)
        r = s.get("http://127.0.0.1:%d/" % view.port, timeout=T(10))
        self.assert_proxy_error(r.status_code, r.headers.get, r.content,
                                403, "web_view_target")
        for target in ("127.0.0.1:%d" % view.port,
                       "localhost:%d" % view.port):
            c, resp = self.tunnel(proxy, target)
            self.assert_raw_error(resp, 403, "web_view_target")
        # curl's own CONNECT too.
        cp = self.curl(proxy, "-p", "http://127.0.0.1:%d/" % view.port)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("403", cp.stderr.decode())
        self.assert_serves(proxy, fake)
        # The refusals are exchanges the view shows.
        errors = [e.get("_error") for e in view.exchanges()["exchanges"]]
        self.assertIn("web_view_target", errors)

    def test_replay_marks_hits_and_misses(self):
        fake = self.start_fake()
        har = os.path.join(self.tmp, "r.har")
        rec = self.start_ps("record", "-c", har)
        self.curl(rec, fake.url + "/_fake/echo?a=1", check=True)
        self.assertEqual(rec.stop(), 0)
        rp = self.start_ps("replay", "-c", har, "--web", "127.0.0.1:0")
        view = self.web_of(rp)
        self.curl(rp, fake.url + "/_fake/echo?a=1", check=True)
        self.curl(rp, fake.url + "/_fake/echo?a=2")
        got = view.exchanges()["exchanges"]
        self.assertEqual([(e["_id"], e["_replay"], e["response"]["status"])
                          for e in got], [(1, "hit", 200), (2, "miss", 404)])
        self.assertIn('"a=1"', got[0]["response"]["content"]["text"])
        # A miss forwarded by --fallback=proxy is a miss too.
        fb = self.start_ps("replay", "-c", har, "--fallback=proxy",
                           "--web", "127.0.0.1:0")
        fview = self.web_of(fb)
        self.curl(fb, fake.url + "/_fake/echo?a=3", check=True)
        self.curl(fb, fake.url + "/_fake/echo?a=1", check=True)
        got = fview.exchanges()["exchanges"]
        self.assertEqual([(e["_replay"], e["response"]["status"])
                          for e in got], [("miss", 200), ("hit", 200)])

    # -- view --

    def test_view_serves_two_cassettes_in_order(self):
        other = self.write_har("other.har", [
            self.entry("http://api.test/one"),
            self.entry("http://api.test/two", method="POST", status=201,
                       req_headers=[("Authorization", "Bearer sekrit-xyz")],
                       body='{"a": 1}')])
        p, view = self.start_view(SEED, other)
        doc = view.exchanges()
        self.assertEqual((doc["mode"], doc["dropped"]), ("view", 0))
        got = doc["exchanges"]
        self.assertEqual([e["_id"] for e in got], [1, 2, 3, 4, 5, 6])
        with open(SEED) as f:
            seed = json.load(f)["log"]["entries"]
        self.assertEqual([e["request"]["url"] for e in got],
                         [e["request"]["url"] for e in seed] +
                         ["http://api.test/one", "http://api.test/two"])
        self.assertEqual(got[1].get("_diagnoses"), seed[1].get("_diagnoses"))
        # A browser's HAR keeps no secret in the view.
        self.assertNotIn("sekrit-xyz", json.dumps(got))
        # The stream answers with the backlog, and stays open.
        ev = self.events(view, last=4)
        ev.wait_ids([5, 6])
        self.assertFalse(ev.closed)
        # An id this view never gave (another run's) starts afresh.
        for last in (7, 99999, 9999999999999999999):
            self.events(view, last=last).wait_ids(
                [1, 2, 3, 4, 5, 6], "after %d" % last)
        self.events(view, last=6)
        self.assertEqual(view.get("/")[0], 200)
        p.stopped = True
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(T(8)), 0, p.log())

    def test_view_on_ipv6_loopback(self):
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        p = harness.Process([harness.PATCHSCOPE, "view", "--web", "[::1]:0",
                             SEED], os.path.join(self.tmp, "view6.log"),
                            env=env, name="patchscope view")
        self._procs.append(p)
        line = harness.read_line_with_timeout(p.proc.stdout, T(10))
        m = re.fullmatch(rb"web on http://\[::1\]:(\d+)/#token=([0-9a-f]{32})",
                         line or b"")
        self.assertIsNotNone(m, (line, p.log()))
        port, token = int(m.group(1)), m.group(2).decode()

        def get(host):
            c = http.client.HTTPConnection("::1", port, timeout=T(10))
            try:
                c.request("GET", "/api/exchanges", headers={
                    "Host": host, "Authorization": "Bearer " + token})
                r = c.getresponse()
                return r.status, r.read()
            finally:
                c.close()
        status, body = get("[::1]:%d" % port)
        self.assertEqual(status, 200)
        self.assertEqual(len(json.loads(body)["exchanges"]), 4)
        self.assertEqual(get("localhost:%d" % port)[0], 200)
        self.assertEqual(get("127.0.0.1:%d" % port)[0], 403)

    def test_exchanges_come_in_pages_of_a_few_mib(self):
        # Six exchanges of 1.5 MiB each: one answer would copy 9 MiB.
        big = "x" * (1536 * 1024)
        har = self.write_har("big.har", [
            self.entry("http://api.test/%d" % i, resp_text=big)
            for i in range(6)])
        p, view = self.start_view(har)
        ids, after, pages = [], 0, 0
        while True:
            status, _, body = view.get("/api/exchanges?after=%d" % after)
            self.assertEqual(status, 200)
            self.assertLess(len(body), 6 * 1024 * 1024, "one page")
            got = [e["_id"] for e in json.loads(body)["exchanges"]]
            if not got:
                break
            pages += 1
            ids += got
            after = got[-1]
        self.assertEqual(ids, [1, 2, 3, 4, 5, 6])
        self.assertGreater(pages, 1)
        # One entry larger than a page still comes, alone.
        huge = self.write_har("huge.har", [
            self.entry("http://api.test/a", resp_text="y" * (5 << 20)),
            self.entry("http://api.test/b")])
        p2, view2 = self.start_view(huge)
        self.assertEqual([e["_id"] for e in view2.exchanges()["exchanges"]],
                         [1])
        self.assertEqual([e["_id"] for e in view2.exchanges(1)["exchanges"]],
                         [2])

    def test_a_client_that_reads_nothing_cannot_grow_memory(self):
        # No token needed: pipelined requests for app.js that are never
        # read stall the answers; what the client sends on meanwhile must
        # not pile up in the view's memory.
        p, view = self.start_view(SEED)

        def rss_kib():
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
            return 0
        before = rss_kib()
        s = socket.create_connection(("127.0.0.1", view.port), T(10))
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(("GET /app.js HTTP/1.1\r\nHost: %s\r\n\r\n"
                   % view.host).encode() * 200)
        junk = b"x" * (1 << 20)
        sent = 0
        s.settimeout(1)
        try:
            while sent < (256 << 20):
                sent += s.send(junk)
        except socket.timeout:
            pass
        self.assertLess(sent, 64 << 20, "the view stopped reading")
        grown = rss_kib() - before
        self.assertLess(grown, 32 << 10, "VmRSS grew %d KiB" % grown)
        # Other clients are still served.
        self.assertEqual(view.get("/api/exchanges")[0], 200)

    # -- report --

    def hostile_har(self):
        return self.write_har("ticket.har", [
            self.entry("http://api.test/%s?q=%s" % (HOSTILE, HOSTILE),
                       method="PATCH", status=400,
                       req_headers=[("X-Evil", HOSTILE)],
                       body=json.dumps({"x": HOSTILE + "\u2028&"}),
                       resp_text=HOSTILE, reason=HOSTILE),
            self.entry("http://api.test/fine")])

    def test_report_is_one_safe_file(self):
        har = self.hostile_har()
        cp = self.run_ps("report", har)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        out = har[:-4] + ".html"
        self.assertEqual(cp.stdout.strip(), out)
        with open(out, "rb") as f:
            raw = f.read()
        page = raw.decode("utf-8")
        # Opened from disk there is no Content-Type: a browser finds the
        # charset only in the first 1024 bytes (HTML's prescan), else it
        # may read app.js's UTF-8 as windows-1252 and its hash fails.
        self.assertLessEqual(raw.index(b'<meta charset="utf-8">') + 22, 1024)
        js = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
        css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
        # What the page's own files say is theirs; the rest is checked.
        rest = page.replace(js, "").replace(css, "")
        # The traffic's markup appears nowhere as markup.
        self.assertNotIn("alert(1)</script>", page)
        self.assertNotIn("<script>alert", page)
        self.assertEqual(rest.count("<script"), 2, "the data and app.js")
        self.assertNotIn("\u2028", rest)
        m = re.search(r'<script type="application/json" '
                      r'id="patchscope-data">(.*?)</script>', page, re.S)
        self.assertIsNotNone(m)
        data = json.loads(m.group(1))
        self.assertEqual((data["mode"], data["keep"], data["dropped"]),
                         ("report", 0, 0))
        ex = data["exchanges"]
        self.assertEqual([e["_id"] for e in ex], [1, 2])
        self.assertIn(HOSTILE, ex[0]["request"]["url"])
        self.assertEqual(ex[0]["response"]["content"]["text"], HOSTILE)
        self.assertIn({"name": "X-Evil", "value": HOSTILE},
                      ex[0]["request"]["headers"])
        self.assertEqual(json.loads(ex[0]["request"]["postData"]["text"]),
                         {"x": HOSTILE + "\u2028&"})
        # The CSP allows exactly the inline script and style.
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" '
                        r'content="([^"]*)">', rest).group(1)

        def h(text):
            return base64.b64encode(hashlib.sha256(
                text.encode("utf-8")).digest()).decode()
        self.assertEqual(csp, "default-src 'none'; script-src 'sha256-%s'; "
                         "style-src 'sha256-%s'; img-src data:; "
                         "base-uri 'none'; form-action 'none'"
                         % (h(js), h(css)))
        with open(os.path.join(harness.SRCDIR, "src", "web", "app.js")) as f:
            self.assertEqual(js, f.read())
        with open(os.path.join(harness.SRCDIR, "src", "web", "app.css")) as f:
            self.assertEqual(css, f.read())
        self.assertIn('<link rel="icon" href="data:,">', rest)
        self.assertNotIn('src="app.js"', rest)
        self.assertNotIn('href="app.css"', rest)
        self.assertLess(rest.index('id="patchscope-data"'), rest.index(
            "<script>"), "the data comes before the script")
        # -o elsewhere; the same file again is replaced whole.
        other = os.path.join(self.tmp, "out.html")
        for _ in range(2):
            cp = self.run_ps("report", har, "-o", other)
            self.assertEqual(cp.returncode, 0, cp.stderr)
        with open(other, "rb") as f:
            self.assertEqual(f.read().decode(), page)
        self.assertEqual([n for n in os.listdir(self.tmp)
                          if ".report-" in n], [])
        # Its mode is a new file's under the umask, as the shell's > makes.
        self.assertEqual(os.stat(other).st_mode & 0o777,
                         0o666 & ~self.umask())
        old_mask = os.umask(0o077)
        try:
            cp = self.run_ps("report", har, "-o", other)
        finally:
            os.umask(old_mask)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(os.stat(other).st_mode & 0o777, 0o600)

    def test_report_bad_inputs(self):
        har = self.hostile_har()
        with open(har, "rb") as f:
            original = f.read()
        bad = os.path.join(self.tmp, "bad.har")
        with open(bad, "w") as f:
            f.write('{"log": {"entries": [')
        cut = os.path.join(self.tmp, "cut.har")
        with open(cut, "wb") as f:
            f.write(original[:len(original) // 2])
        cases = (
            (["report", bad], "bad.har"),
            (["report", cut], "cut.har"),
            (["report", os.path.join(self.tmp, "missing.har")],
             "missing.har"),
            (["report", har, "-o", os.path.join(self.tmp, "no", "x.html")],
             "x.html"),
            (["report", har, "-o", har], "ticket.har"),
            (["report", har, "-o", self.tmp], "is a directory"),
            (["report", har, "-o", self.tmp + "/"], "is a directory"),
            (["report"], "cassette"),
            (["report", har, har], "cassette"),
        )
        for args, name in cases:
            cp = self.run_ps(*args)
            self.assertEqual(cp.returncode, 2, (args, cp.stderr))
            self.assertEqual(cp.stderr.count("\n"), 1, cp.stderr)
            self.assertIn(name, cp.stderr)
            self.assertEqual(cp.stdout, "")
        with open(har, "rb") as f:
            self.assertEqual(f.read(), original, "the input is never touched")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad.html")))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "cut.html")))
        # FILE without .har: FILE.html.
        plain = os.path.join(self.tmp, "capture")
        with open(plain, "wb") as f:
            f.write(original)
        self.assertEqual(self.run_ps("report", plain).returncode, 0)
        self.assertTrue(os.path.exists(plain + ".html"))

    def test_bad_web_options_and_cassettes(self):
        for args, want in (
                (["proxy", "--listen", "127.0.0.1:0", "--web", "0.0.0.0:0"],
                 "--web-allow-remote"),
                (["record", "--listen", "127.0.0.1:0", "-c",
                  os.path.join(self.tmp, "x.har"), "--web", "nope"],
                 "--web"),
                (["view", "--web", "192.0.2.1:0", SEED],
                 "--web-allow-remote"),
                (["view", os.path.join(self.tmp, "missing.har")],
                 "missing.har"),
                (["view"], "cassette"),
                (["proxy", "--web-keep", "0"], "web-keep"),
                (["proxy", "--web-keep", "5"], "go with --web"),
                (["record", "-c", os.path.join(self.tmp, "y.har"),
                  "--web-allow-remote"], "go with --web"),
                (["show", "--web", "127.0.0.1:0", SEED], "--web")):
            cp = self.run_ps(*args, timeout=T(10))
            self.assertEqual(cp.returncode, 2, (args, cp.stderr))
            self.assertEqual(cp.stderr.count("\n"), 1, (args, cp.stderr))
            self.assertIn(want, cp.stderr, args)
            self.assertNotIn("listening on", cp.stdout)
            self.assertNotIn("web on", cp.stdout)
        bad = self.write_har("bad.har", [{"request": {}}])
        cp = self.run_ps("view", SEED, bad, timeout=T(10))
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertEqual(cp.stderr.count("\n"), 1, cp.stderr)
        self.assertIn("bad.har", cp.stderr)
        self.assertEqual(cp.stdout, "")
        # With the flag, every address; the URL to open is loopback.
        proxy = self.start_proxy("--web", "0.0.0.0:0", "--web-allow-remote")
        view = self.web_of(proxy)
        self.assertEqual(view.get("/api/exchanges")[0], 200)


if __name__ == "__main__":
    harness.main()
