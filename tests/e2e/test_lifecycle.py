#!/usr/bin/python3
"""Life and death of `patchscope proxy`: SIGTERM/SIGINT when idle and with
exchanges in flight (finish them, at most 5 s, exit 0), and the idle timeout
for keep-alive connections and stalled transfers."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, MiB, request_bytes  # noqa: E402


def refuses_connections(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    s.close()
    return False


class Lifecycle(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()

    def url(self, path):
        return self.fake.url + path

    def timed_stop(self, proxy, sig, timeout):
        t0 = time.monotonic()
        rc = proxy.stop(sig, timeout)
        return rc, time.monotonic() - t0

    def test_sigterm_when_idle(self):
        proxy = self.start_proxy()
        self.assert_serves(proxy, self.fake)
        rc, elapsed = self.timed_stop(proxy, signal.SIGTERM, T(8))
        self.assertEqual(rc, 0)
        self.assertLess(elapsed, T(1))

    def test_sigint_when_idle(self):
        proxy = self.start_proxy()
        rc, elapsed = self.timed_stop(proxy, signal.SIGINT, T(8))
        self.assertEqual(rc, 0)
        self.assertLess(elapsed, T(1))

    def test_sigterm_with_idle_keepalive_clients(self):
        # Idle keep-alive connections have nothing in flight: no waiting.
        proxy = self.start_proxy()
        s = self.session(proxy)
        self.assertEqual(s.get(self.url("/_fake/echo"),
                               timeout=T(10)).status_code, 200)
        c = self.raw(proxy)
        c.send(request_bytes("GET", self.url("/_fake/echo"),
                             "127.0.0.1:%d" % self.fake.port))
        self.assertEqual(c.read_response().status, 200)
        rc, elapsed = self.timed_stop(proxy, signal.SIGTERM, T(8))
        self.assertEqual(rc, 0)
        self.assertLess(elapsed, T(1.5))
        self.assertTrue(c.closed_by_peer(T(1)))

    def test_sigterm_finishes_the_request_in_flight(self):
        if harness.CURL is None:
            self.skipTest("curl is not installed")
        proxy = self.start_proxy()
        curl = subprocess.Popen(
            [harness.CURL, "-sS", "-x", proxy.url, "-w", "\n%{http_code}",
             self.url("/_fake/slow?delay=3")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=harness.clean_env())
        self.addCleanup(lambda: curl.poll() is None and curl.kill())
        harness.wait_for(lambda: self.fake.requests_for("/_fake/slow") == 1,
                         T(5), what="the slow request to reach the origin")
        done = {}

        def wait_curl():
            out, err = curl.communicate(timeout=T(15))
            done["curl"] = (time.monotonic(), curl.returncode, out, err)

        waiter = threading.Thread(target=wait_curl, daemon=True)
        waiter.start()
        t0 = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        # It stops accepting at once (the exchange in flight goes on);
        # "at once" has some slack for a machine busy with other tests.
        harness.wait_for(lambda: refuses_connections(proxy.port), T(2),
                         0.05, "the listener to close")
        self.assertIsNone(curl.poll(), "the request is still in flight "
                          "when the listener has closed")
        rc = proxy.wait(T(8))
        proxy.stopped = True
        exited = time.monotonic()
        waiter.join(T(10))
        self.assertEqual(rc, 0, "exit status after SIGTERM")
        self.assertLess(exited - t0, T(5.5))
        t_curl, crc, out, err = done["curl"]
        self.assertEqual(crc, 0, err)
        body, _, code = out.rpartition(b"\n")
        self.assertEqual(code, b"200")
        self.assertEqual(json.loads(body), {"slept": 3.0})
        self.assertGreaterEqual(exited + 0.05, t_curl,
                                "the proxy exited before the response was "
                                "delivered")

    def test_sigterm_gives_up_after_5_seconds(self):
        if harness.CURL is None:
            self.skipTest("curl is not installed")
        proxy = self.start_proxy()
        curl = subprocess.Popen(
            [harness.CURL, "-sS", "-x", proxy.url, "-o", "/dev/null",
             self.url("/_fake/slow?delay=30")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=harness.clean_env())
        self.addCleanup(lambda: curl.poll() is None and curl.kill())
        harness.wait_for(lambda: self.fake.requests_for("/_fake/slow") == 1,
                         T(5), what="the slow request to reach the origin")
        rc, elapsed = self.timed_stop(proxy, signal.SIGTERM, T(10))
        self.assertEqual(rc, 0)
        self.assertLess(elapsed, 5 + T(1.5))
        self.assertGreater(elapsed, 4, "it waited for the exchange in flight")
        # The client is not left hanging.
        curl.wait(T(3))
        self.assertNotEqual(curl.returncode, 0)

    def test_idle_timeout_closes_keepalive_connections(self):
        proxy = self.start_proxy("--idle-timeout", str(T(1)))
        c = self.raw(proxy)
        c.send(request_bytes("GET", self.url("/_fake/echo"),
                             "127.0.0.1:%d" % self.fake.port))
        self.assertEqual(c.read_response().status, 200)
        t0 = time.monotonic()
        self.assertFalse(c.closed_by_peer(T(0.5)), "closed too early")
        self.assertTrue(c.closed_by_peer(T(3)), "idle connection kept open")
        self.assertGreater(time.monotonic() - t0, 0.8 * T(1))
        self.assert_serves(proxy, self.fake)

    def test_idle_timeout_ends_a_stalled_transfer(self):
        proxy = self.start_proxy("--idle-timeout", str(T(1)))
        n = 512 * MiB
        c = self.raw(proxy)
        c.send(request_bytes("GET", self.url("/_fake/stream?bytes=%d" % n),
                             "127.0.0.1:%d" % self.fake.port))
        self.assertEqual(c.read_head()[1], 200)
        # Stall: read nothing for longer than the idle timeout.
        time.sleep(T(1) + 1.5)
        total = len(c.buf)
        c.sock.settimeout(T(5))
        try:
            while True:
                data = c.sock.recv(1 << 20)
                if not data:
                    break
                total += len(data)
        except ConnectionResetError:
            pass
        self.assertLess(total, n, "the stalled transfer was not cut off")
        self.assert_serves(proxy, self.fake)


if __name__ == "__main__":
    harness.main()
