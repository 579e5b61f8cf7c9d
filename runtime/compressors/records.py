"""Which records of a long list an agent needs: the choice the crusher (JSON items) and csv (rows) both make.

A record is one item or row as the choice sees it: its original text and offset, its scalar values by path, and
which of its top-level keys (columns) it fills. `choose` keeps, for any list of records:
- position: the first `round(max_items * keep_first)` and the last `round(max_items * keep_last)` records, halves
  rounded up (`max_items 15`, `keep_first 30%`, `keep_last 15%` → the first 5 and the last 2; the last share is cut
  so both fit in `max_items`);
- strong signals, kept in addition to those, up to `3 * max_items` records in all, strongest first: records naming
  a rare term of the user's query (a term found in more than `max_items` records, or in more than a quarter of them,
  tells nothing apart), error-ish records (error/exception keys with a value, HTTP statuses >= 400, non-zero exit
  codes, words like failed, fatal, critical, P0 in a short value — unless half the list has it too), numeric
  outliers (robust z-score over median and MAD above 3.5), negative numbers in an otherwise non-negative field,
  rare values of a field with few distinct values (a `refunded` among `paid`, a `false` among `true`s), a field
  left empty that the others fill, or filled that the others leave empty, and whatever the caller scores itself
  (csv: rows with another number of cells than the header);
- weak signals fill what `max_items` leaves free: first records naming a term found only in the tool call's input,
  then linked records: two or three records sharing a value of an identifier-like field (one whose values are 90%
  distinct: the same customer's orders, the same request's events), at most `max(3, max_items // 3)` such groups
  per field, earliest first (what counts as an identifier: `_identity`);
- a record identical to one already kept is not kept again.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

from headroom.runtime.compressors import Context, query_terms

Scalar = str | int | float | bool | None
Fields = list[tuple[str, Scalar]]


@dataclass(frozen=True)
class Record:
    """One item or row, as the selection sees it."""

    text: str  # its original text
    start: int  # its offset in the source text
    fields: Fields  # (path, value) pairs, values as parsed
    filled: frozenset[str]  # its top-level keys (columns) that hold a non-empty value


class Num(float):
    """A number read from text (a CSV cell): its value for statistics, its text for summaries."""

    __slots__ = ("text",)


NUMERIC = frozenset([int, float, Num])  # not bool

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
    return [(index, value) for index, value in cells if type(value) in NUMERIC and math.isfinite(value)]


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
    if type(value) in NUMERIC:
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
