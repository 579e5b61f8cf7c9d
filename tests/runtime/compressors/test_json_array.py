"""The crusher keeps what an agent needs from a long JSON array, byte for byte, and says what it dropped.

Every output is checked against its input the same way (`check`): it parses (as a JSON array, JSONL or the
documented table), every kept item is the input's item exactly as written (in the table: every cell is the item's
value token as written and the row parses back to the item), kept items stay in input order, and the markers
account for every dropped item. An object wrapping arrays is checked by `check_wrapped`: it still parses, every byte
outside the crushed arrays is as it was, and each crushed array passes `check`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors.json_array import compress

DECODER = json.JSONDecoder()
WS = re.compile(r"[ \t\n\r]*")
MARKER = re.compile(
    r"\[headroom: (\d+) of (\d+) items \((?:index|indices) (\d+)(?:-(\d+))?[:,)].*; retrieve with ref=R\]", re.DOTALL
)


Result = Compressed | None


def run(text: str, query: str = "", tool_input: str = "", kind: str = "json_array", **params: object) -> Result:
    """The crusher's output for the text, with the given parameters over the catalog's defaults."""
    return compress(text, params, Context(query=query, tool_input=tool_input, kind=kind, ref="R"))


def items_of(text: str) -> list[str]:
    """The original text of each top-level item of a JSON array, or of each line of JSONL."""
    if not text.lstrip().startswith("["):
        return [line.strip(" \t\r") for line in text.split("\n") if line.strip(" \t\r")]
    out, pos = [], WS.match(text, text.index("[") + 1).end()
    while text[pos] != "]":
        _, end = DECODER.raw_decode(text, pos)
        out.append(text[pos:end])
        pos = WS.match(text, end).end()
        pos = WS.match(text, pos + 1).end() if text[pos] == "," else pos
    return out


@dataclass
class Kept:
    items: dict[int, str]  # input index → the item's text in the output (or its row, for a table)
    omitted: int  # items the markers account for


def check(text: str, out: str) -> Kept:
    """The structure rules every output keeps (module docstring); returns what was kept."""
    originals = items_of(text)
    if out.startswith('"') and not json.loads(out.split("\n")[0].split("\t")[0]).startswith("[headroom: "):
        return check_table(originals, out)
    pieces = items_of(out)
    if out.lstrip().startswith("["):
        assert json.loads(out) is not None
    kept, omitted, position = {}, 0, 0
    for piece in pieces:
        value = json.loads(piece)
        if isinstance(value, str) and MARKER.fullmatch(value) and piece not in originals:
            count, total, start, stop = marker_numbers(value)
            assert total == len(originals) and start == position and stop == start + count - 1
            omitted, position = omitted + count, stop + 1
            continue
        assert originals[position] == piece  # verbatim, in order, every dropped run replaced by a marker
        kept[position], position = piece, position + 1
    assert position == len(originals)
    assert omitted + len(kept) == len(originals)
    return Kept(kept, omitted)


def marker_numbers(marker: str) -> tuple[int, int, int, int]:
    match = MARKER.fullmatch(marker)
    assert match, marker
    count, total, start = int(match[1]), int(match[2]), int(match[3])
    return count, total, start, int(match[4]) if match[4] else start


def check_table(originals: list[str], out: str) -> Kept:
    lines = out.split("\n")
    header = [json.loads(cell) for cell in lines[0].split("\t")]
    kept, omitted, position = {}, 0, 0
    for line in lines[1:]:
        if line.startswith("[headroom: "):
            count, total, start, stop = marker_numbers(line)
            assert total == len(originals) and start == position
            omitted, position = omitted + count, stop + 1
            continue
        cells = line.split("\t")
        value = dict(zip(header, (json.loads(cell) for cell in cells), strict=True))
        assert json.loads(originals[position]) == value
        assert all(cell in originals[position] for cell in cells)  # every value token as written in the input
        kept[position], position = line, position + 1
    assert position == len(originals)
    return Kept(kept, omitted)


def split_at(text: str, *keys: str) -> list[str]:
    """The text of an object cut around the array value of each key (in order): [literal, array, literal, ...]."""
    parts, pos = [], 0
    for key in keys:
        start = pos
        while not text.startswith("[", start):
            start = WS.match(text, text.index(f'"{key}":', start) + len(key) + 3).end()
        _, stop = DECODER.raw_decode(text, start)
        parts += [text[pos:start], text[start:stop]]
        pos = stop
    return [*parts, text[pos:]]


def check_wrapped(parts: list[str], out: str) -> list[Kept | None]:
    """For an object cut by `split_at` (or drawn by `wrapped`): the output parses, every literal part is there
    byte for byte, and each array is either as it was (None) or crushed by the rules `check` checks."""
    assert json.loads(out) is not None
    found: list[Kept | None] = []
    pos = 0
    for index, part in enumerate(parts):
        if index % 2 == 0:
            assert out.startswith(part, pos)
            pos += len(part)
            continue
        _, end = DECODER.raw_decode(out, pos)
        found.append(None if out[pos:end] == part else check(part, out[pos:end]))
        pos = end
    assert pos == len(out)
    return found


def orders(count: int = 300) -> list[dict[str, object]]:
    statuses = ["paid", "paid", "paid", "shipped", "delivered"]
    return [
        {
            "order_id": f"ORD-{700000 + k}",
            "customer": f"CUST-{10000 + (k * 7919) % 89999}",
            "status": statuses[k % 5],
            "amount": round(5 + (k * 37 % 395) + (k % 100) / 100, 2),
            "currency": "EUR",
            "created_at": f"2026-11-{1 + k % 20:02d}T10:{k % 60:02d}:00Z",
        }
        for k in range(count)
    ]


# --- what is kept -------------------------------------------------------------------------------------------------


def test_an_anomaly_and_the_orders_the_query_names_are_kept_whole() -> None:
    rows = orders()
    rows[123]["amount"], rows[123]["status"] = -9999.0, "refunded"
    rows[40]["customer"] = rows[250]["customer"] = "CUST-55555"
    text = json.dumps(rows)
    result = run(text, query="Which orders belong to CUST-55555, and is anything anomalous?")
    assert result is not None and len(result.text) < len(text) / 5
    kept = check(text, result.text)
    assert {40, 123, 250} <= set(kept.items)
    assert "-9999.0" in result.text and "ORD-700040" in result.text and "ORD-700250" in result.text


def test_the_p0_issue_is_kept_with_its_whole_body() -> None:
    words = ["request", "handler", "session", "cache", "timeout", "retry", "worker", "queue", "index", "shard"]
    issues = [
        {
            "number": 4000 + n,
            "title": f"{words[n % 10].capitalize()} {words[(n * 3) % 10]} is slow",
            "labels": [{"name": ["bug", "enhancement", "docs"][n % 3]}],
            "body": " ".join(words[(n + k) % 10] for k in range(120)),
        }
        for n in range(60)
    ]
    issues[33]["labels"] = [{"name": "bug"}, {"name": "P0"}, {"name": "regression"}]
    issues[33]["body"] = "Since v3.14.2 every checkout with more than 50 items fails. " + str(issues[33]["body"])
    text = json.dumps(issues)
    result = run(text, query="Triage the open issues: which one must be fixed first?")
    assert result is not None
    kept = check(text, result.text)
    assert 33 in kept.items
    assert json.dumps(issues[33]["body"]) in result.text


def test_head_and_tail_are_shares_of_max_items() -> None:
    rows = [{"id": k, "name": f"item-{k}"} for k in range(100)]
    result = run(json.dumps(rows), max_items=15, keep_first=0.3, keep_last=0.15, tabular=False)
    assert result is not None
    assert sorted(check(json.dumps(rows), result.text).items) == [0, 1, 2, 3, 4, 98, 99]
    assert result.summary == "93 of 100 items"


def test_error_items_and_outliers_are_kept() -> None:
    rows = [{"path": f"/api/{k}", "status": 200, "ms": 20 + k % 9, "ok": True} for k in range(80)]
    rows[31]["status"] = 503
    rows[52]["ms"] = 48000
    rows[66]["ok"] = False
    rows[70]["error"] = "connection refused"
    text = json.dumps(rows)
    result = run(text)
    assert result is not None
    assert {31, 52, 66, 70} <= set(check(text, result.text).items)


def test_a_term_most_items_hold_tells_nothing_apart() -> None:
    text = json.dumps(orders(200))
    result = run(text, query="Which orders are paid?", tabular=False)
    assert result is not None
    assert len(check(text, result.text).items) <= 15


def test_identical_items_are_counted_not_repeated() -> None:
    text = json.dumps([{"event": "heartbeat", "ok": True}] * 40)
    result = run(text, tabular=False)
    assert result is not None
    kept = check(text, result.text)
    assert list(kept.items) == [0] and "each identical to index 0" in result.text


def test_the_marker_summarizes_the_dropped_items() -> None:
    result = run(json.dumps(orders(300)))
    assert result is not None
    assert (
        "[headroom: 293 of 300 items (indices 5-297: order_id ORD-700005..ORD-700297; customer CUST-10523..CUST-99885;"
        " status paid 177, delivered 58, shipped 58; amount 9.67..399.32; currency EUR 293;"
    ) in result.text


# --- linked records -----------------------------------------------------------------------------------------------


def test_the_orders_of_a_customer_seen_twice_are_kept_without_a_query() -> None:
    rows = orders(500)
    text = json.dumps(rows)
    plain = run(text)
    assert plain is not None and not {123, 400} & set(check(text, plain.text).items)
    rows[400]["customer"] = rows[123]["customer"]
    text = json.dumps(rows)
    for tabular in (True, False):
        result = run(text, tabular=tabular)
        assert result is not None
        assert {123, 400} <= set(check(text, result.text).items)


@pytest.mark.parametrize(
    ("field", "value", "linked"),
    [
        ("user_id", lambda k: 1000 + k, True),  # a whole number in a field named as an identifier
        ("userId", lambda k: 1000 + k, True),
        ("session", lambda k: f"sess-{k:04x}", True),
        ("line", lambda k: 1000 + k, False),  # a whole number elsewhere is a measure: line numbers, counts, sizes
        ("price", lambda k: f"{k}.50", False),  # a decimal
        ("seen_at", lambda k: f"2026-11-03T10:{k // 60:02d}:{k % 60:02d}Z", False),  # a time
        ("title", lambda k: f"Fix build {k}", False),  # free text
    ],
)
def test_what_links_records(field: str, value: Callable[[int], object], linked: bool) -> None:
    rows = [{"n": k, field: value(k), "pad": "x" * 40} for k in range(200)]
    rows[60][field] = rows[140][field]
    text = json.dumps(rows)
    result = run(text)
    assert result is not None
    assert ({60, 140} <= set(check(text, result.text).items)) is linked


def test_a_value_four_records_share_links_nothing() -> None:
    rows = orders(500)
    for index in (100, 200, 300, 400):
        rows[index]["customer"] = "CUST-55555"
    text = json.dumps(rows)
    result = run(text)
    assert result is not None and not {100, 200, 300, 400} & set(check(text, result.text).items)


def test_linked_groups_are_capped_earliest_first() -> None:
    rows = orders(300)
    for first in (20, 40, 60, 80, 100):
        rows[first + 10]["customer"] = rows[first]["customer"]
    text = json.dumps(rows)
    result = run(text, max_items=9, keep_first=0.0, keep_last=0.0)  # at most max(3, 9 // 3) groups
    assert result is not None
    assert sorted(check(text, result.text).items) == [20, 30, 40, 50, 60, 70]


# --- arrays inside an object --------------------------------------------------------------------------------------


def issues(count: int) -> list[dict[str, object]]:
    return [
        {
            "number": 4000 + k,
            "title": f"Request handler is slow ({k})",
            "state": "open",
            "labels": [{"name": ["bug", "docs", "enhancement"][k % 3]}],
            "body": "The handler takes too long when the cache is cold. " * 3,
        }
        for k in range(count)
    ]


def test_a_github_search_keeps_its_wrapper_byte_for_byte() -> None:
    items = issues(60)
    items[37]["labels"] = [{"name": "bug"}, {"name": "P0"}]
    items[37]["title"] = "Checkout fails with HTTP 500"
    note = 'a [bracket], a {brace}, a \\"quote\\" and "items": [1, 2, 3, 4, 5, 6] in a string'
    text = json.dumps({"total_count": 120, "incomplete_results": False, "note": note, "items": items, "page": 1})
    result = run(text, kind="json", query="Which issue must be fixed first?")
    assert result is not None and len(result.text) < len(text) / 3
    (kept,) = check_wrapped(split_at(text, "items"), result.text)
    assert kept is not None and 37 in kept.items and kept.omitted == int(result.summary.split()[0])
    assert json.loads(result.text)["note"] == note


def test_a_pretty_printed_kubectl_list_keeps_its_layout() -> None:
    pods = [
        {"metadata": {"name": f"api-{k}", "namespace": "prod"}, "status": {"phase": "Running", "restarts": 0}}
        for k in range(40)
    ]
    pods[23]["status"] = {"phase": "CrashLoopBackOff", "restarts": 17}
    text = json.dumps(
        {"apiVersion": "v1", "items": pods, "kind": "List", "metadata": {"resourceVersion": ""}}, indent=4
    )
    result = run(text, kind="json")
    assert result is not None
    (kept,) = check_wrapped(split_at(text, "items"), result.text)
    assert kept is not None and 23 in kept.items
    assert '\n        "[headroom: ' in result.text and result.text.endswith("\n    }\n}")


def test_elasticsearch_hits_two_levels_deep_are_crushed() -> None:
    hits = [
        {"_id": f"doc-{k}", "_score": 1.0, "_source": {"service": "api", "msg": f"GET /items/{k} 200"}}
        for k in range(80)
    ]
    hits[51]["_source"]["msg"] = "GET /items/51 500 upstream timeout"
    body = {"took": 5, "timed_out": False, "hits": {"total": {"value": 80}, "max_score": 1.0, "hits": hits}}
    text = json.dumps(body)
    result = run(text, kind="json", query="why did the upstream timeout happen?")
    assert result is not None
    (kept,) = check_wrapped(split_at(text, "hits"), result.text)
    assert kept is not None and 51 in kept.items


def test_every_long_array_of_a_page_is_crushed_in_place() -> None:
    text = json.dumps({"data": orders(50), "included": issues(30), "tags": ["a", "b"], "next": "/orders?page=2"})
    result = run(text, kind="json")
    assert result is not None and result.summary.endswith(" in 2 arrays")
    kept = check_wrapped(split_at(text, "data", "included", "tags"), result.text)
    assert kept[0] is not None and kept[1] is not None and kept[2] is None
    assert result.summary == f"{kept[0].omitted + kept[1].omitted} of 80 items in 2 arrays"


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"a": {"b": {"c": {"d": orders(50)}}}}),  # four containers deep
        json.dumps({"total_count": 3, "items": orders(3)}),  # fewer than min_items
        json.dumps({"name": "api", "labels": {"app": "api"}, "note": "[" * 500}),  # no array at all
        '{"items": ' + json.dumps(orders(50)) + ', "note": "never closed}',  # not JSON
        '{"items": ' + json.dumps(orders(50)) + "]}",  # a bracket that closes nothing
    ],
)
def test_an_object_without_a_long_array_gives_none(text: str) -> None:
    assert run(text, kind="json") is None


# --- the shape of the output --------------------------------------------------------------------------------------


def test_number_tokens_and_escapes_stay_as_written() -> None:
    rows = [f'{{"id": {k}, "price": {k}.50, "big": 1E3, "note": "caf\\u00e9 \\"{k}\\" 09:15:00"}}' for k in range(40)]
    text = "[" + ",".join(rows) + "]"
    for tabular in (True, False):
        result = run(text, tabular=tabular)
        assert result is not None
        kept = check(text, result.text)
        assert '"caf\\u00e9 \\"0\\" 09:15:00"' in result.text and "0.50" in result.text and "1E3" in result.text
        assert kept.items


def test_a_pretty_printed_array_keeps_its_layout() -> None:
    rows = orders(50)
    text = json.dumps(rows, indent=2) + "\n"
    result = run(text, tabular=False)
    assert result is not None
    check(text, result.text)
    assert result.text.startswith("[\n  {\n    ") and result.text.endswith("\n]\n")
    assert '\n  "[headroom: ' in result.text


def test_flat_objects_become_a_table_when_shorter() -> None:
    text = json.dumps(orders(100))
    table, array = run(text, tabular=True), run(text, tabular=False)
    assert table is not None and array is not None
    assert table.text.split("\n")[0] == '"order_id"\t"customer"\t"status"\t"amount"\t"currency"\t"created_at"'
    assert len(table.text) < len(array.text)
    assert check(text, table.text).items.keys() == check(text, array.text).items.keys()


def test_a_value_holding_a_line_separator_keeps_the_array_form() -> None:
    rows = [{"id": k, "name": f"line\u2028break {k}"} for k in range(60)]
    text = json.dumps(rows, ensure_ascii=False)
    result = run(text)
    assert result is not None and result.text.startswith("[")
    check(text, result.text)


def test_objects_with_other_keys_stay_an_array() -> None:
    rows = [{"id": k, "name": f"n{k}"} if k % 2 else {"name": f"n{k}", "id": k} for k in range(60)]
    text = json.dumps(rows)
    result = run(text)
    assert result is not None and result.text.startswith("[")
    check(text, result.text)


def test_jsonl_stays_jsonl() -> None:
    text = "\n".join(json.dumps(row) for row in orders(80)) + "\n"
    result = run(text, kind="jsonl", tabular=False)
    assert result is not None and result.text.endswith("\n")
    kept = check(text, result.text)
    assert all(json.loads(line) is not None for line in result.text.splitlines())
    assert result.text.splitlines()[0] == json.dumps(orders(1)[0]) and kept.omitted > 0


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(orders(4)),  # fewer than min_items
        "[]",
        "not json at all",
        '[{"a": 1}, {"a": 2},',  # cut short
        '{"items": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}',  # an object, not an array
        json.dumps(orders(7)),  # all kept: nothing to save
    ],
)
def test_nothing_worth_doing_gives_none(text: str) -> None:
    assert run(text, tabular=False) is None


def test_the_same_input_gives_the_same_bytes() -> None:
    rows = orders(400)
    rows[17]["amount"] = 99999.0
    text = json.dumps(rows)
    first = run(text, query="CUST-10000 orders", tool_input='{"sql": "select * from orders"}')
    again = run(text, query="CUST-10000 orders", tool_input='{"sql": "select * from orders"}')
    assert first is not None and again is not None and first.text == again.text


def test_signals_are_capped_at_three_times_max_items() -> None:
    rows = [{"id": k, "level": "error" if k % 5 == 0 else "info", "message": "x" * 200} for k in range(300)]
    text = json.dumps(rows)
    result = run(text, max_items=10, tabular=False)
    assert result is not None
    assert len(check(text, result.text).items) <= 30


# --- properties ---------------------------------------------------------------------------------------------------

NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,6})(\.[0-9]{1,4})?([eE][+-]?[0-9]{1,2})?", fullmatch=True)
STRING = st.text(st.sampled_from([*"abcXYZ019 :-_/.,'\"\\\t\né€😀\u2028"]), max_size=12)
KEY = st.text(st.sampled_from([*'abkz_:"é']), min_size=1, max_size=6)


@st.composite
def token(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["number", "string", "bool", "null", "nested"]))
    if kind == "number":
        return draw(NUMBER)
    if kind == "string":
        return json.dumps(draw(STRING), ensure_ascii=draw(st.booleans()))
    if kind == "nested":
        return json.dumps(draw(st.lists(st.integers(-5, 5), max_size=3)))
    return draw(st.sampled_from(["true", "false"] if kind == "bool" else ["null"]))


@st.composite
def arrays(draw: st.DrawFn, jsonl: bool | None = None) -> str:
    """JSON text of an array or JSONL (`jsonl` says which; None: either) of flat objects, numbers written in many
    ways, spacing varied: each key's values come from a small pool, so values repeat as they do in real lists."""
    keys = draw(st.lists(KEY, min_size=1, max_size=5, unique=True))
    pools = [draw(st.lists(token(), min_size=1, max_size=6)) for _ in keys]
    count, width = draw(st.integers(0, 80)), len(keys)
    picks = draw(st.lists(st.lists(st.integers(0, 5), min_size=width, max_size=width), min_size=count, max_size=count))
    same_keys = draw(st.booleans())
    items = []
    for row, pick in enumerate(picks):
        present = [k for k in range(len(keys)) if same_keys or (row + k) % (1 + pick[k]) != 1]
        pairs = [f"{json.dumps(keys[k])}: {pools[k][pick[k] % len(pools[k])]}" for k in present]
        items.append("{" + ", ".join(pairs) + "}")
    if draw(st.booleans()) if jsonl is None else jsonl:
        return "\n".join(items) + draw(st.sampled_from(["", "\n"]))
    sep = draw(st.sampled_from([",", ", ", ",\n  "]))
    return "[" + draw(st.sampled_from(["", "\n  "])) + sep.join(items) + draw(st.sampled_from(["", "\n"])) + "]"


