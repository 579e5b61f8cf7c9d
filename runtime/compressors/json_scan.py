"""Reading JSON text by position: the items of an array or of JSONL with their original text and offsets, the
arrays inside an object, the tokens of an object.

The crusher keeps items byte for byte and writes them back the way the input put them together, so it needs more
than `json.loads` gives: where each item starts and stops, the separators around it (`Layout`), where each array of
a larger document starts and stops (`array_spans`, read from the text itself: brackets in strings are skipped), and
the key and value tokens of an object exactly as written (`object_tokens`, for the tabular form).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class Layout:
    """How the items were put together, so the output is put together the same way."""

    before: str  # up to the first item: "[" and whitespace; "" for JSONL
    sep: str  # between two items: "," and whitespace; the line break for JSONL
    after: str  # from the last item on: whitespace and "]"


Item = tuple[str, int, Any]  # an item's original text, its offset in the input, its value


def parse(text: str, kind: str) -> tuple[list[Item], Layout] | None:
    """The items of a JSON array or of JSONL (tried first when the kind says so), with how they were put together;
    None when the text is neither."""
    readers = (_parse_lines, parse_array) if kind == "jsonl" else (parse_array, _parse_lines)
    for reader in readers:
        parsed = reader(text)
        if parsed is not None:
            return parsed
    return None


def parse_array(text: str, start: int = 0, stop: int | None = None) -> tuple[list[Item], Layout] | None:
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


def array_spans(text: str, max_depth: int) -> list[tuple[int, int]] | None:
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
    """The items of JSONL, one JSON value a line (blank lines skipped); None unless it holds two or more."""
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


def object_tokens(text: str) -> tuple[list[str], list[str]] | None:
    """The key and value tokens of a JSON object's text, exactly as written; None when it is not an object."""
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
    return keys, values
