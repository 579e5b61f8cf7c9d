"""The retrieve loop through the real proxy: the model asks for what compression omitted, the proxy answers from
the store and asks again, and the client gets one ordinary answer with no trace of the tool."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.proxy_harness import (
    JSON,
    OPENAI_USAGE,
    RESPONSES_USAGE,
    USAGE,
    all_events,
    quoting,
    retrieving,
    status,
)

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


def responses_body(stream: bool = False) -> dict[str, Any]:
    """The same turn for Responses."""
    call = {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"}
    return {"model": "gpt-5-codex", "stream": stream,
            "input": [{"type": "message", "role": "user", "content": "did the run work?"}, call,
                      {"type": "function_call_output", "call_id": "c1", "output": LOG}]}  # fmt: skip


def tool_names(body: dict[str, Any]) -> list[str]:
    return [tool.get("name") or tool["function"]["name"] for tool in body.get("tools", [])]


def stream_data(raw: bytes) -> list[dict[str, Any]]:
    """The data of each event of a stream as the client received it, `[DONE]` left out."""
    events = [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]
    return [json.loads(event) for event in events if event != "[DONE]"]


def seen(path: str, raw: bytes) -> tuple[str, list[str], str]:
    """What the client got from an answer, plain or streamed: its text, the names of the tools it calls, and why it
    stopped."""
    data = stream_data(raw) if raw.startswith((b"event:", b"data:")) else [json.loads(raw)]
    if path == "/v1/messages":
        blocks = [block for item in data for block in [*item.get("content", []), item.get("content_block", {})]]
        text = "".join(part.get("text", "") for item in data for part in [*blocks, item.get("delta", {})])
        stops = [item.get("stop_reason") or item.get("delta", {}).get("stop_reason") for item in data]
        return text, [b["name"] for b in blocks if b.get("type") == "tool_use"], next(filter(None, stops), "")
    choices = [choice for item in data for choice in item["choices"]]
    parts = [choice["delta"] if "delta" in choice else choice["message"] for choice in choices]
    calls = [call["function"].get("name") for part in parts for call in part.get("tool_calls") or []]
    stops = [choice["finish_reason"] for choice in choices if choice.get("finish_reason")]
    return "".join(part.get("content") or "" for part in parts), [name for name in calls if name], "".join(stops)


def test_an_anthropic_answer_comes_back_after_the_proxy_answered_the_retrieve_call(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    reply = proxy.post("/v1/messages", anthropic_body(), ANTHROPIC_HEADERS)
    assert reply.status == 200, reply.body
    assert TOOL.encode() not in reply.body
    answer = reply.json()
    assert answer["content"] == [{"type": "text", "text": "Let me look."},  # said before the call: kept, as in a stream
                                 {"type": "text", "text": f"Found: {LOG.splitlines()[200]}"}]  # fmt: skip
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
    assert choice["message"]["content"] == f"Let me look.\n\nFound: {LOG.splitlines()[200]}"
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


BOTH_WAYS = [("/v1/messages", False), ("/v1/messages", True), ("/v1/chat/completions", False),
             ("/v1/chat/completions", True)]  # fmt: skip


def body_for(path: str, stream: bool, log: str = LOG) -> dict[str, Any]:
    return anthropic_body(stream, log) if path == "/v1/messages" else openai_body(stream, log)


@pytest.mark.parametrize(("path", "stream"), BOTH_WAYS)
def test_the_loop_stops_after_its_last_round_with_the_calls_removed(proxy, stand_in, path, stream) -> None:
    stand_in.then(*[retrieving() for _ in range(MAX_ROUNDS + 2)])
    reply = proxy.post(path, body_for(path, stream), ANTHROPIC_HEADERS)
    assert reply.status == 200
    assert len(stand_in.received) == MAX_ROUNDS + 1
    assert TOOL.encode() not in reply.body
    text, calls, stop = seen(path, reply.body)
    separator = "" if path == "/v1/messages" else "\n\n"
    assert (text, calls) == (separator.join(["Let me look."] * (MAX_ROUNDS + 1)), [])
    assert stop == ("end_turn" if path == "/v1/messages" else "stop")


@pytest.mark.parametrize(("path", "stream"), BOTH_WAYS)
def test_an_answer_that_also_calls_a_client_tool_goes_to_the_client_without_ours(proxy, stand_in, path,
                                                                                 stream) -> None:  # fmt: skip
    stand_in.then(retrieving(also="Bash"))
    reply = proxy.post(path, body_for(path, stream), ANTHROPIC_HEADERS)
    assert reply.status == 200
    assert len(stand_in.received) == 1
    assert TOOL.encode() not in reply.body
    assert seen(path, reply.body) == ("Let me look.", ["Bash"], "tool_use" if path == "/v1/messages" else "tool_calls")
    if path == "/v1/messages" and not stream:
        assert reply.json()["usage"] == USAGE
    if path == "/v1/chat/completions" and stream:  # the client's call is the first it sees, whatever its index above
        calls = [
            call for chunk in stream_data(reply.body) for call in chunk["choices"][0]["delta"].get("tool_calls", [])
        ]
        assert {call["index"] for call in calls} == {0}


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions", "/v1/responses"])
def test_a_client_tool_of_our_tools_name_is_the_clients_own(proxy, stand_in, path) -> None:
    function = {"name": TOOL, "parameters": {"type": "object"}}
    if path == "/v1/messages":
        body, tools = anthropic_body(), [{"name": TOOL, "input_schema": {"type": "object"}}]
    elif path == "/v1/chat/completions":
        body, tools = openai_body(), [{"type": "function", "function": function}]
    else:
        body, tools = responses_body(), [{"type": "function", **function}]
    stand_in.then(retrieving())
    reply = proxy.post(path, {**body, "tools": tools}, ANTHROPIC_HEADERS)
    assert reply.status == 200
    [received] = stand_in.received  # the model's call to it was not answered by the proxy
    assert received.json()["tools"] == tools
    echoed = path == "/v1/responses"  # a response echoes the request's tools, which are the client's here
    assert reply.body.count(TOOL.encode()) == 1 + echoed  # and the call, as the model made it, goes to the client


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_a_request_with_nothing_compressed_gets_no_tool(proxy, stand_in, path) -> None:
    raw = json.dumps(anthropic_body(log="short") if path == "/v1/messages" else openai_body(log="short")).encode()
    proxy.call("POST", path, raw, {"content-type": "application/json"})
    assert stand_in.received[0].body == raw


def test_a_streamed_openai_answer_continues_seamlessly_over_the_rounds(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    body = {**openai_body(stream=True), "stream_options": {"include_usage": True}}
    reply = proxy.post("/v1/chat/completions", body, OPENAI_HEADERS)
    assert reply.status == 200
    assert TOOL.encode() not in reply.body
    assert reply.body.endswith(b"data: [DONE]\n\n") and reply.body.count(b"[DONE]") == 1
    chunks = stream_data(reply.body)
    assert {chunk["id"] for chunk in chunks} == {"chatcmpl-1"}
    assert [chunk["choices"][0]["delta"].get("role") for chunk in chunks[:-1]].count("assistant") == 1
    assert seen("/v1/chat/completions", reply.body) == (f"Let me look.\n\nFound: {LOG.splitlines()[200]}", [], "stop")
    assert chunks[-1] == {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
                          "usage": {key: 2 * value for key, value in OPENAI_USAGE.items()}}  # fmt: skip
    second = stand_in.received[1].json()
    assert second["stream"] is True and tool_names(second) == [TOOL]
    call, result = second["messages"][-2:]
    assert call["content"] == "Let me look." and call["tool_calls"][0]["function"]["name"] == TOOL
    assert json.loads(call["tool_calls"][0]["function"]["arguments"])["ref"]
    assert result == {"role": "tool", "tool_call_id": "call_r", "content": LOG}


def responses_seen(raw: bytes) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    """A Responses stream as the client received it: its events' data, the text of each output item by the client's
    output_index, and the response `response.completed` carried; checks that its sequence numbers are consecutive
    and that it has one start and one end."""
    got = stream_data(raw)
    assert [event["sequence_number"] for event in got] == list(range(len(got)))
    kinds = [event["type"] for event in got]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds.count("response.created") == kinds.count("response.in_progress") == 1
    assert kinds[-1] == "response.completed" and kinds.count("response.completed") == 1
    text: dict[str, str] = {}
    for event in got:
        if event["type"] == "response.output_text.delta":
            text[event["output_index"]] = text.get(event["output_index"], "") + event["delta"]
    return got, text, got[-1]["response"]


def test_a_streamed_responses_answer_continues_seamlessly_over_the_rounds(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    reply = proxy.post("/v1/responses", responses_body(stream=True), OPENAI_HEADERS)
    assert reply.status == 200, reply.body
    assert reply.header("content-type") == "text/event-stream"
    assert TOOL.encode() not in reply.body
    got, text, response = responses_seen(reply.body)
    found = f"Found: {LOG.splitlines()[200]}"
    assert text == {0: "Let me look.", 1: found}  # what the model said before its call is kept, as item 0
    added = [event for event in got if event["type"] == "response.output_item.added"]
    assert [(event["output_index"], event["item"]["type"]) for event in added] == [(0, "message"), (1, "message")]
    assert [item["content"][0]["text"] for item in response["output"]] == ["Let me look.", found]
    assert response["usage"] == {key: 2 * value for key, value in RESPONSES_USAGE.items()}
    first, second = (received.json() for received in stand_in.received)
    assert second["stream"] is True and tool_names(second) == [TOOL]
    assert second["input"][: len(first["input"])] == first["input"]
    message, call, result = second["input"][len(first["input"]) :]
    assert message["content"][0]["text"] == "Let me look." and call["name"] == TOOL
    assert json.loads(call["arguments"])["ref"]
    assert result == {"type": "function_call_output", "call_id": "call_r", "output": LOG}


def test_a_streamed_responses_loop_stops_after_its_last_round(proxy, stand_in) -> None:
    stand_in.then(*[retrieving() for _ in range(MAX_ROUNDS + 2)])
    reply = proxy.post("/v1/responses", responses_body(stream=True), OPENAI_HEADERS)
    assert reply.status == 200
    assert len(stand_in.received) == MAX_ROUNDS + 1
    assert TOOL.encode() not in reply.body
    _, text, response = responses_seen(reply.body)
    assert text == dict.fromkeys(range(MAX_ROUNDS + 1), "Let me look.")
    assert [item["type"] for item in response["output"]] == ["message"] * (MAX_ROUNDS + 1)
    assert response["usage"] == {key: (MAX_ROUNDS + 1) * value for key, value in RESPONSES_USAGE.items()}


def test_a_streamed_responses_answer_that_also_calls_a_client_tool_goes_without_ours(proxy, stand_in) -> None:
    stand_in.then(retrieving(also="shell"))
    reply = proxy.post("/v1/responses", responses_body(stream=True), OPENAI_HEADERS)
    assert reply.status == 200
    assert len(stand_in.received) == 1
    assert TOOL.encode() not in reply.body
    got, text, response = responses_seen(reply.body)
    assert text == {0: "Let me look."}
    shell = [event for event in got if event.get("item_id") == "fc_call_c" or event.get("item", {}).get("name")]
    assert {event["output_index"] for event in shell} == {1}  # the upstream's index 2, after our call at 1
    assert {event["type"] for event in shell} >= {"response.function_call_arguments.delta", "response.output_item.done"}
    assert [item["type"] for item in response["output"]] == ["message", "function_call"]
    assert response["output"][1]["name"] == "shell" and response["usage"] == RESPONSES_USAGE


def test_a_streamed_responses_request_with_a_tool_of_our_name_is_not_looped(proxy, stand_in) -> None:
    tools = [{"type": "function", "name": TOOL, "parameters": {"type": "object"}}]
    stand_in.then(retrieving())
    reply = proxy.post("/v1/responses", {**responses_body(stream=True), "tools": tools}, OPENAI_HEADERS)
    assert reply.status == 200
    [received] = stand_in.received
    assert received.json()["tools"] == tools
    _, _, response = responses_seen(reply.body)
    assert [item.get("name") for item in response["output"]] == [None, TOOL]  # the client's call, as the model made it


def test_a_streamed_responses_round_that_fails_ends_the_stream_with_an_error_event(proxy, stand_in) -> None:
    stand_in.then(retrieving(), status(500, b'{"error": {"message": "overloaded"}}', JSON))
    reply = proxy.post("/v1/responses", responses_body(stream=True), OPENAI_HEADERS)
    assert reply.status == 200
    assert TOOL.encode() not in reply.body
    got = stream_data(reply.body)
    assert [event["sequence_number"] for event in got] == list(range(len(got)))
    assert "response.completed" not in [event["type"] for event in got]
    assert got[-2]["type"] == "response.output_item.done" and got[-2]["item"]["type"] == "message"
    error = got[-1]
    assert (error["type"], error["code"], error["param"]) == ("error", "upstream_unavailable", None)
    assert "500" in error["message"] and "overloaded" in error["message"]
    assert reply.body.endswith(b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n")


def test_a_request_that_stores_nothing_gets_the_rounds_items_back_without_ids(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    body = {**responses_body(stream=True), "store": False, "previous_response_id": "resp_0"}
    proxy.post("/v1/responses", body, OPENAI_HEADERS)
    first, second = (received.json() for received in stand_in.received)
    assert second["store"] is False and second["previous_response_id"] == "resp_0"
    message, call, _ = second["input"][len(first["input"]) :]
    assert "id" not in message and "id" not in call and call["call_id"] == "call_r"


@pytest.mark.parametrize("stream", [False, True])
def test_a_responses_answer_echoes_the_clients_tools_without_ours(proxy, stand_in, stream) -> None:
    shell = {"type": "function", "name": "shell", "parameters": {"type": "object"}}
    stand_in.then(quoting(NEEDLE))  # an answer that calls nothing
    reply = proxy.post("/v1/responses", {**responses_body(stream), "tools": [shell]}, OPENAI_HEADERS)
    assert reply.status == 200
    assert tool_names(stand_in.received[0].json()) == ["shell", TOOL]
    assert TOOL.encode() not in reply.body
    if stream:
        responses = [event["response"] for event in stream_data(reply.body) if "response" in event]
    else:
        responses = [reply.json()]
    assert [response["tools"] for response in responses] == [[shell]] * (3 if stream else 1)  # created, going, done
