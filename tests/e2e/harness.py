"""Shared helpers for patchscope's end-to-end tests.

Each test file does

    import harness
    class T(harness.TestCase): ...
    if __name__ == "__main__":
        harness.main()

and is run as `/usr/bin/python3 tests/e2e/test_x.py` (exit 0 pass, 1 fail,
77 when every test was skipped).

Environment (set by Makefile.am; all optional when run by hand):
    PATCHSCOPE             the binary (default <repo>/build/src/patchscope)
    PATCHSCOPE_SANITIZED   "yes" under ASan/UBSan: timeouts are stretched and
                           memory figures are not asserted
    PATCHSCOPE_SRCDIR      the source tree (default: two levels above this file)
    PATCHSCOPE_TIME_SCALE  a factor for every timeout (default 4 when
                           sanitized, else 1)
    PATCHSCOPE_VALGRIND    "yes" under `make check-valgrind` (PATCHSCOPE is
                           then tests/valgrind/patchscope): the tests in
                           VALGRIND_SKIP are skipped

Every test gets its own temp dir (self.tmp) that holds the logs of the
processes it started; it is removed when the test passes and kept, with its
path printed, when it fails.  Nothing is written into the source tree.

HTTPS: every test also gets its own PATCHSCOPE_HOME (self.ps_home, inside
self.tmp; passed to every proxy it starts), so patchscope's CA is created
fresh per test.  self.test_ca and self.untrusted_ca are two independent test
CAs made at run time with the openssl CLI (never a checked-in key);
start_fake(tls=True) serves a leaf of self.test_ca for localhost,
profiles.test and 127.0.0.1, so a proxy started with
`--upstream-ca self.test_ca.cert` can verify it.
"""

import faulthandler
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("PATCHSCOPE_SRCDIR") or \
    os.path.dirname(os.path.dirname(HERE))
PATCHSCOPE = os.environ.get("PATCHSCOPE") or \
    os.path.join(SRCDIR, "build", "src", "patchscope")
SANITIZED = os.environ.get("PATCHSCOPE_SANITIZED", "no") == "yes"
FAKE_API = os.path.join(SRCDIR, "tests", "fake_api.py")
PYTHON = sys.executable or "/usr/bin/python3"
CURL = shutil.which("curl")

# Timeouts are multiplied by this; sanitized builds are several times slower
# (valgrind sets it too: some 20 times slower).
TIME_SCALE = float(os.environ.get("PATCHSCOPE_TIME_SCALE") or
                   (4.0 if SANITIZED else 1.0))
VALGRIND = os.environ.get("PATCHSCOPE_VALGRIND", "no") == "yes"
# Tests that measure speed or move gigabytes: meaningless under valgrind.
VALGRIND_SKIP = frozenset((
    # Trickles its head at a fixed 50 ms a byte, to outlast --header-timeout.
    "Errors.test_408_client_trickles_its_head",
))
MiB = 1024 * 1024
GiB = 1024 * MiB
RSS_LIMIT = 32 * MiB
STREAM_BLOCK = bytes(range(256)) * 256      # what /_fake/stream repeats

# Proxy-related variables a client might honour behind our back.
PROXY_ENV = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
             "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

# TLS trust and CA variables (`patchscope env` sets them): a developer's shell
# may have them; children of the tests start without.
TLS_ENV = ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
           "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS",
           "NODE_USE_ENV_PROXY", "PATCHSCOPE_HOME")

OPENSSL = shutil.which("openssl")

try:
    import requests
except ImportError:          # pragma: no cover - Debian has python3-requests
    requests = None


# The seed thread's story (../shared/seed/), shared by the diagnoses and
# cassette tests: the API key, the profile, the thread's GET and PATCH
# projections, and the webhook it added with the misspelt anchor.
AUTH = ("acc1", "secret-api-key")
PROFILE = "/v1/acc1/profiles/p1"
# The seed thread's GET and PATCH projections.
GET_FIELDS = ("id,actions,actions.id,actions.type,actions.anchor,actions.to,"
              "actions.body,headers,headers.x-auth-token")
PATCH_FIELDS = ("actions,actions.type,actions.anchor,actions.to,"
                "actions.body,actions.headers,actions.headers.x-auth-token")