@settings(max_examples=120)
@given(
    text=arrays(),
    max_items=st.integers(1, 20),
    min_items=st.integers(0, 8),
    keep_first=st.sampled_from([0.0, 0.2, 0.3, 0.5, 1.0]),
    keep_last=st.sampled_from([0.0, 0.15, 0.5]),
    tabular=st.booleans(),
    query=st.sampled_from(["", "what about abc and 019?", "which is 0.5", "é 😀 failed"]),
)
def test_any_array_keeps_the_structure_rules(
    text: str, max_items: int, min_items: int, keep_first: float, keep_last: float, tabular: bool, query: str
) -> None:
    params = {"max_items": max_items, "min_items": min_items, "keep_first": keep_first, "keep_last": keep_last}
    kind = "json_array" if text.startswith("[") else "jsonl"
    result = run(text, query=query, kind=kind, tabular=tabular, **params)
    again = run(text, query=query, kind=kind, tabular=tabular, **params)
    assert result == again
    if result is None:
        return
    assert len(result.text) <= len(text)
    kept = check(text, result.text)
    assert kept.omitted > 0 or not result.text.startswith(("[", "{"))


@st.composite
def wrapped(draw: st.DrawFn, level: int = 1) -> list[tuple[str, bool]]:
    """An object as segments of its text, each with whether it is an array the crusher may crush (at most three
    containers deep; deeper ones must stay as they are); `level` is how many containers its members are in.
    Keys and strings hold brackets, quotes and escapes."""
    segments = [("{" + draw(st.sampled_from(["", "\n  "])), False)]
    for index in range(draw(st.integers(1, 4))):
        colon = draw(st.sampled_from([":", ": "]))
        segments.append(
            ((draw(st.sampled_from([",", ", ", ",\n  "])) if index else "") + json.dumps(draw(WORD)) + colon, False)
        )
        shape = draw(st.sampled_from(["array", "object", "token", "word"]))
        if shape == "array":
            segments.append((draw(arrays(jsonl=False)), level <= 3))
        elif shape == "object" and level < 5:
            segments += draw(wrapped(level + 1))
        else:
            segments.append((draw(token()) if shape == "token" else json.dumps(draw(WORD)), False))
    return [*segments, (draw(st.sampled_from(["", "\n"])) + "}", False)]


