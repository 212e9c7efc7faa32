#!/usr/bin/python3
"""`patchscope diff A B` through the real binary: the seed story's cassette
against itself (the same, exit 0) and against copies edited here (the
fixed PATCH changed, entries added and removed, requests reordered,
credentials and origins changed: exit 1, each difference named by JSON
Pointer or header), --json parsed and checked, two sessions recorded live
through `patchscope record` against the fake API, hostile cassettes printed
with their control characters escaped, and bad input refused with one line
and exit 2."""

import copy
import json
import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402
from harness import (AUTH, GET_FIELDS, NEW_WEBHOOK, PATCH_FIELDS,  # noqa
                     PROFILE)

SEED = os.path.join(harness.SRCDIR, "cassettes", "seed-story.har")
FIXED = 3                   # the seed story's fixed PATCH (200)
FAILED = 1                  # its failing PATCH (400)
ANCHOR = "/actions/3/anchor"


class Diff(harness.TestCase):

    # -- helpers --

    def diff(self, *args):
        """Run patchscope diff ARGS: (exit status, stdout bytes, stderr)."""
        cp = subprocess.run([harness.PATCHSCOPE, "diff"] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=harness.clean_env(),
                            timeout=T(20))
        return cp.returncode, cp.stdout, cp.stderr.decode("utf-8", "replace")

    def diff_text(self, a, b, rc=1):
        got, out, err = self.diff(a, b)
        self.assertEqual(got, rc, "exit %d, stderr %r, stdout %r"
                         % (got, err, out))
        self.assertEqual(err, "", "nothing on stderr")
        return out.decode("utf-8")

    def diff_json(self, a, b, rc=1):
        got, out, err = self.diff("--json", a, b)
        self.assertEqual(got, rc, "exit %d, stderr %r" % (got, err))
        return json.loads(out.decode("ascii"))

    def seed(self):
        with open(SEED) as f:
            return json.load(f)

    def write(self, name, doc):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        return path

    def entries(self, doc):
        return doc["log"]["entries"]

    def body(self, entry):
        return json.loads(entry["request"]["postData"]["text"])

    def set_body(self, entry, body):
        entry["request"]["postData"]["text"] = json.dumps(body)

    def assert_lines(self, text, *want):
        lines = text.splitlines()
        for line in want:
            self.assertIn(line, lines, "missing line %r in:\n%s"
                          % (line, text))

    def assert_refused(self, args, *words):
        rc, out, err = self.diff(*args)
        self.assertEqual(rc, 2, "patchscope diff %s: exit %d, %r"
                         % (" ".join(args), rc, err))
        self.assertEqual(out, b"", "nothing on stdout")
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, "one line names the cause: %r" % err)
        self.assertTrue(lines[0].startswith("patchscope: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])
        return lines[0]

    def changed_fixed_patch(self):
        """The seed story with its fixed PATCH sent BOOKING_CANCELED again
        and refused: what a regression would record."""
        doc = self.seed()
        e = self.entries(doc)[FIXED]
        body = self.body(e)
        self.assertEqual(body["actions"][3]["anchor"], "BOOKING_CANCELLED")
        body["actions"][3]["anchor"] = "BOOKING_CANCELED"
        self.set_body(e, body)
        e["response"]["status"] = 400
        e["_diagnoses"] = [{"severity": "error",
                            "code": "action.anchor.unknown",
                            "path": ANCHOR,
                            "message": "\"BOOKING_CANCELED\" is not a known "
                                       "anchor"}]
        return doc

    # -- the same --

    def test_seed_story_against_itself_is_the_same(self):
        text = self.diff_text(SEED, SEED, rc=0)
        lines = text.splitlines()
        self.assertEqual(lines[0], "A: %s (4 entries)" % SEED)
        self.assertEqual(lines[1], "B: %s (4 entries)" % SEED)
        self.assertEqual(lines[-1], "same: 4 entries aligned, nothing "
                         "differs")
        self.assertEqual(len(lines), 3, text)
        doc = self.diff_json(SEED, SEED, rc=0)
        self.assertEqual(doc, {"a": SEED, "b": SEED, "same": True,
                               "only_a": [], "only_b": [], "changed": [],
                               "counts": {"same": 4, "changed": 0,
                                          "only_a": 0, "only_b": 0}})

    def test_noise_is_not_a_difference(self):
        """Times, Date, Server, request ids, Connection, the JSON text's
        layout and the query's order are not differences."""
        doc = self.seed()
        for e in self.entries(doc):
            e["startedDateTime"] = "2030-01-01T00:00:00.000Z"
            e["time"] = 999.0
            e["response"]["headers"] = [
                h for h in e["response"]["headers"]
                if h["name"] not in ("Date", "Server")] + [
                {"name": "Date", "value": "Tue, 01 Jan 2030 00:00:00 GMT"},
                {"name": "X-Request-Id", "value": "r-1"},
                {"name": "Connection", "value": "close"}]
            e["request"]["headers"].append({"name": "X-Request-Id",
                                            "value": "q-1"})
        e = self.entries(doc)[FIXED]
        before = e["request"]["postData"]["text"]
        self.set_body(e, self.body(e))      # other spacing, same JSON
        self.assertNotEqual(before, e["request"]["postData"]["text"])
        self.diff_text(SEED, self.write("noise.har", doc), rc=0)

        doc = self.seed()
        e = self.entries(doc)[0]
        e["request"]["url"] += "&zz=1&aa=2"
        first = self.write("first.har", doc)
        base, query = e["request"]["url"].split("?", 1)
        e["request"]["url"] = base + "?" + "&".join(
            reversed(query.split("&")))
        self.diff_text(first, self.write("second.har", doc), rc=0)

    # -- the fixed PATCH changed --

    def test_changed_fixed_patch_names_the_pointer(self):
        b = self.write("regressed.har", self.changed_fixed_patch())
        text = self.diff_text(SEED, b)
        url = self.entries(self.seed())[FIXED]["request"]["url"]
        self.assert_lines(
            text,
            "~ PATCH %s (A #3, B #3)" % url,
            "    status 200 -> 400",
            '    request %s: "BOOKING_CANCELLED" -> "BOOKING_CANCELED" '
            "(new: not in A's body)" % ANCHOR,
            "    diagnosis appeared: error action.anchor.unknown %s"
            % ANCHOR,
            "different: 1 changed, 0 only in A, 0 only in B, 3 the same")
        self.assertEqual(sum(1 for line in text.splitlines()
                             if line.startswith(("~", "-", "+"))), 1, text)

        # The other way round: the fix, as a person reads it (A's body
        # has BOOKING_CANCELLED elsewhere: a plain value, not a new one).
        text = self.diff_text(b, SEED)
        self.assert_lines(
            text,
            "    status 400 -> 200",
            '    request %s: "BOOKING_CANCELED" -> "BOOKING_CANCELLED"'
            % ANCHOR,
            "    diagnosis gone: error action.anchor.unknown %s" % ANCHOR)

    def test_json_document(self):
        doc = self.changed_fixed_patch()
        # And a different API key on the first GET.
        for h in self.entries(doc)[0]["request"]["headers"]:
            if h["name"] == "Authorization":
                self.assertTrue(h["value"].startswith("redacted:"))
                h["value"] = "redacted:000000000000"
        b = self.write("regressed.har", doc)
        got = self.diff_json(SEED, b)
        seed = self.entries(self.seed())
        self.assertEqual((got["a"], got["b"], got["same"]), (SEED, b, False))
        self.assertEqual((got["only_a"], got["only_b"]), ([], []))
        self.assertEqual(got["counts"], {"same": 2, "changed": 2,
                                         "only_a": 0, "only_b": 0})
        first, fixed = got["changed"]
        self.assertEqual(first["headers"], [{
            "side": "request", "name": "Authorization", "op": "credential",
            "a": [h["value"] for h in seed[0]["request"]["headers"]
                  if h["name"] == "Authorization"][0],
            "b": "redacted:000000000000"}])
        self.assertEqual((first["request"], first["response"]), ([], []))
        self.assertNotIn("status", first)
        self.assertEqual(fixed["method"], "PATCH")
        self.assertEqual(fixed["url"], seed[FIXED]["request"]["url"])
        self.assertEqual((fixed["a_index"], fixed["b_index"]), (3, 3))
        self.assertEqual(fixed["status"], [200, 400])
        self.assertEqual(fixed["request"], [{
            "op": "enum", "path": ANCHOR, "a": "BOOKING_CANCELLED",
            "b": "BOOKING_CANCELED"}])
        self.assertEqual(fixed["response"], [])
        self.assertEqual(fixed["diagnoses"]["gone"], [])
        self.assertEqual([(d["code"], d["path"]) for d in
                          fixed["diagnoses"]["appeared"]],
                         [("action.anchor.unknown", ANCHOR)])
        self.assertNotIn("fault", fixed)
        # The text says it without the markers.
        text = self.diff_text(SEED, b)
        self.assertIn("    request header Authorization: a different "
                      "credential", text.splitlines())
        self.assertNotIn("redacted:000000000000", text)

    def test_response_and_header_differences(self):
        doc = self.seed()
        e = self.entries(doc)[FAILED]
        content = e["response"]["content"]
        answer = json.loads(content["text"])
        self.assertEqual(answer["errors"], [])
        answer["errors"] = [{"field": "actions[1].anchor"}]
        content["text"] = json.dumps(answer)
        e["response"]["headers"].append({"name": "Retry-After",
                                         "value": "30"})
        for h in e["response"]["headers"]:
            if h["name"] == "Content-Type":
                h["value"] = "application/problem+json"
        g = self.entries(doc)[0]
        g["response"]["content"]["text"] = "<html>maintenance</html>"
        b = self.write("b.har", doc)
        text = self.diff_text(SEED, b)
        seed_size = self.entries(self.seed())[0]["response"]["content"][
            "size"]
        self.assert_lines(
            text,
            "    response /errors/0: added "
            '{"field":"actions[1].anchor"}',
            '    response header Content-Type: "application/json" -> '
            '"application/problem+json"',
            '    response header Retry-After: added "30"',
            "    response body: text differs (%d -> 24 bytes)" % seed_size)

    # -- alignment --

    def test_entries_only_in_a_or_b(self):
        doc = self.seed()
        seed = self.entries(self.seed())
        removed = self.entries(doc).pop(2)
        extra = copy.deepcopy(seed[0])
        extra["request"]["method"] = "DELETE"
        extra["response"]["status"] = 204
        self.entries(doc).append(extra)
        b = self.write("b.har", doc)
        text = self.diff_text(SEED, b)
        self.assert_lines(
            text,
            "- GET %s (A #2): 200" % removed["request"]["url"],
            "+ DELETE %s (B #3): 204" % extra["request"]["url"],
            "different: 0 changed, 1 only in A, 1 only in B, 3 the same")
        got = self.diff_json(SEED, b)
        self.assertEqual(got["only_a"], [{
            "index": 2, "method": "GET", "url": removed["request"]["url"],
            "status": 200}])
        self.assertEqual(got["only_b"], [{
            "index": 3, "method": "DELETE", "url": extra["request"]["url"],
            "status": 204}])
        self.assertEqual(got["changed"], [])
        # An empty cassette: everything is only in A.
        empty = self.seed()
        empty["log"]["entries"] = []
        e = self.write("empty.har", empty)
        got = self.diff_json(SEED, e)
        self.assertEqual([x["index"] for x in got["only_a"]], [0, 1, 2, 3])
        self.diff_text(e, e, rc=0)

    def test_reordered_requests(self):
        """Different requests in another order are the same session;
        identical requests pair in recorded order, the k-th with the
        k-th."""
        doc = self.seed()
        es = self.entries(doc)
        es[0], es[2] = es[2], es[0]
        self.diff_text(SEED, self.write("swapped.har", doc), rc=0)

        # Two identical GETs whose answers differ, then swapped.
        doc = self.seed()
        es = self.entries(doc)
        again = copy.deepcopy(es[2])
        answer = json.loads(again["response"]["content"]["text"])
        answer["actions"][0]["title"] = "Renamed"
        again["response"]["content"]["text"] = json.dumps(answer)
        es.insert(3, again)
        a = self.write("twice.har", doc)
        self.diff_text(a, self.write("twice-again.har", doc), rc=0)
        es[2], es[3] = es[3], es[2]
        b = self.write("twice-swapped.har", doc)
        got = self.diff_json(a, b)
        self.assertEqual([(c["a_index"], c["b_index"]) for c in
                          got["changed"]], [(2, 2), (3, 3)])
        self.assertEqual([[(op["op"], op["path"]) for op in c["response"]]
                          for c in got["changed"]],
                         [[("value", "/actions/0/title")]] * 2)
        self.assertEqual(got["changed"][0]["response"][0]["b"], "Renamed")

    def test_other_origin_aligns_by_path(self):
        doc = self.seed()
        origin = self.entries(doc)[0]["request"]["url"].split("/v1/")[0]
        for e in self.entries(doc):
            e["request"]["url"] = e["request"]["url"].replace(
                origin, "http://127.0.0.1:9")
        text = self.diff_text(SEED, self.write("moved.har", doc))
        self.assert_lines(
            text,
            "origin %s -> http://127.0.0.1:9 (entries aligned by path and "
            "query)" % origin,
            "different: 0 changed, 0 only in A, 0 only in B, 4 the same")
        self.assertFalse([line for line in text.splitlines()
                          if line.startswith(("~", "-", "+"))], text)

    def test_two_live_recordings(self):
        """The seed story recorded twice through `patchscope record`
        against the fake API: the same; then a run whose fix went wrong."""
        fake = self.start_fake()

        def story(name, fixed_anchor):
            har = os.path.join(self.tmp, name)
            rec = self.start_ps("record", "-c", har)
            s = self.session(rec)
            url = fake.url + PROFILE
            r = s.get(url, params={"fields": GET_FIELDS}, auth=AUTH)
            fetched = r.json()["actions"]
            r = s.patch(url, params={"fields": PATCH_FIELDS}, auth=AUTH,
                        json={"actions": [fetched[0], NEW_WEBHOOK]})
            self.assertEqual(r.status_code, 400)
            r = s.get(url, params={"fields": "actions.*"}, auth=AUTH)
            actions = r.json()["actions"]
            fixed = dict(NEW_WEBHOOK, anchor=fixed_anchor)
            r = s.patch(url, auth=AUTH, json={"actions": actions + [fixed]})
            self.assertEqual(rec.stop(signal.SIGTERM, T(8)), 0, rec.log())
            fake.reset()
            return har, r.status_code

        a, status = story("a.har", "BOOKING_CANCELLED")
        self.assertEqual(status, 200)
        b, _ = story("b.har", "BOOKING_CANCELLED")
        text = self.diff_text(a, b, rc=0)
        self.assertEqual(text.splitlines()[-1],
                         "same: 4 entries aligned, nothing differs")
        c, status = story("c.har", "BOOKING_CANCELED")
        self.assertEqual(status, 400)
        got = self.diff_json(a, c)
        self.assertEqual(got["counts"], {"same": 3, "changed": 1,
                                         "only_a": 0, "only_b": 0})
        fixed = got["changed"][0]
        self.assertEqual((fixed["method"], fixed["a_index"],
                          fixed["status"]), ("PATCH", 3, [200, 400]))
        self.assertIn({"op": "enum", "path": ANCHOR,
                       "a": "BOOKING_CANCELLED", "b": "BOOKING_CANCELED"},
                      fixed["request"])
        self.assertIn(("action.anchor.unknown", ANCHOR),
                      [(d["code"], d["path"]) for d in
                       fixed["diagnoses"]["appeared"]])
        # The answer changed too: a profile, then the API's error.
        self.assertTrue(fixed["response"], fixed)

    def test_faults(self):
        """A fault recorded on an entry (`_fault`) that the other run did
        not have, or another one, is a difference; an entry with no answer
        (a reset) says so. Needs a loader that keeps `_fault`: `show
        --json` tells."""
        doc = self.seed()
        es = self.entries(doc)
        es[0]["_fault"] = "status:503"
        es[FIXED]["_fault"] = "reset"
        es[FIXED]["response"]["status"] = 0
        b = self.write("faulted.har", doc)
        cp = self.run_ps("show", "--json", b)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        if "fault" not in json.loads(cp.stdout.splitlines()[0]):
            self.skipTest("this build's cassette loader drops _fault")
        text = self.diff_text(SEED, b)
        self.assert_lines(
            text,
            "    fault none -> status:503",
            "    status 200 -> none",
            "    fault none -> reset",
            "different: 2 changed, 0 only in A, 0 only in B, 2 the same")
        got = self.diff_json(SEED, b)
        self.assertEqual([c.get("fault") for c in got["changed"]],
                         [[None, "status:503"], [None, "reset"]])
        es[0]["_fault"] = "latency:100"
        got = self.diff_json(b, self.write("other.har", doc))
        self.assertEqual([(c["a_index"], c["fault"]) for c in
                          got["changed"]], [(0, ["status:503",
                                                 "latency:100"])])
        self.diff_text(b, b, rc=0)

    # -- hostile and bad input --

    def test_hostile_cassette_is_printed_escaped(self):
        """Escape sequences in a URL, header, body or diagnosis are shown,
        never sent to the terminal as they are."""
        doc = self.seed()
        es = self.entries(doc)
        evil = copy.deepcopy(es[0])
        evil["request"]["url"] = evil["request"]["url"].replace(
            "/profiles/p1", "/profiles/\u009b2J\u009d0;x")
        es.append(evil)
        e = es[FIXED]
        body = self.body(e)
        body["actions"][0]["title"] = "\u001b[2J\u001b]0;pwned\u0007\u007f"
        self.set_body(e, body)
        e["response"]["headers"].append({"name": "Location",
                                         "value": "/x\u001b[31m\u0085"})
        e["_diagnoses"] = [{"severity": "error\u001b[5m",
                            "code": "x.\u001b]2;t\u0007", "path": "/\u009b"}]
        b = self.write("evil.har", doc)
        rc, out, err = self.diff(SEED, b)
        self.assertEqual(rc, 1, err)
        for raw in (b"\x1b", b"\x07", b"\x7f", b"\xc2\x9b", b"\xc2\x9d",
                    b"\xc2\x85"):
            self.assertNotIn(raw, out)
        text = out.decode("utf-8")
        self.assertIn("/profiles/\\u009b2J\\u009d0;x?fields=", text)
        self.assertIn("(B #4): 200", text)
        self.assertIn('"\\u001B[2J\\u001B]0;pwned\\u0007\\x7f"', text)
        self.assertIn('response header Location: added '
                      '"/x\\u001B[31m\\u0085"', text)
        self.assertIn("diagnosis appeared: error\\x1b[5m x.\\x1b]2;t\\x07 "
                      "/\\u009b", text)
        # The JSON is ASCII, and gives the strings back as they were.
        rc, out, err = self.diff("--json", SEED, b)
        self.assertEqual(rc, 1, err)
        self.assertTrue(all(c < 0x7f and (c >= 0x20 or c == 0x0a)
                            for c in out), "printable ASCII only")
        got = json.loads(out)
        self.assertEqual(got["only_b"][0]["url"], evil["request"]["url"])
        self.assertEqual(got["changed"][0]["request"][0]["b"],
                         body["actions"][0]["title"])

    def test_long_values_are_cut(self):
        doc = self.seed()
        e = self.entries(doc)[FIXED]
        body = self.body(e)
        body["actions"][0]["title"] = "x" * 100000
        self.set_body(e, body)
        text = self.diff_text(SEED, self.write("long.har", doc))
        line = [x for x in text.splitlines()
                if x.startswith("    request /actions/0/title")][0]
        self.assertTrue(line.endswith('-> "' + "x" * 59 + "..."), line)
        self.assertLess(len(line), 200)

    def test_bad_input_is_one_line_and_exit_2(self):
        missing = os.path.join(self.tmp, "missing.har")
        self.assert_refused([SEED, missing], missing)
        self.assert_refused([missing, SEED], missing)
        notjson = os.path.join(self.tmp, "notes.txt")
        with open(notjson, "w") as f:
            f.write("these are my notes, not a cassette\n")
        self.assert_refused([SEED, notjson], notjson)
        nothar = self.write("other.json", {"log": {"pages": []}})
        self.assert_refused([nothar, SEED], nothar)
        badentry = self.seed()
        del self.entries(badentry)[2]["request"]["url"]
        bad = self.write("bad-entry.har", badentry)
        line = self.assert_refused([SEED, bad], bad, "entry 2")
        self.assertIn("url", line)
        self.assert_refused([], "missing A and B", "diff --help")
        self.assert_refused([SEED], "missing A and B")
        self.assert_refused([SEED, SEED, SEED], "more than two")
        self.assert_refused(["--values", SEED, SEED], "--values")
        self.assert_refused(["-c", SEED, SEED, SEED])
        self.assert_refused([self.tmp, SEED], self.tmp)

    def test_help(self):
        rc, out, err = self.diff("--help")
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("Usage: patchscope diff [--json] A B", text)
        self.assertIn("--json", text)
        self.assertIn("Exit status: 0 the same, 1 different, 2", text)


if __name__ == "__main__":
    harness.main()
