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

Every test gets its own temp dir (self.tmp) that holds the logs of the
processes it started; it is removed when the test passes and kept, with its
path printed, when it fails.  Nothing is written into the source tree.
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

# Timeouts are multiplied by this; sanitized builds are several times slower.
TIME_SCALE = 4.0 if SANITIZED else 1.0
MiB = 1024 * 1024
GiB = 1024 * MiB
RSS_LIMIT = 32 * MiB
STREAM_BLOCK = bytes(range(256)) * 256      # what /_fake/stream repeats

# Proxy-related variables a client might honour behind our back.
PROXY_ENV = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
             "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

try:
    import requests
except ImportError:          # pragma: no cover - Debian has python3-requests
    requests = None


def T(seconds):
    """A timeout, stretched for sanitized builds."""
    return seconds * TIME_SCALE


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_ENV}
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

    def __init__(self, tmp, tls=False, cert=None, key=None, index=0):
        argv = [PYTHON, FAKE_API, "--listen", "127.0.0.1:0"]
        if tls:
            argv += ["--tls-cert", cert, "--tls-key", key]
        super().__init__(argv, os.path.join(tmp, "fake-%d.log" % index),
                         env=clean_env(), name="fake_api")
        self.tls = tls
        self.cafile = cert
        self.read_listening(T(10))
        scheme = "https" if tls else "http"
        self.host = "127.0.0.1"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)

    def _request(self, method, path):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.cafile)
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
    """A running `patchscope proxy`."""

    def __init__(self, tmp, args, env=None, index=0, listen=True):
        argv = [PATCHSCOPE, "proxy"]
        if listen:
            argv += ["--listen", "127.0.0.1:0"]
        argv += list(args)
        penv = clean_env(env)
        if SANITIZED:
            penv.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
            penv.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        super().__init__(argv, os.path.join(tmp, "proxy-%d.log" % index),
                         env=penv, name="patchscope")
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
        except ConnectionResetError:
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
        if not os.access(PATCHSCOPE, os.X_OK):
            self.fail("patchscope binary not found at %s (build it, or set "
                      "PATCHSCOPE)" % PATCHSCOPE)
        self._procs = []
        self._n = 0
        self.addCleanup(self._reap)

    # -- processes --

    def start_fake(self, tls=False, cert=None, key=None):
        """Start tests/fake_api.py; with tls=True and no cert/key given, a
        fresh self-signed pair is made in the temp dir."""
        if tls and not cert:
            cert, key = make_cert(self.tmp)
        self._n += 1
        fake = FakeAPI(self.tmp, tls=tls, cert=cert, key=key, index=self._n)
        self._procs.append(fake)
        return fake

    def start_proxy(self, *args, env=None, listen=True):
        self._n += 1
        proxy = Proxy(self.tmp, args, env=env, index=self._n, listen=listen)
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

    def curl(self, proxy, *args, timeout=None, check=False):
        """Run curl -sS -x PROXY ARGS...; return the CompletedProcess."""
        if CURL is None:
            self.skipTest("curl is not installed")
        argv = [CURL, "-sS", "-x", proxy.url] + [str(a) for a in args]
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(), timeout=timeout or T(30))
        if check and cp.returncode != 0:
            self.fail("%s exited %d: %s" % (" ".join(argv), cp.returncode,
                                            cp.stderr.decode()))
        return cp

    def curl_status(self, proxy, url, *args, timeout=None):
        """Return (status, headers text, body bytes, curl exit status)."""
        hfile = os.path.join(self.tmp, "curl-headers-%d" % self._next())
        cp = self.curl(proxy, "-D", hfile, *args, url, timeout=timeout)
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
