"""Health endpoints: the process serves, it can do its work, and what it is running."""

from __future__ import annotations

from headroom import __version__
from headroom.runtime.engine import Engine, engine_for


def test_livez(proxy) -> None:
    reply = proxy.call("GET", "/livez")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})


def test_readyz_when_rules_and_store_are_there(proxy) -> None:
    reply = proxy.call("GET", "/readyz")
    assert reply.status == 200
    assert reply.json()["failed"] == []


def test_readyz_names_what_failed(start_proxy) -> None:
    proxy = start_proxy(engine=Engine(engine_for(None).router, None))
    reply = proxy.call("GET", "/readyz")
    assert reply.status == 503
    assert reply.json() == {"status": "unavailable", "checks": {"rules": True, "store": False}, "failed": ["store"]}


def test_health_says_what_is_running(start_proxy, stand_in) -> None:
    proxy = start_proxy(optimize=False)
    health = proxy.call("GET", "/health").json()
    router = engine_for(None).router
    assert health["version"] == __version__
    assert health["optimize"] is False
    assert health["rules"] == {"path": str(router.entry), "hash": router.module.SOURCE_HASH}
    assert health["upstreams"] == {"anthropic": stand_in.url + "/anthropic", "openai": stand_in.url + "/openai"}
    assert health["budget"] is None  # none set (test_budget.py has one)
