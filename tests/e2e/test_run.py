#!/usr/bin/env python3
"""`patchscope proxy|record|replay [OPTIONS] -- CMD [ARGS...]`: a command run
under patchscope.

The real binary runs real commands (sh, curl, Python): their exit statuses
as patchscope's, 2 when patchscope cannot start (CMD then never runs),
127/126 for a command that cannot run, --strict's 1 under CMD's own
failure, SIGTERM and SIGINT passed on (and Ctrl-C on a terminal reaching
CMD once), CMD's environment (the variables of `env`, PATCHSCOPE_URL, no
patchscope descriptor, default signals), record and replay of curl and
Python requests over HTTP and HTTPS, PATCHSCOPE_URL used straight and
through the proxy (served, never forwarded to itself), and stdout left to
CMD alone.
"""

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time

import harness
from harness import T

PY = harness.PYTHON
LISTEN_RX = re.compile(r"listening on 127\.0\.0\.1:(\d+)")

# CMD that prints what it was given: environment, descriptors, signals.
REPORT_CHILD = r"""
import json, os
fds = {}
for fd in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        fds[fd] = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        pass
status = {}
with open("/proc/self/status") as f:
    for line in f:
        k, _, v = line.partition(":")
        status[k] = v.strip()
print(json.dumps({"env": dict(os.environ), "fds": fds,
                  "pgrp": os.getpgrp(), "pid": os.getpid(),
                  "ppid": os.getppid(), "status": status}))
"""

# CMD of the terminal tests: counts the SIGINTs it gets; says it is ready
# in argv[1], then, once one came (and a moment more, for a second one),
# writes the count to argv[2]. Python, not sh: dash vforks `sleep`, and a ^Z
# that lands between its vfork and exec leaves dash blocked, never stopped.
SIGINT_COUNTER = r"""
import signal, sys, time
n = 0
def count(sig, frame):
    global n
    n += 1
signal.signal(signal.SIGINT, count)
open(sys.argv[1], "w").close()
while n == 0:
    time.sleep(0.05)
time.sleep(0.5)
with open(sys.argv[2], "w") as f:
    f.write(str(n))
"""

# A client of the `--` form: curl and Python requests over HTTP and HTTPS,
# through the proxy variables and the CA bundle alone.
REQUESTS_CLIENT = r"""
import os, sys, requests
for url in sys.argv[1:]:
    r = requests.get(url, timeout=20)
    r.raise_for_status()
    print(r.status_code, r.json().get("query"))
"""

# A client that uses only PATCHSCOPE_URL (proxy variables ignored), then the
# same URL through the proxy variables (absolute-form to patchscope itself).
BASE_URL_CLIENT = r"""
import json, os, sys, urllib.request
base = os.environ["PATCHSCOPE_URL"]
out = []
for proxies in ({}, None):
    handler = urllib.request.ProxyHandler(proxies) if proxies == {} else \
        urllib.request.ProxyHandler()
    opener = urllib.request.build_opener(handler)
    try:
        with opener.open(base + sys.argv[1], timeout=20) as r:
            out.append([r.status, r.headers.get("X-Patchscope-Replay"),
                        json.loads(r.read()).get("query")])
    except urllib.error.HTTPError as e:
        out.append([e.code, e.headers.get("X-Patchscope-Replay"),
                    e.headers.get("X-Patchscope-Error")])
print(json.dumps(out))
"""


