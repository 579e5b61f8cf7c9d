"""The reversible store: every original that compression replaced, kept under its reference so it can be
retrieved, and every compressed result, so a block compresses to the same bytes on every later turn.

SQLite in WAL mode (one file, safe across threads and processes), at `~/.headroom/ccr_store.db` unless told
otherwise. Entries older than the TTL are purged, and the oldest go first when the total size passes the cap;
both limits come from the policy's `store_ttl` / `store_max_size` settings.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path

from headroom.runtime.memo import text_digest

DEFAULT_PATH = Path("~/.headroom/ccr_store.db")
MARK_USED_EVERY = 600.0  # seconds: an original used again sooner is not written again (its TTL is days)
RESULTS_IN_MEMORY = 4096  # the latest results used, kept in memory as well (compressed texts: a few MB)
MARKS_KEPT = 100_000  # originals remembered as recently marked (~10 MB); past it, the memory starts over
_SCHEMA = """
create table if not exists originals (ref text primary key, text text not null, size integer not null,
                                      stored real not null);
create index if not exists originals_stored on originals (stored);
create table if not exists results (key text primary key, text text, summary text, stored real not null);
"""


# The reference of an original is its content hash, so equal blocks share one entry and a marker's reference is
# the same on every turn.
reference = text_digest


def location(path: Path | str | None = None) -> Path:
    """Where the store is: `path` when given, else `HEADROOM_STORE_PATH`, else the default. One definition, so the
    doctor checks the very file the proxy opens."""
    return Path(path or os.environ.get("HEADROOM_STORE_PATH") or DEFAULT_PATH).expanduser()


class Store:
    def __init__(self, path: Path | str | None = None, ttl_seconds: float = 7 * 86400.0,
                 max_bytes: int = 512 * 1024**2) -> None:  # fmt: skip
        self.path = location(path)
        self.ttl_seconds = ttl_seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")
        self._db.executescript(_SCHEMA)
        self._total = self._stored_bytes()  # kept up to date here; recounted at every purge
        self._purged = 0.0  # when expired entries were last purged
        # Originals this store wrote or marked used, and when: an agent resends every block on every turn, and
        # restarting a TTL of days needs no write per turn. Forgotten whenever an eviction deletes anything.
        self._marked: dict[str, float] = {}
        self._mark_every = min(MARK_USED_EVERY, ttl_seconds / 10)
        self._recent_results: OrderedDict[str, tuple[float, tuple[str | None, str]]] = OrderedDict()

    def put_original(self, text: str, ref: str | None = None) -> str:
        """Store an original (or, when it is already there, mark it used now, which restarts its TTL); `ref`, its
        reference, when the caller has it."""
        ref = ref or reference(text)
        now = time.time()
        with self._lock:
            if now - self._marked.get(ref, -self._mark_every) < self._mark_every:
                return ref
            if self._db.execute("update originals set stored = ? where ref = ?", (now, ref)).rowcount == 0:
                size = len(text.encode("utf-8", "surrogatepass"))
                self._db.execute("insert into originals values (?, ?, ?, ?)", (ref, text, size, now))
                self._total += size
            if len(self._marked) >= MARKS_KEPT:
                self._marked.clear()
            self._marked[ref] = now  # only once written: a failed write is tried again the next time
            self._evict(now)
        return ref

    def original(self, ref: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "select text from originals where ref = ? and stored >= ?", (ref, time.time() - self.ttl_seconds)
            ).fetchone()
        return row[0] if row else None

    def result(self, key: str) -> tuple[str | None, str] | None:
        """A remembered compression result: (text, or None when compression declined; summary)."""
        oldest = time.time() - self.ttl_seconds
        with self._lock:
            recent = self._recent_results.get(key)
            if recent is not None and recent[0] >= oldest:
                self._recent_results.move_to_end(key)
                return recent[1]
            row = self._db.execute(
                "select text, summary, stored from results where key = ? and stored >= ?", (key, oldest)
            ).fetchone()
            if row is None:
                return None
            self._remember(key, row[2], (row[0], row[1]))
        return row[0], row[1]

    def put_result(self, key: str, text: str | None, summary: str) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("insert or replace into results values (?, ?, ?, ?)", (key, text, summary, now))
            self._remember(key, now, (text, summary))

    def _remember(self, key: str, stored: float, result: tuple[str | None, str]) -> None:
        """Keep a result in memory too: every turn asks for the result of every block it resends."""
        self._recent_results[key] = (stored, result)
        self._recent_results.move_to_end(key)
        if len(self._recent_results) > RESULTS_IN_MEMORY:
            self._recent_results.popitem(last=False)

    def writable(self) -> bool:
        try:
            with self._lock:
                self._db.execute("create table if not exists probe (x)")
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _evict(self, now: float) -> None:
        """Purge expired entries (at most once a minute) and the oldest originals while over the size cap."""
        if now - self._purged > 60:
            self._purged = now
            if self._db.execute("delete from originals where stored < ?", (now - self.ttl_seconds,)).rowcount:
                self._marked.clear()  # what is left is written once more when used
            self._db.execute("delete from results where stored < ?", (now - self.ttl_seconds,))
            self._total = self._stored_bytes()
        while self._total > self.max_bytes:
            row = self._db.execute("select ref, size from originals order by stored limit 1").fetchone()
            if row is None:
                break
            self._marked.clear()
            self._db.execute("delete from originals where ref = ?", (row[0],))
            self._total -= row[1]

    def _stored_bytes(self) -> int:
        (total,) = self._db.execute("select coalesce(sum(size), 0) from originals").fetchone()
        return total
