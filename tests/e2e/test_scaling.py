#!/usr/bin/python3
"""docs/scaling.md for real: two `patchscope replay --session-header
X-Test-Session` instances behind nginx, which routes by that header
(`hash $http_x_test_session consistent;`), serving one cassette that is a
read-only file reached through symbolic links, laid out as a Kubernetes
ConfigMap mounts it (FILE -> ..data/FILE, ..data -> a dated directory).
Two interleaved sessions, routed to different instances, each get the
recorded order of a GET recorded three times; nothing is written beside
the cassette."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402
from test_cassette import CassetteCase, har_doc, har_entry  # noqa: E402

NGINX = "/usr/sbin/nginx"
SEQ_URL = "https://api.test/v1/acc1/seq"

NGINX_CONF = """
worker_processes 1;
error_log %(tmp)s/nginx-error.log info;
events { worker_connections 64; }
http {
    access_log %(tmp)s/nginx-access.log;
    client_body_temp_path %(tmp)s/nginx-body;
    proxy_temp_path %(tmp)s/nginx-proxy;
    fastcgi_temp_path %(tmp)s/nginx-fastcgi;
    uwsgi_temp_path %(tmp)s/nginx-uwsgi;
    scgi_temp_path %(tmp)s/nginx-scgi;
    upstream replay {
        hash $http_x_test_session consistent;
        server 127.0.0.1:%(port1)d;
        server 127.0.0.1:%(port2)d;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://replay;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            add_header X-Upstream $upstream_addr always;
        }
    }
}
"""


def tree_state(top):
    """Every path under top with its type, size, mode and mtime."""
    state = {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            state[os.path.relpath(path, top)] = (
                stat.S_IFMT(st.st_mode), st.st_size, st.st_mode & 0o7777,
                st.st_mtime_ns)
    return state


class Scaling(CassetteCase):

    def setUp(self):
        super().setUp()
        if not os.access(NGINX, os.X_OK):
            self.skipTest("nginx is not installed (apt-get install "
                          "nginx-light)")
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")

    def configmap(self):
        """The cassette as a ConfigMap volume holds it, made read-only."""
        top = os.path.join(self.tmp, "configmap")
        dated = os.path.join(top, "..2026_12_03_07_00_00.000000001")
        os.makedirs(dated)
        with open(os.path.join(dated, "seq.har"), "w") as f:
            f.write(json.dumps(har_doc([
                har_entry("GET", SEQ_URL, body='{"n": %d}' % n)
                for n in (1, 2, 3)])))
        os.symlink(os.path.basename(dated), os.path.join(top, "..data"))
        os.symlink(os.path.join("..data", "seq.har"),
                   os.path.join(top, "seq.har"))
        os.chmod(os.path.join(dated, "seq.har"), 0o444)
        os.chmod(dated, 0o555)
        os.chmod(top, 0o555)
        self.addCleanup(os.chmod, top, 0o755)
        self.addCleanup(os.chmod, dated, 0o755)
        return top, os.path.join(top, "seq.har")

    def start_nginx(self, port1, port2):
        port = harness.free_port()
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"tmp": self.tmp, "port": port,
                                  "port1": port1, "port2": port2})
        log = open(os.path.join(self.tmp, "nginx.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [NGINX, "-p", self.tmp, "-c", conf, "-e",
             os.path.join(self.tmp, "nginx-error.log"),
             "-g", "daemon off; pid %s/nginx.pid;" % self.tmp],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

        def stop():
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(T(5))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        deadline = time.monotonic() + T(10)
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return "http://127.0.0.1:%d" % port
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(self.tmp,
                                           "nginx-error.log")) as f:
                        self.fail("nginx did not start: %s" % f.read())
                time.sleep(0.05)

    def get(self, s, base, path, session):
        r = s.get(base + path, headers={"X-Test-Session": session},
                  timeout=T(10))
        return r, r.headers.get("X-Upstream")

    def test_two_instances_behind_nginx_keep_each_session_in_order(self):
        top, cassette = self.configmap()
        before = tree_state(top)
        r1 = self.replay(cassette, "--session-header", "X-Test-Session")
        r2 = self.replay(cassette, "--session-header", "X-Test-Session")
        base = self.start_nginx(r1.port, r2.port)
        s = self.plain_session()
        # Two sessions that nginx sends to different instances (a miss
        # takes no place in any sequence, so probing costs nothing).
        by_upstream = {}
        for i in range(64):
            name = "worker-%d" % i
            r, upstream = self.get(s, base, "/v1/acc1/probe", name)
            self.assertEqual(r.status_code, 404, r.text)
            self.assertEqual(r.json()["session"], name)
            by_upstream.setdefault(upstream, name)
            if len(by_upstream) == 2:
                break
        self.assertEqual(sorted(by_upstream), sorted(
            ["127.0.0.1:%d" % r1.port, "127.0.0.1:%d" % r2.port]))
        a, b = by_upstream.values()
        got = []
        for name in (a, b, a, b, a, b, a):
            r, upstream = self.get(s, base, "/v1/acc1/seq", name)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.headers["X-Patchscope-Replay"], "hit")
            got.append((name, r.json()["n"], upstream))
        ua = [k for k, v in by_upstream.items() if v == a][0]
        ub = [k for k, v in by_upstream.items() if v == b][0]
        self.assertEqual(got, [(a, 1, ua), (b, 1, ub), (a, 2, ua),
                               (b, 2, ub), (a, 3, ua), (b, 3, ub),
                               (a, 3, ua)])
        # Each instance served only its own session's requests.
        self.stop_ok(r1)
        self.stop_ok(r2)
        served = {"127.0.0.1:%d" % rp.port: rp.log().count(
            "/v1/acc1/seq -> 200") for rp in (r1, r2)}
        self.assertEqual((served[ua], served[ub]), (4, 3), served)
        for rp in (r1, r2):
            self.assertNotIn("recording to", rp.log())
            self.assertNotIn("record=", rp.log())
        # The read-only, linked cassette: followed, never written.
        self.assertEqual(tree_state(top), before)
        self.assertTrue(os.path.islink(cassette))


if __name__ == "__main__":
    harness.main()
