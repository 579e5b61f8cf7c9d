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
arrays are is read from the text itself (`json_scan.array_spans`), so each one's exact span is known; an array inside a
crushed one is left alone (its items are kept whole or dropped whole).

Which items are kept is `records.choose` (the same choice csv makes for rows): the first and last shares of
`max_items`, then, strongest first, items naming a rare term of the user's query, error-ish items, outliers and
rare values, and, to fill `max_items`, items naming a term of the tool call's input and linked items (two or three
sharing an identifier); an item identical to one already kept is not kept again: its marker says which kept item it
repeats. Each item is one record: its scalar values by path (`flatten`) and the top-level keys it fills.
A run of dropped items is kept after all when its marker would be more than half as long as the items (`runs.fold`).

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from headroom.compiler.catalog import COMPRESSORS
from headroom.runtime.compressors import Compressed, Context, omission_marker
from headroom.runtime.compressors.json_scan import Item, Layout, array_spans, object_tokens, parse, parse_array
from headroom.runtime.compressors.records import Fields, Record, choose
from headroom.runtime.compressors.runs import describe, first_kept, fold, identical, worth

_DEFAULTS = {name: spec.default for name, spec in COMPRESSORS["crusher"].params.items()}


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    """The array with only its telling items kept (see the module docstring), or None when that saves nothing."""
    p = {**_DEFAULTS, **params}
    if context.kind == "json":
        return _compress_object(text, p, context)
    parsed = parse(text, context.kind)
    if parsed is None or len(parsed[0]) < p["min_items"]:
        return None
    crushed = _crush(*parsed, text, p, context)
    out = crushed.text
    if p["tabular"]:
        table = _tabular(crushed.records, crushed.pieces)
        out = table if table is not None and len(table) < len(out) else out
    return worth(text, out, f"{crushed.dropped} of {len(crushed.records)} items")


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
    return worth(text, "".join(parts) + text[pos:], f"{dropped} of {total} items{where}")


def _inner_arrays(text: str, p: Mapping[str, Any], context: Context) -> list[tuple[int, int, Crushed]]:
    """The arrays of at least `min_items` items, at most `_MAX_DEPTH` containers deep, that crushing drops items
    from, as (start, stop, crushed); none inside another one (its items are kept or dropped whole)."""
    found: list[tuple[int, int, Crushed]] = []
    end = 0
    for start, stop in array_spans(text, _MAX_DEPTH) or ():
        parsed = parse_array(text, start, stop) if start >= end else None
        if parsed is None or len(parsed[0]) < p["min_items"]:
            continue
        crushed = _crush(*parsed, text, p, context)
        if crushed.dropped:
            found.append((start, stop, crushed))
            end = stop
    return found


_MAX_DEPTH = 3  # how many containers deep lists are looked for: Elasticsearch's `hits.hits` is 2 deep


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


# --- items as records ---------------------------------------------------------------------------------------------


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
    tokens = object_tokens(text)
    if tokens is None or any(c in cell for cell in tokens[0] + tokens[1] for c in _BREAKS):
        return None
    return tokens


_BREAKS = "\t\n\r\x85\u2028\u2029"  # what could split a cell or a row; JSON strings hold no other raw ones
