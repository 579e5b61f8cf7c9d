"""The endpoints that report the proxy's numbers: `/stats`, `/stats-history`, and `POST /stats/reset`, which only
a caller on this machine may use (anyone who can reach the proxy could otherwise erase what others measure)."""

from __future__ import annotations

import ipaddress

import falcon

from headroom.runtime.proxy.errors import Forbidden
from headroom.runtime.proxy.metrics import Metrics
from headroom.runtime.proxy.stats import Stats


def add_reports(app: falcon.App, stats: Stats) -> None:
    """The routes that report `stats`."""
    app.add_route("/stats", StatsReport(stats))
    app.add_route("/stats-history", StatsHistory(stats))
    app.add_route("/stats/reset", StatsReset(stats))
    app.add_route("/metrics", Metrics(stats))


class StatsReport:
    """`GET /stats`."""

    def __init__(self, stats: Stats) -> None:
        self._stats = stats

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._stats.snapshot()


class StatsHistory:
    """`GET /stats-history`: the numbers per minute, for the last day."""

    def __init__(self, stats: Stats) -> None:
        self._stats = stats

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._stats.history()


class StatsReset:
    """`POST /stats/reset`, from loopback only (403 otherwise); lifetime savings are not reset."""

    def __init__(self, stats: Stats) -> None:
        self._stats = stats

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not is_loopback(req.remote_addr):
            raise Forbidden(f"{req.path} answers only callers on this machine")
        self._stats.reset()
        resp.media = {"status": "reset"}


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False
