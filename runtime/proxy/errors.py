"""The errors the proxy answers itself, and their one mapping to responses.

Code anywhere in the proxy raises a `ProxyError`; the Falcon error handlers registered by `register` turn it into a
response shaped like the provider's own errors, so an SDK reports it the way it reports the provider's (Anthropic:
`{"type": "error", "error": {"type", "message"}}`; OpenAI: `{"error": {"message", "type", "param", "code"}}`).
An exception nobody expected becomes a provider-shaped 500, logged with its traceback.
"""

from __future__ import annotations

import json
import logging
import re
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

    def headers(self) -> dict[str, str]:
        """Response headers the error comes with (`Retry-After`, for one)."""
        return {}


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


class Unauthorized(ProxyError):
    """A caller from another machine without the proxy's token (`HEADROOM_PROXY_TOKEN`)."""

    status = 401
    anthropic_type = "authentication_error"
    openai_type = "invalid_request_error"
    code = "invalid_proxy_token"


class Forbidden(ProxyError):
    """A loopback-only endpoint called from another machine."""

    status = 403
    anthropic_type = "permission_error"
    openai_type = "invalid_request_error"
    code = "loopback_only"


class NotFound(ProxyError):
    status = 404
    anthropic_type = "not_found_error"
    openai_type = "invalid_request_error"
    code = "not_found"


class RateLimited(ProxyError):
    """The caller sent more requests per minute than `--rpm` allows; it may try again after `retry_after` s."""

    status = 429
    anthropic_type = "rate_limit_error"
    openai_type = "requests"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


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


def responses_error_event(error: ProxyError, sequence_number: int) -> bytes:
    """The error as a Responses stream's `error` event, whose code and message are the event's own fields and which
    is numbered in the stream's sequence like every other event."""
    data = {"type": "error", "code": error.code, "message": str(error), "param": None,
            "sequence_number": sequence_number}  # fmt: skip
    return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


def responses_error_after(error: ProxyError, relayed: bytes) -> bytes:
    """The Responses `error` event that follows the `relayed` events, numbered after the last of them."""
    numbers = re.findall(rb'"sequence_number":\s*(\d+)', relayed)
    return responses_error_event(error, int(numbers[-1]) + 1 if numbers else 0)


def register(app: falcon.App) -> None:
    app.add_error_handler(ProxyError, _answer)
    app.add_error_handler(Exception, _unexpected)  # Falcon's own HTTPError keeps its more specific handler


def _answer(req: falcon.Request, resp: falcon.Response, error: ProxyError, params: dict[str, Any]) -> None:
    resp.status = error.status
    resp.set_headers(error.headers())
    resp.media = error_body(provider_for(req.path, req.headers_lower), error)


def _unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]) -> None:
    log.exception("%s %s failed", req.method, req.path, exc_info=error)
    _answer(req, resp, ProxyError(f"headroom proxy internal error: {type(error).__name__}: {error}"), params)
