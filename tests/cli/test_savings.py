"""`headroom savings`, run as a real process on the savings file a real proxy wrote: its totals are the ones the
proxy's /stats reported, split by UTC day, model, client and tool; a model with no price says so; no data, a
corrupt file and a bad flag each get a clear answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from support.traffic import MYSTERY, Recorded

from headroom.cli.no_data import NO_DATA
from headroom.runtime.proxy.daybook import Book, Counted
from headroom.runtime.proxy.prices import known_price


def report(recorded: Recorded) -> dict[str, Any]:
    result = recorded.run("savings", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_totals_are_what_the_proxy_reported_by_model_client_and_tool(recorded: Recorded) -> None:
    stats, data = recorded.stats, report(recorded)
    all_time = data["periods"]["all_time"]
    for field in ("requests", "tokens_before", "tokens_after", "tokens_saved"):
        assert all_time[field] == stats[field] == stats["lifetime"][field]
    assert data["periods"]["last_7_days"] == all_time
    recorded_days = set(json.loads((recorded.home / "savings.json").read_text())["days"])
    assert data["periods"]["today"]["requests"] == (all_time["requests"] if data["today"] in recorded_days else 0)
    by_model = {model: (row["requests"], row["tokens_saved"]) for model, row in data["by_model"].items()}
    assert by_model == {model: (row["requests"], row["tokens_saved"]) for model, row in stats["by_model"].items()}
    assert {tool: row["tokens_saved"] for tool, row in data["by_tool"].items()} == {
        tool: row["tokens_saved"] for tool, row in stats["by_tool"].items()}  # fmt: skip
    assert {tool for tool, row in data["by_tool"].items() if row["tokens_saved"]} == {"Bash", "WebFetch", "shell"}
    assert {client: row["requests"] for client, row in data["by_client"].items()} == {
        "alpha": 2, "codex_cli_rs": 1, "unknown": 3}  # fmt: skip


def test_dollars_are_priced_at_the_input_price_and_a_model_without_one_says_so(recorded: Recorded) -> None:
    data = report(recorded)
    for model in ("claude-sonnet-4-5", "gpt-4o", "gpt-5"):
        row, price = data["by_model"][model], known_price(model)
        assert price is not None and row["tokens_saved"] > 0 and row["unpriced_tokens_saved"] == 0
        assert row["usd_saved"] == pytest.approx(row["tokens_saved"] * price.input / 1e6, rel=1e-6)
    mystery = data["by_model"][MYSTERY]
    assert mystery["usd_saved"] is None and mystery["unpriced_tokens_saved"] == mystery["tokens_saved"] > 0
    assert data["no_price"] == [MYSTERY]
    all_time = data["periods"]["all_time"]
    assert all_time["unpriced_tokens_saved"] == mystery["tokens_saved"]
    priced = sum(row["usd_saved"] for row in data["by_model"].values() if row["usd_saved"] is not None)
    assert all_time["usd_saved"] == pytest.approx(priced)

    text = recorded.run("savings")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert [line.split()[0] for line in lines[3:6]] == ["today", "last", "all"]
    assert "█" in lines[5] and f"{all_time['tokens_saved']:,}" in lines[5]
    assert f"{mystery['tokens_saved']:,} tokens with no price" in lines[5]
    (mystery_line,) = [line for line in lines if line.strip().startswith(MYSTERY)]
    assert mystery_line.endswith("no price") and "$" not in mystery_line
    assert f"no price for {MYSTERY}: its {mystery['tokens_saved']:,} tokens saved are not in the dollars" in lines
    assert [line.split(",")[0] for line in lines if line.startswith("by ")] == ["by model", "by client", "by tool"]


def test_days_are_utc_days_and_the_periods_count_the_right_ones(home: Recorded) -> None:
    today = datetime.now(UTC).date()
    book = Book()
    for days_ago in (0, 3, 10):
        noon = datetime.combine(today - timedelta(days=days_ago), time(12), UTC).timestamp()
        after = 10 * (days_ago + 1)  # 990, 960 and 890 tokens saved
        book.add(Counted(noon, "gpt-4o", "alpha", 1000, after, (("Bash", 1000, after),)), 2.5e-6)
    (home.home / "savings.json").write_text(json.dumps(book.to_json()))
    data = report(home)
    periods = {name: (period["requests"], period["tokens_saved"]) for name, period in data["periods"].items()}
    on_time = data["today"] == today.isoformat()  # not when the command ran just past midnight
    assert periods == {"today": (1, 990) if on_time else (0, 0), "last_7_days": (2, 990 + 960),
                       "all_time": (3, 990 + 960 + 890)}  # fmt: skip
    assert data["since"] == (today - timedelta(days=10)).isoformat()
    assert data["by_tool"]["Bash"]["requests"] == 3


def test_no_data_yet(home: Recorded) -> None:
    text = home.run("savings")
    assert (text.returncode, text.stdout.strip()) == (0, NO_DATA)
    assert all(f"`headroom {command}`" in NO_DATA for command in ("wrap claude", "wrap codex", "doctor"))
    data = report(home)
    assert data["periods"]["all_time"]["requests"] == 0 and data["by_model"] == {} and data["no_price"] == []


@pytest.mark.parametrize(("content", "says"), [("{not json", "not JSON"), ('{"days": []}', "'days' is not an object")])
def test_a_corrupt_file_is_a_clear_error_and_is_left_as_it_was(home: Recorded, content: str, says: str) -> None:
    path = home.home / "savings.json"
    path.write_text(content)
    for argv in (["savings"], ["savings", "--json"]):
        result = home.run(*argv)
        assert result.returncode == 1 and result.stdout == ""
        assert f"cannot read {path}: " in result.stderr and says in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_text() == content


def test_a_bad_flag_is_a_usage_error(home: Recorded) -> None:
    result = home.run("savings", "--frobnicate")
    assert result.returncode == 2 and "usage: headroom savings" in result.stderr
