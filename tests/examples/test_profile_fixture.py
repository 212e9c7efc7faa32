"""pytest with a fixture that starts patchscope replay itself.

    python3 -m pytest tests/examples/test_profile_fixture.py

The fixture starts `patchscope replay` on a free port (--listen
127.0.0.1:0), reads the one `listening on 127.0.0.1:PORT` line it prints on
stdout, and gives the tests the base URL. After the last test it stops
patchscope (SIGTERM, then wait) and checks the run's report: with --strict,
patchscope exits 1 when a recorded exchange was never asked for or a
request matched nothing, and the run fails.
"""

import json
import os
import subprocess

import pytest

from profile_client import ProfileClient

HERE = os.path.dirname(os.path.abspath(__file__))
CASSETTE = os.path.join(HERE, "profile-api.har")
PATCHSCOPE = os.environ.get("PATCHSCOPE", "patchscope")


@pytest.fixture(scope="session")
def api_base_url(tmp_path_factory):
    report = tmp_path_factory.mktemp("patchscope") / "report.json"
    proc = subprocess.Popen(
        [PATCHSCOPE, "replay", "-c", CASSETTE, "--listen", "127.0.0.1:0",
         "--strict", "--report", str(report)],
        stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()           # "listening on 127.0.0.1:PORT"
    if not line.startswith("listening on "):
        proc.kill()
        pytest.fail("patchscope did not start (exit status %s)"
                    % proc.wait())
    yield "http://" + line.split()[-1]
    proc.terminate()
    status = proc.wait(timeout=10)
    proc.stdout.close()
    found = json.loads(report.read_text())
    assert status == 0, "the cassette is stale: unused %s, missed %s" % (
        found["unused"], found["misses"])


@pytest.fixture
def client(api_base_url):
    return ProfileClient(api_base_url)


def test_get_profile(client):
    profile = client.get("p1")
    assert profile["title"] == "Discovery call"
    assert [a["id"] for a in profile["actions"]] == ["act_1", "act_2",
                                                      "act_3"]


def test_rename_profile(client):
    assert client.rename("p1", "Intro call")["title"] == "Intro call"
    # The same GET again: replay answers in recorded order.
    assert client.get("p1")["title"] == "Intro call"
