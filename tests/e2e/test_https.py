#!/usr/bin/python3
"""HTTPS through `patchscope proxy` (issue 3): CONNECT and TLS interception
with patchscope's own CA, against the fake profile API served over TLS with
a test CA made at run time (the proxy gets `--upstream-ca` for it).

Clients: curl (-x, HTTPS_PROXY, --cacert), Python requests (verify=,
REQUESTS_CA_BUNDLE), and a shell that ran `eval "$(patchscope env ...)"`
with no further flags (curl, requests, urllib, git, node).  Also: the leaf
certificate patchscope presents (SAN for a DNS name, an IP and the SNI;
issuer, validity, serverAuth, ALPN, cache), keep-alive and pooling inside
tunnels, untrusted upstream certificates (502 upstream_tls) and
--insecure-upstream, --no-intercept, clients that abort the handshake or
reject the certificate, `patchscope ca` and `patchscope env`, the key-file
mode check, CONNECT to a dead port and CONNECT with a bad target."""

import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, cert_info, pem_blocks, parse_env_exports  # noqa: E402

AUTH = ("acc1", "secret-api-key")
PROFILE = "/v1/acc1/profiles/p1"
DAY = 86400
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ENV_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
             "CURL_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
             "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS", "NODE_USE_ENV_PROXY")
BUNDLE_NAMES = ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "GIT_SSL_CAINFO")
TLS_LOG_WORDS = r"(?i)(tls|ssl|handshake|certificate|alert)"


