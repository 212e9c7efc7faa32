#!/usr/bin/python3
"""Every error answer of `patchscope proxy` (the SPEC's table): status, JSON
body, X-Patchscope-Error, Connection: close; that the origin never saw a
rejected request; and that the proxy goes on serving afterwards."""

import json
import os
import re
import select
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, request_bytes  # noqa: E402


class OneShotOrigin:
    """A TCP server that misbehaves: reads a request, then closes (or resets)
    without answering."""

    def __init__(self, reset=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.reset = reset
        self.accepted = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.settimeout(5)
            try:
                conn.recv(65536)
            except OSError:
                pass
            if self.reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


class Errors(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()

    def host(self):
        return "127.0.0.1:%d" % self.fake.port

    def curl_error(self, proxy, url, status, code, *args):
        got, head, body, rc = self.curl_status(proxy, url, *args)
        hdrs = {}
        for line in head.splitlines()[1:]:
            name, sep, value = line.partition(":")
            if sep:
                hdrs[name.strip().lower()] = value.strip()
        return self.assert_proxy_error(got, hdrs.get, body, status, code)

    def raw_error(self, proxy, data, status, code, timeout=None):
        """Send data on a fresh connection; expect the error then close."""
        c = self.raw(proxy)
        c.send(data)
        resp = c.read_response(timeout=timeout or T(10))
        doc = self.assert_raw_error(resp, status, code)
        self.assertTrue(c.closed_by_peer(T(3)),
                        "the proxy closes the connection after %d" % status)
        return doc

    def assert_origin_untouched(self):
        st = self.fake.stats()
        self.assertEqual((st["requests"], st["connections"]), (0, 0),
                         "the origin saw the rejected request: %r" % st)

    # --- 400 -----------------------------------------------------------------

    def test_400_malformed_requests(self):
        proxy = self.start_proxy()
        url = self.fake.url + "/_fake/echo"
        bad = [
            # a header line without a colon
            b"GET %s HTTP/1.1\r\nHost: %s\r\nNo colon here\r\n\r\n",
            # junk in the request line
            b"GET %s HTTP/1.1 junk\r\nHost: %s\r\n\r\n",
            # bad version
            b"GET %s HTTX/1.1\r\nHost: %s\r\n\r\n",
            # two different Content-Lengths
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\n"
            b"Content-Length: 4\r\n\r\nabcd",
            # a Content-Length that is not a number
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1x\r\n\r\nab",
        ]
        for tmpl in bad:
            with self.subTest(request=tmpl[:60]):
                data = tmpl % (url.encode(), self.host().encode())
                self.raw_error(proxy, data, 400, "bad_request")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_400_whitespace_before_colon(self):
        # RFC 9112 section 5.1: a server MUST answer 400 to whitespace
        # between a field name and the colon.  It is a smuggling shape: an
        # origin that trims the name would see a chunked body the proxy
        # did not frame.
        proxy = self.start_proxy()
        url = (self.fake.url + "/_fake/echo").encode()
        for data in (
                b"POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding : chunked"
                b"\r\n\r\n0\r\n\r\n",
                b"GET %s HTTP/1.1\r\nHost : %s\r\n\r\n"):
            with self.subTest(request=data):
                self.raw_error(proxy, data % (url, self.host().encode()),
                               400, "bad_request")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_400_content_length_with_transfer_encoding(self):
        proxy = self.start_proxy()
        data = (b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                % ((self.fake.url + "/_fake/echo").encode(),
                   self.host().encode()))
        self.raw_error(proxy, data, 400, "bad_request")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_400_bad_chunk_size(self):
        proxy = self.start_proxy()
        for chunk in (b"zz\r\nhello\r\n0\r\n\r\n",
                      b"-5\r\nhello\r\n0\r\n\r\n",
                      b"5 5\r\nhello\r\n0\r\n\r\n"):
            with self.subTest(chunk=chunk):
                data = (b"POST %s HTTP/1.1\r\nHost: %s\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n%s"
                        % ((self.fake.url + "/_fake/echo").encode(),
                           self.host().encode(), chunk))
                self.raw_error(proxy, data, 400, "bad_request")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_400_not_a_proxy_request(self):
        proxy = self.start_proxy()
        self.raw_error(proxy, b"GET /_fake/echo HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % self.host().encode(), 400, "not_a_proxy_request")
        # curl straight at the proxy, as if it were the origin.
        got, head, body, rc = self.curl_status(
            proxy, proxy.url + "/v1/acc1/profiles/p1", "--noproxy", "*")
        self.assertEqual(got, 400)
        self.assertEqual(json.loads(body)["error"], "not_a_proxy_request")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_400_host_mismatch(self):
        proxy = self.start_proxy()
        url = (self.fake.url + "/_fake/echo").encode()
        self.raw_error(proxy, b"GET %s HTTP/1.1\r\nHost: example.com\r\n\r\n"
                       % url, 400, "host_mismatch")
        self.raw_error(proxy, b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                       % (url, self.fake.port + 1), 400, "host_mismatch")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)
        # The log names the request's URL (its query redacted), not "-".
        self.raw_error(proxy, b"GET %s?token=s3cret-x HTTP/1.1\r\n"
                       b"Host: example.com\r\n\r\n" % url, 400,
                       "host_mismatch")
        # The third host_mismatch line (the log is written once per loop
        # pass, so it may follow the answer by a moment).
        def three():
            found = re.findall(r"GET (\S+) -> 400 host_mismatch", proxy.log())
            return found if len(found) >= 3 else None
        line = harness.wait_for(three, T(5),
                                what="three host_mismatch lines")[2]
        self.assertTrue(line.startswith(self.fake.url + "/_fake/echo?token="),
                        line)
        self.assertNotIn("s3cret-x", proxy.log())

    def test_400_unsupported_scheme(self):
        proxy = self.start_proxy()
        for scheme in (b"ftp", b"https", b"ws"):
            with self.subTest(scheme=scheme):
                self.raw_error(
                    proxy, b"GET %s://%s/x HTTP/1.1\r\nHost: %s\r\n\r\n"
                    % (scheme, self.host().encode(), self.host().encode()),
                    400, "unsupported_scheme")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    # --- 408, 431, 503, bad CONNECT ------------------------------------------------------

    def test_408_client_trickles_its_head(self):
        proxy = self.start_proxy("--header-timeout", str(T(1)))
        c = self.raw(proxy)
        head = request_bytes("GET", self.fake.url + "/_fake/echo",
                             self.host(), [("X-Pad", "p" * 200)])
        t0 = time.monotonic()
        sent = 0
        got = None
        # One byte every 50 ms: the head would take > 12 s to finish.
        while sent < len(head) and time.monotonic() - t0 < T(6):
            try:
                c.send(head[sent:sent + 1])
            except OSError:
                break
            sent += 1
            r, _, _ = select.select([c.sock], [], [], 0.05)
            if r:
                break
        got = c.read_response(timeout=T(5))
        elapsed = time.monotonic() - t0
        self.assertLess(sent, len(head), "the head was cut off")
        self.assert_raw_error(got, 408, "request_timeout")
        self.assertGreater(elapsed, 0.8 * T(1))
        self.assertLess(elapsed, T(1) + T(2))
        self.assertTrue(c.closed_by_peer(T(3)))
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_431_headers_too_large(self):
        proxy = self.start_proxy()
        data = request_bytes("GET", self.fake.url + "/_fake/echo",
                             self.host(), [("X-Big", "b" * (100 * 1024))])
        c = self.raw(proxy)
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass              # the proxy may answer and close early
        resp = c.read_response()
        self.assert_raw_error(resp, 431, "headers_too_large")
        # Many headers that add up past the limit.
        data = request_bytes("GET", self.fake.url + "/_fake/echo",
                             self.host(),
                             [("X-H%d" % i, "v" * 100) for i in range(1000)])
        c = self.raw(proxy)
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assert_raw_error(c.read_response(), 431, "headers_too_large")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_431_with_max_header_bytes(self):
        proxy = self.start_proxy("--max-header-bytes", "2K")
        got, head, body, rc = self.curl_status(
            proxy, self.fake.url + "/_fake/echo", "-H", "X-Pad: " + "a" * 3000)
        self.assertEqual(got, 431)
        self.assertEqual(json.loads(body)["error"], "headers_too_large")
        self.assert_origin_untouched()
        got, head, body, rc = self.curl_status(
            proxy, self.fake.url + "/_fake/echo", "-H", "X-Pad: " + "a" * 1000)
        self.assertEqual(got, 200)

    def test_400_bad_connect_target(self):
        proxy = self.start_proxy()
        for target in (b"no-port.test", b"host:99999", b"/path",
                       b"user@host:443", b"http://host:443"):
            with self.subTest(target=target):
                self.raw_error(proxy, b"CONNECT %s HTTP/1.1\r\nHost: %s"
                               b"\r\n\r\n" % (target, target), 400,
                               "bad_request")
        self.assert_origin_untouched()
        self.assert_serves(proxy, self.fake)

    def test_503_too_many_connections(self):
        proxy = self.start_proxy("--max-connections", "2")
        held = []
        for i in range(2):
            c = self.raw(proxy)
            c.send(request_bytes("GET", self.fake.url + "/_fake/echo?h=%d" % i,
                                 self.host()))
            self.assertEqual(c.read_response().status, 200)
            held.append(c)
        third = self.raw(proxy)
        third.send(request_bytes("GET", self.fake.url + "/_fake/echo?h=3",
                                 self.host()))
        self.assert_raw_error(third.read_response(), 503,
                              "too_many_connections")
        self.assertTrue(third.closed_by_peer(T(3)))
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 2)
        # The held connections still work; freeing one lets a new one in.
        held[0].send(request_bytes("GET", self.fake.url + "/_fake/echo?again",
                                   self.host()))
        self.assertEqual(held[0].read_response().status, 200)
        held[1].close()

        def new_one_served():
            status, _, _, _ = self.curl_status(proxy,
                                               self.fake.url + "/_fake/echo")
            return status == 200
        harness.wait_for(new_one_served, T(3), 0.1,
                         "a connection slot after one was closed")

    # --- 502 -----------------------------------------------------------------

    def test_502_connection_refused(self):
        proxy = self.start_proxy()
        port = harness.free_port()
        doc = self.curl_error(proxy, "http://127.0.0.1:%d/v1/profiles/p1"
                              % port, 502, "upstream_unreachable")
        self.assertIn("127.0.0.1:%d" % port, doc["message"])
        harness.wait_for(lambda: "-> 502 upstream_unreachable" in proxy.log(),
                         T(3), what="the 502 log line")
        s = self.session(proxy)
        r = s.get("http://127.0.0.1:%d/x" % port, timeout=T(10))
        self.assertEqual(r.status_code, 502)
        self.assertEqual(r.headers.get("X-Patchscope-Error"),
                         "upstream_unreachable")
        self.assert_serves(proxy, self.fake)

    def test_502_dns_failure(self):
        proxy = self.start_proxy()
        t0 = time.monotonic()
        doc = self.curl_error(proxy, "http://nothing.invalid/v1/profiles/p1",
                              502, "upstream_dns")
        self.assertIn("nothing.invalid", doc["message"])
        self.assertLess(time.monotonic() - t0, T(3))
        self.assert_serves(proxy, self.fake)

    def test_502_origin_closes_or_resets_before_answering(self):
        proxy = self.start_proxy()
        for reset in (False, True):
            origin = OneShotOrigin(reset=reset)
            self.addCleanup(origin.close)
            with self.subTest(reset=reset):
                self.curl_error(proxy, "http://127.0.0.1:%d/x" % origin.port,
                                502, "upstream_unreachable")
                self.assertGreaterEqual(origin.accepted, 1)
        self.assert_serves(proxy, self.fake)

    def test_502_origin_sends_garbage(self):
        proxy = self.start_proxy()
        self.curl_error(proxy, self.fake.url + "/_fake/garbage", 502,
                        "upstream_bad_response")
        self.assertEqual(self.fake.requests_for("/_fake/garbage"), 1)
        self.assert_serves(proxy, self.fake)

    # --- 504 -----------------------------------------------------------------

    def test_504_response_timeout(self):
        proxy = self.start_proxy("--response-timeout", str(T(0.5)))
        t0 = time.monotonic()
        self.curl_error(proxy, self.fake.url + "/_fake/slow?delay=%g" % T(3),
                        504, "upstream_timeout")
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.8 * T(0.5))
        self.assertLess(elapsed, T(2))
        # A quick answer is still fine with the same setting.
        status, _, body, _ = self.curl_status(
            proxy, self.fake.url + "/_fake/slow?delay=0.05")
        self.assertEqual(status, 200)
        self.assert_serves(proxy, self.fake)

    def test_504_connect_timeout(self):
        # A listener whose accept queue is full drops new SYNs, so connect()
        # hangs; that is the one way to get a slow connect on loopback.
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        self.addCleanup(srv.close)
        port = srv.getsockname()[1]
        fillers = []
        self.addCleanup(lambda: [f.close() for f in fillers])
        hanging = False
        for _ in range(8):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
            _, w, _ = select.select([], [f], [], 0.3)
            if not w:
                hanging = True
                break
        if not hanging:
            self.skipTest("could not make connect() hang on this machine")
        proxy = self.start_proxy("--connect-timeout", str(T(0.5)))
        t0 = time.monotonic()
        self.curl_error(proxy, "http://127.0.0.1:%d/x" % port, 504,
                        "upstream_connect_timeout")
        self.assertLess(time.monotonic() - t0, T(2.5))
        self.assert_serves(proxy, self.fake)


if __name__ == "__main__":
    harness.main()
