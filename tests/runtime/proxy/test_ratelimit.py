"""Rate limiting: off by default; with `--rpm N`, each client address gets N requests at once and N a minute, and
past that a provider-shaped 429 with `Retry-After`."""

from __future__ import annotations

from headroom.runtime.proxy.ratelimit import TokenBuckets


def test_off_by_default(proxy) -> None:
    assert {proxy.call("GET", "/livez").status for _ in range(100)} == {200}


def test_over_the_limit_is_a_429_with_retry_after(start_proxy, stand_in) -> None:
    proxy = start_proxy(rpm=2)
    assert [proxy.call("GET", "/livez").status for _ in range(2)] == [200, 200]
    reply = proxy.post("/v1/chat/completions", {"model": "gpt-4o", "messages": []})
    assert reply.status == 429
    assert reply.header("retry-after") == "30"  # one request every 30 s
    assert reply.json()["error"] == {"message": reply.json()["error"]["message"], "type": "requests", "param": None,
                                     "code": "rate_limit_exceeded"}  # fmt: skip
    assert stand_in.received == []


def test_buckets_refill_and_are_per_client() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(60)] == [0.0] * 60
    assert buckets.take("a") == 1.0
    assert buckets.take("b") == 0.0
    now[0] = 2.5
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.5]
