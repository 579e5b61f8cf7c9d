"""The proxy's endpoints toward the providers: the conversation endpoints, whose messages are compressed, and a
passthrough for everything else.

Every request goes upstream with the client's headers (see `upstream.request_headers`) and its path and query as
the client wrote them; every answer, error statuses included, comes back as the provider gave it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import falcon

from headroom.runtime.proxy.accounting import note
from headroom.runtime.proxy.bodies import Compression, parse_conversation, read_body
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.providers import provider_for
from headroom.runtime.proxy.responses import parse_responses
from headroom.runtime.proxy.retrieval import Retrieval
from headroom.runtime.proxy.retrieval_shapes import ChatShape, MessagesShape, ResponsesShape, Shape
from headroom.runtime.proxy.streaming import relay
from headroom.runtime.proxy.upstream import Upstream, request_headers


@dataclass(frozen=True)
class Api:
    """What one conversation API does its own way; serving it is otherwise the same for all (`Conversation`)."""

    parse: Callable[[bytes, int], dict[str, Any]]  # the body checked, from its bytes and the most messages taken
    messages: str  # the body's field holding the conversation, which is compressed and logged
    shape: Shape  # how its bodies and answers carry the retrieve tool, and the provider it goes to


ANTHROPIC_MESSAGES = Api(parse_conversation, "messages", MessagesShape())
CHAT_COMPLETIONS = Api(parse_conversation, "messages", ChatShape())
RESPONSES = Api(parse_responses, "input", ResponsesShape())  # its input items stand for the messages


class Conversation:
    """`POST /v1/messages` (Anthropic), `POST /v1/chat/completions` and `POST /v1/responses` (OpenAI), each with
    its `Api`: the body's messages are compressed, then the request is forwarded and the answer, streamed or not,
    relayed as it arrives. When compression stored originals, `retrieval` runs the retrieve loop instead (see
    `retrieval`). Other methods on these paths are answered 405 by Falcon: no provider defines them."""

    def __init__(self, api: Api, compression: Compression, upstream: Upstream, config: ProxyConfig,
                 retrieval: Retrieval) -> None:  # fmt: skip
        self._api = api
        self._compression = compression
        self._upstream = upstream
        self._config = config
        self._retrieval = retrieval

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        api, provider = self._api, self._api.shape.provider
        raw = read_body(req, self._config.max_body_bytes)
        body = api.parse(raw, self._config.max_messages)
        outgoing = self._compression.outgoing(raw, body, api.messages)
        note(req, provider, body.get("model", ""), body.get(api.messages), outgoing.result)
        headers = request_headers(req.headers_lower)
        send = partial(self._upstream.send, provider, req.method, target(req), headers)
        self._retrieval.forward(resp, api.shape, req.method, send, outgoing)
        resp.set_headers(outgoing.headers)


class Passthrough:
    """Every other path, every method (a Falcon sink): `/v1/messages/count_tokens`, `/v1/messages/batches*`,
    `/v1/models*`, `/v1/files*` and anything a provider adds later, forwarded with its bytes unchanged to the
    provider `providers.provider_for` names."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    def __call__(self, req: falcon.Request, resp: falcon.Response, **params: Any) -> None:
        provider = provider_for(req.path, req.headers_lower)
        body = req.bounded_stream.read() or None  # no body stays no body (no `content-length: 0` added to a GET)
        answer = self._upstream.send(provider, req.method, target(req), request_headers(req.headers_lower), body)
        relay(resp, answer, provider, req.method)


def target(req: falcon.Request) -> str:
    """The path and query as the client sent them: waitress keeps the raw request URI, so nothing is decoded and
    encoded again on the way (Falcon's own `relative_uri` is the fallback for other servers)."""
    raw = req.env.get("REQUEST_URI", "")
    return raw if raw.startswith("/") else req.relative_uri
