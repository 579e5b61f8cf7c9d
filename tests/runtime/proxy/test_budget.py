"""The budget through the real proxy: reserved before forwarding so concurrent requests never overshoot, settled to
the usage the provider reports, kept per period in a file in a temporary data folder, refused with a provider-shaped
429."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.proxy_harness import WAIT, anthropic_events, events, status

from headroom.runtime.proxy import budget
from headroom.runtime.proxy.budget import BudgetExceeded, Ledger
from headroom.runtime.proxy.metering import billed_request
from headroom.runtime.proxy.prices import price_for

ANTHROPIC = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
OPENAI = {"authorization": "Bearer sk-test"}
ANTHROPIC_BODY = {"model": "claude-sonnet-4-5", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}]}
OPENAI_BODY = {"model": "gpt-4o", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(autouse=True)
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """headroom's data folder for the test (runtime/home.py): the budget file is kept there."""
    monkeypatch.setenv("HEADROOM_STORE_PATH", str(tmp_path / "ccr_store.db"))
    return tmp_path


def estimate(body: dict, path: str = "/v1/messages") -> float:
    billed = billed_request("POST", path, json.dumps(body).encode())
    assert billed is not None
    return billed[1]


def spent(data: Path) -> dict[str, float]:
    return json.loads((data / "budget.json").read_text())["spent"]


def settled(data: Path, expected: float) -> list[float]:
    """The amounts spent, once they are `expected`: the proxy settles after the last byte has gone to the client."""
    deadline = time.monotonic() + WAIT
    while list(spent(data).values()) != [pytest.approx(expected)] and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(spent(data).values())


def test_concurrent_requests_never_overshoot_the_budget(start_proxy, stand_in) -> None:
    proxy = start_proxy(budget=estimate(ANTHROPIC_BODY) * 5.5, threads=20)
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: proxy.post("/v1/messages", ANTHROPIC_BODY, ANTHROPIC), range(20)))
    assert sorted(reply.status for reply in replies) == [200] * 5 + [429] * 15
    assert len(stand_in.received) == 5
    refused = next(reply for reply in replies if reply.status == 429)
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert "budget exceeded" in refused.json()["error"]["message"]
    assert int(refused.header("retry-after")) > 0


def test_openai_is_refused_in_its_own_shape_and_nothing_is_forwarded(start_proxy, stand_in) -> None:
    proxy = start_proxy(budget=estimate(OPENAI_BODY) / 2)
    reply = proxy.post("/v1/chat/completions", OPENAI_BODY, OPENAI)
    assert reply.status == 429
    assert reply.json()["error"]["code"] == "budget_exceeded"
    assert stand_in.received == []


def test_passthrough_posts_naming_a_model_are_held_to_the_budget(start_proxy, stand_in) -> None:
    proxy = start_proxy(budget=estimate(OPENAI_BODY, "/v1/embeddings") / 2)
    assert proxy.post("/v1/embeddings", OPENAI_BODY, OPENAI).status == 429
    assert proxy.post("/v1/messages/count_tokens", ANTHROPIC_BODY, ANTHROPIC).status == 200  # counting is free
    assert [r.path for r in stand_in.received] == ["/anthropic/v1/messages/count_tokens"]


def test_an_answer_is_settled_to_the_usage_it_reports(start_proxy, stand_in, data) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 500, "cache_read_input_tokens": 10_000}
    answer = {"type": "message", "content": [{"type": "text", "text": "ok"}], "usage": usage}
    stand_in.then(status(200, json.dumps(answer).encode(), [("content-type", "application/json")]))
    proxy = start_proxy(budget=10.0)
    assert proxy.post("/v1/messages", ANTHROPIC_BODY, ANTHROPIC).status == 200
    expected = price_for("claude-sonnet-4-5").cost(1000, 500, cache_read=10_000)
    assert settled(data, expected) == [pytest.approx(expected)]


def test_a_stream_is_settled_to_the_usage_in_its_events(start_proxy, stand_in, data) -> None:
    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 2000, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 300}}
    stream = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in (start, delta)]
    stand_in.then(events(stream[0], *anthropic_events()[1:-1], stream[1], anthropic_events()[-1]))
    proxy = start_proxy(budget=10.0)
    reply = proxy.post("/v1/messages", {**ANTHROPIC_BODY, "stream": True}, ANTHROPIC)
    assert reply.status == 200
    expected = price_for("claude-sonnet-4-5").cost(2000, 300)
    assert settled(data, expected) == [pytest.approx(expected)]


def test_an_error_answer_costs_nothing(start_proxy, stand_in, data) -> None:
    stand_in.then(status(400, b'{"type": "error"}', [("content-type", "application/json")]))
    proxy = start_proxy(budget=10.0)
    assert proxy.post("/v1/messages", ANTHROPIC_BODY, ANTHROPIC).status == 400
    assert settled(data, 0.0) == [0.0]


