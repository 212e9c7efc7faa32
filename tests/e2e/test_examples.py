#!/usr/bin/env python3
"""The examples of docs/testing.md (tests/examples/), run for real.

Each example runs through the real binary against its checked-in cassette
and must pass; then the cassette is changed (a recorded answer, an extra
entry) and the same example must fail, so none can pass without looking
at what patchscope served.
"""

import json
import os
import shutil
import subprocess

import harness
from harness import T

EXAMPLES = os.path.join(harness.SRCDIR, "tests", "examples")
# Debian's python3 has python3-pytest and python3-requests (bootstrap).
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else \
    harness.PYTHON
NODE = shutil.which("node")
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


class Examples(harness.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.tmp, "examples")
        shutil.copytree(EXAMPLES, self.dir, ignore=shutil.ignore_patterns(
            "__pycache__", ".pytest_cache"))
        self.har = os.path.join(self.dir, "profile-api.har")

    def need_pytest(self):
        cp = subprocess.run([PY, "-c", "import pytest, requests"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
        if cp.returncode != 0:
            self.skipTest("python3-pytest or python3-requests is not "
                          "installed")

    def run_example(self, argv):
        """Run argv in the examples' copy; returns (status, output)."""
        env = harness.clean_env({"PATCHSCOPE": harness.PATCHSCOPE,
                                 "PATCHSCOPE_HOME": self.ps_home,
                                 "PYTHONDONTWRITEBYTECODE": "1"})
        if harness.SANITIZED:
            env.setdefault("ASAN_OPTIONS", "abort_on_error=0:exitcode=23")
        cp = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, timeout=T(60))
        out = cp.stdout.decode("utf-8", "replace")
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, out, out)
        return cp.returncode, out

    def under(self, *cmd):
        return [harness.PATCHSCOPE, "replay", "-c", self.har, "--strict",
                "--"] + list(cmd)

    def change_cassette(self, how):
        with open(self.har) as f:
            doc = json.load(f)
        entries = doc["log"]["entries"]
        if how == "answer":
            content = entries[0]["response"]["content"]
            self.assertIn("Discovery call", content["text"])
            content["text"] = content["text"].replace("Discovery call",
                                                      "Discovery talk")
        else:               # an entry that no example asks for
            extra = json.loads(json.dumps(entries[0]))
            extra["request"]["url"] = extra["request"]["url"].replace(
                "/p1?", "/p2?")
            entries.append(extra)
        with open(self.har, "w") as f:
            json.dump(doc, f, indent=2)

    def test_pytest_fixture_starts_and_checks_replay(self):
        self.need_pytest()
        pytest = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "test_profile_fixture.py"]
        rc, out = self.run_example(pytest)
        self.assertEqual(rc, 0, out)
        self.assertIn("2 passed", out)
        self.change_cassette("unused")
        rc, out = self.run_example(pytest)
        self.assertEqual(rc, 1, out)
        self.assertIn("2 passed, 1 error", out)
        self.assertIn("the cassette is stale", out)
        self.assertIn("/v1/acc1/profiles/p2", out)
        self.change_cassette("answer")
        rc, out = self.run_example(pytest)
        self.assertEqual(rc, 1, out)
        self.assertIn("Discovery talk", out)
        self.assertIn("1 failed", out)

    def test_pytest_under_patchscope(self):
        self.need_pytest()
        argv = self.under(PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_profile_under.py")
        rc, out = self.run_example(argv)
        self.assertEqual(rc, 0, out)
        self.assertIn("1 passed", out)
        self.assertIn("3 served, 0 never used, 0 request(s) missed", out)
        # Without patchscope the file says how to run it.
        rc, out = self.run_example(argv[argv.index("--") + 1:])
        self.assertEqual(rc, 0, out)
        self.assertIn("1 skipped", out)
        self.change_cassette("unused")
        rc, out = self.run_example(argv)
        self.assertEqual(rc, 1, out)
        self.assertIn("1 passed", out)
        self.assertIn("1 never used", out)
        self.change_cassette("answer")
        rc, out = self.run_example(argv)
        self.assertEqual(rc, 1, out)
        self.assertIn("Discovery talk", out)
        self.assertIn("1 failed", out)

    def test_node_test_runner_under_patchscope(self):
        if NODE is None:
            self.skipTest("nodejs is not installed")
        argv = self.under(NODE, "--test", "profile.test.mjs")
        rc, out = self.run_example(argv)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"# pass 1\b")
        self.assertIn("3 served, 0 never used, 0 request(s) missed", out)
        self.change_cassette("answer")
        rc, out = self.run_example(argv)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"# fail 1\b")
        self.assertIn("Discovery talk", out)


if __name__ == "__main__":
    harness.main()
