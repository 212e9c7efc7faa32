#!/usr/bin/python3
"""Clients through the real binary (issue 13, items 4, 5, 6 and 8's Java).

`--resolve HOST:PORT=ADDR:PORT`: curl and Python requests, with only the
variables `patchscope env` prints, ask for https://api.youcanbook.me and
http://api.youcanbook.me while the fake API answers on 127.0.0.1; the fake
sees the name in Host, a TLS origin of the test's own sees it as SNI, two
mappings of one name on two ports never share a connection; `record`
writes the real name to the cassette, `drift` and `replay --fallback=proxy`
follow the mapping too; malformed values stop every command before it
starts (one line naming the value, exit 2).

Clients that only take the environment: Java 17 runs the documented
example tests/examples/ProfileClient.java (HttpClient over HTTPS, the JKS
trust store patchscope writes), Go (Debian's golang-go) with --resolve,
Node 20 (fetch() ignores the proxy variables there; NODE_EXTRA_CA_CERTS
makes a tunnel opened by hand trusted), git ls-remote through the proxy
(and the failures without the CA or without the proxy).

`doctor` is tested in test_doctor.py.
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AUTH, PROFILE, T  # noqa: E402

API = "api.youcanbook.me"
EXAMPLES = os.path.join(harness.SRCDIR, "tests", "examples")
JAVA = shutil.which("java")
GO = shutil.which("go")
NODE = shutil.which("node")
GIT = shutil.which("git")
SANITIZER_WORDS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def node_env_proxy(version):
    """Does this Node's fetch() honour NODE_USE_ENV_PROXY (Node's docs:
    from 22.21.0 and 24.0.0)?"""
    m = re.match(r"v?(\d+)\.(\d+)", version)
    major, minor = int(m.group(1)), int(m.group(2))
    return major >= 24 or (major == 22 and minor >= 21)


class SniOrigin:
    """A TLS origin that records, per request, the SNI name the client
    sent and its Host header, and answers 200 with them as JSON."""

    def __init__(self, cert, key):
        self.seen = []
        self._names = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.sni_callback = self._sni
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _sni(self, sslobj, name, ctx):
        self._names.append(name)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.settimeout(T(10))
                tls = self.ctx.wrap_socket(conn, server_side=True)
                sni = self._names[-1] if self._names else None
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = tls.recv(4096)
                    if not data:
                        break
                    head += data
                lines = head.decode("latin-1").split("\r\n")
                host = next((v.strip() for n, _, v in
                             (x.partition(":") for x in lines[1:])
                             if n.lower() == "host"), None)
                seen = {"sni": sni, "host": host,
                        "target": lines[0].split(" ")[1]}
                self.seen.append(seen)
                body = json.dumps(seen).encode()
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: "
                            b"application/json\r\nConnection: close\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(body) + body)
                tls.close()
            except (OSError, ssl.SSLError, IndexError):
                conn.close()

    def close(self):
        self.sock.close()


class ClientCase(harness.TestCase):

    def api_fake(self):
        """The fake API with a certificate for api.youcanbook.me alone."""
        return self.start_fake(tls=True, sans=("DNS:" + API,))

    def resolving_proxy(self, fake, *args, command="proxy"):
        return self.start_ps(command, "--upstream-ca", self.fake_ca.cert,
                             "--resolve", "%s:443=127.0.0.1:%d"
                             % (API, fake.port), *args)

    def env_for(self, proxy):
        """The environment `patchscope env` prints for proxy, and PATH."""
        cp = self.run_ps("env", "--listen", "127.0.0.1:%d" % proxy.port)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        return harness.clean_env(harness.parse_env_exports(cp.stdout))

    def run_client(self, argv, env, cwd=None, timeout=60):
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd or self.tmp, timeout=T(timeout))
        cp.stdout = cp.stdout.decode("utf-8", "replace")
        cp.stderr = cp.stderr.decode("utf-8", "replace")
        return cp

    def curl_env(self, env, url, *args):
        if harness.CURL is None:
            self.skipTest("curl is not installed (Debian package curl)")
        cp = self.run_client([harness.CURL, "-sS", "--max-time", "20"] +
                             list(args) + [url], env)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        return cp.stdout

    def assert_one_line_error(self, cp, *words):
        self.assertEqual(cp.returncode, 2, "stdout %r stderr %r"
                         % (cp.stdout, cp.stderr))
        lines = [line for line in cp.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, cp.stderr)
        for w in words:
            self.assertIn(w, lines[0])
        self.assertEqual(cp.stdout, "")


class Resolve(ClientCase):

    def test_curl_and_requests_keep_the_name_over_https_and_http(self):
        fake = self.api_fake()
        plain = self.start_fake()
        cert, key = self.fake_ca.leaf("sni", sans=("DNS:" + API,))
        sni = SniOrigin(cert, key)
        self.addCleanup(sni.close)
        dead = harness.free_port()
        proxy = self.resolving_proxy(
            fake, "--resolve", "%s:80=127.0.0.1:%d" % (API, plain.port),
            "--resolve", "%s:8443=127.0.0.1:%d" % (API, sni.port),
            "--resolve", "%s:9443=127.0.0.1:%d" % (API, dead))
        self.wait_log(proxy, r"--resolve: connections to %s:443 -> "
                      r"127\.0\.0\.1:%d" % (re.escape(API), fake.port))
        self.wait_log(proxy, r"--resolve: connections to %s:8443 -> "
                      r"127\.0\.0\.1:%d" % (re.escape(API), sni.port))
        env = self.env_for(proxy)

        # curl: the fake (TLS and plain) sees the real name in Host.
        echo = json.loads(self.curl_env(env, "https://%s/_fake/echo" % API))
        self.assertEqual(echo["headers"]["host"], API)
        echo = json.loads(self.curl_env(env, "http://%s/_fake/echo" % API))
        self.assertEqual(echo["headers"]["host"], API)
        self.assertEqual(plain.requests_for("/_fake/echo"), 1)

        # The origin is asked for by name (SNI) and Host keeps the port.
        seen = json.loads(self.curl_env(env, "https://%s:8443/x?y=1" % API))
        self.assertEqual(seen, {"sni": API, "host": API + ":8443",
                                "target": "/x?y=1"})

        # Python requests, with nothing but the environment.
        script = (
            "import json, requests\n"
            "for u in ('https://%s/_fake/echo', 'http://%s/_fake/echo',\n"
            "          'https://%s:8443/r'):\n"
            "    r = requests.get(u, timeout=20)\n"
            "    print(r.status_code, json.dumps(r.json()))\n"
            % (API, API, API))
        cp = self.run_client([harness.PYTHON, "-c", script], env)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        lines = cp.stdout.splitlines()
        self.assertEqual(len(lines), 3, cp.stdout)
        for line in lines[:2]:
            status, body = line.split(" ", 1)
            self.assertEqual(status, "200")
            self.assertEqual(json.loads(body)["headers"]["host"], API)
        self.assertEqual(json.loads(lines[2].split(" ", 1)[1]),
                         {"sni": API, "host": API + ":8443",
                          "target": "/r"})

        # Two mappings of one name never share a pooled connection: the
        # TLS fake took exactly its two requests, the SNI origin its two.
        self.assertEqual(fake.requests_for("/_fake/echo"), 2)
        self.assertEqual(plain.requests_for("/_fake/echo"), 2)
        self.assertEqual(len(sni.seen), 2)
        self.assertTrue(all(s["sni"] == API for s in sni.seen), sni.seen)
        self.assertIn("GET https://%s/_fake/echo -> 200" % API, proxy.log())

        # A mapping to nothing: the error names the origin and where
        # --resolve sent it.
        cp = self.run_client([harness.CURL, "-sS", "--max-time", "20",
                              "http://%s:9443/x" % API], env)
        err = json.loads(cp.stdout)
        self.assertEqual(err["error"], "upstream_unreachable")
        self.assertRegex(err["message"], r"^could not connect to %s:9443: "
                         r".*\(--resolve sends it to 127\.0\.0\.1:%d\)$"
                         % (re.escape(API), dead))

    def test_record_names_the_api_and_drift_and_replay_follow(self):
        fake = self.api_fake()
        cassette = os.path.join(self.tmp, "api.har")
        rec = self.resolving_proxy(fake, "-c", cassette, command="record")
        env = self.env_for(rec)
        script = ("import requests\n"
                  "r = requests.get('https://%s%s?fields=id,title', "
                  "auth=%r, timeout=20)\n"
                  "print(r.status_code, r.json()['title'])\n"
                  % (API, PROFILE, AUTH))
        cp = self.run_client([harness.PYTHON, "-c", script], env)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout.strip(), "200 Discovery call")
        self.assertEqual(rec.stop(timeout=T(8)), 0, rec.log()[-2000:])
        with open(cassette) as f:
            entries = json.load(f)["log"]["entries"]
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["request"]["url"],
                         "https://%s%s?fields=id,title" % (API, PROFILE))
        self.assertNotIn("127.0.0.1", json.dumps(entries[0]["request"]))

        # drift: sent to the fake by the mapping; no drift.
        before = fake.requests_for(PROFILE)
        auth = "Authorization: Basic YWNjMTpzZWNyZXQtYXBpLWtleQ=="
        cp = self.run_ps("drift", "-v", "-c", cassette, "--upstream-ca",
                         self.fake_ca.cert, "--header", auth, "--resolve",
                         "%s:443=127.0.0.1:%d" % (API, fake.port),
                         timeout=T(30))
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn("--resolve: connections to %s:443 -> 127.0.0.1:%d"
                      % (API, fake.port), cp.stderr)
        self.assertEqual(fake.requests_for(PROFILE), before + 1)
        for word in SANITIZER_WORDS:
            self.assertNotIn(word, cp.stderr)

        # replay --fallback=proxy: a miss is forwarded through the mapping.
        rep = self.resolving_proxy(fake, "-c", cassette, "--fallback=proxy",
                                   command="replay")
        echo = json.loads(self.curl_env(self.env_for(rep),
                                        "https://%s/_fake/echo" % API))
        self.assertEqual(echo["headers"]["host"], API)
        self.assertEqual(fake.requests_for("/_fake/echo"), 1)

    def test_malformed_values_stop_before_anything_starts(self):
        cassette = os.path.join(self.tmp, "never.har")
        cases = (
            ("api.youcanbook.me:443", "expected HOST:PORT=ADDR:PORT"),
            ("api.youcanbook.me:443=localhost:8443",
             "not a name"),
            ("api.youcanbook.me:0=127.0.0.1:8443", "from 1 to 65535"),
            ("api.youcanbook.me:443=127.0.0.1:70000", "from 1 to 65535"),
            ("api.youcanbook.me:443=::1:8443", "must be in brackets"),
            ("api.youcanbook.me:443=[::1:8443", "no closing ']'"),
            ("bad host:443=127.0.0.1:1", "only letters, digits"),
        )
        for value, why in cases:
            for argv in (("proxy", "--listen", "127.0.0.1:0"),
                         ("record", "--listen", "127.0.0.1:0", "-c",
                          cassette),
                         ("drift", "-c", cassette)):
                cp = self.run_ps(*(argv + ("--resolve", value)))
                self.assert_one_line_error(cp, "--resolve", "'%s'" % value,
                                           why)
                self.assertNotIn("listening on", cp.stderr)
        self.assertFalse(os.path.exists(cassette))
        # Only the commands that connect to origins take it.
        cp = self.run_ps("env", "--resolve", "a.test:443=127.0.0.1:1")
        self.assert_one_line_error(cp, "--resolve")


class Clients(ClientCase):

    def test_java_example_over_https_with_only_the_environment(self):
        if JAVA is None:
            self.skipTest("java is not installed (Debian package "
                          "openjdk-17-jdk-headless)")
        want = [
            'ok: read the profile, titled "Discovery call"',
            'ok: the title the PATCH answers with is "Discovery call '
            '(renamed)"',
            'ok: the title read back is "Discovery call (renamed)"']
        fake = self.api_fake()
        cassette = os.path.join(self.tmp, "java.har")
        rec = self.resolving_proxy(fake, "-c", cassette, command="record")
        env = self.env_for(rec)
        self.assertIn("-Djavax.net.ssl.trustStoreType=JKS",
                      env["JAVA_TOOL_OPTIONS"])
        cp = self.run_client([JAVA, "ProfileClient.java"], env,
                             cwd=EXAMPLES, timeout=60)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stdout.splitlines(), want)
        # It went through patchscope, by the API's name.
        log = rec.log()
        self.assertEqual(len(re.findall(
            r"GET https://%s%s\?fields=id,title -> 200"
            % (re.escape(API), PROFILE), log)), 2, log)
        self.assertIn("PATCH https://%s%s?fields=id,title -> 200"
                      % (API, PROFILE), log)
        self.assertEqual(fake.requests_for(PROFILE), 3)
        self.assertEqual(rec.stop(timeout=T(8)), 0, rec.log()[-2000:])
        with open(cassette) as f:
            urls = [e["request"]["url"] for e in
                    json.load(f)["log"]["entries"]]
        self.assertEqual(urls, ["https://%s%s?fields=id,title"
                                % (API, PROFILE)] * 3)

        # The trust store keytool reads holds the system roots and the CA.
        keytool = shutil.which("keytool")
        if keytool:
            store = os.path.join(self.ps_home, "truststore.jks")
            cp = self.run_client([keytool, "-list", "-keystore", store,
                                  "-storepass", "changeit"], env)
            self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
            self.assertIn("patchscope-ca,", cp.stdout)
            with open(os.path.join(self.ps_home, "bundle.pem")) as f:
                n = f.read().count("BEGIN CERTIFICATE")
            self.assertIn("Your keystore contains %d entries" % n,
                          cp.stdout)

        # Replayed with the fake gone: the same three answers.
        fake.stop()
        rep = self.start_ps("replay", "-c", cassette, "--strict")
        env = self.env_for(rep)
        cp = self.run_client([JAVA, "ProfileClient.java"], env,
                             cwd=EXAMPLES, timeout=60)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stdout.splitlines(), want)
        self.assertEqual(rep.stop(timeout=T(8)), 0, rep.log()[-2000:])

        # Without the trust store Java refuses patchscope's certificate.
        rep = self.start_ps("replay", "-c", cassette)
        env = self.env_for(rep)
        env["JAVA_TOOL_OPTIONS"] = re.sub(r" -Djavax\.net\.ssl\.\S+", "",
                                          env["JAVA_TOOL_OPTIONS"])
        cp = self.run_client([JAVA, "ProfileClient.java"], env,
                             cwd=EXAMPLES, timeout=60)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn("FAIL: javax.net.ssl.SSLHandshakeException",
                      cp.stdout)

    def test_go_with_resolve_and_only_the_environment(self):
        if GO is None:
            self.skipTest("go is not installed (Debian package golang-go)")
        fake = self.api_fake()
        proxy = self.resolving_proxy(fake)
        env = self.env_for(proxy)
        env.update(GOCACHE=os.path.join(self.tmp, "gocache"),
                   HOME=self.tmp, GOPATH=os.path.join(self.tmp, "gopath"))
        with open(os.path.join(self.tmp, "client.go"), "w") as f:
            f.write("""package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

