"""Counting every request once it is over: its tokens, what the provider reported billing, how long it took and
how much of that was the proxy's own work. A streamed answer is over at its last byte, long after Falcon's
`process_response`, so the middleware wraps the body and counts when the server closes it.

The conversation endpoint tells the middleware what it did through `note` (the model and messages, what compression
did, and the moment it began forwarding); a request it was not told about (a passthrough, an error raised before)
is counted with no tokens and no overhead. Requests for the proxy's own endpoints are not counted (see `counted`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import falcon

from headroom.runtime.engine import CompressResult
from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.requestlog import RequestLogFile
from headroom.runtime.proxy.stats import Stats
from headroom.runtime.proxy.tally import Exchange
from headroom.runtime.proxy.usage import UsageReader

log = logging.getLogger(__name__)

PROJECT_HEADER = "x-headroom-project"  # sent by `headroom wrap`; never forwarded (no x-headroom-* header is)
MAX_CLIENT = 100  # characters of a client's name kept: it is a key in the savings file
_ERROR_EVENT = b"event: error"
_UNREAD = "the client went away before the answer ended"


def note(req: falcon.Request, provider: Provider, model: str, messages: Any, result: CompressResult | None) -> None:
    """What a conversation endpoint did before forwarding: called just before it does. `messages` are the body's
    conversation as the client sent it, for the request log."""
    req.context.accounting = (provider, model, messages, result, time.perf_counter())


class Accounting:
    """The middleware that records each request in `stats` and, when there is one, the request log. It relies on
    `middleware.RequestLog` (listed before it) for the request's id and start."""

    def __init__(self, stats: Stats, request_log: RequestLogFile | None) -> None:
        self._stats = stats
        self._log = request_log

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.arrived = time.time()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, succeeded: bool) -> None:
        if not counted(req, resp, resource):
            return
        exchange, messages = self._exchange(req, resp)
        events = (resp.get_header("content-type") or "").startswith("text/event-stream")
        reader = UsageReader(events)
        finish = partial(self._finish, req, exchange, messages, reader)
        if resp.stream is None:
            body = resp.render_body() or b""
            reader.feed(body)
            finish(error_message(body) if exchange.status >= 400 else None)
        else:
            resp.stream = CountedBody(resp.stream, reader, finish)

    def _exchange(self, req: falcon.Request, resp: falcon.Response) -> tuple[Exchange, Any]:
        exchange = Exchange(req.context.request_id, req.method, req.path, resp.status_code, req.context.arrived)
        exchange.client = client_of(req.headers_lower)
        noted = req.context.get("accounting")
        if noted is None:
            return exchange, None
        provider, model, messages, result, forwarded = noted
        exchange.provider, exchange.model = provider.value, model
        exchange.overhead_ms = (forwarded - req.context.started) * 1000
        if result is not None:
            exchange.tokens_before, exchange.tokens_after = result.tokens_before, result.tokens_after
            exchange.tokens_saved, exchange.transforms = result.tokens_saved, result.transforms_applied
            exchange.blocks = result.blocks
        return exchange, messages

    def _finish(self, req: falcon.Request, exchange: Exchange, messages: Any, reader: UsageReader,
                error: str | None) -> None:  # fmt: skip
        exchange.total_ms = (time.perf_counter() - req.context.started) * 1000
        exchange.usage = reader.usage() or exchange.usage
        exchange.error = error
        self._stats.record(exchange)
        if self._log is None:
            return
        try:
            self._log.write(exchange, messages)
        except OSError as failure:
            log.warning("could not write to the request log %s: %s", self._log.path, failure)


class CountedBody:
    """A response body that reads the provider's usage as it goes to the client, and calls `finish` once, when
    the server closes it, with what went wrong (None when nothing did)."""

    def __init__(self, body: Iterable[bytes], reader: UsageReader, finish: Callable[[str | None], None]) -> None:
        self._body = body
        self._reader = reader
        self._finish: Callable[[str | None], None] | None = finish
        self._error: str | None = _UNREAD

    def __iter__(self) -> Iterator[bytes]:
        try:
            for piece in self._body:
                self._reader.feed(piece)
                if piece.startswith(_ERROR_EVENT):
                    self._error = "the answer's stream ended with an error event"
                yield piece
        except Exception as error:
            self._error = f"{type(error).__name__}: {error}"
            raise
        if self._error == _UNREAD:
            self._error = None

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            finish, self._finish = self._finish, None
            if finish is not None:
                finish(self._error)


def counted(req: falcon.Request, resp: falcon.Response, resource: Any) -> bool:
    """Whether a request is one for a provider: a conversation (it noted itself), a passthrough (the sink, which
    Falcon calls with no resource) or one refused. The proxy's own endpoints (health, stats, metrics) are not:
    a monitor polling them would drown the numbers it reads."""
    return resource is None or req.context.get("accounting") is not None or resp.status_code >= 400


def client_of(headers: dict[str, str]) -> str:
    """Who sent a request, for savings by client: the project `headroom wrap` names in `x-headroom-project`, else
    the product in the User-Agent (`claude-cli/2.0.1 (external, cli)` is `claude-cli`), else "unknown"."""
    project = headers.get(PROJECT_HEADER, "").strip()
    product = headers.get("user-agent", "").strip().split(" ", 1)[0].split("/", 1)[0]
    return (project or product or "unknown")[:MAX_CLIENT]


def error_message(body: bytes) -> str:
    """The message of a provider-shaped error body (either provider's shape), else its start."""
    try:
        error = json.loads(body).get("error")
        return str(error.get("message") if isinstance(error, dict) else error)
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace") or "no body"
