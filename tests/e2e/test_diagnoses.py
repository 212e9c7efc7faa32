#!/usr/bin/python3
"""Diagnoses through the real binary: the seed thread's story (a GET with
`fields`, a PATCH with a partial actions array and BOOKING_CANCELED, then
the corrected PATCH) over HTTP and HTTPS with curl and requests; the
diagnosis headers, the API's errors array, the log; --guard, --no-annotate,
--log-json; and `patchscope lint` exit codes and output."""

import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402

from harness import (AUTH, GET_FIELDS, NEW_WEBHOOK, PATCH_FIELDS,  # noqa
                     PROFILE)

class SeedStory(harness.TestCase):
    """The thread, replayed through the proxy."""

    tls = False

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake(tls=self.tls)
        args = ("--upstream-ca", self.fake_ca.cert) if self.tls else ()
        self.proxy = self.start_proxy(*args)

    def url(self, path):
        return self.fake.url + path

    def client(self):
        if self.tls:
            return self.https_session(self.proxy)
        return self.session(self.proxy)

    def all_actions(self, s):
        r = s.get(self.url(PROFILE), params={"fields": "actions.*"},
                  auth=AUTH, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        return r.json()["actions"]

    def test_partial_patch_with_misspelt_anchor_is_explained(self):
        s = self.client()
        r = s.get(self.url(PROFILE), params={"fields": GET_FIELDS},
                  auth=AUTH, timeout=T(10))
        self.assertEqual(r.status_code, 200)
        fetched = r.json()["actions"]
        # Keep one webhook as fetched, drop the others, add the new one.
        r = s.patch(self.url(PROFILE), params={"fields": PATCH_FIELDS},
                    auth=AUTH, json={"actions": [fetched[0], NEW_WEBHOOK]},
                    timeout=T(10))
        self.assertEqual(r.status_code, 400)
        hdrs = r.raw.headers.getlist("X-Patchscope-Diagnosis")
        self.assertIn("error actions.partial /actions", hdrs)
        self.assertIn("error action.anchor.unknown /actions/1/anchor", hdrs)
        self.assertEqual(int(r.headers["X-Patchscope-Diagnoses"]),
                         len(r.json()["errors"]))
        body = r.json()
        # The API's own answer is kept, its empty errors list filled in.
        self.assertEqual(body["code"], "caligraph_invalid_payload")
        by_code = {e["code"]: e for e in body["errors"]}
        for e in body["errors"]:
            self.assertEqual(e["source"], "patchscope")
        partial = by_code["actions.partial"]
        self.assertEqual(partial["severity"], "error")
        self.assertEqual(partial["path"], "/actions")
        for missing in ("act_2", "act_3"):
            self.assertIn(missing, partial["message"])
        self.assertNotIn("act_1", partial["message"])
        anchor = by_code["action.anchor.unknown"]
        self.assertEqual(anchor["suggestion"], "BOOKING_CANCELLED")
        self.assertIn("query.fields.ignored", by_code)
        self.assertEqual(int(r.headers["Content-Length"]), len(r.content))
        # The log says it compiler style, under the exchange line.
        self.wait_log(self.proxy, r'error\[action\.anchor\.unknown\] '
                      r'/actions/1/anchor: .*BOOKING_CANCELED.*'
                      r'BOOKING_CANCELLED')
        self.wait_log(self.proxy, r'error\[actions\.partial\] /actions: '
                      r'.*act_2.*act_3')
        # Nothing changed at the API.
        self.assertEqual([a["id"] for a in self.all_actions(s)],
                         ["act_1", "act_2", "act_3"])

    def test_corrected_patch_is_clean_and_applied(self):
        s = self.client()
        actions = self.all_actions(s)
        fixed = dict(NEW_WEBHOOK, anchor="BOOKING_CANCELLED")
        r = s.patch(self.url(PROFILE), params={"fields": "id,actions.id"},
                    auth=AUTH, json={"actions": actions + [fixed]},
                    timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        hdrs = r.raw.headers.getlist("X-Patchscope-Diagnosis")
        self.assertEqual([h for h in hdrs if not h.startswith("info ")], [],
                         hdrs)
        self.assertEqual(len(r.json()["actions"]), 4)

    def test_accepted_patch_that_deletes_actions_is_reported(self):
        s = self.client()
        actions = self.all_actions(s)
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": [actions[0]]}, timeout=T(10))
        # The API takes it silently: the data loss users fear most.
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertIn("error actions.partial /actions",
                      r.raw.headers.getlist("X-Patchscope-Diagnosis"))
        self.wait_log(self.proxy, r"accepted a PATCH .* deleted")

    def test_a_get_without_the_ids_is_not_taken_for_a_snapshot_of_ids(self):
        """No earlier GET of the profile: actions.partial is never
        claimed without knowledge."""
        s = self.client()
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": [dict(NEW_WEBHOOK,
                                           anchor="BOOKING_CANCELLED")]},
                    timeout=T(10))
        codes = [h.split()[1] for h in
                 r.raw.headers.getlist("X-Patchscope-Diagnosis")]
        self.assertNotIn("actions.partial", codes)


    def test_seed_patch_with_curl(self):
        """The thread's client was curl-like: the same answer with curl."""
        s = self.client()
        s.get(self.url(PROFILE), params={"fields": GET_FIELDS}, auth=AUTH,
              timeout=T(10))
        args = ["-sS", "-D", "-", "-u", "%s:%s" % AUTH, "-X", "PATCH",
                "-H", "Content-Type: application/json",
                "--data-binary", json.dumps({"actions": [NEW_WEBHOOK]}),
                self.url(PROFILE + "?fields=" + PATCH_FIELDS)]
        if self.tls:
            args = ["--cacert", self.patchscope_ca()] + args
        cp = self.curl(self.proxy, *args, check=True)
        out = cp.stdout.decode()
        # Over HTTPS, curl -D shows the CONNECT answer first.
        if out.startswith("HTTP/1.1 200 Connection established"):
            out = out.partition("\r\n\r\n")[2]
        head, _, body = out.partition("\r\n\r\n")
        self.assertRegex(head, r"^HTTP/1.1 400")
        self.assertIn("X-Patchscope-Diagnosis: error actions.partial "
                      "/actions", head)
        self.assertIn("X-Patchscope-Diagnosis: error "
                      "action.anchor.unknown /actions/0/anchor", head)
        doc = json.loads(body)
        partial = [e for e in doc["errors"]
                   if e["code"] == "actions.partial"][0]
        for missing in ("act_1", "act_2", "act_3"):
            self.assertIn(missing, partial["message"])

    def test_secrets_never_reach_the_log(self):
        """Webhook header values (receivers' tokens), the API key and
        secret-looking query values stay out of the log, diagnoses
        included."""
        s = self.client()
        self.all_actions(s)
        bad = dict(NEW_WEBHOOK, headers={"x-auth-token": "TOKEN-SECRET-1",
                                         "n": 5, "other": "TOKEN-SECRET-2"})
        s.patch(self.url(PROFILE + "?api_key=TOKEN-SECRET-3"),
                auth=("acc1", "TOKEN-SECRET-4"),
                json={"actions": [bad], "headers": {
                    "x-auth-token": "TOKEN-SECRET-5"}}, timeout=T(10))
        self.wait_log(self.proxy, r"action\.headers\.type")
        self.assertNotIn("TOKEN-SECRET", self.proxy.log())