def test_spending_is_kept_per_period_and_survives_a_restart(data) -> None:
    clock = [datetime(2026, 3, 1, 10, 30, tzinfo=UTC)]
    ledger = Ledger(1.0, "hourly", now=lambda: clock[0])
    ledger.reserve(0.75)
    restarted = Ledger(1.0, "hourly", now=lambda: clock[0])
    assert restarted.spent() == pytest.approx(0.75)
    with pytest.raises(BudgetExceeded) as refused:
        restarted.reserve(0.5)
    assert refused.value.retry_after == 30 * 60 + 1
    clock[0] = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    restarted.reserve(0.5)  # a new hour, a new budget
    assert spent(data) == {"2026-03-01T10": 0.75, "2026-03-01T11": 0.5}


def test_a_monthly_budget_waits_for_the_first_of_the_next_month(data) -> None:
    ledger = Ledger(1.0, "monthly", now=lambda: datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    with pytest.raises(BudgetExceeded) as refused:
        ledger.reserve(2.0)
    assert refused.value.retry_after == 3600 + 1


def test_stats_and_health_report_the_budget(start_proxy, stand_in, data) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 500}
    answer = {"type": "message", "content": [{"type": "text", "text": "ok"}], "usage": usage}
    stand_in.then(status(200, json.dumps(answer).encode(), [("content-type", "application/json")]))
    proxy = start_proxy(budget=10.0, budget_period="hourly")
    assert proxy.post("/v1/messages", ANTHROPIC_BODY, ANTHROPIC).status == 200
    cost = price_for("claude-sonnet-4-5").cost(1000, 500)
    settled(data, cost)
    expected = {"limit": 10.0, "period": "hourly", "spent": pytest.approx(cost), "remaining": pytest.approx(10 - cost)}
    assert proxy.call("GET", "/stats").json()["budget"] == expected
    assert proxy.call("GET", "/health").json()["budget"] == expected


def test_two_ledgers_on_one_file_see_each_others_spending(data) -> None:
    first, second = Ledger(1.0, "daily"), Ledger(1.0, "daily")
    kept = first.reserve(0.5)
    second.reserve(0.3)
    with pytest.raises(BudgetExceeded):
        second.reserve(0.3)  # 0.8 is spent between them
    first.settle(kept, 0.1)  # settling one does not forget the other's
    assert second.spent() == pytest.approx(0.4) and list(spent(data).values()) == [pytest.approx(0.4)]


def open_files(path: Path) -> int:
    """How many of this process's file descriptors are open on `path`."""
    targets = []
    for descriptor in Path("/proc/self/fd").iterdir():
        with suppress(OSError):  # the one that listed the folder is gone
            targets.append(os.readlink(descriptor))
    return targets.count(str(path))


def test_the_file_is_read_again_only_once_another_ledger_has_written_it(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads, load = [], budget._load

    def counted(*args: Any) -> dict[str, float]:
        loads.append(args)
        return load(*args)

    monkeypatch.setattr(budget, "_load", counted)
    first, second = Ledger(1.0, "daily"), Ledger(1.0, "daily")
    first.settle(first.reserve(0.5), 0.25)
    assert first.report()["spent"] == 0.25 and len(loads) == 1  # what it wrote itself is not read back
    assert open_files(data / "budget.json.lock") == 1  # opened once, kept open
    second.reserve(0.5)
    assert first.spent() == 0.75 and len(loads) == 3


STEP = 1 / 128  # a binary fraction: the sums are exact, so the count that fits is exactly limit / STEP
RESERVING = f"""
import sys
from headroom.runtime.proxy.budget import BudgetExceeded, Ledger
ledger = Ledger(float(sys.argv[1]), "daily")
print("ready", flush=True)
sys.stdin.readline()
count = 0
try:
    while True:
        ledger.reserve({STEP})
        count += 1
except BudgetExceeded:
    print(count, flush=True)
"""


def reserve_until_refused(ledger: Ledger) -> int:
    count = 0
    with pytest.raises(BudgetExceeded):
        while True:
            ledger.reserve(STEP)
            count += 1
    return count


def test_two_processes_reserving_at_once_never_overshoot_together(data) -> None:
    other = subprocess.Popen([sys.executable, "-c", RESERVING, "2.0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)  # fmt: skip
    try:
        assert other.stdout.readline() == "ready\n"
        other.stdin.write("go\n")
        other.stdin.flush()
        ours = reserve_until_refused(Ledger(2.0, "daily"))
        theirs = int(other.stdout.readline())
    finally:
        other.kill()
        other.wait(WAIT)
    assert ours + theirs == 2.0 / STEP  # every reservation counted once: none overwrote another
    assert list(spent(data).values()) == [pytest.approx(2.0)]


def test_two_proxies_share_one_budget(start_proxy, stand_in) -> None:
    limit = estimate(ANTHROPIC_BODY) * 5.5
    proxies = [start_proxy(budget=limit, threads=10) for _ in range(2)]
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda i: proxies[i % 2].post("/v1/messages", ANTHROPIC_BODY, ANTHROPIC), range(20)))
    assert sorted(reply.status for reply in replies) == [200] * 5 + [429] * 15
    assert len(stand_in.received) == 5
