"""The csv compressor keeps a table's header and telling rows as their exact lines, and summarizes the rest.

Every output is checked against its input the same way (`check`): the header comes first, every line is a line of
the input or a marker line, the kept rows are whole records in input order, and the markers account for every
dropped row.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors.table import compress

MARKER = re.compile(r"\[headroom: (\d+) of (\d+) rows \(rows? (\d+)(?:-(\d+))?[:,)].*; retrieve with ref=T\]")

Result = Compressed | None


def run(text: str, query: str = "", kind: str = "csv", **params: object) -> Result:
    """The compressor's output for the text, with the given parameters over the catalog's defaults."""
    return compress(text, params, Context(query=query, kind=kind, ref="T"))


def write(rows: list[list[str]], delimiter: str = ",", eol: str = "\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=eol).writerows(rows)
    return buffer.getvalue()


def records(text: str, delimiter: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False) if row]


def check(text: str, out: str, delimiter: str) -> list[int]:
    """The structure rules every output keeps (module docstring); returns the kept rows' indices."""
    lines, source = out.split("\n"), set(text.split("\n"))
    everything = records(text, delimiter)
    header, rows = everything[0], everything[1:]
    assert records(lines[0], delimiter) == [header]
    kept, position, segment = [], 0, []
    for line in [*lines[1:], None]:
        if line is not None and not MARKER.fullmatch(line.rstrip("\r")):
            assert line in source
            segment.append(line)
            continue
        for row in records("\n".join(segment), delimiter):  # kept lines make whole records, in input order
            assert rows[position] == row
            kept.append(position)
            position += 1
        segment = []
        if line is not None:
            count, total, start, stop = marker_numbers(line.rstrip("\r"))
            assert total == len(rows) and start == position + 1 and stop == start + count - 1
            position = stop
    assert position == len(rows)
    return kept


def marker_numbers(marker: str) -> tuple[int, int, int, int]:
    match = MARKER.fullmatch(marker)
    assert match, marker
    start = int(match[3])
    return int(match[1]), int(match[2]), start, int(match[4]) if match[4] else start


def orders(count: int = 300) -> list[list[str]]:
    rows = [["created_at", "order_id", "customer", "region", "status", "amount", "note"]]
    for k in range(count):
        created = f"2026-11-{1 + k % 20:02d}T09:{k % 60:02d}:{k * 7 % 60:02d}.123Z"
        region = ["eu", "us", "apac"][k % 3]
        status = ["paid", "paid", "shipped", "delivered"][k % 4]
        amount = f"{5 + (k * 37) % 395}.{k % 100:02d}"
        rows.append([created, f"ORD-{700000 + k}", f"CUST-{10000 + (k * 7919) % 89999}", region, status, amount, "ok"])
    return rows


# --- what is kept -------------------------------------------------------------------------------------------------


def test_anomalies_and_the_rows_the_query_names_are_kept_as_their_lines() -> None:
    rows = orders()
    rows[41][5] = "-9999.00"  # a negative amount
    rows[87][5] = "250000.00"  # an outlier
    rows[120][4] = "refunded"  # a rare status
    rows[150][6] = ""  # an empty cell where every other row has one
    rows[190][6] = "payment FAILED: card declined"  # error-ish
    rows[60][2] = rows[230][2] = "CUST-55555"
    text = write(rows)
    result = run(text, query="Which orders belong to CUST-55555, and is anything odd?")
    assert result is not None and len(result.text) < len(text) / 3
    assert {40, 86, 119, 149, 189, 59, 229} <= set(check(text, result.text, ","))
    assert "2026-11-01T09:40:40.123Z,ORD-700040,CUST-" in result.text  # the timestamp whole, colons and all


def test_rows_of_a_customer_seen_twice_are_kept_without_a_query() -> None:
    rows = orders(500)
    text = write(rows)
    plain = run(text)
    assert plain is not None and not {122, 399} & set(check(text, plain.text, ","))
    rows[400][2] = rows[123][2]
    text = write(rows)
    result = run(text)
    assert result is not None and {122, 399} <= set(check(text, result.text, ","))


def test_a_whole_number_links_rows_only_in_a_column_named_as_an_identifier() -> None:
    for name, linked in (("user_id", True), ("bytes", False)):
        rows = [["n", name, "note"], *([str(k), str(5000 + k), "ok " * 10] for k in range(300))]
        rows[71][1] = rows[230][1]
        text = write(rows)
        result = run(text)
        assert result is not None
        assert ({70, 229} <= set(check(text, result.text, ","))) is linked


def test_a_row_with_quoted_delimiters_and_line_breaks_is_kept_whole() -> None:
    rows = orders(120)
    rows[70][6] = 'error: "disk full", retrying\nsecond line; third: done'
    text = write(rows)
    result = run(text)
    assert result is not None
    assert 69 in check(text, result.text, ",")
    assert '"error: ""disk full"", retrying\nsecond line; third: done"' in result.text


def test_a_row_with_too_many_cells_is_kept() -> None:
    text = write(orders(100)).replace("ORD-700050,", "ORD-700050,extra,", 1)
    result = run(text)
    assert result is not None and "ORD-700050,extra," in result.text