class SeedStoryHttps(SeedStory):
    tls = True


class NewUserSlips(harness.TestCase):
    """Payloads a new user sends: the actions array bare, the body encoded
    twice, a webhook template with a placeholder left outside quotes.
    Through the proxy the diagnosis reaches the headers, the API's errors
    array and the log, as any other does."""

    tls = False

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake(tls=self.tls)
        args = ("--upstream-ca", self.fake_ca.cert) if self.tls else ()
        self.proxy = self.start_proxy(*args)

    def url(self, path):
        return self.fake.url + path

    def client(self):
        if self.tls:
            return self.https_session(self.proxy)
        return self.session(self.proxy)

    def test_bare_actions_array_is_told_to_be_wrapped(self):
        s = self.client()
        fixed = dict(NEW_WEBHOOK, anchor="BOOKING_CANCELLED")
        r = s.patch(self.url(PROFILE), auth=AUTH, json=[fixed],
                    timeout=T(10))
        # The fake, as the API, answers its bare 400.
        self.assertEqual(r.status_code, 400, r.text[:300])
        self.assertEqual(r.raw.headers.getlist("X-Patchscope-Diagnosis"),
                         ["error body.not-object"])
        errors = r.json()["errors"]
        self.assertEqual(len(errors), 1, errors)
        self.assertEqual(errors[0]["code"], "body.not-object")
        self.assertEqual(errors[0]["path"], "")
        self.assertEqual(errors[0]["suggestion"], '{"actions": [...]}')
        self.assertIn("the body is a JSON array, but the API expects an "
                      "object", errors[0]["message"])
        self.wait_log(self.proxy, r'error\[body\.not-object\]: the body is '
                      r'a JSON array, .*did you mean '
                      r'"\{\\"actions\\": \[\.\.\.\]\}"\?')
        # Wrapped, it goes through.
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": [fixed]}, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertNotIn("error body.not-object",
                         r.raw.headers.getlist("X-Patchscope-Diagnosis"))

    def test_body_encoded_twice_is_named(self):
        s = self.client()
        # requests' json= given a JSON text: it is encoded again.
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json=json.dumps({"title": "Discovery call"}),
                    timeout=T(10))
        self.assertEqual(r.status_code, 400, r.text[:300])
        (err,) = r.json()["errors"]
        self.assertEqual(err["code"], "body.not-object")
        self.assertIn("encoded twice", err["message"])

    def test_unquoted_placeholder_with_curl(self):
        s = self.client()
        kept = s.get(self.url(PROFILE), params={"fields": "actions.*"},
                     auth=AUTH, timeout=T(10)).json()["actions"]
        hook = dict(NEW_WEBHOOK, anchor="BOOKING_CANCELLED",
                    body='{"startsAt": {START-LOCAL-DATE}, '
                         '"email": "{EMAIL}"}')
        args = ["-sS", "-D", "-", "-o", "/dev/null", "-u", "%s:%s" % AUTH,
                "-X", "PATCH", "-H", "Content-Type: application/json",
                "--data-binary", json.dumps({"actions": kept + [hook]}),
                self.url(PROFILE)]
        if self.tls:
            args = ["--cacert", self.patchscope_ca()] + args
        out = self.curl(self.proxy, *args, check=True).stdout.decode()
        self.assertIn("X-Patchscope-Diagnosis: error action.webhook.body "
                      "/actions/3/body\r\n", out)
        self.wait_log(self.proxy, r'error\[action\.webhook\.body\] '
                      r'/actions/3/body: placeholder \{START-LOCAL-DATE\} '
                      r'at line 1, column 14 of the template is not inside '
                      r'quotes.*did you mean "\\"\{START-LOCAL-DATE\}'
                      r'\\""\?')
        # Quoted, nothing is said of the body. (The fake, unlike the
        # API, took the bare one: the kept actions go back as they were.)
        hook["body"] = '{"startsAt": "{START-LOCAL-DATE}"}'
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": kept + [hook]}, timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])
        self.assertEqual([h for h in r.raw.headers.getlist(
            "X-Patchscope-Diagnosis") if not h.startswith("info ")], [])


