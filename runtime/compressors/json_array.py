"""The "crusher": a long JSON array (or JSONL stream) shrunk to the items an agent needs, plus a summary of the rest.

Tool results are often long lists of records: search hits, database rows, issues, API pages. An agent reads a few
of them: the first ones, the last ones, the odd ones out, the ones it asked about and the ones that belong together.
This module keeps exactly those, each byte for byte, and folds every run of dropped items into one marker saying how
many were dropped and what they held.

Lists often come wrapped in an object: `{"total_count": 120, "items": [...]}` (GitHub), `{"kind": "List", "items":
[...]}` (kubectl), `{"hits": {"hits": [...]}}` (Elasticsearch), `{"data": [...], "next": ...}` (pages). For such an
object (content kind `json`), each array of at least `min_items` items inside it, at most three containers deep, is
crushed in place as a JSON array (never as a table), and every other byte of the object stays as it was, so the
whole is still valid JSON; the summary counts the items of all of them ("480 of 530 items in 2 arrays"). Where the
arrays are is read from the text itself (`_array_spans`), so each one's exact span is known; an array inside a
crushed one is left alone (its items are kept whole or dropped whole).

Which items are kept (`choose`; `table.py` uses the same machinery for CSV rows):
- position: the first `round(max_items * keep_first)` and the last `round(max_items * keep_last)` items, halves
  rounded up (`max_items 15`, `keep_first 30%`, `keep_last 15%` → the first 5 and the last 2; the last share is cut
  so both fit in `max_items`);
- strong signals, kept in addition to those, up to `3 * max_items` items in all, strongest first: items naming a
  rare term of the user's query (a term found in more than `max_items` items, or in more than a quarter of them,
  tells nothing apart), error-ish items (error/exception keys with a value, HTTP statuses >= 400, non-zero exit
  codes, words like failed, fatal, critical, P0 in a short value — unless half the list has it too), numeric
  outliers (robust z-score over median and MAD above 3.5), negative numbers in an otherwise non-negative field,
  rare values of a field with few distinct values (a `refunded` among `paid`, a `false` among `true`s), a field
  left empty that the others fill, or filled that the others leave empty;
- weak signals fill what `max_items` leaves free: first items naming a term found only in the tool call's input,
  then linked items: two or three items sharing a value of an identifier-like field (one whose values are 90%
  distinct: the same customer's orders, the same request's events), at most `max(3, max_items // 3)` such groups
  per field, earliest first (what counts as an identifier: `_identity`);
- an item identical to one already kept is not kept again: its marker says which kept item it repeats.
A run of dropped items is kept after all when its marker would be more than half as long as the items.

Output, by default (the same shape as the input, whitespace and separators as the input has them):
- a JSON array: kept items exactly as written in the input, and for each dropped run one JSON string item holding
  `omission_marker("480 of 500 items (indices 5-484: order_id ORD-700005..ORD-700484; status paid 290, shipped
  95; amount 5.02..399.8)")`; indices count from 0, and the summary covers the fields most dropped items have,
  while it fits in 240 characters and a quarter of their size;
- JSONL: one kept item per line, each dropped run a line holding that JSON string.
With `tabular` on, when the kept items are objects with the same keys in the same order and the form is shorter, a
table instead (lossless for the kept items):

    "order_id"<TAB>"status"<TAB>"amount"
    "ORD-700000"<TAB>"paid"<TAB>12.5
    [headroom: 480 of 500 items (indices 5-484: ...) omitted; retrieve with ref=...]

The first line holds the keys, every other line either one item's values or a marker; lines end with "\n". Each
cell is the key's or value's JSON text exactly as in the input; cells are separated by one tab, and a table is only
written when no cell holds a tab or anything `str.splitlines` breaks at (raw in JSON text only as whitespace
between tokens, or as U+0085, U+2028, U+2029 in a string), so splitting a row at tabs and parsing each cell as JSON
gives the item back. Marker lines start with `[headroom: `, which no row can (it is not JSON).
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median
from typing import Any

from headroom.compiler.catalog import COMPRESSORS
from headroom.runtime.compressors import Compressed, Context, omission_marker, query_terms

Scalar = str | int | float | bool | None
Fields = list[tuple[str, Scalar]]

_DEFAULTS = {name: spec.default for name, spec in COMPRESSORS["crusher"].params.items()}
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
MIN_SAVING = 0.1  # a marker the agent may have to act on must buy at least this share of the text


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    """The array with only its telling items kept (see the module docstring), or None when that saves nothing."""
    p = {**_DEFAULTS, **params}
    if context.kind == "json":
        return _compress_object(text, p, context)
    parsed = _parse(text, context.kind)
    if parsed is None or len(parsed[0]) < p["min_items"]:
        return None
    crushed = _crush(*parsed, text, p, context)
    out = crushed.text
    if p["tabular"]:
        table = _tabular(crushed.records, crushed.pieces)
        out = table if table is not None and len(table) < len(out) else out
    return _worth(text, out, f"{crushed.dropped} of {len(crushed.records)} items")


def _compress_object(text: str, p: Mapping[str, Any], context: Context) -> Compressed | None:
    """The object with each long array inside it crushed in place, every other byte as it was."""
    found = _inner_arrays(text, p, context)
    if not found:
        return None
    parts, pos = [], 0
    for start, stop, crushed in found:
        parts += (text[pos:start], crushed.text)
        pos = stop
    dropped = sum(crushed.dropped for _, _, crushed in found)
    total = sum(len(crushed.records) for _, _, crushed in found)
    where = f" in {len(found)} arrays" if len(found) > 1 else ""
    return _worth(text, "".join(parts) + text[pos:], f"{dropped} of {total} items{where}")


def _inner_arrays(text: str, p: Mapping[str, Any], context: Context) -> list[tuple[int, int, Crushed]]:
    """The arrays of at least `min_items` items, at most `_MAX_DEPTH` containers deep, that crushing drops items
    from, as (start, stop, crushed); none inside another one (its items are kept or dropped whole)."""
    found: list[tuple[int, int, Crushed]] = []
    end = 0
    for start, stop in _array_spans(text, _MAX_DEPTH) or ():
        parsed = _parse_array(text, start, stop) if start >= end else None
        if parsed is None or len(parsed[0]) < p["min_items"]:
            continue
        crushed = _crush(*parsed, text, p, context)
        if crushed.dropped:
            found.append((start, stop, crushed))
            end = stop
    return found


_MAX_DEPTH = 3  # how many containers deep lists are looked for: Elasticsearch's `hits.hits` is 2 deep


def _worth(text: str, out: str, summary: str) -> Compressed | None:
    return None if len(out) > len(text) * (1 - MIN_SAVING) else Compressed(out, summary)


@dataclass(frozen=True)
class Crushed:
    """One array or JSONL stream with its telling items kept."""

    records: list[Record]
    pieces: list[int | str]  # kept record indices and markers, in order (see `fold`)
    text: str  # the pieces put together the way the input put its items together
    dropped: int  # items the markers stand for


def _crush(items: list[Item], layout: Layout, source: str, p: Mapping[str, Any], context: Context) -> Crushed:
    records = [Record(raw, start, flatten(value), _filled(value)) for raw, start, value in items]
    kept = choose(records, source, context, p["max_items"], p["keep_first"], p["keep_last"])
    first = first_kept(records, kept)
    pieces = fold(records, kept, lambda start, stop: _marker(records, start, stop, first, context))
    text = layout.before + layout.sep.join(_piece(records, piece) for piece in pieces) + layout.after
    return Crushed(records, pieces, text, len(records) - sum(isinstance(piece, int) for piece in pieces))


# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How the items were put together, so the output is put together the same way."""

    before: str  # up to the first item: "[" and whitespace; "" for JSONL
    sep: str  # between two items: "," and whitespace; the line break for JSONL
    after: str  # from the last item on: whitespace and "]"


