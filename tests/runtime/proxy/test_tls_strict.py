"""`HEADROOM_TLS_STRICT=0` relaxes exactly one thing in the upstream TLS context: `VERIFY_X509_STRICT`. The chain,
expiry and hostname checks stay on; without the variable urllib3's default context is used."""

from __future__ import annotations

import ssl

import pytest
from urllib3.util.ssl_ import create_urllib3_context

from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.upstream import Upstream, lenient, strictness

STRICT_FLAGS = ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_TRUSTED_FIRST


def test_only_the_strict_bit_is_cleared() -> None:
    context = create_urllib3_context()
    context.verify_flags = STRICT_FLAGS
    relaxed = lenient(context)
    assert relaxed.verify_flags == ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_TRUSTED_FIRST
    assert relaxed.verify_mode == ssl.CERT_REQUIRED and relaxed.check_hostname


def test_tls_strict_0_gives_the_pool_a_relaxed_context_that_still_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADROOM_TLS_STRICT", "0")
    context = strictness()["ssl_context"]
    default = create_urllib3_context()
    assert context.verify_flags == default.verify_flags & ~ssl.VERIFY_X509_STRICT
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.options == default.options and context.minimum_version == default.minimum_version
    pool = Upstream(ProxyConfig())._pool
    assert pool.connection_pool_kw["ssl_context"].verify_flags == context.verify_flags


@pytest.mark.parametrize("value", [None, "1", ""])
def test_otherwise_the_default_context_is_used(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("HEADROOM_TLS_STRICT", raising=False)
    else:
        monkeypatch.setenv("HEADROOM_TLS_STRICT", value)
    assert strictness() == {}
    assert "ssl_context" not in Upstream(ProxyConfig())._pool.connection_pool_kw
