"""Plain text and markdown: the beginning, the end, the outline and what the query points at.

Long prose, READMEs and command output with no structure of their own are read top down: the first lines say what
the text is, the last ones how it ends (a summary, a result, an error), and markdown headings give the outline of
what lies between. So the first `head` and last `tail` lines stay, with every heading (`#` lines outside code fences,
and setext titles with their `===`/`---` underline) and every line holding a rare query term; each run of the other
lines becomes one marker. A final newline is not counted as a line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from headroom.runtime.compressors import Compressed, Context, omission_marker
from headroom.runtime.compressors.folding import count, fold, rare_term_rows, result

_ATX_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)\s*$")
_FENCE = re.compile(r" {0,3}(?:```|~~~)")


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = text.split("\n")
    size = len(lines) - (lines[-1] == "")
    head, tail = int(params["head"]), int(params["tail"])
    if size <= head + tail:
        return None
    keep = [row < head or row >= size - tail for row in range(len(lines))]
    for row in _heading_rows(lines):
        keep[row] = True
    for row in rare_term_rows(text, context.terms()):
        keep[row] = True
    return result(text, fold(lines, keep, lambda start, end: omission_marker(count(end - start, "line"), context)))


def _heading_rows(lines: list[str]) -> list[int]:
    """Markdown headings outside code fences; a setext heading is its text line and its underline."""
    rows: list[int] = []
    fenced = False
    for row, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif fenced:
            continue
        elif _ATX_HEADING.match(line):
            rows.append(row)
        elif row and lines[row - 1].strip() and _SETEXT_UNDERLINE.match(line):
            rows += [row - 1, row]
    return rows
