"""Every other path and method goes through unchanged, to the provider it is for: the same method, path, query,
body and headers (less the hop-by-hop ones) up; the same status, body and headers back."""

from __future__ import annotations

import pytest
from support.proxy_harness import all_events, events, openai_events, status

ANTHROPIC = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
OPENAI = {"authorization": "Bearer sk-test"}
BINARY = bytes(range(256)) * 4  # not JSON, not text: nothing may parse or re-encode it
ANSWER = (
    b"\x00\xffanswer bytes, not JSON",
    [("content-type", "application/octet-stream"), ("x-custom", "1"), ("set-cookie", "a=1"), ("set-cookie", "b=2"),
     ("request-id", "req_42")],
)  # fmt: skip
# Set by the proxy's connection to the upstream, or by the proxy: not part of the comparison.
CONNECTION_HEADERS = {"host", "content-length", "accept-encoding", "date", "server", "via", "x-headroom-request-id"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "upstream"),
    [
        ("GET", "/v1/models", ANTHROPIC, None, "anthropic"),
        ("GET", "/v1/models?limit=5&after_id=m%2F1", OPENAI, None, "openai"),
        ("POST", "/v1/messages/count_tokens", ANTHROPIC, b'{"model": "claude", "messages": []}', "anthropic"),
        ("POST", "/v1/messages/batches", ANTHROPIC, b'{"requests": [ ]}', "anthropic"),
        ("GET", "/v1/messages/batches/msgbatch_1/results", ANTHROPIC, None, "anthropic"),
        ("DELETE", "/v1/files/file_1", {"x-api-key": "k", "authorization": "Bearer x"}, None, "anthropic"),
        ("POST", "/v1/responses", OPENAI, b'{"model": "gpt-5", "input": "hi"}', "openai"),
        ("POST", "/v1/embeddings", {}, b'{"input": "x"}', "openai"),
        ("PATCH", "/v1/fine_tuning/jobs/ft_1", OPENAI, BINARY, "openai"),
        ("PUT", "/some/other%20path//x?q=a%2Fb&r", {}, BINARY, "anthropic"),
        ("OPTIONS", "/v1/whatever", {"authorization": "Bearer y"}, None, "openai"),
    ],
)
def test_passthrough_is_byte_identical_both_ways(proxy, stand_in, method, path, headers, body, upstream) -> None:
    stand_in.then(status(201, *ANSWER))
    sent_headers = {"x-client": "yes", "content-type": "application/x-anything", **headers}
    reply = proxy.call(method, path, body, sent_headers)
    (received,) = stand_in.received
    assert (received.method, received.path) == (method, f"/{upstream}{path}")
    assert received.body == (body or b"")
    assert without(received.headers, CONNECTION_HEADERS) == sorted(sent_headers.items())
    assert (reply.status, reply.body) == (201, ANSWER[0])
    assert without(reply.headers, CONNECTION_HEADERS) == sorted(ANSWER[1])


def without(headers: list[tuple[str, str]], names: set[str]) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in headers if name.lower() not in names)


def test_hop_by_hop_and_headroom_headers_stay_behind(proxy, stand_in) -> None:
    proxy.call("POST", "/v1/messages/count_tokens", b"{}", {
        "connection": "keep-alive, x-hop", "x-hop": "named by connection", "keep-alive": "timeout=5",
        "te": "trailers", "proxy-authorization": "Basic eA==", "accept-encoding": "gzip, br",
        "x-headroom-mode": "audit", "x-api-key": "sk-ant-test",
    })  # fmt: skip
    (received,) = stand_in.received
    names = {name.lower() for name, _ in received.headers}
    assert names == {"host", "content-length", "accept-encoding", "x-api-key"}
    assert received.header("accept-encoding") == "identity"  # answers come uncompressed, to be read
    assert received.header("content-length") == "2"


def test_head_answers_headers_only(proxy, stand_in) -> None:
    reply = proxy.call("HEAD", "/v1/models", None, ANTHROPIC)
    assert (reply.status, reply.body) == (200, b"")
    assert reply.header("x-upstream") == "yes"
    assert proxy.call("GET", "/v1/models", None, ANTHROPIC).status == 200  # the connection is usable again


def test_a_streamed_passthrough_answer_is_relayed_as_it_is(proxy, stand_in) -> None:
    stand_in.then(events(*openai_events()))
    response = proxy.open_stream("/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True})
    assert response.getheader("content-type") == "text/event-stream"
    assert list(all_events(response)) == openai_events()
    assert stand_in.received[0].path == "/openai/v1/responses"