Item = tuple[str, int, Any]  # an item's original text, its offset in the input, its value


def _parse(text: str, kind: str) -> tuple[list[Item], Layout] | None:
    readers = (_parse_lines, _parse_array) if kind == "jsonl" else (_parse_array, _parse_lines)
    for reader in readers:
        parsed = reader(text)
        if parsed is not None:
            return parsed
    return None


def _parse_array(text: str, start: int = 0, stop: int | None = None) -> tuple[list[Item], Layout] | None:
    """The items of the array that `text[start:stop]` holds (whitespace around it allowed); offsets are `text`'s."""
    stop = len(text) if stop is None else stop
    pos = _WS.match(text, start, stop).end()
    if not text.startswith("[", pos, stop):
        return None
    pos = _WS.match(text, pos + 1, stop).end()
    if text.startswith("]", pos, stop):
        return None  # an empty array: nothing to crush
    before, sep, items, scan = text[start:pos], ", ", [], _DECODER.scan_once
    while True:
        try:
            value, end = scan(text, pos)
        except StopIteration:
            return None
        items.append((text[pos:end], pos, value))
        after = _NEXT.match(text, end, stop)
        if after is None:
            return None
        if after[1] == "]":
            return (items, Layout(before, sep, text[end:stop])) if after.end() == stop else None
        sep, pos = text[end : after.end()] if len(items) == 1 else sep, after.end()


