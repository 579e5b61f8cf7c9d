"""Bad input and failing collaborators: each gets a clear, provider-shaped answer, and no request is lost."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Any

import pytest
from support.proxy_harness import (
    WAIT,
    Handler,
    Received,
    anthropic_events,
    cut_after,
    openai_events,
    ping_until_closed,
    read_event,
    responses_answer,
    responses_events,
    stall,
    status,
)

from headroom.runtime.engine import Engine, engine_for
from headroom.runtime.proxy.upstream import BACKOFF_FIRST

CONVERSATION = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
ENDPOINTS = ["/v1/messages", "/v1/chat/completions"]


def assert_provider_error(path: str, body: Any, kind: str) -> str:
    """Checks the error's shape for the endpoint's provider; returns its message."""
    if path == "/v1/chat/completions":
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == kind
        return body["error"]["message"]
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == kind
    return body["error"]["message"]


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"model": "m"}', "'messages' array"),
        (b'{"model": "m", "messages": {"role": "user"}}', "'messages' array"),
        (b'{"model": 4, "messages": []}', "'model' must be a string"),
    ],
)
def test_a_body_that_is_not_a_conversation_is_a_400(proxy, stand_in, path, raw, says) -> None:
    reply = proxy.call("POST", path, raw, {"content-type": "application/json"})
    assert reply.status == 400
    assert says in assert_provider_error(path, reply.json(), "invalid_request_error")
    assert stand_in.received == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_more_than_10000_messages_is_a_400(proxy, stand_in, path) -> None:
    body = {**CONVERSATION, "messages": [{"role": "user", "content": "x"}] * 10_001}
    reply = proxy.post(path, body)
    assert reply.status == 400
    assert "10001 messages" in assert_provider_error(path, reply.json(), "invalid_request_error")
    assert stand_in.received == []


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_a_413(start_proxy, stand_in, path, chunked) -> None:
    proxy = start_proxy(max_body_bytes=1000)
    raw = json.dumps({**CONVERSATION, "messages": [{"role": "user", "content": "x" * 2000}]}).encode()
    reply = proxy.call("POST", path, iter([raw]) if chunked else raw, {"content-type": "application/json"})
    assert reply.status == 413
    kind = "invalid_request_error" if path == "/v1/chat/completions" else "request_too_large"
    assert "over the limit of 1000 bytes" in assert_provider_error(path, reply.json(), kind)
    assert stand_in.received == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_past_the_servers_own_limit_is_a_provider_shaped_413_before_it_is_sent(proxy, stand_in, path) -> None:
    connection = proxy.connect()
    try:
        connection.putrequest("POST", path)
        connection.putheader("content-type", "application/json")
        connection.putheader("authorization" if path == "/v1/chat/completions" else "x-api-key", "Bearer sk-test")
        connection.putheader("content-length", str(5 * 1024**3))  # waitress refuses from 1 GiB on
        connection.endheaders(b'{"model": ')  # and the rest never comes: the answer does not wait for it
        response = connection.getresponse()
        reply = response.status, response.getheader("content-type"), json.loads(response.read())
    finally:
        connection.close()
    assert reply[:2] == (413, "application/json")
    kind = "invalid_request_error" if path == "/v1/chat/completions" else "request_too_large"
    assert "exceeds max_body" in assert_provider_error(path, reply[2], kind)
    assert stand_in.received == []


def test_a_malformed_request_is_a_provider_shaped_400(proxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT) as raw:
        raw.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\n\r\n")
        answer = raw.makefile("rb").read()
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400 ")
    assert_provider_error("/v1/messages", json.loads(body), "invalid_request_error")


def test_the_default_limits_are_the_issues() -> None:
    from headroom.runtime.proxy.config import ProxyConfig

    assert (ProxyConfig().max_body_bytes, ProxyConfig().max_messages) == (100 * 1024**2, 10_000)


# --- compression failing ------------------------------------------------------------------------------------------


class Exploding(Engine):
    def compress(self, messages: list[Any], model: str = "", system: Any = None) -> Any:
        raise RuntimeError("compressor bug")


class Stuck(Engine):
    """Compression that finishes only when the test releases it, long after the proxy's budget."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.released = threading.Event()

    def compress(self, messages: list[Any], model: str = "", system: Any = None) -> Any:
        self.released.wait(WAIT)
        return super().compress(messages, model, system)


def assert_the_original_is_sent(proxy, stand_in, path: str) -> None:
    raw = json.dumps({**CONVERSATION, "messages": [{"role": "user", "content": "x" * 5000}]}).encode()
    reply = proxy.call("POST", path, raw, {"content-type": "application/json"})
    assert reply.status == 200
    assert reply.header("x-headroom-compression-failed") == "1"
    assert reply.header("x-headroom-tokens-saved") is None
    assert stand_in.received[0].body == raw


@pytest.mark.parametrize("path", ENDPOINTS)
def test_failed_compression_sends_the_original(start_proxy, stand_in, path) -> None:
    assert_the_original_is_sent(start_proxy(engine=Exploding(engine_for(None).router, None)), stand_in, path)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_overdue_compression_sends_the_original(start_proxy, stand_in, path) -> None:
    engine = Stuck(engine_for(None).router, None)
    try:
        assert_the_original_is_sent(start_proxy(engine=engine, compression_timeout=0.2), stand_in, path)
    finally:
        engine.released.set()


