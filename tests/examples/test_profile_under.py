"""pytest run under patchscope: patchscope starts first and runs pytest.

    patchscope replay -c tests/examples/profile-api.har --strict -- \
        python3 -m pytest tests/examples/test_profile_under.py

patchscope gives the tests its address in PATCHSCOPE_URL (and the proxy
and CA variables of `patchscope env`, for clients that take no base URL).
Its exit status is pytest's when a test fails, else 1 when --strict found
a recorded exchange never asked for or a request that matched nothing.
"""

import os

import pytest

from profile_client import ProfileClient

BASE_URL = os.environ.get("PATCHSCOPE_URL")

pytestmark = pytest.mark.skipif(
    BASE_URL is None, reason="run under patchscope: patchscope replay -c "
    "tests/examples/profile-api.har --strict -- python3 -m pytest "
    "tests/examples/test_profile_under.py")


def test_rename_then_read_back():
    client = ProfileClient(BASE_URL)
    assert client.get("p1")["title"] == "Discovery call"
    assert client.rename("p1", "Intro call")["title"] == "Intro call"
    assert client.get("p1")["title"] == "Intro call"
