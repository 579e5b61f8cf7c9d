"""Running a call within a time limit: the engine bounds each compressor by the policy's time budget, and the
proxy bounds a whole request's compression, so a slow block never holds up a request.

A call that overruns cannot be stopped (Python threads cannot be killed): it finishes in the background and its
result is dropped. So calls run on daemon threads, which never keep the process from exiting.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Workers:
    """Threads kept for calls run within a time limit: starting a thread per call would cost more than compressing
    a conversation whose blocks are all remembered. Grows to at most `size` threads; a call arriving when all of
    them are busy (with calls that overran, say) waits its turn within its own time limit, and is dropped unrun if
    that runs out first, so a run of overruns degrades to blocks left as they are, never to unbounded threads."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # one release per worker waiting for a call
        self._started = 0
        self._lock = threading.Lock()

    def run_within(self, seconds: float, function: Callable[[], T]) -> T:
        """`function()`, waited for at most `seconds` (then `TimeoutError`); its exception, if it raises."""
        future: Future[T] = Future()
        self._calls.put((future, function))
        if not self._idle.acquire(blocking=False):
            self._add_worker()
        try:
            return future.result(timeout=seconds)
        except TimeoutError:
            future.cancel()  # still queued: never run
            raise

    def _add_worker(self) -> None:
        with self._lock:
            if self._started == self._size:
                return
            self._started += 1
            number = self._started
        threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()

    def _work(self) -> None:
        while True:
            future, function = self._calls.get()
            if future.set_running_or_notify_cancel():
                _settle(future, function)
            self._idle.release()


def _settle(future: Future[T], function: Callable[[], T]) -> None:
    try:
        future.set_result(function())
    except Exception as error:
        future.set_exception(error)
