"""Who may call the proxy: loopback-only endpoints, the token asked of other machines (never forwarded), CORS for
pages on this machine only, and the warning when the proxy listens beyond it without a token. Callers from other
machines are simulated with falcon.testing (a `REMOTE_ADDR` of the test's choosing); the rest is the real proxy."""

from __future__ import annotations

import logging

import falcon.testing
import pytest
from support.proxy_harness import status

from headroom.runtime.proxy.access import is_loopback
from headroom.runtime.proxy.app import create_app
from headroom.runtime.proxy.config import ProxyConfig

REMOTE = "192.0.2.7"
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}


def client(stand_in, **settings) -> falcon.testing.TestClient:
    config = ProxyConfig(anthropic_api_url=stand_in.url + "/anthropic", openai_api_url=stand_in.url + "/openai",
                         connect_timeout=2.0, request_timeout=5.0, **settings)  # fmt: skip
    return falcon.testing.TestClient(create_app(config))


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/compress"), ("GET", "/v1/retrieve/abc"), ("POST", "/v1/retrieve")]
)
def test_sdk_endpoints_answer_other_machines_403_token_or_not(stand_in, method, path) -> None:
    app = client(stand_in, proxy_token="s3cret")
    for headers in ({}, {"x-headroom-token": "s3cret"}):
        result = app.simulate_request(method, path, json={"hash": "abc"}, remote_addr=REMOTE, headers=headers)
        assert result.status_code == (401 if not headers else 403)
    assert result.json["error"]["type"] == "permission_error"
    assert app.simulate_request(method, path, json={"hash": "abc"}, remote_addr="::1").status_code in (400, 404)


def test_without_a_token_other_machines_are_served(stand_in) -> None:
    result = client(stand_in).simulate_post("/v1/messages", json=MESSAGES, headers=ANTHROPIC, remote_addr=REMOTE)
    assert result.status_code == 200


def test_a_token_is_required_of_other_machines_and_never_forwarded(stand_in) -> None:
    app = client(stand_in, proxy_token="s3cret")
    for token in (None, "wrong", "s3cret!"):
        headers = {**ANTHROPIC, **({"x-headroom-token": token} if token else {})}
        result = app.simulate_post("/v1/messages", json=MESSAGES, headers=headers, remote_addr=REMOTE)
        assert result.status_code == 401
        assert result.json == {"type": "error", "error": {"type": "authentication_error",
                                                          "message": result.json["error"]["message"]}}  # fmt: skip
    openai = app.simulate_post("/v1/chat/completions", json=MESSAGES, remote_addr=REMOTE)
    assert openai.json["error"]["code"] == "invalid_proxy_token"  # shaped like the provider's errors
    assert stand_in.received == []
    headers = {**ANTHROPIC, "x-headroom-token": "s3cret"}
    assert app.simulate_post("/v1/messages", json=MESSAGES, headers=headers, remote_addr=REMOTE).status_code == 200
    (received,) = stand_in.received
    assert received.header("x-headroom-token") is None
    assert received.header("x-api-key") == "sk-ant-test"


def test_this_machine_needs_no_token(start_proxy, stand_in) -> None:
    proxy = start_proxy(proxy_token="s3cret")
    assert proxy.post("/v1/messages", MESSAGES, ANTHROPIC).status == 200
    mapped = client(stand_in, proxy_token="s3cret").simulate_get("/livez", remote_addr="::ffff:127.0.0.1")
    assert mapped.status_code == 200


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8080",
                                    "http://localhost"])  # fmt: skip
def test_pages_on_this_machine_may_call_the_proxy(proxy, stand_in, origin) -> None:
    preflight = proxy.call("OPTIONS", "/v1/messages", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-api-key",
    })  # fmt: skip
    assert preflight.status == 204
    assert preflight.header("access-control-allow-origin") == origin
    assert "POST" in preflight.header("access-control-allow-methods")
    assert preflight.header("access-control-allow-headers") == "content-type, x-api-key"
    reply = proxy.post("/v1/messages", MESSAGES, {**ANTHROPIC, "origin": origin})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") == origin
    assert [received.method for received in stand_in.received] == ["POST"]  # the preflight was not forwarded


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example", "https://localhost:3000",
                                    "http://127.0.0.1.nip.io:80", "null"])  # fmt: skip
def test_other_pages_get_no_cors_headers_not_even_the_upstreams(proxy, stand_in, origin) -> None:
    preflight = proxy.call("OPTIONS", "/v1/models", headers={"origin": origin, "access-control-request-method": "GET"})
    assert preflight.status == 204
    assert not [name for name, _ in preflight.headers if name.lower().startswith("access-control-")]
    assert stand_in.received == []
    stand_in.then(status(200, b"{}", [("access-control-allow-origin", "*")]))
    reply = proxy.call("GET", "/v1/models", headers={"origin": origin})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") is None


def test_a_request_without_an_origin_passes_options_through(proxy, stand_in) -> None:
    assert proxy.call("OPTIONS", "/v1/models").status == 200
    assert [received.method for received in stand_in.received] == ["OPTIONS"]


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("192.0.2.7", True), ("127.0.0.1", False),
                                               ("::1", False), ("localhost", False)])  # fmt: skip
def test_listening_beyond_this_machine_without_a_token_is_warned_about(stand_in, caplog, host, warned) -> None:
    with caplog.at_level(logging.WARNING, logger="headroom.runtime.proxy.access"):
        client(stand_in, host=host)
        client(stand_in, host=host, proxy_token="s3cret")
    assert [record.levelname for record in caplog.records] == (["WARNING"] if warned else [])


def test_loopback_is_told_by_the_address() -> None:
    assert [is_loopback(a) for a in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1", "localhost")] == [True] * 5
    assert [is_loopback(a) for a in ("10.0.0.1", "::ffff:10.0.0.1", "0.0.0.0", "", None, "example.com")] == [False] * 6
