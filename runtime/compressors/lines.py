r"""Line folding shared by every line-oriented compressor (code, diff, text, log, test_output, build_output).

Each of them decides, line by line, what the agent needs; this module holds what they must all do the same way, so
they keep the same promises and read the same input the same way:
- one splitting rule: lines end at "\n" only, and a final "\n" ends the last line without starting one ("\r" and
  colour codes stay in the line as written; a cleaned copy without them is what the compressors match against);
- one folding routine: kept lines are byte-identical and in input order, and each run of dropped lines becomes exactly
  one `omission_marker` line describing it. A single line, or a run no longer than its marker, is shown as it is:
  the marker would cost as much and say less. When folding saves nothing the result is None;
- one query-term matcher: which lines hold a rare term of the query (see `term_lines`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TypeVar

from headroom.runtime.compressors import Compressed, Context, omission_marker

T = TypeVar("T")
MIN_LINES = 10  # log-like blocks shorter than this are left alone: there is too little to fold
RARE_LINES = 5  # a query term is rare on at most this many lines ...
RARE_SHARE = 0.01  # ... or this share of the lines, whichever is more

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
    """The one splitting rule: see the module's docstring."""
    newline = "\n" if text.endswith("\n") else ""
    body = text[: len(text) - len(newline)]
    raw = body.split("\n")
    if "\x1b" not in body and "\r" not in body:
        return Lines(raw, raw, newline)
    return Lines(raw, _ANSI.sub("", body).replace("\r", "").split("\n"), newline)


def fold(
    lines: Lines,
    keep: Sequence[bool],
    describe: Callable[[int, int], str],
    context: Context,
    lead: Callable[[int, int], str] = lambda start, end: "",
) -> Compressed | None:
    """Kept lines as they are, each dropped run [start, end) as one marker saying `describe(start, end)` (after
    `lead(start, end)`, such as an indented comment start, when given); None when nothing would be saved."""
    out: list[str] = []
    omitted = 0
    start = 0
    for kept, group in groupby(keep):
        end = start + sum(1 for _ in group)
        run = lines.raw[start:end]
        marker = None if kept or len(run) < 2 else lead(start, end) + omission_marker(describe(start, end), context)
        if marker is not None and len(marker) < sum(map(len, run)) + len(run) - 1:
            out.append(marker)
            omitted += len(run)
        else:
            out.extend(run)
        start = end
    text = "\n".join(out) + lines.newline
    if omitted == 0 or len(text) >= lines.size:
        return None
    return Compressed(text, f"{omitted:,} of {plural(len(lines.raw), 'line')}")


def line_count(start: int, end: int) -> str:
    """The plainest description of a folded run: how many lines it held."""
    return plural(end - start, "line")


def term_lines(lines: Lines, terms: frozenset[str]) -> dict[int, int]:
    """Lines holding a rare query term, each with how many lines hold its rarest term (fewer is more telling).

    A term matches case-insensitively where no letter or digit is glued to it: `tax` matches in `apply_tax` and
    `tax-rate`, not in `syntax`. It is rare when it is on at most `RARE_LINES` lines or `RARE_SHARE` of them,
    whichever is more; a term found on more (the service name on every line of its log) says nothing about which
    lines matter, so it is ignored."""
    if not terms:
        return {}
    limit = max(RARE_LINES, int(len(lines.clean) * RARE_SHARE))
    text = "\n".join(lines.clean).lower()  # lower() may change lengths, never the "\n": count rows by them
    newlines = [match.start() for match in re.finditer("\n", text)]
    found: dict[int, int] = {}
    for term in sorted(terms):
        hits = _term_rows(text, term, newlines, limit)
        if len(hits) <= limit:
            for row in hits:
                found[row] = min(found.get(row, limit), len(hits))
    return found


def _term_rows(text: str, term: str, newlines: list[int], limit: int) -> set[int]:
    """The rows holding `term` as a word, counted up to one past `limit`."""
    rows: set[int] = set()
    position = text.find(term)
    while position != -1 and len(rows) <= limit:
        if not _glued(text, position - 1) and not _glued(text, position + len(term)):
            rows.add(bisect_right(newlines, position))
        position = text.find(term, position + 1)
    return rows


def _glued(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isalnum()


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


def widen(anchors: Iterable[int], radius: int, total: int) -> set[int]:
    """The anchors and the `radius` lines either side of each."""
    around: set[int] = set()
    for index in anchors:
        around.update(range(max(0, index - radius), min(total, index + radius + 1)))
    return around


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
    """`1 line`, `2,013 lines`."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
