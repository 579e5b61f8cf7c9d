"""Rules recompiled while the proxy runs: the next requests follow the new decisions, without a restart; rules
that no longer compile leave the last good ones running, and the error is logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.proxy_harness import WAIT

from headroom.cli.compile import main as compile_main
from headroom.runtime.engine import Engine, engine_for
from headroom.runtime.proxy.reload import LiveEngine

LOG = "\n".join(f"2026-02-02 09:{i % 60:02d}:00 WARN cache-{i % 5} evicted {i * 7 % 113} keys" for i in range(400))
KEEP_ALL = "rule all: -> keep\n"
DEFAULT = 'include "default.hrules"\n'
BROKEN = "rule all: -> \n"


def conversation() -> list[dict]:
    return [
        {"role": "user", "content": "why is the cache cold?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"c": "logs"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": LOG}]},
    ]


def compiled(folder: Path, text: str) -> Path:
    entry = folder / "mine.hrules"
    entry.write_text(text, encoding="utf-8")
    assert compile_main([str(entry), "-q"]) == 0
    return entry


def eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_recompiled_rules_decide_the_next_requests(start_proxy, stand_in, tmp_path: Path) -> None:
    entry = compiled(tmp_path, KEEP_ALL)
    proxy = start_proxy(rules=entry)
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": conversation()}
    headers = {"anthropic-version": "2023-06-01"}

    def sent_log() -> str:
        assert proxy.post("/v1/messages", body, headers).status == 200
        return stand_in.received[-1].json()["messages"][-1]["content"][0]["content"]

    assert sent_log() == LOG
    compiled(tmp_path, DEFAULT)
    assert eventually(lambda: len(sent_log()) < len(LOG) / 2)


def test_broken_rules_leave_the_last_good_ones_running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    live = LiveEngine(engine_for(str(compiled(tmp_path, DEFAULT))), clock=lambda: now[0])
    good = live.current()
    (tmp_path / "mine.hrules").write_text(BROKEN, encoding="utf-8")
    now[0] = 0.5
    assert live.current() is good  # checked at most once a second
    now[0] = 1.5
    with caplog.at_level(logging.ERROR, logger="headroom.runtime.proxy.reload"):
        assert live.current() is good
    assert "does not load" in caplog.text and "mine.hrules" in caplog.text
    assert live.compress(conversation(), "claude-sonnet-4-5").tokens_saved > 0  # still the default's decisions


def test_a_reloaded_engine_keeps_its_store_and_protected_tools(tmp_path: Path) -> None:
    now = [0.0]
    first = engine_for(str(compiled(tmp_path, DEFAULT))).protecting(("Bash",))
    live = LiveEngine(first, clock=lambda: now[0])
    compiled(tmp_path, KEEP_ALL)
    now[0] = 2.0
    reloaded = live.current()
    assert isinstance(reloaded, Engine) and reloaded is not first
    assert (reloaded.store, reloaded.protected_tools) == (first.store, ("Bash",))
    assert reloaded.compress(conversation(), "claude-sonnet-4-5").tokens_saved == 0