NEW_WEBHOOK = {
    "type": "WEBHOOK",
    "status": "TEMPLATE",
    "anchor": "BOOKING_CANCELED",
    "offsetMinutes": 0,
    "title": "Booking cancelled API call",
    "to": "https://webhookURL.com",
    "subject": "POST",
    "body": '{ "startsAt": "{START-LOCAL-DATE}",\n"id" : "{ID}",\n'
            '"ref": "{REF}",\n"rescheduleLink": "{RESCHEDULE-LINK}",\n'
            '"cancellationLink" : "{CANCEL-LINK}",\n "endsAt": '
            '"{END-LOCAL-TIME}",\n "timeZone": "{TIMEZONE}", \n'
            '"firstName": "{FNAME}", \n"email": "{EMAIL}" \n}',
    "attachIcs": False,
    "headers": {"test": "test1234", "another": "headerhere"},
}



def T(seconds):
    """A timeout, stretched for sanitized builds."""
    return seconds * TIME_SCALE


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_ENV and k not in TLS_ENV}
    if extra:
        env.update(extra)
    return env


def stream_sha256(n):
    """The SHA-256 of the first n bytes of /_fake/stream's body."""
    h = hashlib.sha256()
    full, rest = divmod(n, len(STREAM_BLOCK))
    for _ in range(full):
        h.update(STREAM_BLOCK)
    h.update(STREAM_BLOCK[:rest])
    return h.hexdigest()


def pattern_source(n, block=STREAM_BLOCK):
    """Yield n bytes of a pattern, 64 KiB at a time, for uploads."""
    left = n
    while left > 0:
        piece = block if left >= len(block) else block[:left]
        left -= len(piece)
        yield piece


def make_cert(directory, name="fake"):
    """A self-signed certificate for 127.0.0.1 and localhost, made now.

    Returns (certificate path, key path).  No key is ever checked in."""
    cert = os.path.join(directory, name + "-cert.pem")
    key = os.path.join(directory, name + "-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, timeout=30)
    return cert, key


def _openssl(args, **kw):
    if OPENSSL is None:
        raise unittest.SkipTest("openssl is not installed")
    if "input" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    cp = subprocess.run([OPENSSL] + list(args), stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=30, **kw)
    if cp.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (
            " ".join(args), cp.stderr.decode("utf-8", "replace")))
    return cp.stdout


class TestCA:
    """A throwaway certificate authority made now with the openssl CLI.

    cert and key are PEM file paths in `directory`; leaf() signs server
    certificates.  Keys are EC P-256, validity 2 days: nothing to check in."""

    def __init__(self, directory, name="testca", cn=None):
        self.directory = directory
        self.name = name
        self.cert = os.path.join(directory, name + ".pem")
        self.key = os.path.join(directory, name + "-key.pem")
        self.cn = cn or "patchscope e2e %s (throwaway)" % name
        ext = os.path.join(directory, name + "-ca.ext")
        with open(ext, "w") as f:
            f.write("[req]\ndistinguished_name = dn\n[dn]\n"
                    "[v3_ca]\n"
                    "basicConstraints = critical, CA:TRUE\n"
                    "keyUsage = critical, keyCertSign, cRLSign\n"
                    "subjectKeyIdentifier = hash\n")
        _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                  "-subj", "/O=patchscope tests/CN=" + self.cn,
                  "-config", ext, "-extensions", "v3_ca",
                  "-keyout", self.key, "-out", self.cert])
        os.chmod(self.key, 0o600)
        self._n = 0

    def leaf(self, name, sans=("DNS:localhost", "DNS:profiles.test",
                               "IP:127.0.0.1"), cn=None):
        """A server certificate signed by this CA; returns (cert, key)."""
        self._n += 1
        base = os.path.join(self.directory, "%s-%s" % (self.name, name))
        cert, key, csr = base + ".pem", base + "-key.pem", base + ".csr"
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints = critical, CA:FALSE\n"
                    "keyUsage = critical, digitalSignature\n"
                    "extendedKeyUsage = serverAuth\n"
                    "subjectKeyIdentifier = hash\n"
                    "authorityKeyIdentifier = keyid\n"
                    "subjectAltName = %s\n" % ", ".join(sans))
        _openssl(["req", "-new", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes",
                  "-subj", "/CN=" + (cn or sans[0].split(":", 1)[1]),
                  "-keyout", key, "-out", csr])
        _openssl(["x509", "-req", "-in", csr, "-CA", self.cert,
                  "-CAkey", self.key, "-set_serial",
                  str(int.from_bytes(os.urandom(8), "big") | 1),
                  "-days", "2", "-extfile", ext, "-out", cert])
        os.chmod(key, 0o600)
        return cert, key


