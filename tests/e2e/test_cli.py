#!/usr/bin/python3
"""The command line of `patchscope`: --help and --version, usage errors
(exit 2 with one `patchscope: ...` line naming the cause), the listening
line, an address already in use, and option values that are accepted."""

import os
import re
import socket
import subprocess
import sys

sys.dont_write_bytecode = True      # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import T  # noqa: E402

SERVING_OPTIONS = ("--listen", "--connect-timeout", "--response-timeout",
                   "--idle-timeout", "--header-timeout", "--max-header-bytes",
                   "--max-body-buffer", "--max-connections", "--verbose",
                   "--quiet", "--ca-dir", "--upstream-ca",
                   "--insecure-upstream", "--no-intercept", "--guard",
                   "--no-annotate", "--log-json", "--rules")


class Cli(harness.TestCase):

    def run_ps(self, *args, timeout=None):
        cp = subprocess.run([harness.PATCHSCOPE] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=harness.clean_env(),
                            timeout=timeout or T(10))
        return cp.returncode, cp.stdout.decode(), cp.stderr.decode()

    def assert_usage_error(self, args, *must_mention):
        try:
            rc, out, err = self.run_ps(*args, timeout=T(5))
        except subprocess.TimeoutExpired:
            self.fail("patchscope %s did not exit (it should refuse)" %
                      " ".join(args))
        self.assertEqual(rc, 2, "patchscope %s: exit %d, stderr %r"
                         % (" ".join(args), rc, err))
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertTrue(lines, "a message on stderr")
        self.assertTrue(lines[0].startswith("patchscope: "), lines[0])
        # DESIGN.md: exactly one line, naming the cause.
        self.assertEqual(len(lines), 1, "one line names the cause, got %r"
                         % err)
        for word in must_mention:
            self.assertIn(word.lower(), lines[0].lower(),
                          "the message names the cause")
        self.assertNotIn("listening on", out)
        return lines[0]

    def test_help(self):
        for args in (["--help"], ["-h"]):
            rc, out, err = self.run_ps(*args)
            self.assertEqual(rc, 0, err)
            self.assertIn("proxy", out)
            self.assertRegex(out, r"(?i)usage")
        rc, out, err = self.run_ps("proxy", "--help")
        self.assertEqual(rc, 0, err)
        for opt in SERVING_OPTIONS:
            self.assertIn(opt, out)
        self.assertIn("127.0.0.1:8080", out, "the default listen address")

    def test_man_page_documents_every_option_and_command(self):
        """--help and the man page agree: every option `proxy --help`
        lists, and every command `--help` lists, is in patchscope(1)."""
        man_path = os.path.join(harness.SRCDIR, "docs", "patchscope.1")
        with open(man_path) as f:
            man = f.read().replace("\\-", "-")
        for cmd in ("proxy", "record", "replay"):
            rc, out, err = self.run_ps(cmd, "--help")
            self.assertEqual(rc, 0, err)
            opts = set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z-]+)",
                                  out))
            self.assertTrue(set(SERVING_OPTIONS) <= opts, sorted(opts))
            for opt in opts:
                self.assertIn(opt, man,
                              "%s is missing from the man page" % opt)
        rc, out, err = self.run_ps("--help")
        cmds = re.findall(r"(?m)^  ([a-z]+) {2,}", out)
        for cmd in ("proxy", "record", "replay", "show", "lint", "ca",
                    "env"):
            self.assertIn(cmd, cmds)
        for cmd in cmds:
            self.assertRegex(man, r"\.B %s\b" % cmd)
        for cmd in ("ca", "env", "lint", "record", "replay", "show"):
            rc, out, err = self.run_ps(cmd, "--help")
            self.assertEqual(rc, 0, err)
            self.assertRegex(out, r"(?i)usage: patchscope %s" % cmd)

    def test_version(self):
        rc, out, err = self.run_ps("--version")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.splitlines()[0], r"^patchscope \d+\.\d+")

    def test_unknown_option(self):
        self.assert_usage_error(["proxy", "--no-such-option"],
                                "no-such-option")
        self.assert_usage_error(["--no-such-option"], "no-such-option")

    def test_cassette_options_belong_to_their_commands(self):
        """record and replay need -c; the cassette options are refused
        where they mean nothing, with a line that says so."""
        har = os.path.join(self.tmp, "x.har")
        self.assert_usage_error(["record"], "missing -c FILE")
        self.assert_usage_error(["replay"], "missing -c FILE")
        self.assert_usage_error(["proxy", "-c", har],
                                "for record and replay only")
        self.assert_usage_error(["record", "-c", har, "--strict"],
                                "--strict is for replay only")
        self.assert_usage_error(["replay", "-c", har,
                                 "--fallback=bogus"], "\"error\" or")
        self.assert_usage_error(["record", "-c", har,
                                 "--redact-header", ""], "1 to 256")
        self.assert_usage_error(["show"], "missing FILE")
        self.assert_usage_error(["show", "--bogus", har], "--bogus")
        self.assertFalse(os.path.exists(har), "a refused command writes nothing")

    def test_unknown_command_and_no_command(self):
        self.assert_usage_error(["frobnicate"], "frobnicate")
        self.assert_usage_error([])

    def test_missing_option_value(self):
        self.assert_usage_error(["proxy", "--listen"], "listen")
        self.assert_usage_error(["proxy", "--connect-timeout"],
                                "connect-timeout")

    def test_bad_option_values(self):
        cases = [
            ("--listen", "nonsense"),
            ("--listen", "127.0.0.1:70000"),
            ("--listen", "127.0.0.1:http"),
            ("--listen", "not-an-address:8080"),
            ("--connect-timeout", "abc"),
            ("--connect-timeout", "-1"),
            ("--response-timeout", "1s"),
            ("--idle-timeout", ""),
            ("--header-timeout", "x"),
            ("--max-header-bytes", "12Q"),
            ("--max-header-bytes", "-5"),
            ("--max-body-buffer", "lots"),
            ("--max-connections", "many"),
            ("--max-connections", "-3"),
            ("--max-connections", "0"),
        ]
        for opt, value in cases:
            with self.subTest(option=opt, value=value):
                line = self.assert_usage_error(
                    ["proxy", "--listen", "127.0.0.1:0", opt, value]
                    if opt != "--listen" else ["proxy", opt, value])
                self.assertTrue(
                    opt.lstrip("-") in line or (value and value in line),
                    "%r names neither %s nor %r" % (line, opt, value))

    def test_address_in_use(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        port = s.getsockname()[1]
        line = self.assert_usage_error(
            ["proxy", "--listen", "127.0.0.1:%d" % port])
        self.assertIn("in use", line.lower())

    def test_listening_line_and_accepted_values(self):
        proxy = self.start_proxy(
            "--connect-timeout", "0.5", "--response-timeout", "1.5",
            "--idle-timeout", "30", "--header-timeout", "2.25",
            "--max-header-bytes", "32K", "--max-body-buffer", "1M",
            "--max-connections", "10")
        self.assertEqual(proxy.first_line, "listening on 127.0.0.1:%d"
                         % proxy.port)
        self.assertNotEqual(proxy.port, 0)
        fake = self.start_fake()
        self.assert_serves(proxy, fake)
        self.assertEqual(proxy.stop(), 0)
        self.assertEqual(proxy.extra_stdout, b"", "stdout has one line only")

    def test_size_suffixes(self):
        for value in ("65536", "64K", "1M", "1G"):
            with self.subTest(value=value):
                proxy = self.start_proxy("--max-body-buffer", value)
                self.assertEqual(proxy.stop(), 0)

    def test_short_options_and_quiet_verbose(self):
        fake = self.start_fake()
        port = harness.free_port()
        proxy = self.start_proxy("-l", "127.0.0.1:%d" % port, "-q",
                                 listen=False)
        self.assertEqual(proxy.port, port)
        self.assert_serves(proxy, fake)
        self.assertEqual(proxy.stop(), 0)
        self.assertNotIn("_fake/echo", proxy.log(),
                         "--quiet logs no per-exchange lines")
        lines = {}
        for level in ("default", "-v"):
            proxy = self.start_proxy(*([level] if level != "default" else []))
            self.assert_serves(proxy, fake)
            self.assertEqual(proxy.stop(), 0)
            log = proxy.log()
            self.assertRegex(log, r"GET http://127\.0\.0\.1:%d/_fake/echo"
                             r"\?still=serving -> 200" % fake.port)
            lines[level] = len(log.splitlines())
        self.assertGreater(lines["-v"], lines["default"],
                           "--verbose logs more than the default")


if __name__ == "__main__":
    harness.main()
