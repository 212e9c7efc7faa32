#!/usr/bin/python3
"""`patchscope drift -c FILE` through the real binary (issue 14, item 3).

Cassettes are recorded with `patchscope record` from a real client
(Python requests) against the fake profile API, over HTTP and over HTTPS
(the fake's certificate from a test CA given with --upstream-ca).  Then
the fake is told to change its answers (tests/fake_api.py, /_fake/drift:
a field removed, a type changed, a new anchor, a plain value, a status)
and `drift` must say so: severities and JSON Pointers in the text and in
--json, exit 1; nothing and exit 0 when only a plain value changed
(unless --values).  Also: the redacted Authorization that must be given
with --header (exit 2 naming it before anything is sent; with it, the
fake sees the value given), PATCH entries skipped unless --allow-writes
(which says so first), redacted query parameters and body values skipped,
--update rewriting only the drifted entry crash-safely (no temporary file
left, no secret written, the others byte for byte, a symlink's target),
an origin that is down, and bad input (one line, exit 2)."""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import http.client
import ssl

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import AUTH, PROFILE, T  # noqa: E402

FIELDS = "id,title,status,actions"
SANITIZER_WORDS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def basic(user, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


AUTH_VALUE = basic(*AUTH)
AUTH_HEADER = "Authorization: " + AUTH_VALUE


class DriftCase(harness.TestCase):

    # -- the fake API --

    def fake_call(self, fake, method, path, body=None):
        """Call one of the fake's own endpoints; return its JSON."""
        if fake.tls:
            ctx = ssl.create_default_context(cafile=fake.cafile)
            ctx.check_hostname = False
            conn = http.client.HTTPSConnection("127.0.0.1", fake.port,
                                               timeout=T(10), context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", fake.port,
                                              timeout=T(10))
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read()
            self.assertEqual(resp.status, 200, text[:300])
            return json.loads(text)
        finally:
            conn.close()

    def change_answers(self, fake, ops=(), status=None):
        self.fake_call(fake, "POST", "/_fake/drift",
                       {"ops": list(ops), "status": status})

    def true_answers(self, fake):
        self.fake_call(fake, "DELETE", "/_fake/drift")

    def seen(self, fake):
        return self.fake_call(fake, "GET", "/_fake/seen")["requests"]

    # -- recording --

    def record(self, fake, requests_to_make, name="c.har"):
        """Record the requests [(method, path, kwargs)] made with Python
        requests through `patchscope record`; return the cassette path."""
        cassette = os.path.join(self.tmp, name)
        args = ["-c", cassette]
        if fake.tls:
            args += ["--upstream-ca", fake.cafile]
        rec = self.start_ps("record", *args)
        s = self.https_session(rec) if fake.tls else self.session(rec)
        for method, path, kw in requests_to_make:
            kw = dict(kw)
            kw.setdefault("auth", AUTH)
            url = path if path.startswith("http") else fake.url + path
            r = s.request(method, url, timeout=T(10), **kw)
            # Not r.text: requests guesses the charset of a body without
            # one with chardet, a minute for the 16 MiB answer below.
            self.assertLess(r.status_code, 500, r.content[:300])
        rc = rec.stop(signal.SIGTERM, T(8))
        self.assertEqual(rc, 0, rec.log()[-2000:])
        with open(cassette, "rb") as f:
            doc = json.loads(f.read())
        self.assertEqual(len(doc["log"]["entries"]), len(requests_to_make))
        return cassette

    # -- drift --

    def drift(self, cassette, *args, fake=None, auth=True):
        argv = ["drift", "-c", cassette]
        if fake is not None and fake.tls:
            argv += ["--upstream-ca", fake.cafile]
        if auth:
            argv += ["--header", AUTH_HEADER]
        cp = self.run_ps(*(argv + list(args)), timeout=T(30))
        for word in SANITIZER_WORDS:
            self.assertNotIn(word, cp.stderr)
        # The credential given is sent, never shown.
        self.assertNotIn(AUTH_VALUE.split()[1], cp.stdout + cp.stderr)
        return cp

    def assert_one_line_error(self, cp, *words):
        self.assertEqual(cp.returncode, 2, "stdout %r stderr %r"
                         % (cp.stdout, cp.stderr))
        lines = [line for line in cp.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertTrue(lines[0].startswith("patchscope: "), lines[0])
        for word in words:
            self.assertIn(word, lines[0])
        return lines[0]

    def profile_gets(self):
        return [("GET", PROFILE + "?fields=" + FIELDS, {}),
                ("GET", PROFILE, {})]


class Shape(DriftCase):
    """What drifts, what does not, and how it is told."""

    def test_no_change_and_plain_values_over_http(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets() +
                               [("HEAD", PROFILE, {}),
                                ("GET", "/_fake/gzip", {})])
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "4 requests, 0 drifted, 0 skipped\n")
        self.assertEqual(cp.stderr, "")
        # -v lists the entries that did not drift.
        cp = self.drift(cassette, "-v", fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertRegex(cp.stdout, r"(?m)^= GET %s/_fake/gzip \(entry 3\)$"
                         % re.escape(fake.url))
        self.assertRegex(cp.stdout, r"(?m)^= HEAD ")
        # A plain value changed: not drift, unless --values.
        self.change_answers(fake, [{"op": "replace", "path": "/title",
                                    "value": "Renamed"}])
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stdout, "4 requests, 0 drifted, 0 skipped\n")
        cp = self.drift(cassette, "--values", fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn("~ GET %s%s?fields=%s (entry 0)\n"
                      '    info value /title: "Discovery call" -> '
                      '"Renamed"\n' % (fake.url, PROFILE, FIELDS),
                      cp.stdout)
        self.assertIn("(entry 1)", cp.stdout)
        self.assertTrue(cp.stdout.endswith(
            "4 requests, 2 drifted, 0 skipped\n"), cp.stdout)

    def test_removed_field_type_and_new_anchor_over_https(self):
        fake = self.start_fake(tls=True)
        cassette = self.record(fake, self.profile_gets())
        self.change_answers(fake, [
            {"op": "remove", "path": "/actions/0/offsetMinutes"},
            {"op": "replace", "path": "/actions/1/offsetMinutes",
             "value": "-1440"},
            {"op": "replace", "path": "/actions/2/anchor",
             "value": "BOOKING_NO_SHOW_LATE"},
            {"op": "add", "path": "/actions/1/color", "value": "blue"},
        ])
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertEqual(cp.stderr, "")
        url = fake.url + PROFILE + "?fields=" + FIELDS
        self.assertIn(
            "~ GET %s (entry 0)\n"
            "    error removed /actions/0/offsetMinutes (was number)\n"
            "    error type /actions/1/offsetMinutes: number -> string\n"
            "    warning added /actions/1/color (string)\n"
            '    warning enum /actions/2/anchor: new value '
            '"BOOKING_NO_SHOW_LATE"\n' % url, cp.stdout)
        # The default projection has no actions: that entry did not drift.
        self.assertNotIn("(entry 1)", cp.stdout)
        self.assertTrue(cp.stdout.endswith(
            "2 requests, 1 drifted, 0 skipped\n"), cp.stdout)

        cp = self.drift(cassette, "--json", fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        doc = json.loads(cp.stdout)
        self.assertEqual(doc["cassette"], cassette)
        self.assertEqual((doc["drifted"], doc["checked"], doc["skipped"]),
                         (1, 2, []))
        self.assertEqual(len(doc["entries"]), 2)
        first, second = doc["entries"]
        self.assertEqual((first["index"], first["method"], first["url"],
                          first["status"]), (0, "GET", url, [200, 200]))
        self.assertEqual(first["changes"], [
            {"severity": "error", "kind": "removed",
             "path": "/actions/0/offsetMinutes", "recorded": 0,
             "live": None},
            {"severity": "error", "kind": "type",
             "path": "/actions/1/offsetMinutes", "recorded": -1440,
             "live": "-1440"},
            {"severity": "warning", "kind": "added",
             "path": "/actions/1/color", "recorded": None, "live": "blue"},
            {"severity": "warning", "kind": "enum",
             "path": "/actions/2/anchor", "recorded": "BOOKING_CANCELLED",
             "live": "BOOKING_NO_SHOW_LATE"},
        ])
        self.assertEqual(second["changes"], [])

    def test_new_action_with_a_new_anchor(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets()[:1])
        new = {"id": "act_9", "type": "WEBHOOK", "status": "TEMPLATE",
               "anchor": "BOOKING_PAID", "offsetMinutes": 0,
               "title": "x", "to": "https://example.com/", "subject": "POST",
               "body": "{}", "attachIcs": False}
        self.change_answers(fake, [{"op": "add", "path": "/actions/-",
                                    "value": new}])
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn('    warning enum /actions/3/anchor: new value '
                      '"BOOKING_PAID"\n', cp.stdout)
        # A longer array is data, not shape; the known type is no news.
        self.assertNotIn("/actions/3/type", cp.stdout)

    def test_status_change(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets())
        self.change_answers(fake, status=503)
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn("(entry 0)\n    error status 200 -> 503\n", cp.stdout)
        self.assertIn("(entry 1)\n    error status 200 -> 503\n", cp.stdout)
        doc = json.loads(self.drift(cassette, "--json", fake=fake).stdout)
        self.assertEqual(doc["entries"][0]["status"], [200, 503])
        self.assertEqual(doc["entries"][0]["changes"], [
            {"severity": "error", "kind": "status", "path": "",
             "recorded": 200, "live": 503}])
        # Back to the true answers: no drift.
        self.true_answers(fake)
        self.assertEqual(self.drift(cassette, fake=fake).returncode, 0)

    def test_hostile_values_are_escaped(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets()[:1])
        self.change_answers(fake, [
            {"op": "replace", "path": "/title",
             "value": "\x1b[31mred\x07\u009b2J"},
            {"op": "add", "path": "/actions/0/x\x1b]0;t\x07",
             "value": 1}])
        cp = self.drift(cassette, "--values", fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertNotRegex(cp.stdout, "[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]")
        # JSON escapes the string's controls; C1 is shown as bytes.
        self.assertIn('info value /title: "Discovery call" -> '
                      '"\\u001B[31mred\\u0007\\xc2\\x9b2J"', cp.stdout)
        self.assertIn("warning added /actions/0/x\\x1b]0;t\\x07 (number)",
                      cp.stdout)


class Credentials(DriftCase):
    """Redacted values: supplied with --header, or the entry skipped."""

    def test_redacted_authorization_needs_header(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets())
        with open(cassette) as f:
            self.assertNotIn(AUTH_VALUE, f.read())
        fake.reset()
        cp = self.drift(cassette, fake=fake, auth=False)
        line = self.assert_one_line_error(
            cp, "entry 0 (GET %s%s?fields=%s)" % (fake.url, PROFILE, FIELDS),
            "redacted Authorization header",
            "--header 'Authorization: VALUE'")
        self.assertEqual(cp.stdout, "")
        # Nothing was sent.
        self.assertEqual(fake.stats()["requests"], 0, line)
        # With it, the fake sees the value given.
        other = basic("acc1", "another-key")
        cp = self.drift(cassette, "--header", "Authorization: " + other,
                        fake=fake, auth=False)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertNotIn(other.split()[1], cp.stdout + cp.stderr)
        seen = self.seen(fake)
        self.assertEqual([r["authorization"] for r in seen], [other, other])
        self.assertEqual([r["path"] for r in seen], [PROFILE, PROFILE])

    def test_header_adds_and_removes(self):
        fake = self.start_fake()
        cassette = self.record(fake, [("GET", "/_fake/echo?x=1",
                                       {"auth": None})])
        # echo answers with the request's headers, so its drift shows what
        # was sent: an empty value removes a recorded header, others are
        # added (both lines of one name).
        cp = self.drift(cassette, "--values", "--header", "User-Agent:",
                        "--header", "X-Extra: one", "--header",
                        "x-extra:  two ", fake=fake, auth=False)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn('warning added /headers/x-extra (string)', cp.stdout)
        self.assertIn('error removed /headers/user-agent (was string)',
                      cp.stdout)
        cp = self.drift(cassette, "--json", "--header", "X-Extra: one",
                        "--header", "x-extra:  two ", fake=fake, auth=False)
        added = [c for c in json.loads(cp.stdout)["entries"][0]["changes"]
                 if c["path"] == "/headers/x-extra"]
        self.assertEqual(added[0]["live"], "one, two")

    def test_redacted_query_and_body_values_are_skipped(self):
        fake = self.start_fake()
        cassette = self.record(fake, [
            ("GET", PROFILE + "?fields=id&api_key=k-" + os.urandom(4).hex(),
             {}),
            ("PATCH", PROFILE + "?fields=id",
             {"json": {"title": "t",
                       "password": "pw-" + os.urandom(4).hex()}}),
            ("GET", PROFILE + "?fields=id", {}),
        ])
        fake.reset()
        cp = self.drift(cassette, "--allow-writes", fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 2, cp.stderr)
        self.assertRegex(lines[0], r"^patchscope: warning: entry 0 \(GET "
                         r".*api_key=redacted:[0-9a-f]{12}\) is skipped: its "
                         r"URL holds a redacted value, which cannot be "
                         r"supplied$")
        self.assertRegex(lines[1], r"^patchscope: warning: entry 1 \(PATCH "
                         r".*\) is skipped: its body holds a redacted value, "
                         r"which cannot be supplied$")
        self.assertEqual(cp.stdout, "1 request, 0 drifted, 2 skipped\n")
        self.assertEqual(fake.stats()["methods"], {"GET": 1})
        doc = json.loads(self.drift(cassette, "--json", fake=fake).stdout)
        self.assertEqual([(s["index"], s["method"]) for s in doc["skipped"]],
                         [(0, "GET"), (1, "PATCH")])
        self.assertIn("redacted", doc["skipped"][0]["reason"])


class Writes(DriftCase):
    """Requests that change data are sent only with --allow-writes."""

    def test_patch_skipped_then_sent(self):
        fake = self.start_fake()
        cassette = self.record(fake, [
            ("GET", PROFILE + "?fields=" + FIELDS, {}),
            ("PATCH", PROFILE + "?fields=id,title",
             {"json": {"title": "Renamed by the recording"}}),
        ])
        fake.reset()
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stderr.splitlines(), [
            "patchscope: warning: entry 1 (PATCH %s%s?fields=id,title) is "
            "skipped: it changes data (send it with --allow-writes)"
            % (fake.url, PROFILE)])
        self.assertEqual(cp.stdout, "1 request, 0 drifted, 1 skipped\n")
        self.assertNotIn("PATCH", fake.stats()["methods"])

        cp = self.drift(cassette, "--allow-writes", fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stderr.splitlines(), [
            "patchscope: --allow-writes: 1 request that changes data will "
            "be sent to %s" % fake.url])
        self.assertEqual(cp.stdout, "2 requests, 0 drifted, 0 skipped\n")
        self.assertEqual(fake.stats()["methods"].get("PATCH"), 1)
        seen = self.seen(fake)
        self.assertEqual(json.loads(seen[-1]["body"]),
                         {"title": "Renamed by the recording"})

    def test_writes_notice_comes_before_anything_is_sent(self):
        """The notice is out before the first request: a PATCH whose
        origin is down gets the notice, then the error."""
        fake = self.start_fake()
        cassette = self.record(fake, [
            ("PATCH", PROFILE + "?fields=id", {"json": {"title": "x"}})])
        fake.stop()
        cp = self.drift(cassette, "--allow-writes", fake=fake)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 2, cp.stderr)
        self.assertEqual(lines[0], "patchscope: --allow-writes: 1 request "
                         "that changes data will be sent to %s" % fake.url)
        self.assertTrue(lines[1].startswith(
            "patchscope: entry 0 (PATCH %s" % fake.url),
            lines[1])

    def test_notice_names_each_origin_once(self):
        secure = self.start_fake(tls=True)
        plain = self.start_fake()
        body = {"json": {"title": "x"}}
        cassette = self.record(secure, [
            ("PATCH", PROFILE + "?fields=id", body),
            ("PATCH", plain.url + PROFILE + "?fields=id", body),
            ("GET", plain.url + PROFILE + "?fields=id", {}),
            ("PATCH", PROFILE + "?fields=id", body),
        ])
        cp = self.drift(cassette, "--allow-writes", fake=secure)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stderr.splitlines(), [
            "patchscope: --allow-writes: 3 requests that change data will "
            "be sent to %s, %s" % (secure.url, plain.url)])
        self.assertEqual(cp.stdout, "4 requests, 0 drifted, 0 skipped\n")

    def test_missing_credential_stops_before_writes(self):
        fake = self.start_fake()
        cassette = self.record(fake, [
            ("PATCH", PROFILE + "?fields=id", {"json": {"title": "x"}})])
        fake.reset()
        cp = self.drift(cassette, "--allow-writes", fake=fake, auth=False)
        self.assert_one_line_error(cp, "redacted Authorization header")
        self.assertEqual(fake.stats()["requests"], 0)


class Framing(DriftCase):
    """Answers however they are framed; answers that are not HTTP."""

    def test_every_framing_of_an_answer(self):
        fake = self.start_fake()
        paths = ["/_fake/chunked?parts=5", "/_fake/eof-body",
                 "/_fake/interim?count=2", "/_fake/stream?bytes=100000",
                 "/_fake/status/204", "/_fake/status/304",
                 "/_fake/stream?bytes=70000&chunked=1"]
        cassette = self.record(fake, [("GET", p, {"auth": None})
                                      for p in paths])
        cp = self.drift(cassette, "-v", fake=fake, auth=False)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        # -v logs each connection, and nothing worse.
        self.assertRegex(cp.stderr, r"debug: drift: connected to "
                         r"127\.0\.0\.1:%d" % fake.port)
        self.assertNotRegex(cp.stderr, r"(?i)warning|error")
        self.assertEqual(len(re.findall(r"(?m)^= GET ", cp.stdout)), 7,
                         cp.stdout)
        self.assertTrue(cp.stdout.endswith(
            "7 requests, 0 drifted, 0 skipped\n"), cp.stdout)

    def test_answer_cut_at_the_limit_is_not_compared(self):
        fake = self.start_fake()
        big = 16 * 1024 * 1024 + 100
        cassette = self.record(fake, [("GET", "/_fake/stream?bytes=%d" % big,
                                       {"auth": None})])
        cp = self.drift(cassette, "-v", fake=fake, auth=False)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn("(entry 0; body not compared: cut or in an unknown "
                      "coding)", cp.stdout)
        doc = json.loads(self.drift(cassette, "--json", fake=fake,
                                    auth=False).stdout)
        self.assertEqual(doc["entries"][0]["body_compared"], False)

    def rewritten(self, fake, path):
        """A recorded GET of /_fake/echo, its URL changed to path."""
        cassette = self.record(fake, [("GET", "/_fake/echo?n=1",
                                       {"auth": None})],
                               name="rewritten-%d.har" % self._next())
        with open(cassette) as f:
            text = f.read()
        with open(cassette, "w") as f:
            f.write(text.replace("/_fake/echo?n=1", path))
        return cassette

    def test_answers_that_are_not_http(self):
        fake = self.start_fake()
        cp = self.drift(self.rewritten(fake, "/_fake/garbage"), fake=fake,
                        auth=False)
        self.assert_one_line_error(cp, "the answer of 127.0.0.1:%d is not "
                                   "valid HTTP" % fake.port)
        cp = self.drift(self.rewritten(fake, "/_fake/close-mid-body"),
                        fake=fake, auth=False)
        self.assert_one_line_error(cp, "closed the connection before its "
                                   "answer was complete")
        many = "&".join("X-H%d=v" % i for i in range(600))
        cp = self.drift(self.rewritten(fake, "/_fake/headers?" + many),
                        fake=fake, auth=False)
        self.assert_one_line_error(cp, "more than 512 header lines")
        cp = self.drift(self.rewritten(fake, "/_fake/interim?count=101"),
                        fake=fake, auth=False)
        self.assert_one_line_error(cp, "more than 100 interim (1xx)")


class Update(DriftCase):
    """--update rewrites the drifted entries only, crash-safely."""

    def spans(self, data, n):
        """The text of each entry (the recorder's layout)."""
        doc = json.loads(data)
        self.assertEqual(len(doc["log"]["entries"]), n)
        dec = json.JSONDecoder()
        start = data.index('"entries": [') + len('"entries": [')
        out = []
        pos = start
        for _ in range(n):
            while data[pos] in " \r\n\t,":
                pos += 1
            _, end = dec.raw_decode(data, pos)
            out.append(data[pos:end])
            pos = end
        return out

    def test_update_rewrites_only_the_drifted_entry(self):
        fake = self.start_fake(tls=True)
        cassette = self.record(fake, [
            ("GET", PROFILE + "?fields=id,title", {}),
            ("GET", PROFILE + "?fields=" + FIELDS, {}),
            ("GET", PROFILE, {}),
        ])
        os.chmod(cassette, 0o640)
        with open(cassette) as f:
            before = f.read()
        old = self.spans(before, 3)
        self.change_answers(fake, [
            {"op": "remove", "path": "/actions/0/offsetMinutes"}])
        cp = self.drift(cassette, "--update", fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn("error removed /actions/0/offsetMinutes", cp.stdout)
        self.assertEqual(cp.stderr.strip(), "patchscope: %s: 1 drifted entry "
                         "updated" % cassette)
        with open(cassette) as f:
            after = f.read()
        new = self.spans(after, 3)
        self.assertEqual(new[0], old[0])
        self.assertEqual(new[2], old[2])
        self.assertNotEqual(new[1], old[1])
        # Everything around the entries is kept too.
        self.assertEqual(after.replace(new[1], ""),
                         before.replace(old[1], ""))
        entry = json.loads(new[1])
        body = json.loads(entry["response"]["content"]["text"])
        self.assertNotIn("offsetMinutes", body["actions"][0])
        self.assertIn("offsetMinutes", body["actions"][1])
        # The credential given never reaches the file; secrets in the
        # answer are redacted as recording redacts them.
        self.assertNotIn(AUTH_VALUE, after)
        self.assertNotIn(AUTH_VALUE.split()[1], after)
        self.assertNotIn("crm-secret-token-1", after)
        auth = [h["value"] for h in entry["request"]["headers"]
                if h["name"].lower() == "authorization"]
        self.assertEqual(len(auth), 1)
        self.assertRegex(auth[0], r"^redacted:[0-9a-f]{12}$")
        # No temporary file is left; the mode is kept; it loads.
        self.assertEqual(sorted(n for n in os.listdir(self.tmp)
                                if n.startswith(".") or "drift" in n), [])
        self.assertEqual(os.stat(cassette).st_mode & 0o777, 0o640)
        cp = self.run_ps("show", cassette)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        # The cassette now matches the live API.
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        # Nothing drifted: the file is not touched.
        st = os.stat(cassette)
        cp = self.drift(cassette, "--update", fake=fake)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(os.stat(cassette).st_ino, st.st_ino)

    def test_header_values_never_reach_output_or_file(self):
        """A value given with --header is redacted wherever the live
        exchange holds it: /_fake/echo sends it back in its body."""
        fake = self.start_fake()
        cassette = self.record(fake, [("GET", "/_fake/echo?n=1",
                                       {"auth": None})])
        secret = "partner-" + os.urandom(8).hex()
        cp = self.drift(cassette, "--values", "--update", "--header",
                        "X-Partner-Key: " + secret, fake=fake, auth=False)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn("warning added /headers/x-partner-key (string)",
                      cp.stdout)
        self.assertNotIn(secret, cp.stdout + cp.stderr)
        with open(cassette) as f:
            text = f.read()
        self.assertNotIn(secret, text)
        entry = json.loads(text)["log"]["entries"][0]
        echoed = json.loads(entry["response"]["content"]["text"])
        self.assertRegex(echoed["headers"]["x-partner-key"],
                         r"^redacted:[0-9a-f]{12}$")

    def test_update_leaves_a_file_changed_meanwhile(self):
        fake = self.start_fake()
        cassette = self.record(fake, [
            ("GET", PROFILE + "?fields=id", {}),
            ("GET", "/_fake/slow?delay=%g" % T(1.5), {"auth": None})])
        fake.reset()        # the recording's slow request is not drift's
        self.change_answers(fake, status=503)
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        p = subprocess.Popen([harness.PATCHSCOPE, "drift", "-c", cassette,
                              "--update", "--header", AUTH_HEADER],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env)
        try:
            # While it waits for the slow answer, someone else writes.
            harness.wait_for(lambda: fake.requests_for("/_fake/slow"),
                             T(10), what="the slow request")
            with open(cassette, "a") as f:
                f.write("\n")
            out, err = p.communicate(timeout=T(20))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = err.decode()
        self.assertEqual(p.returncode, 2, err)
        self.assertIn("error status 200 -> 503", out.decode())
        self.assertIn("changed while drift ran; it is left as it is", err)
        with open(cassette) as f:
            doc = json.loads(f.read())
        self.assertEqual(doc["log"]["entries"][0]["response"]["status"], 200)

    def test_update_through_a_symlink_writes_the_target(self):
        fake = self.start_fake()
        target = self.record(fake, self.profile_gets(), name="real.har")
        link = os.path.join(self.tmp, "link.har")
        os.symlink("real.har", link)
        self.change_answers(fake, status=404)
        cp = self.drift(link, "--update", fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertIn("is a symbolic link: its target %s is updated"
                      % os.path.realpath(target), cp.stderr)
        self.assertTrue(os.path.islink(link))
        with open(target) as f:
            doc = json.load(f)
        self.assertEqual([e["response"]["status"]
                          for e in doc["log"]["entries"]], [404, 404])

    def test_update_refuses_a_cut_cassette(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets())
        with open(cassette) as f:
            text = f.read()
        cut = text[:text.rindex("}", 0, text.rindex("]")) + 1]
        with open(cassette, "w") as f:
            f.write(cut)
        self.change_answers(fake, status=500)
        cp = self.drift(cassette, "--update", fake=fake)
        self.assert_one_line_error(cp, "--update needs a whole cassette")
        with open(cassette) as f:
            self.assertEqual(f.read(), cut)
        # Without --update a cut cassette is checked, with a warning.
        cp = self.drift(cassette, fake=fake)
        self.assertEqual(cp.returncode, 1, cp.stderr)


class Failures(DriftCase):
    """Errors: one line, exit 2."""

    def test_origin_down(self):
        fake = self.start_fake()
        cassette = self.record(fake, self.profile_gets())
        port = fake.port
        fake.stop()
        cp = self.drift(cassette, fake=fake)
        line = self.assert_one_line_error(
            cp, "entry 0 (GET %s%s" % (fake.url, PROFILE),
            "could not connect to 127.0.0.1:%d" % port)
        self.assertRegex(line, r"(?i)refused")
        self.assertEqual(cp.stdout, "")

    def test_untrusted_origin_certificate(self):
        fake = self.start_fake(tls=True)
        cassette = self.record(fake, self.profile_gets()[:1])
        cp = self.run_ps("drift", "-c", cassette, "--header", AUTH_HEADER)
        self.assert_one_line_error(cp, "127.0.0.1:%d" % fake.port,
                                   "not trusted", "--upstream-ca")
        cp = self.run_ps("drift", "-c", cassette, "--header", AUTH_HEADER,
                         "--insecure-upstream")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("--insecure-upstream", cp.stderr)

    def test_response_timeout(self):
        fake = self.start_fake()
        cassette = self.record(fake, [("GET", "/_fake/slow?delay=0.1",
                                       {"auth": None})])
        with open(cassette) as f:
            text = f.read()
        with open(cassette, "w") as f:
            f.write(text.replace("delay=0.1", "delay=5"))
        cp = self.drift(cassette, "--response-timeout", "0.5", fake=fake,
                        auth=False)
        self.assert_one_line_error(cp, "--response-timeout",
                                   "127.0.0.1:%d" % fake.port)

    def test_bad_input(self):
        cp = self.run_ps("drift")
        self.assert_one_line_error(cp, "missing -c FILE")
        cp = self.run_ps("drift", "-c", os.path.join(self.tmp, "none.har"))
        self.assert_one_line_error(cp, "none.har")
        nothar = os.path.join(self.tmp, "not.har")
        with open(nothar, "w") as f:
            json.dump({"hello": "world"}, f)
        cp = self.run_ps("drift", "-c", nothar)
        self.assert_one_line_error(cp, "not.har")
        with open(nothar, "w") as f:
            f.write("this is not JSON\n")
        self.assert_one_line_error(self.run_ps("drift", "-c", nothar),
                                   "not.har")
        for bad in ("Authorization", "Bad Name: x", ": x", "X-A: a\x01b"):
            cp = self.run_ps("drift", "-c", nothar, "--header", bad)
            self.assert_one_line_error(cp, "--header")
        cp = self.run_ps("drift", "-c", nothar, "--header", "Host: x")
        self.assert_one_line_error(cp, "drift sets this header itself")
        cp = self.run_ps("drift", "-c", nothar, "stray")
        self.assert_one_line_error(cp, "unexpected argument")
        cp = self.run_ps("drift", "-c", nothar, "--listen", "127.0.0.1:0")
        self.assert_one_line_error(cp, "unknown option --listen")
        cp = self.run_ps("drift", "-c", one_entry_cassette(self.tmp),
                         "--upstream-ca", os.path.join(self.tmp, "no.pem"))
        self.assert_one_line_error(cp, "--upstream-ca")

    def test_empty_cassette(self):
        empty = os.path.join(self.tmp, "empty.har")
        with open(empty, "w") as f:
            json.dump({"log": {"version": "1.2", "creator": {
                "name": "x", "version": "1"}, "entries": []}}, f)
        cp = self.run_ps("drift", "-c", empty)
        self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                         (0, "0 requests, 0 drifted, 0 skipped\n", ""))
        cp = self.run_ps("drift", "-c", empty, "--json")
        self.assertEqual(json.loads(cp.stdout), {
            "cassette": empty, "entries": [], "drifted": 0, "checked": 0,
            "skipped": []})


def one_entry_cassette(tmp):
    """A cassette with one GET to a closed port: --upstream-ca is read
    before anything is sent."""
    path = os.path.join(tmp, "one.har")
    entry = {"startedDateTime": "2026-01-01T00:00:00.000Z", "time": 1,
             "request": {"method": "GET", "url": "https://127.0.0.1:9/",
                         "httpVersion": "HTTP/1.1", "headers": [],
                         "queryString": [], "cookies": [], "headersSize": -1,
                         "bodySize": 0},
             "response": {"status": 200, "statusText": "OK",
                          "httpVersion": "HTTP/1.1", "headers": [],
                          "cookies": [], "content": {"size": 0,
                                                     "mimeType": ""},
                          "redirectURL": "", "headersSize": -1,
                          "bodySize": 0},
             "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}}
    with open(path, "w") as f:
        json.dump({"log": {"version": "1.2", "creator": {
            "name": "x", "version": "1"}, "entries": [entry]}}, f)
    return path


if __name__ == "__main__":
    harness.main()
