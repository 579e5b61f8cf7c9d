"""Runs of dropped records: where they fall among the kept ones, and what a marker says about them.

Both record compressors (the crusher's JSON items, csv's rows) drop records the same way once `records.choose`
has picked the kept ones: every run of dropped records between two kept ones becomes one marker (`fold`), unless
the marker is not even half as long as the run, which is then kept whole; a marker summarizes its run (`describe`:
ranges of numbers as written, counts or ranges of short strings, for the fields most of the run has, in at most
240 characters and a quarter of the run's size) or names the kept record the whole run repeats (`identical`). Each
compressor words its markers itself (items by index, rows by number) and gives up unless folding saves at least
`MIN_SAVING` of the text (`worth`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import pairwise

from headroom.runtime.compressors import Compressed
from headroom.runtime.compressors.records import NUMERIC, Record, Scalar

MIN_SAVING = 0.1  # a marker the agent may have to act on must buy at least this share of the text


def worth(text: str, out: str, summary: str) -> Compressed | None:
    """The output, unless it saves less than `MIN_SAVING` of the text."""
    return None if len(out) > len(text) * (1 - MIN_SAVING) else Compressed(out, summary)


def fold(records: Sequence[Record], kept: Sequence[int], marker: Callable[[int, int], str]) -> list[int | str]:
    """The output sequence: kept record indices and, for each dropped run [a, b), `marker(a, b)` — unless the
    marker is not even half as long as the run, which is then kept: dropping it would save little."""
    pieces: list[int | str] = []
    for previous, index in pairwise([-1, *kept, len(records)]):
        if index - previous > 1:
            text = marker(previous + 1, index)
            run = range(previous + 1, index)
            pieces.extend([text] if 2 * len(text) < sum(len(records[i].text) + 2 for i in run) else run)
        if index < len(records):
            pieces.append(index)
    return pieces


def describe(records: Sequence[Record]) -> str:
    """A short summary of the fields of some records: ranges of numbers, counts or ranges of short strings, for the
    fields most of them have, while they fit in a quarter of the records' size (and 240 characters)."""
    budget = min(240, sum(len(record.text) for record in records) // 4)
    columns: dict[str, list[Scalar]] = {}
    for record in records:
        for path, value in record.fields:
            columns.setdefault(path, []).append(value)
    parts: list[str] = []
    size = 0
    common = sorted(columns.items(), key=lambda column: -len(column[1]))[:12]  # the fields most records have
    for path, values in common:
        part = _describe_field(values)
        part = f"{show(path)} {part}" if path and part else part
        if part and size + len(part) + 2 <= budget:
            parts.append(part)
            size += len(part) + 2
    return "; ".join(parts)


def _describe_field(values: list[Scalar]) -> str:
    numbers = sorted(value for value in values if type(value) in NUMERIC and math.isfinite(value))
    strings = [value for value in values if isinstance(value, str) and 0 < len(value) <= 40]
    others = Counter(show(value) for value in values if value is None or isinstance(value, bool) or value == "")
    parts = [show(numbers[0]) + (f"..{show(numbers[-1])}" if numbers[-1] != numbers[0] else "")] if numbers else []
    if strings:
        parts.append(_describe_strings(strings))
    parts.extend(f"{name} {count}" for name, count in sorted(others.items()))
    return ", ".join(parts)


def _describe_strings(strings: list[str]) -> str:
    """All values with their counts when there are few; else the most common ones when three of them make half the
    values; else the range."""
    counts = Counter(strings)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    repeats = len(counts) < len(strings)
    if len(counts) <= 5:
        return ", ".join(f"{show(value)} {count}" if repeats else show(value) for value, count in ranked)
    if 2 * sum(count for _, count in ranked[:3]) >= len(strings):
        return ", ".join(f"{show(value)} {count}" for value, count in ranked[:3]) + f", ... ({len(counts)} distinct)"
    if len({len(value) for value in counts}) == 1:  # alike strings (ids, timestamps): plain order is natural order
        low, high = min(counts), max(counts)
    else:
        ordered = [(_natural(value), value) for value in counts]
        low, high = min(ordered)[1], max(ordered)[1]
    spread = f"{show(low)}..{show(high)}"
    return f"{spread} ({len(counts)} distinct)" if repeats else spread


def _natural(text: str) -> list[str | int]:
    """Sort key putting `svc-9` before `svc-10`."""
    return [int(part) if index % 2 else part for index, part in enumerate(_DIGITS.split(text))]


_DIGITS = re.compile(r"(\d+)")


def show(value: Scalar) -> str:
    """A value as a summary writes it: numbers as read (`Num.text`) or as JSON, strings bare unless they hold
    unprintable characters (then as JSON, so a marker stays on one line)."""
    if isinstance(value, str):
        return (value if value.isprintable() else json.dumps(value)) if value else "empty"
    return getattr(value, "text", None) or json.dumps(value)


def first_kept(records: Sequence[Record], kept: Iterable[int]) -> dict[str, int]:
    """Each kept text → the index of its first kept record."""
    first: dict[str, int] = {}
    for index in kept:
        first.setdefault(records[index].text, index)
    return first


def identical(records: Sequence[Record], start: int, stop: int, first: Mapping[str, int]) -> int | None:
    """The kept record every record of the run [start, stop) repeats, if there is one."""
    text = records[start].text
    return first.get(text) if all(records[i].text == text for i in range(start + 1, stop)) else None
