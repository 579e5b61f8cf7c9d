"""Stopping: the listening socket closes, requests in flight finish, then `serve` returns; a second stop does not
wait. (The command's SIGTERM handler calls the same `stop`; tests/cli/test_commands.py sends the real signal.)"""

from __future__ import annotations

import socket
import threading

import pytest
from support.proxy_harness import WAIT, all_events, anthropic_events, events, read_event

STREAM = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 10,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


def test_a_stream_in_flight_finishes_after_stop(proxy, stand_in) -> None:
    sent = anthropic_events()
    gates = [threading.Event() for _ in sent[1:]]
    stand_in.then(events(*sent, gates=gates))
    response = proxy.open_stream("/v1/messages", STREAM)
    assert read_event(response) == sent[0]
    proxy.server.stop()
    for gate in gates:
        gate.set()
    assert list(all_events(response)) == sent[1:]
    proxy.thread.join(WAIT)
    assert not proxy.thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT)


def test_a_second_stop_does_not_wait(proxy, stand_in) -> None:
    never = threading.Event()
    stand_in.then(events(*anthropic_events(), gates=[never]))
    response = proxy.open_stream("/v1/messages", STREAM)
    assert read_event(response) == anthropic_events()[0]
    proxy.server.stop()
    proxy.server.stop()
    proxy.thread.join(WAIT)
    assert not proxy.thread.is_alive()
    never.set()