def pem_blocks(data):
    """The certificates of a PEM text, each as its base64 body (no
    whitespace), in order."""
    if isinstance(data, bytes):
        data = data.decode("ascii", "replace")
    return ["".join(m.group(1).split()) for m in re.finditer(
        r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
        data, re.S)]


def cert_info(cert):
    """Fields of a certificate (PEM text/bytes, DER bytes or a PEM file path),
    read with the openssl CLI:
    {subject, issuer, serial, not_before, not_after (epoch seconds),
     san [e.g. "DNS:localhost", "IP:127.0.0.1"], eku [names],
     basic_constraints, basic_constraints_critical, key_usage,
     key_usage_critical, ski, aki, public_key, text}."""
    if isinstance(cert, str) and not cert.lstrip().startswith("-----"):
        with open(cert, "rb") as f:
            cert = f.read()
    if isinstance(cert, str):
        cert = cert.encode("ascii")
    form = "PEM" if cert.lstrip().startswith(b"-----") else "DER"
    head = _openssl(["x509", "-inform", form, "-noout", "-subject",
                     "-issuer", "-serial", "-startdate", "-enddate",
                     "-nameopt", "RFC2253"], input=cert).decode()
    text = _openssl(["x509", "-inform", form, "-noout", "-text"],
                    input=cert).decode()
    info = {"text": text}
    for line in head.splitlines():
        key, _, value = line.partition("=")
        info[key.strip()] = value.strip()
    info["subject"] = info.pop("subject", "")
    info["issuer"] = info.pop("issuer", "")
    info["not_before"] = ssl.cert_time_to_seconds(info.pop("notBefore"))
    info["not_after"] = ssl.cert_time_to_seconds(info.pop("notAfter"))

    def ext(name):
        m = re.search(r"X509v3 %s:( critical)?[ \t]*\n\s*(.*)"
                      % re.escape(name), text)
        return (m.group(2).strip(), bool(m.group(1))) if m else (None, False)

    san, _ = ext("Subject Alternative Name")
    info["san"] = [] if san is None else [
        part.strip().replace("IP Address:", "IP:")
        for part in san.split(",")]
    eku, _ = ext("Extended Key Usage")
    info["eku"] = [] if eku is None else [p.strip() for p in eku.split(",")]
    (info["basic_constraints"],
     info["basic_constraints_critical"]) = ext("Basic Constraints")
    info["key_usage"], info["key_usage_critical"] = ext("Key Usage")
    info["ski"], _ = ext("Subject Key Identifier")
    info["aki"], _ = ext("Authority Key Identifier")
    m = re.search(r"Public Key Algorithm: (.*)", text)
    info["public_key"] = m.group(1).strip() if m else None
    m = re.search(r"ASN1 OID: (\S+)", text)
    info["curve"] = m.group(1) if m else None
    return info


def peak_rss(pid):
    """Peak resident set size of a live process in bytes (VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM for pid %d" % pid)


def current_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def wait_for(predicate, timeout, interval=0.02, what="condition"):
    """Poll predicate() until it is truthy; return its value or raise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def free_port():
    """A port on 127.0.0.1 with nothing listening on it (at the moment)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_line_with_timeout(stream, timeout):
    """Read one line from a binary pipe without blocking past timeout.

    Returns the line (bytes, without the newline) or None on timeout/EOF."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return None
        data = os.read(fd, 1)          # one byte: leave the rest in the pipe
        if not data:
            return None
        buf += data
    return buf.rstrip(b"\r\n")


