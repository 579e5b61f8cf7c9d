"""Savings across all the proxy's runs, kept in `~/.headroom/savings.json`: the lifetime totals and each day's
savings by model, client and tool (the file's content is `daybook.Book`).

The file is replaced whole (written to a temporary file in the same folder, then renamed over it), so a crash never
leaves half a file. It is written at most once a second, the last changes at most a second after they happen, and
once more when the proxy stops. Several proxies may share it (two sessions, one HOME): each keeps the requests it
counted since its last write apart, and a write adds them to what the file holds then, under an exclusive lock on
`savings.json.lock` beside it, so no proxy's counts replace another's. It lives beside the reversible store, so
`HEADROOM_STORE_PATH` moves both (a test, or a user keeping headroom's data elsewhere). A file that cannot be read
is set aside, not written over: its numbers stay there for a person to recover.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headroom.runtime.files import FileLock, write_atomically
from headroom.runtime.home import data_dir
from headroom.runtime.proxy.daybook import Book, Counted
from headroom.runtime.proxy.prices import known_price

log = logging.getLogger(__name__)
THROTTLE = 1.0  # seconds between writes


def default_path() -> Path:
    return data_dir() / "savings.json"


def input_price(model: str) -> float | None:
    """Dollars per input token of a model; None when its price is unknown."""
    price = known_price(model)
    return None if price is None else price.input / 1_000_000


class Savings:
    """The book, loaded at start (missing: empty; unreadable: set aside, then empty) and saved as it grows.
    Thread-safe. Counting never writes: a request thread only adds to the book and arms a timer, whose thread
    writes, so no client waits on the disk and no request waits on another's write.

    What `totals()` shows is the file as this proxy last read or wrote it (so every proxy's requests until then)
    plus this proxy's requests since: other proxies' latest requests appear at this one's next write."""

    def __init__(self, path: Path, throttle: float = THROTTLE,
                 price: Callable[[str], float | None] = input_price) -> None:  # fmt: skip
        self.path = path
        self._throttle = throttle
        self._price = price
        self._lock = threading.Lock()  # the books and the timer
        self._file_lock = FileLock(path.with_name(path.name + ".lock"))  # one write at a time, of every proxy
        with self._file_lock.held():  # no other proxy writes the file while this one may set it aside
            self._book = load_or_set_aside(path)
        self._pending = Book()  # the requests counted since the last write, also in `_book`
        self._written: float | None = None  # when the last write started, by `time.monotonic`
        self._timer: threading.Timer | None = None

    def add(self, request: Counted) -> None:
        """Count one request; it is saved within `throttle` seconds of the last write (at once if that is past)."""
        usd_per_token = self._price(request.model)
        with self._lock:
            self._book.add(request, usd_per_token)
            self._pending.add(request, usd_per_token)
            if self._timer is None:
                due = 0.0 if self._written is None else self._written + self._throttle - time.monotonic()
                self._timer = threading.Timer(max(0.0, due), self.flush)
                self._timer.daemon = True
                self._timer.start()

    def totals(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._book.lifetime)

    def flush(self) -> None:
        """Add the requests counted since the last write to the file (at shutdown, and when a throttled write is
        due). The file is read, merged and written outside the books' lock, so counting goes on meanwhile."""
        with self._file_lock.held():
            pending = self._take_pending()
            if pending is None:
                return
            book = load_or_set_aside(self.path)
            book.merge(pending)
            written = self._write(book)
            with self._lock:
                if written:  # the file as written, and what was counted while writing it
                    book.merge(self._pending)
                    self._book = book
                else:  # to be written with the next ones
                    pending.merge(self._pending)
                    self._pending = pending

    def _take_pending(self) -> Book | None:
        """The requests counted since the last write, now to be written (None: there are none)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._pending.lifetime.requests:
                return None
            self._written = time.monotonic()
            pending, self._pending = self._pending, Book()
            return pending

    def _write(self, book: Book) -> bool:
        try:
            write_atomically(self.path, json.dumps(book.to_json(), indent=1) + "\n", mode=0o600, sync=True)
        except OSError as error:
            log.warning("could not save savings to %s: %s", self.path, error)
            return False
        return True


def load(path: Path) -> Book:
    """The book in `path`; `FileNotFoundError` when there is none, `ValueError` (saying why) when it cannot be
    read as one, `OSError` when it cannot be read at all."""
    try:
        return Book.from_json(json.loads(path.read_text(encoding="utf-8")))
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error})") from None


def load_or_set_aside(path: Path) -> Book:
    """The book in `path`, or an empty one: when there is no file, or when it cannot be read, after renaming it to
    `savings.json.unreadable-<time>` so the next write does not replace its numbers with zeros."""
    try:
        return load(path)
    except FileNotFoundError:
        return Book()
    except (OSError, ValueError) as error:
        aside = path.with_name(f"{path.name}.unreadable-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        try:
            os.replace(path, aside)
        except OSError as failure:  # the folder is read-only: the file cannot be written over either
            log.warning("savings in %s are unreadable (%s) and could not be set aside (%s)", path, error, failure)
        else:
            log.warning("savings in %s are unreadable (%s): kept as %s, counting from zero", path, error, aside)
        return Book()
