"""Fixtures for the commands that read what the proxy wrote: a data folder of the test's own, and real traffic
through a real proxy with its default files written into it (see `support.traffic`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.proxy_fixtures import proxy, stand_in, start_proxy
from support.proxy_harness import Proxy
from support.traffic import Recorded, send_traffic

__all__ = ["proxy", "stand_in", "start_proxy"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """An empty data folder, where proxies started by the test write (and commands read)."""
    monkeypatch.setenv("HEADROOM_STORE_PATH", str(tmp_path / "store.db"))
    return Recorded(tmp_path, {})


@pytest.fixture
def recorded(home: Recorded, start_proxy: Callable[..., Proxy]) -> Recorded:
    return send_traffic(start_proxy(), home.home)
