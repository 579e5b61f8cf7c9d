"""`/metrics` through the real proxy, parsed as Prometheus's text exposition format: every sample belongs to a
family declared with `# HELP` and `# TYPE`, counters count, and histograms' buckets are cumulative up to `+Inf`."""

from __future__ import annotations

import re
from collections import defaultdict

from support.proxy_harness import Proxy
from support.usage_answers import counted

from headroom.runtime.proxy.metrics import CONTENT_TYPE

SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)')


def parse(text: str) -> tuple[dict[str, str], dict[str, list[tuple[str, float]]]]:
    """(family: type, family: [(labels, value)]); fails on any line the format does not allow."""
    types: dict[str, str] = {}
    helps: set[str] = set()
    samples: dict[str, list[tuple[str, float]]] = defaultdict(list)
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name in helps and name not in types and kind in ("counter", "gauge", "histogram")
            types[name] = kind
        else:
            match = SAMPLE.fullmatch(line)
            assert match, line
            name, labels, value = match.groups()
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
            assert family in types, f"{name} has no # TYPE"
            samples[name].append((labels or "", float(value)))
    return types, samples


def test_metrics_parse_and_count_the_requests(proxy: Proxy) -> None:
    proxy.call("GET", "/v1/models")
    counted(proxy, 1)
    reply = proxy.call("GET", "/metrics")
    assert reply.status == 200 and reply.header("content-type") == CONTENT_TYPE
    types, samples = parse(reply.body.decode())
    assert types["headroom_requests_total"] == "counter"
    assert types["headroom_request_duration_seconds"] == "histogram"
    assert sum(value for _, value in samples["headroom_requests_total"]) == 1
    for histogram in ("headroom_request_duration_seconds", "headroom_proxy_overhead_seconds"):
        buckets = [value for _, value in samples[f"{histogram}_bucket"]]
        assert buckets == sorted(buckets) and samples[f"{histogram}_bucket"][-1][0] == '{le="+Inf"}'
        assert buckets[-1] == samples[f"{histogram}_count"][0][1]
    assert samples["headroom_request_duration_seconds_count"][0][1] == 1
