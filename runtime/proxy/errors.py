"""The errors the proxy answers itself, and their one mapping to responses.

Code anywhere in the proxy raises a `ProxyError`; the Falcon error handlers registered by `register` turn it into a
response shaped like the provider's own errors, so an SDK reports it the way it reports the provider's (Anthropic:
`{"type": "error", "error": {"type", "message"}}`; OpenAI: `{"error": {"message", "type", "param", "code"}}`).
An exception nobody expected becomes a provider-shaped 500, logged with its traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import falcon

from headroom.runtime.proxy.providers import Provider, provider_for

log = logging.getLogger(__name__)


class ProxyError(Exception):
    """An error of the proxy's own: its status, and how each provider names its kind."""

    status: ClassVar[int] = 500
    anthropic_type: ClassVar[str] = "api_error"
    openai_type: ClassVar[str] = "server_error"
    code: ClassVar[str] = "internal_error"


class InvalidRequest(ProxyError):
    """The body is not JSON, or not the shape the endpoint takes."""

    status = 400
    anthropic_type = "invalid_request_error"
    openai_type = "invalid_request_error"
    code = "invalid_request"


class RequestTooLarge(ProxyError):
    status = 413
    anthropic_type = "request_too_large"
    openai_type = "invalid_request_error"
    code = "request_too_large"


class UpstreamUnavailable(ProxyError):
    """The upstream could not be reached, or did not answer in time, on every attempt."""

    status = 502
    code = "upstream_unavailable"


class UpstreamStreamBroken(UpstreamUnavailable):
    """The upstream's answer stopped before its end."""

    code = "upstream_stream_broken"


def error_body(provider: Provider, error: ProxyError) -> dict[str, Any]:
    if provider is Provider.OPENAI:
        return {"error": {"message": str(error), "type": error.openai_type, "param": None, "code": error.code}}
    return {"type": "error", "error": {"type": error.anthropic_type, "message": str(error)}}


def sse_error_event(provider: Provider, error: ProxyError) -> bytes:
    """The error as a server-sent event, for a stream whose status line has already gone out."""
    return f"event: error\ndata: {json.dumps(error_body(provider, error))}\n\n".encode()


def register(app: falcon.App) -> None:
    app.add_error_handler(ProxyError, _answer)
    app.add_error_handler(Exception, _unexpected)  # Falcon's own HTTPError keeps its more specific handler


def _answer(req: falcon.Request, resp: falcon.Response, error: ProxyError, params: dict[str, Any]) -> None:
    resp.status = error.status
    resp.media = error_body(provider_for(req.path, req.headers_lower), error)


def _unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]) -> None:
    log.exception("%s %s failed", req.method, req.path, exc_info=error)
    _answer(req, resp, ProxyError(f"headroom proxy internal error: {type(error).__name__}: {error}"), params)
