"""`POST /v1/responses` (OpenAI's Responses API, which Codex speaks): its input items are compressed like a chat
conversation's messages, then the request is forwarded and the answer relayed, streamed or not.

The engine reads Responses items directly (`runtime/messages.py`): message items' text parts, and each
`function_call_output` as the result of the `function_call` with its `call_id`. Compression only replaces text, so
the items keep their number, order, ids, call ids and arguments. An `input` that is a string is the user's own
prompt, which no policy compresses, so it is forwarded as it came.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import falcon

from headroom.runtime.proxy.accounting import note
from headroom.runtime.proxy.bodies import Compression, Outgoing, parse_object, read_body, serialize
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.errors import InvalidRequest
from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.resources import target
from headroom.runtime.proxy.streaming import relay
from headroom.runtime.proxy.upstream import Upstream, request_headers


class Responses:
    def __init__(self, compression: Compression, upstream: Upstream, config: ProxyConfig) -> None:
        self._compression = compression
        self._upstream = upstream
        self._config = config

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = read_body(req, self._config.max_body_bytes)
        body = parse_responses(raw, self._config.max_messages)
        outgoing = self._outgoing(raw, body)
        note(req, Provider.OPENAI, {"model": body.get("model", ""), "messages": body.get("input")}, outgoing.result)
        headers = request_headers(req.headers_lower)
        answer = self._upstream.send(Provider.OPENAI, req.method, target(req), headers, outgoing.body)
        relay(resp, answer, Provider.OPENAI, req.method)
        resp.set_headers(outgoing.headers)

    def _outgoing(self, raw: bytes, body: dict[str, Any]) -> Outgoing:
        """The body to send: the client's bytes, unless compression changed an item. Compression is given the
        items as a conversation's `messages`, and what it sends back is put in `input` again."""
        items = body.get("input")
        if not isinstance(items, list):
            return Outgoing(raw)
        outgoing = self._compression.outgoing(raw, {"model": body.get("model", ""), "messages": items})
        if outgoing.body is raw:
            return outgoing
        compressed = json.loads(outgoing.body)["messages"]
        return dataclasses.replace(outgoing, body=serialize({**body, "input": compressed}))


def parse_responses(raw: bytes, max_items: int) -> dict[str, Any]:
    """The body as a JSON object whose `input`, if any, is a string or a list of at most `max_items` items;
    `InvalidRequest` when it is not. Everything else is the provider's to check."""
    body = parse_object(raw)
    items = body.get("input")
    if items is not None and not isinstance(items, (str, list)):  # none: the input is a stored prompt's
        raise InvalidRequest("'input' must be a string or an array")
    if isinstance(items, list) and len(items) > max_items:
        raise InvalidRequest(f"{len(items)} input items is more than the {max_items} the proxy accepts")
    if not isinstance(body.get("model", ""), str):
        raise InvalidRequest("'model' must be a string")
    return body
