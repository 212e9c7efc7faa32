#!/usr/bin/python3
"""Cassettes through the real binary: `patchscope record` (HAR 1.2 entries,
bodies decoded, chunked and cut, redaction of every secret in the file and
the log, crash safety, appending), `patchscope replay` (origin-form,
absolute-form and CONNECT; matching, order of identical requests, hit
headers, the miss report, --match-header, --fallback=proxy, --report and
--strict, diagnoses re-applied, no upstream connection ever, refusal of
unreadable cassettes) and `patchscope show` (text and --json).

The seed thread's story (a GET with `fields`, a PATCH with a partial
actions array and BOOKING_CANCELED, the fixed PATCH, the GET again) is
recorded over HTTP with requests and over HTTPS with curl, and replayed with
the fake API stopped; the replaying client must get what the recording
client got, in order, annotations included."""

import base64
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402

sys.path.insert(0, os.path.join(harness.SRCDIR, "tests"))
import fake_api  # noqa: E402

from harness import (AUTH, GET_FIELDS, NEW_WEBHOOK, PATCH_FIELDS,  # noqa
                     PROFILE)
FIXED_FIELDS = "id,actions.id"

FIXED_WEBHOOK = dict(NEW_WEBHOOK, anchor="BOOKING_CANCELLED")
# Every action the seeded profile has, as a full GET would return them
# (act_1 carries a receiver's token in its headers).
SEED_ACTIONS = fake_api.seed_profiles()[("acc1", "p1")]["actions"]
SEED_TOKEN = SEED_ACTIONS[0]["headers"]["x-auth-token"]

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                      r"(Z|[+-]\d\d:?\d\d)$")
SEED_CASSETTE = os.path.join(harness.SRCDIR, "cassettes", "seed-story.har")


def marker(value):
    """The redaction marker of a value (DESIGN.md)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return "redacted:" + hashlib.sha256(value).hexdigest()[:12]


def basic(user, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


def unique(tag):
    """A secret-looking value that cannot occur by chance."""
    return "%s-%s" % (tag, os.urandom(6).hex())


def hdr(headers, name):
    """The values of a HAR header list [{name, value}] for name."""
    return [h["value"] for h in headers if h["name"].lower() == name.lower()]


def one_hdr(headers, name):
    values = hdr(headers, name)
    if len(values) != 1:
        raise AssertionError("expected one %s header, got %r in %r"
                             % (name, values, headers))
    return values[0]


def content_bytes(content):
    """The bytes of a HAR content or postData object's text."""
    text = content.get("text", "")
    if content.get("encoding") == "base64" or \
            content.get("_encoding") == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8")


def read_har(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def har_entry(method, url, status=200, body="", mime="application/json",
              req_body=None, reason="OK"):
    """A minimal, valid HAR 1.2 entry (for cassettes written by hand)."""
    query = []
    if "?" in url:
        for part in url.split("?", 1)[1].split("&"):
            name, _, value = part.partition("=")
            query.append({"name": name, "value": value})
    request = {"method": method, "url": url, "httpVersion": "HTTP/1.1",
               "headers": [], "queryString": query, "cookies": [],
               "headersSize": -1, "bodySize": 0}
    if req_body is not None:
        request["postData"] = {"mimeType": "application/json",
                               "text": req_body}
        request["bodySize"] = len(req_body.encode())
    return {
        "startedDateTime": "2024-05-02T09:14:03.118Z",
        "time": 1.5,
        "request": request,
        "response": {
            "status": status, "statusText": reason,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": mime},
                        {"name": "Content-Length",
                         "value": str(len(body.encode()))}],
            "cookies": [],
            "content": {"size": len(body.encode()), "mimeType": mime,
                        "text": body},
            "redirectURL": "", "headersSize": -1,
            "bodySize": len(body.encode())},
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0.5},
    }


def har_doc(entries):
    return {"log": {"version": "1.2",
                    "creator": {"name": "patchscope-e2e", "version": "0"},
                    "entries": entries}}


class Reply:
    """What a client got: status, headers [(name, value)], body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = list(headers)
        self.body = body

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def get(self, name):
        values = self.all(name)
        return values[0] if values else None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def diagnoses(self):
        return self.all("X-Patchscope-Diagnosis")

    def __repr__(self):
        return "<Reply %d %r %r>" % (self.status, self.headers,
                                     self.body[:300])


def reply_of(r):
    """A Reply from a requests.Response."""
    headers = []
    for name in r.raw.headers.keys():
        for value in r.raw.headers.getlist(name):
            headers.append((name, value))
    return Reply(r.status_code, headers, r.content)


class Listener:
    """A plain TCP listener that counts the connections it accepts."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


