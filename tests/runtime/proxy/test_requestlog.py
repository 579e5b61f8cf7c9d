"""The JSONL request log (`--log-file`): one line per request once its answer is over, messages only with
`--log-messages`, whole lines from concurrent requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.proxy_harness import Proxy, StandIn, events
from support.usage_answers import (
    OPENAI_HEADERS,
    anthropic_stream,
    openai_body,
    responses_body,
    responses_stream,
    wait_for,
)


def lines(path: Path, count: int) -> list[dict[str, Any]]:
    """The log's lines, once it has `count` of them."""
    wait_for(lambda: path.exists() and len(path.read_text().splitlines()) >= count)
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("with_messages", [False, True])
def test_one_line_per_request(tmp_path: Path, start_proxy: Callable[..., Proxy], with_messages: bool) -> None:
    path = tmp_path / "logs" / "requests.jsonl"
    proxy = start_proxy(log_file=path, log_messages=with_messages)
    reply = proxy.post("/v1/chat/completions", openai_body(), OPENAI_HEADERS)
    proxy.call("GET", "/v1/models")
    first, second = lines(path, 2)
    assert first["request_id"] == reply.header("x-headroom-request-id")
    assert (first["method"], first["path"], first["model"], first["status"]) == ("POST", "/v1/chat/completions",
                                                                                 "gpt-4o", 200)  # fmt: skip
    assert first["tokens_saved"] == int(reply.header("x-headroom-tokens-saved") or 0) > 0
    assert first["transforms"] and first["latency_ms"] >= first["overhead_ms"] > 0 and first["error"] is None
    assert ("messages" in first) is with_messages
    assert with_messages or "INFO worker" not in path.read_text()
    assert second["path"] == "/v1/models" and second["model"] is None and "messages" not in second


def test_a_streamed_answer_is_logged_when_it_ends_with_its_usage(
    tmp_path: Path, stand_in: StandIn, start_proxy: Callable[..., Proxy]
) -> None:
    path = tmp_path / "requests.jsonl"
    proxy = start_proxy(log_file=path)
    stand_in.then(events(*anthropic_stream()))
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 8,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    proxy.post("/v1/messages", body)
    (line,) = lines(path, 1)
    assert line["usage"]["input"] == 120 and line["usage"]["output"] == 7


def test_a_responses_request_is_logged_like_a_conversation(
    tmp_path: Path, stand_in: StandIn, start_proxy: Callable[..., Proxy]
) -> None:
    path = tmp_path / "requests.jsonl"
    proxy = start_proxy(log_file=path, log_messages=True)
    stand_in.then(events(*responses_stream()))
    reply = proxy.post("/v1/responses", responses_body(stream=True), OPENAI_HEADERS)
    (line,) = lines(path, 1)
    assert (line["provider"], line["model"], line["status"]) == ("openai", "gpt-5-codex", 200)
    assert line["tokens_saved"] == int(reply.header("x-headroom-tokens-saved") or 0) > 0
    assert line["usage"]["input"] == 80 and line["usage"]["output"] == 4
    assert line["overhead_ms"] > 0 and line["messages"][0]["content"] == "did the job work?"


def test_concurrent_requests_write_whole_lines(tmp_path: Path, start_proxy: Callable[..., Proxy]) -> None:
    path = tmp_path / "requests.jsonl"
    proxy = start_proxy(log_file=path)
    threads = [threading.Thread(target=proxy.call, args=("GET", f"/v1/models/{i}")) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(line["path"] for line in lines(path, 16)) == sorted(f"/v1/models/{i}" for i in range(16))
