"""The providers' side of the proxy: which headers cross in each direction, and one pooled client that sends a
request and retries it when the provider is unreachable, times out or is overloaded.

Connections are kept alive and reused (a TLS handshake per request would cost more than compressing). Answers are
never preloaded: the caller relays them as they arrive. Certificates are checked against `SSL_CERT_FILE` or
`REQUESTS_CA_BUNDLE` when set (corporate proxies re-sign TLS), else the system's store.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import ssl
import time
from collections.abc import Callable, Iterable, Mapping

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as UpstreamTimeout
from urllib3.util import SKIP_HEADER
from urllib3.util.ssl_ import create_urllib3_context

from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.errors import UpstreamUnavailable
from headroom.runtime.proxy.providers import Provider

log = logging.getLogger(__name__)

# RFC 9110 7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "trailers", "transfer-encoding", "upgrade"))  # fmt: skip
# Set again for the upstream connection: its host; the body's length (it may change); no compressed answers, which
# the proxy would have to decode to read streams and usage.
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "accept-encoding"}
RETRY_STATUSES = frozenset((429, 529))  # rate limited; overloaded (Anthropic)
BACKOFF_FIRST = 0.5  # seconds before the second attempt; doubled for each one after
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 30.0  # a provider asking for a longer wait gets its answer forwarded rather than a held request
_RETRYABLE = (UpstreamTimeout, NewConnectionError, ProtocolError)  # refused, timed out, connection dropped


def request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The client's headers (names in lower case) as they go upstream: all but hop-by-hop ones, those the proxy
    sets itself, those `Connection` names, and the proxy's own `x-headroom-*`."""
    named = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    kept = {name: value for name, value in headers.items()
            if name not in _NOT_FORWARDED and name not in named and not name.startswith("x-headroom-")}  # fmt: skip
    kept.setdefault("user-agent", SKIP_HEADER)  # not urllib3's own when the client sent none
    return kept


def response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream's headers as they go to the client: all but hop-by-hop ones (the proxy frames the body
    itself), repeated ones (`set-cookie`) kept apart."""
    return [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]


class Upstream:
    """The pooled client to both providers. `sleep` waits between attempts (tests pass one that records)."""

    def __init__(self, config: ProxyConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self._config = config
        self._sleep = sleep
        self._timeout = urllib3.Timeout(connect=config.connect_timeout, read=config.request_timeout)
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=config.threads, **ca_settings(), **strictness())

    def url(self, provider: Provider) -> str:
        return self._config.upstream_url(provider)

    def send(self, provider: Provider, method: str, target: str, headers: Mapping[str, str],
             body: bytes | None) -> urllib3.BaseHTTPResponse:  # fmt: skip
        """The upstream's answer, its body unread. Retries what may succeed later; raises `UpstreamUnavailable`
        when no attempt got an answer. A 429/529 still there after the last attempt is returned as it is."""
        url = self.url(provider) + target
        attempts = self._config.retry_max_attempts
        for attempt in range(1, attempts):
            try:
                return self._attempt(method, url, headers, body, attempt, last=False)
            except _TryAgain as again:
                log.warning("%s %s: %s; attempt %d of %d in %.2f s", method, url, again, attempt + 1, attempts,
                            again.delay)  # fmt: skip
                self._sleep(again.delay)
        return self._attempt(method, url, headers, body, attempts, last=True)

    def _attempt(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, attempt: int,
                 last: bool) -> urllib3.BaseHTTPResponse:  # fmt: skip
        try:
            answer = self._pool.request(method, url, body=body, headers=dict(headers), preload_content=False,
                                        retries=False, redirect=False, timeout=self._timeout)  # fmt: skip
        except _RETRYABLE as error:
            if last:
                raise UpstreamUnavailable(_failure(url, attempt, error)) from error
            raise _TryAgain(str(error), backoff(attempt)) from error
        except HTTPError as error:  # TLS and other failures a retry cannot mend
            raise UpstreamUnavailable(_failure(url, attempt, error)) from error
        delay = None if last else _retry_delay(answer, attempt)
        if delay is None:
            return answer
        answer.drain_conn()
        answer.release_conn()
        raise _TryAgain(f"answered {answer.status}", delay)


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first): exponential, capped, and jittered
    over its upper half so clients that failed together do not come back together."""
    ceiling = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class _TryAgain(Exception):
    """An attempt that may succeed if made again after `delay` seconds."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay


def _retry_delay(answer: urllib3.BaseHTTPResponse, attempt: int) -> float | None:
    """How long to wait before trying again after this answer, or None to give the answer to the client."""
    if answer.status not in RETRY_STATUSES:
        return None
    asked = retry_after(answer.headers.get("retry-after"))
    if asked is None:
        return backoff(attempt)
    return asked if asked <= RETRY_AFTER_CAP else None


def retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _failure(url: str, attempts: int, error: Exception) -> str:
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return f"headroom proxy: no answer from the upstream {url} ({tries}): {error}"


def ca_settings() -> dict[str, str]:
    """Where urllib3 finds the certificates to trust: `SSL_CERT_FILE` or `REQUESTS_CA_BUNDLE` (a file or a
    folder), else nothing, which means the system store."""
    bundle = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if not bundle:
        return {}
    return {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}


def strictness() -> dict[str, ssl.SSLContext]:
    """With `HEADROOM_TLS_STRICT=0`, urllib3's own TLS context less `VERIFY_X509_STRICT` (see `lenient`); else
    nothing, which means urllib3's default context."""
    if os.environ.get("HEADROOM_TLS_STRICT", "").strip() != "0":
        return {}
    context = lenient(create_urllib3_context())
    if not ca_settings():  # urllib3 loads a given CA bundle into the context, but the system store only into its own
        context.load_default_certs()
    return {"ssl_context": context}


def lenient(context: ssl.SSLContext) -> ssl.SSLContext:
    """The context without `VERIFY_X509_STRICT` (Python 3.13's default), which rejects certificates that break
    RFC 5280's finer rules — as some corporate TLS-inspecting proxies' do. Chain, expiry and hostname checks stay."""
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return context
