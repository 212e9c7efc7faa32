#!/usr/bin/python3
"""The adversarial suite: raw sockets against the real binary.

Every case asserts the exact answer (status and X-Patchscope-Error, as the
man page's ERRORS section lists them), that nothing reached the origin when
the request was refused (the fake API counts what it receives, per path),
and that the same proxy serves a normal request right afterwards.

    Smuggling       request smuggling shapes: CL with TE, conflicting CLs,
                    TE obfuscations, bad chunk sizes and extensions, bare
                    LF/CR, obs-fold, NUL and control bytes, bad request
                    lines and versions, absolute-form with another Host or
                    scheme, bad CONNECT targets; pipelined requests behind a
                    refused one; a bad chunk that arrives after the head
    TunnelSmuggling the same shapes inside an intercepted TLS tunnel
    Limits          huge request lines and heads (431), too many header
                    lines, bodies over --max-body-buffer (413), a client
                    that trickles its head (408), 300 idle or half-open
                    connections while a normal client is served,
                    --max-connections (503)
    Disconnects     a client that goes away mid-upload or mid-download, an
                    origin that closes or stalls mid-body, an origin that
                    never answers (504)
    OriginAbuse     an origin that answers with smuggling or splitting
                    shapes (502 upstream_bad_response), unsolicited bytes
                    (no desync), a held error answer cut off (502
                    upstream_closed)
    TlsAbuse        garbage instead of a ClientHello, a handshake cut off or
                    never finished, a client that rejects the certificate
    Cassettes       truncated, non-JSON and hostile cassettes (deep nesting,
                    huge strings, header text that would split a message)
                    are refused with one clear line and never rewritten
    UnderAttack     record and replay while being attacked: the cassette
                    stays loadable, keeps every normal exchange, and replay
                    never writes its cassette

Run: PATCHSCOPE=... /usr/bin/python3 tests/e2e/test_adversarial.py
"""

import json
import os
import re
import select
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, request_bytes  # noqa: E402

AUTH_HEADER = ("Authorization", "Basic YWNjMTpzZWNyZXQ=")      # acc1:secret
PROFILE = "/v1/acc1/profiles/p1"
# A profile PATCH with an error-level diagnosis (an unknown anchor).
BAD_PATCH = json.dumps({"actions": [{
    "type": "WEBHOOK", "anchor": "BOOKING_CANCELED", "title": "t",
    "to": "https://crm.example.com/hooks/x", "subject": "POST",
    "body": "{}"}]}).encode()


# --- helpers -----------------------------------------------------------------

def send_quietly(client, data):
    """Send, ignoring a peer that already answered and closed."""
    try:
        client.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


class ScriptedOrigin:
    """A raw TCP origin that misbehaves on purpose.

    For each request it reads (a head and a Content-Length body) it plays
    the next script (the last one repeats): bytes are sent, a float sleeps
    that long, None closes the connection.  An empty script never answers
    and keeps reading until the peer closes.  What arrives on each
    connection is kept in self.received (one bytearray per connection);
    self.eof counts connections the peer closed while they were read,
    self.send_failed those it closed while they were written to."""

    def __init__(self, *scripts):
        self.scripts = list(scripts) or [[]]
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.host
        self.received = []
        self.requests = 0
        self.eof = 0
        self.send_failed = 0
        self.stopping = threading.Event()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            rec = bytearray()
            self.received.append(rec)
            threading.Thread(target=self._serve, args=(conn, rec),
                             daemon=True).start()

    def _recv(self, conn, rec):
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.eof += 1
            return None
        rec += data
        return data

    def _serve(self, conn, rec):
        conn.settimeout(30)
        buf = b""
        while not self.stopping.is_set():
            while b"\r\n\r\n" not in buf:
                data = self._recv(conn, rec)
                if data is None:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            need = int(m.group(1)) if m else 0
            while len(buf) < need:
                data = self._recv(conn, rec)
                if data is None:
                    return
                buf += data
            buf = buf[need:]
            script = self.scripts[min(self.requests, len(self.scripts) - 1)]
            self.requests += 1
            if not script:
                while self._recv(conn, rec) is not None:
                    pass
                return
            for step in script:
                if step is None:
                    conn.close()
                    return
                if isinstance(step, float):
                    if self.stopping.wait(step):
                        return
                    continue
                try:
                    conn.sendall(step)
                except OSError:
                    self.send_failed += 1
                    return

    def close(self):
        self.stopping.set()
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def har_entry(method, url, body, status=200, req_body=None):
    """A minimal valid HAR 1.2 entry."""
    request = {"method": method, "url": url, "httpVersion": "HTTP/1.1",
               "headers": [], "queryString": [], "cookies": [],
               "headersSize": -1, "bodySize": 0}
    if req_body is not None:
        request["postData"] = {"mimeType": "application/json",
                               "text": req_body}
    return {
        "startedDateTime": "2026-01-02T09:14:03.118Z", "time": 1.5,
        "request": request,
        "response": {
            "status": status, "statusText": "OK", "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type",
                         "value": "application/json"},
                        {"name": "Content-Length",
                         "value": str(len(body.encode()))}],
            "cookies": [],
            "content": {"size": len(body.encode()),
                        "mimeType": "application/json", "text": body},
            "redirectURL": "", "headersSize": -1,
            "bodySize": len(body.encode())},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0.5}}


def har_doc(entries):
    return {"log": {"version": "1.2",
                    "creator": {"name": "test_adversarial", "version": "0"},
                    "entries": entries}}


class Base(harness.TestCase):
    """Helpers shared by the adversarial cases."""

    def origin(self, *scripts):
        o = ScriptedOrigin(*scripts)
        self.addCleanup(o.close)
        return o

    def echo_count(self, fake, path="/_fake/echo"):
        return fake.stats()["paths"].get(path, 0)

    def refused(self, proxy, data, status, code, what=None):
        """Send data on a fresh connection: the error answer, then close."""
        c = self.raw(proxy)
        send_quietly(c, data)
        try:
            resp = c.read_response(timeout=T(10))
        except (EOFError, OSError) as e:
            self.fail("%s: no answer (%s); wanted %d %s"
                      % (what or data[:80], e, status, code))
        self.assert_raw_error(resp, status, code)
        self.assertTrue(c.closed_by_peer(T(3)), "the connection is closed "
                        "after %d %s" % (status, code))
        c.close()
        return resp

    def normal_get(self, proxy, fake, tag):
        """A normal GET through the proxy on a new connection: 200 and the
        fake's answer (to a path the attacks do not use)."""
        c = self.raw(proxy)
        try:
            c.send(request_bytes("GET", fake.url + "/_fake/headers?normal=" +
                                 tag, "127.0.0.1:%d" % fake.port))
            resp = c.read_response(timeout=T(10))
        finally:
            c.close()
        self.assertEqual(resp.status, 200, "a normal request after %s: %r"
                         % (tag, resp))
        self.assertEqual(resp.json()["headers"], [["normal", tag]])

    def check_table(self, proxy, fake, cases, make):
        """Each (name, request template, status, code): refused, the origin
        untouched, a normal request served afterwards."""
        for name, tmpl, status, code in cases:
            with self.subTest(case=name):
                before = self.echo_count(fake)
                self.refused(proxy, make(tmpl), status, code, name)
                self.normal_get(proxy, fake, name)
                self.assertEqual(self.echo_count(fake), before,
                                 "%s reached the origin" % name)
                self.assertTrue(proxy.alive(), "patchscope died on " + name)


# --- request smuggling shapes ------------------------------------------------