class NewUserSlipsHttps(NewUserSlips):
    tls = True


class Modes(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = self.start_fake()

    def url(self, path):
        return self.fake.url + path

    def prime(self, s):
        r = s.get(self.url(PROFILE), params={"fields": "actions.*"},
                  auth=AUTH, timeout=T(10))
        return r.json()["actions"]

    def test_guard_keeps_a_bad_patch_from_the_api(self):
        proxy = self.start_proxy("--guard")
        s = self.session(proxy)
        actions = self.prime(s)
        self.fake.reset()
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": [actions[0], NEW_WEBHOOK]},
                    timeout=T(10))
        self.assertEqual(r.status_code, 422, r.text[:300])
        doc = r.json()
        self.assertEqual(doc["type"], "PatchscopeGuard")
        self.assertEqual(doc["code"], "patchscope_guard")
        self.assertEqual(doc["status"], "UNPROCESSABLE_ENTITY")
        self.assertEqual(doc["httpStatusCode"], 422)
        codes = {e["code"] for e in doc["errors"]}
        self.assertTrue({"actions.partial", "action.anchor.unknown"} <= codes)
        self.assertIn("error actions.partial /actions",
                      r.raw.headers.getlist("X-Patchscope-Diagnosis"))
        # The fake never saw it, and its state is unchanged.
        self.assertEqual(self.fake.requests_for(PROFILE), 0)
        self.assertEqual([a["id"] for a in self.prime(s)],
                         ["act_1", "act_2", "act_3"])
        # A clean PATCH (chunked, as a generator body) goes through.
        fixed = json.dumps({"actions": actions}).encode()
        r = s.patch(self.url(PROFILE), auth=AUTH, data=iter([fixed]),
                    headers={"Content-Type": "application/json"},
                    timeout=T(10))
        self.assertEqual(r.status_code, 200, r.text[:300])

    def test_no_annotate_changes_nothing_but_still_logs(self):
        proxy = self.start_proxy("--no-annotate")
        s = self.session(proxy)
        actions = self.prime(s)
        r = s.patch(self.url(PROFILE), auth=AUTH,
                    json={"actions": [actions[0], NEW_WEBHOOK]},
                    timeout=T(10))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["errors"], [])
        self.assertNotIn("X-Patchscope-Diagnosis", r.headers)
        self.wait_log(proxy, r"error\[action\.anchor\.unknown\]")

    def test_log_json_has_one_record_with_the_diagnoses(self):
        proxy = self.start_proxy("--log-json")
        s = self.session(proxy)
        self.prime(s)
        s.patch(self.url(PROFILE), auth=AUTH,
                json={"actions": [NEW_WEBHOOK]}, timeout=T(10))
        m = self.wait_log(proxy, r'(?m)^\{.*"method":"PATCH".*$')
        rec = json.loads(m.group(0))
        self.assertEqual(rec["status"], 400)
        codes = {d["code"] for d in rec["diagnoses"]}
        self.assertIn("action.anchor.unknown", codes)
        self.assertIn("actions.partial", codes)


