"""Request bodies: reading them within bounds, checking a conversation's shape, and compressing its messages.

The body that goes upstream is the client's own bytes unless compression changed a message: re-serializing can
change bytes without changing meaning (escapes, spacing, number formats), and the promise is that a request with
nothing to compress reaches the provider exactly as it was sent. When compression fails or
runs past its time budget, the original bytes go upstream and the response says so in
`x-headroom-compression-failed`: a compression problem never costs the request.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import falcon

from headroom.runtime.deadline import Workers
from headroom.runtime.engine import CompressResult, Engine
from headroom.runtime.proxy.errors import InvalidRequest, RequestTooLarge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """What goes upstream for a conversation request, and what the client is told about it."""

    raw: bytes  # the client's bytes
    headers: dict[str, str] = field(default_factory=dict)  # x-headroom-* response headers
    compressed: dict[str, Any] | None = None  # the body to send instead, when compression changed a message
    result: CompressResult | None = None  # what compression did, for the numbers; None: it did not run

    @property
    def body(self) -> bytes:
        """The bytes to send. Serialized only when asked: the retrieve loop sends the compressed body with its
        tool added instead, and a conversation is too large to serialize for nothing."""
        return self.raw if self.compressed is None else serialize(self.compressed)


def read_body(req: falcon.Request, limit: int) -> bytes:
    """The request's body; `RequestTooLarge` past `limit` bytes, told by its length before anything is read."""
    if (req.content_length or 0) > limit:
        raise RequestTooLarge(f"request body of {req.content_length} bytes is over the limit of {limit} bytes")
    body = req.bounded_stream.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge(f"request body is over the limit of {limit} bytes")
    return body


def parse_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; `InvalidRequest` when it is not JSON, or not an object."""
    try:
        body = json.loads(raw)
    except ValueError as error:  # UnicodeDecodeError included
        raise InvalidRequest(f"request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise InvalidRequest(f"request body must be a JSON object, not {type(body).__name__}")
    return body


def parse_conversation(raw: bytes, max_messages: int) -> dict[str, Any]:
    """The body as a JSON object with a `messages` list no longer than `max_messages`; `InvalidRequest` when it
    is not. Everything else is the provider's to check."""
    body = parse_object(raw)
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequest("request body must have a 'messages' array")
    if len(messages) > max_messages:
        raise InvalidRequest(f"{len(messages)} messages is more than the {max_messages} the proxy accepts")
    if not isinstance(body.get("model", ""), str):
        raise InvalidRequest("'model' must be a string")
    return body


class Compression:
    """Compresses a conversation body with the engine, within a time budget, on up to `workers` threads at once.
    No engine: bodies go as they are."""

    def __init__(self, engine: Engine | None, budget: float, workers: int) -> None:
        self._engine = engine
        self._budget = budget
        self._workers = Workers(workers, "headroom-compress")

    def outgoing(self, raw: bytes, body: dict[str, Any], field: str) -> Outgoing:
        """What goes upstream for `body`, whose conversation is the list in `field` (`messages`; a Responses body's
        `input` items). A body without that list goes as it is: a Responses `input` that is a string is the user's
        own prompt, which no policy compresses."""
        engine, messages = self._engine, body.get(field)
        if engine is None or not isinstance(messages, list):
            return Outgoing(raw)
        try:
            model, system = body.get("model", ""), body.get("system")
            result = self._workers.run_within(self._budget, lambda: engine.compress(messages, model, system))
        except TimeoutError:
            return self._failed(raw, f"took longer than its budget of {self._budget:g} s")
        except Exception as error:
            return self._failed(raw, f"failed: {type(error).__name__}: {error}")
        headers = {
            "x-headroom-tokens-before": str(result.tokens_before),
            "x-headroom-tokens-after": str(result.tokens_after),
            "x-headroom-tokens-saved": str(result.tokens_saved),
            "x-headroom-transforms": str(len(result.ccr_hashes)),  # blocks compressed
        }
        if not result.ccr_hashes:
            return Outgoing(raw, headers, result=result)
        compressed = {**body, field: result.messages}
        return Outgoing(raw, headers, compressed, result=result)

    def _failed(self, raw: bytes, reason: str) -> Outgoing:
        log.warning("compression %s; the original request is sent", reason)
        return Outgoing(raw, {"x-headroom-compression-failed": "1"})


def serialize(body: dict[str, Any]) -> bytes:
    """A body as compact UTF-8 JSON; with escapes when it holds text UTF-8 cannot encode (lone surrogates)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body, separators=(",", ":")).encode("ascii")