def head_getter(head_text):
    """A name -> value function over a header block curl dumped."""
    headers = {}
    for line in head_text.splitlines()[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    return lambda name: headers.get(name.lower())


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def der_of_pem_file(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class HttpsBase(harness.TestCase):
    """A TLS fake (leaf of self.fake_ca) and a proxy that trusts that CA."""

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake(tls=True)
        self.fport = self.fake.port
        self.proxy = self.start_proxy("--upstream-ca", self.fake_ca.cert)
        self.ca_pem = self.patchscope_ca()

    def furl(self, path, host="127.0.0.1", port=None):
        return "https://%s:%d%s" % (host, port or self.fport, path)

    def assert_logged(self, proxy, method, url, status, extra=""):
        """The proxy logs `[#id] METHOD URL -> STATUS...`."""
        return self.wait_log(proxy, r"\[#\d+\] %s %s -> %d%s" % (
            re.escape(method), re.escape(url), status, extra))

    def get_over(self, t, path, host, extra_headers=()):
        """An origin-form GET on a TLS RawClient inside a tunnel."""
        lines = ["GET %s HTTP/1.1" % path, "Host: %s" % host]
        lines += ["%s: %s" % h for h in extra_headers]
        t.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return t.read_response()

    def log_lines(self, proxy):
        return [line for line in proxy.log().splitlines() if line.strip()]


class Clients(HttpsBase):
    """Real clients through the interception."""

    def test_curl_with_x_to_ip_and_dns_name(self):
        for host in ("127.0.0.1", "localhost"):
            url = self.furl(PROFILE + "?fields=id,actions.id", host)
            cp = self.curl(self.proxy, "--cacert", self.ca_pem,
                           "-u", "%s:%s" % AUTH, "-w", "\n%{http_code}", url)
            self.assertEqual(cp.returncode, 0, "curl %s: %s" % (
                url, cp.stderr.decode("utf-8", "replace")))
            body, _, code = cp.stdout.rpartition(b"\n")
            self.assertEqual(code, b"200", body[:300])
            self.assertEqual(json.loads(body), {"id": "p1", "actions": [
                {"id": "act_1"}, {"id": "act_2"}, {"id": "act_3"}]})
            self.assert_logged(self.proxy, "GET", url, 200)
        # Without credentials the origin's own 401 comes back unchanged.
        status, head, body, rc = self.curl_status(
            self.proxy, self.furl(PROFILE), "--cacert", self.ca_pem)
        self.assertEqual((rc, status), (0, 401), body[:300])
        self.assertIsNone(head_getter(head)("x-patchscope-error"))
        self.assertEqual(self.fake.stats()["paths"].get(PROFILE), 3)
        # Intercepted exchanges are not logged as tunnels.
        self.assertNotRegex(self.proxy.log(), r"CONNECT \S+ -> tunnel")

    def test_curl_patch(self):
        url = self.furl(PROFILE + "?fields=id,title", "localhost")
        cp = self.curl(self.proxy, "--cacert", self.ca_pem,
                       "-u", "%s:%s" % AUTH, "-X", "PATCH",
                       "-H", "Content-Type: application/json",
                       "--data", '{"title": "Renamed over TLS"}',
                       "-w", "\n%{http_code}", url)
        self.assertEqual(cp.returncode, 0, cp.stderr.decode())
        body, _, code = cp.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200", body[:300])
        self.assertEqual(json.loads(body),
                         {"id": "p1", "title": "Renamed over TLS"})
        self.assert_logged(self.proxy, "PATCH", url, 200)
        # The change reached the origin.
        cp = self.curl(self.proxy, "--cacert", self.ca_pem,
                       "-u", "%s:%s" % AUTH, url, check=True)
        self.assertEqual(json.loads(cp.stdout)["title"], "Renamed over TLS")

    def test_curl_with_https_proxy_variable(self):
        for var in ("HTTPS_PROXY", "https_proxy"):
            url = self.furl("/_fake/echo?via=" + var)
            cp = self.curl(None, "--cacert", self.ca_pem, url,
                           env={var: self.proxy.url})
            self.assertEqual(cp.returncode, 0, "%s: %s" % (
                var, cp.stderr.decode("utf-8", "replace")))
            doc = json.loads(cp.stdout)
            self.assertEqual(doc["query"], "via=" + var)
            # origin-form inside the tunnel, Host of the CONNECT target
            self.assertEqual(doc["path"], "/_fake/echo")
            self.assertEqual(doc["headers"]["host"], "127.0.0.1:%d"
                             % self.fport)
            self.assert_logged(self.proxy, "GET", url, 200)

    def test_requests_with_verify(self):
        s = self.https_session(self.proxy, verify=self.ca_pem)
        r = s.get(self.furl(PROFILE), params={"fields": "id,actions.id"},
                  auth=AUTH, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual([a["id"] for a in r.json()["actions"]],
                         ["act_1", "act_2", "act_3"])
        actions = s.get(self.furl(PROFILE + "?fields=actions.*"), auth=AUTH,
                        timeout=T(10)).json()["actions"]
        r = s.patch(self.furl(PROFILE, "localhost"),
                    params={"fields": "id,actions.id"}, auth=AUTH,
                    json={"actions": [actions[1]]}, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json(), {"id": "p1", "actions": [{"id": "act_2"}]})
        self.assert_logged(self.proxy, "PATCH", self.furl(
            PROFILE + "?fields=id%2Cactions.id", "localhost"), 200)
        # The fake's bare 400 for an invalid body comes back unchanged.
        r = s.patch(self.furl(PROFILE), auth=AUTH,
                    json={"actions": [{"id": "act_9"}]}, timeout=T(10))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["code"], "caligraph_invalid_payload")

    def test_requests_with_requests_ca_bundle(self):
        """A separate Python that only has HTTPS_PROXY and
        REQUESTS_CA_BUNDLE in its environment."""
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        code = ("import requests, sys\n"
                "r = requests.get(sys.argv[1], auth=('acc1', 'k'), "
                "timeout=10)\n"
                "print(r.status_code)\nprint(r.text)\n")
        url = self.furl(PROFILE + "?fields=id,title", "localhost")
        cp = subprocess.run(
            [harness.PYTHON, "-c", code, url], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=T(30),
            env=harness.clean_env({"HTTPS_PROXY": self.proxy.url,
                                   "REQUESTS_CA_BUNDLE": self.ca_pem}))
        self.assertEqual(cp.returncode, 0, cp.stderr.decode()[-2000:])
        status, _, body = cp.stdout.decode().partition("\n")
        self.assertEqual(status, "200", body[:300])
        self.assertEqual(json.loads(body)["id"], "p1")
        self.assert_logged(self.proxy, "GET", url, 200)

    def test_streaming_bodies_inside_the_tunnel(self):
        s = self.https_session(self.proxy)
        for chunked in ("0", "1"):
            n = 3 * harness.MiB + 17
            r = s.get(self.furl("/_fake/stream"),
                      params={"bytes": n, "chunked": chunked},
                      timeout=T(30))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(len(r.content), n)
            self.assertEqual(harness.hashlib.sha256(r.content).hexdigest(),
                             harness.stream_sha256(n))
        n = 2 * harness.MiB + 5
        r = s.post(self.furl("/_fake/upload"),
                   data=harness.pattern_source(n), timeout=T(30))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json(), {"bytes": n,
                                    "sha256": harness.stream_sha256(n)})

    def test_limits_apply_inside_the_tunnel(self):
        proxy = self.start_proxy("--upstream-ca", self.fake_ca.cert,
                                 "--max-header-bytes", "2K")
        t = self.tls_tunnel(proxy, "127.0.0.1:%d" % self.fport)
        resp = self.get_over(t, "/_fake/echo", "127.0.0.1:%d" % self.fport,
                             [("X-Pad", "a" * 3000)])
        self.assert_raw_error(resp, 431, "headers_too_large")
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 0)