func main() {
	for _, u := range os.Args[1:] {
		r, err := http.Get(u)
		if err != nil {
			fmt.Println("error", err)
			continue
		}
		var echo struct{ Headers map[string]string }
		json.NewDecoder(r.Body).Decode(&echo)
		r.Body.Close()
		fmt.Println(r.StatusCode, echo.Headers["host"])
	}
}
""")
        cp = self.run_client([GO, "run", "client.go",
                              "https://%s/_fake/echo" % API,
                              "http://doctor.patchscope.invalid/go"],
                             env, timeout=120)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stdout.splitlines(),
                         ["200 " + API, "200 "], cp.stdout)
        self.assertEqual(fake.requests_for("/_fake/echo"), 1)
        self.assertIn("GET https://%s/_fake/echo -> 200" % API, proxy.log())

    def test_node_trusts_the_ca_and_what_fetch_does_with_the_proxy(self):
        if NODE is None:
            self.skipTest("node is not installed (Debian package nodejs)")
        fake = self.api_fake()
        proxy = self.resolving_proxy(fake)
        env = self.env_for(proxy)
        script = """
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
console.log('version ' + process.version);
try {
  const r = await fetch('https://doctor.patchscope.invalid/node');
  console.log('fetch ' + r.status + ' ' + (await r.text()).trim());
} catch (e) { console.log('fetch ' + (e.cause && e.cause.code)); }
// A tunnel opened by hand: trust comes from NODE_EXTRA_CA_CERTS alone.
const p = new URL(process.env.HTTPS_PROXY);
const req = http.request({ host: p.hostname, port: p.port,
  method: 'CONNECT', path: '%(api)s:443' });