def test_head_and_tail_are_shares_of_max_rows() -> None:
    text = write([["id", "name"], *([str(k), f"user{k}"] for k in range(100))])
    result = run(text, max_rows=20, keep_first=0.3, keep_last=0.15)
    assert result is not None
    assert check(text, result.text, ",") == [0, 1, 2, 3, 4, 5, 97, 98, 99]
    assert result.summary == "91 of 100 rows"


def test_the_marker_summarizes_each_column() -> None:
    text = write([["id", "region", "amount"], *([str(k), ["eu", "us"][k % 2], f"{k}.50"] for k in range(100))])
    result = run(text, max_rows=10)
    assert result is not None
    assert "[headroom: 95 of 100 rows (rows 4-98: id 3..97; region us 48, eu 47; amount 3.50..97.50) omitted" in (
        result.text
    )


def test_identical_rows_are_counted_not_repeated() -> None:
    text = write([["event", "ok"], *(["heartbeat", "true"] for _ in range(50))])
    result = run(text)
    assert result is not None
    assert check(text, result.text, ",") == [0]
    assert "each identical to row 1" in result.text


# --- reading the table --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    rows = orders(80)
    rows[30][5] = "-1.00"
    text = write(rows, delimiter)
    result = run(text, kind="tsv" if delimiter == "\t" else "csv")
    assert result is not None
    assert 29 in check(text, result.text, delimiter)


def test_commas_in_a_tsv_do_not_fool_the_sniffer() -> None:
    rows = [
        ["name", "address", "zip"],
        *([f"n{k}", f"{k} Main St, Springfield, IL", f"{60000 + k}"] for k in range(60)),
    ]
    text = write(rows, "\t")
    result = run(text, kind="tsv")
    assert result is not None
    check(text, result.text, "\t")
    assert "rows 7-57: name n6..n56;" in result.text


def test_line_breaks_stay_as_written() -> None:
    text = write(orders(60), eol="\r\n")
    result = run(text)
    assert result is not None and result.text.endswith("\r\n")
    assert all(line.endswith("\r") for line in result.text.split("\n")[:-1])
    check(text, result.text, ",")
    bare = text.removesuffix("\r\n")
    result = run(bare)
    assert result is not None and result.text == run(text).text.removesuffix("\r\n")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        write(orders(8)),  # all rows fit in max_rows
        write([["only"], *([str(k)] for k in range(100))]),  # one column: not a table
        "just some words\nover a few lines\n",
        "",
    ],
)
def test_nothing_worth_doing_gives_none(text: str) -> None:
    assert run(text) is None


def test_the_same_input_gives_the_same_bytes() -> None:
    rows = orders(400)
    rows[17][5] = "99999.00"
    text = write(rows)
    assert run(text, query="CUST-10000") == run(text, query="CUST-10000")


# --- properties ---------------------------------------------------------------------------------------------------

CELL = st.one_of(
    st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{1,3})?", fullmatch=True),
    st.text(st.sampled_from([*"abcXYZ019 :-_/.'\"\né€😀"]), max_size=10),
    st.sampled_from(["", "error", "ok", "2026-11-12T09:15:00.123Z"]),
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, str]:
    """A table written by the csv module (quoting as it does), and its delimiter; each column's values come from
    a small pool so values repeat, and now and then a row has another number of cells."""
    delimiter = draw(st.sampled_from([",", "\t", ";", "|"]))
    width = draw(st.integers(2, 5))
    pools = [draw(st.lists(CELL, min_size=1, max_size=6)) for _ in range(width)]
    count = draw(st.integers(0, 80))
    picks = draw(st.lists(st.lists(st.integers(0, 5), min_size=width, max_size=width), min_size=count, max_size=count))
    rows = [[f"col{k}" for k in range(width)]]
    rows += [[pools[k][pick[k] % len(pools[k])] for k in range(width)] for pick in picks]
    if len(rows) > 3 and draw(st.booleans()):
        rows[draw(st.integers(1, len(rows) - 1))].append("extra")
    text = write(rows, delimiter, draw(st.sampled_from(["\n", "\r\n"])))
    return (text if draw(st.booleans()) else text.rstrip("\r\n")), delimiter


@settings(max_examples=120)
@given(
    table=tables(),
    max_rows=st.integers(1, 25),
    keep_first=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    keep_last=st.sampled_from([0.0, 0.15, 0.5]),
    query=st.sampled_from(["", "what about abc and 019?", "error 😀"]),
)
def test_any_table_keeps_the_structure_rules(
    table: tuple[str, str], max_rows: int, keep_first: float, keep_last: float, query: str
) -> None:
    text, delimiter = table
    params = {"max_rows": max_rows, "keep_first": keep_first, "keep_last": keep_last}
    result = run(text, query=query, kind="tsv" if delimiter == "\t" else "csv", **params)
    assert result == run(text, query=query, kind="tsv" if delimiter == "\t" else "csv", **params)
    if result is not None:
        assert len(result.text) < len(text)
        check(text, result.text, delimiter)
