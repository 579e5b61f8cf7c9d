"""`/metrics` in Prometheus's text exposition format (version 0.0.4), written by hand: the format is a few lines
of text, and a client library would be one more dependency for every user of the proxy.

Counters are per model, histograms in seconds, as Prometheus's naming conventions ask.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from typing import Any

import falcon

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OVERHEAD_BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_PER_MODEL = (
    ("requests", "requests_total", "Requests served."),
    ("errors", "errors_total", "Requests answered with a status of 400 or more, or broken off."),
    ("tokens_before", "tokens_before_total", "Tokens in the conversations as clients sent them."),
    ("tokens_after", "tokens_after_total", "Tokens in the conversations as they went upstream."),
    ("tokens_saved", "tokens_saved_total", "Tokens compression removed."),
    ("input_tokens", "upstream_input_tokens_total", "Input tokens the provider reported."),
    ("output_tokens", "upstream_output_tokens_total", "Output tokens the provider reported."),
)


class Histogram:
    """Observations counted into buckets by upper bound (seconds). Not locked: `Stats` holds it under its lock."""

    def __init__(self, bounds: Iterable[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def copy(self) -> Histogram:
        other = Histogram(self.bounds)
        other.counts, other.sum = list(self.counts), self.sum
        return other


def render(stats: Mapping[str, Any], histograms: Mapping[str, tuple[str, Histogram]]) -> str:
    """The exposition of a `/stats` snapshot and of the named histograms (name: (help, histogram))."""
    lines: list[str] = []
    by_model = stats["by_model"]
    for key, name, text in _PER_MODEL:
        lines += _family(f"headroom_{name}", "counter", text)
        lines += [f'headroom_{name}{{model="{_escape(model)}"}} {tally[key]}' for model, tally in by_model.items()]
    lines += _family("headroom_lifetime_tokens_saved", "gauge", "Tokens saved since the savings file was started.")
    lines.append(f"headroom_lifetime_tokens_saved {stats['lifetime']['tokens_saved']}")
    for name, (text, histogram) in histograms.items():
        lines += _family(f"headroom_{name}", "histogram", text)
        lines += _histogram(f"headroom_{name}", histogram)
    return "\n".join(lines) + "\n"


def _family(name: str, kind: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _histogram(name: str, histogram: Histogram) -> list[str]:
    lines, running = [], 0
    for bound, count in zip([*histogram.bounds, math.inf], histogram.counts, strict=True):
        running += count
        lines.append(f'{name}_bucket{{le="{"+Inf" if bound == math.inf else f"{bound:g}"}"}} {running}')
    return [*lines, f"{name}_sum {histogram.sum:.6f}", f"{name}_count {running}"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """`GET /metrics`."""

    def __init__(self, stats: Any) -> None:  # a `stats.Stats`; typed loosely so stats.py can import this module
        self._stats = stats

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE
        resp.text = render(self._stats.snapshot(), self._stats.histograms())
