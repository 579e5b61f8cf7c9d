"""The tokens a provider says an answer used, read from the answer as it passes through the proxy.

Every provider reports usage in its answer: Anthropic as `usage` (input, output, cache writes and reads), in a
stream split over `message_start` and `message_delta`; OpenAI chat as `usage` (prompt and completion tokens), in a
stream in its last chunk when the client asked for it; OpenAI Responses as `usage` on the response, in a stream on
the `response.completed` event. The reader takes each piece of the body as it is relayed and keeps the latest count
of each kind it has seen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_BODY = 8 * 1024**2  # a whole answer kept to read its usage; a larger one is not read
_EVENT_END = b"\n\n"
# The provider's field for each kind of token: Anthropic and Responses names, then OpenAI chat's.
_FIELDS = {
    "input": ("input_tokens", "prompt_tokens"),
    "output": ("output_tokens", "completion_tokens"),
    "cache_write": ("cache_creation_input_tokens",),
    "cache_read": ("cache_read_input_tokens",),
}


@dataclass(frozen=True)
class Usage:
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0


class UsageReader:
    """Reads usage from an answer's body, piece by piece: whole when it is JSON, event by event when it is a
    stream of server-sent events."""

    def __init__(self, events: bool) -> None:
        self._events = events
        self._buffer = b""
        self._counts: dict[str, int] = {}
        self._overflow = False

    def feed(self, piece: bytes) -> None:
        if self._overflow:
            return
        self._buffer += piece
        if self._events:
            end = self._buffer.rfind(_EVENT_END) + len(_EVENT_END)
            for event in self._buffer[:end].replace(b"\r\n", b"\n").split(_EVENT_END):
                self._read_event(event)
            self._buffer = self._buffer[end:]
        if len(self._buffer) > MAX_BODY:
            self._overflow, self._buffer = True, b""

    def usage(self) -> Usage | None:
        """The usage the answer reported so far; None when it reported none."""
        if not self._events and self._buffer:
            self._read(self._buffer)
            self._buffer = b""
        return Usage(**self._counts) if self._counts else None

    def _read_event(self, event: bytes) -> None:
        for line in event.split(b"\n"):
            if line.startswith(b"data:"):
                self._read(line[5:])

    def _read(self, data: bytes) -> None:
        try:
            document = json.loads(data)
        except ValueError:  # `[DONE]`, or not JSON at all
            return
        for usage in _usages(document):
            self._counts.update(_counts(usage))


def _usages(document: Any) -> list[Mapping[str, Any]]:
    """The usage objects in an answer or event: its own, its message's (`message_start`), its response's
    (Responses stream events)."""
    if not isinstance(document, Mapping):
        return []
    holders = [document, document.get("message"), document.get("response")]
    return [h["usage"] for h in holders if isinstance(h, Mapping) and isinstance(h.get("usage"), Mapping)]


def _counts(usage: Mapping[str, Any]) -> dict[str, int]:
    found = {}
    for kind, names in _FIELDS.items():
        value = next((usage[name] for name in names if isinstance(usage.get(name), int)), None)
        if value is not None:
            found[kind] = value
    return found
