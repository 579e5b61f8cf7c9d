"""The conversation endpoints through the real proxy: compressed on the way up, relayed on the way back, streamed
event by event, and byte-identical whenever there was nothing to compress."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from support.proxy_harness import all_events, anthropic_events, events, openai_events, read_event, status

LOG = "\n".join(
    f"2026-01-01 12:00:{i % 60:02d} INFO worker-{i % 7} processed batch {i} in {i * 3 % 97} ms status=ok"
    for i in range(400)
)
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}


def anthropic_body(stream: bool = False, log: str = LOG) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "metadata": {"user_id": "u1"},
        "stream": stream,
        "messages": [
            {"role": "user", "content": "run the job and tell me whether it worked"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cat job.log"}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": log}]},
        ],
    }


def openai_body(stream: bool = False, log: str = LOG) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "temperature": 0.2,
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": "run the job and tell me whether it worked"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "Bash", "arguments": '{"command": "cat job.log"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": log},
        ],
    }


def tool_output(body: dict[str, Any]) -> str:
    last = body["messages"][-1]
    return last["content"] if isinstance(last["content"], str) else last["content"][0]["content"]


@pytest.mark.parametrize(
    ("path", "make_body", "headers", "upstream"),
    [
        ("/v1/messages", anthropic_body, ANTHROPIC_HEADERS, "/anthropic/v1/messages"),
        ("/v1/chat/completions", openai_body, OPENAI_HEADERS, "/openai/v1/chat/completions"),
    ],
)
def test_a_big_log_is_compressed_and_the_rest_of_the_request_is_untouched(
    proxy, stand_in, path, make_body, headers, upstream
) -> None:
    sent = make_body()
    reply = proxy.post(path, sent, headers)
    assert reply.status == 200, reply.body
    assert reply.json() == json.loads(_default_answer(path))
    (received,) = stand_in.received
    assert received.path == upstream
    got = received.json()
    assert len(tool_output(got)) < len(LOG) / 4
    assert "processed batch 399" in tool_output(got)  # the end of the log survives
    assert got.pop("tools")[:-1] == sent.pop("tools", [])  # then the retrieve loop's tool (see test_retrieval.py)
    assert {**got, "messages": None} == {**sent, "messages": None}
    assert got["messages"][:-1] == sent["messages"][:-1]
    assert int(reply.header("x-headroom-tokens-saved")) > 1000
    before, after = int(reply.header("x-headroom-tokens-before")), int(reply.header("x-headroom-tokens-after"))
    assert before - after == int(reply.header("x-headroom-tokens-saved"))
    assert reply.header("x-headroom-transforms") == "1"
    for name, value in headers.items():
        assert received.header(name) == value


def _default_answer(path: str) -> str:
    if path == "/v1/messages":
        return '{"type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}]}'
    return '{"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": "ok"}}]}'


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_a_body_with_nothing_to_compress_goes_up_byte_for_byte(proxy, stand_in, path) -> None:
    # Odd spacing, escapes and key order that re-serializing would change.
    raw = (
        b'{ "model" : "claude-sonnet-4-5",\n "messages":[{"role":"user","content":"caf\\u00e9 \xc3\xa9 1.50"}],'
        b' "max_tokens" : 1.0e3 }'
    )
    reply = proxy.call("POST", path, raw, {"content-type": "application/json"})
    assert reply.status == 200
    assert stand_in.received[0].body == raw
    assert reply.header("x-headroom-tokens-saved") == "0"
    assert reply.header("x-headroom-transforms") == "0"


def test_no_optimize_forwards_without_compressing(start_proxy, stand_in) -> None:
    proxy = start_proxy(optimize=False)
    raw = json.dumps(anthropic_body()).encode()
    reply = proxy.call("POST", "/v1/messages", raw, {"content-type": "application/json"})
    assert reply.status == 200
    assert stand_in.received[0].body == raw
    assert reply.header("x-headroom-tokens-saved") is None


@pytest.mark.parametrize(
    ("path", "make_body", "expected"),
    [("/v1/messages", anthropic_body, anthropic_events()), ("/v1/chat/completions", openai_body, openai_events())],
)
def test_streams_are_relayed_whole_and_compressed_on_the_way_up(proxy, stand_in, path, make_body, expected) -> None:
    response = proxy.open_stream(path, make_body(stream=True))
    assert response.status == 200
    assert response.getheader("content-type") == "text/event-stream"
    assert int(response.getheader("x-headroom-tokens-saved")) > 1000
    assert list(all_events(response)) == expected
    assert len(tool_output(stand_in.received[0].json())) < len(LOG) / 4


@pytest.mark.parametrize(
    ("path", "make_body", "sent"),
    [("/v1/messages", anthropic_body, anthropic_events()), ("/v1/chat/completions", openai_body, openai_events())],
)
def test_each_event_reaches_the_client_before_the_upstream_sends_the_next(
    proxy, stand_in, path, make_body, sent
) -> None:
    gates = [threading.Event() for _ in sent[1:]]
    stand_in.then(events(*sent, gates=gates))
    response = proxy.open_stream(path, make_body(stream=True, log="short"))
    for index, event in enumerate(sent):
        assert read_event(response) == event  # read while the upstream waits for the gate below
        if index < len(gates):
            gates[index].set()
    assert read_event(response) == b""


def test_an_upstream_error_on_a_stream_request_is_forwarded_as_it_is(proxy, stand_in) -> None:
    error = b'{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}'
    stand_in.then(status(400, error, [("content-type", "application/json"), ("request-id", "req_1")]))
    reply = proxy.post("/v1/messages", anthropic_body(stream=True, log="short"))
    assert (reply.status, reply.body) == (400, error)
    assert reply.header("request-id") == "req_1"
    assert len(stand_in.received) == 1