class Run(harness.TestCase):
    """Each test runs patchscope to completion with a command after --."""

    def run_under(self, command, *args, cmd, env=None, timeout=None,
                  input_fd=subprocess.DEVNULL):
        """`patchscope COMMAND ARGS -- CMD...` to its end; returns the
        CompletedProcess (stdout/stderr text) after checking stderr for
        sanitizer reports."""
        penv = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        penv.update(env or {})
        if harness.SANITIZED:
            penv.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
        argv = [harness.PATCHSCOPE, command] + [str(a) for a in args] + \
            ["--"] + [str(c) for c in cmd]
        cp = subprocess.run(argv, stdin=input_fd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=penv,
                            timeout=timeout or T(30))
        cp.stdout = cp.stdout.decode("utf-8", "replace")
        cp.stderr = cp.stderr.decode("utf-8", "replace")
        self.assert_no_sanitizer_report(cp.stderr)
        return cp

    def assert_no_sanitizer_report(self, text):
        for marker in ("AddressSanitizer", "LeakSanitizer",
                       "runtime error:"):
            self.assertNotIn(marker, text, text)

    def assert_one_line_error(self, cp, rc, needle):
        self.assertEqual(cp.returncode, rc, cp.stderr)
        lines = [l for l in cp.stderr.splitlines()
                 if l.startswith("patchscope:")]
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertIn(needle, lines[0])

    def port_of(self, cp):
        m = LISTEN_RX.search(cp.stderr)
        self.assertIsNotNone(m, "no `listening on` log line:\n" + cp.stderr)
        return int(m.group(1))

    # -- exit statuses -------------------------------------------------

    def test_exit_status_is_the_commands(self):
        """0, CMD's own failure, 128+N for a signal, 127 and 126; stdout is
        CMD's alone, the `listening on` line goes to stderr."""
        cp = self.run_under("proxy", cmd=["sh", "-c", "echo hello; echo "
                                          "to-err >&2"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "hello\n")
        port = self.port_of(cp)
        self.assertNotEqual(port, 8080, "port 0 is bound without --listen")
        self.assertIn("to-err", cp.stderr)
        self.assertRegex(cp.stderr, r"sh exited with status 0")
        for script, want in (("exit 3", 3), ("kill -KILL $$", 137),
                             ("kill -TERM $$", 143)):
            cp = self.run_under("proxy", cmd=["sh", "-c", script])
            self.assertEqual(cp.returncode, want, "%s: %s" % (script,
                                                              cp.stderr))
            self.assertEqual(cp.stdout, "")
        # Not found: 127, one line naming it, patchscope stopped cleanly.
        cp = self.run_under("proxy", cmd=["no-such-command-xyz", "a"])
        self.assert_one_line_error(cp, 127, '"no-such-command-xyz": '
                                   'command not found (in PATH)')
        cp = self.run_under("proxy", cmd=[os.path.join(self.tmp, "nope")])
        self.assert_one_line_error(cp, 127, "nope\": No such file")
        # record: the cassette is still written whole, and empty.
        har = os.path.join(self.tmp, "never.har")
        cp = self.run_under("record", "-c", har, cmd=["no-such-command-xyz"])
        self.assert_one_line_error(cp, 127, "command not found")
        self.assertIn("0 exchange(s) recorded", cp.stderr)
        with open(har) as f:
            self.assertEqual(json.load(f)["log"]["entries"], [])
        self.assertRegex(cp.stderr, r"stopped\n?$")
        # There but not executable: 126.
        script = os.path.join(self.tmp, "not-executable.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(script, 0o644)
        cp = self.run_under("proxy", cmd=[script])
        self.assert_one_line_error(cp, 126, script)
        self.assertIn("Permission denied", cp.stderr)

    def test_patchscope_that_cannot_start_runs_nothing(self):
        """`--` alone, a port in use, an unreadable cassette: 2, one line,
        and CMD never runs."""
        marker = os.path.join(self.tmp, "ran")
        cmd = ["touch", marker]
        cp = self.run_ps("proxy", "--")
        self.assert_one_line_error(cp, 2, '"--" must be followed by a '
                                   'command to run')
        self.assertNotIn("listening", cp.stderr)
        cp = self.run_ps("replay", "-c", "x.har", "--")
        self.assert_one_line_error(cp, 2, '"--" must be followed by a '
                                   'command')
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        cp = self.run_under("proxy", "--listen", "127.0.0.1:%d" % port,
                            cmd=cmd)
        self.assert_one_line_error(cp, 2, "cannot listen on 127.0.0.1:%d"
                                   % port)
        cp = self.run_under("replay", "-c", os.path.join(self.tmp,
                                                         "missing.har"),
                            cmd=cmd)
        self.assert_one_line_error(cp, 2, "missing.har")
        cp = self.run_under("record", "-c", self.tmp, cmd=cmd)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertFalse(os.path.exists(marker), "CMD ran although "
                         "patchscope could not start")
        # The same command does run once patchscope starts.
        cp = self.run_under("proxy", cmd=cmd)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertTrue(os.path.exists(marker))

    # -- the command's environment -------------------------------------

    def test_java_tool_options_of_the_user_are_kept(self):
        """JAVA_TOOL_OPTIONS that was set (a coverage agent, -Xmx) stays,
        first, so the proxy and trust store that follow win; unset, it is
        exactly what `env` prints."""
        show = [PY, "-c", "import os; print(os.environ['JAVA_TOOL_OPTIONS'])"]
        cp = self.run_under("proxy", cmd=show,
                            env={"JAVA_TOOL_OPTIONS": "-Xmx64m "
                                 "-Dhttps.proxyHost=corp.example"})
        self.assertEqual(cp.returncode, 0, cp.stderr)
        port = self.port_of(cp)
        exports = self.run_ps("env", "--listen", "127.0.0.1:%d" % port)
        ours = dict(re.findall(r"^export (\w+)='([^']*)'$", exports.stdout,
                               re.M))["JAVA_TOOL_OPTIONS"]
        self.assertIn("-Dhttps.proxyHost=127.0.0.1", ours)
        self.assertEqual(cp.stdout, "-Xmx64m -Dhttps.proxyHost=corp.example "
                         + ours + "\n")
        cp = self.run_under("proxy", cmd=show, env={"JAVA_TOOL_OPTIONS": " "})
        self.assertEqual(cp.returncode, 0, cp.stderr)
        port = self.port_of(cp)
        exports = self.run_ps("env", "--listen", "127.0.0.1:%d" % port)
        ours = dict(re.findall(r"^export (\w+)='([^']*)'$", exports.stdout,
                               re.M))["JAVA_TOOL_OPTIONS"]
        self.assertEqual(cp.stdout, ours + "\n")

    def test_command_environment_descriptors_and_signals(self):
        """CMD gets `env`'s variables and PATCHSCOPE_URL for the real port,
        keeps the rest of the environment, holds no patchscope descriptor,
        starts with default signals in a process group of its own."""
        cp = self.run_under("replay", "-c", self.tiny_cassette(),
                            cmd=[PY, "-c", REPORT_CHILD],
                            env={"HTTPS_PROXY": "http://elsewhere:1",
                                 "RUN_TEST_KEPT": "kept value"})
        self.assertEqual(cp.returncode, 0, cp.stderr)
        child = json.loads(cp.stdout)
        env = child["env"]
        port = self.port_of(cp)
        url = "http://127.0.0.1:%d" % port
        self.assertEqual(env["PATCHSCOPE_URL"], url)
        # Every variable `env` prints, with the value it prints.
        exports = self.run_ps("env", "--listen", "127.0.0.1:%d" % port)
        self.assertEqual(exports.returncode, 0, exports.stderr)
        want = dict(re.findall(r"^export (\w+)='([^']*)'$", exports.stdout,
                               re.M))
        self.assertIn("HTTPS_PROXY", want)
        for name, value in want.items():
            self.assertEqual(env.get(name), value, name)
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                     "https_proxy"):
            self.assertEqual(env[name], url, name)
        bundle = env["REQUESTS_CA_BUNDLE"]
        self.assertTrue(bundle.startswith(self.ps_home), bundle)
        self.assertTrue(os.path.isfile(bundle))
        self.assertEqual(env["RUN_TEST_KEPT"], "kept value")
        # No descriptor beyond 0-2 but the one listing /proc/self/fd.
        self.assertEqual(self.leaked(child["fds"]), {},
                         "descriptors leaked into CMD")
        self.assertEqual(child["pgrp"], child["pid"],
                         "CMD runs in a process group of its own")
        # record holds its cassette open: not in CMD either.
        cp = self.run_under("record", "-c", os.path.join(self.tmp, "r.har"),
                            cmd=[PY, "-c", REPORT_CHILD])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.leaked(json.loads(cp.stdout)["fds"]), {},
                         "descriptors leaked into CMD (record)")
        # patchscope ignores SIGPIPE; CMD must start as a program started
        # straight from here (what make or a CI runner passes on stays).
        grep = ["grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"]
        cp = self.run_under("proxy", cmd=grep)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        direct = subprocess.run(grep, stdout=subprocess.PIPE, check=True)
        self.assertEqual(cp.stdout, direct.stdout.decode())
        self.assertEqual(int(re.search(r"SigIgn:\s*(\w+)", cp.stdout)
                             .group(1), 16) & (1 << (signal.SIGPIPE - 1)),
                         0, "SIGPIPE ignored in CMD")

    @staticmethod
    def leaked(fds):
        """The descriptors beyond 0-2 of REPORT_CHILD's list, but its own
        listing's, and valgrind's log files (make check-valgrind)."""
        logs = os.environ.get("PATCHSCOPE_VALGRIND_LOGS")
        return {fd: path for fd, path in fds.items()
                if int(fd) > 2 and not re.fullmatch(r"/proc/\d+/fd", path)
                and not (harness.VALGRIND and logs and
                         path.startswith(logs.rstrip("/") + "/"))}

    # -- --strict --------------------------------------------------------

    def tiny_cassette(self):
        """A cassette of two GETs of the fake's echo, recorded by a `--`
        run of curl; returns its path."""
        if getattr(self, "_tiny", None):
            return self._tiny
        fake = self.start_fake()
        har = os.path.join(self.tmp, "tiny.har")
        cp = self.run_under("record", "-c", har, cmd=[
            "sh", "-c", 'curl -sSf "$1?n=1" && curl -sSf "$1?n=2"', "sh",
            fake.url + "/_fake/echo"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self._tiny = har
        return har

    def test_strict_findings_exit_1_unless_the_command_failed(self):
        har = self.tiny_cassette()
        report = os.path.join(self.tmp, "report.json")
        both = 'curl -sSf "$PATCHSCOPE_URL/_fake/echo?n=1" && ' \
            'curl -sSf "$PATCHSCOPE_URL/_fake/echo?n=2"'
        cp = self.run_under("replay", "-c", har, "--strict", "--report",
                            report, cmd=["sh", "-c", both])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual((doc["served"], doc["unused"]), (2, []))
        # One entry left unused: 1, and the report says which.
        one = 'curl -sSf "$PATCHSCOPE_URL/_fake/echo?n=1"'
        cp = self.run_under("replay", "-c", har, "--strict", "--report",
                            report, cmd=["sh", "-c", one])
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertIn("--strict: the cassette is stale", cp.stderr)
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual(len(doc["unused"]), 1, doc)
        # A miss: 1 (curl without -f succeeds on the 404).
        miss = both + ' && curl -sS "$PATCHSCOPE_URL/_fake/echo?n=3"'
        cp = self.run_under("replay", "-c", har, "--strict",
                            cmd=["sh", "-c", miss])
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertIn("1 request(s) missed", cp.stderr)
        # CMD's own failure wins over --strict's.
        cp = self.run_under("replay", "-c", har, "--strict",
                            cmd=["sh", "-c", one + "; exit 4"])
        self.assertEqual(cp.returncode, 4, cp.stderr)
        # Without --strict, the same findings are only logged.
        cp = self.run_under("replay", "-c", har, cmd=["sh", "-c", one])
        self.assertEqual(cp.returncode, 0, cp.stderr)

    # -- signals ---------------------------------------------------------

    def start_under(self, command, *args, cmd, env=None):
        penv = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        penv.update(env or {})
        if harness.SANITIZED:
            penv.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
        argv = [harness.PATCHSCOPE, command] + [str(a) for a in args] + \
            ["--"] + cmd
        log = open(os.path.join(self.tmp, "under.log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=log, env=penv)
        self.addCleanup(p.stdout.close)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p

    def wait_file(self, path, p):
        harness.wait_for(lambda: os.path.exists(path) or p.poll() is not
                         None, T(10), what=path)
        self.assertTrue(os.path.exists(path), "CMD did not start: %s"
                        % self.under_log())

    def under_log(self):
        with open(os.path.join(self.tmp, "under.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def test_sigterm_reaches_the_command_which_is_still_served(self):
        """SIGTERM to patchscope goes to CMD; CMD's trap still goes through
        the proxy; the cassette holds it; patchscope exits with CMD's 0."""
        fake = self.start_fake()
        har = os.path.join(self.tmp, "term.har")
        ready = os.path.join(self.tmp, "ready")
        marker = os.path.join(self.tmp, "trapped")
        script = ('trap \'curl -sSf "$1?in=trap" > "$3"; exit 0\' TERM; '
                  ': > "$2"; while :; do sleep 0.05; done')
        p = self.start_under("record", "-c", har, cmd=[
            "sh", "-c", script, "sh", fake.url + "/_fake/echo", ready,
            marker])
        self.wait_file(ready, p)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(T(15))
        log = self.under_log()
        self.assertEqual(rc, 0, log)
        self.assertEqual(p.stdout.read(), b"")
        with open(marker) as f:
            self.assertEqual(json.load(f)["query"], "in=trap")
        self.assertIn("passed it on to the command", log)
        self.assert_no_sanitizer_report(log)
        with open(har) as f:
            entries = json.load(f)["log"]["entries"]
        self.assertEqual([e["request"]["url"] for e in entries],
                         [fake.url + "/_fake/echo?in=trap"])

    def test_sigint_and_sighup_to_patchscope_end_the_command(self):
        ready = os.path.join(self.tmp, "ready")
        p = self.start_under("proxy", cmd=[
            "sh", "-c", ': > "$1"; exec sleep 30', "sh", ready])
        self.wait_file(ready, p)
        time.sleep(0.1)          # past the exec of sleep
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(T(15)), 128 + signal.SIGINT,
                         self.under_log())
        self.assert_no_sanitizer_report(self.under_log())
        # A hang-up (the terminal closed) is passed on too.
        os.unlink(ready)
        p = self.start_under("proxy", cmd=[
            "sh", "-c", ': > "$1"; exec sleep 30', "sh", ready])
        self.wait_file(ready, p)
        time.sleep(0.1)
        p.send_signal(signal.SIGHUP)
        self.assertEqual(p.wait(T(15)), 128 + signal.SIGHUP,
                         self.under_log())
        self.assertIn("received SIGHUP", self.under_log())

    def test_ctrl_c_on_a_terminal_reaches_the_command_once(self):
        """patchscope on a terminal: CMD gets the terminal's foreground, so
        ^C reaches it once (not patchscope, which serves on), and the
        terminal comes back when CMD ends."""
        ready = os.path.join(self.tmp, "ready")
        count = os.path.join(self.tmp, "count")
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        argv = [harness.PATCHSCOPE, "proxy", "--", PY, "-c", SIGINT_COUNTER,
                ready, count]
        pid, master = pty.fork()
        if pid == 0:         # the child: a session on the terminal
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(99)
        self.addCleanup(os.close, master)
        self.addCleanup(self._reap_pty, pid)
        out = bytearray()

        def drain(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                r, _, _ = select.select([master], [], [], 0.05)
                if r:
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        return
                    if not data:
                        return
                    out.extend(data)
        deadline = time.monotonic() + T(10)
        while not os.path.exists(ready) and time.monotonic() < deadline:
            drain(0.05)
        self.assertTrue(os.path.exists(ready), out.decode("utf-8", "replace"))
        os.write(master, b"\x03")
        status = None
        deadline = time.monotonic() + T(15)
        while status is None and time.monotonic() < deadline:
            drain(0.05)
            wpid, st = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = st
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.fail("patchscope did not end: %s" % out.decode())
        drain(0.2)
        text = out.decode("utf-8", "replace")
        self.assertTrue(os.WIFEXITED(status), text)
        self.assertEqual(os.WEXITSTATUS(status), 0, text)
        with open(count) as f:
            self.assertEqual(f.read().strip(), "1", "CMD saw ^C once")
        self.assertNotIn("received SIGINT", text,
                         "^C reaches CMD's group, not patchscope")
        self.assertIn("%s exited with status 0" % PY, text)
        self.assertRegex(text, r"stopped")
        self.assert_no_sanitizer_report(text)

    def test_ctrl_z_stops_the_job_and_fg_continues_it(self):
        """patchscope as a job of an interactive shell (here a small one in
        Python): ^Z stops CMD, patchscope stops too so the shell sees its
        job stopped; `fg` continues both, CMD gets the terminal back and
        the ^C that follows reaches it once."""
        if harness.VALGRIND:
            self.skipTest("under valgrind, patchscope does not stop on the "
                          "SIGTSTP it sends itself")
        ready = os.path.join(self.tmp, "ready")
        count = os.path.join(self.tmp, "count")
        events = os.path.join(self.tmp, "events")
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        argv = [harness.PATCHSCOPE, "proxy", "--", PY, "-c", SIGINT_COUNTER,
                ready, count]
        pid, master = pty.fork()
        if pid == 0:
            self._job_control_shell(argv, env, events)
        self.addCleanup(os.close, master)
        self.addCleanup(self._reap_pty, pid)
        out = bytearray()
        self._pty_wait(master, out, lambda: os.path.exists(ready), T(10))
        os.write(master, b"\x1a")               # ^Z
        self._pty_wait(master, out, lambda: "continued" in
                       self._read(events), T(10))
        self.assertIn("stopped", self._read(events), out.decode())
        self._pty_wait(master, out, lambda: "continuing " + PY in
                       out.decode("utf-8", "replace"), T(10))
        os.write(master, b"\x03")               # ^C, to CMD again
        self._pty_wait(master, out, lambda: "exit" in self._read(events),
                       T(15))
        text = out.decode("utf-8", "replace")
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.WEXITSTATUS(status), 0, text)
        self.assertEqual(self._read(events).split(),
                         ["stopped", "continued", "exit", "0"], text)
        with open(count) as f:
            self.assertEqual(f.read().strip(), "1", text)
        self.assertIn(PY + " was stopped", text)
        self.assertNotIn("received SIGINT", text)
        self.assert_no_sanitizer_report(text)

    @staticmethod
    def _reap_pty(sid):
        """Kill whatever a failed test left in the terminal's session (the
        session leader's pid is its id); reap the leader. Once the leader
        is reaped its pid may be anyone's: nothing is killed then."""
        try:
            if os.waitpid(sid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:
            return
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:       # state ppid pgrp session
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        try:
            os.waitpid(sid, 0)
        except ChildProcessError:
            pass

    @staticmethod
    def _read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    @staticmethod
    def _job_control_shell(argv, env, events):
        """In the pty's session: run argv as a foreground job, as an
        interactive shell does; on a stop, note it and `fg` the job; at
        the end, note its exit status. Never returns."""
        try:
            # An interactive shell ignores the terminal's job signals.
            for sig in (signal.SIGTTOU, signal.SIGTSTP, signal.SIGINT,
                        signal.SIGQUIT):
                signal.signal(sig, signal.SIG_IGN)
            go_r, go_w = os.pipe()
            job = os.fork()
            if job == 0:
                os.close(go_w)
                os.read(go_r, 1)        # the terminal is the job's
                for sig in (signal.SIGTTOU, signal.SIGTSTP, signal.SIGINT,
                            signal.SIGQUIT):
                    signal.signal(sig, signal.SIG_DFL)
                os.execve(argv[0], argv, env)
            os.close(go_r)
            os.setpgid(job, job)
            os.tcsetpgrp(0, job)
            os.write(go_w, b"x")
            os.close(go_w)
            with open(events, "a") as log:
                while True:
                    _, st = os.waitpid(job, os.WUNTRACED)
                    if os.WIFSTOPPED(st):
                        os.tcsetpgrp(0, os.getpgrp())
                        log.write("stopped\n")
                        log.flush()
                        time.sleep(0.2)
                        os.tcsetpgrp(0, job)        # fg
                        os.killpg(job, signal.SIGCONT)
                        log.write("continued\n")
                        log.flush()
                        continue
                    log.write("exit %d\n" % (os.WEXITSTATUS(st)
                                             if os.WIFEXITED(st) else -1))
                    break
            os._exit(0)
        finally:
            os._exit(99)

    @staticmethod
    def _pty_wait(master, out, done, timeout):
        """Read the terminal into out until done() or the timeout."""
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise AssertionError("timed out; the terminal shows:\n"
                                     + out.decode("utf-8", "replace"))
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                out.extend(data)

    # -- real clients ------------------------------------------------------

    def test_record_curl_and_requests_over_http_and_https(self):
        """`record -c FILE -- client` is the whole capture: curl and
        Python requests find the proxy and the CA in their environment;
        the cassette is complete when patchscope exits."""
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        if harness.CURL is None:
            self.skipTest("curl is not installed")
        plain = self.start_fake()
        tls = self.start_fake(tls=True)
        har = os.path.join(self.tmp, "capture.har")
        client = os.path.join(self.tmp, "client.py")
        with open(client, "w") as f:
            f.write(REQUESTS_CLIENT)
        script = ('curl -sSf "$1?c=curl-http" && '
                  'curl -sSf "$2?c=curl-https" && '
                  '"$3" "$4" "$1?c=py-http" "$2?c=py-https"')
        cp = self.run_under("record", "-c", har, "--upstream-ca",
                            self.fake_ca.cert, cmd=[
                                "sh", "-c", script, "sh",
                                plain.url + "/_fake/echo",
                                tls.url + "/_fake/echo", PY, client])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("200 c=py-https", cp.stdout)
        self.assertIn("4 exchange(s) recorded", cp.stderr)
        with open(har) as f:
            entries = json.load(f)["log"]["entries"]
        self.assertEqual(
            [(e["request"]["url"], e["response"]["status"])
             for e in entries],
            [(plain.url + "/_fake/echo?c=curl-http", 200),
             (tls.url + "/_fake/echo?c=curl-https", 200),
             (plain.url + "/_fake/echo?c=py-http", 200),
             (tls.url + "/_fake/echo?c=py-https", 200)])

    def test_patchscope_url_straight_and_through_the_proxy(self):
        """Replay: a client using only PATCHSCOPE_URL gets the recorded
        answer; the same URL sent through the proxy variables names
        patchscope itself and is served the same, once."""
        har = self.tiny_cassette()
        client = os.path.join(self.tmp, "base.py")
        with open(client, "w") as f:
            f.write(BASE_URL_CLIENT)
        cp = self.run_under("replay", "-c", har, "--strict",
                            cmd=[PY, client, "/_fake/echo?n=1"])
        self.assertEqual(cp.returncode, 1, cp.stderr)   # n=2 unused
        self.assertEqual(json.loads(cp.stdout),
                         [[200, "hit", "n=1"], [200, "hit", "n=1"]])
        self.assertEqual(len(re.findall(r"\] GET .* -> 200", cp.stderr)), 2,
                         cp.stderr)
        # proxy: PATCHSCOPE_URL through the proxy is patchscope itself,
        # answered as a request sent straight to it, never forwarded.
        cp = self.run_under("proxy", cmd=[PY, client, "/_fake/echo?n=1"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(json.loads(cp.stdout),
                         [[400, None, "not_a_proxy_request"],
                          [400, None, "not_a_proxy_request"]])
        self.assertEqual(len(re.findall(r"\[#\d+\] ", cp.stderr)), 2,
                         "one exchange per request, no loop:\n" + cp.stderr)

    def test_web_line_goes_to_the_log_beside_the_listening_line(self):
        """--web with -- CMD: stdout stays CMD's; the `web on` URL is
        logged on stderr after the `listening on` line."""
        cp = self.run_under("proxy", "--web", "127.0.0.1:0",
                            cmd=["echo", "child"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "child\n")
        m = re.search(r"web on (http://127\.0\.0\.1:\d+/#token=[0-9a-f]{32})",
                      cp.stderr)
        self.assertIsNotNone(m, cp.stderr)
        self.assertLess(cp.stderr.index("listening on"), m.start())

    def test_record_once_then_replay_under_a_command(self):
        """replay --record=once -- CMD: the first run records through the
        proxy, the second answers from the file with the origin stopped,
        and a request the first run did not make is a miss (--strict: 1;
        CMD's own failure would win)."""
        fake = self.start_fake()
        har = os.path.join(self.tmp, "once.har")
        client = os.path.join(self.tmp, "client.sh")
        with open(client, "w") as f:
            f.write('curl -sS -o /dev/null -w "%{http_code} " "$1"\n')
        url = fake.url + "/_fake/echo?n=1"
        cp = self.run_under("replay", "-c", har, "--record=once",
                            "--strict", cmd=["sh", client, url])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "200 ")
        with open(har) as f:
            self.assertEqual(len(json.load(f)["log"]["entries"]), 1)
        fake.stop()
        cp = self.run_under("replay", "-c", har, "--record=once",
                            "--strict", cmd=["sh", client, url])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "200 ")
        cp = self.run_under("replay", "-c", har, "--record=once",
                            "--strict", cmd=["sh", client,
                                             url.replace("n=1", "n=2")])
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(cp.stdout, "404 ")
        with open(har) as f:
            self.assertEqual(len(json.load(f)["log"]["entries"]), 1)


if __name__ == "__main__":
    harness.main()