class KeepAlive(HttpsBase):

    def test_session_uses_one_upstream_connection(self):
        self.fake.reset()
        s = self.https_session(self.proxy)
        for i in range(6):
            r = s.get(self.furl("/_fake/echo"), params={"i": i},
                      timeout=T(10))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json()["query"], "i=%d" % i)
        st = self.fake.stats()
        self.assertEqual(st["requests"], 6, st)
        self.assertEqual(st["connections"], 1,
                         "6 requests in one kept-alive tunnel should use one "
                         "upstream TLS connection: %r" % st)

    def test_client_tunnel_kept_alive(self):
        """Several exchanges on one TLS connection inside one CONNECT."""
        t = self.tls_tunnel(self.proxy, "localhost:%d" % self.fport)
        for i in range(4):
            resp = self.get_over(t, "/_fake/echo?n=%d" % i,
                                 "localhost:%d" % self.fport)
            self.assertEqual(resp.status, 200, resp)
            self.assertNotIn("close",
                             (resp.header("connection") or "").lower())
            self.assertEqual(resp.json()["query"], "n=%d" % i)
        self.assertEqual(self.fake.stats()["connections"], 1)

    def test_pipelined_answers_to_a_client_that_does_not_read(self):
        """Answers of one TLS record each go straight through OpenSSL when
        nothing is queued; once the client's socket is full one of those
        writes cannot finish, and the bufferevent must retry it with the
        same bytes. A client that pipelines 1,000 requests and reads
        nothing for a second (12 MB of answers, more than loopback's socket
        buffers hold: tcp_wmem and tcp_rmem allow 4 + 6 MiB at most) gets
        every answer whole and in order."""
        n, size = 1000, 12000
        path = "/_fake/stream?bytes=%d" % size
        host = "localhost:%d" % self.fport
        t = self.tls_tunnel(self.proxy, host)
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()
        t.send(req * n)
        time.sleep(T(1))
        want = harness.stream_sha256(size)
        for i in range(n):
            resp = t.read_response(timeout=T(30))
            self.assertEqual(resp.status, 200, "answer %d: %r" % (i, resp))
            self.assertEqual(len(resp.body), size, "answer %d" % i)
            self.assertEqual(harness.hashlib.sha256(resp.body).hexdigest(),
                             want, "answer %d" % i)
        self.assertTrue(self.proxy.alive())

    def test_new_upstream_connections_resume_the_tls_session(self):
        """An origin that closes after each answer makes every request
        open a new TLS connection to it; from the second one on, patchscope
        offers the session the origin gave it and the origin resumes it
        (the fake counts resumed handshakes; the debug log says which)."""
        proxy = self.start_proxy("--upstream-ca", self.fake_ca.cert, "-v")
        self.fake.reset()
        s = self.https_session(proxy)
        for i in range(3):
            r = s.get(self.furl("/_fake/headers"),
                      params={"Connection": "close", "i": i}, timeout=T(10))
            self.assertEqual(r.status_code, 200)
        st = self.fake.stats()
        self.assertEqual(st["connections"], 3, st)
        self.assertEqual(st["resumed"], 2, st)
        self.wait_log(proxy, r"TLS with 127\.0\.0\.1:%d: full handshake"
                      % self.fport)
        self.assertEqual(len(re.findall(
            r"TLS with 127\.0\.0\.1:%d: session resumed" % self.fport,
            proxy.log())), 2, proxy.log())

    def test_client_resumes_its_tls_session_with_patchscope(self):
        """A client that kept the session of its first tunnel resumes it in
        the next one (a TLS 1.3 ticket from patchscope's one server
        context) and is answered as before."""
        host = "localhost:%d" % self.fport
        ctx = harness.tls_context(self.ca_pem)
        session = None
        for i in range(3):
            c, resp = self.tunnel(self.proxy, host)
            self.assertEqual(resp.status, 200, resp)
            c.sock.settimeout(T(10))
            tls = ctx.wrap_socket(c.sock, server_hostname="localhost",
                                  session=session)
            t = harness.RawClient.over(tls, T(10))
            answer = self.get_over(t, "/_fake/echo?n=%d" % i, host)
            self.assertEqual(answer.status, 200, answer)
            self.assertEqual(answer.json()["query"], "n=%d" % i)
            self.assertEqual(tls.session_reused, i > 0, "tunnel %d" % i)
            session = tls.session
            t.close()

    def test_sequential_tunnels_reuse_the_pooled_upstream_connection(self):
        self.fake.reset()
        for i in range(3):
            status, head, body, rc = self.curl_status(
                self.proxy, self.furl("/_fake/echo?seq=%d" % i),
                "--cacert", self.ca_pem)
            self.assertEqual((rc, status), (0, 200), body[:300])
        st = self.fake.stats()
        self.assertEqual(st["requests"], 3, st)
        self.assertEqual(st["connections"], 1,
                         "upstream TLS connections should be pooled across "
                         "tunnels as for plain HTTP: %r" % st)


