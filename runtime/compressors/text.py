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

from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors.lines import fold, line_count, split, term_lines

_ATX_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)\s*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = split(text)
    size = len(lines.raw)
    head, tail = int(params["head"]), int(params["tail"])
    if size <= head + tail:
        return None
    keep = [row < head or row >= size - tail for row in range(size)]
    for row in [*_heading_rows(lines.clean), *term_lines(lines, context.terms())]:
        keep[row] = True
    return fold(lines, keep, line_count, context)


def _heading_rows(lines: list[str]) -> list[int]:
    """Markdown headings outside code fences; a setext heading is its text line and its underline."""
    rows: list[int] = []
    fence = ""  # the open fence's backticks or tildes, "" outside a fence
    for row, line in enumerate(lines):
        if fence:
            fence = "" if _closes(fence, line) else fence
        elif opening := _opens(line):
            fence = opening
        elif _ATX_HEADING.match(line):
            rows.append(row)
        elif row and lines[row - 1].strip() and _SETEXT_UNDERLINE.match(line):
            rows += [row - 1, row]
    return rows


def _opens(line: str) -> str:
    """The fence a line opens (its backticks or tildes), "" when none: CommonMark forbids backticks after "```"."""
    match = _FENCE.match(line)
    if match is None or (match[1][0] == "`" and "`" in match[2]):
        return ""
    return match[1]


def _closes(fence: str, line: str) -> bool:
    """A fence closes on a line of the same character, at least as many, with nothing after them."""
    match = _FENCE.match(line)
    return match is not None and match[1][0] == fence[0] and len(match[1]) >= len(fence) and not match[2].strip()
