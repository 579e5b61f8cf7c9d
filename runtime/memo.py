"""Remembering per-text results (token counts, detected kinds) without keeping the texts alive.

An agent resends the same tool results on every turn, so the same texts come back again and again; a cache keyed
by the text itself would hold every block of every conversation in memory. This one keys by a 16-byte digest.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def by_digest(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache a function whose first argument is a text; the other arguments must be hashable."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        cache: OrderedDict[tuple, T] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(function)
        def cached(text: str, *rest: object) -> T:
            key = (hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(), *rest)
            with lock:
                if key in cache:
                    cache.move_to_end(key)
                    return cache[key]
            value = function(text, *rest)
            with lock:
                cache[key] = value
                if len(cache) > maxsize:
                    cache.popitem(last=False)
            return value

        return cached

    return decorate
