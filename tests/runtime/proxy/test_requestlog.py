"""The JSONL request log (`--log-file`): one line per request once its answer is over, messages only with
`--log-messages`, whole lines from concurrent requests, the client and the blocks by tool and kind that
`headroom perf` reads, rotated past its size."""

from __future__ import annotations

import json
import os
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

from headroom.runtime.proxy.requestlog import RequestLogFile, rotated
from headroom.runtime.proxy.tally import Exchange


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


def test_a_line_has_its_client_and_blocks_by_tool_and_kind(tmp_path: Path, start_proxy: Callable[..., Proxy]) -> None:
    path = tmp_path / "requests.jsonl"
    proxy = start_proxy(log_file=path)
    reply = proxy.post("/v1/chat/completions", openai_body(), {**OPENAI_HEADERS, "user-agent": "codex_cli_rs/0.9 (x)"})
    proxy.post("/v1/chat/completions", openai_body(), {**OPENAI_HEADERS, "x-headroom-project": "alpha"})
    first, second = lines(path, 2)
    assert (first["client"], second["client"]) == ("codex_cli_rs", "alpha")
    bash = next(group for group in first["blocks"] if group["tool"] == "Bash")
    assert (bash["kind"], bash["blocks"]) == ("log", 1) and bash["ms"] > 0
    assert bash["tokens_before"] - bash["tokens_after"] == int(reply.header("x-headroom-tokens-saved") or 0) > 0
    assert sum(group["blocks"] for group in first["blocks"]) == 2  # the question and the result


def test_past_its_size_the_log_is_rotated_once(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    log = RequestLogFile(path, with_messages=False, max_bytes=1500)
    for number in range(6):
        log.write(Exchange(f"r{number}", "GET", "/v1/models", 200), None)
    assert rotated(path).exists() and path.stat().st_size <= 1500 and rotated(path).stat().st_size <= 1500
    ids = [json.loads(line)["request_id"] for part in (rotated(path), path) for line in part.read_text().splitlines()]
    assert ids == [f"r{number}" for number in range(6)][-len(ids) :]  # the newest lines, in order


def ids_in(path: Path) -> list[str]:
    return [json.loads(line)["request_id"] for line in path.read_text().splitlines()] if path.exists() else []


def test_a_log_another_process_rotated_or_removed_is_opened_again_within_a_second(tmp_path: Path) -> None:
    """The file stays open between requests; a second proxy sharing the default log, or a user clearing logs, may
    rename or remove it meanwhile."""
    path, clock = tmp_path / "requests.jsonl", [0.0]
    log = RequestLogFile(path, with_messages=False, clock=lambda: clock[0])
    log.write(Exchange("r0", "GET", "/v1/models", 200), None)
    os.replace(path, tmp_path / "elsewhere.jsonl")  # rotated by another process
    log.write(Exchange("r1", "GET", "/v1/models", 200), None)  # within the second: still the open file
    clock[0] = 1.5
    log.write(Exchange("r2", "GET", "/v1/models", 200), None)
    assert (ids_in(tmp_path / "elsewhere.jsonl"), ids_in(path)) == (["r0", "r1"], ["r2"])
    path.unlink()  # removed
    clock[0] = 3.0
    log.write(Exchange("r3", "GET", "/v1/models", 200), None)
    assert ids_in(path) == ["r3"]


def test_each_line_is_in_the_file_when_its_request_is_over(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    log = RequestLogFile(path, with_messages=False)
    for number in range(3):
        log.write(Exchange(f"r{number}", "GET", "/v1/models", 200), None)
        assert ids_in(path) == [f"r{k}" for k in range(number + 1)]  # written through, not held in a buffer


def test_a_log_another_process_rotated_is_not_rotated_again(tmp_path: Path) -> None:
    """Two proxies share the default log: when one has rotated it, the other's open file is the rotated part, full;
    renaming the path then would put the first one's new log over the rotated part."""
    path, clock = tmp_path / "requests.jsonl", [0.0]
    first = RequestLogFile(path, with_messages=False, max_bytes=1500, clock=lambda: clock[0])
    second = RequestLogFile(path, with_messages=False, max_bytes=1500, clock=lambda: clock[0])
    second.write(Exchange("b0", "GET", "/v1/models", 200), None)  # the second one has the log open
    number = 0
    while not rotated(path).exists():  # the first one fills it and rotates it
        first.write(Exchange(f"a{number}", "GET", "/v1/models", 200), None)
        number += 1
    kept = ids_in(rotated(path))
    second.write(Exchange("b-late", "GET", "/v1/models", 200), None)  # its open file is the full, rotated part
    assert ids_in(rotated(path))[: len(kept)] == kept  # not replaced by the first one's new log
    assert "b-late" in ids_in(path)