# --- the upstream failing -----------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unreachable_upstream_is_retried_with_backoff_then_a_502(start_proxy, path) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    proxy = start_proxy(anthropic_api_url=down, openai_api_url=down)
    reply = proxy.post(path, CONVERSATION)
    assert reply.status == 502
    message = assert_provider_error(path, reply.json(), "server_error" if "chat" in path else "api_error")
    assert "(3 attempts)" in message and down in message
    first, second = proxy.waits
    assert BACKOFF_FIRST / 2 <= first <= BACKOFF_FIRST
    assert BACKOFF_FIRST <= second <= 2 * BACKOFF_FIRST


def test_an_unreachable_upstream_on_a_passthrough_path_is_a_502_too(start_proxy) -> None:
    proxy = start_proxy(openai_api_url=f"http://127.0.0.1:{closed_port()}", retry_max_attempts=1)
    reply = proxy.call("GET", "/v1/models", None, {"authorization": "Bearer sk-test"})
    assert reply.status == 502
    assert reply.json()["error"]["code"] == "upstream_unavailable"
    assert proxy.waits == []


def test_an_upstream_that_does_not_answer_in_time_is_retried_then_a_502(start_proxy, stand_in) -> None:
    proxy = start_proxy(request_timeout=0.3, retry_max_attempts=2)
    late = threading.Event()
    stand_in.then(stall(late), stall(late))
    try:
        reply = proxy.post("/v1/messages", CONVERSATION)
    finally:
        late.set()
    assert reply.status == 502
    assert "timed out" in reply.json()["error"]["message"]
    assert len(stand_in.received) == 2 and len(proxy.waits) == 1


@pytest.mark.parametrize("code", [429, 529])
def test_an_overloaded_upstream_is_asked_again_after_its_retry_after(proxy, stand_in, code) -> None:
    stand_in.then(status(code, b'{"type":"error"}', [("retry-after", "2")]))
    reply = proxy.post("/v1/messages", CONVERSATION)
    assert reply.status == 200
    assert proxy.waits == [2.0]
    assert len(stand_in.received) == 2
    assert stand_in.received[0].body == stand_in.received[1].body


def test_without_retry_after_the_pause_is_the_backoff(proxy, stand_in) -> None:
    stand_in.then(status(529))
    assert proxy.post("/v1/messages", CONVERSATION).status == 200
    (wait,) = proxy.waits
    assert BACKOFF_FIRST / 2 <= wait <= BACKOFF_FIRST


def test_when_retries_run_out_the_upstreams_own_429_is_forwarded(proxy, stand_in) -> None:
    error = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
    stand_in.then(*[status(429, error, [("retry-after", "1"), ("content-type", "application/json")])] * 3)
    reply = proxy.post("/v1/messages", CONVERSATION)
    assert (reply.status, reply.body, reply.header("retry-after")) == (429, error, "1")
    assert len(stand_in.received) == 3 and proxy.waits == [1.0, 1.0]


def test_a_retry_after_longer_than_worth_holding_the_request_is_forwarded_at_once(proxy, stand_in) -> None:
    stand_in.then(status(429, b"{}", [("retry-after", "3600")]))
    assert proxy.post("/v1/messages", CONVERSATION).status == 429
    assert len(stand_in.received) == 1 and proxy.waits == []


# --- failures in the middle of an answer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "sent", "kind"),
    [("/v1/messages", anthropic_events(), "api_error"), ("/v1/chat/completions", openai_events(), "server_error")],
)
def test_a_stream_cut_midway_ends_with_an_error_event(proxy, stand_in, path, sent, kind) -> None:
    stand_in.then(cut_after(*sent[:2]))
    response = proxy.open_stream(path, {**CONVERSATION, "stream": True})
    assert [read_event(response), read_event(response)] == sent[:2]
    name, data = read_event(response).decode().splitlines()[:2]
    assert name == "event: error"
    assert "broke off" in assert_provider_error(path, json.loads(data.removeprefix("data: ")), kind)
    assert read_event(response) == b""


def test_a_responses_stream_cut_midway_ends_with_a_responses_error_event(proxy, stand_in) -> None:
    """The Responses API numbers its events, and its `error` event carries code and message itself: the one the
    proxy adds follows the last event relayed."""
    sent = responses_events(responses_answer("Hello there", []))
    stand_in.then(cut_after(*sent[:3]))
    body = {"model": "gpt-4o", "input": "hi", "stream": True}
    response = proxy.open_stream("/v1/responses", body)
    assert [read_event(response) for _ in range(3)] == sent[:3]
    name, data = read_event(response).decode().splitlines()[:2]
    error = json.loads(data.removeprefix("data: "))
    assert (name, error["type"], error["code"], error["sequence_number"]) == (
        "event: error", "error", "upstream_stream_broken", 3)  # fmt: skip
    assert "broke off" in error["message"]
    assert read_event(response) == b""


def test_a_plain_body_cut_midway_is_not_passed_off_as_complete(proxy, stand_in) -> None:
    def truncated(handler: Handler, received: Received) -> None:
        handler.send_response(200)
        handler.send_header("content-length", "100")
        handler.end_headers()
        handler.wfile.write(b'{"partial": ')
        handler.close_connection = True

    stand_in.then(truncated)
    with pytest.raises(http.client.IncompleteRead):
        proxy.post("/v1/messages", CONVERSATION)


def test_a_client_that_hangs_up_closes_the_upstream_request(proxy, stand_in) -> None:
    closed = threading.Event()
    stand_in.then(ping_until_closed(closed))
    connection = proxy.connect()
    connection.request("POST", "/v1/messages", json.dumps({**CONVERSATION, "stream": True}).encode())
    response = connection.getresponse()
    assert read_event(response) == anthropic_events()[0]
    response.close()
    connection.close()
    assert closed.wait(WAIT), "the upstream kept streaming to a client that had gone"
