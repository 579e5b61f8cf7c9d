"""`headroom perf`, run as a real process on the request log a real proxy wrote by default: per tool and per kind
it has the numbers /stats reported, in text, JSON and CSV alike; it reads the log's rotated part and another log;
no data, a corrupt log and a bad flag each get a clear answer."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess

import pytest
from support.traffic import Recorded

from headroom.cli.no_data import NO_DATA


def perf(recorded: Recorded, *argv: str) -> str:
    result = recorded.run("perf", *argv)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_text_json_and_csv_agree_with_what_the_proxy_reported(recorded: Recorded) -> None:
    stats, data = recorded.stats, json.loads(perf(recorded, "--format", "json"))
    assert data["requests"] == stats["requests"] and data["log"] == str(recorded.home / "logs" / "requests.jsonl")
    for group in ("by_tool", "by_kind"):
        assert {name: (row["blocks"], row["tokens_before"], row["tokens_after"], row["tokens_saved"])
                for name, row in data[group].items()} == {
               name: (row["blocks"], row["tokens_before"], row["tokens_after"], row["tokens_saved"])
               for name, row in stats[group].items()}  # fmt: skip
    assert {"log", "json_array", "test_output"} <= set(data["by_kind"])
    assert all(row["ms"] > 0 for row in data["by_tool"].values())
    assert all(data["overhead_ms"][p] is not None for p in ("p50", "p90", "p99"))

    rows = list(csv.DictReader(io.StringIO(perf(recorded, "--format", "csv"))))
    assert [(row["group"], row["name"]) for row in rows] == [
        *(("tool", name) for name in data["by_tool"]), *(("kind", name) for name in data["by_kind"])]  # fmt: skip
    for row in rows:
        expected = data[f"by_{row['group']}"][row["name"]]
        assert {column: float(row[column]) for column in expected} == pytest.approx(expected)

    text = perf(recorded).splitlines()
    assert text[0].startswith(f"headroom perf ({data['log']}): {data['requests']} requests from {data['first']}")
    assert text[1] == "proxy overhead per request: " + ", ".join(
        f"{p} {value:,.1f} ms" for p, value in data["overhead_ms"].items())  # fmt: skip
    counts = ("blocks", "tokens_before", "tokens_after", "tokens_saved")
    for group in ("tool", "kind"):
        for name, row in data[f"by_{group}"].items():
            assert table_row(text, group, name)[:5] == [name, *(f"{row[count]:,}" for count in counts)]


def table_row(text: list[str], group: str, name: str) -> list[str]:
    """The cells of `name`'s row in the text's table by `group`."""
    table = text[text.index(next(line for line in text if line.startswith(f"by {group} "))) :]
    return re.split(r"\s{2,}", next(line for line in table if line.startswith(f"{name} ")))


def test_the_rotated_part_and_another_log_are_read(recorded: Recorded) -> None:
    lines = (recorded.home / "logs" / "requests.jsonl").read_text().splitlines(keepends=True)
    other = recorded.home / "other.jsonl"
    other.with_name("other.jsonl.1").write_text("".join(lines[:2]))
    other.write_text("".join(lines[2:]))
    moved = json.loads(perf(recorded, "--log-file", str(other), "--format", "json"))
    assert moved == {**json.loads(perf(recorded, "--format", "json")), "log": str(other)}


def test_no_data_yet(home: Recorded) -> None:
    assert perf(home).strip() == NO_DATA
    data = json.loads(perf(home, "--format", "json"))
    assert (data["requests"], data["by_tool"], data["by_kind"]) == (0, {}, {})
    assert perf(home, "--format", "csv") == "group,name,blocks,tokens_before,tokens_after,tokens_saved,ms\n"


def test_a_line_cut_short_is_skipped_and_said(recorded: Recorded) -> None:
    log = recorded.home / "logs" / "requests.jsonl"
    with log.open("a") as file:
        file.write('{"request_id": "cut", "blocks": [{"tool": "Ba')
    result = recorded.run("perf", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["requests"] == recorded.stats["requests"]
    assert result.stderr.strip() == f"headroom perf: skipped 1 unreadable line in {log}"


@pytest.mark.parametrize("content", ["not json at all\n", '{"blocks": "many"}\n', "[1, 2]\n"])
def test_a_file_that_is_no_request_log_is_a_clear_error(home: Recorded, content: str) -> None:
    path = home.home / "some.jsonl"
    path.write_text(content)
    result = home.run("perf", "--log-file", str(path))
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert f"cannot read {path}: not a headroom request log (line 1 of some.jsonl" in result.stderr


def test_a_bad_flag_is_a_usage_error(home: Recorded) -> None:
    result = home.run("perf", "--format", "xml")
    assert result.returncode == 2 and "invalid choice: 'xml'" in result.stderr


def test_a_reader_that_stops_early_is_no_error(recorded: Recorded) -> None:
    """`headroom perf | head -1`: the pipe closes while perf still writes, which ends it quietly with 0."""
    lines = (recorded.home / "logs" / "requests.jsonl").read_text().splitlines()
    entry = next(entry for entry in map(json.loads, lines) if entry["blocks"])
    many_tools = recorded.home / "many.jsonl"
    with many_tools.open("w") as file:  # far more report than a pipe's buffer holds
        for k in range(4000):
            entry["blocks"] = [{**entry["blocks"][0], "tool": f"tool_{k:05d}"}]
            file.write(json.dumps(entry) + "\n")
    env = {**os.environ, "HEADROOM_STORE_PATH": str(recorded.home / "store.db")}
    process = subprocess.Popen(["headroom", "perf", "--log-file", str(many_tools)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"headroom perf")
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in process.stderr.read()