# {U}: the echo URL (absolute form), {H}: the origin's host:port.  Every one
# of these is 400 bad_request unless it says otherwise.
SMUGGLING = [
    ("cl_then_te",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te_then_cl",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Length: 5\r\n\r\n0\r\n\r\n"),
    ("two_different_cl",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 3\r\n"
     b"Content-Length: 4\r\n\r\nabcd"),
    ("cl_list_conflicting",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 4, 5\r\n\r\nabcde"),
    ("cl_plus_sign",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: +5\r\n\r\nhello"),
    ("cl_negative",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: -5\r\n\r\nhello"),
    ("cl_inner_space",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5 5\r\n\r\nhello"),
    ("cl_hex",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 0x5\r\n\r\nhello"),
    ("cl_empty",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: \r\n\r\nhello"),
    ("cl_overflow",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\n"
     b"Content-Length: 99999999999999999999999\r\n\r\nhello"),
    ("te_chunked_identity",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\n"
     b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
    # "identity" is no transfer coding (RFC 9112 7): an origin that reads
    # the header as RFC 2616 did, or ignores it, frames the body otherwise
    # than patchscope, which forwards the header as it came.
    ("te_identity_chunked",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\n"
     b"Transfer-Encoding: identity, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("te_identity",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: identity\r\n"
     b"\r\nhello"),
    ("te_xchunked",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: xchunked\r\n"
     b"\r\n0\r\n\r\n"),
    ("te_chunked_twice_lines",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te_chunked_twice_list",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\n"
     b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
    ("te_space_before_colon",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding : chunked\r\n"
     b"\r\n0\r\n\r\n"),
    ("te_vertical_tab",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: \x0bchunked\r\n"
     b"\r\n0\r\n\r\n"),
    ("te_line_starts_with_space",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\n Transfer-Encoding: chunked\r\n"
     b"\r\n0\r\n\r\n"),
    # RFC 9112 5.2, and patchscope's own rule: obs-fold is refused, also
    # when the folded field's first line is empty.
    ("te_obs_fold",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding:\r\n chunked\r\n"
     b"\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("obs_fold",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A: one\r\n two\r\n\r\n"),
    ("obs_fold_empty_first_line",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A:\r\n two\r\n\r\n"),
    ("bare_lf_everywhere",
     b"GET {U} HTTP/1.1\nHost: {H}\n\n"),
    ("bare_lf_before_te",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nX-A: b\nTransfer-Encoding: "
     b"chunked\r\n\r\n0\r\n\r\n"),
    ("bare_cr_in_head",
     b"GET {U} HTTP/1.1\r\nHost: {H}\rX-A: b\r\n\r\n"),
    ("nul_in_value",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A: a\x00b\r\n\r\n"),
    ("nul_in_name",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-\x00A: b\r\n\r\n"),
    ("ctl_in_value",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A: a\x01b\r\n\r\n"),
    ("del_in_value",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A: a\x7fb\r\n\r\n"),
    ("ctl_in_name",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-\x01A: b\r\n\r\n"),
    ("chunk_size_not_hex",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_negative",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"-5\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_0x",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0x5\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_leading_space",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b" 5\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_trailing_space",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5 \r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_two_numbers",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5 5\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_trailing_junk",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5g\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_overflow",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    ("chunk_longer_than_size",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nhello\r\n0\r\n\r\n"),
    ("chunk_bare_lf",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\nhello\n0\n\n"),
    ("chunk_ext_space_before_semicolon",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5 ;a=b\r\nhello\r\n0\r\n\r\n"),
    ("chunk_ext_bare_lf",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5;a\nb\r\nhello\r\n0\r\n\r\n"),
    ("chunk_ext_quoted_crlf",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5;a=\"x\r\ny\"\r\nhello\r\n0\r\n\r\n"),
    ("trailer_with_nul",
     b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\nX-T: a\x00b\r\n\r\n"),
    ("request_line_junk_after_version",
     b"GET {U} HTTP/1.1 junk\r\nHost: {H}\r\n\r\n"),
    # Strict parsing: only HTTP/1.0 and HTTP/1.1 request lines.  A 0.9
    # client cannot read the 1.1 answer it would get, and "HTTP/2.0" is no
    # HTTP/1 message at all.
    ("http_0_9",
     b"GET {U}\r\n\r\n"),
    ("http_2_0",
     b"GET {U} HTTP/2.0\r\nHost: {H}\r\n\r\n"),
    ("http_1_2",
     b"GET {U} HTTP/1.2\r\nHost: {H}\r\n\r\n"),
    ("lower_case_method",
     b"get {U} HTTP/1.1\r\nHost: {H}\r\n\r\n"),
    ("space_in_target",
     b"GET {U}?a b HTTP/1.1\r\nHost: {H}\r\n\r\n"),
    ("ctl_in_target",
     b"GET {U}?a\x01b HTTP/1.1\r\nHost: {H}\r\n\r\n"),
    ("two_host_headers",
     b"GET {U} HTTP/1.1\r\nHost: {H}\r\nHost: {H}\r\n\r\n"),
    # RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request
    # without Host (as to one with two).
    ("http_1_1_without_host",
     b"GET {U} HTTP/1.1\r\n\r\n"),
]

SMUGGLING_OTHER = [
    ("absolute_form_other_host",
     b"GET {U} HTTP/1.1\r\nHost: evil.example\r\n\r\n", 400, "host_mismatch"),
    ("absolute_form_other_port",
     b"GET {U} HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 400, "host_mismatch"),
    ("absolute_form_https",
     b"GET https://{H}/_fake/echo HTTP/1.1\r\nHost: {H}\r\n\r\n", 400,
     "unsupported_scheme"),
    ("origin_form_to_the_proxy",
     b"GET /_fake/echo HTTP/1.1\r\nHost: {H}\r\n\r\n", 400,
     "not_a_proxy_request"),
    ("connect_without_port",
     b"CONNECT no-port.test HTTP/1.1\r\nHost: no-port.test\r\n\r\n", 400,
     "bad_request"),
    ("connect_port_0",
     b"CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: 127.0.0.1:0\r\n\r\n", 400,
     "bad_request"),
    ("connect_port_too_big",
     b"CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: x\r\n\r\n", 400,
     "bad_request"),
    ("connect_path",
     b"CONNECT /x HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"),
    ("connect_url",
     b"CONNECT http://{H} HTTP/1.1\r\nHost: {H}\r\n\r\n", 400,
     "bad_request"),
    ("connect_userinfo",
     b"CONNECT user@{H} HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"),
    ("connect_unclosed_bracket",
     b"CONNECT [::1:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
]


class Smuggling(Base):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.proxy = self.start_proxy()
        self.host = ("127.0.0.1:%d" % self.fake.port).encode()
        self.url = (self.fake.url + "/_fake/echo").encode()

    def make(self, tmpl):
        return tmpl.replace(b"{U}", self.url).replace(b"{H}", self.host)

    def test_smuggling_shapes_are_400_bad_request(self):
        self.check_table(self.proxy, self.fake,
                         [(n, t, 400, "bad_request") for n, t in SMUGGLING],
                         self.make)
        self.assert_serves(self.proxy, self.fake)

    def test_targets_hosts_and_connect(self):
        self.check_table(self.proxy, self.fake, SMUGGLING_OTHER, self.make)
        self.assert_serves(self.proxy, self.fake)

    def test_what_is_allowed_stays_allowed(self):
        """The strictness above is not blanket refusal: RFC-valid variants
        are forwarded, normalised, and the origin sees one clean request."""
        cases = [
            # name, request, what the origin must see: (method, body,
            # transfer-encoding or None)
            ("te_upper_case",
             b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: CHUNKED"
             b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n", ("POST", "hello", "chunked")),
            ("te_tab_before_value",
             b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding:\tchunked"
             b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n", ("POST", "hello", "chunked")),
            ("cl_trailing_space",
             b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5 \r\n\r\n"
             b"hello", ("POST", "hello", None)),
            ("chunk_extension",
             b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked"
             b"\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n",
             ("POST", "hello", "chunked")),
            ("tab_in_value",
             b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A: a\tb\r\n\r\n",
             ("GET", "", None)),
            # RFC 9110 5.5: a field value may be empty (curl -H "X-A;");
            # it is not obs-fold, last or followed by another field.
            ("empty_value_last",
             b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A:\r\n\r\n",
             ("GET", "", None)),
            ("empty_value_then_a_field",
             b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-A: \r\nX-B: b\r\n\r\n",
             ("GET", "", None)),
            # RFC 9112 3: a recipient MAY split the request line on any
            # run of whitespace; patchscope re-sends it with single spaces.
            ("request_line_two_spaces",
             b"GET  {U} HTTP/1.1\r\nHost: {H}\r\n\r\n", ("GET", "", None)),
        ]
        for name, tmpl, (method, body, te) in cases:
            with self.subTest(case=name):
                before = self.echo_count(self.fake)
                c = self.raw(self.proxy)
                c.send(self.make(tmpl))
                resp = c.read_response(timeout=T(10))
                self.assertEqual(resp.status, 200, resp)
                doc = resp.json()
                self.assertEqual((doc["method"], doc["target"], doc["body"]),
                                 (method, "/_fake/echo", body))
                self.assertEqual((doc["headers"].get("transfer-encoding")
                                  or "").lower() or None, te)
                self.assertEqual(self.echo_count(self.fake), before + 1)
                if name == "empty_value_then_a_field":
                    self.assertEqual((doc["headers"].get("x-a"),
                                      doc["headers"].get("x-b")), ("", "b"),
                                     doc["headers"])
                c.close()

    def test_long_chunk_extensions_never_reach_the_origin(self):
        """1 MiB of chunk extension: not held in memory, not forwarded (the
        fake refuses a chunk line over 4 KiB), the body arrives intact."""
        ext = b";" + b"e" * (1 << 20)
        c = self.raw(self.proxy)
        send_quietly(c, self.make(
            b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n5") + ext + b"\r\nhello\r\n0\r\n\r\n")
        resp = c.read_response(timeout=T(10))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["body"], "hello")
        self.normal_get(self.proxy, self.fake, "after-extension")

    def test_pipelined_request_after_a_refused_one_never_runs(self):
        follow = self.make(b"GET {U}?pipelined HTTP/1.1\r\nHost: {H}\r\n\r\n")
        smuggled = self.make(b"GET {U}?smuggled HTTP/1.1\r\nHost: {H}\r\n"
                             b"\r\n")
        firsts = [
            ("nul_in_name", self.make(
                b"GET {U} HTTP/1.1\r\nHost: {H}\r\nX-\x00A: b\r\n\r\n")),
            ("cl_te_with_smuggled_request_as_body", self.make(
                b"POST {U} HTTP/1.1\r\nHost: {H}\r\nContent-Length: %d\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                % (5 + len(smuggled))) + smuggled),
            ("te_cl_with_smuggled_request_in_a_chunk", self.make(
                b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: "
                b"chunked\r\nContent-Length: 4\r\n\r\n%x\r\n" % len(smuggled))
             + smuggled + b"\r\n0\r\n\r\n"),
            ("bad_chunk_then_request", self.make(
                b"POST {U} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: "
                b"chunked\r\n\r\nzz\r\n")),
            ("host_mismatch", self.make(
                b"GET {U} HTTP/1.1\r\nHost: evil.example\r\n\r\n")),
        ]
        for name, first in firsts:
            with self.subTest(case=name):
                before = self.echo_count(self.fake)
                c = self.raw(self.proxy)
                send_quietly(c, first + follow)
                resp = c.read_response(timeout=T(10))
                self.assertEqual(resp.status, 400, resp)
                self.assertIn(resp.header("x-patchscope-error"),
                              ("bad_request", "host_mismatch"))
                self.assertTrue(c.closed_by_peer(T(3)))
                self.assertNotIn(b"HTTP/1.1", c.buf,
                                 "a second answer after the refusal")
                self.normal_get(self.proxy, self.fake, name)
                self.assertEqual(self.echo_count(self.fake), before,
                                 "a pipelined or smuggled request ran")
        # A good request, then a bad one on the same connection: the first
        # is answered, the second refused, nothing behind it runs.
        before = self.echo_count(self.fake)
        c = self.raw(self.proxy)
        c.send(self.make(b"GET {U}?first HTTP/1.1\r\nHost: {H}\r\n\r\n") +
               firsts[1][1] + follow)
        resp = c.read_response(timeout=T(10))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["query"], "first")
        self.assert_raw_error(c.read_response(timeout=T(10)), 400,
                              "bad_request")
        self.assertTrue(c.closed_by_peer(T(3)))
        self.normal_get(self.proxy, self.fake, "after-good-then-bad")
        self.assertEqual(self.echo_count(self.fake), before + 1)

    def test_bad_chunk_after_the_head_was_sent(self):
        """The head may already be on its way when a bad chunk size arrives
        (bodies stream): the client gets 400, and the origin never gets a
        complete request: no last chunk, nothing past the bad line, and the
        connection is closed."""
        o = self.origin([])             # never answers, keeps what arrives
        host = o.host.encode()
        c = self.raw(self.proxy)
        c.send(b"POST %s/up HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: "
               b"chunked\r\n\r\n5\r\nhello\r\n" % (o.url.encode(), host))
        harness.wait_for(lambda: o.received and b"hello" in o.received[0],
                         T(5), what="the first chunk at the origin")
        send_quietly(c, b"zz\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"0\r\n\r\n")
        self.assert_raw_error(c.read_response(timeout=T(10)), 400,
                              "bad_request")
        self.assertTrue(c.closed_by_peer(T(3)))
        harness.wait_for(lambda: o.eof >= 1, T(5),
                         what="the origin connection to be closed")
        got = bytes(o.received[0])
        self.assertNotIn(b"0\r\n\r\n", got, "the origin saw a complete "
                         "chunked body: %r" % got)
        self.assertNotIn(b"zz", got)
        self.assertNotIn(b"smuggled", got)
        self.assertEqual(len(o.received), 1)
        self.normal_get(self.proxy, self.fake, "after-late-bad-chunk")


# --- the same inside an intercepted tunnel -----------------------------------

TUNNEL = [
    ("cl_and_te",
     b"POST /_fake/echo HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"),
    ("two_different_cl",
     b"POST /_fake/echo HTTP/1.1\r\nHost: {H}\r\nContent-Length: 3\r\n"
     b"Content-Length: 4\r\n\r\nabcd", 400, "bad_request"),
    ("te_space_before_colon",
     b"POST /_fake/echo HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding : "
     b"chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"),
    ("te_obs_fold",
     b"POST /_fake/echo HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding:\r\n"
     b" chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "bad_request"),
    ("obs_fold",
     b"GET /_fake/echo HTTP/1.1\r\nHost: {H}\r\nX-A: one\r\n two\r\n\r\n",
     400, "bad_request"),
    ("bad_chunk_size",
     b"POST /_fake/echo HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked"
     b"\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400, "bad_request"),
    ("nul_in_value",
     b"GET /_fake/echo HTTP/1.1\r\nHost: {H}\r\nX-A: a\x00b\r\n\r\n", 400,
     "bad_request"),
    ("bare_lf",
     b"GET /_fake/echo HTTP/1.1\nHost: {H}\n\n", 400, "bad_request"),
    ("absolute_form_inside",
     b"GET http://{H}/_fake/echo HTTP/1.1\r\nHost: {H}\r\n\r\n", 400,
     "bad_request"),
    ("connect_inside",
     b"CONNECT {H} HTTP/1.1\r\nHost: {H}\r\n\r\n", 400, "bad_request"),
    ("two_host_headers",
     b"GET /_fake/echo HTTP/1.1\r\nHost: {H}\r\nHost: {H}\r\n\r\n", 400,
     "bad_request"),
    ("host_other_port",
     b"GET /_fake/echo HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 400,
     "host_mismatch"),
    # The Host names which certificate the origin must show: another name
    # than the origin's is refused before any request is sent to it.
    ("host_other_name",
     b"GET /_fake/echo HTTP/1.1\r\nHost: evil.example:{P}\r\n\r\n", 502,
     "upstream_tls"),
]


class TunnelSmuggling(Base):

    def test_smuggling_shapes_inside_tls(self):
        fake = self.start_fake(tls=True)
        proxy = self.start_proxy("--upstream-ca", self.fake_ca.cert)
        target = "127.0.0.1:%d" % fake.port
        host = target.encode()
        for name, tmpl, status, code in TUNNEL:
            with self.subTest(case=name):
                before = fake.stats()["requests"]
                t = self.tls_tunnel(proxy, target)
                send_quietly(t, tmpl.replace(b"{H}", host).replace(
                    b"{P}", str(fake.port).encode()))
                self.assert_raw_error(t.read_response(timeout=T(10)), status,
                                      code)
                self.assertTrue(t.closed_by_peer(T(3)))
                self.assertEqual(fake.stats()["requests"], before,
                                 "%s reached the origin" % name)
                # The next tunnel is served.
                t = self.tls_tunnel(proxy, target)
                t.send(b"GET /_fake/echo?after=%s HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (name.encode(), host))
                resp = t.read_response(timeout=T(10))
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json()["query"], "after=" + name)
                self.assertEqual(fake.stats()["requests"], before + 1)
                t.close()


# --- size and time -----------------------------------------------------------

class Limits(Base):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.fhost = "127.0.0.1:%d" % self.fake.port
        self.echo = self.fake.url + "/_fake/echo"

    def test_431_for_huge_heads(self):
        proxy = self.start_proxy()
        cases = [
            ("request_line_100k",
             ("GET %s?%s HTTP/1.1\r\nHost: %s\r\n\r\n"
              % (self.echo, "q" * 100 * 1024, self.fhost)).encode()),
            ("request_line_never_ends",
             ("GET %s?%s" % (self.echo, "q" * 100 * 1024)).encode()),
            ("header_100k", request_bytes("GET", self.echo, self.fhost,
                                          [("X-Big", "b" * 100 * 1024)])),
            ("header_name_70k", request_bytes(
                "GET", self.echo, self.fhost, [("X-" + "n" * 70000, "v")])),
            ("5000_small_headers", request_bytes(
                "GET", self.echo, self.fhost,
                [("X-%d" % i, "v") for i in range(5000)])),
            ("513_header_lines", request_bytes(
                "GET", self.echo, self.fhost,
                [("X-%d" % i, "v") for i in range(512)])),
            ("1000_headers_of_100_bytes", request_bytes(
                "GET", self.echo, self.fhost,
                [("X-%d" % i, "v" * 100) for i in range(1000)])),
        ]
        for name, data in cases:
            with self.subTest(case=name):
                before = self.echo_count(self.fake)
                self.refused(proxy, data, 431, "headers_too_large", name)
                self.normal_get(proxy, self.fake, name)
                self.assertEqual(self.echo_count(self.fake), before)
        # Just under the limit is fine (64K default).
        c = self.raw(proxy)
        c.send(request_bytes("GET", self.echo, self.fhost,
                             [("X-Pad", "p" * 60000)]))
        resp = c.read_response(timeout=T(10))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(len(resp.json()["headers"]["x-pad"]), 60000)

    def test_413_bodies_over_max_body_buffer(self):
        # --guard must hold a profile PATCH whole to check it.
        proxy = self.start_proxy("--guard", "--max-body-buffer", "1K")
        body = json.dumps({"title": "t" * 4000}).encode()
        self.refused(proxy, request_bytes(
            "PATCH", self.fake.url + PROFILE, self.fhost,
            [AUTH_HEADER, ("Content-Type", "application/json")], body),
            413, "body_too_large")
        chunked = request_bytes(
            "PATCH", self.fake.url + PROFILE, self.fhost,
            [AUTH_HEADER, ("Content-Type", "application/json"),
             ("Transfer-Encoding", "chunked")]) + \
            b"".join(b"400\r\n" + b" " * 0x400 + b"\r\n" for _ in range(4)) + \
            b"0\r\n\r\n"
        self.refused(proxy, chunked, 413, "body_too_large")
        self.assertEqual(self.fake.stats()["paths"].get(PROFILE, 0), 0)
        self.normal_get(proxy, self.fake, "after-413")
        # Anything else streams through whatever its size.
        n = 3 * harness.MiB + 7
        c = self.raw(proxy)
        c.send(b"POST %s/_fake/upload HTTP/1.1\r\nHost: %s\r\n"
               b"Content-Length: %d\r\n\r\n" % (self.fake.url.encode(),
                                               self.fhost.encode(), n))
        for piece in harness.pattern_source(n):
            c.send(piece)
        resp = c.read_response(timeout=T(20))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json(), {"bytes": n,
                                       "sha256": harness.stream_sha256(n)})

    def test_408_for_a_client_that_trickles_its_head(self):
        proxy = self.start_proxy("--header-timeout", str(T(1)))
        head = request_bytes("GET", self.echo, self.fhost)
        c = self.raw(proxy)
        t0 = time.monotonic()
        sent = 0
        # A byte every quarter second: the head would take ~40 s.
        while sent < len(head) and time.monotonic() - t0 < T(6):
            try:
                c.send(head[sent:sent + 1])
            except OSError:
                break
            sent += 1
            if select.select([c.sock], [], [], 0.25)[0]:
                break
        resp = c.read_response(timeout=T(5))
        elapsed = time.monotonic() - t0
        self.assertLess(sent, len(head))
        self.assert_raw_error(resp, 408, "request_timeout")
        self.assertGreater(elapsed, 0.8 * T(1))
        self.assertLess(elapsed, T(1) + T(1.5))
        self.assertTrue(c.closed_by_peer(T(3)))
        self.assertEqual(self.echo_count(self.fake), 0)
        self.normal_get(proxy, self.fake, "after-trickle")

    def timed_gets(self, proxy, n):
        times = []
        for i in range(n):
            t0 = time.monotonic()
            c = harness.RawClient(proxy.addr)
            c.send(request_bytes("GET", self.echo + "?t=%d" % i, self.fhost))
            resp = c.read_response(timeout=T(10))
            times.append(time.monotonic() - t0)
            c.close()
            self.assertEqual(resp.status, 200)
        return times

    def test_300_idle_and_half_open_connections(self):
        proxy = self.start_proxy("--header-timeout", str(T(2)))
        self.timed_gets(proxy, 3)                     # warm up the pool
        base = self.timed_gets(proxy, 7)
        half = request_bytes("GET", self.echo, self.fhost)[:30]
        idle = []
        self.addCleanup(lambda: [s.close() for s, _ in idle])
        for i in range(300):
            s = socket.create_connection(proxy.addr, timeout=T(10))
            kind = ("silent", "half-head", "half-closed")[i % 3]
            if kind != "silent":
                s.sendall(half)
            if kind == "half-closed":
                s.shutdown(socket.SHUT_WR)
            idle.append((s, kind))
        t_opened = time.monotonic()
        loaded = self.timed_gets(proxy, 7)
        self.assertLess(time.monotonic() - t_opened, T(2),
                        "the measurement ran past the header timeout")
        med_base, med_loaded = statistics.median(base), \
            statistics.median(loaded)
        self.assertLess(max(loaded), T(2), "a normal request took %.3f s "
                        "with 300 idle connections" % max(loaded))
        self.assertLess(med_loaded, max(10 * med_base, 0.2),
                        "median %.4f s with 300 idle connections, %.4f s "
                        "without" % (med_loaded, med_base))
        # Each is closed by the header timeout (a 408 where a head began).
        deadline = time.monotonic() + T(2) + T(3)
        for s, kind in idle:
            got = b""
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    got += data
            except socket.timeout:
                self.fail("a %s connection was still open %.1f s after "
                          "the header timeout" % (kind, T(3)))
            except ConnectionResetError:
                pass
            if kind == "half-head":
                self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got[:100])
            if kind == "silent":
                self.assertIn(got[:13], (b"", b"HTTP/1.1 408 "), got[:100])
        self.assertEqual(self.echo_count(self.fake), 3 + 7 + 7)
        self.timed_gets(proxy, 1)

    def test_503_past_max_connections(self):
        proxy = self.start_proxy("--max-connections", "3")
        held = []
        for i in range(3):
            c = self.raw(proxy)
            c.send(request_bytes("GET", self.echo + "?held=%d" % i,
                                 self.fhost))
            self.assertEqual(c.read_response(timeout=T(10)).status, 200)
            held.append(c)
        for i in range(3):
            self.refused(proxy, request_bytes("GET", self.echo + "?over",
                                              self.fhost),
                         503, "too_many_connections")
        self.assertEqual(self.echo_count(self.fake), 3)
        # The held ones still work; freeing one lets a new one in.
        held[0].send(request_bytes("GET", self.echo + "?again", self.fhost))
        self.assertEqual(held[0].read_response(timeout=T(10)).status, 200)
        held[1].close()

        def served():
            try:
                self.normal_get(proxy, self.fake, "slot")
                return True
            except (AssertionError, EOFError, OSError):
                return False
        harness.wait_for(served, T(3), 0.1, "a slot after one was freed")


# --- clients and origins that go away ----------------------------------------

class Disconnects(Base):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.fhost = "127.0.0.1:%d" % self.fake.port

    RST = b"\x01\x00\x00\x00\x00\x00\x00\x00"      # SO_LINGER on, 0 s

    def go_away(self, c, how):
        """End a client: "fin" (shut down writing only), "close" (a plain
        close: with unread data in the socket the kernel sends a reset, as
        when curl is stopped mid-download) or "reset" (SO_LINGER 0)."""
        if how == "fin":
            c.sock.shutdown(socket.SHUT_WR)
            return
        if how == "reset":
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, self.RST)
        c.close()

    def wait_lines(self, proxy, pattern, n, what):
        harness.wait_for(lambda: len(re.findall(pattern, proxy.log())) >= n,
                         T(5), 0.05, what)

    def test_client_disappears_mid_upload(self):
        """The origin connection is closed, and the exchange gets its log
        line (one per exchange, however it ended)."""
        proxy = self.start_proxy()
        for i, how in enumerate(("fin", "close", "reset")):
            with self.subTest(abort=how):
                o = self.origin([])         # reads the body, never answers
                c = self.raw(proxy)
                c.send(b"POST %s/up HTTP/1.1\r\nHost: %s\r\n"
                       b"Content-Length: %d\r\n\r\n"
                       % (o.url.encode(), o.host.encode(), 64 * harness.MiB))
                c.send(b"u" * harness.MiB)
                harness.wait_for(lambda: o.received and
                                 len(o.received[0]) > harness.MiB // 2, T(5),
                                 what="the upload to reach the origin")
                self.go_away(c, how)
                harness.wait_for(lambda: o.eof == 1, T(5), 0.05,
                                 "the proxy to close the origin connection")
                self.assertEqual(len(o.received), 1)
                self.wait_lines(proxy, r"POST \S+/up -> \d+ client_closed",
                                i + 1, "the exchange's log line (%s)" % how)
                c.close()
                self.normal_get(proxy, self.fake, "after-upload-" + how)

    def test_client_disappears_mid_download(self):
        proxy = self.start_proxy()
        block = bytes(range(256)) * 4096                    # 1 MiB
        for i, how in enumerate(("fin", "close", "reset")):
            with self.subTest(abort=how):
                o = self.origin([b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                                 b"\r\n" % (256 * len(block))] +
                                [block] * 256)
                c = self.raw(proxy)
                c.send(request_bytes("GET", o.url + "/down", o.host))
                self.assertEqual(c.read_head()[1], 200)
                c.sock.recv(1 << 20)
                self.go_away(c, how)
                harness.wait_for(lambda: o.send_failed == 1, T(5), 0.05,
                                 "the proxy to close the origin connection")
                self.wait_lines(proxy, r"GET \S+/down -> 200 client_closed",
                                i + 1, "the exchange's log line (%s)" % how)
                c.close()
                self.normal_get(proxy, self.fake, "after-download-" + how)

    def test_origin_closes_mid_body(self):
        proxy = self.start_proxy()
        # Content-Length: the client sees the head and 10 of 1000 bytes.
        c = self.raw(proxy)
        c.send(request_bytes("GET", self.fake.url + "/_fake/close-mid-body",
                             self.fhost))
        version, status, reason, headers = c.read_head()
        self.assertEqual(status, 200)
        self.assertIn(("Content-Length", "1000"), headers)
        self.assertTrue(c.closed_by_peer(T(5)))
        self.assertEqual(c.buf, b"0123456789")
        # Chunked: the proxy must not end the cut body with a last chunk,
        # which would make it look complete.
        o = self.origin([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         b"\r\n5\r\nhello\r\n", 0.1, None])
        c = self.raw(proxy)
        c.send(request_bytes("GET", o.url + "/cut", o.host))
        got = c.read_until_close(T(5))
        self.assertTrue(got.startswith(b"HTTP/1.1 200 "), got)
        self.assertTrue(got.endswith(b"\r\n\r\n5\r\nhello\r\n"), got)
        self.wait_log(proxy, r"GET %s/cut -> 200 upstream_closed"
                      % re.escape(o.url))
        self.normal_get(proxy, self.fake, "after-origin-cut")

    def test_origin_stalls_mid_body(self):
        proxy = self.start_proxy("--idle-timeout", str(T(1)))
        o = self.origin([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                         b"hello", 60.0])
        c = self.raw(proxy)
        t0 = time.monotonic()
        c.send(request_bytes("GET", o.url + "/stall", o.host))
        got = c.read_until_close(T(6))
        elapsed = time.monotonic() - t0
        self.assertTrue(got.endswith(b"\r\n\r\nhello"), got)
        self.assertGreater(elapsed, 0.8 * T(1))
        self.assertLess(elapsed, T(1) + T(2))
        self.wait_log(proxy, r"-> 200 transfer_stalled")
        self.normal_get(proxy, self.fake, "after-stall")

    def test_504_from_an_origin_that_never_answers(self):
        proxy = self.start_proxy("--response-timeout", str(T(1)))
        cases = [("accepts_and_reads_only", self.origin([])),
                 ("fake_sleeps", None)]
        for name, o in cases:
            with self.subTest(case=name):
                if o is None:
                    url, host = (self.fake.url + "/_fake/slow?delay=%g"
                                 % (T(1) + 4), self.fhost)
                else:
                    url, host = o.url + "/never", o.host
                t0 = time.monotonic()
                self.refused(proxy, request_bytes("GET", url, host), 504,
                             "upstream_timeout")
                elapsed = time.monotonic() - t0
                self.assertGreater(elapsed, 0.8 * T(1))
                self.assertLess(elapsed, T(1) + T(1.5))
                self.normal_get(proxy, self.fake, name)


# --- an origin that misbehaves -----------------------------------------------

ORIGIN_BAD = [
    ("cl_and_te",
     b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
     b"\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("two_different_cl",
     b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
     b"hello!"),
    ("nul_in_header",
     b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 5\r\n\r\nhello"),
    ("bare_cr_splits_a_header",
     b"HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: evil=1\r\nContent-Length: 5"
     b"\r\n\r\nhello"),
    ("bare_lf_splits_a_header",
     b"HTTP/1.1 200 OK\r\nX-A: a\nSet-Cookie: evil=1\r\nContent-Length: 5"
     b"\r\n\r\nhello"),
    ("space_before_colon",
     b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello"),
    ("head_300k",
     b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 300000 +
     b"\r\nContent-Length: 5\r\n\r\nhello"),
    ("not_http",
     b"\x00\x01 this is not HTTP at all \xff\xfe\r\n\r\n"),
    ("status_overflow",
     b"HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello"),
    # Nothing had reached the client when the bad chunk size was seen (it
    # came with the head), so patchscope can still say what went wrong.
    ("bad_chunk_size_with_the_head",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"
     b"0\r\n\r\n"),
]


class OriginAbuse(Base):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.proxy = self.start_proxy()

    def test_502_for_smuggling_and_splitting_answers(self):
        for name, answer in ORIGIN_BAD:
            with self.subTest(case=name):
                o = self.origin([answer, 0.3, None])
                resp = self.refused(self.proxy, request_bytes(
                    "GET", o.url + "/x", o.host), 502,
                    "upstream_bad_response", name)
                self.assertIsNone(resp.header("set-cookie"))
                self.normal_get(self.proxy, self.fake, name)

    def test_502_for_splitting_headers_sent_by_the_fake(self):
        """The fake's /_fake/headers sends any value it is given: a bare CR
        or LF or a NUL in it is a response-splitting attempt."""
        for name, value in (("bare_cr", "a%0DSet-Cookie:%20evil=1"),
                            ("bare_lf", "a%0ASet-Cookie:%20evil=1"),
                            ("nul", "a%00b")):
            with self.subTest(case=name):
                resp = self.refused(self.proxy, request_bytes(
                    "GET", self.fake.url + "/_fake/headers?X-A=" + value,
                    "127.0.0.1:%d" % self.fake.port), 502,
                    "upstream_bad_response", name)
                self.assertIsNone(resp.header("set-cookie"))
                self.normal_get(self.proxy, self.fake, name)

    def test_bad_chunk_after_the_head_cuts_the_answer(self):
        o = self.origin([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         b"\r\n5\r\nhello\r\n", 0.3,
                         b"zz\r\nmore\r\n0\r\n\r\n", 0.3, None])
        c = self.raw(self.proxy)
        c.send(request_bytes("GET", o.url + "/x", o.host))
        got = c.read_until_close(T(5))
        self.assertTrue(got.startswith(b"HTTP/1.1 200 "), got)
        self.assertTrue(got.endswith(b"5\r\nhello\r\n"), got)
        self.normal_get(self.proxy, self.fake, "after-late-bad-chunk")

    def test_obs_fold_in_an_answer_becomes_one_line(self):
        o = self.origin([b"HTTP/1.1 200 OK\r\nX-A: a\r\n Set-Cookie: b\r\n"
                         b"Content-Length: 5\r\n\r\nhello"])
        c = self.raw(self.proxy)
        c.send(request_bytes("GET", o.url + "/x", o.host))
        resp = c.read_response(timeout=T(10))
        self.assertEqual((resp.status, resp.body), (200, b"hello"))
        self.assertEqual(resp.headers_named("X-A"), ["a Set-Cookie: b"])
        self.assertIsNone(resp.header("set-cookie"))

    def test_extra_bytes_after_an_answer_never_reach_a_client(self):
        """Bytes after a complete answer, in the same packet or later while
        the connection sits in the pool, must not become the answer to the
        next request (response queue poisoning)."""
        poison = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\npoisoned"
        good = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"
        for name, first in (
                ("same_packet",
                 [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
                  poison]),
                ("later_while_pooled",
                 [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0.2,
                  poison])):
            with self.subTest(case=name):
                o = self.origin(first, [good])
                c = self.raw(self.proxy)
                c.send(request_bytes("GET", o.url + "/1", o.host))
                resp = c.read_response(timeout=T(10))
                self.assertEqual(resp.body, b"hello")
                time.sleep(0.6)
                for i in range(3):
                    c.send(request_bytes("GET", o.url + "/%d" % (i + 2),
                                         o.host))
                    resp = c.read_response(timeout=T(10))
                    self.assertEqual((resp.status, resp.body),
                                     (200, b"good"), "answer %d" % (i + 2))
                self.assertEqual(o.requests, 4)

    def test_502_upstream_closed_when_a_held_error_is_cut(self):
        """A PATCH with diagnoses: the API's error answer is held to add
        them; the origin closes in the middle of it.  Man page: 502
        upstream_closed."""
        o = self.origin([b"HTTP/1.1 400 Bad Request\r\nContent-Type: "
                         b"application/json\r\nContent-Length: 1000\r\n\r\n"
                         b"{\"errors\": [", 0.2, None])
        resp = self.refused(self.proxy, request_bytes(
            "PATCH", o.url + PROFILE, o.host,
            [AUTH_HEADER, ("Content-Type", "application/json")], BAD_PATCH),
            502, "upstream_closed")
        self.assertEqual(o.requests, 1, "a PATCH must not be retried")
        self.normal_get(self.proxy, self.fake, "after-held-cut")


# --- TLS ---------------------------------------------------------------------

class TlsAbuse(Base):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake(tls=True)
        self.target = "127.0.0.1:%d" % self.fake.port
        self.proxy = self.start_proxy("--upstream-ca", self.fake_ca.cert,
                                      "--header-timeout", str(T(1)))

    def https_get(self, tag):
        t = self.tls_tunnel(self.proxy, self.target)
        t.send(b"GET /_fake/echo?after=%s HTTP/1.1\r\nHost: %s\r\n\r\n"
               % (tag.encode(), self.target.encode()))
        resp = t.read_response(timeout=T(10))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["query"], "after=" + tag)
        t.close()

    def test_tls_abuse(self):
        hello = harness.client_hello("localhost")

        def plain_http(c):
            c.send(b"GET /_fake/echo HTTP/1.1\r\nHost: x\r\n\r\n")

        def random_bytes(c):
            c.send(os.urandom(512))

        def record_too_long(c):
            c.send(b"\x16\x03\x01\xff\xff" + b"\x00" * 64)

        def half_hello_then_close(c):
            c.send(hello[:len(hello) // 2])
            time.sleep(0.05)

        def half_hello_then_wait(c):
            c.send(hello[:len(hello) // 2])

        def nothing(c):
            pass

        cases = [
            # name, what the client does, closes by itself, closed within
            ("plain_http_instead_of_hello", plain_http, False, T(3)),
            ("random_bytes", random_bytes, False, T(3)),
            ("record_length_too_long", record_too_long, False, T(3)),
            ("half_hello_then_close", half_hello_then_close, True, None),
            ("half_hello_then_wait", half_hello_then_wait, False,
             T(1) + T(2)),
            ("silent_after_connect", nothing, False, T(1) + T(2)),
        ]
        for name, act, client_closes, within in cases:
            with self.subTest(case=name):
                c, resp = self.tunnel(self.proxy, self.target)
                self.assertEqual(resp.status, 200)
                act(c)
                if client_closes:
                    c.close()
                else:
                    t0 = time.monotonic()
                    self.assertTrue(c.closed_by_peer(within),
                                    "%s: still open after %.1f s"
                                    % (name, within))
                    self.assertLess(time.monotonic() - t0, within)
                    self.assertNotIn(b"HTTP/", c.buf, "plain text answer "
                                     "where TLS was expected")
                self.assertTrue(self.proxy.alive())
                self.https_get(name)
        self.assertEqual(self.fake.stats()["paths"],
                         {"/_fake/echo": len(cases)})

    def test_client_rejects_the_certificate(self):
        failed = r"TLS handshake with the client for %s failed" % \
            re.escape(self.target)
        cases = (
            # A client that does not trust patchscope's CA.
            ("unknown_ca", harness.tls_context(self.fake_ca.cert),
             "127.0.0.1"),
            # One that trusts it but checks another name (no SNI is sent
            # for an address, so the leaf is for the CONNECT host).
            ("other_name", harness.tls_context(self.patchscope_ca()),
             "127.0.0.2"),
        )
        for i, (name, ctx, hostname) in enumerate(cases):
            with self.subTest(case=name):
                c, resp = self.tunnel(self.proxy, self.target)
                self.assertEqual(resp.status, 200)
                with self.assertRaises(ssl.SSLCertVerificationError):
                    harness.tls_over(c, ctx, hostname)
                c.close()
                harness.wait_for(
                    lambda: len(re.findall(failed, self.proxy.log())) > i,
                    T(5), what="a log line for the failed handshake")
                self.https_get(name)
        self.assertEqual(self.fake.stats()["requests"], len(cases))


# --- hostile cassettes -------------------------------------------------------

def entry_doc(**kw):
    """A one-entry cassette whose response header or URL is given."""
    e = har_entry("GET", kw.get("url", "http://127.0.0.1:9/a"), '{"a": 1}',
                  status=kw.get("status", 200))
    if "hname" in kw or "hval" in kw:
        e["response"]["headers"].append({"name": kw.get("hname", "X-A"),
                                         "value": kw.get("hval", "v")})
    return json.dumps(har_doc([e]))


def hostile_cassettes():
    good = json.dumps(har_doc([har_entry(
        "GET", "http://127.0.0.1:9/a/%d" % i, '{"i": %d}' % i)
        for i in range(3)]), indent=1)
    return [
        # name, bytes, the place and reason the one line must give
        # (cut before any entry is whole: a file cut after a complete
        # entry is a recording cut off, taken with a warning; see
        # test_cassette.py test_a_recording_cut_off_is_taken_with_a_warning)
        ("truncated_in_an_entry", good.encode()[:good.index('"response"')],
         r"line \d+, column \d+"),
        ("truncated_in_a_string",
         good.encode()[:good.index('{\\"i\\": 0}') + 3],
         r"line \d+"),
        ("not_json", b"<html>this is not a cassette</html>\n",
         r"line 1, column 1"),
        ("nul_bytes", b"\x00" * 4096, r"line 1, column 1"),
        ("random_binary", bytes(range(256)) * 16, r"line 1"),
        ("json_but_not_har", b'{"hello": "world"}\n', r"log"),
        ("nesting_100k_unclosed",
         b'{"log": {"version": "1.2", "entries": [' + b"[" * 100000,
         r"nested deeper than"),
        ("nesting_100k_closed",
         b'{"log": {"version": "1.2", "creator": {"name": "x", "version": '
         b'"0"}, "entries": [], "_x": ' + b"[" * 100000 + b"]" * 100000 +
         b"}}", r"nested deeper than"),
        ("nesting_100k_objects",
         b'{"log": {"version": "1.2", "entries": [], "_x": ' +
         b'{"a":' * 100000 + b"1" + b"}" * 100000 + b"}}",
         r"nested deeper than"),
        ("huge_unterminated_string",
         b'{"log": {"version": "1.2", "entries": [{"request": "' +
         b"a" * (32 * harness.MiB), r"end of the file"),
        ("huge_number", entry_doc(status=200).replace(
            '"status": 200', '"status": 1' + "0" * 5000).encode(),
         r"entry 0|overflow|status"),
        ("status_out_of_range", entry_doc(status=99999).encode(),
         r"entry 0: response\.status"),
        ("invalid_utf8", entry_doc().encode().replace(b'{\\"a\\": 1}',
                                                       b"\xff\xfe\xfd"),
         r"UTF-8"),
        ("lone_surrogate", entry_doc().replace('{\\"a\\": 1}', "\\ud800")
         .encode(), r"surrogate"),
        ("header_value_crlf", entry_doc(
            hval="a\r\nSet-Cookie: evil=1").encode(),
         r"entry 0: response\.headers\[\d+\]\.value"),
        ("header_name_crlf", entry_doc(hname="X-A\r\nX-B").encode(),
         r"entry 0: response\.headers\[\d+\]\.name"),
        ("header_name_nul", entry_doc(hname="X-\u0000A").encode(),
         r"entry 0: response\.headers\[\d+\]\.name"),
        ("header_name_colon", entry_doc(hname="X-A: b").encode(),
         r"entry 0: response\.headers\[\d+\]\.name"),
        ("url_crlf", entry_doc(url="http://127.0.0.1:9/a\r\nX: y").encode(),
         r"entry 0: request\.url"),
    ]


class Cassettes(Base):

    def refuse(self, command, path):
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        argv = [harness.PATCHSCOPE, command]
        if command != "show":
            argv += ["--listen", "127.0.0.1:0", "-c"]
        try:
            cp = subprocess.run(argv + [path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env,
                                timeout=T(10))
        except subprocess.TimeoutExpired:
            self.fail("patchscope %s %s did not refuse the cassette"
                      % (command, os.path.basename(path)))
        return cp.returncode, cp.stdout.decode("utf-8", "replace"), \
            cp.stderr.decode("utf-8", "replace")

    def test_hostile_cassettes_are_refused_and_left_alone(self):
        self.patchscope_ca()        # the CA exists: only the cassette is bad
        for name, data, place in hostile_cassettes():
            path = os.path.join(self.tmp, name + ".har")
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, ns=(1_000_000_000_000_000_000,) * 2)
            for command in ("record", "replay", "show"):
                with self.subTest(cassette=name, command=command):
                    t0 = time.monotonic()
                    rc, out, err = self.refuse(command, path)
                    lines = [x for x in err.splitlines() if x.strip()]
                    self.assertEqual(rc, 2, "%s: stderr %r" % (name, err))
                    self.assertNotIn("listening on", out)
                    self.assertNotIn("AddressSanitizer", err)
                    self.assertNotIn("runtime error", err)
                    self.assertEqual(len(lines), 1, err[-2000:])
                    self.assertTrue(lines[0].startswith("patchscope: "),
                                    lines[0])
                    self.assertIn(name + ".har", lines[0])
                    self.assertRegex(lines[0], place)
                    self.assertLess(len(lines[0]), 400, "a clear message, "
                                    "not a dump: %r" % lines[0][:500])
                    self.assertLess(time.monotonic() - t0, T(5))
                    st = os.stat(path)
                    self.assertEqual(st.st_mtime_ns,
                                     1_000_000_000_000_000_000,
                                     "the file was rewritten")
                    with open(path, "rb") as f:
                        self.assertEqual(f.read(), data,
                                         "the file was changed")
                    self.assertFalse(os.path.exists(path + ".tmp"))


# --- recording and replaying under attack ------------------------------------

class UnderAttack(Base):

    def attack(self, proxy, origin_url, origin_host, tls_target=None):
        """A volley of bad clients against proxy; each must be refused or cut
        off without disturbing anything else."""
        url = origin_url.encode()
        host = origin_host.encode()
        bad = [
            (b"POST %s/e HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
             "bad_request"),
            (b"GET %s/e HTTP/1.1\r\nHost: %s\r\nX-A: one\r\n two\r\n\r\n",
             400, "bad_request"),
            (b"GET %s/e HTTP/1.1\r\nHost: %s\r\nX-\x00: b\r\n\r\n", 400,
             "bad_request"),
            (b"POST %s/e HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked"
             b"\r\n\r\nffffffffffffffffff\r\n", 400, "bad_request"),
            (b"GET %s/e?" + b"q" * 70000 + b" HTTP/1.1\r\nHost: %s\r\n\r\n",
             431, "headers_too_large"),
        ]
        for tmpl, status, code in bad:
            self.refused(proxy, tmpl % (url, host), status, code)
        # A client that goes away in the middle of an upload.
        c = self.raw(proxy)
        c.send(b"POST %s/upload HTTP/1.1\r\nHost: %s\r\nContent-Length: %d"
               b"\r\n\r\n" % (url, host, 32 * harness.MiB) +
               b"u" * (256 * 1024))
        time.sleep(0.1)
        c.close()
        # TLS garbage and a cut handshake.
        if tls_target:
            t, resp = self.tunnel(proxy, tls_target)
            self.assertEqual(resp.status, 200)
            t.send(b"\x16\x03\x01\xff\xff" + b"\x00" * 64)
            self.assertTrue(t.closed_by_peer(T(3)))
            t, resp = self.tunnel(proxy, tls_target)
            t.send(harness.client_hello("localhost")[:40])
            t.close()
        # A trickler that times out (--header-timeout is short here).
        c = self.raw(proxy)
        c.send(b"GET %s/e HTTP/1.1\r\n" % url)
        self.assert_raw_error(c.read_response(timeout=T(1) + T(3)), 408,
                              "request_timeout")
        self.assertTrue(proxy.alive())

    def load(self, path):
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))

    def test_record_under_attack_keeps_every_normal_exchange(self):
        fake = self.start_fake()
        cassette = os.path.join(self.tmp, "attacked.har")
        rec = self.start_ps("record", "-c", cassette, "--header-timeout",
                            str(T(1)), "--max-body-buffer", "64K")
        fhost = "127.0.0.1:%d" % fake.port
        s = self.session(rec)

        def normal(i):
            if i % 2:
                r = s.post(fake.url + "/_fake/echo?normal=%d" % i,
                           json={"i": i}, timeout=T(10))
            else:
                r = s.get(fake.url + "/_fake/echo?normal=%d" % i,
                          timeout=T(10))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json()["query"], "normal=%d" % i)

        stop = threading.Event()
        bad_reads = []

        def reader():
            # The file on disk is always a complete cassette.
            while not stop.is_set():
                try:
                    self.load(cassette)
                except ValueError as e:
                    bad_reads.append(str(e))
                except OSError:
                    pass
                stop.wait(0.02)
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        self.addCleanup(stop.set)
        n = 0
        for volley in range(2):
            normal(n)
            normal(n + 1)
            n += 2
            self.attack(rec, fake.url, fhost, "localhost:%d" % fake.port)
        normal(n)
        n += 1
        self.assertEqual(fake.stats()["paths"].get("/e"), None,
                         "an attack reached the origin")
        stop.set()
        th.join(T(3))
        self.assertEqual(bad_reads, [], "the cassette was unreadable "
                         "while recording")
        rc = rec.stop(signal.SIGTERM, T(8))
        self.assertEqual(rc, 0, rec.log()[-2000:])
        entries = self.load(cassette)["log"]["entries"]
        normals = [e for e in entries if "normal=" in e["request"]["url"]]
        self.assertEqual([e["request"]["url"] for e in normals],
                         [fake.url + "/_fake/echo?normal=%d" % i
                          for i in range(n)])
        for e in normals:
            self.assertEqual(e["response"]["status"], 200)
            self.assertNotIn("_error", e)
            self.assertNotIn("_answeredBy", e)
        for e in entries:
            if e not in normals:
                self.assertTrue(e.get("_answeredBy") == "patchscope" or
                                e.get("_error"), "an attack was recorded "
                                "as a normal exchange: %r" % e["request"])
        # It loads: show reads it, and replay serves the normal exchanges.
        cp = self.run_ps("show", "--json", cassette)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(len(cp.stdout.splitlines()), len(entries))
        rp = self.start_ps("replay", "-c", cassette)
        c = self.raw(rp)
        c.send(request_bytes("GET", fake.url + "/_fake/echo?normal=0", fhost))
        resp = c.read_response(timeout=T(10))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("x-patchscope-replay"), "hit")
        self.assertEqual(resp.json()["query"], "normal=0")
        self.assertEqual(rp.stop(signal.SIGTERM, T(8)), 0)

    def test_replay_under_attack_answers_and_never_writes(self):
        cassette = os.path.join(self.tmp, "replayed.har")
        doc = har_doc([har_entry("GET", "http://127.0.0.1:9/a/%d" % i,
                                 '{"i": %d}' % i) for i in range(3)])
        data = json.dumps(doc, indent=1).encode()
        with open(cassette, "wb") as f:
            f.write(data)
        os.utime(cassette, ns=(1_000_000_000_000_000_000,) * 2)
        rp = self.start_ps("replay", "-c", cassette, "--header-timeout",
                           str(T(1)), "--max-body-buffer", "4K")

        def hit(i):
            c = self.raw(rp)
            c.send(b"GET /a/%d HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n" % i)
            resp = c.read_response(timeout=T(10))
            self.assertEqual((resp.status, resp.json()), (200, {"i": i}))
            self.assertEqual(resp.header("x-patchscope-replay"), "hit")
            c.close()

        for volley in range(2):
            hit(volley)
            self.attack(rp, "http://127.0.0.1:9", "127.0.0.1:9",
                        "localhost:9")
            # Replay holds whole requests: a body over the buffer is 413.
            self.refused(rp, b"POST /a/0 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                         b"Content-Length: 8192\r\n\r\n" + b"x" * 8192, 413,
                         "body_too_large")
            # Origin-form smuggling shapes too.
            self.refused(rp, b"POST /a/0 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                         b"Transfer-Encoding: chunked\r\nContent-Length: 3"
                         b"\r\n\r\n0\r\n\r\n", 400, "bad_request")
        hit(2)
        self.assertEqual(rp.stop(signal.SIGTERM, T(8)), 0, rp.log()[-2000:])
        with open(cassette, "rb") as f:
            self.assertEqual(f.read(), data, "replay changed its cassette")
        self.assertEqual(os.stat(cassette).st_mtime_ns,
                         1_000_000_000_000_000_000)
        self.assertFalse(os.path.exists(cassette + ".tmp"))


if __name__ == "__main__":
    harness.main()