class CassetteCase(harness.TestCase):
    """Helpers: record and replay processes, cassette files, clients."""

    def cassette(self, name="c.har"):
        return os.path.join(self.tmp, name)

    def record(self, cassette, *args, fake=None):
        extra = ("--upstream-ca", self.fake_ca.cert) \
            if fake is not None and fake.tls else ()
        return self.start_ps("record", "-c", cassette, *(extra + args))

    def replay(self, cassette, *args):
        return self.start_ps("replay", "-c", cassette, *args)

    def stop_ok(self, p):
        rc = p.stop(signal.SIGTERM, T(8))
        self.assertEqual(rc, 0, "patchscope exited %s on SIGTERM; log:\n%s"
                         % (rc, p.log()[-3000:]))
        return rc

    def entries(self, path):
        doc = read_har(path)
        return doc["log"]["entries"]

    def wait_entries(self, path, n, timeout=None):
        """Wait until the cassette holds at least n entries. The recorder
        appends in place, so a read that lands inside a flush (a fraction
        of a millisecond) may see the closing brackets missing: such a read
        is taken again; two in a row are a failure."""
        deadline = time.monotonic() + (timeout or T(3))
        torn = 0
        while True:
            with open(path, "rb") as f:
                data = f.read()
            try:
                doc = json.loads(data.decode("utf-8"))
            except ValueError as e:
                torn += 1
                if torn > 1:
                    self.fail("cassette %s is not valid JSON while "
                              "recording: %s; %r" % (path, e, data[-300:]))
                time.sleep(0.01)
                continue
            torn = 0
            entries = doc["log"]["entries"]
            if len(entries) >= n:
                return entries
            if time.monotonic() >= deadline:
                self.fail("cassette holds %d entries, not %d, after %.1fs"
                          % (len(entries), n, timeout or T(3)))
            time.sleep(0.05)

    def write_file(self, name, data):
        path = os.path.join(self.tmp, name)
        if isinstance(data, (dict, list)):
            data = json.dumps(data, indent=1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def plain_session(self):
        """A requests.Session with no proxy at all (origin-form)."""
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        s = harness.requests.Session()
        s.trust_env = False
        self.addCleanup(s.close)
        return s

    def curl_call(self, proxy, method, url, body=None, cacert=None,
                  auth=AUTH, env=None, headers=()):
        """curl METHOD url (through proxy with -x unless None); a Reply."""
        args = []
        if cacert:
            args += ["--cacert", cacert]
        if auth:
            args += ["-u", "%s:%s" % auth]
        if method != "GET":
            args += ["-X", method]
        for h in headers:
            args += ["-H", h]
        if body is not None:
            args += ["-H", "Content-Type: application/json",
                     "--data-binary", body]
        hfile = os.path.join(self.tmp, "curl-head-%d" % self._next())
        cp = self.curl(proxy, "-D", hfile, *args, url, env=env)
        self.assertEqual(cp.returncode, 0, "curl %s %s: %s" % (
            method, url, cp.stderr.decode("utf-8", "replace")))
        with open(hfile, "rb") as f:
            head = f.read().decode("latin-1")
        blocks = [b for b in re.split(r"\r?\n\r?\n", head) if b.strip()]
        lines = blocks[-1].splitlines()
        m = re.match(r"HTTP/\S+ (\d{3})", lines[0])
        self.assertTrue(m, lines[0])
        hs = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                hs.append((name.strip(), value.strip()))
        return Reply(int(m.group(1)), hs, cp.stdout)

    def raw_get(self, addr, target, host, extra=()):
        c = harness.RawClient(addr)
        self.addCleanup(c.close)
        c.send(harness.request_bytes("GET", target, host, extra))
        return c.read_response()

    def assert_hit(self, reply, entry, seq):
        self.assertEqual(reply.get("X-Patchscope-Replay"), "hit", reply)
        self.assertEqual(reply.get("X-Patchscope-Replay-Entry"), str(entry),
                         reply)
        self.assertEqual(reply.get("X-Patchscope-Replay-Sequence"), seq,
                         reply)

    def assert_miss(self, reply):
        self.assertEqual(reply.status, 404, reply)
        self.assertEqual(reply.get("X-Patchscope-Replay"), "miss", reply)
        self.assertEqual(reply.get("X-Patchscope-Error"), "replay_miss")
        self.assertTrue((reply.get("Content-Type") or "").startswith(
            "application/json"), reply)
        doc = reply.json()
        self.assertEqual(doc["source"], "patchscope")
        self.assertEqual(doc["status"], 404)
        self.assertEqual(doc["error"], "replay_miss")
        self.assertIsInstance(doc["message"], str)
        self.assertTrue(doc["message"].strip())
        self.assertIn("nearest", doc)
        return doc

    def refuse(self, *args):
        """Run a serving command that must refuse to start: returns
        (status, stdout, stderr); fails if it started listening."""
        env = harness.clean_env({"PATCHSCOPE_HOME": self.ps_home})
        try:
            cp = subprocess.run(
                [harness.PATCHSCOPE] + [str(a) for a in args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=env, timeout=T(6))
        except subprocess.TimeoutExpired as e:
            self.fail("patchscope %s did not refuse to start (still running "
                      "after %ss; stdout %r)" % (" ".join(map(str, args)),
                                                  T(6), e.stdout))
        return (cp.returncode, cp.stdout.decode("utf-8", "replace"),
                cp.stderr.decode("utf-8", "replace"))


# --- the seed thread's story -------------------------------------------------

class StoryMixin:
    """The story as steps (method, path, fields, JSON body or None)."""

    def story_steps(self, fetched_first):
        bad = {"actions": [fetched_first, NEW_WEBHOOK]}
        fixed = {"actions": SEED_ACTIONS + [FIXED_WEBHOOK]}
        return [
            ("GET", PROFILE, GET_FIELDS, None),
            ("PATCH", PROFILE, PATCH_FIELDS, bad),
            ("PATCH", PROFILE, FIXED_FIELDS, fixed),
            ("GET", PROFILE, GET_FIELDS, None),
        ]

    def requests_step(self, s, base, step):
        method, path, fields, body = step
        r = s.request(method, base + path, params={"fields": fields},
                      auth=AUTH, json=body, timeout=T(10))
        return reply_of(r)

    def record_story_http(self):
        """Record over HTTP with requests; the fake is stopped after.
        Returns (cassette, fake, recorder, steps, what the client got)."""
        fake = self.start_fake()
        cassette = self.cassette("story-http.har")
        rec = self.record(cassette)
        s = self.session(rec)
        first = self.requests_step(s, fake.url, ("GET", PROFILE, GET_FIELDS,
                                                 None))
        self.assertEqual(first.status, 200, first)
        steps = self.story_steps(first.json()["actions"][0])
        replies = [first] + [self.requests_step(s, fake.url, st)
                             for st in steps[1:]]
        self.check_story_replies(replies)
        self.stop_ok(rec)
        fake.stop()
        return cassette, fake, rec, steps, replies

    def check_story_replies(self, replies):
        self.assertEqual([r.status for r in replies], [200, 400, 200, 200],
                         replies)
        self.assertIn("error action.anchor.unknown /actions/1/anchor",
                      replies[1].diagnoses())
        self.assertIn("error actions.partial /actions",
                      replies[1].diagnoses())
        self.assertTrue(replies[1].json()["errors"], replies[1])
        self.assertEqual([a["id"] for a in replies[0].json()["actions"]],
                         ["act_1", "act_2", "act_3"])
        self.assertEqual([a["id"] for a in replies[3].json()["actions"]],
                         ["act_1", "act_2", "act_3", "act_4"])

    def assert_same_reply(self, got, want, what):
        """A replayed answer equals the recorded client's one."""
        self.assertEqual(got.status, want.status, "%s: %r" % (what, got))
        self.assertEqual(got.diagnoses(), want.diagnoses(), what)
        self.assertEqual(got.get("X-Patchscope-Diagnoses"),
                         want.get("X-Patchscope-Diagnoses"), what)
        if want.get("X-Patchscope-Diagnoses") is None:
            self.assertEqual(got.body, want.body, what)
        else:
            self.assertEqual(got.json(), want.json(), what)


class SeedStory(StoryMixin, CassetteCase):

    def test_http_story_replayed_as_origin_and_as_proxy(self):
        cassette, fake, rec, steps, recorded = self.record_story_http()
        entries = self.entries(cassette)
        self.assertEqual(len(entries), 4)
        self.assertEqual([e["request"]["method"] for e in entries],
                         ["GET", "PATCH", "PATCH", "GET"])
        seqs = ["1/2", "1/1", "1/1", "2/2"]
        # As an origin server (a base URL), then as a proxy; each a fresh
        # replay, the fake stopped.
        for way in ("origin", "proxy"):
            rp = self.replay(cassette)
            if way == "origin":
                s, base = self.plain_session(), rp.url
            else:
                s, base = self.session(rp), fake.url
            for i, step in enumerate(steps):
                got = self.requests_step(s, base, step)
                self.assert_same_reply(got, recorded[i], "%s step %d" % (
                    way, i))
                self.assert_hit(got, i, seqs[i])
            # After the last recorded answer, the last one repeats.
            got = self.requests_step(s, base, steps[0])
            self.assert_same_reply(got, recorded[3], way + " GET again")
            self.assert_hit(got, 3, "2/2")
            self.stop_ok(rp)

    def test_https_story_with_curl_replayed_through_https_proxy(self):
        fake = self.start_fake(tls=True)
        cassette = self.cassette("story-https.har")
        rec = self.record(cassette, fake=fake)
        ca = self.patchscope_ca()

        def url(step):
            return "%s%s?fields=%s" % (fake.url, step[1], step[2])

        def body(step):
            return None if step[3] is None else json.dumps(step[3])

        first = self.curl_call(rec, "GET", url(("GET", PROFILE, GET_FIELDS)),
                               cacert=ca)
        steps = self.story_steps(first.json()["actions"][0])
        recorded = [first] + [self.curl_call(rec, st[0], url(st), body(st),
                                             cacert=ca) for st in steps[1:]]
        self.check_story_replies(recorded)
        self.stop_ok(rec)
        fake.stop()
        entries = self.entries(cassette)
        self.assertEqual([e["request"]["url"] for e in entries],
                         [url(st) for st in steps])
        seqs = ["1/2", "1/1", "1/1", "2/2"]
        # Through HTTPS_PROXY (CONNECT, interception with the same CA).
        rp = self.replay(cassette)
        for i, st in enumerate(steps):
            got = self.curl_call(None, st[0], url(st), body(st), cacert=ca,
                                 env={"HTTPS_PROXY": rp.url})
            self.assert_same_reply(got, recorded[i], "HTTPS_PROXY step %d"
                                   % i)
            self.assert_hit(got, i, seqs[i])
        self.stop_ok(rp)
        # And the same cassette as a base URL (plain HTTP, origin-form).
        rp = self.replay(cassette)
        for i, st in enumerate(steps):
            origin_url = "%s%s?fields=%s" % (rp.url, st[1], st[2])
            got = self.curl_call(None, st[0], origin_url, body(st))
            self.assert_same_reply(got, recorded[i], "origin step %d" % i)
            self.assert_hit(got, i, seqs[i])
        self.stop_ok(rp)

    def test_entries_store_the_origin_answer_not_the_annotated_one(self):
        cassette, fake, rec, steps, recorded = self.record_story_http()
        entries = self.entries(cassette)
        bad = entries[1]
        # The client got the filled errors array and the headers ...
        self.assertTrue(recorded[1].json()["errors"])
        # ... the cassette has what the origin sent.
        self.assertEqual(bad["response"]["status"], 400)
        self.assertEqual(json.loads(content_bytes(bad["response"]["content"])),
                         fake_api.INVALID_PAYLOAD)
        for e in entries:
            for h in e["response"]["headers"]:
                self.assertFalse(h["name"].lower().startswith("x-patchscope"),
                                 "annotation header stored: %r" % h)
        # The diagnoses ride in _diagnoses.
        codes = {d["code"] for d in bad["_diagnoses"]}
        self.assertTrue({"actions.partial", "action.anchor.unknown"} <= codes,
                        bad["_diagnoses"])
        anchor = [d for d in bad["_diagnoses"]
                  if d["code"] == "action.anchor.unknown"][0]
        self.assertEqual(anchor["severity"], "error")
        self.assertEqual(anchor["path"], "/actions/1/anchor")
        self.assertEqual(anchor["suggestion"], "BOOKING_CANCELLED")
        partial = [d for d in bad["_diagnoses"]
                   if d["code"] == "actions.partial"][0]
        self.assertIn("act_2", partial["message"])
        self.assertIn("act_3", partial["message"])
        self.assertIsInstance(entries[2]["_diagnoses"], list)
        self.assertEqual([d for d in entries[2]["_diagnoses"]
                          if d["severity"] == "error"], [])
        # The fixed PATCH's body is stored with the receiver's token of
        # act_1 redacted in its webhook headers.
        sent = json.loads(content_bytes(entries[2]["request"]["postData"]))
        self.assertEqual(sent["actions"][0]["headers"],
                         {"x-auth-token": marker(SEED_TOKEN)})
        self.assertEqual(sent["actions"][3], FIXED_WEBHOOK)
        self.assertEqual(len(sent["actions"]), 4)

    def test_show_text_transcript(self):
        cassette, fake, rec, steps, recorded = self.record_story_http()
        entries = self.entries(cassette)
        cp = self.run_ps("show", cassette)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        out = cp.stdout
        for i in range(4):
            self.assertRegex(out, r"(?m)^=== entry %d\b" % i)
        self.assertNotRegex(out, r"(?m)^=== entry 4\b")
        for i, e in enumerate(entries):
            self.assertIn("\n%s %s\n" % (e["request"]["method"],
                                         e["request"]["url"]), out)
        self.assertEqual(re.findall(r"(?m)^-> (\d{3} .*?)\s*$", out),
                         ["200 OK", "400 Bad Request", "200 OK", "200 OK"])
        # Pretty JSON bodies (one key a line, indented).
        self.assertRegex(out, r'(?m)^\s+"code": "caligraph_invalid_payload",'
                         r'$')
        self.assertRegex(out, r'(?m)^\s+"anchor": "BOOKING_CANCELED",?$')
        # Diagnoses, compiler style.
        self.assertRegex(out, r'(?m)^\s*error\[action\.anchor\.unknown\] '
                         r'/actions/1/anchor: .*BOOKING_CANCELED.*'
                         r'BOOKING_CANCELLED')
        self.assertRegex(out, r'(?m)^\s*error\[actions\.partial\] /actions: '
                         r'.*act_2.*act_3')
        # The headers that matter, redacted.
        self.assertIn("Content-Type: application/json", out)
        self.assertIn(marker(basic(*AUTH)), out)
        self.assertNotIn(AUTH[1], out)
        self.assertNotIn(SEED_TOKEN, out)

    def test_show_json_one_object_per_entry(self):
        cassette, fake, rec, steps, recorded = self.record_story_http()
        entries = self.entries(cassette)
        cp = self.run_ps("show", "--json", cassette)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        lines = cp.stdout.splitlines()
        self.assertEqual(len(lines), 4, cp.stdout[:2000])
        docs = [json.loads(line) for line in lines]
        keys = {"entry", "started", "time_ms", "method", "url", "status",
                "reason", "request", "response", "diagnoses"}
        for i, (d, e) in enumerate(zip(docs, entries)):
            self.assertTrue(keys <= set(d), sorted(d))
            self.assertEqual(d["entry"], i)
            self.assertEqual(d["method"], e["request"]["method"])
            self.assertEqual(d["url"], e["request"]["url"])
            self.assertEqual(d["status"], e["response"]["status"])
            self.assertEqual(d["started"], e["startedDateTime"])
            self.assertIsInstance(d["time_ms"], (int, float))
            self.assertIsInstance(d["request"]["headers"], list)
            self.assertIsInstance(d["response"]["headers"], list)
            self.assertIsInstance(d["diagnoses"], list)
        self.assertEqual([d["reason"] for d in docs],
                         ["OK", "Bad Request", "OK", "OK"])
        self.assertEqual(docs[1]["request"]["body"], json.loads(
            content_bytes(entries[1]["request"]["postData"])))
        self.assertEqual(docs[1]["response"]["body"],
                         fake_api.INVALID_PAYLOAD)
        self.assertEqual(docs[3]["response"]["body"],
                         json.loads(content_bytes(
                             entries[3]["response"]["content"])))
        codes = {x["code"] for x in docs[1]["diagnoses"]}
        self.assertTrue({"actions.partial", "action.anchor.unknown"} <= codes)
        self.assertEqual(docs[0]["diagnoses"], [])

    def test_show_refuses_what_is_not_a_cassette(self):
        bad = self.write_file("notes.har", "not a cassette at all\n")
        cp = self.run_ps("show", bad)
        self.assertEqual(cp.returncode, 2, cp.stdout)
        self.assertIn("notes.har", cp.stderr)
        self.assertEqual(cp.stdout, "")
        cp = self.run_ps("show", "--json", self.cassette("missing.har"))
        self.assertEqual(cp.returncode, 2)
        self.assertIn("missing.har", cp.stderr)

    def test_show_never_sends_control_bytes_to_the_terminal(self):
        """A cassette is somebody else's file: an escape sequence in a
        header or a recorded diagnosis is shown, not obeyed."""
        with open(SEED_CASSETTE) as f:
            doc = json.load(f)
        e = doc["log"]["entries"][0]
        e["response"]["headers"].append({"name": "X-Evil",
                                         "value": "a\u001b[2Jb"})
        # U+009B is CSI on its own (a C1 control), as UTF-8 C2 9B.
        e["response"]["headers"].append({"name": "X-C1",
                                         "value": "c\u009b2Jd \u00e9"})
        e["_diagnoses"] = [{"severity": "error", "code": "x.y", "path": "",
                            "message": "m\u001b]0;title\u0007"}]
        path = self.write_file("evil.har", json.dumps(doc))
        cp = self.run_ps("show", path)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertNotIn("\x1b", cp.stdout)
        self.assertNotIn("\x07", cp.stdout)
        self.assertIn("X-Evil: a\\x1b[2Jb", cp.stdout)
        self.assertIn("m\\x1b]0;title\\x07", cp.stdout)
        self.assertNotIn("\u009b", cp.stdout)
        # Printable UTF-8 (é) stays as it is.
        self.assertIn("X-C1: c\\xc2\\x9b2Jd \u00e9", cp.stdout)

    def test_seed_story_cassette_in_the_repo(self):
        if not os.path.isfile(SEED_CASSETTE):
            self.skipTest("cassettes/seed-story.har is not there yet")
        with open(SEED_CASSETTE, "rb") as f:
            before = f.read()
        entries = json.loads(before.decode())["log"]["entries"]
        story = [(e["request"]["method"], e["response"]["status"])
                 for e in entries]
        # GET 200, then PATCH 400, then PATCH 200, in that order.
        want = [("GET", 200), ("PATCH", 400), ("PATCH", 200)]
        it = iter(story)
        self.assertTrue(all(w in it for w in want), story)
        bad_i = story.index(("PATCH", 400))
        self.assertEqual(json.loads(content_bytes(
            entries[bad_i]["response"]["content"]))["errors"], [])
        # Replay it in order, as a base URL.
        rp = self.replay(SEED_CASSETTE)
        s = self.plain_session()
        for i, e in enumerate(entries):
            req = e["request"]
            target = re.sub(r"^[a-z]+://[^/]+", "", req["url"])
            data = None
            headers = {}
            if req.get("postData", {}).get("text") is not None:
                data = content_bytes(req["postData"])
                headers["Content-Type"] = req["postData"].get(
                    "mimeType") or "application/json"
            r = s.request(req["method"], rp.url + target, data=data,
                          headers=headers, timeout=T(10))
            got = reply_of(r)
            self.assertEqual(got.status, e["response"]["status"], got)
            self.assertEqual(got.get("X-Patchscope-Replay"), "hit", got)
            if i == bad_i:
                self.assertTrue([d for d in got.diagnoses() if re.fullmatch(
                    r"error action\.anchor\.unknown /actions/\d+/anchor",
                    d)], got)
                errors = got.json()["errors"]
                self.assertTrue(errors)
                self.assertEqual({x["source"] for x in errors},
                                 {"patchscope"})
        self.stop_ok(rp)
        cp = self.run_ps("show", SEED_CASSETTE)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertRegex(cp.stdout, r"(?m)^\s*error\[action\.anchor\."
                         r"unknown\] /actions/\d+/anchor: .*"
                         r"BOOKING_CANCELLED")
        with open(SEED_CASSETTE, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_patch_replayed_first_is_checked_against_the_cassette(self):
        """No GET in this run: the cassette's first answer with the profile
        is what replay knows of it, so the partial PATCH is still caught
        (and the fields projection of that GET with it)."""
        with open(SEED_CASSETTE, "rb") as f:
            entries = json.loads(f.read().decode())["log"]["entries"]
        bad = [e for e in entries if e["request"]["method"] == "PATCH" and
               e["response"]["status"] == 400][0]["request"]
        rp = self.replay(SEED_CASSETTE)
        target = re.sub(r"^[a-z]+://[^/]+", "", bad["url"])
        r = self.plain_session().patch(
            rp.url + target, data=content_bytes(bad["postData"]),
            headers={"Content-Type": "application/json"}, timeout=T(10))
        got = reply_of(r)
        self.assertEqual(got.status, 400, got)
        self.assertIn("error actions.partial /actions", got.diagnoses())
        self.assertIn("error actions.fields-projection /actions/0",
                      got.diagnoses())
        partial = [e for e in got.json()["errors"]
                   if e["code"] == "actions.partial"][0]
        self.assertIn('"act_2", "act_3"', partial["message"])
        self.stop_ok(rp)


# --- recording ------------------------------------------------------------

class Record(CassetteCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()

    def url(self, path):
        return self.fake.url + path

    def test_empty_cassette_exists_as_soon_as_listening(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        # No sleep: the file is there when `listening on` is printed.
        doc = read_har(cassette)
        self.assertEqual(doc["log"]["version"], "1.2")
        self.assertEqual(doc["log"]["creator"]["name"], "patchscope")
        self.assertIsInstance(doc["log"]["creator"]["version"], str)
        self.assertEqual(doc["log"]["entries"], [])
        self.stop_ok(rec)
        self.assertEqual(read_har(cassette)["log"]["entries"], [])
        self.assertFalse(os.path.exists(cassette + ".tmp"))

    def test_entry_shape(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        body = b'{"k": "v", "n": [1, 2]}'
        r = s.post(self.url("/_fake/echo?b=2&a=1"), data=body,
                   headers={"Content-Type": "application/json"},
                   timeout=T(10))
        self.assertEqual(r.status_code, 200)
        r2 = s.get(self.url("/_fake/status/404"),
                   headers={"Cookie": "c1=cookievalue1; c2=other-value"},
                   timeout=T(10))
        self.assertEqual(r2.status_code, 404)
        entries = self.wait_entries(cassette, 2)
        self.assertEqual(len(entries), 2)
        e = entries[0]
        self.assertRegex(e["startedDateTime"], ISO_TIME)
        self.assertIsInstance(e["time"], (int, float))
        self.assertGreaterEqual(e["time"], 0)
        for k in ("send", "wait", "receive"):
            self.assertIsInstance(e["timings"][k], (int, float))
            self.assertGreaterEqual(e["timings"][k], 0)
        self.assertEqual(e["serverIPAddress"], "127.0.0.1")
        req = e["request"]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["url"], self.url("/_fake/echo?b=2&a=1"))
        self.assertEqual(req["httpVersion"], "HTTP/1.1")
        for h in req["headers"]:
            self.assertEqual(set(h), {"name", "value"}, h)
        self.assertEqual(one_hdr(req["headers"], "Content-Type"),
                         "application/json")
        self.assertEqual(sorted((q["name"], q["value"])
                                for q in req["queryString"]),
                         [("a", "1"), ("b", "2")])
        self.assertEqual(req["cookies"], [])
        self.assertEqual(req["postData"]["mimeType"], "application/json")
        self.assertEqual(req["postData"]["text"], body.decode())
        resp = e["response"]
        self.assertEqual(resp["status"], 200)
        self.assertEqual(resp["statusText"], "OK")
        self.assertEqual(one_hdr(resp["headers"], "Content-Type"),
                         "application/json")
        self.assertTrue(resp["content"]["mimeType"].startswith(
            "application/json"))
        # What the origin sent, as the client got it (no annotation here).
        self.assertEqual(content_bytes(resp["content"]), r.content)
        self.assertEqual(resp["content"]["size"], len(r.content))
        self.assertNotIn("encoding", resp["content"])
        e = entries[1]
        self.assertEqual((e["request"]["method"], e["response"]["status"],
                          e["response"]["statusText"]),
                         ("GET", 404, "Not Found"))
        self.assertEqual([(c["name"], c["value"])
                          for c in e["request"]["cookies"]],
                         [("c1", marker("cookievalue1")),
                          ("c2", marker("other-value"))])
        self.assertEqual(json.loads(content_bytes(e["response"]["content"])),
                         {"status": 404})
        self.stop_ok(rec)

    def test_written_within_a_second_and_on_sigterm(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        s.get(self.url("/_fake/echo?first=1"), timeout=T(10))
        t0 = time.monotonic()
        self.wait_entries(cassette, 1, timeout=T(2.5))
        self.assertLess(time.monotonic() - t0, T(2.5))
        self.assertTrue(rec.alive())
        # One more, then SIGTERM at once: it is flushed at exit.
        s.get(self.url("/_fake/echo?second=1"), timeout=T(10))
        self.stop_ok(rec)
        entries = self.entries(cassette)
        self.assertEqual([e["request"]["url"] for e in entries],
                         [self.url("/_fake/echo?first=1"),
                          self.url("/_fake/echo?second=1")])

    def test_recording_appends_to_an_existing_cassette(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        for q in ("one", "two"):
            s.get(self.url("/_fake/echo?n=" + q), timeout=T(10))
        self.stop_ok(rec)
        before = self.entries(cassette)
        self.assertEqual(len(before), 2)
        rec = self.record(cassette)
        s = self.session(rec)
        s.get(self.url("/_fake/echo?n=three"), timeout=T(10))
        self.stop_ok(rec)
        doc = read_har(cassette)
        self.assertEqual(doc["log"]["version"], "1.2")
        after = doc["log"]["entries"]
        self.assertEqual(len(after), 3)
        self.assertEqual(after[:2], before)
        self.assertEqual(after[2]["request"]["url"],
                         self.url("/_fake/echo?n=three"))

    def test_kill_9_leaves_a_cassette_that_loads(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        for i in range(20):
            r = s.get(self.url("/_fake/echo?i=%d" % i), timeout=T(10))
            self.assertEqual(r.status_code, 200)
        time.sleep(1.5)
        for i in range(20, 25):
            r = s.get(self.url("/_fake/echo?i=%d" % i), timeout=T(10))
            self.assertEqual(r.status_code, 200)
        rec.kill()
        with open(cassette, "rb") as f:
            data = f.read()
        try:
            doc = json.loads(data.decode("utf-8"))
        except ValueError as e:
            self.fail("cassette after kill -9 is not JSON: %s; tail %r"
                      % (e, data[-300:]))
        self.assertEqual(doc["log"]["version"], "1.2")
        urls = [e["request"]["url"] for e in doc["log"]["entries"]]
        self.assertGreaterEqual(len(urls), 20, urls)
        self.assertEqual(urls, [self.url("/_fake/echo?i=%d" % i)
                                for i in range(len(urls))])
        for e in doc["log"]["entries"]:
            self.assertEqual(e["response"]["status"], 200)
        # The file loads as a cassette: replay starts from it.
        rp = self.replay(cassette)
        r = self.session(rp).get(self.url("/_fake/echo?i=3"), timeout=T(10))
        self.assertEqual(reply_of(r).get("X-Patchscope-Replay-Entry"), "3")
        self.stop_ok(rp)

    def test_kill_9_at_random_moments_under_load(self):
        """The crash promise (DESIGN.md), many times over: record under
        load, kill -9 at a random moment (0.2-2 s in), and after each kill
        `show` and `replay` load the file (a cut in its last entry is taken
        with a warning) and it holds every exchange completed more than
        1.2 s before the kill. Each run appends to what the last one left,
        so a cut file is also made whole by the next recording. After a
        last, clean run the file is plain JSON again."""
        seed = int.from_bytes(os.urandom(4), "big")
        rnd = random.Random(seed)
        cassette = self.cassette()
        budget = time.monotonic() + T(50)
        recorded = set()        # every id show found so far
        cuts = kills = 0

        def load(rec, ids, done, stop, first_id, rnd_body):
            s = self.session(rec)
            n = first_id
            while not stop.is_set():
                size = rnd_body.choice((0, 10, 200, 3000, 9000))
                try:
                    r = s.post(self.url("/_fake/echo?k=%d" % n),
                               data=b"x" * size, timeout=T(5))
                except Exception:
                    return      # the recorder is gone
                if r.status_code == 200:
                    done.append((n, time.monotonic()))
                ids.append(n)
                n += 4

        def shown(what):
            cp = self.run_ps("show", "--json", cassette)
            self.assertEqual(cp.returncode, 0, "%s (seed %d): %s"
                             % (what, seed, cp.stderr[-2000:]))
            got = [int(json.loads(line)["url"].rsplit("=", 1)[1])
                   for line in cp.stdout.splitlines()]
            self.assertEqual(len(got), len(set(got)), "%s: an exchange "
                             "twice (seed %d)" % (what, seed))
            return got, cp.stderr

        for i in range(20):
            if time.monotonic() > budget:
                break
            rec = self.record(cassette)
            stop = threading.Event()
            done, ids = [], []
            threads = [threading.Thread(
                target=load, args=(rec, ids, done, stop, 100000 * i + j,
                                   random.Random(seed + j)))
                for j in range(4)]
            for t in threads:
                t.start()
            time.sleep(rnd.uniform(0.2, 2.0))
            t_kill = time.monotonic()
            rec.kill()
            kills += 1
            stop.set()
            for t in threads:
                t.join(T(10))
            got, err = shown("after kill %d" % i)
            if "a recording cut off" in err:
                cuts += 1
                self.assertIn("the cassette ends", err)
            have = set(got)
            must = [n for n, t in done if t < t_kill - 1.2]
            missing = [n for n in must if n not in have]
            self.assertEqual(missing, [], "kill %d (seed %d): exchanges "
                             "completed over 1.2 s before the kill are "
                             "missing" % (i, seed))
            self.assertTrue(recorded <= have, "kill %d (seed %d): "
                            "exchanges of earlier runs lost" % (i, seed))
            self.assertTrue(have - recorded <= set(ids))
            recorded = have
            rp = self.replay(cassette)
            self.assertIn("replay: %d entries from" % len(got), rp.log())
            self.stop_ok(rp)
        self.assertGreaterEqual(kills, 5)
        # A clean run: then the file is plain JSON, every exchange kept.
        rec = self.record(cassette)
        r = self.session(rec).get(self.url("/_fake/echo?k=-1"),
                                  timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.stop_ok(rec)
        doc = read_har(cassette)
        urls = [e["request"]["url"] for e in doc["log"]["entries"]]
        self.assertEqual(urls[-1], self.url("/_fake/echo?k=-1"))
        self.assertEqual(set(int(u.rsplit("=", 1)[1]) for u in urls[:-1]),
                         recorded)
        sys.stderr.write("\n[%d kills, %d left a cut file, %d entries, "
                         "%.1f MB] " % (kills, cuts, len(urls),
                                        os.path.getsize(cassette) / 1e6))

    def test_gzip_body_stored_decoded(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        r = s.get(self.url("/_fake/gzip"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        doc = r.json()
        self.stop_ok(rec)
        e = self.entries(cassette)[0]
        resp = e["response"]
        text = content_bytes(resp["content"])
        self.assertEqual(json.loads(text), doc)
        self.assertEqual(text, json.dumps(doc).encode())
        self.assertEqual(resp["content"]["_decodedFrom"], "gzip")
        self.assertEqual(resp["content"]["size"], len(text))
        self.assertEqual(hdr(resp["headers"], "Content-Encoding"), [])
        self.assertEqual(one_hdr(resp["headers"], "Content-Length"),
                         str(len(text)))
        # Replayed as stored: plain bytes with a matching length.
        rp = self.replay(cassette)
        resp = self.raw_get(rp.addr, self.url("/_fake/gzip"),
                            "127.0.0.1:%d" % self.fake.port)
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.header("Content-Encoding"))
        self.assertEqual(resp.body, text)
        self.assertEqual(resp.header("Content-Length"), str(len(text)))
        self.stop_ok(rp)

    def test_binary_body_stored_as_base64(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        r = s.get(self.url("/_fake/stream"), params={"bytes": 3000},
                  timeout=T(10))
        self.assertEqual(r.content, harness.STREAM_BLOCK[:3000])
        self.stop_ok(rec)
        content = self.entries(cassette)[0]["response"]["content"]
        self.assertEqual(content["encoding"], "base64")
        self.assertEqual(base64.b64decode(content["text"]),
                         harness.STREAM_BLOCK[:3000])
        self.assertEqual(content["size"], 3000)
        self.assertEqual(content["mimeType"], "application/octet-stream")
        rp = self.replay(cassette)
        r = self.session(rp).get(self.url("/_fake/stream"),
                                 params={"bytes": 3000}, timeout=T(10))
        self.assertEqual(r.content, harness.STREAM_BLOCK[:3000])
        self.stop_ok(rp)

    def test_bodies_over_the_buffer_limit_are_cut_and_marked(self):
        cassette = self.cassette()
        rec = self.record(cassette, "--max-body-buffer", "64K")
        s = self.session(rec)
        n = 200000
        r = s.get(self.url("/_fake/stream"), params={"bytes": n},
                  timeout=T(20))
        # The client gets every byte.
        self.assertEqual(len(r.content), n)
        self.assertEqual(hashlib.sha256(r.content).hexdigest(),
                         harness.stream_sha256(n))
        r = s.post(self.url("/_fake/upload"),
                   data=harness.pattern_source(n), timeout=T(20))
        self.assertEqual(r.json()["bytes"], n)
        self.stop_ok(rec)
        got, up = self.entries(cassette)
        content = got["response"]["content"]
        self.assertEqual(content["_truncated"], n)
        kept = content_bytes(content)
        self.assertGreater(len(kept), 0)
        self.assertLessEqual(len(kept), 64 * 1024)
        self.assertEqual(kept, harness.STREAM_BLOCK[:len(kept)])
        post = up["request"]["postData"]
        self.assertEqual(post["_truncated"], n)
        kept = content_bytes(post)
        self.assertLessEqual(len(kept), 64 * 1024)
        self.assertEqual(kept, harness.STREAM_BLOCK[:len(kept)])
        self.assertEqual(up["response"]["status"], 200)

    def test_chunked_bodies_stored_with_content_length(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        r = s.get(self.url("/_fake/chunked"), params={"parts": 5},
                  timeout=T(10))
        self.assertEqual(r.headers.get("Transfer-Encoding"), "chunked")
        want = json.dumps({"parts": 5, "items": [
            {"n": i, "text": "part %d" % i} for i in range(5)]}).encode()
        self.assertEqual(r.content, want)
        sent = b'{"chunked": "request body", "n": 12345}'
        r = s.post(self.url("/_fake/echo"), data=iter([sent[:10], sent[10:]]),
                   headers={"Content-Type": "application/json"},
                   timeout=T(10))
        self.assertEqual(r.json()["body"], sent.decode())
        self.stop_ok(rec)
        got, post = self.entries(cassette)
        resp = got["response"]
        self.assertEqual(content_bytes(resp["content"]), want)
        self.assertEqual(hdr(resp["headers"], "Transfer-Encoding"), [])
        self.assertEqual(one_hdr(resp["headers"], "Content-Length"),
                         str(len(want)))
        req = post["request"]
        self.assertEqual(content_bytes(req["postData"]), sent)
        self.assertEqual(hdr(req["headers"], "Transfer-Encoding"), [])
        self.assertEqual(one_hdr(req["headers"], "Content-Length"),
                         str(len(sent)))
        # Replayed with a length, not chunked.
        rp = self.replay(cassette)
        resp = self.raw_get(rp.addr, self.url("/_fake/chunked?parts=5"),
                            "127.0.0.1:%d" % self.fake.port)
        self.assertEqual(resp.body, want)
        self.assertEqual(resp.header("Content-Length"), str(len(want)))
        self.assertIsNone(resp.header("Transfer-Encoding"))
        self.stop_ok(rp)

    def test_patchscope_own_answers_are_marked(self):
        cassette = self.cassette()
        rec = self.record(cassette, "--guard")
        s = self.session(rec)
        r = s.get(self.url(PROFILE), params={"fields": GET_FIELDS},
                  auth=AUTH, timeout=T(10))
        fetched = r.json()["actions"]
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": [fetched[0], NEW_WEBHOOK]},
                    timeout=T(10))
        self.assertEqual(r.status_code, 422)
        dead = harness.free_port()
        r = s.get("http://127.0.0.1:%d/nothing/here" % dead, timeout=T(15))
        self.assertEqual(r.status_code, 502)
        self.assertEqual(r.headers["X-Patchscope-Error"],
                         "upstream_unreachable")
        self.stop_ok(rec)
        get, guard, unreachable = self.entries(cassette)
        self.assertNotIn("_answeredBy", get)
        self.assertEqual(guard["_answeredBy"], "patchscope")
        self.assertEqual(guard["_error"], "patchscope_guard")
        self.assertEqual(guard["response"]["status"], 422)
        self.assertEqual(json.loads(content_bytes(
            guard["response"]["content"]))["code"], "patchscope_guard")
        self.assertIn("action.anchor.unknown",
                      {d["code"] for d in guard["_diagnoses"]})
        self.assertEqual(unreachable["_answeredBy"], "patchscope")
        self.assertEqual(unreachable["_error"], "upstream_unreachable")
        self.assertEqual(unreachable["response"]["status"], 502)
        self.assertEqual(unreachable["request"]["url"],
                         "http://127.0.0.1:%d/nothing/here" % dead)
        self.assertEqual(self.fake.requests_for(PROFILE), 1)


# --- redaction ---------------------------------------------------------------

class Secrets(CassetteCase):
    """No secret, wherever it was sent, reaches the cassette or the log."""

    tls = False

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake(tls=self.tls)

    def client(self, proxy):
        if self.tls:
            return self.https_session(proxy)
        return self.session(proxy)

    def test_secrets_everywhere_are_redacted(self):
        sec = {k: unique("SeKrEt" + k) for k in (
            "qtoken", "qapikey", "qcustom", "bearer", "xauth", "xapikey",
            "proxyauth", "cookie", "custom_header", "password", "client",
            "apikey_json", "pin", "setcookie", "basic", "hook_auth",
            "hook_apikey")}
        cassette = self.cassette()
        rec = self.record(cassette, "--redact-header", "X-Tenant-Ref",
                          "--redact-query", "ref_code",
                          "--redact-json-key", "pin", fake=self.fake)
        s = self.client(rec)
        # 1. Query, headers, cookies, deep JSON keys, user-added names.
        body = {"user": {"name": "alice", "settings": {
            "password": sec["password"],
            "items": [{"clientSecret": sec["client"], "n": 1}]}},
            "apiKey": sec["apikey_json"], "pin": sec["pin"],
            "note": "keep me"}
        q = ("access_token=%s&api_key=%s&ref_code=%s&user=alice"
             % (sec["qtoken"], sec["qapikey"], sec["qcustom"]))
        r = s.post(self.fake.url + "/_fake/echo?" + q, json=body,
                   headers={"Authorization": "Bearer " + sec["bearer"],
                            "X-Auth-Token": sec["xauth"],
                            "X-Api-Key": sec["xapikey"],
                            "Proxy-Authorization": "Bearer " +
                            sec["proxyauth"],
                            "Cookie": "sid=%s; theme=darkmode"
                            % sec["cookie"],
                            "X-Tenant-Ref": sec["custom_header"]},
                   timeout=T(10))
        self.assertEqual(r.status_code, 200)
        # The origin got the secrets: redaction is for the record only.
        echoed = r.json()
        self.assertEqual(echoed["headers"]["x-auth-token"], sec["xauth"])
        self.assertEqual(json.loads(echoed["body"]), body)
        # 2. Set-Cookie from the origin.
        r = s.get(self.fake.url + "/_fake/headers", params=[
            ("Set-Cookie", "session=%s; Path=/; HttpOnly"
             % sec["setcookie"]), ("X-Plain", "visible")], timeout=T(10))
        self.assertEqual(r.headers["Set-Cookie"],
                         "session=%s; Path=/; HttpOnly" % sec["setcookie"])
        # 3. A profile PATCH with webhook headers; the answer echoes them
        # and the seeded receiver token.
        hook = dict(FIXED_WEBHOOK, headers={
            "Authorization": "Bearer " + sec["hook_auth"],
            "X-Api-Key": sec["hook_apikey"], "test": "test1234"})
        r = s.patch(self.fake.url + PROFILE, params={"fields": "actions.*"},
                    auth=("acc1", sec["basic"]),
                    json={"actions": SEED_ACTIONS + [hook]}, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json()["actions"][3]["headers"], hook["headers"])
        self.stop_ok(rec)

        with open(cassette, "rb") as f:
            data = f.read()
        log = rec.log()
        forbidden = list(sec.values()) + [
            SEED_TOKEN,
            base64.b64encode(("acc1:" + sec["basic"]).encode()).decode()]
        for value in forbidden:
            self.assertNotIn(value.encode(), data,
                             "secret %r is in the cassette" % value)
            self.assertNotIn(value, log, "secret %r is in the log" % value)

        echo, setc, patch = json.loads(data.decode())["log"]["entries"]
        req = echo["request"]
        h = req["headers"]
        self.assertEqual(one_hdr(h, "Authorization"),
                         marker("Bearer " + sec["bearer"]))
        self.assertEqual(one_hdr(h, "X-Auth-Token"), marker(sec["xauth"]))
        self.assertEqual(one_hdr(h, "X-Api-Key"), marker(sec["xapikey"]))
        self.assertEqual(one_hdr(h, "X-Tenant-Ref"),
                         marker(sec["custom_header"]))
        for value in hdr(h, "Proxy-Authorization"):
            self.assertEqual(value, marker("Bearer " + sec["proxyauth"]))
        self.assertEqual(one_hdr(h, "Cookie"), "sid=%s; theme=%s" % (
            marker(sec["cookie"]), marker("darkmode")))
        self.assertEqual(sorted((c["name"], c["value"])
                                for c in req["cookies"]),
                         [("sid", marker(sec["cookie"])),
                          ("theme", marker("darkmode"))])
        self.assertEqual(
            sorted((p["name"], p["value"]) for p in req["queryString"]),
            [("access_token", marker(sec["qtoken"])),
             ("api_key", marker(sec["qapikey"])),
             ("ref_code", marker(sec["qcustom"])), ("user", "alice")])
        self.assertIn("access_token=" + marker(sec["qtoken"]), req["url"])
        self.assertIn("ref_code=" + marker(sec["qcustom"]), req["url"])
        self.assertIn("user=alice", req["url"])
        want = json.loads(json.dumps(body))
        want["user"]["settings"]["password"] = marker(sec["password"])
        want["user"]["settings"]["items"][0]["clientSecret"] = \
            marker(sec["client"])
        want["apiKey"] = marker(sec["apikey_json"])
        want["pin"] = marker(sec["pin"])
        self.assertEqual(json.loads(content_bytes(req["postData"])), want)
        # Set-Cookie: the value, attributes kept; other headers as they were.
        resp = setc["response"]
        self.assertEqual(one_hdr(resp["headers"], "Set-Cookie"),
                         "session=%s; Path=/; HttpOnly"
                         % marker(sec["setcookie"]))
        self.assertEqual(one_hdr(resp["headers"], "X-Plain"), "visible")
        # Webhook headers, in the request and in the answer.
        req = patch["request"]
        self.assertEqual(one_hdr(req["headers"], "Authorization"),
                         marker(basic("acc1", sec["basic"])))
        sent = json.loads(content_bytes(req["postData"]))
        want_hook = {"Authorization": marker("Bearer " + sec["hook_auth"]),
                     "X-Api-Key": marker(sec["hook_apikey"]),
                     "test": "test1234"}
        self.assertEqual(sent["actions"][3]["headers"], want_hook)
        self.assertEqual(sent["actions"][0]["headers"],
                         {"x-auth-token": marker(SEED_TOKEN)})
        self.assertEqual(sent["actions"][3]["to"], FIXED_WEBHOOK["to"])
        answer = json.loads(content_bytes(patch["response"]["content"]))
        self.assertEqual(answer["actions"][3]["headers"], want_hook)
        self.assertEqual(answer["actions"][0]["headers"],
                         {"x-auth-token": marker(SEED_TOKEN)})
        self.assertEqual(answer["actions"][1]["title"],
                         "Reminder a day before")
        # Redaction changes lengths: the stored Content-Length follows the
        # stored text (as for decoded and chunked bodies).
        bad = []
        for e in (echo, setc, patch):
            for side, part, body in (
                    ("request", e["request"], e["request"].get("postData")),
                    ("response", e["response"], e["response"]["content"])):
                if body is None:
                    continue
                if hdr(part["headers"], "Content-Length") != \
                        [str(len(content_bytes(body)))]:
                    bad.append("%s %s %s: Content-Length %s, text %d bytes"
                               % (e["request"]["method"], e["request"]["url"],
                                  side, hdr(part["headers"],
                                            "Content-Length"),
                                  len(content_bytes(body))))
        self.assertEqual(bad, [])

    def test_two_credentials_give_two_markers(self):
        one, two = unique("tok-one"), unique("tok-two")
        cassette = self.cassette()
        rec = self.record(cassette, fake=self.fake)
        s = self.client(rec)
        for cred in (one, two, one):
            r = s.get(self.fake.url + "/_fake/echo", params={"token": cred},
                      headers={"X-Api-Key": cred}, timeout=T(10))
            self.assertEqual(r.status_code, 200)
        self.stop_ok(rec)
        entries = self.entries(cassette)
        keys = [one_hdr(e["request"]["headers"], "X-Api-Key")
                for e in entries]
        self.assertEqual(keys, [marker(one), marker(two), marker(one)])
        self.assertNotEqual(marker(one), marker(two))
        qs = [[p["value"] for p in e["request"]["queryString"]
               if p["name"] == "token"] for e in entries]
        self.assertEqual(qs, [[marker(one)], [marker(two)], [marker(one)]])
        with open(cassette, "rb") as f:
            data = f.read()
        for cred in (one, two):
            self.assertNotIn(cred.encode(), data)
            self.assertNotIn(cred, rec.log())

    def test_no_redact_stores_secrets_and_warns(self):
        tok = unique("plain-token")
        cassette = self.cassette()
        rec = self.record(cassette, "--no-redact", fake=self.fake)
        self.wait_log(rec, r"(?m)^.*warning: .*(secret|redact|credential)")
        s = self.client(rec)
        s.get(self.fake.url + "/_fake/echo", headers={"X-Api-Key": tok},
              timeout=T(10))
        self.stop_ok(rec)
        e = self.entries(cassette)[0]
        self.assertEqual(one_hdr(e["request"]["headers"], "X-Api-Key"), tok)


class SecretsHttps(Secrets):
    tls = True


# --- replay ------------------------------------------------------------------

class Replay(CassetteCase):
    """Replays of small cassettes recorded against the fake."""

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()

    def url(self, path):
        return self.fake.url + path

    def record_requests(self, calls, *args):
        """Record calls [(method, path, kwargs)] with requests; returns
        (cassette, replies)."""
        cassette = self.cassette()
        rec = self.record(cassette, *args)
        s = self.session(rec)
        replies = []
        for method, path, kw in calls:
            replies.append(reply_of(s.request(method, self.url(path),
                                              timeout=T(10), **kw)))
        self.stop_ok(rec)
        self.assertEqual(len(self.entries(cassette)), len(calls))
        return cassette, replies

    def test_identical_requests_answered_in_recorded_order(self):
        get = ("GET", PROFILE, {"params": {"fields": "id,title"},
                                "auth": AUTH})
        cassette, recorded = self.record_requests([
            get,
            ("PATCH", PROFILE, {"params": {"fields": "id,title"},
                                "auth": AUTH, "json": {"title": "Renamed"}}),
            get])
        self.assertEqual(recorded[0].json()["title"], "Discovery call")
        self.assertEqual(recorded[2].json()["title"], "Renamed")
        self.fake.stop()
        rp = self.replay(cassette)
        s = self.session(rp)

        def call(method, path, kw):
            return reply_of(s.request(method, self.url(path), timeout=T(10),
                                      **kw))
        # The GET twice: the old body, then the new one, then the new again.
        got = call(*get)
        self.assertEqual((got.status, got.body), (200, recorded[0].body))
        self.assert_hit(got, 0, "1/2")
        got = call(*get)
        self.assertEqual(got.body, recorded[2].body)
        self.assert_hit(got, 2, "2/2")
        got = call(*get)
        self.assertEqual(got.body, recorded[2].body)
        self.assert_hit(got, 2, "2/2")
        got = call("PATCH", PROFILE, {"params": {"fields": "id,title"},
                                      "auth": AUTH,
                                      "json": {"title": "Renamed"}})
        self.assertEqual((got.status, got.json()),
                         (200, {"id": "p1", "title": "Renamed"}))
        self.assert_hit(got, 1, "1/1")
        # Recorded headers come back (Content-Type from the origin).
        self.assertEqual(got.get("Content-Type"), "application/json")
        self.assertEqual(got.get("Content-Length"), str(len(got.body)))
        self.stop_ok(rp)

    def test_query_order_and_json_formatting_do_not_matter(self):
        cassette, recorded = self.record_requests([
            ("GET", "/_fake/echo?a=1&b=2", {}),
            ("POST", "/_fake/echo", {"data": b'{"x": {"y": [1, 2]}, '
                                             b'"z": "s"}',
                                     "headers": {"Content-Type":
                                                 "application/json"}}),
        ])
        self.fake.stop()
        rp = self.replay(cassette)
        # Absolute-form, as a proxy.
        s = self.session(rp)
        got = reply_of(s.get(self.url("/_fake/echo?b=2&a=1"), timeout=T(10)))
        self.assertEqual(got.body, recorded[0].body)
        self.assert_hit(got, 0, "1/1")
        got = reply_of(s.post(self.url("/_fake/echo"),
                              data=b'{ "z":"s",\n  "x" : {"y":[1,2]} }',
                              headers={"Content-Type": "application/json"},
                              timeout=T(10)))
        self.assertEqual(got.body, recorded[1].body)
        self.assert_hit(got, 1, "1/1")
        # Origin-form, as a base URL.
        s = self.plain_session()
        got = reply_of(s.get(rp.url + "/_fake/echo?b=2&a=1", timeout=T(10)))
        self.assertEqual(got.body, recorded[0].body)
        self.assert_hit(got, 0, "1/1")
        got = reply_of(s.post(rp.url + "/_fake/echo",
                              data=b'{"z":"s","x":{"y":[1,2]}}',
                              headers={"Content-Type": "application/json"},
                              timeout=T(10)))
        self.assert_hit(got, 1, "1/1")
        self.stop_ok(rp)

    def test_miss_report_names_the_nearest_entry_and_the_differences(self):
        cassette, recorded = self.record_requests([
            ("GET", "/_fake/echo?a=1&b=2", {}),
            ("POST", "/_fake/upload", {"data": b'{"x": {"y": [1, 2]}, '
                                               b'"z": "s"}',
                                       "headers": {"Content-Type":
                                                   "application/json"}}),
        ])
        self.fake.stop()
        rp = self.replay(cassette)
        s = self.session(rp)

        def only_diff(doc, entry, field):
            near = doc["nearest"]
            self.assertIsNotNone(near, doc)
            self.assertEqual(near["entry"], entry, doc)
            diffs = near["differences"]
            self.assertEqual([d["field"] for d in diffs], [field], doc)
            return diffs[0]

        # Query.
        got = reply_of(s.get(self.url("/_fake/echo?a=1&b=3"), timeout=T(10)))
        doc = self.assert_miss(got)
        self.assertEqual(doc["request"], {
            "method": "GET", "url": self.url("/_fake/echo?a=1&b=3")})
        self.assertEqual(doc["nearest"]["method"], "GET")
        self.assertEqual(doc["nearest"]["url"],
                         self.url("/_fake/echo?a=1&b=2"))
        d = only_diff(doc, 0, "query")
        self.assertEqual((d["name"], d["recorded"], d["received"]),
                         ("b", "2", "3"))
        # A parameter that was not recorded.
        doc = self.assert_miss(reply_of(s.get(
            self.url("/_fake/echo?a=1&b=2&c=9"), timeout=T(10))))
        d = only_diff(doc, 0, "query")
        self.assertEqual((d["name"], d["recorded"], d["received"]),
                         ("c", None, "9"))
        # Method.
        doc = self.assert_miss(reply_of(s.delete(
            self.url("/_fake/echo?a=1&b=2"), timeout=T(10))))
        only_diff(doc, 0, "method")
        self.assertEqual(doc["request"]["method"], "DELETE")
        # Path.
        doc = self.assert_miss(reply_of(s.get(
            self.url("/_fake/echoes?a=1&b=2"), timeout=T(10))))
        only_diff(doc, 0, "path")
        # Body: the JSON Pointer of the difference.
        doc = self.assert_miss(reply_of(s.post(
            self.url("/_fake/upload"), data=b'{"z": "s", "x": {"y": [1, 3]}}',
            headers={"Content-Type": "application/json"}, timeout=T(10))))
        d = only_diff(doc, 1, "body")
        self.assertEqual((d["pointer"], d["recorded"], d["received"]),
                         ("/x/y/1", 2, 3))
        doc = self.assert_miss(reply_of(s.post(
            self.url("/_fake/upload"), data=b'{"z": "s", "x": {"y": [1, 2]},'
            b' "extra": true}', headers={"Content-Type": "application/json"},
            timeout=T(10))))
        d = only_diff(doc, 1, "body")
        self.assertEqual((d["pointer"], d["received"]), ("/extra", True))
        # Origin (absolute-form names another port).
        other = "http://127.0.0.1:%d/_fake/echo?a=1&b=2" % \
            harness.free_port()
        doc = self.assert_miss(reply_of(s.get(other, timeout=T(10))))
        only_diff(doc, 0, "origin")
        self.wait_log(rp, r"replay miss")
        # Misses do not use up entries: the recorded ones still hit.
        got = reply_of(s.get(self.url("/_fake/echo?a=1&b=2"), timeout=T(10)))
        self.assertEqual(got.body, recorded[0].body)
        self.assert_hit(got, 0, "1/1")
        self.stop_ok(rp)

    def test_miss_on_an_empty_cassette_has_no_nearest(self):
        cassette = self.cassette()
        self.stop_ok(self.record(cassette))
        self.assertEqual(self.entries(cassette), [])
        rp = self.replay(cassette)
        resp = self.raw_get(rp.addr, "/v1/acc1/profiles/p1", "example.test")
        got = Reply(resp.status, resp.header_list, resp.body)
        doc = self.assert_miss(got)
        self.assertIsNone(doc["nearest"])
        self.assertEqual(doc["request"]["method"], "GET")
        self.assertIn("/v1/acc1/profiles/p1", doc["request"]["url"])
        self.wait_log(rp, r"replay miss")
        self.stop_ok(rp)

    def test_match_header(self):
        k1, k2 = unique("key-one"), unique("key-two")
        cassette, recorded = self.record_requests([
            ("GET", "/_fake/echo?m=1", {"headers": {"X-Api-Key": k1,
                                                    "X-Tenant": "blue"}})])
        self.fake.stop()
        # Without --match-header, headers do not matter.
        rp = self.replay(cassette)
        got = reply_of(self.session(rp).get(
            self.url("/_fake/echo?m=1"), headers={"X-Api-Key": k2},
            timeout=T(10)))
        self.assert_hit(got, 0, "1/1")
        self.stop_ok(rp)
        rp = self.replay(cassette, "--match-header", "X-Api-Key",
                         "--match-header", "X-Tenant")
        s = self.session(rp)
        got = reply_of(s.get(self.url("/_fake/echo?m=1"),
                             headers={"X-Api-Key": k1, "X-Tenant": "blue"},
                             timeout=T(10)))
        self.assert_hit(got, 0, "1/1")
        # The echo of the key was redacted when recorded.
        self.assertEqual(got.body, content_bytes(
            self.entries(cassette)[0]["response"]["content"]))
        self.assertEqual(json.loads(got.body)["headers"]["x-api-key"],
                         marker(k1))
        got = reply_of(s.get(self.url("/_fake/echo?m=1"),
                             headers={"X-Api-Key": k2, "X-Tenant": "blue"},
                             timeout=T(10)))
        doc = self.assert_miss(got)
        diffs = doc["nearest"]["differences"]
        self.assertEqual([d["field"] for d in diffs], ["header"], doc)
        # The report compares markers: neither key is in it.
        self.assertNotIn(k1.encode(), got.body)
        self.assertNotIn(k2.encode(), got.body)
        got = reply_of(s.get(self.url("/_fake/echo?m=1"),
                             headers={"X-Api-Key": k1, "X-Tenant": "red"},
                             timeout=T(10)))
        doc = self.assert_miss(got)
        self.assertEqual([d["field"] for d in doc["nearest"]["differences"]],
                         ["header"], doc)
        got = reply_of(s.get(self.url("/_fake/echo?m=1"),
                             headers={"X-Tenant": "blue"}, timeout=T(10)))
        self.assert_miss(got)
        self.stop_ok(rp)
        self.assertNotIn(k1, rp.log())
        self.assertNotIn(k2, rp.log())

    def test_fallback_proxy_forwards_and_appends(self):
        cassette, recorded = self.record_requests([
            ("GET", "/_fake/echo?rec=1", {})])
        self.fake.reset()
        rp = self.replay(cassette, "--fallback=proxy")
        s = self.session(rp)
        got = reply_of(s.get(self.url("/_fake/echo?rec=1"), timeout=T(10)))
        self.assert_hit(got, 0, "1/1")
        self.assertEqual(self.fake.stats()["requests"], 0)
        # A miss goes to the origin and into the cassette.
        r = s.get(self.url("/_fake/echo?new=1"), timeout=T(10))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["query"], "new=1")
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 1)
        entries = self.wait_entries(cassette, 2)
        self.assertEqual(len(entries), 2)
        self.assertEqual(entries[1]["request"]["url"],
                         self.url("/_fake/echo?new=1"))
        self.assertEqual(content_bytes(entries[1]["response"]["content"]),
                         r.content)
        # Origin-form: forwarded to the cassette's origin.
        r = self.plain_session().get(rp.url + "/_fake/echo?base=1",
                                     timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual(r.json()["query"], "base=1")
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 2)
        entries = self.wait_entries(cassette, 3)
        self.assertEqual(entries[2]["request"]["url"],
                         self.url("/_fake/echo?base=1"))
        # The same request again is now a hit, not forwarded.
        got = reply_of(s.get(self.url("/_fake/echo?new=1"), timeout=T(10)))
        self.assert_hit(got, 1, "1/1")
        self.assertEqual(got.body,
                         content_bytes(entries[1]["response"]["content"]))
        self.assertEqual(self.fake.requests_for("/_fake/echo"), 2)
        self.stop_ok(rp)
        self.assertEqual(len(self.entries(cassette)), 3)

    def write_three(self):
        entries = [har_entry("GET", self.url("/r/%s" % n),
                             body='{"n": "%s"}' % n) for n in "abc"]
        return self.write_file("three.har", har_doc(entries)), entries

    def test_report_and_strict_exit_status(self):
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        cassette, entries = self.write_three()
        report = os.path.join(self.tmp, "report.json")
        rp = self.replay(cassette, "--report", report, "--strict")
        s = self.session(rp)
        got = reply_of(s.get(self.url("/r/a"), timeout=T(10)))
        self.assertEqual(got.json(), {"n": "a"})
        self.assert_hit(got, 0, "1/1")
        self.assert_miss(reply_of(s.get(self.url("/r/d?x=1"),
                                        timeout=T(10))))
        rc = rp.stop(signal.SIGTERM, T(8))
        self.assertEqual(rc, 1, rp.log()[-2000:])
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual(doc["entries"], 3)
        self.assertEqual(doc["served"], 1)
        self.assertEqual(doc["unused"], [
            {"entry": 1, "method": "GET", "url": self.url("/r/b")},
            {"entry": 2, "method": "GET", "url": self.url("/r/c")}])
        self.assertEqual(len(doc["misses"]), 1)
        miss = doc["misses"][0]
        self.assertEqual((miss["method"], miss["url"]),
                         ("GET", self.url("/r/d?x=1")))
        self.assertIn("nearest", miss)
        log = rp.log()
        self.assertIn("replay miss", log)
        self.assertIn(self.url("/r/b"), log)
        self.assertIn(self.url("/r/c"), log)
        self.assertIn(self.url("/r/d?x=1"), log)
        # The same run without --strict exits 0.
        rp = self.replay(cassette)
        s = self.session(rp)
        s.get(self.url("/r/a"), timeout=T(10))
        self.assertEqual(rp.stop(signal.SIGTERM, T(8)), 0)

    def test_strict_exits_0_when_everything_was_used(self):
        if harness.requests is None:
            self.skipTest("python3-requests is not installed")
        cassette, entries = self.write_three()
        report = os.path.join(self.tmp, "report.json")
        rp = self.replay(cassette, "--strict", "--report", report)
        s = self.session(rp)
        for n in "abc":
            got = reply_of(s.get(self.url("/r/" + n), timeout=T(10)))
            self.assertEqual(got.json(), {"n": n})
        self.assertEqual(rp.stop(signal.SIGTERM, T(8)), 0, rp.log())
        with open(report) as f:
            doc = json.load(f)
        self.assertEqual((doc["entries"], doc["served"], doc["unused"],
                          doc["misses"]), (3, 3, [], []))

    def test_diagnoses_are_applied_again_in_replay(self):
        cassette = self.cassette()
        rec = self.record(cassette)
        s = self.session(rec)
        first = s.get(self.url(PROFILE), params={"fields": GET_FIELDS},
                      auth=AUTH, timeout=T(10))
        bad = {"actions": [first.json()["actions"][0], NEW_WEBHOOK]}
        live = reply_of(s.patch(self.url(PROFILE),
                                params={"fields": PATCH_FIELDS}, auth=AUTH,
                                json=bad, timeout=T(10)))
        self.stop_ok(rec)
        self.fake.stop()
        self.assertEqual(live.status, 400)
        rp = self.replay(cassette)
        s = self.session(rp)
        got = reply_of(s.get(self.url(PROFILE), params={"fields": GET_FIELDS},
                             auth=AUTH, timeout=T(10)))
        self.assert_hit(got, 0, "1/1")
        self.assertEqual(got.body, first.content)
        got = reply_of(s.patch(self.url(PROFILE),
                               params={"fields": PATCH_FIELDS}, auth=AUTH,
                               json=bad, timeout=T(10)))
        self.assert_hit(got, 1, "1/1")
        self.assertEqual(got.diagnoses(), live.diagnoses())
        self.assertIn("error action.anchor.unknown /actions/1/anchor",
                      got.diagnoses())
        self.assertEqual(got.json()["errors"], live.json()["errors"])
        self.assertEqual(got.get("Content-Length"), str(len(got.body)))
        self.wait_log(rp, r"error\[action\.anchor\.unknown\] "
                      r"/actions/1/anchor: .*BOOKING_CANCELLED")
        self.stop_ok(rp)

    def test_replay_never_connects_upstream(self):
        # An HTTP cassette and an HTTPS one, the fakes then stopped and
        # their ports taken by listeners that count connections.
        http_cassette, _ = self.record_requests([
            ("GET", PROFILE, {"params": {"fields": "id,title"},
                              "auth": AUTH})])
        tfake = self.start_fake(tls=True)
        https_cassette = self.cassette("tls.har")
        rec = self.record(https_cassette, fake=tfake)
        ca = self.patchscope_ca()
        turl = tfake.url + PROFILE + "?fields=id,title"
        recorded = self.curl_call(rec, "GET", turl, cacert=ca)
        self.assertEqual(recorded.status, 200)
        self.stop_ok(rec)
        self.fake.stop()
        tfake.stop()
        listeners = [Listener(self.fake.port), Listener(tfake.port)]
        for listener in listeners:
            self.addCleanup(listener.close)
        rp = self.replay(http_cassette)
        hurl = self.url(PROFILE + "?fields=id,title")
        # Absolute-form.
        got = self.curl_call(rp, "GET", hurl)
        self.assertEqual(got.json(), {"id": "p1", "title": "Discovery call"})
        self.assertEqual(got.get("X-Patchscope-Replay"), "hit")
        self.assert_miss(self.curl_call(rp, "GET", self.url("/elsewhere")))
        # Origin-form.
        got = self.curl_call(None, "GET", rp.url + PROFILE +
                             "?fields=id,title")
        self.assertEqual(got.get("X-Patchscope-Replay"), "hit")
        self.assert_miss(self.curl_call(None, "GET", rp.url + "/elsewhere"))
        self.stop_ok(rp)
        # CONNECT with interception.
        rp = self.replay(https_cassette)
        got = self.curl_call(None, "GET", turl, cacert=ca,
                             env={"HTTPS_PROXY": rp.url})
        self.assertEqual(got.body, recorded.body)
        self.assertEqual(got.get("X-Patchscope-Replay"), "hit")
        self.assert_miss(self.curl_call(None, "GET", tfake.url + "/elsewhere",
                                        cacert=ca,
                                        env={"HTTPS_PROXY": rp.url}))
        got = reply_of(self.https_session(rp).get(turl, auth=AUTH,
                                                  timeout=T(10)))
        self.assertEqual(got.get("X-Patchscope-Replay"), "hit")
        self.stop_ok(rp)
        time.sleep(0.3)
        self.assertEqual([listener.accepted for listener in listeners],
                         [0, 0])
        # The listeners do count (a connection of our own).
        socket.create_connection(("127.0.0.1", tfake.port), T(5)).close()
        harness.wait_for(lambda: listeners[1].accepted == 1, T(5),
                         what="the listener to count a connection")

    def test_a_5_mib_string_is_fine(self):
        big = "x" * (5 * harness.MiB)
        cassette = self.write_file("big.har", har_doc([
            har_entry("GET", self.url("/big"), body=big, mime="text/plain")]))
        rp = self.replay(cassette)
        r = self.session(rp).get(self.url("/big"), timeout=T(20))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(r.content), len(big))
        self.assertEqual(r.content, big.encode())
        self.stop_ok(rp)


class Unreadable(CassetteCase):
    """A cassette that cannot be read stops start-up, untouched."""

    def cases(self):
        good = har_doc([har_entry("GET", "http://127.0.0.1:9/a/%d" % i,
                                  body='{"i": %d}' % i) for i in range(3)])
        text = json.dumps(good, indent=2)
        no_status = json.loads(text)
        del no_status["log"]["entries"][1]["response"]["status"]
        deep = json.loads(text)
        nest = 0
        for _ in range(70):
            nest = [nest]
        deep["log"]["entries"][1]["_deep"] = nest
        return [
            # name, bytes, a regex the message must match (the place)
            ("not-json.har", b"this is not a cassette\n", r"line 1\b"),
            # Cut before any entry is whole: not a recording cut off
            # (test_a_recording_cut_off_is_taken_with_a_warning).
            ("truncated.har", text.encode()[:text.index('"url"')],
             r"line \d+"),
            ("not-har.har", b'{"hello": "world"}\n', None),
            ("array.har", b"[1, 2, 3]\n", None),
            ("no-status.har", json.dumps(no_status, indent=2).encode(),
             r"entry 1\b"),
            ("deep.har", json.dumps(deep).encode(), None),
        ]

    def check_refusal(self, command, name, data, place):
        path = self.write_file(name, data)
        self.patchscope_ca()     # the CA exists: only the cassette is wrong
        args = [command, "--listen", "127.0.0.1:0", "-c", path]
        rc, out, err = self.refuse(*args)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(rc, 2, "%s %s: stdout %r stderr %r"
                         % (command, name, out, err))
        self.assertNotIn("listening on", out)
        self.assertEqual(len(lines), 1, "%s %s: %r" % (command, name, err))
        self.assertIn(name, lines[0])
        if place:
            self.assertRegex(lines[0], place)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data, "%s changed %s"
                             % (command, name))
        self.assertFalse(os.path.exists(path + ".tmp"))

    def test_replay_refuses_unreadable_cassettes(self):
        for name, data, place in self.cases():
            with self.subTest(cassette=name):
                self.check_refusal("replay", name, data, place)

    def test_record_refuses_to_append_to_unreadable_cassettes(self):
        for name, data, place in self.cases():
            with self.subTest(cassette=name):
                self.check_refusal("record", name, data, place)

    def test_refusal_with_a_fresh_home_is_still_one_line(self):
        """No CA yet: the refusal is still the one line about the file
        (checking the cassette comes before anything else is set up)."""
        for command in ("replay", "record"):
            with self.subTest(command=command):
                path = self.write_file("bad-%s.har" % command, b"[1,")
                home = os.path.join(self.tmp, "home-" + command)
                env = harness.clean_env({"PATCHSCOPE_HOME": home})
                cp = subprocess.run(
                    [harness.PATCHSCOPE, command, "--listen",
                     "127.0.0.1:0", "-c", path], stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    env=env, timeout=T(6))
                err = cp.stderr.decode("utf-8", "replace")
                self.assertEqual(cp.returncode, 2, err)
                self.assertEqual(cp.stdout, b"")
                lines = [x for x in err.splitlines() if x.strip()]
                self.assertEqual(len(lines), 1, err)
                self.assertIn("bad-%s.har" % command, lines[0])

    def test_a_recording_cut_off_is_taken_with_a_warning(self):
        """A file that ends inside its entries array after a complete
        entry is what a kill -9 in the middle of an append leaves: replay,
        show and record take the entries before the cut, say so once, and
        leave the file as it is (record makes it whole when it writes)."""
        good = har_doc([har_entry("GET", "http://127.0.0.1:9/a/%d" % i,
                                  body='{"i": %d}' % i) for i in range(3)])
        text = json.dumps(good, indent=2).encode()
        data = text[:len(text) // 2]
        path = self.write_file("cut.har", data)
        said = ("cut.har: the cassette ends in the middle of entry 1 (a "
                "recording cut off); the 1 complete entry before it is used")
        rp = self.replay(path)
        resp = self.raw_get(rp.addr, "http://127.0.0.1:9/a/0",
                            "127.0.0.1:9")
        self.assertEqual((resp.status, resp.body), (200, b'{"i": 0}'))
        resp = self.raw_get(rp.addr, "http://127.0.0.1:9/a/1",
                            "127.0.0.1:9")
        self.assertEqual(resp.status, 404)
        self.stop_ok(rp)
        self.assertEqual(rp.log().count(said), 1, rp.log())
        cp = self.run_ps("show", "--json", path)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(len(cp.stdout.splitlines()), 1)
        self.assertEqual(cp.stderr.count(said), 1, cp.stderr)
        rec = self.record(path)
        self.stop_ok(rec)
        self.assertEqual(rec.log().count(said), 1, rec.log())
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_the_good_cassette_of_the_cases_loads(self):
        """The refusals above are about the damage, not the cassette."""
        good = har_doc([har_entry("GET", "http://127.0.0.1:9/a/%d" % i,
                                  body='{"i": %d}' % i) for i in range(3)])
        path = self.write_file("good.har", json.dumps(good, indent=2))
        rp = self.replay(path)
        resp = self.raw_get(rp.addr, "http://127.0.0.1:9/a/1",
                            "127.0.0.1:9")
        self.assertEqual((resp.status, resp.body), (200, b'{"i": 1}'))
        self.stop_ok(rp)


if __name__ == "__main__":
    harness.main()
