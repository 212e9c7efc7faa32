#!/usr/bin/env python3
"""soak_abort.py: clients that give up in the middle of a body, for
tests/bench/soak (standard library only).

Each of --clients threads loops until --duration seconds have passed, with
--pause seconds between iterations, picking one of:

  get-abort    GET a big file through the proxy, read a random part of the
               body (none of it to 95%), then close; half the time with
               SO_LINGER 0, so the proxy sees a reset instead of a FIN
  put-abort    PUT with Content-Length of the big size, send a random part of
               the body, close (or reset)
  get-full     GET the medium file whole; its length must be right
  put-full     PUT the medium size whole; the origin must answer 200
  head-abort   send part of a request head, close

Every third client (2, 5, ...) does the same inside an intercepted TLS
tunnel (CONNECT to --tls-origin, a handshake verified against --cafile,
patchscope's CA), the others in plain HTTP with absolute-form requests.
With --record-proxy, about --record-share of the iterations go to that
proxy (`patchscope record`) instead, with the small file and size, so that
the cassette does not grow by megabytes at each.

An iteration is "ok" when the proxy behaved: the answer began with 200 and
its body was as long as expected up to the point the client chose to stop.
Anything else (refused, reset, a short or wrong answer) is "unexpected":
each cause is counted (numbers blanked) and the first 20 are kept whole. At the end (or on SIGTERM, SIGINT) one line:

  ABORTSTATS {"iterations": N, "ok": N, "unexpected": N, "bytes_sent": N,
              "bytes_received": N, "by_kind": {...}, "samples": [...]}
"""

import argparse
import json
import random
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time

KINDS = ("get-abort", "put-abort", "get-full", "put-full", "head-abort")
WEIGHTS = (4, 4, 1, 1, 1)


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_kind = {}
        self.samples = []
        self.causes = {}
        self.sent = 0
        self.received = 0

    def add(self, kind, ok, cause, sent, received):
        with self.lock:
            k = self.by_kind.setdefault(kind, {"iterations": 0, "ok": 0, "unexpected": 0})
            k["iterations"] += 1
            k["ok" if ok else "unexpected"] += 1
            self.sent += sent
            self.received += received
            if not ok:
                # The same cause with other sizes or offsets counts once.
                c = "%s: %s" % (kind, re.sub(r"[0-9]+", "N", cause))
                self.causes[c] = self.causes.get(c, 0) + 1
                if len(self.samples) < 20:
                    self.samples.append("%s %s: %s" % (time.strftime("%H:%M:%S"), kind, cause))

    def line(self):
        with self.lock:
            it = sum(k["iterations"] for k in self.by_kind.values())
            ok = sum(k["ok"] for k in self.by_kind.values())
            return "ABORTSTATS " + json.dumps({
                "iterations": it, "ok": ok, "unexpected": it - ok,
                "bytes_sent": self.sent, "bytes_received": self.received,
                "by_kind": self.by_kind, "causes": self.causes, "samples": self.samples})


class Unexpected(Exception):
    pass


