"""`/stats`, `/stats-history` and `/stats/reset` through the real proxy: requests, tokens and the provider's
reported usage counted after plain and streamed answers of both providers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from falcon import testing
from support.proxy_harness import Proxy, StandIn, events, status
from support.usage_answers import (
    ANTHROPIC_HEADERS,
    ANTHROPIC_USAGE,
    OPENAI_HEADERS,
    OPENAI_USAGE,
    RESPONSES_USAGE,
    anthropic_body,
    anthropic_stream,
    counted,
    openai_body,
    openai_stream,
    plain,
    responses_body,
    responses_stream,
)

from headroom.runtime.proxy.app import create_app
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.stats import percentiles

CASES = [
    ("/v1/messages", anthropic_body, ANTHROPIC_HEADERS, "claude-sonnet-4-5", anthropic_stream,
     {"type": "message", "content": [], "usage": ANTHROPIC_USAGE}, (120, 7)),
    ("/v1/chat/completions", openai_body, OPENAI_HEADERS, "gpt-4o", openai_stream,
     {"object": "chat.completion", "choices": [], "usage": OPENAI_USAGE}, (90, 5)),
    ("/v1/responses", responses_body, OPENAI_HEADERS, "gpt-5-codex", responses_stream,
     {"object": "response", "output": [], "usage": RESPONSES_USAGE}, (80, 4)),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "headers", "model", "stream", "answer", "usage"), CASES)
def test_plain_and_streamed_requests_are_counted_with_the_usage_the_provider_reported(
    stand_in: StandIn, proxy: Proxy, path: str, body: Callable[..., dict[str, Any]], headers: dict[str, str],
    model: str, stream: Callable[[], list[bytes]], answer: dict[str, Any], usage: tuple[int, int],
) -> None:  # fmt: skip
    stand_in.then(plain(answer), events(*stream()))
    plain_reply = proxy.post(path, body(), headers)
    streamed = proxy.post(path, body(stream=True), headers)
    assert plain_reply.status == streamed.status == 200
    saved = int(plain_reply.header("x-headroom-tokens-saved") or 0)
    assert saved > 0
    stats = counted(proxy, 2)
    assert stats["requests"] == 2 and stats["errors"] == 0
    assert stats["tokens_saved"] == 2 * saved
    assert stats["tokens_before"] - stats["tokens_after"] == stats["tokens_saved"]
    assert (stats["input_tokens"], stats["output_tokens"]) == (2 * usage[0], 2 * usage[1])
    assert stats["by_model"][model]["requests"] == 2
    assert stats["by_tool"]["Bash"]["tokens_saved"] == 2 * saved
    assert stats["by_kind"]["log"]["blocks"] == 2
    assert all(stats[name][p] is not None for name in ("latency_ms", "overhead_ms") for p in ("p50", "p90", "p99"))
    assert stats["overhead_ms"]["p99"] <= stats["latency_ms"]["p99"]
    assert stats["lifetime"]["tokens_saved"] >= 2 * saved and stats["budget"] is None


def test_passthrough_and_errors_are_counted_without_tokens(stand_in: StandIn, proxy: Proxy) -> None:
    stand_in.then(status(500, b'{"error": {"message": "boom"}}', [("content-type", "application/json")]))
    assert proxy.call("GET", "/v1/models").status == 500
    assert proxy.call("GET", "/v1/models").status == 200
    stats = counted(proxy, 2)
    assert (stats["requests"], stats["errors"], stats["tokens_before"]) == (2, 1, 0)
    assert stats["overhead_ms"]["p50"] is None  # the proxy did no work of its own on them


def test_history_has_the_minute_s_requests_and_reset_starts_afresh(stand_in: StandIn, proxy: Proxy) -> None:
    proxy.post("/v1/messages", anthropic_body(), ANTHROPIC_HEADERS)
    counted(proxy, 1)
    history = proxy.call("GET", "/stats-history").json()
    assert history["bucket_seconds"] == 60
    assert sum(bucket["requests"] for bucket in history["buckets"]) == 1
    lifetime = proxy.call("GET", "/stats").json()["lifetime"]
    assert proxy.call("POST", "/stats/reset").status == 200
    stats = proxy.call("GET", "/stats").json()
    assert stats["requests"] == 0 and stats["by_model"] == {}
    assert stats["lifetime"] == lifetime  # lifetime savings survive a reset
    assert proxy.call("GET", "/stats-history").json()["buckets"] == []


def test_reset_is_refused_to_other_machines() -> None:
    client = testing.TestClient(create_app(ProxyConfig()))
    assert client.simulate_post("/stats/reset", remote_addr="10.1.2.3").status_code == 403
    assert client.simulate_post("/stats/reset", remote_addr="127.0.0.1").status_code == 200
    assert client.simulate_post("/stats/reset", remote_addr="::1").status_code == 200


def test_percentiles_by_nearest_rank() -> None:
    assert percentiles(range(1, 101)) == {"p50": 1 + 49, "p90": 90, "p99": 99}
    assert percentiles([]) == {"p50": None, "p90": None, "p99": None}
