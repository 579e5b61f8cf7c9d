"""The budget enforced where every provider request passes: the upstream client.

`Metered` wraps the proxy's `Upstream`, so the conversation endpoints, `/v1/responses` and every passthrough
POST that names a model are held to the budget alike. Before a request goes, its cost is estimated from the body
(input tokens from the body's size, output tokens from its `max_tokens` or a default) and reserved; the answer is
read as it is relayed and, when it ends, the reservation is settled to the usage the provider reported. An answer
with no usage keeps its reservation; an error answer, or no answer at all, costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import urllib3

from headroom.runtime.proxy.budget import Ledger, Reservation
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.prices import price_for
from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.upstream import Upstream
from headroom.runtime.proxy.usage import UsageReader

DEFAULT_OUTPUT_TOKENS = 4096  # reserved for a request that sets no limit on its answer
BYTES_PER_TOKEN = 3  # fewer than any tokenizer's average: an estimate that errs towards reserving too much
_OUTPUT_LIMITS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_FREE = ("/count_tokens", "/input_tokens")  # counting a request's tokens is not billed


class Metered:
    """An `Upstream` whose requests are held to a budget."""

    def __init__(self, upstream: Upstream, ledger: Ledger) -> None:
        self._upstream = upstream
        self._ledger = ledger

    def url(self, provider: Provider) -> str:
        return self._upstream.url(provider)

    def send(self, provider: Provider, method: str, target: str, headers: Mapping[str, str],
             body: bytes | None) -> urllib3.BaseHTTPResponse:  # fmt: skip
        """`Upstream.send`, after reserving the request's estimated cost (`BudgetExceeded` when it does not fit)."""
        request = billed_request(method, target, body)
        if request is None:
            return self._upstream.send(provider, method, target, headers, body)
        model, estimate = request
        reservation = self._ledger.reserve(estimate)
        try:
            answer = self._upstream.send(provider, method, target, headers, body)
        except BaseException:
            self._ledger.settle(reservation, 0.0)
            raise
        return MeteredAnswer(answer, self._ledger, reservation, model)  # type: ignore[return-value]


def billed_request(method: str, target: str, body: bytes | None) -> tuple[str, float] | None:
    """(model, estimated cost) for a request the provider bills: a POST whose JSON body names a model."""
    if method != "POST" or not body or target.split("?", 1)[0].endswith(_FREE):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("model"), str):
        return None
    model = document["model"]
    output = next((document[k] for k in _OUTPUT_LIMITS if isinstance(document.get(k), int)), DEFAULT_OUTPUT_TOKENS)
    return model, price_for(model).cost(len(body) // BYTES_PER_TOKEN, output)


class MeteredAnswer:
    """An upstream answer whose body is read for usage as the relay reads it; the reservation is settled once,
    when the body ends or the answer is closed or released, whichever comes first."""

    def __init__(self, answer: urllib3.BaseHTTPResponse, ledger: Ledger, reservation: Reservation,
                 model: str) -> None:  # fmt: skip
        self._answer = answer
        self._ledger = ledger
        self._reservation: Reservation | None = reservation
        self._model = model
        self._reader = UsageReader(answer.headers.get("content-type", "").startswith("text/event-stream"))

    def __getattr__(self, name: str) -> Any:  # status, headers and the rest: the answer's own
        return getattr(self._answer, name)

    def read1(self, amount: int, decode_content: bool | None = None) -> bytes:
        piece = self._answer.read1(amount, decode_content=decode_content)
        if piece:
            self._reader.feed(piece)
        else:
            self._settle()
        return piece

    def drain_conn(self) -> None:
        self._settle()
        self._answer.drain_conn()

    def release_conn(self) -> None:
        self._settle()
        self._answer.release_conn()

    def close(self) -> None:
        self._settle()
        self._answer.close()

    def _settle(self) -> None:
        reservation, self._reservation = self._reservation, None
        if reservation is None:
            return
        if self._answer.status >= 400:
            self._ledger.settle(reservation, 0.0)
            return
        usage = self._reader.usage()
        if usage is not None:
            cost = price_for(self._model).cost(usage.input, usage.output, usage.cache_write, usage.cache_read)
            self._ledger.settle(reservation, cost)


def ledger_for(config: ProxyConfig) -> Ledger | None:
    """The ledger of the configured budget; None when no budget is set."""
    if config.budget is None:
        return None
    return Ledger(config.budget, config.budget_period)


def budgeted(upstream: Upstream, ledger: Ledger | None) -> Upstream | Metered:
    """The upstream held to the budget `ledger` keeps; the upstream itself when there is no budget."""
    return upstream if ledger is None else Metered(upstream, ledger)
