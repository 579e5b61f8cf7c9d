"""Relaying an upstream answer to the client as it arrives, streamed or not.

Each piece read from the upstream is handed to the WSGI server as soon as it is read: Falcon passes an iterable
`resp.stream` straight through, and waitress (3.x) writes every piece to the socket at once (its `send_bytes`
buffering is deprecated and defaults to one byte). An event stream goes out whole events at a time, so when the
upstream breaks off mid-stream the client gets an `event: error` after the last complete event, never glued to
half of one. A body that is not events has no way to carry an error once its status is sent: the connection is
dropped instead, which every client reports as a failed response.

When the client goes away, waitress stops iterating and calls `close()`, which closes the upstream connection, so
the provider stops generating (and billing) an answer nobody reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import falcon
import urllib3
from urllib3.exceptions import HTTPError

from headroom.runtime.proxy.errors import ProxyError, UpstreamStreamBroken, sse_error_event
from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.upstream import response_headers

log = logging.getLogger(__name__)

PIECE = 64 * 1024  # the most read at once; a read returns as soon as anything has arrived
_EVENT_ENDS = (b"\n\n", b"\r\n\r\n", b"\r\r")  # a blank line ends a server-sent event
_NO_BODY = (204, 304)


# The event that tells a stream's reader it broke off, given the events relayed before (the last piece of them).
BrokenEvent = Callable[[ProxyError, bytes], bytes]


def relay(resp: falcon.Response, answer: urllib3.BaseHTTPResponse, provider: Provider, method: str,
          broken: BrokenEvent | None = None) -> None:  # fmt: skip
    """Make the client's response the upstream's answer: its status, its headers and its body as it arrives.
    `broken`: how the stream says it broke off, when not as an `event: error` in the provider's error shape."""
    resp.status = answer.status
    for name, value in response_headers(answer.headers.items()):
        resp.append_header(name, value)
    if method == "HEAD" or answer.status in _NO_BODY or answer.status < 200:
        answer.drain_conn()  # Falcon sends no body for these and would never close a stream
        answer.release_conn()
        return
    resp.stream = Relay(answer, provider, broken)


class Relay:
    """The body of an upstream answer, as the WSGI iterable of the client's response."""

    def __init__(self, answer: urllib3.BaseHTTPResponse, provider: Provider, broken: BrokenEvent | None = None) -> None:
        self._answer = answer
        self._broken = broken or (lambda error, _relayed: sse_error_event(provider, error))
        self._events = answer.headers.get("content-type", "").startswith("text/event-stream")
        self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        pending = b""  # the start of an event whose end has not arrived
        relayed = b""  # the last complete events sent
        try:
            while piece := self._answer.read1(PIECE, decode_content=False):
                if not self._events:
                    yield piece
                    continue
                pending += piece
                end = events_end(pending)
                if end:
                    relayed, pending = pending[:end], pending[end:]
                    yield relayed
        except (HTTPError, OSError) as error:
            log.warning("the upstream's answer broke off: %s", error)
            if not self._events:
                raise
            yield self._broken(UpstreamStreamBroken(f"the upstream's stream broke off: {error}"), relayed)
            return
        if pending:
            yield pending
        self._complete = True

    def close(self) -> None:
        """Called by the server when the response is over: a connection read to its end goes back to the pool;
        any other is closed (the client went away, or the upstream broke off)."""
        if not self._complete:
            self._answer.close()
        self._answer.release_conn()


def events_end(buffer: bytes) -> int:
    """Where the last complete event in `buffer` ends; 0 when none has."""
    return max((buffer.rfind(end) + len(end) for end in _EVENT_ENDS if end in buffer), default=0)
