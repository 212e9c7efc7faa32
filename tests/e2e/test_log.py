#!/usr/bin/python3
"""The log on stderr, end to end: lines are collected and written once per
event-loop pass (or as soon as 16 KiB wait), only whole lines; warnings and
errors go out at once, after what was waiting; what waits is written at exit.

Each test drives the real binary with real clients (Python `requests`,
curl) against the fake profile API, then reads the log file:

- a line is in the log promptly when the proxy then goes idle;
- a burst of exchanges then SIGTERM: exactly one whole line per exchange,
  none lost, cut, duplicated or reordered (text and --log-json);
- passes with more than 16 KiB of lines (long URLs; one exchange with
  120 diagnosis lines; single lines longer than 16 KiB) arrive whole;
- with stderr a SOCK_SEQPACKET socket (one message per write(2)): each
  write holds whole lines only, at most PIPE_BUF (4 KiB, what a pipe keeps
  whole) unless it is one line, the lines of one pass share writes, and a
  warning ends the write that carries it;
- warnings are in the log at once and after the lines logged before them;
- two processes appending to one O_APPEND file: no line is cut by the
  other's.

What this cannot see: the flush at exit (atexit, and after the loop) has
nothing to write on the paths reachable from outside, since the loop ends
by event_base_loopexit, which runs the pending end-of-pass flush first."""

import collections
import hashlib
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T, AUTH, PROFILE  # noqa: E402

# The time stamp that starts every text line ("13:45:01.123 ").
STAMP = r"\d\d:\d\d:\d\d\.\d{3} "
STAMP_RX = re.compile(STAMP)
# A text line: one stamp, then something.
TEXT_LINE = re.compile(STAMP + r"\S.*")
# An exchange line without an error code (README, "The log on stderr").
EXCHANGE = re.compile(
    r"(?P<stamp>\d\d:\d\d:\d\d\.\d{3}) \[#(?P<conn>\d+)\] (?P<method>[A-Z]+) "
    r"(?P<url>\S+) -> (?P<status>\d{3}) \(req (?P<req>\d+) B, "
    r"resp (?P<resp>\d+) B, (?P<ms>\d+\.\d) ms\)")
# The fields of a --log-json exchange record, in the order they are written.
JSON_FIELDS = ["id", "method", "url", "status", "req_bytes", "resp_bytes",
               "ms", "diagnoses"]

# The burst: N requests, `WORKERS` clients in parallel (each on kept-alive
# connections).  Valgrind is some 20 times slower: a smaller burst.
N = 200 if harness.VALGRIND else 2000
WORKERS = 4


