#!/usr/bin/python3
"""Streaming through `patchscope proxy`: a 1 GiB download and large uploads
with flat memory (peak RSS under 32 MiB), back-pressure against a stalled
client and a stalled origin, slow clients that do not block others, and
transfers cut short by either side."""

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, MiB, GiB, request_bytes  # noqa: E402


class Streaming(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()
        self.proxy = self.start_proxy("--quiet")

    def url(self, path):
        return self.fake.url + path

    def host(self):
        return "127.0.0.1:%d" % self.fake.port

    def assert_rss_flat(self, what):
        peak = self.proxy.peak_rss()
        if harness.SANITIZED:
            sys.stderr.write("[%s: peak RSS %.1f MiB, not checked under "
                             "sanitizers] " % (what, peak / MiB))
            return
        self.assertLess(peak, harness.RSS_LIMIT,
                        "%s: the proxy's peak RSS was %.1f MiB"
                        % (what, peak / MiB))

    def feed_pipe(self, fd, n, digest):
        """Write n pattern bytes to fd (then close it), hashing them."""
        try:
            for piece in harness.pattern_source(n):
                digest.update(piece)
                self._write_all(fd, piece)
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)

    @staticmethod
    def _write_all(fd, data):
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    # --- downloads -------------------------------------------------------------

    def test_1gib_download_with_flat_memory(self):
        n = GiB
        cp = self.curl(self.proxy, "-o", "/dev/null", "-D",
                       os.path.join(self.tmp, "head"), "-w",
                       "%{http_code} %{size_download}",
                       self.url("/_fake/stream?bytes=%d" % n),
                       timeout=T(120), check=True)
        self.assertEqual(cp.stdout.split(), [b"200", b"%d" % n])
        with open(os.path.join(self.tmp, "head"), "rb") as f:
            self.assertIn(b"Content-Length: %d" % n, f.read())
        self.assert_rss_flat("1 GiB download")
        # The same through a chunked response, checked byte for byte.
        n = 128 * MiB + 1
        cp = self.curl(self.proxy, "-o", "-",
                       self.url("/_fake/stream?bytes=%d&chunked=1" % n),
                       timeout=T(60), check=True)
        self.assertEqual(len(cp.stdout), n)
        self.assertEqual(hashlib.sha256(cp.stdout).hexdigest(),
                         harness.stream_sha256(n))
        self.assert_rss_flat("128 MiB chunked download")
        self.assert_serves(self.proxy, self.fake)

    def test_chunked_download_with_requests(self):
        n = 256 * MiB + 12345
        s = self.session(self.proxy)
        r = s.get(self.url("/_fake/stream?chunked=1&bytes=%d" % n),
                  stream=True, timeout=T(30))
        self.assertEqual(r.status_code, 200)
        digest = hashlib.sha256()
        total = 0
        for data in r.iter_content(1 << 20):
            total += len(data)
            digest.update(data)
        self.assertEqual(total, n)
        self.assertEqual(digest.hexdigest(), harness.stream_sha256(n))
        self.assert_rss_flat("256 MiB chunked download")

    def test_stalled_client_backpressure(self):
        n = 256 * MiB
        c = self.raw(self.proxy)
        c.send(request_bytes("GET", self.url("/_fake/stream?bytes=%d" % n),
                             self.host()))
        self.assertEqual(c.read_head()[1], 200)
        # Read nothing for a while: the origin can write 256 MiB in that
        # time; a proxy without back-pressure would hold most of it.
        time.sleep(1.5)
        self.assert_rss_flat("stalled client")
        digest = hashlib.sha256()
        total = len(c.buf)
        digest.update(c.buf)
        c.buf = b""
        c.sock.settimeout(T(30))
        while total < n:
            data = c.sock.recv(1 << 20)
            if not data:
                break
            total += len(data)
            digest.update(data)
        self.assertEqual(total, n)
        self.assertEqual(digest.hexdigest(), harness.stream_sha256(n))
        self.assert_rss_flat("stalled client, after the transfer")

    # --- uploads ---------------------------------------------------------------

    def test_256mib_chunked_upload_with_curl_to_a_slow_reader(self):
        if harness.CURL is None:
            self.skipTest("curl is not installed")
        # The origin waits a second before reading: the proxy must stop
        # reading the client meanwhile, not buffer the body.
        n = 256 * MiB
        rfd, wfd = os.pipe()
        digest = hashlib.sha256()
        feeder = threading.Thread(target=self.feed_pipe,
                                  args=(wfd, n, digest), daemon=True)
        curl = subprocess.Popen(
            [harness.CURL, "-sS", "-x", self.proxy.url, "-T", "-",
             self.url("/_fake/upload?delay=1")],
            stdin=rfd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=harness.clean_env())
        os.close(rfd)
        feeder.start()
        out, err = curl.communicate(timeout=T(120))
        feeder.join(T(10))
        self.assertEqual(curl.returncode, 0, err)
        self.assertEqual(json.loads(out), {"bytes": n,
                                           "sha256": digest.hexdigest()})
        self.assert_rss_flat("256 MiB chunked upload")
        self.assert_serves(self.proxy, self.fake)

    def test_content_length_upload_with_requests(self):
        n = 64 * MiB

        class Body:
            def __init__(self):
                self.gen = harness.pattern_source(n)
                self.buf = b""

            def __len__(self):
                return n

            def read(self, size=-1):
                while size < 0 or len(self.buf) < size:
                    try:
                        self.buf += next(self.gen)
                    except StopIteration:
                        break
                if size < 0:
                    size = len(self.buf)
                out, self.buf = self.buf[:size], self.buf[size:]
                return out

        s = self.session(self.proxy)
        r = s.post(self.url("/_fake/upload"), data=Body(), timeout=T(60))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"bytes": n,
                                    "sha256": harness.stream_sha256(n)})
        self.assert_rss_flat("64 MiB upload")

    # --- slow clients ------------------------------------------------------------

    def test_slow_clients_do_not_block_others(self):
        # One client trickles its request head, one stalls a big download.
        trickler = self.raw(self.proxy)
        head = request_bytes("GET", self.url("/_fake/echo?slow=1"),
                             self.host())
        staller = self.raw(self.proxy)
        staller.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        staller.send(request_bytes("GET",
                                   self.url("/_fake/stream?bytes=%d"
                                            % (64 * MiB)), self.host()))
        errors = []

        def trickle():
            try:
                for i in range(len(head)):
                    trickler.send(head[i:i + 1])
                    time.sleep(2.0 / len(head))
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        s = self.session(self.proxy)
        worst = 0
        t0 = time.monotonic()
        count = 0
        while t.is_alive() or count < 5:
            start = time.monotonic()
            r = s.get(self.url("/_fake/echo?normal=%d" % count),
                      timeout=T(10))
            worst = max(worst, time.monotonic() - start)
            self.assertEqual(r.status_code, 200)
            count += 1
            if time.monotonic() - t0 > T(10):
                break
        t.join(T(5))
        self.assertEqual(errors, [])
        self.assertLess(worst, T(0.75), "a normal request waited %.2fs"
                        % worst)
        # The trickler's request went through in the end.
        resp = trickler.read_response(timeout=T(10))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.json()["query"], "slow=1")
        staller.close()

    # --- transfers cut short -----------------------------------------------------

    def test_origin_closes_mid_body(self):
        cp = self.curl(self.proxy, "-o", os.path.join(self.tmp, "cut"),
                       "-w", "%{http_code} %{size_download}",
                       self.url("/_fake/close-mid-body"))
        self.assertNotEqual(cp.returncode, 0,
                            "curl must see an incomplete transfer")
        code, size = cp.stdout.split()
        self.assertLess(int(size), 1000)
        # On a raw socket: the proxy cannot finish the response, so it
        # closes the connection rather than reuse it out of step.
        c = self.raw(self.proxy)
        c.send(request_bytes("GET", self.url("/_fake/close-mid-body"),
                             self.host()))
        with self.assertRaises(EOFError):
            c.read_response(timeout=T(5))
        self.assertTrue(c.closed_by_peer(T(3)))
        # requests (urllib3 1.x) does not check Content-Length: it either
        # raises or hands over fewer bytes than announced.
        s = self.session(self.proxy)
        try:
            content = s.get(self.url("/_fake/close-mid-body"),
                            timeout=T(10)).content
            self.assertLess(len(content), 1000)
        except harness.requests.exceptions.RequestException:
            pass
        self.assert_serves(self.proxy, self.fake)
        self.assertEqual(self.fake.requests_for("/_fake/close-mid-body"), 3)

    def assert_aborted_cleanly(self, what):
        """After a client aborts: the proxy closes the origin connection
        (it cannot be reused mid-body), goes on serving, and has nothing
        left in flight (SIGTERM exits at once)."""
        harness.wait_for(lambda: self.fake.stats()["open"] == 0, T(3), 0.05,
                         "the proxy to close the origin connection after "
                         "the client aborted the %s" % what)
        self.assert_serves(self.proxy, self.fake)
        self.assert_rss_flat("aborted %s" % what)
        t0 = time.monotonic()
        self.assertEqual(self.proxy.stop(), 0)
        self.assertLess(time.monotonic() - t0, T(1.5),
                        "SIGTERM waited for the aborted %s" % what)

    def test_client_aborts_download(self):
        c = self.raw(self.proxy)
        c.send(request_bytes("GET", self.url("/_fake/stream?bytes=%d" % GiB),
                             self.host()))
        got = 0
        while got < 4 * MiB:
            got += len(c.sock.recv(1 << 20))
        c.close()
        self.assert_aborted_cleanly("download")

    def test_client_aborts_upload(self):
        c = self.raw(self.proxy)
        c.send(request_bytes("POST", self.url("/_fake/upload"), self.host(),
                             [("Content-Length", str(100 * MiB))]))
        c.send(b"u" * MiB)
        harness.wait_for(lambda: self.fake.requests_for("/_fake/upload"),
                         T(3), what="the upload to reach the origin")
        c.close()
        self.assert_aborted_cleanly("upload")


if __name__ == "__main__":
    harness.main()
