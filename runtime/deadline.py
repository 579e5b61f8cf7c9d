"""Running a call within a time limit: the engine bounds each compressor by the policy's time budget, and the
proxy bounds a whole request's compression, so a slow block never holds up a request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def run_within(seconds: float, function: Callable[[], T], name: str = "headroom-deadline") -> T:
    """`function()` on a thread of its own, waited for at most `seconds` (then `TimeoutError`); its exception, if
    it raises. A call that overruns cannot be stopped (Python threads cannot be killed): it finishes in the
    background and its result is dropped."""
    future: Future[T] = Future()

    def call() -> None:
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)

    threading.Thread(target=call, name=name, daemon=True).start()
    return future.result(timeout=seconds)
