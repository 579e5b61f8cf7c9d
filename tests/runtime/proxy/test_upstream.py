"""The upstream client's rules, one by one: how long it waits between attempts, and which headers cross."""

from __future__ import annotations

import email.utils
import time

import pytest
from urllib3.util import SKIP_HEADER

from headroom.runtime.proxy.upstream import (
    BACKOFF_CAP,
    BACKOFF_FIRST,
    backoff,
    ca_settings,
    request_headers,
    response_headers,
    retry_after,
)


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_doubles_is_capped_and_jittered_over_its_upper_half(attempt: int) -> None:
    ceiling = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1))
    waits = {backoff(attempt) for _ in range(50)}
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert len(waits) > 1


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("0.5") == 0.5
    assert retry_after("-3") == 0.0
    assert 50 < retry_after(email.utils.formatdate(time.time() + 60, usegmt=True)) <= 60
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: at once
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_request_headers_leave_connection_specific_and_headroom_ones_behind() -> None:
    sent = {"connection": "keep-alive, X-Trace", "x-trace": "1", "keep-alive": "5", "host": "127.0.0.1:8787",
            "content-length": "10", "accept-encoding": "gzip", "transfer-encoding": "chunked", "upgrade": "h2c",
            "x-headroom-mode": "audit", "x-api-key": "k", "user-agent": "claude-cli/2.0"}  # fmt: skip
    assert request_headers(sent) == {"x-api-key": "k", "user-agent": "claude-cli/2.0"}


def test_no_user_agent_of_urllib3s_own_is_added() -> None:
    assert request_headers({})["user-agent"] is SKIP_HEADER


def test_response_headers_keep_repeats_and_drop_framing() -> None:
    answer = [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
              ("Transfer-Encoding", "chunked"), ("Connection", "keep-alive"), ("Content-Length", "5")]  # fmt: skip
    assert response_headers(answer) == [("Content-Type", "application/json"), ("Set-Cookie", "a=1"),
                                        ("Set-Cookie", "b=2"), ("Content-Length", "5")]  # fmt: skip


def test_certificates_come_from_ssl_cert_file_or_requests_ca_bundle(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    assert ca_settings() == {}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    assert ca_settings() == {"ca_cert_dir": str(tmp_path)}
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "corporate.pem"))
    assert ca_settings() == {"ca_certs": str(tmp_path / "corporate.pem")}
