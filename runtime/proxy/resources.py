"""The proxy's endpoints toward the providers: the conversation endpoints, whose messages are compressed, and a
passthrough for everything else.

Every request goes upstream with the client's headers (see `upstream.request_headers`) and its path and query as
the client wrote them; every answer, error statuses included, comes back as the provider gave it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import falcon

from headroom.runtime.proxy.accounting import note
from headroom.runtime.proxy.bodies import Compression, parse_conversation, read_body
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.providers import Provider, provider_for
from headroom.runtime.proxy.retrieval import Retrieval
from headroom.runtime.proxy.retrieval_shapes import SHAPES
from headroom.runtime.proxy.streaming import relay
from headroom.runtime.proxy.upstream import Upstream, request_headers


class Conversation:
    """`POST /v1/messages` (Anthropic) and `POST /v1/chat/completions` (OpenAI): the body's messages are
    compressed, then the request is forwarded and the answer, streamed or not, relayed as it arrives. When
    compression stored originals, `retrieval` runs the retrieve loop instead (see `retrieval`). Other methods on
    these paths are answered 405 by Falcon: no provider defines them."""

    def __init__(self, provider: Provider, compression: Compression, upstream: Upstream, config: ProxyConfig,
                 retrieval: Retrieval) -> None:  # fmt: skip
        self._provider = provider
        self._compression = compression
        self._upstream = upstream
        self._config = config
        self._retrieval = retrieval

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = read_body(req, self._config.max_body_bytes)
        body = parse_conversation(raw, self._config.max_messages)
        outgoing = self._compression.outgoing(raw, body)
        note(req, self._provider, body, outgoing.result)
        headers = request_headers(req.headers_lower)
        send = partial(self._upstream.send, self._provider, req.method, target(req), headers)
        self._retrieval.forward(resp, SHAPES[self._provider], req.method, send, outgoing)
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
