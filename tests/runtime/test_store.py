"""The reversible store: originals come back byte for byte, across connections; old and excess entries go."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from headroom.runtime.store import Store, reference


def test_originals_round_trip_exactly_and_survive_reopening(tmp_path: Path) -> None:
    text = "line one\nline two: 09:00:00\n\u00e9\U0001f600 \x00 end"
    store = Store(tmp_path / "s.db")
    ref = store.put_original(text)
    assert ref == reference(text) and len(ref) == 16
    store.close()
    assert Store(tmp_path / "s.db").original(ref) == text


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