_NEXT = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")  # what may follow an item: "," or the end of the array


def _array_spans(text: str, max_depth: int) -> list[tuple[int, int]] | None:
    """Where each array of the JSON text starts and stops (offsets of its "[" and past its "]"), by start, for the
    arrays inside at most `max_depth` other containers; None when brackets or quotes do not pair up. Brackets in
    strings are skipped: a string is a quote, then anything but quotes and backslashes or escapes, then a quote."""
    spans, opened, pos = [], [], 0
    while True:
        pos = _PLAIN.match(text, pos).end()
        if pos == len(text):
            return sorted(spans) if not opened else None
        char = text[pos]
        if char in "[{":
            opened.append(pos)
        elif char == '"' or not opened or text[opened[-1]] != _OPENING[char]:
            return None  # a string that never ends, or a bracket that closes nothing or something else
        else:
            start = opened.pop()
            if char == "]" and len(opened) <= max_depth:
                spans.append((start, pos + 1))
        pos += 1


_PLAIN = re.compile(r'(?:[^"\[\]{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*', re.DOTALL)  # up to the next bracket
_OPENING = {"]": "[", "}": "{"}


def _parse_lines(text: str) -> tuple[list[Item], Layout] | None:
    items, pos = [], 0
    while pos < len(text):
        stop = text.find("\n", pos)
        stop = len(text) if stop < 0 else stop
        start = _WS.match(text, pos, stop).end()
        if start < stop:
            try:
                value, end = _DECODER.raw_decode(text, start)
            except json.JSONDecodeError:
                return None
            if end > stop or _WS.match(text, end, stop).end() != stop:
                return None
            items.append((text[start:end], start, value))
        pos = stop + 1
    eol = "\r\n" if "\r\n" in text else "\n"
    return (items, Layout("", eol, eol if text.endswith("\n") else "")) if len(items) > 1 else None


def flatten(value: Any) -> Fields:
    """The scalar values of an item with their paths (`author.login`, `labels[].name`; `[0]` for a row of an
    array of arrays), three levels deep and about 64 of them: what the statistics look at."""
    out: Fields = []
    if isinstance(value, dict):
        for key, sub in value.items():
            _walk(sub, key, 1, out) if isinstance(sub, dict | list) else out.append((key, sub))
    elif isinstance(value, list):
        for index, sub in enumerate(value[:_MAX_FIELDS]):
            _walk(sub, f"[{index}]", 1, out)
    else:
        out.append(("", value))
    return out


