#!/usr/bin/python3
"""The web view in a real browser: Debian's chromium driven by puppeteer-core
(tests/browser/*.mjs, run with node), against the real binary and
tests/fake_api.py.

One Chromium serves the whole file (started in setUpClass, with DevTools on
a free port); each test starts patchscope (`record --web`, `view --web` or
`report`) and runs one script, which opens its own pages (each in a fresh
browser context) and talks to this wrapper one line at a time: `STEP name`
asks the wrapper to do its part (send requests through the proxy, stop it,
make a report) and gets a line of JSON back; `DATA name json` hands over a
value to check here (a copied curl command). Screenshots go to the test's
temp dir (kept when a test fails).

Skipped, with the reason, when node, chromium or tests/browser/node_modules
(`npm ci` in tests/browser; `./bootstrap check` does it) is missing."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402

from harness import (AUTH, GET_FIELDS, NEW_WEBHOOK, PATCH_FIELDS,  # noqa
                     PROFILE)

BROWSER_DIR = os.path.join(harness.SRCDIR, "tests", "browser")
NODE = shutil.which("node") or shutil.which("nodejs")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
PUPPETEER = os.path.join(BROWSER_DIR, "node_modules", "puppeteer-core",
                         "package.json")
# The name the wrong-Host test uses: Chromium resolves it to 127.0.0.1, as
# a DNS rebinding attack would make it.
REBIND_HOST = "rebind.test"

HOSTILE_IMG = "<img src=x onerror=window.__pwned=1>"
HOSTILE_SCRIPT = "</script><script>window.__pwned=1</script>"


def missing():
    """Why the browser tests cannot run here, or None."""
    if NODE is None:
        return "node is not installed (Debian package nodejs)"
    if CHROMIUM is None or not os.access(CHROMIUM, os.X_OK):
        return "chromium is not installed (Debian package chromium)"
    if not os.path.isfile(PUPPETEER):
        return ("puppeteer-core is not installed in %s (run `npm ci` there, "
                "or ./bootstrap check)" % BROWSER_DIR)
    return None


class Chromium:
    """One headless Chromium with DevTools on a free port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="patchscope-chromium-")
        self.log_path = os.path.join(self.dir, "chromium.log")
        self._log = open(self.log_path, "wb")
        profile = os.path.join(self.dir, "profile")
        argv = [CHROMIUM, "--headless", "--disable-gpu",
                "--remote-debugging-port=0", "--user-data-dir=" + profile,
                "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--host-resolver-rules=MAP %s 127.0.0.1" % REBIND_HOST,
                "about:blank"]
        if os.geteuid() == 0:
            argv.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env=harness.clean_env(),
                                     start_new_session=True)
        port_file = os.path.join(profile, "DevToolsActivePort")

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited %s: %s" % (
                    self.proc.returncode, self.log()[-2000:]))
            try:
                with open(port_file) as f:
                    lines = f.read().split("\n")
            except OSError:
                return None
            if len(lines) < 2 or not lines[1]:
                return None
            return "ws://127.0.0.1:%s%s" % (lines[0], lines[1])
        try:
            self.ws = harness.wait_for(ready, T(30), interval=0.05,
                                       what="chromium's DevTools port")
        except BaseException:
            self.close()
            raise

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(T(10))
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebView(harness.TestCase):

    browser = None
    why = None

    @classmethod
    def setUpClass(cls):
        # Each test is skipped on its own (not the class), so that the file
        # exits 77 (SKIP) when the browser cannot run here.
        cls.why = missing()
        if cls.why is None:
            cls.browser = Chromium()

    def setUp(self):
        if self.why is not None:
            self.skipTest(self.why)
        super().setUp()

    @classmethod
    def tearDownClass(cls):
        if cls.browser is not None:
            cls.browser.close()
            cls.browser = None

    # -- patchscope with --web --

    def web_url(self, proc, timeout=None):
        """The `web on URL` patchscope printed (after `listening on`)."""
        rx = re.compile(r"^web on (http://127\.0\.0\.1:\d+/#token=(\S+))$",
                        re.M)

        def printed():
            return rx.search(proc.extra_stdout.decode("utf-8", "replace"))
        try:
            m = harness.wait_for(printed, timeout or T(10),
                                 what="the `web on` line")
        except AssertionError as e:
            self.fail("%s; stdout %r; log:\n%s" % (
                e, proc.extra_stdout, proc.log()[-2000:]))
        return m.group(1)

    def start_view(self, *args):
        """`patchscope view --web 127.0.0.1:0 ARGS`; returns (process, URL).
        Stopped at teardown, where its exit status and sanitizer reports
        are checked."""
        self._n += 1
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        if harness.SANITIZED:
            env.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        proc = harness.Process(
            [harness.PATCHSCOPE, "view", "--web", "127.0.0.1:0"] +
            [str(a) for a in args],
            os.path.join(self.tmp, "view-%d.log" % self._n), env=env,
            name="patchscope view")
        self.addCleanup(self._stop_view, proc)
        line = harness.read_line_with_timeout(proc.proc.stdout, T(20))
        text = (line or b"").decode("utf-8", "replace")
        m = re.fullmatch(r"web on (http://127\.0\.0\.1:\d+/#token=\S+)", text)
        if not m:
            self.fail("patchscope view printed %r, not `web on URL`; log:\n%s"
                      % (text, proc.log()[-2000:]))
        return proc, m.group(1)

    def _stop_view(self, proc):
        rc = proc.stop(signal.SIGTERM, T(8))
        report = harness.Proxy.sanitizer_report(proc)
        proc.close_files()
        self.assertEqual(rc, 0, "patchscope view exited %s on SIGTERM" % rc)
        self.assertIsNone(report, "sanitizer report in %s" % proc.log_path)

    def wait_exchanges(self, proxy, n):
        """Wait until the proxy's log has n exchange lines."""
        rx = re.compile(r"^\S+ \[#\d+\] [A-Z]+ \S+ -> ", re.M)
        try:
            harness.wait_for(lambda: len(rx.findall(proxy.log())) >= n,
                             T(10), what="%d exchanges in the log" % n)
        except AssertionError as e:
            self.fail("%s; patchscope's log:\n%s" % (e, proxy.log()[-3000:]))

    def api(self, url, path, token=None, host=None):
        """GET path of the view at url (the printed URL) with the token's
        cookie (or `token`) and a Host header (default the view's own);
        returns (status, body)."""
        base, _, frag = url.partition("/#token=")
        req = urllib.request.Request(base + path)
        req.add_header("Cookie", "patchscope_token=" + (
            frag if token is None else token))
        if host is not None:
            req.add_header("Host", host)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=T(10)) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # -- the browser scripts --

    def run_script(self, script, env, steps=None):
        """Run tests/browser/SCRIPT with node; answer its steps with
        steps[name]() (a JSON-able value); return its DATA values."""
        steps = steps or {}
        penv = harness.clean_env({
            "PATCHSCOPE_BROWSER_WS": self.browser.ws,
            "PATCHSCOPE_SHOTS": self.tmp,
            "PATCHSCOPE_TIME_SCALE": str(harness.TIME_SCALE),
            "CHROMIUM": CHROMIUM,
        })
        penv.update(env)
        self._n += 1
        log_path = os.path.join(self.tmp, "node-%s-%d.log" % (
            script.replace(".mjs", ""), self._n))
        err = open(log_path, "wb")
        self.addCleanup(err.close)
        proc = subprocess.Popen([NODE, os.path.join(BROWSER_DIR, script)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, env=penv, cwd=BROWSER_DIR)
        self.addCleanup(self._kill, proc)
        out, found = [], {}
        transcript = open(log_path[:-4] + ".out", "w")
        self.addCleanup(transcript.close)
        deadline = time.monotonic() + T(90)
        while True:
            left = deadline - time.monotonic()
            line = harness.read_line_with_timeout(proc.stdout, max(left, 0))
            if line is None:
                break
            text = line.decode("utf-8", "replace")
            out.append(text)
            transcript.write(text + "\n")
            transcript.flush()
            if text.startswith("STEP "):
                name = text[5:].strip()
                if name not in steps:
                    answer = {"error": "no step %r here" % name}
                else:
                    try:
                        answer = steps[name]() or {}
                    except Exception as e:   # handed to the script, then
                        answer = {"error": "%s: %s" % (type(e).__name__, e)}
                        self._kill(proc)
                        raise
                proc.stdin.write((json.dumps(answer) + "\n").encode())
                proc.stdin.flush()
            elif text.startswith("DATA "):
                _, name, value = text.split(" ", 2)
                found[name] = json.loads(value)
        try:
            rc = proc.wait(max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            self._kill(proc)
            rc = None
        err.flush()
        with open(log_path, "rb") as f:
            errors = f.read().decode("utf-8", "replace")
        if rc != 0:
            self.fail("%s %s (log %s):\n%s\n%s" % (
                script, "timed out" if rc is None else "exited %d" % rc,
                log_path, "\n".join(out[-15:]), errors[-4000:]))
        return found

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:      # node is gone: its pipe may be broken
                pass

    def downloads(self):
        d = os.path.join(self.tmp, "downloads")
        os.makedirs(d, exist_ok=True)
        return d

    # -- the tests --

    def test_seed_story_live(self):
        """record --web: rows appear while the client runs, the filter,
        the failing PATCH's diagnoses at their paths, copy as curl, the
        keyboard, a reconnect, download HAR (which `show` reads)."""
        fake = self.start_fake()
        proxy = self.start_ps("record", "-c",
                              os.path.join(self.tmp, "live.har"),
                              "--web", "127.0.0.1:0")
        url = self.web_url(proxy)
        s = self.session(proxy)

        fetched = []

        def get():
            r = s.get(fake.url + PROFILE, params={"fields": GET_FIELDS},
                      auth=AUTH, timeout=T(10))
            self.assertEqual(r.status_code, 200)
            fetched.extend(r.json()["actions"])
            self.wait_exchanges(proxy, 1)

        def patch():
            r = s.patch(fake.url + PROFILE, params={"fields": PATCH_FIELDS},
                        auth=AUTH, json={"actions": [fetched[0], NEW_WEBHOOK]},
                        timeout=T(10))
            self.assertEqual(r.status_code, 400)
            self.wait_exchanges(proxy, 2)

        def more():
            r = s.get(fake.url + PROFILE, params={"fields": "actions.*"},
                      auth=AUTH, timeout=T(10))
            fixed = dict(NEW_WEBHOOK, anchor="BOOKING_CANCELLED")
            r = s.patch(fake.url + PROFILE, auth=AUTH,
                        json={"actions": r.json()["actions"] + [fixed]},
                        timeout=T(10))
            self.assertEqual(r.status_code, 200, r.text[:300])
            self.wait_exchanges(proxy, 4)

        def after():
            r = s.get("http://localhost:%d/_fake/echo?after=1" % fake.port,
                      timeout=T(10))
            self.assertEqual(r.status_code, 200)
            self.wait_exchanges(proxy, 5)

        downloads = self.downloads()
        found = self.run_script("live.mjs", {
            "PATCHSCOPE_TEST_WEB": url,
            "PATCHSCOPE_TEST_DOWNLOADS": downloads,
        }, {"get": get, "patch": patch, "more": more, "after": after})

        # Copy as curl: one shell word per argument, the body and the URL
        # exactly as recorded, the credential as its marker.
        cmd, entry = found["curl"]["command"], found["curl"]["entry"]
        argv = shlex.split(cmd)
        self.assertEqual(argv[:3], ["curl", "-X", "PATCH"])
        self.assertEqual(argv[argv.index("--data-raw") + 1],
                         entry["request"]["postData"]["text"])
        self.assertEqual(argv[argv.index("--url") + 1],
                         entry["request"]["url"])
        sent = [argv[i + 1] for i, a in enumerate(argv) if a == "-H"]
        want = ["%s: %s" % (h["name"], h["value"])
                for h in entry["request"]["headers"]
                if h["name"].lower() not in ("host", "content-length")]
        self.assertEqual(sent, want)
        marker = re.compile(r"Authorization: redacted:[0-9a-f]{12}")
        self.assertTrue(any(marker.fullmatch(h) for h in sent), sent)
        self.assertNotIn(AUTH[1], cmd)

        # Download HAR: the two PATCHes the filter showed, a file `show`
        # reads.
        names = [n for n in os.listdir(downloads) if n.endswith(".har")]
        self.assertEqual(len(names), 1, names)
        path = os.path.join(downloads, names[0])
        with open(path) as f:
            doc = json.load(f)
        entries = doc["log"]["entries"]
        self.assertEqual(doc["log"]["version"], "1.2")
        self.assertEqual([e["request"]["method"] for e in entries],
                         ["PATCH", "PATCH"])
        self.assertNotIn("_id", entries[0])
        cp = self.run_ps("show", path)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("action.anchor.unknown", cp.stdout)
        self.assertIn("actions.partial", cp.stdout)
        self.assertEqual(len(re.findall(r"^=== entry \d+", cp.stdout, re.M)),
                         2, cp.stdout[:2000])

    def test_hostile_exchanges_execute_nothing(self):
        """Script and HTML in a path, a query, request and response
        headers, bodies, JSON keys and a diagnosis: shown as text, live
        and in a report; nothing runs; copy as curl quotes it safely."""
        fake = self.start_fake()
        cassette = os.path.join(self.tmp, "hostile.har")
        proxy = self.start_ps("record", "-c", cassette, "--web",
                              "127.0.0.1:0")
        url = self.web_url(proxy)
        s = self.session(proxy)
        # Control characters a terminal or readline acts on when pasted
        # (end a bracketed paste, kill the line, interrupt).
        body = (HOSTILE_SCRIPT + "\n'$(touch pwned)'`id` \"; " + HOSTILE_IMG +
                "\x1b[201~\x15touch pwned\x03\x7f\r\n")

        def traffic():
            # A path and a query the browser would take for markup.
            raw = self.raw(proxy)
            target = "/%s?q=%s" % (HOSTILE_SCRIPT, "<img/src=x/onerror="
                                   "window.__pwned=1>")
            raw.send(harness.request_bytes(
                "GET", fake.url + target, "127.0.0.1:%d" % fake.port,
                headers=[("X-Evil", HOSTILE_IMG), ("Connection", "close")]))
            self.assertEqual(raw.read_response().status, 404)
            # A request body and header, echoed in the response body.
            r = s.post(fake.url + "/_fake/echo", params={"q": HOSTILE_IMG},
                       headers={"X-Evil": HOSTILE_SCRIPT,
                                "Content-Type": "text/plain"},
                       data=body.encode(), timeout=T(10))
            self.assertEqual(r.status_code, 200)
            # A response header.
            r = s.get(fake.url + "/_fake/headers",
                      params={"X-Evil": HOSTILE_IMG}, timeout=T(10))
            # A PATCH whose diagnoses quote hostile values and keys.
            evil = dict(NEW_WEBHOOK, anchor=HOSTILE_IMG)
            evil[HOSTILE_SCRIPT] = HOSTILE_IMG
            r = s.patch(fake.url + PROFILE, auth=AUTH,
                        json={"actions": [evil], HOSTILE_IMG: 1},
                        timeout=T(10))
            self.wait_exchanges(proxy, 4)
            return {"count": 4}

        report = os.path.join(self.tmp, "hostile.html")

        def make_report():
            rc = proxy.stop(signal.SIGTERM, T(8))
            self.assertEqual(rc, 0)
            cp = self.run_ps("report", cassette, "-o", report)
            self.assertEqual(cp.returncode, 0, cp.stderr)
            return {"path": report}

        found = self.run_script("hostile.mjs", {
            "PATCHSCOPE_TEST_WEB": url,
            "PATCHSCOPE_TEST_IMG": HOSTILE_IMG,
            "PATCHSCOPE_TEST_SCRIPT": HOSTILE_SCRIPT,
        }, {"traffic": traffic, "report": make_report})

        # The copied curl command, run by a shell, sends the same bytes,
        # and holds no character a terminal acts on (but line feeds).
        cmd = found["curl"]
        self.assertIsNone(re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", cmd),
                          repr(cmd))
        cp = subprocess.run(["/bin/sh", "-c", cmd + " -sS"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=self.tmp,
                            env=harness.clean_env(), timeout=T(20))
        self.assertEqual(cp.returncode, 0, cp.stderr)
        echo = json.loads(cp.stdout)
        self.assertEqual(echo["body"], body)
        self.assertEqual(echo["headers"]["x-evil"], HOSTILE_SCRIPT)
        self.assertEqual(echo["method"], "POST")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "pwned")))

    def test_wrong_token_or_host_is_refused(self):
        """A wrong or missing token: the page says 403; another Host name
        (DNS rebinding): 403 before any page; two views open in one
        browser each keep their own token (a reload still works)."""
        self.start_fake()
        proxy = self.start_ps("record", "-c",
                              os.path.join(self.tmp, "r.har"),
                              "--web", "127.0.0.1:0")
        url = self.web_url(proxy)
        port = int(re.search(r":(\d+)/", url).group(1))
        self.assertEqual(self.api(url, "/api/exchanges?after=0")[0], 200)
        self.assertEqual(self.api(url, "/api/exchanges?after=0",
                                  token="0" * 32)[0], 403)
        self.assertEqual(self.api(url, "/api/exchanges?after=0",
                                  host="%s:%d" % (REBIND_HOST, port))[0], 403)
        _, other = self.start_view(os.path.join(
            harness.SRCDIR, "cassettes", "seed-story.har"))
        self.run_script("refused.mjs", {
            "PATCHSCOPE_TEST_WEB": url,
            "PATCHSCOPE_TEST_OTHER": other,
            "PATCHSCOPE_TEST_REBIND": REBIND_HOST,
        })

    def test_dropped_exchanges_are_noticed(self):
        """--web-keep 2: the page shows the last two and says how many
        older ones were dropped, also as more come."""
        fake = self.start_fake()
        proxy = self.start_ps("record", "-c",
                              os.path.join(self.tmp, "k.har"),
                              "--web", "127.0.0.1:0", "--web-keep", "2")
        url = self.web_url(proxy)
        s = self.session(proxy)
        for i in range(4):
            s.get(fake.url + "/_fake/echo?n=%d" % i, timeout=T(10))
        self.wait_exchanges(proxy, 4)

        def more():
            s.get(fake.url + "/_fake/echo?n=4", timeout=T(10))
            self.wait_exchanges(proxy, 5)
        self.run_script("keep.mjs", {"PATCHSCOPE_TEST_WEB": url},
                        {"more": more})

    def test_replay_hits_misses_and_faults(self):
        """replay --web --fault: hit, miss and the fault in their
        columns."""
        proxy = self.start_ps("replay", "-c", os.path.join(
            harness.SRCDIR, "cassettes", "seed-story.har"),
            "--web", "127.0.0.1:0", "--fault", "DELETE /v1/*=status:503")
        url = self.web_url(proxy)
        for method, path, status in (
                ("GET", PROFILE + "?fields=actions.%2A", 200),
                ("GET", "/v1/acc1/profiles/nope", 404),
                ("DELETE", PROFILE, 503)):
            raw = self.raw(proxy)
            raw.send(("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close"
                      "\r\n\r\n" % (method, path, proxy.addr[0])).encode())
            self.assertEqual(raw.read_response().status, status)
        self.wait_exchanges(proxy, 3)
        self.run_script("replay.mjs", {"PATCHSCOPE_TEST_WEB": url})

    def test_ten_thousand_exchanges(self):
        """view of a 10,000-entry cassette: few rows in the DOM, scrolling
        renders the right ones, the filter and the keyboard work."""
        path = os.path.join(self.tmp, "big.har")
        write_big_cassette(path, 10000)
        _, url = self.start_view(path)
        self.run_script("big.mjs", {"PATCHSCOPE_TEST_WEB": url})

    def test_report_opens_offline(self):
        """report of the seed story, opened from disk: the rows and the
        diagnoses, and no request but the file itself."""
        report = os.path.join(self.tmp, "seed story.html")
        cp = self.run_ps("report", os.path.join(harness.SRCDIR, "cassettes",
                                                "seed-story.har"),
                         "-o", report)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.run_script("report.mjs", {"PATCHSCOPE_TEST_REPORT": report,
                                       "PATCHSCOPE_TEST_DOWNLOADS":
                                       self.downloads()})

    def test_diagnoses_at_tricky_pointers(self):
        """report of bodies whose diagnoses name keys with / and ~, a
        control character, a duplicated key, the whole body, a missing
        path and the query; a body that is not JSON; a binary body."""
        path = os.path.join(self.tmp, "pointers.har")
        body = ('{"a/b": {"c~d": [1, {"x": 12345678901234567890}]}, '
                '"dup": 1, "dup": 2, "ctl\\u0001": true}')

        def diag(severity, code, where):
            return {"source": "patchscope", "severity": severity,
                    "code": code, "path": where, "message": "at " + where}
        entries = [
            har_entry("PATCH", "http://api.example/v1/p?fields=a", body, [
                diag("error", "json.syntax", ""),
                diag("error", "t.x", "/a~1b/c~0d/1/x"),
                diag("warning", "t.dup", "/dup"),
                diag("info", "t.ctl", "/ctl%01"),
                diag("error", "t.missing", "/missing"),
                diag("info", "query.fields.ignored", "query:fields")]),
            har_entry("PATCH", "http://api.example/v1/q",
                      '{"actions": [1, 2,]}',
                      [diag("error", "json.syntax", "")]),
            har_entry("POST", "http://api.example/upload", "AAEC/w==", [],
                      base64=True),
        ]
        with open(path, "w") as f:
            json.dump({"log": {"version": "1.2", "creator": {
                "name": "patchscope", "version": "test"},
                "entries": entries}}, f)
        report = os.path.join(self.tmp, "pointers.html")
        cp = self.run_ps("report", path, "-o", report)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.run_script("pointers.mjs", {"PATCHSCOPE_TEST_REPORT": report})