class Leaf(HttpsBase):
    """The certificate patchscope presents inside a tunnel."""

    def check_leaf(self, der, want_san):
        info = cert_info(der)
        ca = cert_info(self.ca_pem)
        self.assertIn(want_san, info["san"], info["text"])
        self.assertEqual(info["issuer"], ca["subject"])
        self.assertNotEqual(info["subject"], ca["subject"])
        self.assertIn("TLS Web Server Authentication", info["eku"],
                      "serverAuth in the EKU")
        self.assertNotEqual(info["basic_constraints"], "CA:TRUE")
        now = time.time()
        self.assertLessEqual(info["not_before"], now + 60)
        self.assertGreater(info["not_after"], now + DAY)
        self.assertLess(info["not_after"] - info["not_before"], 398 * DAY,
                        "validity must stay under 398 days")
        self.assertEqual(info["curve"], "prime256v1",
                         "leaf keys are ECDSA P-256: %s" % info["public_key"])
        self.assertNotEqual(info["serial"], ca["serial"])
        return info

    def test_leaf_for_dns_name(self):
        target = "localhost:%d" % self.fport
        # Verified against patchscope's CA, with host name checking.
        t = self.tls_tunnel(self.proxy, target)
        self.assertEqual(t.sock.selected_alpn_protocol(), "http/1.1")
        info = self.check_leaf(t.sock.getpeercert(binary_form=True),
                               "DNS:localhost")
        resp = self.get_over(t, "/_fake/echo?leaf=dns", target)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["query"], "leaf=dns")
        self.assert_logged(self.proxy, "GET",
                           "https://%s/_fake/echo?leaf=dns" % target, 200)
        # Without SNI the leaf is for the CONNECT host.
        t2 = self.tls_tunnel(self.proxy, target, sni=False)
        info2 = cert_info(t2.sock.getpeercert(binary_form=True))
        self.assertIn("DNS:localhost", info2["san"])
        # Minted once per host and cached: the same leaf again.
        self.assertEqual(info2["serial"], info["serial"])

    def test_leaf_for_ip_address(self):
        target = "127.0.0.1:%d" % self.fport
        # Python sends no SNI for an IP; the leaf follows the CONNECT host.
        t = self.tls_tunnel(self.proxy, target)
        info = self.check_leaf(t.sock.getpeercert(binary_form=True),
                               "IP:127.0.0.1")
        self.assertEqual(t.sock.selected_alpn_protocol(), "http/1.1")
        resp = self.get_over(t, "/_fake/echo?leaf=ip", target)
        self.assertEqual(resp.status, 200, resp)
        # A different host gets a different leaf (random serials).
        t2 = self.tls_tunnel(self.proxy, "localhost:%d" % self.fport)
        other = cert_info(t2.sock.getpeercert(binary_form=True))
        self.assertNotEqual(other["serial"], info["serial"])

    def test_leaf_follows_sni(self):
        """CONNECT 127.0.0.1 but SNI profiles.test: the leaf is for the SNI
        name (the handshake checks it); the request still goes to the
        CONNECT target."""
        target = "127.0.0.1:%d" % self.fport
        t = self.tls_tunnel(self.proxy, target,
                            server_hostname="profiles.test")
        self.check_leaf(t.sock.getpeercert(binary_form=True),
                        "DNS:profiles.test")
        # (Host names the CONNECT target: which Host values patchscope
        # accepts inside a tunnel is not what this test is about.)
        resp = self.get_over(t, "/_fake/echo?sni=1", target)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["query"], "sni=1")
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 1)

    def test_ca_certificate(self):
        info = cert_info(self.ca_pem)
        self.assertEqual(info["basic_constraints"], "CA:TRUE")
        self.assertTrue(info["basic_constraints_critical"],
                        "basicConstraints CA:TRUE must be critical")
        self.assertIn("Certificate Sign", info["key_usage"] or "")
        self.assertIsNotNone(info["ski"], "subject key identifier")
        self.assertEqual(info["subject"], info["issuer"])
        self.assertIn("patchscope", info["subject"].lower(),
                      "the CA's name tells a person what it is")


class UpstreamTrust(HttpsBase):

    def curl_error(self, proxy, url):
        status, head, body, rc = self.curl_status(proxy, url,
                                                  "--cacert", self.ca_pem)
        self.assertEqual(rc, 0, "curl should get patchscope's answer inside "
                         "the tunnel; exit %d" % rc)
        return self.assert_proxy_error(status, head_getter(head), body,
                                       502, "upstream_tls")

    def test_untrusted_upstream_certificate_gives_502(self):
        bad = self.start_fake(tls=True, ca=self.untrusted_ca)
        url = "https://127.0.0.1:%d/_fake/echo?untrusted" % bad.port
        doc = self.curl_error(self.proxy, url)
        msg = doc["message"]
        self.assertRegex(msg, r"(?i)certificate", msg)
        self.assertRegex(msg, r"(?i)(not trusted|untrusted|verif)", msg)
        self.assertRegex(msg, r"(?i)(issuer|unable to get|unknown ca|"
                         r"self.signed)", "the message says why: %r" % msg)
        self.assertEqual(bad.stats()["requests"], 0)
        self.assert_logged(self.proxy, "GET", url, 502, r" upstream_tls")
        # Others are still served.
        status, head, body, rc = self.curl_status(
            self.proxy, self.furl("/_fake/echo"), "--cacert", self.ca_pem)
        self.assertEqual((rc, status), (0, 200))

    def test_upstream_hostname_mismatch_gives_502(self):
        other = self.start_fake(tls=True, sans=("DNS:elsewhere.test",))
        url = "https://127.0.0.1:%d/_fake/echo" % other.port
        doc = self.curl_error(self.proxy, url)
        self.assertRegex(doc["message"], r"(?i)(host ?name|mismatch|match)",
                         doc["message"])
        self.assertEqual(other.stats()["requests"], 0)

    def test_insecure_upstream(self):
        bad = self.start_fake(tls=True, ca=self.untrusted_ca)
        proxy = self.start_proxy("--insecure-upstream")
        # Loudly: a warning at start, before any traffic.
        self.wait_log(proxy, r"(?i)(insecure|not (be )?verif|"
                      r"verification.*(off|disabled))")
        url = "https://127.0.0.1:%d/_fake/echo?insecure=1" % bad.port
        status, head, body, rc = self.curl_status(proxy, url,
                                                  "--cacert", self.ca_pem)
        self.assertEqual((rc, status), (0, 200), body[:300])
        self.assertEqual(json.loads(body)["query"], "insecure=1")
        self.assert_logged(proxy, "GET", url, 200)