_MAX_FIELDS = 64


def _walk(value: Any, path: str, depth: int, out: Fields) -> None:
    if len(out) >= _MAX_FIELDS:
        return
    if isinstance(value, dict):
        for key, sub in value.items() if depth < 3 else ():
            _walk(sub, f"{path}.{key}", depth + 1, out)
    elif isinstance(value, list):
        for sub in value[:_MAX_FIELDS] if depth < 3 else ():
            _walk(sub, f"{path}[]", depth + 1, out)
    else:
        out.append((path, value))


def _filled(value: Any) -> frozenset[str]:
    if not isinstance(value, dict):
        return frozenset()
    return frozenset(key for key, sub in value.items() if sub is not None and sub != "" and sub != [] and sub != {})


# --- choosing (shared with table.py) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One item or row, as the selection sees it."""

    text: str  # its original text
    start: int  # its offset in the source text
    fields: Fields  # (path, value) pairs, values as parsed
    filled: frozenset[str]  # its top-level keys (columns) that hold a non-empty value


STRONG = 4.0  # signals scoring this much are kept beyond max_items


def choose(
    records: Sequence[Record],
    source: str,
    context: Context,
    max_items: int,
    keep_first: float,
    keep_last: float,
    extra: Mapping[int, float] | None = None,
) -> list[int]:
    """The indices of the records to keep, ascending: head, tail, then signals by strength (module docstring)."""
    count = len(records)
    head = min(_share(max_items, keep_first), count)
    tail = max(0, min(_share(max_items, keep_last), max_items - head, count - head))
    scores = signals(records, source, context, max_items)
    for index, score in (extra or {}).items():
        scores[index] += score
    kept: set[int] = set()
    seen: set[str] = set()
    ranked = sorted(scores, key=lambda index: (-scores[index], index))
    for index in [*range(head), *range(count - tail, count), *ranked]:
        limit = 3 * max_items if index < head or index >= count - tail or scores[index] >= STRONG else max_items
        if len(kept) < limit and records[index].text not in seen:
            kept.add(index)
            seen.add(records[index].text)
    return sorted(kept)


def _share(total: int, fraction: float) -> int:
    return math.floor(total * fraction + 0.5 + 1e-9)