class Process:
    """A child process whose stderr goes to a file and stdout is watched."""

    def __init__(self, argv, log_path, env=None, name="process"):
        self.argv = argv
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self._log, env=env)
        self.pid = self.proc.pid
        self.first_line = None
        self.extra_stdout = b""
        self.stopped = False
        self.returncode = None
        self._drain = None

    def read_listening(self, timeout):
        line = read_line_with_timeout(self.proc.stdout, timeout)
        if line is None:
            try:
                rc = self.proc.wait(1)
            except subprocess.TimeoutExpired:
                rc = None
            raise AssertionError(
                "%s did not print `listening on` within %.1fs (%s); "
                "stderr:\n%s" % (self.name, timeout,
                                  "still running" if rc is None else
                                  "exit status %d" % rc, self.log()))
        self.first_line = line.decode("utf-8", "replace")
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", self.first_line)
        if not m:
            raise AssertionError("%s printed %r, not `listening on "
                                 "127.0.0.1:PORT`" % (self.name,
                                                      self.first_line))
        self.port = int(m.group(1))
        # Keep draining stdout so the child never blocks on a full pipe; what
        # comes after the first line is kept for tests that check it.
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        return self.port

    def _drain_stdout(self):
        try:
            while True:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    return
                self.extra_stdout += data
        except OSError:
            return

    def log(self):
        try:
            self._log.flush()
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout):
        """Wait for exit; return the status, or None if still running."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Send sig, wait; return the exit status (SIGKILL after timeout).

        A status < 0 means killed by that signal (subprocess convention)."""
        if timeout is None:
            timeout = T(8)
        self.stopped = True
        if self.alive():
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.proc.kill()
            rc = self.proc.wait()
            self.returncode = rc
            self.killed_after_timeout = True
        if self._drain is not None:
            self._drain.join(1)
        return rc

    def kill(self):
        self.stopped = True
        if self.alive():
            self.proc.kill()
        self.returncode = self.proc.wait()
        return self.returncode

    def close_files(self):
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        self._log.close()


class FakeAPI(Process):
    """The fake profile API (tests/fake_api.py)."""

    def __init__(self, tmp, tls=False, cert=None, key=None, index=0,
                 cafile=None):
        argv = [PYTHON, FAKE_API, "--listen", "127.0.0.1:0"]
        if tls:
            argv += ["--tls-cert", cert, "--tls-key", key]
        super().__init__(argv, os.path.join(tmp, "fake-%d.log" % index),
                         env=clean_env(), name="fake_api")
        self.tls = tls
        self.cafile = cafile or cert      # what verifies its certificate
        self.cert = cert
        self.read_listening(T(10))
        scheme = "https" if tls else "http"
        self.host = "127.0.0.1"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)

    def _request(self, method, path):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.cafile)
            # Its certificate may be made not to match (tests of upstream
            # host-name checks); the chain is still verified.
            ctx.check_hostname = False
            conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                               timeout=T(10), context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                              timeout=T(10))
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise AssertionError("fake %s %s -> %d" % (method, path,
                                                          resp.status))
            return json.loads(body)
        finally:
            conn.close()

    def stats(self):
        """{"requests", "connections", "accepted", "paths"} since reset."""
        return self._request("GET", "/_fake/stats")

    def reset(self):
        self._request("POST", "/_fake/reset")

    def requests_for(self, path):
        return self.stats()["paths"].get(path, 0)


class Proxy(Process):
    """A running `patchscope proxy` (or another serving command:
    `record`, `replay`)."""

    def __init__(self, tmp, args, env=None, index=0, listen=True,
                 command="proxy"):
        argv = [PATCHSCOPE, command]
        if listen:
            argv += ["--listen", "127.0.0.1:0"]
        argv += [str(a) for a in args]
        penv = clean_env(env)
        if SANITIZED:
            penv.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
            penv.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        super().__init__(argv, os.path.join(tmp, "%s-%d.log"
                                            % (command, index)),
                         env=penv, name="patchscope" if command == "proxy"
                         else "patchscope " + command)
        self.read_listening(T(10))
        self.url = "http://127.0.0.1:%d" % self.port
        self.addr = ("127.0.0.1", self.port)

    def peak_rss(self):
        return peak_rss(self.pid)

    def sanitizer_report(self):
        log = self.log()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:", "AddressSanitizer:"):
            if marker in log:
                return log
        return None


# --- raw HTTP over sockets ---------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body, version="HTTP/1.1",
                 interim=()):
        self.status = status
        self.reason = reason
        self.header_list = headers        # [(name, value)] as received
        self.body = body
        self.version = version
        self.interim = list(interim)      # 1xx responses seen before this one

    def header(self, name, default=None):
        name = name.lower()
        values = [v for n, v in self.header_list if n.lower() == name]
        if not values:
            return default
        return ", ".join(values)

    def headers_named(self, name):
        return [v for n, v in self.header_list if n.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %r headers=%r body=%r>" % (
            self.status, self.reason, self.header_list, self.body[:200])


