"""The relay, on its own: where events end, what a broken stream becomes, and what happens to the upstream
connection when the response is over."""

from __future__ import annotations

import json

import pytest
from urllib3.exceptions import ProtocolError

from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.streaming import Relay, events_end


@pytest.mark.parametrize(
    ("buffer", "end"),
    [
        (b"", 0),
        (b"data: 1\n", 0),
        (b"data: 1\n\n", 9),
        (b"data: 1\n\ndata: 2", 9),
        (b"data: 1\r\n\r\ndata: 2\r\n\r\n", 22),
        (b"data: 1\r\rdata", 9),
    ],
)
def test_events_end(buffer: bytes, end: int) -> None:
    assert events_end(buffer) == end


class FakeAnswer:
    """An upstream answer that hands out its pieces one read at a time, then fails if told to."""

    def __init__(self, pieces: list[bytes], content_type: str = "text/event-stream", fail: bool = False) -> None:
        self.headers = {"content-type": content_type}
        self._pieces = list(pieces)
        self._fail = fail
        self.closed = self.released = False

    def read1(self, amount: int, decode_content: bool) -> bytes:
        if self._pieces:
            return self._pieces.pop(0)
        if self._fail:
            raise ProtocolError("Connection broken: IncompleteRead")
        return b""

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        self.released = True


def test_events_go_out_whole_however_they_arrive() -> None:
    answer = FakeAnswer([b"event: a\nda", b"ta: 1\n\nevent: b\n", b"data: 2\n\n"])
    assert list(Relay(answer, Provider.ANTHROPIC)) == [b"event: a\ndata: 1\n\n", b"event: b\ndata: 2\n\n"]


def test_an_answer_read_to_its_end_goes_back_to_the_pool() -> None:
    answer = FakeAnswer([b"data: 1\n\n"])
    relay = Relay(answer, Provider.OPENAI)
    list(relay)
    relay.close()
    assert answer.released and not answer.closed


def test_an_answer_left_unread_is_closed() -> None:
    answer = FakeAnswer([b"data: 1\n\n", b"data: 2\n\n"])
    relay = Relay(answer, Provider.OPENAI)
    next(iter(relay))  # the client went away after the first event
    relay.close()
    assert answer.closed


def test_a_broken_event_stream_ends_with_an_error_event_and_drops_the_half_event() -> None:
    answer = FakeAnswer([b'data: 1\n\ndata: {"half'], fail=True)
    relay = Relay(answer, Provider.OPENAI)
    first, error = list(relay)
    relay.close()
    assert first == b"data: 1\n\n"
    name, data, blank = error.decode().split("\n", 2)
    assert name == "event: error" and blank == "\n"
    assert json.loads(data.removeprefix("data: "))["error"]["code"] == "upstream_stream_broken"
    assert answer.closed


def test_a_broken_plain_body_raises_so_the_server_drops_the_connection() -> None:
    answer = FakeAnswer([b'{"partial": '], content_type="application/json", fail=True)
    pieces = iter(Relay(answer, Provider.ANTHROPIC))
    assert next(pieces) == b'{"partial": '
    with pytest.raises(ProtocolError):
        next(pieces)
