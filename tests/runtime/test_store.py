"""The reversible store: originals come back byte for byte, across connections; old and excess entries go."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from headroom.runtime.store import Store, location, reference


def test_originals_round_trip_exactly_and_survive_reopening(tmp_path: Path) -> None:
    text = "line one\nline two: 09:00:00\n\u00e9\U0001f600 \x00 end"
    store = Store(tmp_path / "s.db")
    ref = store.put_original(text)
    assert ref == reference(text) and len(ref) == 16
    store.close()
    assert Store(tmp_path / "s.db").original(ref) == text


def test_the_location_is_the_path_given_else_the_variable_else_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HEADROOM_STORE_PATH", "~/moved.db")
    store = Store()
    assert location() == tmp_path / "moved.db" == store.path
    store.close()
    assert location("~/given.db") == tmp_path / "given.db"
    monkeypatch.delenv("HEADROOM_STORE_PATH")
    assert location() == tmp_path / ".headroom" / "ccr_store.db"


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    Store(tmp_path / "s.db")
    (mode,) = sqlite3.connect(tmp_path / "s.db").execute("pragma journal_mode").fetchone()
    assert mode == "wal"


def test_expired_entries_are_purged(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", ttl_seconds=0.2)
    old = store.put_original("old entry")
    time.sleep(0.3)
    store.put_original("new entry")
    assert store.original(old) is None


def test_the_size_cap_evicts_the_oldest(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", max_bytes=2500)
    refs = []
    for k in range(5):
        refs.append(store.put_original(f"{k}" * 1000))
        time.sleep(0.01)
    assert [store.original(ref) is not None for ref in refs] == [False, False, False, True, True]


def test_results_are_remembered(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.put_result("k1", "short", "3 lines")
    store.put_result("k2", None, "left untouched")
    assert store.result("k1") == ("short", "3 lines")
    assert store.result("k2") == (None, "left untouched")
    assert store.result("k3") is None


def stored_at(path: Path, ref: str) -> float:
    (when,) = sqlite3.connect(path).execute("select stored from originals where ref = ?", (ref,)).fetchone()
    return when


def test_an_original_used_again_soon_is_not_written_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")  # a TTL of days: marked used at most every MARK_USED_EVERY seconds
    ref = store.put_original("a block an agent resends on every turn")
    first = stored_at(tmp_path / "s.db", ref)
    time.sleep(0.01)
    store.put_original("a block an agent resends on every turn")
    assert stored_at(tmp_path / "s.db", ref) == first


def test_a_short_ttl_marks_originals_used_more_often(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", ttl_seconds=0.5)  # marked at most every 0.05 s
    ref = store.put_original("text")
    first = stored_at(tmp_path / "s.db", ref)
    time.sleep(0.1)
    store.put_original("text")
    assert stored_at(tmp_path / "s.db", ref) > first


def test_an_evicted_original_is_stored_again_when_used(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", max_bytes=2500)
    first = store.put_original("a" * 1000)
    for k in range(3):  # pushes the first one out
        store.put_original(f"{k}" * 1000)
    assert store.original(first) is None
    store.put_original("a" * 1000)
    assert store.original(first) == "a" * 1000


def test_results_expire_with_the_ttl_even_when_kept_in_memory(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", ttl_seconds=0.2)
    store.put_result("k", "short", "3 lines")
    assert store.result("k") == ("short", "3 lines")
    time.sleep(0.3)
    assert store.result("k") is None


def test_results_written_by_another_process_are_read(tmp_path: Path) -> None:
    reader = Store(tmp_path / "s.db")
    assert reader.result("k") is None
    Store(tmp_path / "s.db").put_result("k", "short", "3 lines")  # another proxy sharing the store
    assert reader.result("k") == ("short", "3 lines")


def test_an_original_whose_write_failed_is_written_when_used_again(tmp_path: Path) -> None:
    """A locked or full database fails a write; the original must not count as stored for the next 10 minutes."""
    store = Store(tmp_path / "s.db")
    database = store._db

    class Locked:
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql.startswith("insert into originals"):
                raise sqlite3.OperationalError("database is locked")
            return database.execute(sql, *args)

    store._db = Locked()
    with pytest.raises(sqlite3.OperationalError):
        store.put_original("an original")
    store._db = database
    assert store.original(store.put_original("an original")) == "an original"