class RawClient:
    """One TCP connection to the proxy, speaking HTTP/1.1 by hand."""

    def __init__(self, addr, timeout=None):
        self.sock = socket.create_connection(addr, timeout=T(10))
        self.sock.settimeout(timeout if timeout is not None else T(10))
        self.buf = b""
        self.eof = False

    @classmethod
    def over(cls, sock, timeout=None):
        """A RawClient on an existing socket (e.g. TLS inside a tunnel)."""
        c = cls.__new__(cls)
        c.sock = sock
        c.sock.settimeout(timeout if timeout is not None else T(10))
        c.buf = b""
        c.eof = False
        return c

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        """Read more bytes into the buffer; False on EOF."""
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise EOFError("connection closed; got %r" % self.buf[:200])
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError("connection closed after %d of %d body bytes"
                               % (len(self.buf), n))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_head(self):
        status_line = self._line().decode("latin-1")
        m = re.fullmatch(r"(HTTP/\d\.\d) (\d{3})(?: (.*))?", status_line)
        if not m:
            raise AssertionError("bad status line %r" % status_line)
        headers = []
        while True:
            line = self._line()
            if not line:
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise AssertionError("bad header line %r" % line)
            headers.append((name.strip(), value.strip()))
        return m.group(1), int(m.group(2)), m.group(3) or "", headers

    def read_response(self, head_request=False, timeout=None):
        """Read one final response (skipping and recording 1xx ones)."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        interim = []
        while True:
            version, status, reason, headers = self.read_head()
            if 100 <= status < 200 and status != 101:
                interim.append(status)
                continue
            break
        resp = Response(status, reason, headers, b"", version, interim)
        if head_request or status in (204, 304) or 100 <= status < 200:
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te and te.lower().split(",")[-1].strip() == "chunked":
            body = []
            while True:
                size = int(self._line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body.append(self._exact(size))
                if self._line() != b"":
                    raise AssertionError("chunk not followed by CRLF")
            resp.body = b"".join(body)
        elif cl is not None:
            resp.body = self._exact(int(cl))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def read_interim(self, timeout):
        """Read a 1xx response head (e.g. 100 Continue); return its status."""
        self.sock.settimeout(timeout)
        version, status, reason, headers = self.read_head()
        return status

    def read_until_close(self, timeout=None):
        """Everything until the peer closes; raises socket.timeout if not."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    def closed_by_peer(self, timeout):
        """True if the peer closes (EOF or reset) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while self._fill():
                pass
            return True
        except socket.timeout:
            return False
        except OSError:
            return True


def open_tunnel(addr, target, host_header=None, timeout=None, extra=b""):
    """Connect to the proxy at addr and send `CONNECT target`.

    Returns (RawClient, Response).  For a 2xx answer the Response has no body
    and the socket is positioned right after the answer's head, ready for a
    TLS handshake; otherwise the body is read (Content-Length, or until
    close)."""
    c = RawClient(addr, timeout)
    c.send(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (
        target, host_header or target)).encode("latin-1") + extra + b"\r\n")
    version, status, reason, headers = c.read_head()
    resp = Response(status, reason, headers, b"", version)
    if 200 <= status < 300:
        if c.buf:
            raise AssertionError("bytes after the 2xx answer to CONNECT, "
                                 "before any TLS: %r" % c.buf[:200])
        return c, resp
    cl = resp.header("content-length")
    try:
        if cl is not None:
            resp.body = c._exact(int(cl))
        else:
            resp.body = c.read_until_close()
    except (EOFError, OSError):
        pass
    return c, resp


def tls_context(cafile=None, verify=True, check_hostname=True,
                alpn=("http/1.1",)):
    """A client SSLContext: verifies against cafile only (when given)."""
    if verify:
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = check_hostname
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def tls_over(raw, ctx, server_hostname=None, timeout=None):
    """Do a TLS handshake on raw's socket (e.g. after CONNECT); return a
    RawClient on the TLS socket.  server_hostname is both the SNI (not sent
    for an IP address, as browsers and curl do) and the name checked."""
    raw.sock.settimeout(timeout if timeout is not None else T(10))
    tls = ctx.wrap_socket(raw.sock, server_hostname=server_hostname)
    return RawClient.over(tls, timeout)


def client_hello(server_hostname="localhost"):
    """The bytes of a real TLS ClientHello (for half-finished handshakes)."""
    ctx = tls_context(verify=False)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def parse_env_exports(text):
    """Parse `export NAME='value'` lines (POSIX single quoting, with '\\''
    for a quote inside).  Returns {name: value}; raises AssertionError on a
    line of any other shape (blank lines and `#` comments are allowed)."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"export ([A-Za-z_][A-Za-z0-9_]*)="
                         r"('[^']*'(?:\\''[^']*')*)", line)
        if not m:
            raise AssertionError("not an `export NAME='value'` line: %r"
                                 % line)
        out[m.group(1)] = m.group(2)[1:-1].replace("'\\''", "'")
    return out