class Client:
    def __init__(self, args, idx, stats, stop, chunk):
        self.a = args
        self.tls = idx % 3 == 2
        self.rng = random.Random(idx * 7919 + int(time.time()))
        self.stats = stats
        self.stop = stop
        self.chunk = chunk
        self.sent = 0
        self.received = 0

    # --- connections -------------------------------------------------------

    def open(self, proxy):
        s = socket.create_connection(proxy, timeout=self.a.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.tls:
            return s
        host, port = self.a.tls_origin
        s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port, host, port)).encode())
        head = self.read_head(s)
        if not head.startswith(b"HTTP/1.1 200"):
            s.close()
            raise Unexpected("CONNECT answered %r" % head[:60])
        ctx = ssl.create_default_context(cafile=self.a.cafile)
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx.wrap_socket(s, server_hostname=host)

    def close(self, s, reset):
        if reset:
            raw = s
            try:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        s.close()

    def read_head(self, s):
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(1)
            if not d:
                raise Unexpected("connection closed before the end of the answer's head (%r)" % buf[:60])
            buf += d
            if len(buf) > 16384:
                raise Unexpected("answer head over 16 KiB")
        return buf

    def target(self, path):
        if self.tls:
            host, port = self.a.tls_origin
            return path, "%s:%d" % (host, port)
        host, port = self.a.origin
        return "http://%s:%d%s" % (host, port, path), "%s:%d" % (host, port)

    def response(self, s):
        head = self.read_head(s)
        status = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"?"
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, length

    def read_body(self, s, want):
        got = 0
        while got < want:
            d = s.recv(min(262144, want - got))
            if not d:
                break
            got += len(d)
        self.received += got
        return got

    def send_body(self, s, n):
        left = n
        while left > 0:
            piece = self.chunk[: min(left, len(self.chunk))]
            s.sendall(piece)
            left -= len(piece)
            self.sent += len(piece)

    # --- the kinds -----------------------------------------------------------

    def get(self, proxy, name, size, full):
        s = self.open(proxy)
        target, host = self.target("/files/" + name)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n\r\n" % (target, host)).encode())
        status, length = self.response(s)
        if status != b"200" or length != size:
            self.close(s, False)
            raise Unexpected("GET %s answered %s, Content-Length %s" % (name, status.decode(), length))
        want = size if full else self.rng.randrange(0, int(size * 0.95))
        got = self.read_body(s, want)
        self.close(s, not full and self.rng.random() < 0.5)
        if got < want:
            raise Unexpected("GET %s: body cut at %d of the %d bytes wanted" % (name, got, want))

    def put(self, proxy, size, full):
        s = self.open(proxy)
        target, host = self.target("/upload")
        s.sendall(("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: %d\r\n\r\n" % (target, host, size)).encode())
        if not full:
            self.send_body(s, self.rng.randrange(0, int(size * 0.95)))
            self.close(s, self.rng.random() < 0.5)
            return
        self.send_body(s, size)
        status, length = self.response(s)
        got = self.read_body(s, length or 0)
        self.close(s, False)
        if status != b"200" or got != (length or 0):
            raise Unexpected("PUT of %d bytes answered %s" % (size, status.decode()))

    def head_abort(self, proxy):
        s = self.open(proxy)
        target, host = self.target("/v1/acc1/profiles/p1")
        head = "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n" % (target, host)
        s.sendall(head[: self.rng.randrange(1, len(head))].encode())
        self.close(s, self.rng.random() < 0.5)

    def run(self):
        a = self.a
        while not self.stop.is_set():
            kind = self.rng.choices(KINDS, WEIGHTS)[0]
            proxy, big, medium = a.proxy, ("big.bin", a.big), ("medium.bin", a.medium)
            if a.record_proxy and self.rng.random() < a.record_share:
                proxy, big, medium = a.record_proxy, ("small.bin", a.small), ("small.bin", a.small)
            self.sent = self.received = 0
            ok, cause = True, ""
            try:
                if kind == "get-abort":
                    self.get(proxy, big[0], big[1], False)
                elif kind == "get-full":
                    self.get(proxy, medium[0], medium[1], True)
                elif kind == "put-abort":
                    self.put(proxy, big[1], False)
                elif kind == "put-full":
                    self.put(proxy, medium[1], True)
                else:
                    self.head_abort(proxy)
            except Unexpected as e:
                ok, cause = False, str(e)
            except (OSError, ValueError, IndexError) as e:
                ok, cause = False, "%s: %s" % (type(e).__name__, e)
            self.stats.add(("tls-" if self.tls else "") + kind, ok, cause, self.sent, self.received)
            self.stop.wait(a.pause)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--proxy", type=hostport, required=True, help="HOST:PORT of patchscope proxy")
    p.add_argument("--record-proxy", type=hostport, help="HOST:PORT of patchscope record")
    p.add_argument("--record-share", type=float, default=0.1)
    p.add_argument("--origin", type=hostport, required=True, help="HOST:PORT, plain HTTP")
    p.add_argument("--tls-origin", type=hostport, required=True, help="HOST:PORT, HTTPS")
    p.add_argument("--cafile", required=True, help="patchscope's ca.pem")
    p.add_argument("--big", type=int, required=True, help="bytes of files/big.bin")
    p.add_argument("--medium", type=int, required=True, help="bytes of files/medium.bin")
    p.add_argument("--small", type=int, required=True, help="bytes of files/small.bin")
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--pause", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("-d", "--duration", type=float, required=True)
    a = p.parse_args()

    stats = Stats()
    stop = threading.Event()
    chunk = random.Random(1).randbytes(1 << 20)

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threads = [threading.Thread(target=Client(a, i, stats, stop, chunk).run, daemon=True)
               for i in range(a.clients)]
    for t in threads:
        t.start()
    stop.wait(a.duration)
    stop.set()
    for t in threads:
        t.join(a.timeout + 5)
    print(stats.line(), flush=True)


if __name__ == "__main__":
    main()
