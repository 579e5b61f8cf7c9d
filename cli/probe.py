"""Is a headroom proxy answering on a port, and what is it running? Asked by `doctor` (to report it) and by `wrap`
(to reuse it rather than start a second one)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

LIVENESS_TIMEOUT = 2.0  # seconds; a proxy slower than this to say it is alive is as good as down


@dataclass(frozen=True)
class RunningProxy:
    url: str  # e.g. http://127.0.0.1:8787
    health: dict[str, Any]  # its /health answer: version, rules path and hash, upstreams, ...

    @property
    def version(self) -> str | None:
        return self.health.get("version")


def proxy_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def running_proxy(host: str, port: int, timeout: float = LIVENESS_TIMEOUT) -> RunningProxy | None:
    """The headroom proxy on `host:port`, or None when nothing answers there or what answers is not headroom."""
    url = proxy_url(host, port)
    if get_json(url + "/livez", timeout) is None:
        return None
    health = get_json(url + "/health", timeout)
    if health is None or "version" not in health:
        return None
    return RunningProxy(url, health)


def get_json(url: str, timeout: float) -> dict[str, Any] | None:
    """The JSON object a 2xx answer carries; None for anything else (an error status is an HTTPError)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = json.loads(answer.read())
    except (OSError, ValueError):  # refused, timed out, reset, not JSON (urllib.error.URLError is an OSError)
        return None
    return body if isinstance(body, dict) else None
