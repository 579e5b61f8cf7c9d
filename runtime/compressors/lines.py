"""Line folding shared by the line-oriented compressors (`log`, `test_output`, `build_output`).

Each of them decides, line by line, what the agent needs; this module turns that decision into the output, so all
three keep the same promises: kept lines are byte-identical and in input order, and every run of dropped lines
becomes exactly one `omission_marker` line that the compressor describes (how many lines, of which kinds). A single
line, or a run no longer than its marker would be, is shown as it is: the marker would cost as much, and say less.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from headroom.runtime.compressors import Compressed, Context, omission_marker

T = TypeVar("T")
MIN_LINES = 10  # shorter blocks are left alone: there is too little to fold

# ANSI colour and cursor sequences (CSI and OSC): tools run with forced colour put them around the words we match.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\n]*\x07")


@dataclass(frozen=True)
class Lines:
    """A block split into lines: `raw` for output, `clean` (same count) for matching."""

    raw: list[str]
    clean: list[str]  # without ANSI codes and carriage returns
    newline: str  # "\n" when the block ended with one (it is not a line of its own)

    @property
    def size(self) -> int:
        return sum(map(len, self.raw)) + len(self.raw) - 1 + len(self.newline)


def split(text: str) -> Lines:
    newline = "\n" if text.endswith("\n") else ""
    body = text[: len(text) - len(newline)]
    raw = body.split("\n")
    if "\x1b" not in body and "\r" not in body:
        return Lines(raw, raw, newline)
    return Lines(raw, _ANSI.sub("", body).replace("\r", "").split("\n"), newline)


# What CI and container tools put before every line of a tool's output: `gh run view --log` (job, step, timestamp),
# GitHub Actions raw logs (timestamp), `docker buildx` (`#12 3.104 `), `docker compose` (`web-1  | `).
_PREFIX = re.compile(
    r"[^\t\n]*\t[^\t\n]*\t\d{4}-\d{2}-\d{2}T[\d:.]+Z ?|\d{4}-\d{2}-\d{2}T[\d:.]+Z |#\d+ (?:\d+\.\d+ )?|[\w.-]+\s+\| "
)


def unprefixed(lines: list[str]) -> list[str]:
    """The lines without such a prefix, when most carry one (patterns anchored at a line's start then match)."""
    matches = [_PREFIX.match(line) for line in lines]
    if sum(match is not None for match in matches) * 2 < len(lines):
        return lines
    return [line[match.end() :] if match else line for line, match in zip(lines, matches, strict=True)]


def fold(
    lines: Lines, keep: Sequence[bool], describe: Callable[[int, int], str], context: Context
) -> Compressed | None:
    """Kept lines as they are, each dropped run [start, end) as one marker saying `describe(start, end)`;
    None when nothing would be saved."""
    out: list[str] = []
    omitted = 0
    total = len(lines.raw)
    start = 0
    while start < total:
        end = start + 1
        while end < total and keep[end] == keep[start]:
            end += 1
        run = lines.raw[start:end]
        marker = None if keep[start] else omission_marker(describe(start, end), context)
        if marker is not None and len(run) > 1 and len(marker) < sum(map(len, run)) + len(run) - 1:
            out.append(marker)
            omitted += len(run)
        else:
            out.extend(run)
        start = end
    text = "\n".join(out) + lines.newline
    if omitted == 0 or len(text) >= lines.size:
        return None
    return Compressed(text, f"{omitted:,} of {total:,} lines")


def widen(anchors: Iterable[int], radius: int, total: int) -> set[int]:
    """The anchors and the `radius` lines either side of each."""
    around: set[int] = set()
    for index in anchors:
        around.update(range(max(0, index - radius), min(total, index + radius + 1)))
    return around


def term_lines(lines: Lines, terms: frozenset[str]) -> dict[int, int]:
    """Lines holding a query term, each with how many lines hold its rarest term (fewer is more telling).

    A term is matched as a whole word, case-insensitively. One found on many lines (the service name in every line
    of its log) says nothing about which lines matter, so it is ignored."""
    limit = max(5, len(lines.clean) // 100)
    text = "\n".join(lines.clean).lower()
    starts = [0, *accumulate(len(line) + 1 for line in lines.clean)]
    found: dict[int, int] = {}
    for term in sorted(terms):
        hits = _whole_word_lines(text, term, starts, limit)
        if 0 < len(hits) <= limit:
            for index in hits:
                found[index] = min(found.get(index, limit), len(hits))
    return found


def _whole_word_lines(text: str, term: str, starts: list[int], limit: int) -> set[int]:
    hits: set[int] = set()
    position = text.find(term)
    while position != -1 and len(hits) <= limit:
        after = position + len(term)
        if not _is_word_char(text, position - 1) and not _is_word_char(text, after):
            hits.add(bisect_right(starts, position) - 1)
        position = text.find(term, position + 1)
    return hits


def _is_word_char(text: str, position: int) -> bool:
    return 0 <= position < len(text) and (text[position].isalnum() or text[position] == "_")


def ranked(labels: Iterable[T]) -> list[tuple[T, int]]:
    """Each distinct label with its count, most frequent first, ties in order of first appearance."""
    return sorted(Counter(labels).items(), key=lambda item: -item[1])


def listing(counts: list[tuple[T, int]], cap: int, item: Callable[[T, int], str], rest: str) -> str:
    """`item` for the `cap` most frequent labels, then one entry for all the others (`rest` is what one of them is
    called), so the listed counts always add up to the total."""
    shown = [item(label, count) for label, count in counts[:cap]]
    others = counts[cap:]
    if others:
        shown.append(f"{sum(count for _, count in others):,} in {plural(len(others), 'other ' + rest)}")
    return ", ".join(shown)


def times(count: int, what: str) -> str:
    """How many lines of one kind: the count, a multiplication sign, what they are."""
    return f"{count:,}\u00d7 {what}"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
