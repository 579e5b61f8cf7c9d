"""The pieces of the doctor's checks that need no proxy: how hints spell commands, how ages read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from headroom.cli.doctor_checks import Context, ago

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "reads"),
    [
        (timedelta(seconds=30), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=5, seconds=59), "5 minutes ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(days=2, hours=23), "2 days ago"),
    ],
)
def test_ago(before: timedelta, reads: str) -> None:
    assert ago((NOW - before).isoformat(), now=NOW) == reads
    assert ago((NOW - before).replace(tzinfo=None).isoformat(), now=NOW) == reads  # no zone: UTC


@pytest.mark.parametrize("timestamp", [None, "", "yesterday"])
def test_an_unreadable_time_is_said_to_be_unknown(timestamp: str | None) -> None:
    assert ago(timestamp, now=NOW) == "at an unknown time"


def test_commands_name_the_port_and_a_host_other_than_loopback() -> None:
    assert Context("127.0.0.1", 9000, None, None).command("headroom", "doctor") == "`headroom doctor --port 9000`"
    remote = Context("10.0.0.5", 9000, None, None)
    assert remote.command("headroom-serve") == "`headroom-serve --port 9000 --host 10.0.0.5`"
    assert remote.command("headroom", "wrap", "codex", host=False) == "`headroom wrap codex --port 9000`"


def test_restart_quotes_the_rules_path() -> None:
    ctx = Context("127.0.0.1", 8787, None, Path("/my rules/p.hrules"))
    assert ctx.restart(env="A=1") == "`A=1 headroom-serve --rules '/my rules/p.hrules' --port 8787`"
