"""Conversations and provider answers that carry usage, for the tests of what the proxy counts.

A request is counted when the server closes its answer, which may be just after the client has read it: tests
wait for the count (`counted`) instead of reading it at once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from support.proxy_harness import WAIT, Proxy, anthropic_events, openai_events, status

LOG = "\n".join(f"2026-01-01 12:00:{i % 60:02d} INFO worker-{i % 7} batch {i} in {i * 3 % 97} ms" for i in range(300))
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
OPENAI_HEADERS = {"authorization": "Bearer sk-test"}
ANTHROPIC_USAGE = {"input_tokens": 120, "output_tokens": 7, "cache_read_input_tokens": 3}
OPENAI_USAGE = {"prompt_tokens": 90, "completion_tokens": 5}
RESPONSES_USAGE = {"input_tokens": 80, "output_tokens": 4, "total_tokens": 84}


def anthropic_body(stream: bool = False) -> dict[str, Any]:
    """A conversation whose one tool result, a long log, compresses."""
    call = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cat job.log"}}
    result = {"type": "tool_result", "tool_use_id": "t1", "content": LOG}
    messages = [{"role": "user", "content": "did the job work?"}, {"role": "assistant", "content": [call]}]
    return {"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": stream,
            "messages": [*messages, {"role": "user", "content": [result]}]}  # fmt: skip


def openai_body(stream: bool = False) -> dict[str, Any]:
    call = {"id": "c1", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}
    messages = [{"role": "user", "content": "did the job work?"}, {"role": "assistant", "tool_calls": [call]}]
    return {"model": "gpt-4o", "stream": stream,
            "messages": [*messages, {"role": "tool", "tool_call_id": "c1", "content": LOG}]}  # fmt: skip


def responses_body(stream: bool = False) -> dict[str, Any]:
    call = {"type": "function_call", "call_id": "c1", "name": "Bash", "arguments": "{}"}
    items = [{"type": "message", "role": "user", "content": "did the job work?"}, call]
    return {"model": "gpt-5-codex", "stream": stream,
            "input": [*items, {"type": "function_call_output", "call_id": "c1", "output": LOG}]}  # fmt: skip


def anthropic_stream() -> list[bytes]:
    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 120, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}}
    sse = [f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode() for data in (start, delta)]
    return [sse[0], *anthropic_events()[1:-1], sse[1], anthropic_events()[-1]]


def openai_stream() -> list[bytes]:
    final = {"object": "chat.completion.chunk", "choices": [], "usage": OPENAI_USAGE}
    return [*openai_events()[:-1], f"data: {json.dumps(final)}\n\n".encode(), b"data: [DONE]\n\n"]


def responses_stream() -> list[bytes]:
    response = {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}
    completed = {**response, "status": "completed", "usage": RESPONSES_USAGE}
    items = [{"type": "response.created", "response": response},
             {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "ok"},
             {"type": "response.completed", "response": completed}]  # fmt: skip
    return [f"event: {item['type']}\ndata: {json.dumps(item)}\n\n".encode() for item in items]


def plain(body: dict[str, Any]) -> Callable[..., None]:
    return status(200, json.dumps(body).encode(), [("content-type", "application/json")])


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def counted(proxy: Proxy, requests: int) -> dict[str, Any]:
    """`/stats` once `requests` requests have been counted."""
    wait_for(lambda: proxy.call("GET", "/stats").json()["requests"] >= requests)
    return proxy.call("GET", "/stats").json()
