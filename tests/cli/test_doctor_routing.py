"""Which base URLs reach the proxy, as the routing checks judge them."""

from __future__ import annotations

import pytest

from headroom.cli.doctor_checks import Context
from headroom.cli.doctor_routing import ANTHROPIC, OPENAI, PATHS, mismatch

HERE = Context("127.0.0.1", 8787, None, None)


@pytest.mark.parametrize(
    ("url", "variable"),
    [
        ("http://127.0.0.1:8787", ANTHROPIC),
        ("http://localhost:8787/", ANTHROPIC),
        ("http://[::1]:8787", ANTHROPIC),
        ("http://127.0.0.2:8787", ANTHROPIC),  # all of 127/8 is loopback
        ("http://127.0.0.1:8787/v1", OPENAI),
        ("http://localhost:8787/v1/", OPENAI),
    ],
)
def test_urls_that_reach_the_proxy(url: str, variable: str) -> None:
    assert mismatch(url, HERE, PATHS[variable]) is None


@pytest.mark.parametrize(
    ("url", "variable", "why"),
    [
        ("http://127.0.0.1:8788", ANTHROPIC, "port 8788, not 8787"),
        ("http://127.0.0.1", ANTHROPIC, "port 80, not 8787"),
        ("http://127.0.0.1:8787/v1", ANTHROPIC, "path /v1, not /"),  # Claude Code appends /v1/messages itself
        ("http://127.0.0.1:8787", OPENAI, "path /, not /v1"),  # the OpenAI SDKs append /chat/completions
        ("https://api.anthropic.com", ANTHROPIC, "api.anthropic.com is not this machine's loopback"),
        ("https://127.0.0.1:8787", ANTHROPIC, "https, not http"),
        ("http://127.0.0.1:99999", ANTHROPIC, "not a URL"),
        ("127.0.0.1:8787", ANTHROPIC, "not a URL"),
    ],
)
def test_urls_that_do_not(url: str, variable: str, why: str) -> None:
    assert why in (mismatch(url, HERE, PATHS[variable]) or "")


def test_the_doctors_own_host_counts_as_here() -> None:
    there = Context("10.0.0.5", 8787, None, None)
    assert mismatch("http://10.0.0.5:8787", there, "") is None
    assert mismatch("http://10.0.0.6:8787", there, "") is not None