req.on('connect', (res, socket) => {
  const s = tls.connect({ socket, servername: '%(api)s' }, () => {
    https.get({ host: '%(api)s', port: 443, path: '/_fake/echo',
      createConnection: () => s }, (r) => {
      let body = '';
      r.on('data', (d) => body += d);
      r.on('end', () => console.log('tunnel ' + r.statusCode + ' ' +
        JSON.parse(body).headers.host));
    });
  });
  s.on('error', (e) => console.log('tunnel ' + e.code));
});
req.end();
""" % {"api": API}
        with open(os.path.join(self.tmp, "client.mjs"), "w") as f:
            f.write(script)
        cp = self.run_client([NODE, "client.mjs"], env)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        lines = cp.stdout.splitlines()
        version = lines[0].split(" ")[1]
        if node_env_proxy(version):
            self.assertEqual(lines[1], "fetch 200 patchscope doctor: /node "
                             "over https")
        else:
            # Node before 22.21 and 24 ignores NODE_USE_ENV_PROXY: fetch()
            # looked the name up itself.
            self.assertEqual(lines[1], "fetch ENOTFOUND")
        self.assertEqual(lines[2], "tunnel 200 " + API)
        self.assertEqual(fake.requests_for("/_fake/echo"), 1)

    def test_git_goes_through_the_proxy_and_trusts_the_ca(self):
        if GIT is None:
            self.skipTest("git is not installed (Debian package git)")
        proxy = self.start_proxy()
        env = self.env_for(proxy)
        env.update(HOME=self.tmp, GIT_CONFIG_NOSYSTEM="1",
                   GIT_TERMINAL_PROMPT="0")
        url = "https://doctor.patchscope.invalid/git/repo.git"
        cp = self.run_client([GIT, "ls-remote", url], env)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "")
        self.wait_log(proxy, r"GET https://doctor\.patchscope\.invalid/git/"
                      r"repo\.git/info/refs\?service=git-upload-pack -> 200")

        # Without the bundle, git refuses patchscope's certificate.
        del env["GIT_SSL_CAINFO"]
        cp = self.run_client([GIT, "ls-remote", url], env)
        self.assertEqual(cp.returncode, 128)
        # git on OpenSSL or on GnuTLS (Debian's) says it its way.
        self.assertRegex(cp.stderr, "SSL certificate problem|server "
                         "certificate verification failed")
        # Without the proxy, the name does not resolve.
        for name in harness.PROXY_ENV:
            env.pop(name, None)
        cp = self.run_client([GIT, "ls-remote", url], env)
        self.assertEqual(cp.returncode, 128)
        self.assertIn("Could not resolve host", cp.stderr)


if __name__ == "__main__":
    harness.main()
