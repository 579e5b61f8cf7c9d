"""Rate limiting per client address, off unless `--rpm N` turns it on.

A token bucket per client: it holds up to N requests and refills at N per minute, so a client may send a burst of
N at once, then N a minute. Off by default because a coding agent's subagents send bursts that an ordinary
per-minute limit rejects, and the provider limits them anyway; it is for a proxy shared over a network.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import falcon

from headroom.runtime.proxy.errors import RateLimited

_MAX_CLIENTS = 10_000  # past this many buckets, the full ones (clients idle for a minute or more) are dropped


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per key, `per_minute` deep, refilled at `per_minute` a minute. Thread-safe."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when there was one, else the seconds until there will be."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key) or self._new(key, now)
            bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self._rate

    def _new(self, key: str, now: float) -> _Bucket:
        if len(self._buckets) >= _MAX_CLIENTS:
            refilled = self._capacity / self._rate
            self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refilled}
        self._buckets[key] = _Bucket(self._capacity, now)
        return self._buckets[key]


class RateLimit:
    """Middleware: a request over its client's limit is answered 429, with the whole seconds to wait in
    `Retry-After`, before it reaches any endpoint."""

    def __init__(self, buckets: TokenBuckets) -> None:
        self._buckets = buckets

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        wait = self._buckets.take(req.remote_addr or "")
        if wait > 0:
            raise RateLimited("too many requests from this client: over the proxy's --rpm limit", math.ceil(wait))
