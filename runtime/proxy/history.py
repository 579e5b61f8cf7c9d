"""`/stats-history`'s time series: the numbers per minute, for the last day, in memory (bounded: 1,440 buckets)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

from headroom.runtime.proxy.tally import Exchange, Tally

BUCKET_SECONDS = 60
BUCKETS = 24 * 60


class History:
    """Per-minute tallies, oldest first; a minute without requests has no bucket. Not locked: `Stats` holds it
    under its own lock."""

    def __init__(self, bucket_seconds: int = BUCKET_SECONDS, buckets: int = BUCKETS) -> None:
        self._seconds = bucket_seconds
        self._buckets: deque[tuple[int, Tally]] = deque(maxlen=buckets)

    def add(self, exchange: Exchange) -> None:
        start = int(exchange.started) // self._seconds * self._seconds
        if not self._buckets or self._buckets[-1][0] < start:
            self._buckets.append((start, Tally()))
        self._buckets[-1][1].add(exchange)  # a request finishing late lands in the newest bucket

    def as_dict(self, now: float) -> dict[str, Any]:
        oldest = now - self._seconds * (self._buckets.maxlen or 0)
        return {
            "bucket_seconds": self._seconds,
            "buckets": [
                {"start": datetime.fromtimestamp(start, UTC).isoformat(), **tally.as_dict()}
                for start, tally in self._buckets
                if start >= oldest
            ],
        }