def signals(records: Sequence[Record], source: str, context: Context, max_items: int) -> defaultdict[int, float]:
    """How strongly each record stands out (index → score); records that do not are absent."""
    scores: defaultdict[int, float] = defaultdict(float)
    limit = max(3, max_items // 3)  # per field: a field with many odd values has a wide spread, not anomalies
    columns: defaultdict[str, list[tuple[int, Scalar]]] = defaultdict(list)
    for index, record in enumerate(records):
        for path, value in record.fields:
            columns[path].append((index, value))
    for path, cells in columns.items():
        if len(cells) >= 5:  # fewer values show no pattern to stand out from
            numbers = _numbers(cells)
            _add(scores, _outliers(numbers) + _negatives(numbers) + _rare_labels(cells), limit)
            _add(scores, _links(path, cells, len(records), limit), len(records))
    for finding in _presence(records):
        _add(scores, finding, limit)
    _add(scores, _errors(columns, len(records)), len(records))
    _add(scores, _matches(records, source, context, max_items), len(records))
    return scores


Finding = list[tuple[float, int]]  # (score, record index)
Cells = list[tuple[int, Scalar]]  # (record index, value) of one field


def _add(scores: defaultdict[int, float], finding: Finding, limit: int) -> None:
    """Adds the scores of the `limit` records a finding scores highest (summing its hits per record)."""
    merged: defaultdict[int, float] = defaultdict(float)
    for score, index in finding:
        merged[index] += score
    for index in sorted(merged, key=lambda index: (-merged[index], index))[:limit]:
        scores[index] += merged[index]


def _numbers(cells: Cells) -> list[tuple[int, float]]:
    return [(index, value) for index, value in cells if type(value) in _NUMERIC and math.isfinite(value)]


def _outliers(numbers: list[tuple[int, float]]) -> Finding:
    if len(numbers) < 5:
        return []
    middle = median(value for _, value in numbers)
    spread = median(abs(value - middle) for _, value in numbers)
    if spread == 0:
        odd = [index for index, value in numbers if value != middle]
        return [(STRONG, index) for index in odd] if len(odd) * 10 <= len(numbers) else []
    scored = [(0.6745 * abs(value - middle) / spread, index) for index, value in numbers]
    return [(STRONG + min(z / 35, 1.0), index) for z, index in scored if z > 3.5]


def _negatives(numbers: list[tuple[int, float]]) -> Finding:
    negative = [(value, index) for index, value in numbers if value < 0]
    if len(numbers) < 5 or not negative or len(negative) > max(1, len(numbers) // 20):
        return []
    return [(6.0, index) for _, index in negative]


def _rare_labels(cells: Cells) -> Finding:
    """Records holding a value that is rare in a field of few distinct values; the first record of each rare value
    scores highest, so a limited number of them shows every rare value."""
    labels = [
        (index, value)
        for index, value in cells
        if value is None or type(value) is bool or (type(value) is str and len(value) <= 40)
    ]
    counts = Counter(value for _, value in labels)
    if len(counts) < 2 or len(counts) > max(2, len(labels) // 4):
        return []
    mode = max(counts.values())
    seen: Counter[Scalar] = Counter()
    finding = []
    for index, value in labels:
        if counts[value] * 10 <= mode:
            finding.append((STRONG + (1 - counts[value] / mode) / (1 + seen[value]), index))
            seen[value] += 1
    return finding


LINKED = 2.0  # the score of a linked record: below any match of the tool call's input (2..3.5)


def _links(path: str, cells: Cells, count: int, groups: int) -> Finding:
    """Records sharing a value of an identifier-like field (90% of its values distinct), two or three of them: the
    same customer's orders, the same request's events. The first `groups` groups; an earlier group scores a little
    more than a later one, so that when max_items cuts, it cuts between groups."""
    holders: defaultdict[Scalar, list[int]] = defaultdict(list)
    for index, value in cells:
        holders[value].append(index)
    if len(holders) * 10 < len(cells) * 9:
        return []
    named = _ID_KEY.search(path) is not None
    shared = (sorted(set(group)) for value, group in holders.items() if len(group) > 1 and _identity(value, named))
    linked = [group for group in shared if 2 <= len(group) <= 3][:groups]  # set(): one record may hold it twice
    return [(LINKED - group[0] / (2 * count), index) for group in linked for index in group]


def _identity(value: Scalar, named: bool) -> bool:
    """Whether a value can identify something. Strings up to 64 characters can, but not free text, times or decimals
    (two events in the same second, or two prices alike, are not linked); whole numbers only in a field named as an
    identifier (`id`, `user_id`, `customerId`), as most whole numbers are measures (line numbers, counts, sizes)."""
    if type(value) is str:
        return 0 < len(value) <= 64 and not _NOT_AN_ID.search(value)
    if type(value) is Num:
        return named and _WHOLE.fullmatch(value.text) is not None
    return named and type(value) is int


_NOT_AN_ID = re.compile(r"\s|\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d|^[+-]?\d*\.\d+$")
_ID_KEY = re.compile(r"(?:^|[^A-Za-z])(?:[Ii][Dd]|uu?id|UU?ID|guid|GUID)$|[a-z0-9](?:Id|ID|Uuid|UUID|Guid|GUID)$")
_WHOLE = re.compile(r"[+-]?\d+")


def _presence(records: Sequence[Record]) -> list[Finding]:
    """Keys (columns) the others fill and a few records leave empty, or the others leave empty and a few fill."""
    holders = sum(1 for record in records if record.filled)
    counts = Counter(key for record in records for key in record.filled)
    few = max(1, holders // 10)
    rare = {key for key, count in counts.items() if count <= few and count < holders}
    rare = rare if len(rare) <= few else set()  # keys that are all different (ids as keys) are how the list is
    usual = {key for key, count in counts.items() if count * 10 >= holders * 9 and count < holders}
    findings: defaultdict[str, Finding] = defaultdict(list)
    for index, record in enumerate(records):
        for key in (rare & record.filled) | (usual - record.filled if record.filled else set()):
            findings[key].append((STRONG, index))
    return [findings[key] for key in sorted(findings)]


_ERROR_KEYS = frozenset(
    ["error", "errors", "err", "exception", "exceptions", "failure", "failures", "fault", "traceback", "stacktrace"]
)
_EXIT_KEYS = frozenset(["exit_code", "exitcode", "exit_status", "returncode", "return_code"])
_ERROR_WORD = re.compile(
    r"\b(?:errors?|exceptions?|fatal|panic(?:ked)?|crash(?:ed|es|ing)?|critical|blocker|p0|sev[-_ ]?[01]|regression|"
    r"fail(?:s|ed|ure|ures|ing)?|traceback|denied|refused|unauthori[sz]ed|forbidden|oom(?:killed)?|segfault|"
    r"aborted|corrupt(?:ed|ion)?)\b",
    re.IGNORECASE,
)
ERROR = 6.0  # the score of an error-ish record


def _errors(columns: Mapping[str, Cells], count: int) -> Finding:
    """Records with an error-ish feature (a key, a status, a word in a short value) that most records lack."""
    words: dict[str, str | None] = {}
    flagged: set[int] = set()
    for path, cells in columns.items():
        features: defaultdict[str, list[int]] = defaultdict(list)
        key = _key(path)
        for index, value in cells:
            found = _error_feature(key, value, words)
            if found is not None:
                features[found].append(index)
        flagged.update(*(holders for holders in features.values() if 2 * len(holders) <= count))
    return [(ERROR, index) for index in flagged]


def _key(path: str) -> tuple[str, bool]:
    """A path's last key, lowercased, and whether any of its keys names an error."""
    keys = [key for key in re.split(r"[.\[\]]+", path.lower()) if key]
    return (keys[-1] if keys else ""), any(key in _ERROR_KEYS for key in keys)


def _error_feature(key: tuple[str, bool], value: Scalar, words: dict[str, str | None]) -> str | None:
    """What makes a value error-ish, if anything does: "key", "status", "exit" or the error word it holds."""
    last, erroneous = key
    if erroneous and value is not None and value is not False and value != "" and value != 0:
        return "key"
    if type(value) in _NUMERIC:
        if ("status" in last or last.endswith("code")) and 400 <= value <= 599 and value % 1 == 0:
            return "status"
        return "exit" if last in _EXIT_KEYS and value != 0 else None
    if type(value) is not str or len(value) > 200:
        return None
    if value not in words:
        match = _ERROR_WORD.search(value)
        words[value] = None if match is None else match.group().lower()
    return words[value]


def _matches(records: Sequence[Record], source: str, context: Context, max_items: int) -> Finding:
    """Records naming a selective term: of the query (strong), of the tool call's input only (weak)."""
    asked = query_terms(context.query)
    terms = sorted(asked | query_terms(context.tool_input))
    if not terms or not records:
        return []
    lowered = _lower(source)
    starts = [record.start for record in records]
    cap = min(max_items, max(2, len(records) // 4))
    scores: defaultdict[int, float] = defaultdict(float)
    for term in terms:
        holders = _holders(term, lowered, records, starts, cap)
        if holders:
            rarity = math.log(len(records) / len(holders))
            score = 10 + rarity if term in asked else 2 + min(rarity / 5, 1.5)
            for index in holders:
                scores[index] = max(scores[index], score)
    return [(score, index) for index, score in scores.items()]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _holders(term: str, lowered: str, records: Sequence[Record], starts: list[int], cap: int) -> set[int] | None:
    """The records where `term` occurs as a whole word; None once more than `cap` do."""
    found: set[int] = set()
    pos = lowered.find(term)
    while pos >= 0:
        end = pos + len(term)
        index = bisect_right(starts, pos) - 1
        if index >= 0 and end <= starts[index] + len(records[index].text) and _whole(lowered, pos, end):
            found.add(index)
            if len(found) > cap:
                return None
        pos = lowered.find(term, pos + 1)
    return found


def _whole(text: str, start: int, end: int) -> bool:
    """Not part of a longer word or number (`500` is not in `1500`, `500.5` or `v1.500`)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before == "_" or after.isalnum() or after == "_":
        return False
    if before == "." and start >= 2 and text[start - 2].isdigit():
        return False
    return not (after == "." and end + 1 < len(text) and text[end + 1].isdigit())


# --- folding and summarizing (shared with table.py) ---------------------------------------------------------------


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
    numbers = sorted(value for value in values if type(value) in _NUMERIC and math.isfinite(value))
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


class Num(float):
    """A number read from text (a CSV cell): its value for statistics, its text for summaries."""

    __slots__ = ("text",)


_NUMERIC = frozenset([int, float, Num])  # not bool


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


# --- writing ------------------------------------------------------------------------------------------------------


def _marker(records: Sequence[Record], start: int, stop: int, first: Mapping[str, int], context: Context) -> str:
    where = f"index {start}" if stop - start == 1 else f"indices {start}-{stop - 1}"
    twin = identical(records, start, stop, first)
    summary = f", each identical to index {twin}" if twin is not None else _colon(describe(records[start:stop]))
    return omission_marker(f"{stop - start} of {len(records)} items ({where}{summary})", context)


def _colon(summary: str) -> str:
    return f": {summary}" if summary else ""


def _piece(records: Sequence[Record], piece: int | str) -> str:
    return records[piece].text if isinstance(piece, int) else json.dumps(piece, ensure_ascii=False)


def _tabular(records: Sequence[Record], pieces: Sequence[int | str]) -> str | None:
    """The pieces as the documented table, or None when the kept items do not make one."""
    header: list[str] | None = None
    lines = []
    for piece in pieces:
        if isinstance(piece, str):
            lines.append(piece)
            continue
        cells = _cells(records[piece].text)
        if cells is None or (header is not None and cells[0] != header):
            return None
        header = cells[0]
        lines.append("\t".join(cells[1]))
    return "\n".join(["\t".join(header), *lines]) if header else None


def _cells(text: str) -> tuple[list[str], list[str]] | None:
    """The key and value tokens of a JSON object's text, exactly as written; None when it is not an object or a
    token holds a tab or a line break."""
    if not text.startswith("{"):
        return None
    keys, values = [], []
    pos = _WS.match(text, 1).end()
    while not text.startswith("}", pos):
        _, end = _DECODER.raw_decode(text, pos)
        keys.append(text[pos:end])
        pos = _WS.match(text, _WS.match(text, end).end() + 1).end()  # past the ":"
        _, end = _DECODER.raw_decode(text, pos)
        values.append(text[pos:end])
        pos = _WS.match(text, end).end()
        pos = _WS.match(text, pos + 1).end() if text.startswith(",", pos) else pos
    return None if any(c in cell for cell in keys + values for c in _BREAKS) else (keys, values)


_BREAKS = "\t\n\r\x85\u2028\u2029"  # what could split a cell or a row; JSON strings hold no other raw ones
