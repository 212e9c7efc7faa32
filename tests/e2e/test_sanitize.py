#!/usr/bin/python3
"""`patchscope sanitize` through the real binary, on browser exports.

tests/data/sanitize/chromium.har was exported by headless Chromium through
its DevTools protocol (tests/data/sanitize/make_chromium_har.mjs, which
this test also runs live when chromium and puppeteer-core are there), with
made-up secrets in every place a HAR holds them; firefox.har follows
Firefox's export by hand. For each: the summary line (places and counts,
never a value), the output's bytes (no secret in any form the input had:
as is, percent-encoded, inside base64 bodies; a marker where each was; all
else equal to the input, key order and numbers included, and the lines
that did not hold a secret byte for byte), idempotence, --check (1 on the
export, 0 on the result and on a cassette `patchscope record` wrote), and
`show` reading the result. Then stdout, -o over the input and through a
symbolic link, and each bad input: one line, exit 2, nothing written."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402

DATA = os.path.join(harness.SRCDIR, "tests", "data", "sanitize")
CHROMIUM_HAR = os.path.join(DATA, "chromium.har")
FIREFOX_HAR = os.path.join(DATA, "firefox.har")
GENERATOR = os.path.join(DATA, "make_chromium_har.mjs")
PUPPETEER = os.path.join(harness.SRCDIR, "tests", "browser", "node_modules",
                         "puppeteer-core")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# The made-up secrets of make_chromium_har.mjs (its S object).
CHROMIUM_SECRETS = ["sk_live_SECRET123", "sess_SECRET456", "ak/SECRET789+x",
                    "pw_SECRET000/+", "at_SECRET111", "cs_SECRET222",
                    "rt_SECRET333", "csrf_SECRET444", "tok_SECRET555",
                    "rd_SECRET666"]
FIREFOX_SECRETS = ["ff_SECRET_PAGE1", "ff/SECRET+TOK", "ff_SECRET_BEARER",
                   "ff_SECRET_SID", "ff_SECRET_APIKEY", "ff_SECRET_NEWSID",
                   "ff_SECRET_SIG", "ff SECRET PW", "ff_SECRET_ACCESS",
                   "ff_SECRET_RETURN"]

CHROMIUM_SUMMARY = (
    "redacted 9 request headers (Cookie x8, Authorization), 2 response "
    "headers (Set-Cookie x2), 23 cookies (session_id x9, theme x7, "
    "csrftoken x7), 21 query parameters (token x20, api_key), 1 form field "
    "(password), 3 JSON keys (refresh_token, access_token, client_secret) "
    "and 2 other copies of those values, in 9 of 9 entries")
FIREFOX_SUMMARY = (
    "redacted 3 request headers (authorization, cookie, x-api-key), 1 "
    "response header (set-cookie), 3 cookies (sid x2, lang), 5 query "
    "parameters (session_token x2, access_token, return_token x2), 1 form "
    "field (password) and 2 JSON keys (X-Signature, access_token), in 3 of "
    "3 entries")

MARKER = re.compile(r"redacted:[0-9a-f]{12}")


def marker(value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return "redacted:" + hashlib.sha256(value).hexdigest()[:12]


def forms(secret):
    """The forms a secret may take in a HAR: as is, percent-encoded (as a
    URL or a form body writes it), '+' for spaces."""
    out = {secret, urllib.parse.quote(secret, safe=""),
           urllib.parse.quote_plus(secret)}
    return sorted(out)


def load_ordered(data):
    """JSON with objects as lists of pairs: key order is compared too."""
    return json.loads(data, object_pairs_hook=lambda pairs: ("obj", pairs))


def base64_texts(doc):
    """The decoded bodies of every base64 content or postData."""
    out = []

    def walk(v):
        if isinstance(v, dict):
            enc = v.get("encoding") or v.get("_encoding")
            if enc == "base64" and isinstance(v.get("text"), str):
                out.append(base64.b64decode(v["text"]))
            for e in v.values():
                walk(e)
        elif isinstance(v, list):
            for e in v:
                walk(e)
    walk(doc)
    return out


class Sanitize(harness.TestCase):

    def sanitize(self, *args):
        return self.run_ps("sanitize", *args)

    def one_line(self, cp):
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, "stderr: %r" % cp.stderr)
        return lines[0]

    def assert_no_secret(self, data, secrets, what):
        text = data.decode("utf-8")
        for s in secrets:
            for f in forms(s):
                self.assertNotIn(f, text, "%s holds %r" % (what, f))
        for body in base64_texts(json.loads(text)):
            for s in secrets:
                self.assertNotIn(s.encode(), body,
                                 "a base64 body of %s holds %r" % (what, s))

    def assert_masked_equal(self, a, b, path="$"):
        """b is a with some strings redacted: same shape, same keys in the
        same order, same scalars; a string that differs is a's with each
        marker of b standing for a part of a whose marker it is."""
        self.assertEqual(type(a), type(b), path)
        if isinstance(a, tuple):
            ka = [k for k, _ in a[1]]
            kb = [k for k, _ in b[1]]
            self.assertEqual(ka, kb, path)
            for (k, va), (_, vb) in zip(a[1], b[1]):
                self.assert_masked_equal(va, vb, "%s.%s" % (path, k))
        elif isinstance(a, list):
            self.assertEqual(len(a), len(b), path)
            for i, (va, vb) in enumerate(zip(a, b)):
                self.assert_masked_equal(va, vb, "%s[%d]" % (path, i))
        elif isinstance(a, str) and a != b:
            self.assert_string_masked(a, b, path)
        else:
            self.assertEqual(a, b, path)

    def assert_string_masked(self, a, b, path):
        # A base64 body is compared decoded.
        if re.fullmatch(r"[A-Za-z0-9+/]+=*", a) and len(a) % 4 == 0 and \
                not MARKER.search(b):
            a = base64.b64decode(a).decode("latin-1")
            b = base64.b64decode(b).decode("latin-1")
        markers = MARKER.findall(b)
        self.assertTrue(markers, "%s changed without a marker: %r -> %r"
                        % (path, a, b))
        pattern = "".join("(.+?)" if MARKER.fullmatch(part) else
                          re.escape(part)
                          for part in re.split("(%s)" % MARKER.pattern, b))
        m = re.fullmatch(pattern, a, re.S)
        self.assertIsNotNone(m, "%s: %r is not %r with values redacted"
                             % (path, b, a))
        for mk, value in zip(markers, m.groups()):
            candidates = {marker(value),
                          marker(urllib.parse.unquote(value))}
            self.assertIn(mk, candidates, "%s: %s is not the marker of %r"
                          % (path, mk, value))

    def check_export(self, src, secrets, summary=None):
        """Sanitize src into a file and check everything about it."""
        with open(src, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8") + "".join(
            b.decode("latin-1") for b in base64_texts(json.loads(raw)))
        for s in secrets:
            self.assertTrue(any(f in text for f in forms(s)),
                            "the export lacks %r: the test proves nothing"
                            % s)
        out = os.path.join(self.tmp, "out.har")
        cp = self.sanitize(src, "-o", out)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, "")
        line = self.one_line(cp)
        self.assertTrue(line.startswith("patchscope: %s: redacted " % src),
                        line)
        if summary is not None:
            self.assertEqual(line, "patchscope: %s: %s" % (src, summary))
        for s in secrets:
            for f in forms(s):
                self.assertNotIn(f, line)
        with open(out, "rb") as f:
            data = f.read()
        self.assert_no_secret(data, secrets, out)
        self.assert_masked_equal(load_ordered(raw), load_ordered(data))
        # Edited in place: the lines without a secret are as they were.
        old_lines = raw.split(b"\n")
        new_lines = data.split(b"\n")
        self.assertEqual(len(old_lines), len(new_lines))
        changed = 0
        for a, b in zip(old_lines, new_lines):
            if a != b:
                changed += 1
                m = re.fullmatch(rb'\s*"text": "([A-Za-z0-9+/=]+)",?', b)
                if m:       # a base64 body
                    b = base64.b64decode(m.group(1))
                self.assertIn(b"redacted:", b, "a line changed: %r" % b)
        self.assertGreater(changed, 0)

        # Twice is once.
        again = os.path.join(self.tmp, "again.har")
        cp = self.sanitize(out, "-o", again)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertRegex(self.one_line(cp),
                         r"^patchscope: .*: nothing to redact in \d+ entr")
        with open(again, "rb") as f:
            self.assertEqual(f.read(), data)

        # --check: 1 on the export, 0 on the result; it writes nothing.
        before = sorted(os.listdir(self.tmp))
        cp = self.sanitize("--check", src)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(cp.stdout, "")
        self.assertEqual(self.one_line(cp), line.replace(
            ": redacted ", ": would redact ", 1))
        cp = self.sanitize("--check", out)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(sorted(os.listdir(self.tmp)), before)

        # show reads the result.
        cp = self.run_ps("show", out)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("redacted:", cp.stdout)
        for s in secrets:
            self.assertNotIn(s, cp.stdout)
        return data

    def test_chromium_export(self):
        self.check_export(CHROMIUM_HAR, CHROMIUM_SECRETS, CHROMIUM_SUMMARY)

    def test_chromium_export_made_now(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node is not installed (Debian package nodejs)")
        if not os.access(CHROMIUM, os.X_OK):
            self.skipTest("chromium is not installed (Debian package "
                          "chromium)")
        if not os.path.isdir(PUPPETEER):
            self.skipTest("puppeteer-core is not installed (npm ci in "
                          "tests/browser)")
        har = os.path.join(self.tmp, "chromium-now.har")
        cp = subprocess.run([node, GENERATOR, har], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=harness.clean_env({"HOME": self.tmp}),
                            timeout=T(60))
        self.assertEqual(cp.returncode, 0, cp.stderr.decode()[-3000:])
        self.check_export(har, CHROMIUM_SECRETS)
        # Every place, whatever else this Chromium requested (a favicon).
        line = self.one_line(self.sanitize("--check", har))
        for place in (r" request headers \(Cookie x\d+, Authorization\)",
                      r" 2 response headers \(Set-Cookie x2\)",
                      r" cookies \(session_id x\d+, theme x\d+, "
                      r"csrftoken x\d+\)",
                      r" query parameters \(token x\d+, api_key\)",
                      r" 1 form field \(password\)",
                      r" 3 JSON keys \(refresh_token, access_token, "
                      r"client_secret\)"):
            self.assertRegex(line, place)

    def test_firefox_export(self):
        data = self.check_export(FIREFOX_HAR, FIREFOX_SECRETS,
                                 FIREFOX_SUMMARY)
        doc = json.loads(data)
        e0, e1 = doc["log"]["entries"][:2]
        # Firefox's decoded queryString gets the URL's marker.
        self.assertIn("access_token=" + marker("ff/SECRET+TOK"),
                      e0["request"]["url"])
        self.assertEqual(e0["request"]["queryString"][1]["value"],
                         marker("ff/SECRET+TOK"))
        # Webhook headers in a JSON body: the secret one only.
        hook = json.loads(e0["response"]["content"]["text"])
        self.assertEqual(hook["actions"][0]["headers"],
                         {"X-Signature": marker("ff_SECRET_SIG"),
                          "Content-Type": "application/json"})
        self.assertEqual(e1["request"]["postData"]["params"][2]["value"],
                         marker("ff SECRET PW"))
        body = json.loads(base64.b64decode(
            e1["response"]["content"]["text"]))
        self.assertEqual(body, {"access_token": marker("ff_SECRET_ACCESS"),
                                "expires_in": 3600})

    def test_stdout_in_place_and_through_a_link(self):
        src = os.path.join(self.tmp, "ticket.har")
        shutil.copy(FIREFOX_HAR, src)
        cp = self.sanitize(src)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("redacted 3 request headers", self.one_line(cp))
        with open(src, "rb") as f, open(FIREFOX_HAR, "rb") as g:
            self.assertEqual(f.read(), g.read(),
                             "without -o the input is left as it is")
        expected = cp.stdout

        # -o naming the input: replaced whole (a new inode), mode kept.
        os.chmod(src, 0o640)
        ino = os.stat(src).st_ino
        cp = self.sanitize(src, "-o", src)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        with open(src) as f:
            self.assertEqual(f.read(), expected)
        st = os.stat(src)
        self.assertNotEqual(st.st_ino, ino)
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.assertEqual([n for n in os.listdir(self.tmp)
                          if ".sanitize-" in n], [])

        # Through a symbolic link: the link stays, its target is replaced.
        target = os.path.join(self.tmp, "real.har")
        link = os.path.join(self.tmp, "link.har")
        shutil.copy(FIREFOX_HAR, target)
        os.symlink("real.har", link)
        cp = self.sanitize(link, "-o", link)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(os.readlink(link), "real.har")
        with open(target) as f:
            self.assertEqual(f.read(), expected)

    def test_recorded_cassette_passes_check(self):
        fake = self.start_fake()
        cassette = os.path.join(self.tmp, "rec.har")
        rec = self.start_ps("record", "-c", cassette)
        s = self.session(rec)
        r = s.post(fake.url + "/_fake/echo?access_token=tok_REC_1&x=1",
                   json={"user": "a", "client_secret": "cs_REC_2",
                         "n": 1.25},
                   headers={"Authorization": "Bearer tok_REC_3",
                            "Cookie": "sid=sid_REC_4; lang=en"},
                   timeout=T(10))
        self.assertEqual(r.status_code, 200)
        r = s.get(fake.url + "/_fake/headers", params=[
            ("Set-Cookie", "session=sess_REC_5; Path=/")], timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(rec.stop(timeout=T(8)), 0)
        with open(cassette, "rb") as f:
            data = f.read()
        for s in ("tok_REC_1", "cs_REC_2", "tok_REC_3", "sid_REC_4",
                  "sess_REC_5"):
            self.assertNotIn(s.encode(), data)
        cp = self.sanitize("--check", cassette)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.one_line(cp), "patchscope: %s: nothing to "
                         "redact in 2 entries" % cassette)
        # The seed story's cassette, as committed, is clean too.
        cp = self.sanitize("--check", os.path.join(
            harness.SRCDIR, "cassettes", "seed-story.har"))
        self.assertEqual(cp.returncode, 0, cp.stderr)

    def test_bad_input(self):
        def bad(name, content, *args, want):
            path = os.path.join(self.tmp, name)
            if content is not None:
                with open(path, "w") as f:
                    f.write(content)
            out = os.path.join(self.tmp, "never.har")
            cp = self.sanitize(*(args or (path, "-o", out)))
            self.assertEqual(cp.returncode, 2, "%s: %s" % (name, cp.stderr))
            self.assertEqual(cp.stdout, "")
            self.assertRegex(self.one_line(cp), want)
            self.assertFalse(os.path.exists(out), name)
            self.assertEqual([n for n in os.listdir(self.tmp)
                              if ".sanitize-" in n], [])

        bad("text.har", "this is not JSON\n",
            want=r"^patchscope: .*text\.har: not JSON: line 1, column \d+: ")
        bad("array.har", "[1, 2]",
            want=r": not a HAR file: the document is not a JSON object$")
        bad("nolog.har", '{"log": {"pages": []}}',
            want=r': not a HAR file: no "log.entries" array$')
        bad("entry.har", '{"log": {"entries": [{"request": {"url": "u", '
            '"headers": [{"name": "Authorization", "value": 7}]}}]}}',
            want=r": entry 0: request\.headers\[0\]\.value is not a "
            r"string$")
        bad("later.har", '{"log": {"entries": [{"request": {"url": "u"}}, '
            '{"request": {"url": "u", "cookies": {}}}]}}',
            want=r": entry 1: request\.cookies is not an array$")
        bad("missing.har", None,
            want=r"^patchscope: cannot read .*missing\.har: No such file")
        bad("dir", None, os.path.join(self.tmp), "-o",
            os.path.join(self.tmp, "never.har"),
            want=r"^patchscope: cannot read .*: Is a directory$")
        bad("nodir", None, FIREFOX_HAR, "-o",
            os.path.join(self.tmp, "no", "such", "dir", "x.har"),
            want=r"^patchscope: cannot write .*x\.har: No such file or "
            r"directory$")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "no")))
        bad("both", None, FIREFOX_HAR, "--check", "-o",
            os.path.join(self.tmp, "never.har"),
            want=r"^patchscope: -o and --check do not go together "
            r"\(--check writes nothing\) \(see 'patchscope sanitize "
            r"--help'\)$")
        bad("none", None, "--check",
            want=r"^patchscope: missing FILE \(the HAR file to sanitize\)")
        bad("two", None, FIREFOX_HAR, CHROMIUM_HAR,
            want=r"^patchscope: more than one FILE")
        bad("opt", None, FIREFOX_HAR, "--no-redact",
            want=r"^patchscope: .*--no-redact")

    def test_help(self):
        cp = self.sanitize("--help")
        self.assertEqual(cp.returncode, 0)
        for words in ("Usage: patchscope sanitize [-o OUT | --check]",
                      "-o, --output FILE", "--check", "--redact-header",
                      "redacted:<first 12 hex digits", "Exit status: 0"):
            self.assertIn(words, cp.stdout)


if __name__ == "__main__":
    harness.main()
