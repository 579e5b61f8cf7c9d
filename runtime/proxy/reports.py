"""The endpoints that report the proxy's numbers: `/stats`, `/stats-history`, and `POST /stats/reset`, which only
a caller on this machine may use (anyone who can reach the proxy could otherwise erase what others measure)."""

from __future__ import annotations

import falcon

from headroom.runtime.proxy.access import loopback_only
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

    @falcon.before(loopback_only)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._stats.reset()
        resp.media = {"status": "reset"}
