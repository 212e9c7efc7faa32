#!/usr/bin/env python3
"""Upload origin for tests/bench/stream: reads every byte of a request body,
then answers.

    upload_origin.py [PORT]        (default 0: a free port)

Listens on 127.0.0.1, prints "listening on 127.0.0.1:PORT" on stdout once
it accepts connections, and answers any PUT or POST (Content-Length or
chunked body; "Expect: 100-continue" is answered with 100 first) with 200
and a one-line JSON body, only after the whole body is read:

    {"bytes": N, "sha256": "<hex>" | null}

The SHA-256 is computed only when the path has "sha256=1" in its query, so
that a timed upload measures the transfer, not the hash. HTTP/1.1,
keep-alive, a thread per connection: a proxy keeps its upstream connection
open in its pool after a transfer, and a server that serves one connection
at a time would not accept the next client's until that one closes (an
idle timeout later). nginx is not used for uploads because its `return` answers at once
and discards the body in the background, so the client would time its
upload against an answer sent before the body was read.

Standard library only.
"""

import hashlib
import http.server
import json
import sys

CHUNK = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: no line per request
        pass

    def _read_exact(self, n, buf, hasher):
        """Read exactly n bytes of the body into buf, a chunk at a time."""
        view = memoryview(buf)
        left = n
        while left > 0:
            want = min(left, len(buf))
            got = self.rfile.readinto(view[:want])
            if not got:
                raise ConnectionError("body cut short")
            if hasher is not None:
                hasher.update(view[:got])
            left -= got

    def _body(self, hasher):
        buf = bytearray(CHUNK)
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            total = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("chunked body cut short")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return total
                self._read_exact(size, buf, hasher)
                self.rfile.readline(3)  # the CRLF after the chunk
                total += size
        n = int(self.headers.get("Content-Length") or 0)
        self._read_exact(n, buf, hasher)
        return n

    def _upload(self):
        hasher = hashlib.sha256() if "sha256=1" in self.path else None
        try:
            n = self._body(hasher)
        except (ConnectionError, ValueError) as e:
            self.send_error(400, str(e))
            self.close_connection = True
            return
        body = json.dumps(
            {"bytes": n, "sha256": hasher.hexdigest() if hasher else None}
        ).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = _upload
    do_POST = _upload


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
