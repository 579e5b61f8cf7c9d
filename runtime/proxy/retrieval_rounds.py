"""The retrieve loop's rounds, streamed or not: how many there may be, how the next one is asked for, and how
their usage adds up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import urllib3

from headroom.runtime.proxy.bodies import serialize
from headroom.runtime.proxy.errors import UpstreamUnavailable

MAX_ROUNDS = 3  # retrieve rounds answered by the proxy; the request goes upstream at most MAX_ROUNDS + 1 times
Send = Callable[[bytes], urllib3.BaseHTTPResponse]  # one request upstream with this body


def next_round(send: Send, body: dict[str, Any]) -> urllib3.BaseHTTPResponse:
    """A later round's answer; `UpstreamUnavailable` when it is not a success, since the client's status has
    been decided by the first round."""
    answer = send(serialize(body))
    if answer.status == 200:
        return answer
    detail = read_whole(answer)[:500].decode("utf-8", "replace")
    raise UpstreamUnavailable(f"headroom proxy: the upstream answered {answer.status} in a retrieve round: {detail}")


def read_whole(answer: urllib3.BaseHTTPResponse) -> bytes:
    try:
        return answer.read(decode_content=False)
    finally:
        answer.release_conn()


def summed(total: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """Usage over rounds: numbers added, anything else (nested details) the latest round's."""
    both = {**total, **usage}
    return {key: _add(total.get(key), usage.get(key)) if key in total and key in usage else value
            for key, value in both.items()}  # fmt: skip


def _add(a: Any, b: Any) -> Any:
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return a + b if numbers else b
