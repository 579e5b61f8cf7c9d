"""Who may call the proxy: loopback-only endpoints, the token callers from other machines present, and which web
pages may read its answers (CORS).

The proxy runs on the developer's machine by default, where every caller is the developer's own agent; listening
on another address opens it to the network, and then a caller must prove it is welcome. Loopback is told by the
connection's own address (`REMOTE_ADDR`), never by `Forwarded` / `X-Forwarded-For`, which any caller can write.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from typing import Any

import falcon

from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.errors import Forbidden, Unauthorized

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-headroom-token"  # not Authorization: that one is the provider's, and goes upstream
# A page served from this machine, on any port: http://localhost:3000, http://127.0.0.1:5173, http://[::1]:8080.
_LOOPBACK_ORIGIN = re.compile(r"http://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?")


def is_loopback(address: str | None) -> bool:
    """Whether an address (an IP, or a host name to listen on) is this machine's loopback."""
    if address == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1, from a dual-stack socket
    return (mapped or ip).is_loopback


def loopback_only(req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]) -> None:
    """A Falcon `before` hook for endpoints only this machine may call (the SDK's, admin ones): `Forbidden`
    otherwise, token or not."""
    if not is_loopback(req.remote_addr):
        raise Forbidden(f"{req.path} answers only callers on this machine")


class InboundAuth:
    """With a token configured, a caller from another machine must present it in `x-headroom-token`; callers on
    this machine need not. The header never goes upstream (no `x-headroom-*` header does)."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._token is None or is_loopback(req.remote_addr):
            return
        presented = (req.get_header(TOKEN_HEADER) or "").encode()
        if not hmac.compare_digest(presented, self._token):  # constant time: the token cannot be guessed bytewise
            raise Unauthorized(f"missing or wrong {TOKEN_HEADER} header: this proxy requires its token")


class LoopbackCors:
    """CORS for pages served from this machine only. A preflight is answered here (never forwarded: it asks the
    proxy, not the provider); an allowed origin is echoed in `Access-Control-Allow-Origin`; any other origin gets
    no CORS headers at all, the upstream's included, so the browser keeps the answer from the page.

    Falcon's own `CORSMiddleware` takes exact origins only, and loopback pages come on any port."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.method == "OPTIONS" and req.get_header("Origin") and req.get_header("Access-Control-Request-Method"):
            resp.status = falcon.HTTP_204
            if _allowed(req):
                resp.set_headers({
                    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                    "Access-Control-Allow-Headers": req.get_header("Access-Control-Request-Headers") or "*",
                    "Access-Control-Max-Age": "600",
                })  # fmt: skip
            resp.complete = True

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, succeeded: bool) -> None:
        origin = req.get_header("Origin")
        if origin is None:
            return
        for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"):
            resp.delete_header(name)
        if _allowed(req):
            resp.set_header("Access-Control-Allow-Origin", origin)
            resp.set_header("Access-Control-Expose-Headers", "*")
            resp.append_header("Vary", "Origin")


def _allowed(req: falcon.Request) -> bool:
    return _LOOPBACK_ORIGIN.fullmatch(req.get_header("Origin") or "") is not None


def warn_if_exposed(config: ProxyConfig) -> None:
    """Loudly, when the proxy listens beyond this machine with nobody asked for a token."""
    if config.proxy_token is None and not is_loopback(config.host):
        log.warning(
            "LISTENING ON %s WITHOUT A TOKEN: anyone who can reach this address can use the proxy (and the "
            "provider keys its callers send). Set HEADROOM_PROXY_TOKEN, or listen on 127.0.0.1.",
            config.host,
        )
