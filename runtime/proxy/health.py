"""Health endpoints, for service managers and for people: is the process serving (`/livez`), can it do its work
(`/readyz`), and what is it running (`/health`)."""

from __future__ import annotations

import falcon

from headroom import __version__
from headroom.runtime.engine import Engine
from headroom.runtime.proxy.budget import Ledger
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.providers import Provider


class Livez:
    """200 whenever the process answers at all."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class Readyz:
    """200 when the policy's router is loaded and the reversible store takes writes; else 503 naming what
    failed (compressing without a writable store would replace text nobody could retrieve)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = {
            "rules": callable(getattr(self._engine.router.module, "route", None)),
            "store": self._engine.store is not None and self._engine.store.writable(),
        }
        failed = [name for name, ok in checks.items() if not ok]
        resp.status = falcon.HTTP_503 if failed else falcon.HTTP_200
        resp.media = {"status": "unavailable" if failed else "ready", "checks": checks, "failed": failed}


class Health:
    """What is running: the version, the policy (its path and the hash of its sources), the upstreams, and the
    budget (None when no budget is set; `headroom doctor` reads it here)."""

    def __init__(self, engine: Engine, config: ProxyConfig, ledger: Ledger | None) -> None:
        self._engine = engine
        self._config = config
        self._ledger = ledger

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        router = self._engine.router
        resp.media = {
            "status": "ok",
            "version": __version__,
            "optimize": self._config.optimize,
            "rules": {"path": str(router.entry), "hash": getattr(router.module, "SOURCE_HASH", None)},
            "upstreams": {provider.value: self._config.upstream_url(provider) for provider in Provider},
            "budget": self._ledger.report() if self._ledger else None,
        }
