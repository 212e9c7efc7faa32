#!/usr/bin/python3
"""`patchscope doctor` on this machine, through the real binary (issue 13,
item 6): the table's rows for what is installed here (each client's
requests reaching the proxy, Node 20 not going through it and told what
to do instead) and the exit status that follows from them, against a
running proxy and against one doctor starts itself when nothing answers
at --listen; clients that are not installed (a PATH holding only curl);
a bad --listen."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402
from test_clients import (GIT, JAVA, GO, NODE, SANITIZER_WORDS,  # noqa: E402
                          ClientCase, node_env_proxy)

ROW = re.compile(r"^(\S+)\s+(not installed|\S+(?: \S+)?)\s{2,}(\S+(?: only)?)"
                 r"\s+(yes \(by hand\)|\S+)\s+(.*)$")


class Doctor(ClientCase):

    def table(self, stdout):
        rows = {}
        for line in stdout.splitlines():
            m = ROW.match(line)
            if m and m.group(1) != "CLIENT":
                rows[m.group(1)] = m.groups()[1:]
        return rows

    def expected_installed(self):
        have = {"curl": harness.CURL is not None, "node": NODE is not None,
                "git": GIT is not None, "java": JAVA is not None,
                "go": GO is not None}
        python = shutil.which("python3")
        have["python"] = python is not None and subprocess.run(
            [python, "-c", "import requests"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0
        return have

    def test_doctor_on_this_machine_through_a_running_proxy(self):
        proxy = self.start_proxy()
        cp = self.run_ps("doctor", "--listen", "127.0.0.1:%d" % proxy.port,
                         timeout=T(200))
        for word in SANITIZER_WORDS:
            self.assertNotIn(word, cp.stderr)
        self.assertIn("Clients through the patchscope proxy at "
                      "127.0.0.1:%d (already running)" % proxy.port,
                      cp.stdout)
        rows = self.table(cp.stdout)
        have = self.expected_installed()
        self.assertEqual(sorted(rows), sorted(have), cp.stdout)
        failed = 0
        for name, installed in have.items():
            version, via, trust, fix = rows[name]
            if not installed:
                self.assertEqual(version, "not installed", cp.stdout)
                continue
            self.assertNotEqual(version, "not installed", cp.stdout)
            # Each client's requests reached this proxy.
            self.assertRegex(proxy.log(), r"GET https://doctor\.patchscope"
                             r"\.invalid/%s\S* -> 200" % name)
            if name == "node" and not node_env_proxy(version):
                self.assertEqual((via, trust), ("no", "yes (by hand)"),
                                 cp.stdout)
                self.assertIn("this Node ignores NODE_USE_ENV_PROXY", fix)
                self.assertIn("EnvHttpProxyAgent", fix)
                failed += 1
                continue
            self.assertEqual((via, trust, fix), ("yes", "yes", "-"),
                             cp.stdout)
        self.assertEqual(cp.returncode, 1 if failed else 0,
                         cp.stdout + cp.stderr)
        if failed:
            self.assertIn("%d installed client%s did not pass" % (
                failed, "" if failed == 1 else "s"), cp.stdout)

    def test_doctor_starts_its_own_proxy_and_lists_missing_clients(self):
        if harness.CURL is None:
            self.skipTest("curl is not installed (Debian package curl)")
        bin_dir = os.path.join(self.tmp, "bin")
        os.mkdir(bin_dir)
        os.symlink(harness.CURL, os.path.join(bin_dir, "curl"))
        dead = harness.free_port()
        cp = self.run_ps("doctor", "--listen", "127.0.0.1:%d" % dead,
                         env={"PATH": bin_dir}, timeout=T(60))
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stderr.strip(),
                         "patchscope: nothing answers at 127.0.0.1:%d "
                         "(Connection refused); checking through a proxy "
                         "started for the check instead" % dead)
        self.assertRegex(cp.stdout, r"proxy at 127\.0\.0\.1:\d+ \(started "
                         r"for this check\), CA in %s" % re.escape(
                             self.ps_home))
        rows = self.table(cp.stdout)
        self.assertEqual(rows["curl"][1:], ("yes", "yes", "-"))
        for name, package in (("python", "python3-requests"),
                              ("node", "nodejs"), ("git", "git"),
                              ("java", "openjdk-17-jdk-headless"),
                              ("go", "golang-go")):
            self.assertEqual(rows[name], ("not installed", "-", "-",
                                          "(install %s to check it)"
                                          % package), cp.stdout)
        # Its proxy is gone, and so is its temporary directory.
        self.assertEqual([n for n in os.listdir(self.tmp)
                          if n.startswith("patchscope-doctor")], [])

    def test_doctor_interrupted_leaves_nothing_running(self):
        """SIGTERM or SIGINT while a client hangs: the client is killed, the
        proxy doctor started is stopped, its files are removed, and doctor
        ends by that signal, at once."""
        bin_dir = os.path.join(self.tmp, "bin")
        os.mkdir(bin_dir)
        pids = os.path.join(self.tmp, "pids")
        with open(os.path.join(bin_dir, "curl"), "w") as f:
            f.write("#!/bin/sh\necho $$ >> %s\nexec /bin/sleep 60\n" % pids)
        os.chmod(os.path.join(bin_dir, "curl"), 0o755)
        tmpdir = os.path.join(self.tmp, "t")
        os.mkdir(tmpdir)
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home,
                                 "PATH": bin_dir, "TMPDIR": tmpdir})
        for sig in (signal.SIGTERM, signal.SIGINT):
            p = subprocess.Popen([harness.PATCHSCOPE, "doctor"],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env)
            self.addCleanup(p.kill)
            line = p.stdout.readline().decode()
            m = re.search(r"proxy at 127\.0\.0\.1:(\d+) \(started", line)
            self.assertIsNotNone(m, line)
            deadline = time.monotonic() + T(10)
            while not os.path.exists(pids) and time.monotonic() < deadline:
                time.sleep(0.05)
            with open(pids) as f:
                client = int(f.read().split()[-1])
            p.send_signal(sig)
            out, err = p.communicate(timeout=T(10))
            self.assertEqual(p.returncode, -sig, err)
            self.assertNotIn(b"Sanitizer", err)
            with self.assertRaises(OSError, msg="the proxy still runs"):
                socket.create_connection(("127.0.0.1", int(m.group(1))),
                                         timeout=T(2)).close()
            # The hanging client is gone (reaped: no such process).
            with self.assertRaises(ProcessLookupError):
                os.kill(client, 0)
            self.assertEqual(os.listdir(tmpdir), [])
            os.unlink(pids)

    def test_doctor_bad_listen_is_a_usage_error(self):
        cp = self.run_ps("doctor", "--listen", "nowhere")
        self.assert_one_line_error(cp, "--listen")


if __name__ == "__main__":
    harness.main()
