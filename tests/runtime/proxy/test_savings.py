"""Lifetime savings: written atomically under `~/.headroom` (HOME honoured), throttled, and picked up again by the
next proxy."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support.proxy_harness import WAIT, Proxy
from support.usage_answers import ANTHROPIC_HEADERS, anthropic_body, wait_for

from headroom.runtime.files import write_atomically
from headroom.runtime.proxy import savings as savings_module
from headroom.runtime.proxy.daybook import Counted
from headroom.runtime.proxy.savings import Savings, default_path, load


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HEADROOM_STORE_PATH", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_savings_are_saved_under_home_and_reloaded_by_the_next_proxy(
    home: Path, start_proxy: Callable[..., Proxy]
) -> None:
    path = home / ".headroom" / "savings.json"
    assert default_path() == path
    first = start_proxy()
    saved = int(first.post("/v1/messages", anthropic_body(), ANTHROPIC_HEADERS).header("x-headroom-tokens-saved") or 0)
    wait_for(lambda: path.exists() and json.loads(path.read_text())["tokens_saved"] == saved)
    first.stop()
    lifetime = start_proxy().call("GET", "/stats").json()["lifetime"]
    assert lifetime["tokens_saved"] == saved and lifetime["requests"] == 1 and lifetime["last_request"]
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".savings.json")]  # no temporary file


def saved(path: Path) -> int:
    """The tokens saved in the file, once there is one."""
    wait_for(path.exists)
    return json.loads(path.read_text())["tokens_saved"]


def test_writes_are_throttled_and_the_last_changes_flushed(tmp_path: Path) -> None:
    savings = Savings(tmp_path / "savings.json", throttle=3600)
    savings.add(Counted(time.time(), "gpt-4o", "alpha", 50, 10))  # the first write is due at once
    assert saved(savings.path) == 40
    savings.add(Counted(time.time(), "gpt-4o", "alpha", 50, 10))  # the next one within the hour: not written yet
    assert saved(savings.path) == 40
    savings.flush()
    assert saved(savings.path) == 80
    assert Savings(savings.path).totals()["tokens_saved"] == 80


def test_counting_leaves_the_write_to_another_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writers = []

    def recorded(*args: Any, **kwargs: Any) -> None:
        writers.append(threading.current_thread())
        write_atomically(*args, **kwargs)

    monkeypatch.setattr(savings_module, "write_atomically", recorded)
    savings = Savings(tmp_path / "savings.json")
    savings.add(Counted(time.time(), "gpt-4o", "alpha", 50, 10))  # a write is due at once, and not made here
    assert saved(savings.path) == 40
    assert writers and threading.current_thread() not in writers


def test_an_unreadable_file_is_set_aside_not_written_over(tmp_path: Path) -> None:
    path = tmp_path / "savings.json"
    path.write_text('{"tokens_saved": 123, "days": "bad"}')
    savings = Savings(path)
    assert savings.totals()["tokens_saved"] == 0
    savings.add(Counted(time.time(), "gpt-4o", "alpha", 50, 10))
    assert saved(path) == 40
    (aside,) = tmp_path.glob("savings.json.unreadable-*")
    assert aside.read_text() == '{"tokens_saved": 123, "days": "bad"}'


def test_two_proxies_on_one_file_add_to_each_others_counts(tmp_path: Path) -> None:
    path = tmp_path / "savings.json"
    first, second = Savings(path, throttle=3600), Savings(path, throttle=3600)
    first.add(Counted(time.time(), "gpt-4o", "alpha", 50, 10))
    second.add(Counted(time.time(), "gpt-4o", "beta", 70, 10))
    first.flush()
    second.flush()
    book = load(path)
    assert (book.lifetime.requests, book.lifetime.tokens_saved) == (2, 100)
    assert {client for _, client, _ in book.slices(date.min, date.max)} == {"alpha", "beta"}
    assert second.totals()["tokens_saved"] == 100  # the file as it wrote it
    assert first.totals()["tokens_saved"] == 40  # its own requests, until its next write reads the other's


COUNTING = """
import sys, time
from pathlib import Path
from headroom.runtime.proxy.daybook import Counted
from headroom.runtime.proxy.savings import Savings
savings = Savings(Path(sys.argv[1]), throttle=3600)
print("ready", flush=True)
sys.stdin.readline()
for _ in range(int(sys.argv[2])):
    savings.add(Counted(time.time(), "gpt-4o", "other", 50, 10))
    savings.flush()
print("done", flush=True)
"""


def test_two_processes_writing_at_once_lose_no_request(tmp_path: Path) -> None:
    path, each = tmp_path / "savings.json", 30
    other = subprocess.Popen([sys.executable, "-c", COUNTING, str(path), str(each)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert other.stdout.readline() == "ready\n"
        savings = Savings(path, throttle=3600)
        other.stdin.write("go\n")
        other.stdin.flush()
        for _ in range(each):
            savings.add(Counted(time.time(), "gpt-4o", "ours", 50, 10))
            savings.flush()
        assert other.stdout.readline() == "done\n"
    finally:
        other.kill()
        other.wait(WAIT)
    assert load(path).lifetime.requests == 2 * each


def test_a_failed_write_keeps_its_requests_for_the_next(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    savings = Savings(blocker / "savings.json", throttle=3600)
    savings.add(Counted(time.time(), "gpt-4o", "alpha", 50, 10))
    savings.flush()  # cannot write: no folder
    blocker.unlink()
    savings.flush()
    assert load(savings.path).lifetime.requests == 1