def har_entry(method, url, body, diagnoses, base64=False):
    """A cassette entry with a request body and a 200 answer."""
    post = {"mimeType": "application/json", "text": body}
    if base64:
        post = {"mimeType": "application/octet-stream", "text": body,
                "_encoding": "base64"}
    query = url.partition("?")[2]
    return {
        "startedDateTime": "2026-12-03T10:00:00.000Z", "time": 3.0,
        "request": {
            "method": method, "url": url, "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": [],
            "queryString": [{"name": q.partition("=")[0],
                             "value": q.partition("=")[2]}
                            for q in query.split("&") if q],
            "postData": post, "headersSize": -1, "bodySize": len(body)},
        "response": {
            "status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": [], "redirectURL": "",
            "content": {"size": 2, "mimeType": "application/json",
                        "text": "{}"},
            "headersSize": -1, "bodySize": 2},
        "cache": {}, "timings": {"send": 1, "wait": 1, "receive": 1},
        "_diagnoses": diagnoses,
    }


def write_big_cassette(path, n):
    """A cassette of n exchanges: methods, hosts and statuses in turn, a
    unique marker in each request body, an error diagnosis on every 100th
    and no answer on every 250th."""
    methods = ("GET", "POST", "PATCH", "DELETE")
    statuses = (200, 201, 404, 500, 503, 204, 302)
    entries = []
    for i in range(n):
        host = "api%d.example" % (i % 5)
        status = 0 if i % 250 == 249 else statuses[i % len(statuses)]
        body = json.dumps({"marker": "marker-%05d" % i, "n": i})
        e = {
            "startedDateTime": "2026-12-03T10:%02d:%02d.%03dZ" % (
                i // 6000 % 60, i // 100 % 60, i % 1000),
            "time": 1.5 + i % 17,
            "request": {
                "method": methods[i % len(methods)],
                "url": "http://%s/v1/items/%d?page=%d" % (host, i, i % 3),
                "httpVersion": "HTTP/1.1", "cookies": [],
                "headers": [{"name": "Host", "value": host},
                            {"name": "Content-Type",
                             "value": "application/json"}],
                "queryString": [{"name": "page", "value": str(i % 3)}],
                "postData": {"mimeType": "application/json", "text": body},
                "headersSize": -1, "bodySize": len(body),
            },
            "response": {
                "status": status,
                "statusText": "" if status == 0 else "Whatever",
                "httpVersion": "HTTP/1.1" if status else "", "cookies": [],
                "headers": [], "redirectURL": "",
                "content": {"size": 2, "mimeType": "application/json",
                            "text": "{}"} if status else
                           {"size": 0, "mimeType": ""},
                "headersSize": -1, "bodySize": 2 if status else -1,
            },
            "cache": {},
            "timings": {"send": 0.5, "wait": 1.0, "receive": 0.0},
        }
        if status == 0:
            e["_error"] = "upstream_closed"
        if i % 100 == 42:
            e["_diagnoses"] = [{
                "source": "patchscope", "severity": "error",
                "code": "action.anchor.unknown", "path": "/marker",
                "message": "a made-up diagnosis of entry %d" % i,
                "suggestion": "marker"}]
        entries.append(e)
    with open(path, "w") as f:
        json.dump({"log": {"version": "1.2",
                           "creator": {"name": "patchscope",
                                       "version": "test"},
                           "entries": entries}}, f)


if __name__ == "__main__":
    harness.main()
