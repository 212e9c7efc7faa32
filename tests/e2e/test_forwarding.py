#!/usr/bin/python3
"""Forwarding through `patchscope proxy`: the profile API with curl and
requests, keep-alive and upstream pooling, chunked bodies, HEAD/204/304,
Expect: 100-continue, pipelining, hop-by-hop headers, read-until-close
bodies, concurrency and the per-exchange log line."""

import concurrent.futures
import gzip
import hashlib
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, request_bytes  # noqa: E402

AUTH = ("acc1", "secret-api-key")
PROFILE = "/v1/acc1/profiles/p1"
ALL_FIELDS = "fields=id,title,actions.*"


class Forwarding(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.proxy = self.start_proxy()

    def url(self, path):
        return self.fake.url + path

    def echo_via_curl(self, *args, path="/_fake/echo"):
        cp = self.curl(self.proxy, *args, self.url(path), check=True)
        return json.loads(cp.stdout)

    # --- the profile API with both clients ---------------------------------

    def test_get_profile_with_curl(self):
        cp = self.curl(self.proxy, "-u", "%s:%s" % AUTH, "-w",
                       "\n%{http_code}",
                       self.url(PROFILE + "?" + ALL_FIELDS), check=True)
        body, _, code = cp.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200")
        doc = json.loads(body)
        self.assertEqual(doc["id"], "p1")
        self.assertEqual([a["id"] for a in doc["actions"]],
                         ["act_1", "act_2", "act_3"])
        self.assertEqual(doc["actions"][0]["headers"],
                         {"x-auth-token": "crm-secret-token-1"})
        self.assertEqual(self.fake.stats()["paths"], {PROFILE: 1})

    def test_get_profile_with_requests(self):
        s = self.session(self.proxy)
        r = s.get(self.url(PROFILE), params={"fields": "id,actions.id"},
                  auth=AUTH, timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"id": "p1", "actions": [
            {"id": "act_1"}, {"id": "act_2"}, {"id": "act_3"}]})
        # The account-less URL and the default field set.
        r = s.get(self.url("/v1/profiles/p1"), auth=AUTH, timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertNotIn("actions", r.json())
        self.assertEqual(r.json()["title"], "Discovery call")
        self.assertEqual(self.fake.stats()["requests"], 2)

    def test_origin_errors_pass_through_unchanged(self):
        s = self.session(self.proxy)
        r = s.get(self.url(PROFILE), timeout=T(10))          # no auth
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["code"], "unauthorized")
        self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
        self.assertNotIn("X-Patchscope-Error", r.headers)
        r = s.get(self.url("/v1/acc1/profiles/nope"), auth=AUTH,
                  timeout=T(10))
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["code"], "profile_not_found")
        self.assertNotIn("X-Patchscope-Error", r.headers)

    def test_patch_with_curl(self):
        cp = self.curl(self.proxy, "-u", "%s:%s" % AUTH, "-X", "PATCH",
                       "-H", "Content-Type: application/json",
                       "--data-binary", '{"title": "Intro call"}',
                       "-w", "\n%{http_code}",
                       self.url(PROFILE + "?fields=id,title"), check=True)
        body, _, code = cp.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200", body)
        self.assertEqual(json.loads(body), {"id": "p1", "title": "Intro call"})
        cp = self.curl(self.proxy, "-u", "%s:%s" % AUTH,
                       self.url(PROFILE + "?fields=title"), check=True)
        self.assertEqual(json.loads(cp.stdout), {"title": "Intro call"})

    def test_patch_replaces_the_whole_actions_array(self):
        s = self.session(self.proxy)
        r = s.get(self.url(PROFILE + "?" + ALL_FIELDS), auth=AUTH,
                  timeout=T(10))
        self.assertEqual(r.status_code, 200)
        actions = r.json()["actions"]
        self.assertEqual(len(actions), 3)
        # Send one existing action and one new one: the other two go.
        new_action = {"type": "WEBHOOK", "anchor": "BOOKING_RESCHEDULED",
                      "offsetMinutes": 0, "title": "Rescheduled",
                      "to": "https://crm.example.com/hooks/resched",
                      "subject": "POST", "body": "{\"id\": \"{ID}\"}"}
        r = s.patch(self.url(PROFILE + "?fields=actions.id,actions.anchor"),
                    json={"actions": [actions[0], new_action]}, auth=AUTH,
                    timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["actions"], [
            {"id": "act_1", "anchor": "BOOKING_CREATED"},
            {"id": "act_4", "anchor": "BOOKING_RESCHEDULED"}])
        r = s.get(self.url(PROFILE + "?fields=actions.id"), auth=AUTH,
                  timeout=T(10))
        self.assertEqual([a["id"] for a in r.json()["actions"]],
                         ["act_1", "act_4"])
        # The thread's second cause: CANCELED gets the bare 400.
        bad = dict(actions[2], anchor="BOOKING_CANCELED")
        bad.pop("id")
        r = s.patch(self.url(PROFILE), json={"actions": [bad]}, auth=AUTH,
                    timeout=T(10))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["code"], "caligraph_invalid_payload")
        # The API's list is empty; what fills it is patchscope's (see
        # test_diagnoses.py), e.g. the anchor's right spelling.
        errors = r.json()["errors"]
        self.assertEqual({e["source"] for e in errors}, {"patchscope"})
        self.assertIn("action.anchor.unknown", {e["code"] for e in errors})
        self.assertEqual(self.fake.stats()["requests"], 4)

    # --- keep-alive and pooling --------------------------------------------

    def test_session_reuses_one_upstream_connection(self):
        s = self.session(self.proxy)
        self.fake.reset()
        for i in range(20):
            r = s.get(self.url("/_fake/echo?i=%d" % i), timeout=T(10))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json()["query"], "i=%d" % i)
        for i in range(5):
            r = s.patch(self.url(PROFILE + "?fields=title"), auth=AUTH,
                        json={"title": "t%d" % i}, timeout=T(10))
            self.assertEqual(r.json(), {"title": "t%d" % i})
        st = self.fake.stats()
        self.assertEqual(st["requests"], 25)
        self.assertEqual(st["connections"], 1,
                         "upstream connections used for 25 requests")

    def test_sequential_curls_reuse_the_pooled_upstream_connection(self):
        self.fake.reset()
        for i in range(3):
            cp = self.curl(self.proxy, self.url("/_fake/echo?n=%d" % i),
                           check=True)
            self.assertEqual(json.loads(cp.stdout)["query"], "n=%d" % i)
        st = self.fake.stats()
        self.assertEqual(st["requests"], 3)
        self.assertEqual(st["connections"], 1,
                         "three client connections, one pooled upstream one")

    def test_client_connection_kept_alive(self):
        # One curl, three URLs: curl opens one connection to the proxy.
        cp = self.curl(self.proxy, "-w", "%{num_connects}\n",
                       "-o", "/dev/null", "-o", "/dev/null", "-o",
                       "/dev/null", self.url("/_fake/echo"),
                       self.url("/_fake/status/204"),
                       self.url("/_fake/echo?x"), check=True)
        self.assertEqual(cp.stdout.split(), [b"1", b"0", b"0"])
        # By hand: several requests, one after the other, on one socket.
        c = self.raw(self.proxy)
        for i in range(5):
            c.send(request_bytes("GET", self.url("/_fake/echo?k=%d" % i),
                                 "127.0.0.1:%d" % self.fake.port))
            resp = c.read_response()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.json()["query"], "k=%d" % i)
            self.assertNotIn("close", (resp.header("connection") or "")
                             .lower())

    def test_concurrent_clients(self):
        def one(i):
            s = harness.requests.Session()
            s.trust_env = False
            s.proxies = {"http": self.proxy.url}
            try:
                out = []
                for j in range(4):
                    r = s.get(self.url("/_fake/echo?c=%d&j=%d" % (i, j)),
                              timeout=T(20))
                    out.append((r.status_code, r.json()["query"]))
                return out
            finally:
                s.close()
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            results = list(pool.map(one, range(24)))
        for i, out in enumerate(results):
            self.assertEqual(out, [(200, "c=%d&j=%d" % (i, j))
                                   for j in range(4)])
        st = self.fake.stats()
        self.assertEqual(st["requests"], 96)
        self.assertLessEqual(st["connections"], 24)

    # --- bodies --------------------------------------------------------------

    def test_chunked_request_body_with_curl(self):
        data = os.urandom(300 * 1024)
        path = os.path.join(self.tmp, "body.bin")
        with open(path, "wb") as f:
            f.write(data)
        doc = self.echo_via_curl("-H", "Transfer-Encoding: chunked",
                                 "--data-binary", "@" + path,
                                 path="/_fake/upload")
        self.assertEqual(doc, {"bytes": len(data),
                               "sha256": hashlib.sha256(data).hexdigest()})
        doc = self.echo_via_curl("-H", "Transfer-Encoding: chunked",
                                 "-H", "Content-Type: application/json",
                                 "--data-binary", '{"title": "chunked"}')
        self.assertEqual(doc["method"], "POST")
        self.assertEqual(doc["body"], '{"title": "chunked"}')
        self.assertEqual(doc["body_length"], 20)

    def test_chunked_request_body_with_requests(self):
        s = self.session(self.proxy)
        parts = [b"x" * 1000, b"", b"yz" * 5000, b"end"]
        parts = [p for p in parts if p]     # an empty chunk would end it
        r = s.post(self.url("/_fake/upload"), data=iter(parts),
                   timeout=T(10))
        joined = b"".join(parts)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"bytes": len(joined),
                                    "sha256": hashlib.sha256(joined)
                                    .hexdigest()})
        # A chunked PATCH of the profile, through the real API path.
        body = json.dumps({"title": "via generator"}).encode()
        r = s.patch(self.url(PROFILE + "?fields=title"), auth=AUTH,
                    data=(body[i:i + 5] for i in range(0, len(body), 5)),
                    headers={"Content-Type": "application/json"},
                    timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"title": "via generator"})

    def test_chunked_response_body(self):
        s = self.session(self.proxy)
        r = s.get(self.url("/_fake/chunked?parts=7"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["parts"], 7)
        self.assertEqual([i["n"] for i in r.json()["items"]], list(range(7)))
        n = 3 * 1024 * 1024 + 17
        r = s.get(self.url("/_fake/stream?chunked=1&bytes=%d" % n),
                  timeout=T(20))
        self.assertEqual(len(r.content), n)
        self.assertEqual(hashlib.sha256(r.content).hexdigest(),
                         harness.stream_sha256(n))
        # And curl, on a raw view: valid framing, same bytes.
        cp = self.curl(self.proxy, self.url("/_fake/chunked?parts=3"),
                       check=True)
        self.assertEqual(json.loads(cp.stdout)["parts"], 3)
        # The connection stays usable after a chunked response.
        r = s.get(self.url("/_fake/echo"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.fake.stats()["connections"], 1)

    def test_gzip_body_passes_through_untouched(self):
        cp = self.curl(self.proxy, "-D", "-", "-o",
                       os.path.join(self.tmp, "gz"),
                       self.url("/_fake/gzip"), check=True)
        self.assertRegex(cp.stdout.decode("latin-1"),
                         r"(?im)^content-encoding: gzip\r?$")
        with open(os.path.join(self.tmp, "gz"), "rb") as f:
            doc = json.loads(gzip.decompress(f.read()))
        self.assertEqual(doc["gzip"], True)
        s = self.session(self.proxy)
        r = s.get(self.url("/_fake/gzip"), timeout=T(10))
        self.assertEqual(r.json()["profile"], "p1")

    def test_read_until_close_origin_body(self):
        cp = self.curl(self.proxy, "-w", "\n%{http_code}",
                       self.url("/_fake/eof-body"), check=True)
        body, _, code = cp.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200")
        self.assertEqual(body, b"read until close: the origin sent no length "
                         b"and closed the connection\n")
        n = 2 * 1024 * 1024 + 5
        s = self.session(self.proxy)
        r = s.get(self.url("/_fake/eof-body?bytes=%d" % n), timeout=T(20))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(r.content), n)
        self.assertEqual(hashlib.sha256(r.content).hexdigest(),
                         harness.stream_sha256(n))
        # On a raw socket the body must be delimited somehow: chunked, or
        # the proxy closes after it.  Either way the bytes are all there.
        c = self.raw(self.proxy)
        c.send(request_bytes("GET", self.url("/_fake/eof-body?bytes=1000"),
                             "127.0.0.1:%d" % self.fake.port))
        resp = c.read_response(timeout=T(10))
        self.assertEqual(len(resp.body), 1000)
        self.assert_serves(self.proxy, self.fake)

    def test_empty_and_other_methods(self):
        s = self.session(self.proxy)
        for method in ("DELETE", "PUT", "OPTIONS", "POST"):
            r = s.request(method, self.url("/_fake/echo"),
                          data=b"payload-" + method.encode(), timeout=T(10))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json()["method"], method)
            self.assertEqual(r.json()["body"], "payload-" + method)
        r = s.post(self.url("/_fake/echo"), data=b"", timeout=T(10))
        self.assertEqual(r.json()["body_length"], 0)

    # --- HEAD, 204, 304, 100-continue, pipelining -------------------------------

    def test_head_then_more_requests_on_one_connection(self):
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        c.send(request_bytes("HEAD", self.url("/_fake/stream?bytes=5000"),
                             host))
        resp = c.read_response(head_request=True)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("content-length"), "5000")
        c.send(request_bytes("GET", self.url("/_fake/echo?after=head"), host))
        resp = c.read_response()
        # Had the proxy waited for (or sent) a body after HEAD, this would
        # be body bytes or hang.
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json()["query"], "after=head")
        cp = self.curl(self.proxy, "-I", self.url("/_fake/stream?bytes=77"),
                       check=True)
        self.assertRegex(cp.stdout.decode(), r"(?im)^content-length: 77\r?$")

    def test_204_and_304_have_no_body(self):
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        for code in (204, 304, 204):
            c.send(request_bytes("GET", self.url("/_fake/status/%d" % code),
                                 host))
            resp = c.read_response()
            self.assertEqual(resp.status, code)
            self.assertEqual(resp.body, b"")
        resp_etag = None
        c.send(request_bytes("GET", self.url("/_fake/status/304"), host,
                             [("If-None-Match", '"fake-etag"')]))
        resp = c.read_response()
        resp_etag = resp.header("etag")
        self.assertEqual(resp_etag, '"fake-etag"')
        c.send(request_bytes("GET", self.url("/_fake/echo?after=304"), host))
        resp = c.read_response()
        self.assertEqual(resp.json()["query"], "after=304")
        # Nothing more is waiting on the socket (no stray body bytes).
        self.assertEqual(c.buf, b"")
        s = self.session(self.proxy)
        self.assertEqual(s.get(self.url("/_fake/status/204"),
                               timeout=T(10)).status_code, 204)

    def test_304_with_content_length_has_no_body(self):
        """RFC 9110 8.6: a 304 may carry Content-Length; no body follows,
        and the next request on the connection is answered at once."""
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        c.send(request_bytes("GET", self.url("/_fake/status/304?length=100"),
                             host))
        resp = c.read_response(timeout=T(5))
        self.assertEqual(resp.status, 304)
        self.assertEqual(resp.header("content-length"), "100")
        self.assertEqual(resp.body, b"")
        c.send(request_bytes("GET", self.url("/_fake/echo?after=304cl"), host))
        resp = c.read_response(timeout=T(5))
        self.assertEqual(resp.json()["query"], "after=304cl")

    def test_upgrade_request_is_answered_as_plain_http(self):
        """Upgrade is hop-by-hop: not forwarded, and the connection keeps
        serving HTTP afterwards."""
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        c.send(request_bytes("GET", self.url("/_fake/echo?n=1"), host,
                             [("Connection", "Upgrade"),
                              ("Upgrade", "websocket")]))
        resp = c.read_response(timeout=T(5))
        self.assertEqual(resp.status, 200)
        self.assertNotIn("upgrade", resp.json()["headers"])
        c.send(request_bytes("GET", self.url("/_fake/echo?n=2"), host))
        resp = c.read_response(timeout=T(5))
        self.assertEqual(resp.json()["query"], "n=2")

    def test_interim_responses_are_relayed_and_capped(self):
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        c.send(request_bytes("GET", self.url("/_fake/interim?count=3"), host))
        resp = c.read_response(timeout=T(5))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.interim, [100, 100, 100])
        self.assertEqual(resp.json(), {"interim": True})
        c2 = self.raw(self.proxy)
        c2.send(request_bytes("GET", self.url("/_fake/interim?count=50"),
                              host))
        resp = c2.read_response(timeout=T(5))
        self.assertEqual(resp.status, 502)
        self.assertEqual(resp.header("x-patchscope-error"),
                         "upstream_bad_response")

    def test_expect_100_continue_raw(self):
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        body = b"z" * 100000
        c.send(request_bytes("POST", self.url("/_fake/upload"), host,
                             [("Content-Length", str(len(body))),
                              ("Expect", "100-continue")]))
        status = c.read_interim(T(5))
        self.assertEqual(status, 100, "the client is told to go on")
        c.send(body)
        resp = c.read_response()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json(), {"bytes": len(body), "sha256":
                                       hashlib.sha256(body).hexdigest()})
        # And the connection is still in step.
        c.send(request_bytes("GET", self.url("/_fake/echo?after=100"), host))
        self.assertEqual(c.read_response().json()["query"], "after=100")

    def test_expect_100_continue_curl(self):
        data = os.urandom(2 * 1024 * 1024)
        path = os.path.join(self.tmp, "up.bin")
        with open(path, "wb") as f:
            f.write(data)
        t0 = time.monotonic()
        # curl waits this long for the 100 before sending anyway: a proxy
        # that swallows the 100 makes this take 10 s.
        cp = self.curl(self.proxy, "--expect100-timeout", "10",
                       "-H", "Expect: 100-continue", "--data-binary",
                       "@" + path, self.url("/_fake/upload"), check=True)
        elapsed = time.monotonic() - t0
        self.assertEqual(json.loads(cp.stdout)["sha256"],
                         hashlib.sha256(data).hexdigest())
        self.assertLess(elapsed, T(5))

    def test_pipelined_requests_answered_in_order(self):
        c = self.raw(self.proxy)
        host = "127.0.0.1:%d" % self.fake.port
        reqs = [
            request_bytes("GET", self.url("/_fake/slow?delay=0.3"), host),
            request_bytes("POST", self.url("/_fake/echo?n=2"), host,
                          body=b"second"),
            request_bytes("GET", self.url("/_fake/status/204"), host),
            request_bytes("HEAD", self.url("/_fake/stream?bytes=10"), host),
            request_bytes("GET", self.url("/_fake/chunked?parts=2"), host),
            request_bytes("GET", self.url("/_fake/echo?n=6"), host),
        ]
        c.send(b"".join(reqs))
        r1 = c.read_response()
        self.assertEqual(r1.json(), {"slept": 0.3})
        r2 = c.read_response()
        self.assertEqual((r2.json()["query"], r2.json()["body"]),
                         ("n=2", "second"))
        self.assertEqual(c.read_response().status, 204)
        r4 = c.read_response(head_request=True)
        self.assertEqual(r4.header("content-length"), "10")
        self.assertEqual(c.read_response().json()["parts"], 2)
        self.assertEqual(c.read_response().json()["query"], "n=6")
        self.assertEqual(self.fake.stats()["requests"], 6)

    # --- headers ---------------------------------------------------------------

    def test_hop_by_hop_request_headers_dropped_and_via_added(self):
        doc = self.echo_via_curl(
            "-H", "Connection: keep-alive, X-Drop-Me",
            "-H", "X-Drop-Me: 1",
            "-H", "Proxy-Connection: keep-alive",
            "-H", "Keep-Alive: timeout=5",
            "-H", "TE: trailers",
            "-H", "Trailer: X-Checksum",
            "-H", "Upgrade: websocket",
            "-H", "Proxy-Authorization: Basic Zm9vOmJhcg==",
            "-H", "X-Keep-Me: yes",
            "-H", "Authorization: Basic YWNjMTprZXk=",
            "-H", "Cache-Control: no-cache",
            path="/_fake/echo?hop=1")
        h = doc["headers"]
        for name in ("x-drop-me", "proxy-connection", "keep-alive", "te",
                     "trailer", "upgrade", "proxy-authorization"):
            self.assertNotIn(name, h, "%s reached the origin" % name)
        # The proxy may say keep-alive (or close) for itself, nothing more.
        self.assertIn(h.get("connection", "keep-alive").lower(),
                      ("keep-alive", "close"), h)
        self.assertEqual(h.get("x-keep-me"), "yes")
        self.assertEqual(h.get("authorization"), "Basic YWNjMTprZXk=")
        self.assertEqual(h.get("cache-control"), "no-cache")
        self.assertEqual(h.get("host"), "127.0.0.1:%d" % self.fake.port)
        self.assertEqual(h.get("via"), "1.1 patchscope")
        self.assertEqual(doc["target"], "/_fake/echo?hop=1",
                         "the origin gets origin-form")
        self.assertEqual(doc["version"], "HTTP/1.1")

    def test_via_appended_to_existing(self):
        doc = self.echo_via_curl("-H", "Via: 1.0 corp-proxy")
        self.assertEqual(doc["headers"].get("via"),
                         "1.0 corp-proxy, 1.1 patchscope")

    def test_hop_by_hop_response_headers_dropped(self):
        s = self.session(self.proxy)
        r = s.get(self.url("/_fake/headers"), params=[
            ("Connection", "X-Secret-Hop"), ("X-Secret-Hop", "1"),
            ("Keep-Alive", "timeout=99"), ("Proxy-Connection", "keep-alive"),
            ("Upgrade", "h2c"), ("Trailer", "X-Sum"),
            ("X-End-To-End", "kept")], timeout=T(10))
        self.assertEqual(r.status_code, 200)
        for name in ("X-Secret-Hop", "Keep-Alive", "Proxy-Connection",
                     "Upgrade", "Trailer"):
            self.assertNotIn(name, r.headers, "%s reached the client" % name)
        self.assertNotIn("x-secret-hop",
                         r.headers.get("Connection", "").lower())
        self.assertEqual(r.headers.get("X-End-To-End"), "kept")

    def test_large_headers_under_the_limit_pass(self):
        big = "v" * (40 * 1024)
        doc = self.echo_via_curl("-H", "X-Big: " + big)
        self.assertEqual(doc["headers"]["x-big"], big)

    def test_query_and_path_preserved(self):
        path = "/_fake/echo?b=%20x&a=1&a=2&empty=&plus=a+b&enc=%2F%3F"
        doc = self.echo_via_curl(path=path)
        self.assertEqual(doc["target"], path)

    # --- the log ---------------------------------------------------------------

    def test_one_log_line_per_exchange(self):
        self.curl(self.proxy, self.url("/_fake/echo?logged=1"), check=True)
        self.curl(self.proxy, self.url("/_fake/status/404"))
        pattern = (r"\[#\d+\] GET http://127\.0\.0\.1:%d/_fake/echo\?logged=1"
                   r" -> 200 \(req \d+ B, resp \d+ B, [\d.]+ ms\)"
                   % self.fake.port)
        log = harness.wait_for(
            lambda: re.search(pattern, self.proxy.log()) and
            re.search(r"/_fake/status/404 -> 404", self.proxy.log()) and
            self.proxy.log(), T(3), what="the exchange log lines")
        self.assertEqual(len(re.findall(r"echo\?logged=1 -> ", log)), 1, log)
        self.assertEqual(self.proxy.extra_stdout, b"",
                         "only the listening line goes to stdout")


if __name__ == "__main__":
    harness.main()