def marker(value):
    """The redaction marker of a secret value (docs/cassette.md)."""
    return "redacted:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def long_query(i, size, tag="l"):
    """A query string of about `size` bytes: i first, then parameters whose
    names say they are secrets (redacted in the log), plain ones, and plain
    ones whose value only looks like a redaction marker (kept as they are).

    Returns (query as sent, regex of the query as logged)."""
    sent = ["%s=%d" % (tag, i)]
    logged = [re.escape(sent[0])]
    secret_names = ("access_token", "client_secret", "password", "apikey")
    k = 0
    while sum(len(p) + 1 for p in sent) < size:
        kind = k % 4
        if kind == 0:
            name = secret_names[(k // 4) % len(secret_names)]
            value = "s%d_%d_%s" % (i, k, "S" * 40)
            sent.append("%s%d=%s" % (name, k, value))
            logged.append(re.escape("%s%d=" % (name, k)) +
                          re.escape(marker(value)))
        elif kind == 3:
            value = "redacted:%012x" % (i * 1000 + k)
            sent.append("ref%d=%s" % (k, value))
            logged.append(re.escape(sent[-1]))
        else:
            sent.append("note%d=v%d_%d_%s" % (k, i, k, "p" * 50))
            logged.append(re.escape(sent[-1]))
        k += 1
    return "&".join(sent), "&".join(logged)


class LogProxy:
    """`patchscope proxy` whose stderr is `stderr` (a file object or a
    descriptor): a file other processes append to as well, or a socket."""

    def __init__(self, test, stderr, *args):
        env = harness.clean_env({"PATCHSCOPE_HOME": test.ps_home})
        if harness.SANITIZED:
            env.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.proc = subprocess.Popen(
            [harness.PATCHSCOPE, "proxy", "--listen", "127.0.0.1:0"] +
            list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=stderr, env=env)
        test.addCleanup(self.close)
        line = harness.read_line_with_timeout(self.proc.stdout, T(10))
        m = re.fullmatch(rb"listening on 127\.0\.0\.1:(\d+)", line or b"")
        if not m:
            test.fail("patchscope printed %r, not `listening on "
                      "127.0.0.1:PORT`" % line)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d" % self.port
        self.addr = ("127.0.0.1", self.port)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "still running %.1f s after SIGTERM" % timeout

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class PacketReader:
    """The reading end of a SOCK_SEQPACKET socket pair whose other end is a
    process's stderr: each write(2) of the process is one message here."""

    def __init__(self, test):
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX,
                                                   socket.SOCK_SEQPACKET)
        test.addCleanup(self.ours.close)
        test.addCleanup(self.theirs.close)
        self.writes = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)

    def start(self):
        """Call once the process has started: it holds the other end."""
        self.theirs.close()
        self.thread.start()

    def _read(self):
        while True:
            try:
                data = self.ours.recv(1 << 20)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.writes.append(data.decode("utf-8", "replace"))

    def text(self):
        with self.lock:
            return "".join(self.writes)

    def join(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()


class Log(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()

    # -- helpers --

    def lines(self, text):
        """The lines of a log; fails if the last one is not whole."""
        if text and not text.endswith("\n"):
            self.fail("the log ends in the middle of a line: %r"
                      % text[-300:])
        return text.split("\n")[:-1]

    def check_text_line(self, line):
        """A line that is not an exchange line: one stamp, at the start."""
        self.assertRegex(line, "^" + TEXT_LINE.pattern + "$",
                         "not a whole log line")
        self.assertEqual(len(STAMP_RX.findall(line)), 1,
                         "two lines in one: %r" % line[:400])

    def run_workers(self, jobs, timeout):
        """Run each job (a callable) in its own thread; fail on any
        exception or on a thread still running after timeout."""
        errors = []

        def wrap(job):
            try:
                job()
            except BaseException as e:          # reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=wrap, args=(job,), daemon=True)
                   for job in jobs]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in threads):
            self.fail("clients still running after %.0f s" % timeout)
        if errors:
            self.fail("client errors: %s" % "; ".join(errors[:5]))

    def requests_job(self, proxy, urls):
        """GET each URL in order on one requests.Session (kept alive)."""
        s = self.session(proxy)

        def job():
            for url in urls:
                r = s.get(url, timeout=T(10))
                if r.status_code != 200:
                    raise AssertionError("%s -> %d" % (url[:100],
                                                       r.status_code))
                r.content
        return job

    def curl_job(self, proxy, urls):
        """GET each URL in order with one curl (it keeps the connection)."""
        config = os.path.join(self.tmp, "curl-%d.conf" % self._next())
        with open(config, "w") as f:
            for url in urls:
                f.write('url = "%s"\noutput = "/dev/null"\n' % url)

        def job():
            cp = subprocess.run(
                [harness.CURL, "-sS", "-x", proxy.url, "-w",
                 "%{http_code}\\n", "--config", config],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=harness.clean_env(),
                timeout=T(60))
            codes = cp.stdout.decode().split()
            if cp.returncode != 0 or codes != ["200"] * len(urls):
                raise AssertionError("curl exited %d, %d answers (%r...): "
                                     "%s" % (cp.returncode, len(codes),
                                             codes[:3], cp.stderr[:300]))
        return job

    def jobs(self, proxy, urls_per_worker, curl=True):
        """One job per worker; the last one is curl (when installed)."""
        jobs = []
        for k, urls in enumerate(urls_per_worker):
            if curl and harness.CURL and k == len(urls_per_worker) - 1:
                jobs.append(self.curl_job(proxy, urls))
            else:
                jobs.append(self.requests_job(proxy, urls))
        return jobs

    def echo_url(self, query):
        return "%s/_fake/echo?%s" % (self.fake.url, query)

    def long_url_load(self, workers, per):
        """URLs with ~3 KiB queries (and one of ~20 KiB for each of the
        first four workers, a line longer than the log's whole buffer):
        ([urls per worker], {i: regex of the whole logged line})."""
        if harness.VALGRIND:
            per = max(2, per // 6)
        expect = {}
        urls = []
        for k in range(workers):
            mine = []
            for j in range(per):
                i = k * per + j
                size = 20 * 1024 if (j == per // 2 and k < 4) else 3 * 1024
                sent, logged = long_query(i, size)
                mine.append(self.echo_url(sent))
                expect[i] = re.compile(
                    r"%s\[#\d+\] GET %s -> 200 \(req 0 B, resp \d+ B, "
                    r"\d+\.\d ms\)" % (STAMP, re.escape(self.echo_url(""))
                                       + logged))
            urls.append(mine)
        self.assertGreater(max(len(u) for w in urls for u in w), 20 * 1024)
        return urls, expect

    def many_diagnoses_patch(self, proxy, n=120):
        """A PATCH with a ~3 KiB query and n actions with unknown anchors
        (400 from the API): its exchange line and n diagnosis lines, some
        25 KiB, are logged by one call.  Returns the regex of its whole
        exchange line (group 1: its connection id)."""
        actions = [dict(harness.NEW_WEBHOOK, anchor="BOOKING_CANCELED_%03d"
                        % k, title="action %d" % k) for k in range(n)]
        sent, logged = long_query(0, 3 * 1024, tag="patch")
        url = self.fake.url + PROFILE + "?" + sent
        r = self.session(proxy).patch(url, auth=AUTH,
                                      json={"actions": actions},
                                      timeout=T(10))
        self.assertEqual(r.status_code, 400, r.text[:300])
        return re.compile(r"%s\[#(\d+)\] PATCH %s -> 400 \(req \d+ B, "
                          r"resp \d+ B, \d+\.\d ms\)"
                          % (STAMP, re.escape(self.fake.url + PROFILE + "?")
                             + logged))

    def check_diagnosis_line(self, line, conn, k):
        self.assertRegex(
            line, r"^%s\[#%s\]   error\[action\.anchor\.unknown\] "
            r"/actions/%d/anchor: \"BOOKING_CANCELED_%03d\" is not a "
            r"known anchor\b.*\S$" % (STAMP, conn, k, k))
        self.assertEqual(len(STAMP_RX.findall(line)), 1, line)

    def deleting_patch(self, proxy):
        """GET the profile's actions, then PATCH back only the first: the
        API accepts it, and patchscope warns that the others are deleted.
        Returns the regex of the warning (group 1: the connection id)."""
        s = self.session(proxy)
        r = s.get(self.fake.url + PROFILE, params={"fields": "actions.*"},
                  auth=AUTH, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        actions = r.json()["actions"]
        self.assertGreater(len(actions), 1)
        r = s.patch(self.fake.url + PROFILE, auth=AUTH,
                    json={"actions": [actions[0]]}, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        return re.compile(r"(?m)^%swarning: \[#(\d+)\] the API accepted "
                          r"a PATCH .* deleted .*$" % STAMP)

    def wait_lines(self, proxy, predicate, timeout, what):
        """Poll the log file until predicate(log) holds; return the log."""
        try:
            return harness.wait_for(
                lambda: (lambda text: predicate(text) and text)(proxy.log()),
                timeout, 0.01, what)
        except AssertionError as e:
            self.fail("%s; patchscope's log (tail):\n%s"
                      % (e, proxy.log()[-3000:]))

    # -- 1. a line is written in the pass that made it ----------------------

    def test_line_appears_promptly_when_the_proxy_then_idles(self):
        """One exchange, then no traffic at all (the client keeps its
        connection open, idle): its line is in the log file within 1 s.
        Fails if lines waited for later traffic, 16 KiB or exit."""
        proxy = self.start_proxy()
        s = self.session(proxy)
        cases = [("requests", "prompt=requests"), ("curl", "prompt=curl")]
        for client, query in cases:
            with self.subTest(client=client):
                url = self.echo_url(query)
                if client == "requests":
                    self.assertEqual(s.get(url, timeout=T(10)).status_code,
                                     200)
                else:
                    status, _, _, rc = self.curl_status(proxy, url)
                    self.assertEqual((rc, status), (0, 200))
                answered = time.monotonic()
                rx = re.compile(r"(?m)^%s\[#\d+\] GET %s -> 200 \(.* ms\)$"
                                % (STAMP, re.escape(url)))
                self.wait_lines(proxy, rx.search, T(1),
                                "the line of the %s exchange" % client)
                waited = time.monotonic() - answered
                self.assertLess(waited, T(1))
                self.assertEqual(len(rx.findall(proxy.log())), 1)
        # The rest (the CA's creation) is whole lines too.
        for line in self.lines(proxy.log()):
            self.check_text_line(line)
        self.assertTrue(proxy.alive())

    def test_json_line_appears_promptly_when_the_proxy_then_idles(self):
        proxy = self.start_proxy("--log-json")
        s = self.session(proxy)
        url = self.echo_url("prompt=json")
        self.assertEqual(s.get(url, timeout=T(10)).status_code, 200)
        needle = '"url":%s' % json.dumps(url)
        log = self.wait_lines(proxy, lambda text: needle in text, T(1),
                              "the JSON record of the exchange")
        recs = [json.loads(line) for line in self.lines(log)
                if line.startswith("{")]
        self.assertEqual([r["url"] for r in recs], [url])

    # -- 2. a burst, then SIGTERM: nothing lost, cut or doubled -------------

    def burst_then_sigterm(self, *args):
        """N requests from WORKERS clients (requests sessions and one curl,
        each on kept-alive connections), SIGTERM right after the last
        answer; returns (log lines, [urls per worker])."""
        proxy = self.start_proxy(*args)
        per = N // WORKERS
        urls = [[self.echo_url("burst=%d" % i)
                 for i in range(k * per, (k + 1) * per)]
                for k in range(WORKERS)]
        self.run_workers(self.jobs(proxy, urls), T(60))
        rc = proxy.stop(signal.SIGTERM, T(8))       # right after the last
        self.assertEqual(rc, 0, "exit status after SIGTERM")
        self.assertEqual(self.fake.stats()["paths"].get("/_fake/echo"), N,
                         "requests that reached the fake API")
        log = proxy.log()
        self.assertIn("stopped", log.rsplit("\n", 2)[-2],
                      "the last line is the one written after the loop")
        return self.lines(log), urls

    def check_burst(self, seen, urls):
        """seen: [i] in log order.  Each i once; each worker's in order."""
        counts = collections.Counter(seen)
        doubled = sorted(i for i, c in counts.items() if c > 1)
        missing = sorted(set(range(N)) - set(counts))
        self.assertEqual((len(missing), missing[:10], doubled[:10]),
                         (0, [], []),
                         "%d lines for %d exchanges: missing (first 10) "
                         "and doubled" % (len(seen), N))
        self.assertEqual(len(seen), N)
        per = N // WORKERS
        for k in range(WORKERS):
            mine = [i for i in seen if i // per == k]
            self.assertEqual(mine, list(range(k * per, (k + 1) * per)),
                             "worker %d's exchanges are out of order" % k)

    def test_burst_then_sigterm_text(self):
        lines, urls = self.burst_then_sigterm()
        seen = []
        for line in lines:
            if "/_fake/echo" not in line:
                self.check_text_line(line)
                continue
            m = EXCHANGE.fullmatch(line)
            self.assertIsNotNone(m, "not a whole exchange line: %r"
                                 % line[:400])
            self.assertEqual(len(STAMP_RX.findall(line)), 1, line)
            i = int(re.fullmatch(r"http://127\.0\.0\.1:%d/_fake/echo\?"
                                 r"burst=(\d+)" % self.fake.port,
                                 m.group("url")).group(1))
            self.assertEqual((m.group("method"), m.group("status"),
                              m.group("req")), ("GET", "200", "0"), line)
            self.assertGreater(int(m.group("resp")), 0, line)
            seen.append(i)
        self.check_burst(seen, urls)

    def test_burst_then_sigterm_json(self):
        lines, urls = self.burst_then_sigterm("--log-json")
        seen = []
        for line in lines:
            if not line.startswith("{"):
                # The lines that are not exchanges stay text lines.
                self.assertNotIn('"url"', line, "a cut JSON record")
                self.check_text_line(line)
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                self.fail("not one JSON object: %r" % line[:400])
            self.assertEqual(list(rec), JSON_FIELDS, line)
            self.assertIsInstance(rec["id"], int)
            self.assertEqual((rec["method"], rec["status"],
                              rec["req_bytes"], rec["diagnoses"]),
                             ("GET", 200, 0, []), line)
            self.assertGreater(rec["resp_bytes"], 0, line)
            self.assertIsInstance(rec["ms"], (int, float))
            self.assertGreaterEqual(rec["ms"], 0)
            m = re.fullmatch(r"http://127\.0\.0\.1:%d/_fake/echo\?"
                             r"burst=(\d+)" % self.fake.port, rec["url"])
            self.assertIsNotNone(m, line)
            seen.append(int(m.group(1)))
        self.check_burst(seen, urls)

    # -- 3. more than 16 KiB of lines in one pass; what each write holds ----

    def test_passes_over_16k_arrive_whole(self):
        """Many clients at once with ~3 KiB URLs (several lines of them end
        in one pass more often than not), four single lines of ~20 KiB
        (longer than the whole buffer), and one PATCH whose exchange line
        and 120 diagnosis lines (~25 KiB) are logged by one call, hence in
        one pass.  Every line arrives whole and in its place."""
        proxy = self.start_proxy("--no-annotate")
        urls, expect = self.long_url_load(8, 24)
        self.run_workers(self.jobs(proxy, urls), T(60))
        n = len(expect)
        rx_i = re.compile(r"/_fake/echo\?l=(\d+)&")
        log = self.wait_lines(
            proxy, lambda text: len(rx_i.findall(text)) >= n, T(2),
            "the %d long lines" % n)
        seen = []
        for line in self.lines(log):
            m = rx_i.search(line)
            if m is None:
                self.check_text_line(line)
                continue
            i = int(m.group(1))
            if not expect[i].fullmatch(line):
                self.fail("line %d is not whole (%d bytes): %r ... %r"
                          % (i, len(line), line[:200], line[-200:]))
            seen.append(i)
        self.assertEqual(sorted(seen), list(range(n)))

        # One exchange's lines, ~25 KiB, in one call: in order, contiguous.
        before = len(self.lines(proxy.log()))
        head = self.many_diagnoses_patch(proxy)

        def complete(text):
            return re.search(r"/actions/119/anchor: .*\n", text)
        log = self.wait_lines(proxy, complete, T(1),
                              "the PATCH's 120th diagnosis line")
        new = self.lines(log)[before:]
        self.assertGreater(sum(len(x) + 1 for x in new), 16 * 1024)
        m = head.fullmatch(new[0])
        self.assertIsNotNone(m, "the PATCH's line is not whole: %r ... %r"
                             % (new[0][:200], new[0][-200:]))
        for k in range(120):
            self.check_diagnosis_line(new[1 + k], m.group(1), k)
        for line in new[121:]:
            self.assertNotIn("/anchor", line, "a diagnosis out of place")
            self.check_text_line(line)
        rc = proxy.stop(signal.SIGTERM, T(8))
        self.assertEqual(rc, 0)
        self.assertEqual(len(rx_i.findall(proxy.log())), n,
                         "lines written again at exit")

    def test_each_write_holds_whole_lines(self):
        """stderr is a SOCK_SEQPACKET socket: each write(2) arrives as one
        message.  Long-URL load (with lines longer than 16 KiB), the PATCH
        whose 121 lines (~25 KiB) are logged by one call, then a PATCH that
        deletes actions (a warning): every write ends a line, holds at most
        PIPE_BUF bytes unless it is one line; the 121 lines share writes
        (at most one write per 10 lines, not a write per line); the warning
        ends the write that carries it, after its exchange line and
        diagnoses."""
        reader = PacketReader(self)
        proxy = LogProxy(self, reader.theirs, "--no-annotate")
        reader.start()
        urls, expect = self.long_url_load(6, 16)
        self.run_workers(self.jobs(proxy, urls), T(60))
        head = self.many_diagnoses_patch(proxy)
        warning = self.deleting_patch(proxy)
        harness.wait_for(lambda: warning.search(reader.text()), T(1), 0.01,
                         "the warning")
        self.assertEqual(proxy.stop(T(8)), 0, "exit status after SIGTERM")
        self.assertTrue(reader.join(T(5)), "stderr still open after exit")
        writes = reader.writes
        seen = []
        where = {}
        rx_i = re.compile(r"/_fake/echo\?l=(\d+)&")
        for w, data in enumerate(writes):
            self.assertTrue(data.endswith("\n"), "write %d of %d ends in "
                            "the middle of a line: %r" % (
                                w, len(writes), data[-300:]))
            lines = data.split("\n")[:-1]
            if len(data) > select.PIPE_BUF:
                self.assertEqual(len(lines), 1, "a write of %d bytes "
                                 "holds %d lines" % (len(data), len(lines)))
            for line in lines:
                m = rx_i.search(line)
                if m:
                    i = int(m.group(1))
                    self.assertRegex(line, "^" + expect[i].pattern + "$")
                    seen.append(i)
                elif head.fullmatch(line):
                    where["patch"] = w
                    conn = head.fullmatch(line).group(1)
                elif "/actions/119/anchor" in line:
                    where["last diagnosis"] = w
                    self.check_diagnosis_line(line, conn, 119)
                elif warning.fullmatch(line):
                    where["warning"] = w
                    self.assertEqual(line, lines[-1],
                                     "the warning is not the last line "
                                     "of its write:\n%s" % data[-2000:])
                    # Written at once with what waited: its exchange line
                    # and diagnoses, logged by the same call, before it.
                    upto = "".join(writes[:w + 1]).split("\n")[:-1]
                    at = [k for k, x in enumerate(upto) if re.search(
                        r"\] PATCH \S+/profiles/p1 -> 200 \(", x)]
                    self.assertTrue(at, "no PATCH line before the warning")
                    after = upto[at[-1] + 1:]
                    self.assertTrue(any("error[actions.partial]" in x
                                        for x in after[:-1]), after)
                    self.assertEqual(after[-1], line)
                else:
                    self.check_text_line(line)
        self.assertEqual(sorted(seen), sorted(expect))
        self.assertEqual(sorted(where), ["last diagnosis", "patch",
                                         "warning"])
        self.assertLessEqual(where["last diagnosis"] - where["patch"] + 1, 12,
                             "the 121 lines of one call took that many "
                             "writes")
        self.assertLess(len(writes), len("".join(writes).split("\n")),
                        "as many writes as lines")
        text = "".join(writes)
        self.assertEqual([x for x in ("ERROR: AddressSanitizer",
                                      "runtime error:", "LeakSanitizer")
                          if x in text], [], "sanitizer report:\n" + text)

    # -- 4. warnings: at once, after what was logged before them ------------

    def test_warning_follows_the_lines_before_it(self):
        """A PATCH the API accepts although it deletes actions: its exchange
        line and diagnoses, then the warning, are logged by one call (the
        lines wait, the warning is written at once): the warning is in the
        log within 1 s and after them, and after the exchanges before."""
        proxy = self.start_proxy()
        s = self.session(proxy)
        self.assertEqual(s.get(self.echo_url("seq=1"),
                               timeout=T(10)).status_code, 200)
        warning = self.deleting_patch(proxy)
        answered = time.monotonic()
        log = self.wait_lines(proxy, warning.search, T(1), "the warning")
        self.assertLess(time.monotonic() - answered, T(1))
        lines = self.lines(log)

        def index(pattern):
            found = [n for n, line in enumerate(lines)
                     if re.search(pattern, line)]
            self.assertEqual(len(found), 1, "%r in %r" % (pattern, lines))
            return found[0]
        first = index(r"GET \S+/_fake/echo\?seq=1 -> 200 \(")
        get = index(r"GET \S+/profiles/p1\?fields=\S+ -> 200 \(")
        patch = index(r"PATCH \S+/profiles/p1 -> 200 \(")
        diag = index(r"error\[actions\.partial\] /actions: ")
        warn = index(warning.pattern[4:])
        self.assertEqual(sorted([first, get, patch, diag, warn]),
                         [first, get, patch, diag, warn],
                         "log order:\n" + "\n".join(lines))
        self.assertEqual(warning.search(log).group(1),
                         re.search(r"\[#(\d+)\] PATCH", lines[patch])
                         .group(1))
        for line in lines:
            self.check_text_line(line)

    def test_tls_warning_in_order_among_exchanges(self):
        """--insecure-upstream's warning (at start), an HTTPS exchange, a
        client that rejects patchscope's certificate (a warning while the
        loop runs), another exchange: in that order, each within 1 s."""
        tls_fake = self.start_fake(tls=True)
        proxy = self.start_proxy("--insecure-upstream")
        target = "127.0.0.1:%d" % tls_fake.port
        s = self.https_session(proxy)
        insecure = r"warning: --insecure-upstream: "
        failed = (r"warning: \[#\d+\] TLS handshake with the client for "
                  r"%s failed: " % re.escape(target))

        def get(tag):
            r = s.get("https://%s/_fake/echo?seq=%s" % (target, tag),
                      timeout=T(10))
            self.assertEqual(r.status_code, 200)
            self.wait_lines(proxy, lambda text: re.search(
                r"GET https://%s/_fake/echo\?seq=%s -> 200 \(" % (
                    re.escape(target), tag), text), T(1), "line " + tag)
        get("A")
        c, resp = self.tunnel(proxy, target)
        self.assertEqual(resp.status, 200)
        with self.assertRaises(ssl.SSLCertVerificationError):
            harness.tls_over(c, harness.tls_context(self.fake_ca.cert),
                             "127.0.0.1")
        self.wait_lines(proxy, lambda text: re.search(failed, text), T(1),
                        "the handshake warning")
        c.close()
        get("B")
        lines = self.lines(proxy.log())
        order = []
        for n, line in enumerate(lines):
            self.check_text_line(line)
            for name, pattern in (("insecure", insecure),
                                  ("A", r"echo\?seq=A -> 200"),
                                  ("failed", failed),
                                  ("B", r"echo\?seq=B -> 200")):
                if re.search(pattern, line):
                    order.append(name)
        self.assertEqual(order, ["insecure", "A", "failed", "B"],
                         "\n".join(lines))

    # -- 5. two processes, one file -----------------------------------------

    def test_two_processes_append_to_one_file(self):
        """Two proxies (one text, one --log-json) append to one file, under
        load with 2-5 KiB lines: each line is one whole line of one of them
        (no line holds two stamps, each JSON line parses), each exchange
        once.  A line split over two writes shows here only when the other
        process writes between them; test_each_write_holds_whole_lines
        sees such a split every time."""
        self.patchscope_ca()            # made once, before both start
        path = os.path.join(self.tmp, "shared.log")
        with open(path, "ab") as first, open(path, "ab") as second:
            a = LogProxy(self, first)                   # O_WRONLY|O_APPEND
            b = LogProxy(self, second, "--log-json")
        self.two_processes(a, b, (2, 3, 4, 5))
        with open(path, "rb") as f:
            self.check_shared(f.read().decode("utf-8", "replace"), path)

    def test_two_processes_share_one_pipe(self):
        """Two proxies write to one pipe, as `(a & b) 2>&1 | tee log` makes
        them, read slowly so that it fills: with lines shorter than
        PIPE_BUF, no line is cut by the other process (each write holds at
        most PIPE_BUF bytes, which a pipe keeps in one piece)."""
        self.patchscope_ca()
        r, w = os.pipe()
        chunks = []

        def drain():
            while True:
                data = os.read(r, 4096)
                if not data:
                    return
                chunks.append(data)
                time.sleep(0.0005)
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            a = LogProxy(self, w)
            b = LogProxy(self, w, "--log-json")
        finally:
            os.close(w)
        self.two_processes(a, b, (1, 2, 3), clients=16)
        reader.join(T(10))
        os.close(r)
        self.check_shared(b"".join(chunks).decode("utf-8", "replace"),
                          "the pipe")

    def two_processes(self, a, b, kib, clients=6):
        """Load a and b with long-URL GETs of kib sizes; stop both."""
        per = 60 if not harness.VALGRIND else 6
        jobs = []
        self.shared_expect = {}
        for tag, proxy in (("a", a), ("b", b)):
            urls = []
            for k in range(clients):
                mine = []
                for j in range(per):
                    i = k * per + j
                    sent, _ = long_query(i, kib[j % len(kib)] * 1024,
                                         tag=tag)
                    mine.append(self.echo_url(sent))
                    self.shared_expect[(tag, i)] = mine[-1]
                urls.append(mine)
            jobs += self.jobs(proxy, urls)
        self.run_workers(jobs, T(60))
        self.assertEqual((a.stop(T(8)), b.stop(T(8))), (0, 0),
                         "exit statuses after SIGTERM")

    def check_shared(self, text, path):
        """Every line of text is one whole line of a or b; each once."""
        expect = self.shared_expect
        seen = collections.Counter()
        rx = re.compile(r"/_fake/echo\?(a|b)=(\d+)&")
        for line in self.lines(text):
            m = rx.search(line)
            if line.startswith("{"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    self.fail("a cut JSON line: %r ... %r"
                              % (line[:200], line[-200:]))
                self.assertEqual(list(rec), JSON_FIELDS, line[:300])
                self.assertIsNotNone(m, line[:300])
                self.assertEqual(m.group(1), "b", line[:300])
                seen[("b", int(m.group(2)))] += 1
                continue
            self.assertEqual(len(STAMP_RX.findall(line)), 1,
                             "two lines in one: %r ... %r"
                             % (line[:200], line[-200:]))
            if m is None:
                self.check_text_line(line)
                continue
            e = EXCHANGE.fullmatch(line)
            self.assertIsNotNone(e, "not a whole exchange line: %r ... %r"
                                 % (line[:200], line[-200:]))
            self.assertEqual(m.group(1), "a", line[:300])
            seen[("a", int(m.group(2)))] += 1
        self.assertEqual(len(seen), len(expect))
        self.assertEqual(set(seen), set(expect))
        self.assertEqual(set(seen.values()), {1}, "a line written twice")
        sanitizer = [x for x in ("ERROR: AddressSanitizer", "runtime error:",
                                 "LeakSanitizer") if x in text]
        self.assertEqual(sanitizer, [], "sanitizer report in %s" % path)


if __name__ == "__main__":
    harness.main()
