"""The proxy fixtures, shared by the proxy's tests and the commands' (`tests/cli`) that read what it wrote: the
stand-in provider, and proxies pointed at it (see `support.proxy_harness`). A conftest imports them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.proxy_harness import Proxy, StandIn, launch_proxy


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.fixture
def start_proxy(stand_in: StandIn) -> Iterator[Callable[..., Proxy]]:
    """Starts proxies on the stand-in, with configuration overrides and an engine of the test's choosing."""
    started: list[Proxy] = []

    def start(engine: Any = None, **overrides: Any) -> Proxy:
        started.append(launch_proxy(stand_in, engine, **overrides))
        return started[-1]

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def proxy(start_proxy: Callable[..., Proxy]) -> Proxy:
    return start_proxy()
