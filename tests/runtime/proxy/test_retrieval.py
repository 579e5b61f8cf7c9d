"""The retrieve loop through the real proxy: the model asks for what compression omitted, the proxy answers from
the store and asks again, and the client gets one ordinary answer with no trace of the tool."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.proxy_harness import OPENAI_USAGE, USAGE, all_events, quoting, retrieving

from headroom.runtime.proxy.retrieval import MAX_ROUNDS, TOOL

LOG = "\n".join(f"2026-02-01 08:{i // 60 % 60:02d}:{i % 60:02d} DEBUG shard-{i % 5} processed batch {i} ok"
                for i in range(400))  # fmt: skip
NEEDLE = "processed batch 200 "  # a line compression omits
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}


def anthropic_body(stream: bool = False, log: str = LOG) -> dict[str, Any]:
    """A turn whose tool result is a long log, with a client tool of its own."""
    call = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cat run.log"}}
    return {"model": "claude-sonnet-4-5", "max_tokens": 512, "stream": stream,
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": "did the run work?"}, {"role": "assistant", "content": [call]},
                         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                                       "content": log}]}]}  # fmt: skip


def openai_body(stream: bool = False, log: str = LOG) -> dict[str, Any]:
    """The same turn for Chat Completions, without client tools."""
    call = {"id": "c1", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}
    return {"model": "gpt-4o", "stream": stream,
            "messages": [{"role": "user", "content": "did the run work?"},
                         {"role": "assistant", "content": None, "tool_calls": [call]},
                         {"role": "tool", "tool_call_id": "c1", "content": log}]}  # fmt: skip


def tool_names(body: dict[str, Any]) -> list[str]:
    return [tool.get("name") or tool["function"]["name"] for tool in body.get("tools", [])]


def test_an_anthropic_answer_comes_back_after_the_proxy_answered_the_retrieve_call(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    reply = proxy.post("/v1/messages", anthropic_body(), ANTHROPIC_HEADERS)
    assert reply.status == 200, reply.body
    assert TOOL.encode() not in reply.body
    answer = reply.json()
    assert answer["content"] == [{"type": "text", "text": f"Found: {LOG.splitlines()[200]}"}]
    assert answer["stop_reason"] == "end_turn"
    assert answer["usage"] == {"input_tokens": 200, "output_tokens": 20}  # both rounds
    first, second = (received.json() for received in stand_in.received)
    assert NEEDLE not in json.dumps(first["messages"])
    assert tool_names(first) == tool_names(second) == ["Bash", TOOL]
    call, result = second["messages"][-2:]
    assert call["content"][-1]["name"] == TOOL
    assert result["content"] == [{"type": "tool_result", "tool_use_id": "call_r", "content": LOG}]


def test_a_streamed_anthropic_answer_continues_seamlessly_over_the_rounds(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    response = proxy.open_stream("/v1/messages", anthropic_body(stream=True))
    assert response.status == 200
    raw = list(all_events(response))
    assert not any(TOOL.encode() in event for event in raw)
    got = [json.loads(event.split(b"data: ", 1)[1]) for event in raw]
    kinds = [event["type"] for event in got]
    assert kinds[0] == "message_start" and kinds.count("message_start") == 1
    assert kinds[-2:] == ["message_delta", "message_stop"] and kinds.count("message_stop") == 1
    assert [event["index"] for event in got if event["type"] == "content_block_start"] == [0, 1]
    text = "".join(event["delta"]["text"] for event in got if event["type"] == "content_block_delta")
    assert text == f"Let me look.Found: {LOG.splitlines()[200]}"
    assert got[-2]["delta"]["stop_reason"] == "end_turn"
    assert got[-2]["usage"] == {"input_tokens": 200, "output_tokens": 20}
    result = stand_in.received[1].json()["messages"][-1]["content"][0]
    assert result == {"type": "tool_result", "tool_use_id": "call_r", "content": LOG}


def test_an_openai_answer_comes_back_after_the_proxy_answered_the_retrieve_call(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    reply = proxy.post("/v1/chat/completions", openai_body(), OPENAI_HEADERS)
    assert reply.status == 200, reply.body
    assert TOOL.encode() not in reply.body
    (choice,) = reply.json()["choices"]
    assert choice["message"]["content"] == f"Found: {LOG.splitlines()[200]}"
    assert choice["finish_reason"] == "stop"
    assert reply.json()["usage"] == {key: 2 * value for key, value in OPENAI_USAGE.items()}
    second = stand_in.received[1].json()
    assert tool_names(second) == [TOOL]
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_r", "content": LOG}


def test_a_query_retrieves_only_the_matching_lines(proxy, stand_in) -> None:
    stand_in.then(retrieving(query="200"), quoting(NEEDLE))
    proxy.post("/v1/messages", anthropic_body(), ANTHROPIC_HEADERS)
    result = stand_in.received[1].json()["messages"][-1]["content"][0]["content"]
    assert NEEDLE in result and len(result) < len(LOG) / 10


@pytest.mark.parametrize("stream", [False, True])
def test_the_loop_stops_after_its_last_round_with_the_calls_removed(proxy, stand_in, stream) -> None:
    stand_in.then(*[retrieving() for _ in range(MAX_ROUNDS + 2)])
    reply = proxy.post("/v1/messages", anthropic_body(stream=stream), ANTHROPIC_HEADERS)
    assert reply.status == 200
    assert len(stand_in.received) == MAX_ROUNDS + 1
    assert TOOL.encode() not in reply.body
    assert b'"stop_reason": "end_turn"' in reply.body or b'"stop_reason":"end_turn"' in reply.body


def test_an_answer_that_also_calls_a_client_tool_goes_to_the_client_without_ours(proxy, stand_in) -> None:
    stand_in.then(retrieving(also="Bash"))
    reply = proxy.post("/v1/messages", anthropic_body(), ANTHROPIC_HEADERS)
    answer = reply.json()
    assert len(stand_in.received) == 1
    assert [block.get("name") for block in answer["content"]] == [None, "Bash"]
    assert answer["stop_reason"] == "tool_use"
    assert answer["usage"] == USAGE


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_a_request_with_nothing_compressed_gets_no_tool(proxy, stand_in, path) -> None:
    raw = json.dumps(anthropic_body(log="short") if path == "/v1/messages" else openai_body(log="short")).encode()
    proxy.call("POST", path, raw, {"content-type": "application/json"})
    assert stand_in.received[0].body == raw


def test_a_streamed_openai_request_is_not_looped_yet(proxy, stand_in) -> None:
    response = proxy.open_stream("/v1/chat/completions", openai_body(stream=True))
    assert response.status == 200
    list(all_events(response))
    assert "tools" not in stand_in.received[0].json()
