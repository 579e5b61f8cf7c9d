"""What every request gets, whatever its endpoint: an id and a log line."""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from typing import Any

import falcon

log = logging.getLogger("headroom.proxy.access")


class RequestLog:
    """Gives every request an id, returned in `x-headroom-request-id` so a client's report can be matched with
    the log, and logs each request when its response starts, with the time the proxy took until then (for a
    streamed answer, until the upstream's first byte). An id is this process's random prefix and a count: unique
    across restarts without asking the OS for randomness on every request."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(4)
        self._count = itertools.count(1)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = f"{self._prefix}{next(self._count):08x}"
        req.context.started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, succeeded: bool) -> None:
        resp.set_header("x-headroom-request-id", req.context.request_id)
        elapsed = (time.perf_counter() - req.context.started) * 1000
        log.info("%s %s %s -> %s in %.1f ms", req.context.request_id, req.method, req.path, resp.status_code, elapsed)