class NoIntercept(HttpsBase):

    def test_no_intercept_tunnels_bytes(self):
        proxy = self.start_proxy("--upstream-ca", self.fake_ca.cert,
                                 "--no-intercept", "nothing.test,127.0.0.1",
                                 "--no-intercept", "other.test")
        target = "127.0.0.1:%d" % self.fport
        # Verified against the TEST CA only: the fake's own certificate.
        t = self.tls_tunnel(proxy, target, cafile=self.fake_ca.cert)
        der = t.sock.getpeercert(binary_form=True)
        self.assertEqual(der, der_of_pem_file(self.fake.cert),
                         "the client sees the origin's own certificate")
        self.assertEqual(cert_info(der)["issuer"],
                         cert_info(self.fake_ca.cert)["subject"])
        resp = self.get_over(t, "/_fake/echo?tunnel=1", target)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["query"], "tunnel=1")
        self.assertNotIn("via", resp.json()["headers"],
                         "bytes pass untouched, no Via added")
        t.close()
        m = self.wait_log(proxy, r"\[#\d+\] CONNECT %s -> tunnel "
                          r"\(not intercepted\) \(up (\d+) B, down (\d+) B, "
                          r"[\d.]+ ms\)" % re.escape(target))
        self.assertGreater(int(m.group(1)), 0)
        self.assertGreater(int(m.group(2)), 0)
        self.assertNotRegex(proxy.log(), r"GET https://%s/"
                            % re.escape(target))
        # curl trusting only the TEST CA works through it too.
        status, head, body, rc = self.curl_status(
            proxy, self.furl(PROFILE), "-u", "%s:%s" % AUTH,
            "--cacert", self.fake_ca.cert)
        self.assertEqual((rc, status), (0, 200), body[:300])
        self.assertEqual(self.fake.stats()["paths"].get("/_fake/echo"), 1)
        # Hosts not listed are still intercepted by the same proxy.
        t2 = self.tls_tunnel(proxy, "localhost:%d" % self.fport)
        self.assertEqual(cert_info(t2.sock.getpeercert(binary_form=True))
                         ["issuer"], cert_info(self.ca_pem)["subject"])

    def test_no_intercept_dead_port_answers_502_to_connect(self):
        proxy = self.start_proxy("--no-intercept", "127.0.0.1")
        dead = harness.free_port()
        c, resp = self.tunnel(proxy, "127.0.0.1:%d" % dead)
        self.assert_raw_error(resp, 502, "upstream_unreachable")