WORD = st.text(st.sampled_from([*'ab[]{}",:\\ é']), max_size=8)


def parts_of(segments: list[tuple[str, bool]]) -> list[str]:
    """The segments as `split_at` gives them: literal text and arrays, alternating."""
    parts = [""]
    for text, array in segments:
        if array:
            parts += [text, ""]
        else:
            parts[-1] += text
    return parts


@settings(max_examples=80)
@given(
    segments=wrapped(),
    max_items=st.integers(1, 20),
    min_items=st.integers(0, 8),
    query=st.sampled_from(["", "what about abc and 019?", "é 😀 failed"]),
)
def test_any_object_keeps_its_bytes_around_crushed_arrays(
    segments: list[tuple[str, bool]], max_items: int, min_items: int, query: str
) -> None:
    text = "".join(part for part, _ in segments)
    params = {"max_items": max_items, "min_items": min_items}
    result = run(text, query=query, kind="json", **params)
    assert result == run(text, query=query, kind="json", **params)
    if result is None:
        return
    assert len(result.text) < len(text)
    crushed = [kept for kept in check_wrapped(parts_of(segments), result.text) if kept is not None]
    dropped = sum(kept.omitted for kept in crushed)
    total = sum(kept.omitted + len(kept.items) for kept in crushed)
    assert result.summary == f"{dropped} of {total} items" + (f" in {len(crushed)} arrays" if len(crushed) > 1 else "")
