"""Serving the app with waitress, and stopping gracefully.

waitress's own `serve()` runs its event loop until the process is interrupted, then drops the requests in flight.
The proxy runs that loop itself, on a socket map of its own, so that stopping (SIGTERM, SIGINT, or `stop()`)
first closes the listening sockets, then lets every request in flight finish — streamed answers included, for at
most the request timeout — and only then returns. A second stop does not wait.

waitress is configured for relaying: `channel_request_lookahead=1` keeps reading a connection while its request is
served, so a client that hangs up is noticed at the next piece of its answer (and the upstream request closed);
poll instead of select, so more than 1,024 connections do not break the loop. The requests waitress refuses itself
(a body of 1 GiB or more, a malformed request) are answered in the provider's shape (`refusals`).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import falcon
import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.trigger import trigger as Trigger

from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.refusals import ProviderShapedChannel

log = logging.getLogger(__name__)

_TICK = 1.0  # seconds the loop may sleep between looks at whether it should stop (a stop also wakes it)


class ProxyServer:
    def __init__(self, app: falcon.App, config: ProxyConfig) -> None:
        self._map: dict[int, Any] = {}
        self._server = waitress.create_server(
            app, map=self._map, host=config.host, port=config.port, threads=config.threads, ident="headroom",
            channel_request_lookahead=1, asyncore_use_poll=True,
        )  # fmt: skip
        for listener in self._listeners():
            listener.channel_class = ProviderShapedChannel
        self._triggers = [item for item in self._map.values() if isinstance(item, Trigger)]
        self._grace = config.request_timeout
        self._stopping = threading.Event()
        self._hurry = threading.Event()
        self._closed = False  # set, under the lock, before the loop closes its sockets (and its triggers)
        self._closing = threading.Lock()

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every listening socket (the real port when the configured one was 0)."""
        return [(item.effective_host, item.effective_port) for item in self._listeners()]

    def serve(self) -> None:
        """Serve until stopped; then until the requests in flight are done or the grace period is over."""
        deadline = None
        while True:
            wasyncore.loop(timeout=_TICK, map=self._map, use_poll=True, count=1)
            if not self._stopping.is_set():
                continue
            if deadline is None:
                self._stop_listening()
                deadline = time.monotonic() + self._grace
            if self._idle() or self._hurry.is_set() or time.monotonic() > deadline:
                break
        with self._closing:
            self._closed = True
        self._server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(self._map)

    def stop(self) -> None:
        """Stop accepting and let the requests in flight finish; called again, stop without waiting for them.
        Safe from any thread and from a signal handler."""
        if self._stopping.is_set():
            self._hurry.set()
        self._stopping.set()
        if not self._closing.acquire(blocking=False):  # never blocks: a signal handler may be running this
            return  # the loop is closing already
        try:
            if not self._closed:
                for trigger in self._triggers:
                    trigger.pull_trigger()  # wakes the loop at once
        finally:
            self._closing.release()

    def _listeners(self) -> list[BaseWSGIServer]:
        return [item for item in self._map.values() if isinstance(item, BaseWSGIServer)]

    def _stop_listening(self) -> None:
        for listener in self._listeners():
            # The dispatcher's close, not the server's: that would also close the trigger, which the requests
            # still in flight use to wake the loop.
            wasyncore.dispatcher.close(listener)

    def _idle(self) -> bool:
        channels = [item for item in self._map.values() if isinstance(item, HTTPChannel)]
        return not any(channel.requests or channel.request or channel.total_outbufs_len for channel in channels)


def serve(app: falcon.App, config: ProxyConfig, announce: Callable[[str], None]) -> None:
    """Serve in this (the main) thread until SIGTERM or SIGINT, telling `announce` where it listens."""
    server = ProxyServer(app, config)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.stop())
    for host, port in server.addresses:
        announce(f"listening on http://{f'[{host}]' if ':' in host else host}:{port}")
    server.serve()
