"""`POST /v1/responses` through the real proxy: input items compressed like chat messages, with every item's kind,
order, ids, call ids and arguments unchanged; string input and small input forwarded byte-identical; streams
relayed (the retrieve loop over them: test_retrieval.py)."""

from __future__ import annotations

import json
from typing import Any

from support.proxy_harness import (
    RESPONSES_USAGE,
    all_events,
    events,
    quoting,
    responses_answer,
    responses_events,
    retrieving,
)

from headroom.runtime.messages import slots
from headroom.runtime.proxy.retrieval import TOOL

LOG = "\n".join(f"[{i:04d}] ok  test_module_{i % 13}.py::test_case_{i} PASSED ({i % 9}.{i % 7}0s)" for i in range(500))
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}
NEEDLE = "[0250] ok"  # a line compression omits


def responses_body(output: str = LOG, stream: bool = False) -> dict[str, Any]:
    return {
        "model": "gpt-5-codex",
        "instructions": "You are Codex.",
        "stream": stream,
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "run the job, did it work?"}],
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "shell",
                "arguments": '{"command": ["cat", "job.log"]}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": output},
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_1",
                "content": [{"type": "output_text", "text": "Reading the log."}],
            },
        ],
    }


def without_output(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "output"}


def test_function_call_outputs_are_compressed_and_every_item_keeps_its_identity(proxy, stand_in) -> None:
    sent = responses_body()
    reply = proxy.post("/v1/responses", sent, OPENAI_HEADERS)
    assert reply.status == 200
    [received] = stand_in.received
    assert received.path == "/openai/v1/responses"
    got = received.json()
    assert [without_output(item) for item in got["input"]] == [without_output(item) for item in sent["input"]]
    assert len(got["input"][2]["output"]) < len(LOG) / 2
    assert [tool["name"] for tool in got.pop("tools")] == [TOOL]  # something was stored: the retrieve tool
    assert {key: value for key, value in got.items() if key != "input"} == {
        key: value for key, value in sent.items() if key != "input"
    }
    assert int(reply.header("x-headroom-tokens-saved")) > 0


def test_the_proxy_answers_a_retrieve_call_with_a_function_call_output(proxy, stand_in) -> None:
    stand_in.then(retrieving(), quoting(NEEDLE))
    reply = proxy.post("/v1/responses", responses_body(), OPENAI_HEADERS)
    assert reply.status == 200, reply.body
    assert TOOL.encode() not in reply.body
    answer = reply.json()
    said = [part["text"] for item in answer["output"] for part in item["content"]]
    assert said == ["Let me look.", f"Found: {LOG.splitlines()[250]}"]
    assert answer["usage"] == {key: 2 * value for key, value in RESPONSES_USAGE.items()}
    first, second = (received.json() for received in stand_in.received)
    assert NEEDLE not in json.dumps(first["input"])
    assert second["input"][: len(first["input"])] == first["input"]
    message, call, result = second["input"][len(first["input"]) :]
    assert message["content"][0]["text"] == "Let me look." and call["name"] == TOOL
    assert result == {"type": "function_call_output", "call_id": "call_r", "output": LOG}


def test_a_small_or_string_input_goes_byte_identical(proxy, stand_in) -> None:
    for body in (responses_body(output="ok"), {"model": "gpt-5", "input": "hello  there"}):
        raw = json.dumps(body, indent=3).encode()
        assert proxy.call("POST", "/v1/responses", raw, {"content-type": "application/json"}).status == 200
        assert stand_in.received[-1].body == raw


def test_a_stream_is_relayed_event_by_event(proxy, stand_in) -> None:
    sent = responses_events(responses_answer("one two three", [("call_1", "shell", {"command": ["ls"]})]))
    stand_in.then(events(*sent))
    response = proxy.open_stream("/v1/responses", responses_body(stream=True))
    assert response.status == 200
    assert list(all_events(response)) == sent  # the retrieve tool was offered, not called: the stream as it came
    assert [tool["name"] for tool in stand_in.received[0].json()["tools"]] == [TOOL]


def test_a_wrong_input_is_a_provider_shaped_400(proxy, stand_in) -> None:
    reply = proxy.post("/v1/responses", {"model": "gpt-5", "input": 3}, OPENAI_HEADERS)
    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert stand_in.received == []


def test_the_engine_reads_responses_items_as_text_slots_with_their_calls() -> None:
    found = list(slots(responses_body(output="out")["input"]))
    assert [(s.message, s.path, s.role, s.tool) for s in found] == [
        (0, ("content", 0, "text"), "user", ""),
        (2, ("output",), "tool", "shell"),
        (3, ("content", 0, "text"), "assistant", ""),
    ]
    assert found[1].tool_input == '{"command": ["cat", "job.log"]}'