class Lint(harness.TestCase):

    def lint(self, *args, stdin=None):
        cp = subprocess.run([harness.PATCHSCOPE, "lint"] + list(args),
                            input=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=harness.clean_env(),
                            timeout=T(20))
        return cp.returncode, cp.stdout.decode(), cp.stderr.decode()

    def write(self, name, obj):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return path

    def snapshot(self):
        return {"id": "p1", "actions": [
            {"id": "act_1", "type": "WEBHOOK", "anchor": "BOOKING_CREATED",
             "status": "TEMPLATE", "offsetMinutes": 0, "title": "t",
             "to": "https://crm.example.com/h", "subject": "POST",
             "body": '{"id": "{ID}"}', "attachIcs": False},
            {"id": "act_2", "type": "WEBHOOK", "anchor": "BOOKING_CREATED",
             "status": "TEMPLATE", "offsetMinutes": 0, "title": "t2",
             "to": "https://crm.example.com/h2", "subject": "POST",
             "body": '{"ref": "{REF}"}', "attachIcs": False}]}

    def test_seed_payload_with_snapshot(self):
        snap = self.write("snap.json", self.snapshot())
        payload = self.write("patch.json", {"actions": [
            self.snapshot()["actions"][0], NEW_WEBHOOK]})
        rc, out, err = self.lint("--snapshot", snap, payload)
        self.assertEqual(rc, 1, err)
        self.assertRegex(out, r'(?m)^error\[actions\.partial\] /actions: '
                         r'.*act_2')
        self.assertRegex(out, r'(?m)^error\[action\.anchor\.unknown\] '
                         r'/actions/1/anchor: .*did you mean '
                         r'"BOOKING_CANCELLED"\?')
        rc, out, err = self.lint("--json", "--snapshot", snap, payload)
        self.assertEqual(rc, 1)
        doc = json.loads(out)
        self.assertEqual(set(doc), {"diagnoses"})
        self.assertIn("actions.partial",
                      {d["code"] for d in doc["diagnoses"]})

    def test_clean_payload_from_stdin_exits_0(self):
        full = {"actions": self.snapshot()["actions"]}
        rc, out, err = self.lint("--snapshot", self.write(
            "snap.json", self.snapshot()), "-",
            stdin=json.dumps(full).encode())
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out, "")

    def test_not_json_is_a_finding_not_an_io_error(self):
        rc, out, err = self.lint("-", stdin=b'{"actions": [1,}')
        self.assertEqual(rc, 1, err)
        self.assertRegex(out, r"^error\[json\.syntax\]: .*line 1")

    def test_not_an_object_and_unquoted_placeholder_are_findings(self):
        rc, out, err = self.lint("-", stdin=json.dumps(
            [NEW_WEBHOOK]).encode())
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, 'error[body.not-object]: the body is a JSON '
                         'array, but the API expects an object: its items '
                         'are actions, so wrap the array as {"actions": '
                         '[...]}; did you mean "{\\"actions\\": [...]}"?\n')
        rc, out, err = self.lint("--json", "-", stdin=b"null")
        self.assertEqual(rc, 1, err)
        (d,) = json.loads(out)["diagnoses"]
        self.assertEqual((d["code"], d["path"], d["severity"]),
                         ("body.not-object", "", "error"))
        self.assertNotIn("suggestion", d)
        hook = dict(NEW_WEBHOOK, anchor="BOOKING_CANCELLED",
                    body='{"id": "{ID}",\n "startsAt": {START-LOCAL-DATE}}')
        rc, out, err = self.lint("--json", "-", stdin=json.dumps(
            {"actions": [hook]}).encode())
        self.assertEqual(rc, 1, err)
        (d,) = json.loads(out)["diagnoses"]
        self.assertEqual(d["code"], "action.webhook.body")
        self.assertEqual(d["path"], "/actions/0/body")
        self.assertIn("{START-LOCAL-DATE} at line 2, column 14",
                      d["message"])
        self.assertEqual(d["suggestion"], '"{START-LOCAL-DATE}"')

    def test_usage_and_io_errors_exit_2(self):
        rc, out, err = self.lint()
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith("patchscope: "), err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        rc, out, err = self.lint(os.path.join(self.tmp, "missing.json"))
        self.assertEqual(rc, 2)
        self.assertIn("missing.json", err)
        rc, out, err = self.lint("--snapshot", self.write("bad.json", "[1"),
                                 "-", stdin=b"{}")
        self.assertEqual(rc, 2)
        self.assertIn("bad.json", err)
        rc, out, err = self.lint("--bogus", "-")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    harness.main()