class Failures(HttpsBase):

    def test_connect_to_dead_port_gives_502_inside_the_tunnel(self):
        dead = harness.free_port()
        target = "127.0.0.1:%d" % dead
        t = self.tls_tunnel(self.proxy, target)
        resp = self.get_over(t, "/x", target)
        self.assert_raw_error(resp, 502, "upstream_unreachable")
        self.assert_logged(self.proxy, "GET", "https://%s/x" % target, 502,
                           r" upstream_unreachable")
        status, head, body, rc = self.curl_status(
            self.proxy, "https://%s/y" % target, "--cacert", self.ca_pem)
        self.assertEqual((rc, status), (0, 502), body[:300])
        self.assertEqual(head_getter(head)("x-patchscope-error"),
                         "upstream_unreachable")

    def test_connect_bad_target_gives_400(self):
        for target in ("127.0.0.1", ":443", "127.0.0.1:https",
                       "127.0.0.1:99999"):
            c, resp = self.tunnel(self.proxy, target)
            try:
                self.assert_raw_error(resp, 400, "bad_request")
            except AssertionError as e:
                raise AssertionError("CONNECT %s: %s" % (target, e))
        self.assertEqual(self.fake.stats()["accepted"], 1)   # stats only

    def test_aborted_handshakes_do_not_disturb_others(self):
        s = self.https_session(self.proxy)
        r = s.get(self.furl("/_fake/echo?before"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        target = "127.0.0.1:%d" % self.fport

        def aborts(what, action):
            before = len(self.log_lines(self.proxy))
            action()
            try:
                harness.wait_for(lambda: len(self.log_lines(self.proxy))
                                 > before, T(5))
            except AssertionError:
                self.fail("no log line for a client that %s; log:\n%s"
                          % (what, self.proxy.log()[-2000:]))
            new = "\n".join(self.log_lines(self.proxy)[before:])
            self.assertRegex(new, TLS_LOG_WORDS + "|" + re.escape(target),
                             "the line says what happened (%s)" % what)
            self.assertTrue(self.proxy.alive(), "patchscope died (%s)" % what)

        def garbage():
            c, resp = self.tunnel(self.proxy, target)
            self.assertEqual(resp.status, 200)
            c.send(b"GET / HTTP/1.1\r\nHost: not-tls\r\n\r\n")
            self.assertTrue(c.closed_by_peer(T(5)),
                            "patchscope closes a client that does not "
                            "speak TLS after CONNECT")

        def half_hello():
            c, resp = self.tunnel(self.proxy, target)
            self.assertEqual(resp.status, 200)
            c.send(harness.client_hello("localhost")[:60])
            time.sleep(0.1)
            c.close()

        def close_at_once():
            c, resp = self.tunnel(self.proxy, target)
            self.assertEqual(resp.status, 200)
            c.close()

        def rejects_certificate():
            # curl with only the system store: patchscope's CA is unknown.
            cp = self.curl(self.proxy, self.furl("/_fake/echo?rejected"))
            self.assertEqual(cp.returncode, 60, cp.stderr.decode())

        aborts("sent plain HTTP instead of TLS", garbage)
        aborts("sent half a ClientHello and closed", half_hello)
        aborts("closed right after CONNECT", close_at_once)
        aborts("rejected the certificate", rejects_certificate)

        # The kept-alive session and new clients are served.
        r = s.get(self.furl("/_fake/echo?after"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        status, head, body, rc = self.curl_status(
            self.proxy, self.furl("/_fake/echo?new"), "--cacert", self.ca_pem)
        self.assertEqual((rc, status), (0, 200))
        paths = self.fake.stats()["paths"]
        self.assertEqual(paths.get("/_fake/echo"), 3, paths)


class EnvCommand(HttpsBase):
    """`patchscope env` and a shell that evaluated it."""

    def env_output(self, ca_dir, listen=None):
        args = ["env"] + (["--listen", listen] if listen else []) + \
            ["--ca-dir", ca_dir]
        cp = self.run_ps(*args)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        try:
            return parse_env_exports(cp.stdout), cp.stdout
        except AssertionError as e:
            self.fail("patchscope env: %s; output:\n%s" % (e, cp.stdout))

    def check_env(self, ca_dir, exports, listen):
        for name in ENV_NAMES:
            self.assertIn(name, exports, "patchscope env must set " + name)
        for name in exports:
            self.assertNotIn(name.lower(), ("no_proxy",),
                             "patchscope env must not set NO_PROXY")
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                     "https_proxy"):
            self.assertEqual(exports[name], "http://" + listen, name)
        bundle = os.path.join(ca_dir, "bundle.pem")
        for name in BUNDLE_NAMES:
            self.assertEqual(os.path.realpath(exports[name]),
                             os.path.realpath(bundle), name)
        self.assertEqual(os.path.realpath(exports["NODE_EXTRA_CA_CERTS"]),
                         os.path.realpath(os.path.join(ca_dir, "ca.pem")))
        self.assertEqual(exports["NODE_USE_ENV_PROXY"], "1")

    def test_env_output(self):
        ca_dir = os.path.join(self.tmp, "env-ca")       # does not exist yet
        exports, text = self.env_output(ca_dir, "127.0.0.1:18443")
        self.assertNotRegex(text, r"(?i)no_proxy")
        self.check_env(ca_dir, exports, "127.0.0.1:18443")
        # The CA was created, with the modes of the SPEC.
        ca_pem = os.path.join(ca_dir, "ca.pem")
        self.assertEqual(mode_of(ca_dir), 0o700)
        self.assertEqual(mode_of(os.path.join(ca_dir, "ca-key.pem")), 0o600)
        self.assertEqual(os.path.realpath(self.patchscope_ca(ca_dir)),
                         os.path.realpath(ca_pem))
        # bundle.pem = the system trust store + the CA.
        with open(os.path.join(ca_dir, "bundle.pem")) as f:
            bundle = pem_blocks(f.read())
        with open(ca_pem) as f:
            ca_blocks = pem_blocks(f.read())
        self.assertEqual(len(ca_blocks), 1)
        self.assertIn(ca_blocks[0], bundle, "bundle.pem holds the CA")
        if os.path.exists(SYSTEM_BUNDLE):
            with open(SYSTEM_BUNDLE) as f:
                system = pem_blocks(f.read())
            missing = [b for b in system if b not in bundle]
            self.assertFalse(missing, "bundle.pem lacks %d of the %d system "
                             "certificates" % (len(missing), len(system)))
        else:
            self.assertGreater(len(bundle), 1, "system certificates")
        # Default listen address.
        exports, _ = self.env_output(ca_dir)
        self.assertEqual(exports["HTTPS_PROXY"], "http://127.0.0.1:8080")
        self.assertEqual(exports["http_proxy"], "http://127.0.0.1:8080")

    def test_env_values_are_shell_quoted(self):
        ca_dir = os.path.join(self.tmp, "it's a $HOME `dir` \"x\"")
        exports, text = self.env_output(ca_dir, "127.0.0.1:18443")
        self.check_env(ca_dir, exports, "127.0.0.1:18443")
        # What a shell makes of it is exactly these values.
        cp = subprocess.run(
            ["bash", "-c", 'eval "$1" && env -0', "sh", text],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=harness.clean_env(), timeout=T(10))
        self.assertEqual(cp.returncode, 0, cp.stderr.decode())
        got = dict(item.split("=", 1) for item in
                   cp.stdout.decode().split("\0") if "=" in item)
        for name in ENV_NAMES:
            self.assertEqual(got.get(name), exports[name], name)
        self.assertTrue(os.path.isfile(got["CURL_CA_BUNDLE"]))

    def env_shell(self, command, extra_env=None, timeout=None):
        """bash: eval "$(patchscope env ...)", then command."""
        script = ('eval "$("$PS_BIN" env --listen "$PS_LISTEN" '
                  '--ca-dir "$PS_CA_DIR")" || exit 99\n' + command)
        env = {"PS_BIN": harness.PATCHSCOPE,
               "PS_LISTEN": "127.0.0.1:%d" % self.proxy.port,
               "PS_CA_DIR": self.ps_home, "PYTHON": harness.PYTHON}
        env.update(extra_env or {})
        cp = subprocess.run(["bash", "-c", script], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=harness.clean_env(env),
                            timeout=timeout or T(30), cwd=self.tmp)
        self.assertNotEqual(cp.returncode, 99, "eval of patchscope env "
                            "failed: %s" % cp.stderr.decode())
        return cp

    def test_shell_after_eval_curl_and_python(self):
        if harness.CURL is None:
            self.skipTest("curl is not installed")
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        url = self.furl(PROFILE + "?fields=id,title")
        cp = self.env_shell('curl -sS -u acc1:k "%s"' % url)
        self.assertEqual(cp.returncode, 0, cp.stderr.decode())
        self.assertEqual(json.loads(cp.stdout)["id"], "p1")
        self.assert_logged(self.proxy, "GET", url, 200)

        url = self.furl("/_fake/echo?client=requests", "localhost")
        cp = self.env_shell('"$PYTHON" -c \'import requests, sys; '
                            'r = requests.get(sys.argv[1], timeout=10); '
                            'print(r.status_code); print(r.text)\' "%s"'
                            % url)
        self.assertEqual(cp.returncode, 0, cp.stderr.decode()[-2000:])
        status, _, body = cp.stdout.decode().partition("\n")
        self.assertEqual(status, "200", body[:300])
        self.assertEqual(json.loads(body)["query"], "client=requests")
        self.assert_logged(self.proxy, "GET", url, 200)

        # urllib: https_proxy, and SSL_CERT_FILE through OpenSSL's defaults.
        url = self.furl("/_fake/echo?client=urllib")
        cp = self.env_shell('"$PYTHON" -c \'import sys, urllib.request; '
                            'r = urllib.request.urlopen(sys.argv[1], '
                            'timeout=10); print(r.status)\' "%s"' % url)
        self.assertEqual(cp.returncode, 0, cp.stderr.decode()[-2000:])
        self.assertEqual(cp.stdout.decode().strip(), "200")
        self.assert_logged(self.proxy, "GET", url, 200)

    def test_shell_after_eval_git(self):
        if shutil.which("git") is None:
            self.skipTest("git is not installed")
        home = os.path.join(self.tmp, "git-home")
        os.mkdir(home)
        url = self.furl("/x.git")
        cp = self.env_shell('git ls-remote "%s"' % url,
                            {"HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
                             "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
        err = cp.stderr.decode("utf-8", "replace")
        self.assertNotEqual(cp.returncode, 0, "the fake has no git repo")
        self.assertNotIn("SSL certificate problem", err)
        self.assertNotRegex(err, r"(?i)(ssl|tls|certificate)")
        self.assertRegex(err, r"(?i)(not found|404|repository)", err)
        self.wait_log(self.proxy, r"GET %s/info/refs\S* -> 404"
                      % re.escape(url))

    def test_shell_after_eval_node(self):
        """Node (NODE_EXTRA_CA_CERTS) through a CONNECT it makes itself,
        with the proxy address from HTTPS_PROXY."""
        if shutil.which("node") is None:
            self.skipTest("node is not installed")
        script = os.path.join(self.tmp, "connect.js")
        with open(script, "w") as f:
            f.write(NODE_CLIENT)
        target = "localhost:%d" % self.fport
        cp = self.env_shell('node "%s" "%s"' % (script, target))
        self.assertEqual(cp.returncode, 0, cp.stderr.decode())
        out = cp.stdout.decode("utf-8", "replace")
        self.assertRegex(out, r"^HTTP/1\.1 200", out[:300])
        self.assertIn('"node=1"', out)
        self.assert_logged(self.proxy, "GET",
                           "https://%s/_fake/echo?node=1" % target, 200)


NODE_CLIENT = r"""
const http = require('http'), tls = require('tls');
const proxy = new URL(process.env.HTTPS_PROXY);
const target = process.argv[2];
const host = target.replace(/:\d+$/, '');
const req = http.request({host: proxy.hostname, port: proxy.port,
                          method: 'CONNECT', path: target,
                          headers: {host: target}});
req.on('connect', (res, socket) => {
  if (res.statusCode !== 200) {
    console.error('CONNECT answered ' + res.statusCode); process.exit(3);
  }
  const t = tls.connect({socket, servername: host,
                         ALPNProtocols: ['http/1.1']}, () => {
    t.write('GET /_fake/echo?node=1 HTTP/1.1\r\nHost: ' + target +
            '\r\nConnection: close\r\n\r\n');
  });
  let data = '';
  t.on('data', d => { data += d; });
  t.on('end', () => { process.stdout.write(data); process.exit(0); });
  t.on('error', e => { console.error('TLS: ' + e.message); process.exit(4); });
});
req.on('error', e => { console.error(e.message); process.exit(5); });
req.end();
"""


class CaCommand(harness.TestCase):
    """`patchscope ca` and the key-file check (no proxy needed)."""

    def test_ca_creates_directory_and_files(self):
        d = os.path.join(self.tmp, "fresh-ca")
        cp = self.run_ps("ca", "--dir", d)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout.splitlines(), [os.path.join(d, "ca.pem")])
        self.assertEqual(mode_of(d), 0o700, "CA directory mode")
        key = os.path.join(d, "ca-key.pem")
        ca = os.path.join(d, "ca.pem")
        self.assertEqual(mode_of(key), 0o600, "CA key mode")
        info = cert_info(ca)
        self.assertEqual(info["basic_constraints"], "CA:TRUE")
        # The key belongs to the certificate.
        pub_cert = harness._openssl(["x509", "-in", ca, "-noout", "-pubkey"])
        pub_key = harness._openssl(["pkey", "-in", key, "-pubout"])
        self.assertEqual(pub_cert, pub_key)
        with open(ca, "rb") as f:
            first = f.read()
        # Again: the same CA, not a new one.
        cp = self.run_ps("ca", "--dir", d)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout.strip(), ca)
        with open(ca, "rb") as f:
            self.assertEqual(f.read(), first, "ca.pem must not be remade")

    def test_ca_default_directories(self):
        home = os.path.join(self.tmp, "ps-home")
        cp = self.run_ps("ca", env={"PATCHSCOPE_HOME": home})
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout.strip(), os.path.join(home, "ca.pem"))
        user = os.path.join(self.tmp, "user-home")
        os.mkdir(user)
        cp = self.run_ps("ca", env={"PATCHSCOPE_HOME": None, "HOME": user})
        self.assertEqual(cp.returncode, 0, cp.stderr)
        want = os.path.join(user, ".patchscope", "ca.pem")
        self.assertEqual(cp.stdout.strip(), want)
        self.assertTrue(os.path.isfile(want))
        self.assertEqual(mode_of(os.path.dirname(want)), 0o700)

    def assert_refuses(self, argv, what):
        try:
            cp = subprocess.run(
                [harness.PATCHSCOPE] + argv, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=harness.clean_env({"PATCHSCOPE_HOME": self.ps_home}),
                timeout=T(5))
        except subprocess.TimeoutExpired:
            self.fail("%s kept running with a world-readable CA key" % what)
        err = cp.stderr.decode("utf-8", "replace")
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 2, "%s: exit %d, stderr %r"
                         % (what, cp.returncode, err))
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertTrue(lines and lines[-1].startswith("patchscope: "), err)
        self.assertIn("chmod", err, "%s: the message says how to fix it"
                      % what)
        self.assertNotIn("listening on", out)
        return err

    def test_readable_key_is_refused(self):
        d = os.path.join(self.tmp, "leaky-ca")
        ca = self.patchscope_ca(d)
        key = os.path.join(d, "ca-key.pem")
        os.chmod(key, 0o644)
        err = self.assert_refuses(["ca", "--dir", d], "patchscope ca")
        self.assertIn("ca-key.pem", err)
        self.assert_refuses(["proxy", "--listen", "127.0.0.1:0",
                             "--ca-dir", d], "patchscope proxy --ca-dir")
        self.assertEqual(mode_of(key), 0o644, "the key is left alone")
        # Fixed as told: it works again, with the same CA.
        with open(ca, "rb") as f:
            before = f.read()
        os.chmod(key, 0o600)
        self.assertEqual(self.patchscope_ca(d), ca)
        with open(ca, "rb") as f:
            self.assertEqual(f.read(), before)


if __name__ == "__main__":
    harness.main()
