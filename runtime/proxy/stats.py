"""The proxy's numbers since it started (or was last reset): requests and tokens in all, by model, by tool and by
content kind; latency and overhead percentiles; the per-minute history; the histograms `/metrics` exposes. One
`Stats` is made by `create_app` and handed to the middleware that records each request and to the endpoints that
report; every method is thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from headroom.runtime.proxy.budget import Ledger
from headroom.runtime.proxy.daybook import Counted
from headroom.runtime.proxy.history import History
from headroom.runtime.proxy.metrics import LATENCY_BOUNDS, OVERHEAD_BOUNDS, Histogram
from headroom.runtime.proxy.savings import Savings
from headroom.runtime.proxy.tally import BlockTally, Exchange, Tally

SAMPLES = 10_000  # the latest requests percentiles are computed over
PERCENTILES = (50, 90, 99)
UNDETECTED = "undetected"  # the kind of a block nothing needed the kind of
NO_TOOL = "none"  # the tool of a block that is no tool's result


class Stats:
    def __init__(self, savings: Savings, ledger: Ledger | None, clock: Callable[[], float] = time.time) -> None:
        self.savings = savings
        self._ledger = ledger
        self._clock = clock
        self._lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        self._since = self._clock()
        self._totals = Tally()
        self._by_model: defaultdict[str, Tally] = defaultdict(Tally)
        self._by_tool: defaultdict[str, BlockTally] = defaultdict(BlockTally)
        self._by_kind: defaultdict[str, BlockTally] = defaultdict(BlockTally)
        self._latency: deque[float] = deque(maxlen=SAMPLES)
        self._overhead: deque[float] = deque(maxlen=SAMPLES)
        self._latency_histogram = Histogram(LATENCY_BOUNDS)
        self._overhead_histogram = Histogram(OVERHEAD_BOUNDS)
        self._history = History()

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._totals.add(exchange)
            self._by_model[exchange.model or "unknown"].add(exchange)
            for block in exchange.blocks:
                self._by_tool[block.tool or NO_TOOL].add(block)
                self._by_kind[block.kind or UNDETECTED].add(block)
            self._latency.append(exchange.total_ms)
            self._latency_histogram.observe(exchange.total_ms / 1000)
            if exchange.overhead_ms is not None:
                self._overhead.append(exchange.overhead_ms)
                self._overhead_histogram.observe(exchange.overhead_ms / 1000)
            self._history.add(exchange)
        self.savings.add(as_counted(exchange))

    def reset(self) -> None:
        """Start the numbers afresh; lifetime savings are kept."""
        with self._lock:
            self._start()

    def snapshot(self) -> dict[str, Any]:
        """`/stats`: the numbers as JSON-ready values."""
        budget = self._ledger.report() if self._ledger else None  # outside the lock: it reads the budget's file
        with self._lock:
            return {
                "since": datetime.fromtimestamp(self._since, UTC).isoformat(),
                **self._totals.as_dict(),
                "by_model": _as_dicts(self._by_model),
                "by_tool": _as_dicts(self._by_tool),
                "by_kind": _as_dicts(self._by_kind),
                "latency_ms": percentiles(self._latency),
                "overhead_ms": percentiles(self._overhead),
                "lifetime": self.savings.totals(),
                "budget": budget,
            }

    def history(self) -> dict[str, Any]:
        with self._lock:
            return self._history.as_dict(self._clock())

    def histograms(self) -> dict[str, tuple[str, Histogram]]:
        """Copies of the histograms, by their metric names, with their help texts."""
        with self._lock:
            return {
                "request_duration_seconds": ("Time from a request's arrival to its answer's last byte.",
                                             self._latency_histogram.copy()),
                "proxy_overhead_seconds": ("Time the proxy spent on a request itself (parsing, compressing) "
                                           "before forwarding it.", self._overhead_histogram.copy()),
            }  # fmt: skip


def as_counted(exchange: Exchange) -> Counted:
    """An exchange as the lifetime and daily savings count it."""
    blocks = tuple((block.tool or NO_TOOL, block.tokens_before, block.tokens_after) for block in exchange.blocks)
    return Counted(exchange.started, exchange.model or "unknown", exchange.client or "unknown",
                   exchange.tokens_before, exchange.tokens_after, blocks)  # fmt: skip


def percentiles(samples: Iterable[float]) -> dict[str, float | None]:
    """p50, p90 and p99 by the nearest-rank method, in the samples' unit; None when there are none."""
    ordered = sorted(samples)
    if not ordered:
        return {f"p{p}": None for p in PERCENTILES}
    return {f"p{p}": round(ordered[max(0, -(-p * len(ordered) // 100) - 1)], 3) for p in PERCENTILES}


def _as_dicts(tallies: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: tally.as_dict() for name, tally in sorted(tallies.items())}
