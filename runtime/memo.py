"""Remembering per-text results (token counts, detected kinds) without keeping the texts alive.

An agent resends the same tool results on every turn, so the same texts come back again and again; a cache keyed
by the text itself would hold every block of every conversation in memory. This one keys by the text's digest,
which is also the store's reference of an original: hashing is most of what a remembered block costs, so a caller
that already has the digest passes it (`digest=`) rather than hashing the text again.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def text_digest(text: str) -> str:
    """A text's content hash (64 bits of SHA-256, in hex): equal texts, equal digests."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def by_digest(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache a function whose first argument is a text; the other arguments must be hashable. The cached function
    takes the text's `digest` as a keyword argument too, when the caller has it."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        cache: OrderedDict[tuple, T] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(function)
        def cached(text: str, *rest: object, digest: str | None = None) -> T:
            key = (digest or text_digest(text), *rest)
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