def request_bytes(method, url, host, headers=(), body=b"", version="HTTP/1.1"):
    """Build a request in absolute form."""
    lines = ["%s %s %s" % (method, url, version), "Host: %s" % host]
    lines += ["%s: %s" % h for h in headers]
    if body and not any(h[0].lower() in ("content-length", "transfer-encoding")
                        for h in headers):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- the test case base ---------------------------------------------------------

class TestCase(unittest.TestCase):
    """Base class: temp dir, process bookkeeping, clients."""

    maxDiff = 4000

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        bad_before = len(result.failures) + len(result.errors)
        self.tmp = tempfile.mkdtemp(prefix="patchscope-e2e-")
        try:
            return super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > bad_before:
                sys.stderr.write("\n%s: kept temp dir %s\n" % (self.id(),
                                                               self.tmp))
                for name in sorted(os.listdir(self.tmp)):
                    if name.endswith(".log"):
                        path = os.path.join(self.tmp, name)
                        with open(path, "rb") as f:
                            tail = f.read()[-3000:].decode("utf-8", "replace")
                        sys.stderr.write("---- %s (tail) ----\n%s\n"
                                         % (path, tail))
                sys.stderr.flush()
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def setUp(self):
        if VALGRIND and self.id().split(".", 1)[-1] in VALGRIND_SKIP:
            self.skipTest("too slow or timing-bound under valgrind")
        if not os.access(PATCHSCOPE, os.X_OK):
            self.fail("patchscope binary not found at %s (build it, or set "
                      "PATCHSCOPE)" % PATCHSCOPE)
        self._procs = []
        self._n = 0
        self._fake_ca = None
        self._untrusted_ca = None
        # patchscope's CA for this test: created by the first proxy, `ca` or
        # `env` that runs (not made here; patchscope makes the folder).
        self.ps_home = os.path.join(self.tmp, "patchscope-home")
        self.addCleanup(self._reap)

    # -- certificates (HTTPS) --

    @property
    def fake_ca(self):
        """The test CA that signs the TLS fake's certificate (made on first
        use); give proxies `--upstream-ca self.fake_ca.cert`."""
        if self._fake_ca is None:
            self._fake_ca = TestCA(self.tmp, "testca",
                                   "patchscope e2e TEST CA (throwaway)")
        return self._fake_ca

    @property
    def untrusted_ca(self):
        """A second, independent CA that no proxy is told to trust."""
        if self._untrusted_ca is None:
            self._untrusted_ca = TestCA(self.tmp, "untrusted",
                                        "patchscope e2e UNTRUSTED CA")
        return self._untrusted_ca

    def run_ps(self, *args, env=None, timeout=None):
        """Run `patchscope ARGS` to completion with PATCHSCOPE_HOME set to
        this test's home (unless env sets it; a value None removes a
        variable); returns the CompletedProcess with stdout/stderr decoded."""
        penv = clean_env({"PATCHSCOPE_HOME": self.ps_home})
        for name, value in (env or {}).items():
            if value is None:
                penv.pop(name, None)
            else:
                penv[name] = value
        cp = subprocess.run([PATCHSCOPE] + [str(a) for a in args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=penv,
                            timeout=timeout or T(20))
        cp.stdout = cp.stdout.decode("utf-8", "replace")
        cp.stderr = cp.stderr.decode("utf-8", "replace")
        return cp

    def patchscope_ca(self, directory=None):
        """`patchscope ca --dir DIR` (default: this test's PATCHSCOPE_HOME):
        the path of ca.pem it prints; fails the test if it does not work."""
        directory = directory or self.ps_home
        cp = self.run_ps("ca", "--dir", directory)
        if cp.returncode != 0:
            self.fail("patchscope ca --dir %s exited %d: %s"
                      % (directory, cp.returncode, cp.stderr.strip()))
        path = cp.stdout.strip()
        if not path or not os.path.isfile(path):
            self.fail("patchscope ca --dir %s printed %r, not the path of "
                      "ca.pem" % (directory, cp.stdout))
        return path

    # -- processes --

    def start_fake(self, tls=False, cert=None, key=None, ca=None, sans=None):
        """Start tests/fake_api.py; with tls=True and no cert/key given, it
        serves a fresh leaf signed by `ca` (default self.fake_ca) for `sans`
        (default DNS:localhost, DNS:profiles.test, IP:127.0.0.1); fake.cafile
        is then that CA's certificate."""
        cafile = None
        if tls and not cert:
            ca = ca or self.fake_ca
            leaf_args = {} if sans is None else {"sans": sans}
            cert, key = ca.leaf("fake%d" % (self._n + 1), **leaf_args)
            cafile = ca.cert
        self._n += 1
        fake = FakeAPI(self.tmp, tls=tls, cert=cert, key=key, index=self._n,
                       cafile=cafile)
        self._procs.append(fake)
        return fake

    def start_proxy(self, *args, env=None, listen=True):
        return self.start_ps("proxy", *args, env=env, listen=listen)

    def start_ps(self, command, *args, env=None, listen=True):
        """`patchscope COMMAND --listen 127.0.0.1:0 ARGS` (proxy, record,
        replay), stopped and checked (exit status, sanitizer reports) at
        teardown."""
        env = dict(env or {})
        env.setdefault("PATCHSCOPE_HOME", self.ps_home)
        self._n += 1
        proxy = Proxy(self.tmp, args, env=env, index=self._n, listen=listen,
                      command=command)
        self._procs.append(proxy)
        return proxy

    def _reap(self):
        """Stop what is still running; a proxy must stop cleanly."""
        problems = []
        for p in reversed(self._procs):
            if isinstance(p, Proxy):
                if not p.stopped:
                    if not p.alive():
                        problems.append("patchscope died during the test "
                                        "(exit status %s)" % p.proc.poll())
                    else:
                        rc = p.stop(signal.SIGTERM, T(8))
                        if rc != 0:
                            problems.append("patchscope exited %s on SIGTERM "
                                            "at teardown" % rc)
                report = p.sanitizer_report()
                if report:
                    problems.append("sanitizer report in %s" % p.log_path)
            else:
                p.stop(signal.SIGTERM, T(5))
            p.close_files()
        if problems:
            self.fail("; ".join(problems))

    # -- clients --

    def curl(self, proxy, *args, timeout=None, check=False, env=None):
        """Run curl -sS -x PROXY ARGS...; return the CompletedProcess.
        proxy None: no -x (e.g. HTTPS_PROXY in env)."""
        if CURL is None:
            self.skipTest("curl is not installed")
        argv = [CURL, "-sS"] + (["-x", proxy.url] if proxy else []) + \
            [str(a) for a in args]
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(env), timeout=timeout or T(30))
        if check and cp.returncode != 0:
            self.fail("%s exited %d: %s" % (" ".join(argv), cp.returncode,
                                            cp.stderr.decode()))
        return cp

    def curl_status(self, proxy, url, *args, timeout=None, env=None):
        """Return (status, headers text, body bytes, curl exit status)."""
        hfile = os.path.join(self.tmp, "curl-headers-%d" % self._next())
        cp = self.curl(proxy, "-D", hfile, *args, url, timeout=timeout,
                       env=env)
        try:
            with open(hfile, "rb") as f:
                head = f.read().decode("latin-1")
        except OSError:
            head = ""
        finals = [b for b in re.split(r"\r?\n\r?\n", head) if b.strip()]
        status = 0
        if finals:
            m = re.match(r"HTTP/\S+ (\d{3})", finals[-1])
            status = int(m.group(1)) if m else 0
        return status, finals[-1] if finals else "", cp.stdout, cp.returncode

    def _next(self):
        self._n += 1
        return self._n

    def session(self, proxy):
        """A requests.Session going through proxy (environment ignored)."""
        if requests is None:
            self.skipTest("python3-requests is not installed")
        s = requests.Session()
        s.trust_env = False
        s.proxies = {"http": proxy.url, "https": proxy.url}
        self.addCleanup(s.close)
        return s

    def raw(self, proxy, timeout=None):
        c = RawClient(proxy.addr, timeout)
        self.addCleanup(c.close)
        return c

    def https_session(self, proxy, verify=None):
        """A requests.Session through proxy that trusts `verify` (default:
        patchscope's CA of this test)."""
        s = self.session(proxy)
        s.verify = verify or self.patchscope_ca()
        return s

    def tunnel(self, proxy, target, host_header=None, timeout=None):
        """CONNECT target through proxy: (RawClient, Response)."""
        c, resp = open_tunnel(proxy.addr, target, host_header, timeout)
        self.addCleanup(c.close)
        return c, resp

    def tls_tunnel(self, proxy, target, server_hostname=None, cafile=None,
                   verify=True, check_hostname=True, alpn=("http/1.1",),
                   sni=True):
        """CONNECT target, check the 200, then a TLS handshake inside.

        server_hostname defaults to the host of target; cafile to
        patchscope's CA.  sni=False sends no server name (and checks none).
        Returns a RawClient on the TLS socket (its .sock has getpeercert()
        and selected_alpn_protocol())."""
        c, resp = self.tunnel(proxy, target)
        if resp.status != 200:
            self.fail("CONNECT %s answered %d %s: %r" % (
                target, resp.status, resp.reason, resp.body[:300]))
        if not sni:
            server_hostname, check_hostname = None, False
        elif server_hostname is None:
            server_hostname = target.rsplit(":", 1)[0].strip("[]")
        if verify and cafile is None:
            cafile = self.patchscope_ca()
        ctx = tls_context(cafile, verify, check_hostname, alpn)
        t = tls_over(c, ctx, server_hostname)
        self.addCleanup(t.close)
        return t

    def wait_log(self, proxy, pattern, timeout=None, what=None):
        """Wait until the proxy's stderr matches the regex; return the
        match."""
        rx = re.compile(pattern)

        def found():
            return rx.search(proxy.log())
        try:
            return wait_for(found, timeout or T(5), what=what or
                            "log line matching %r" % pattern)
        except AssertionError as e:
            self.fail("%s; patchscope's log:\n%s" % (e, proxy.log()[-3000:]))

    # -- assertions --

    def assert_proxy_error(self, status, headers, body, want_status,
                           want_code):
        """Check a patchscope error answer.

        headers: a function name -> value (or None)."""
        self.assertEqual(status, want_status, "status; body %r" % body[:300])
        self.assertEqual(headers("x-patchscope-error"), want_code)
        ctype = headers("content-type") or ""
        self.assertTrue(ctype.startswith("application/json"),
                        "Content-Type %r" % ctype)
        conn = (headers("connection") or "").lower()
        self.assertIn("close", conn, "error answers carry Connection: close")
        try:
            doc = json.loads(body)
        except ValueError:
            self.fail("error body is not JSON: %r" % body[:300])
        self.assertEqual(doc.get("source"), "patchscope", doc)
        self.assertEqual(doc.get("status"), want_status, doc)
        self.assertEqual(doc.get("error"), want_code, doc)
        self.assertIsInstance(doc.get("message"), str, doc)
        self.assertTrue(doc["message"].strip(), doc)
        return doc

    def assert_raw_error(self, resp, want_status, want_code):
        return self.assert_proxy_error(resp.status, resp.header, resp.body,
                                       want_status, want_code)

    def assert_serves(self, proxy, fake):
        """The proxy still forwards an ordinary request."""
        status, head, body, rc = self.curl_status(
            proxy, fake.url + "/_fake/echo?still=serving")
        self.assertEqual((rc, status), (0, 200),
                         "proxy no longer serves: curl %d, status %d, %r"
                         % (rc, status, body[:300]))
        self.assertEqual(json.loads(body)["query"], "still=serving")


def main():
    """Run the tests of the calling module; exit 0/1, or 77 if all skipped."""
    faulthandler.enable()
    faulthandler.dump_traceback_later(T(300), exit=True)
    prog = unittest.main(module="__main__", exit=False, verbosity=2,
                         buffer=False)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
