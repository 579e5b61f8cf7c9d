"""Line folding shared by the line-oriented compressors (code, diff, text).

Each of them decides, line by line, what the agent keeps; what is left is folded here, one marker line per run of
dropped lines, so the rules "kept lines are byte-identical, in order" and "every omission is named" live in one place.
Lines are split on "\n" only, so joining them back gives the input's exact bytes ("\r" stays on its line).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

from headroom.runtime.compressors import Compressed

# A run shorter than this stays, and so does a run whose marker would be as long as its lines.
MIN_RUN = 2


@dataclass(frozen=True)
class Folded:
    lines: list[str]  # kept lines and marker lines, in input order
    omitted: int  # how many input lines the markers stand for


def count(number: int, noun: str) -> str:
    """`1 line`, `2,013 lines`."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def fold(lines: Sequence[str], keep: Sequence[bool], marker: Callable[[int, int], str]) -> Folded:
    """Kept lines as they are; each run of dropped lines `lines[start:end]` becomes the line `marker(start, end)`."""
    out: list[str] = []
    omitted = 0
    start = 0
    for kept, run in groupby(keep):
        end = start + sum(1 for _ in run)
        text = marker(start, end) if not kept and end - start >= MIN_RUN else None
        if text is not None and len(text) < sum(len(line) + 1 for line in lines[start:end]):
            out.append(text)
            omitted += end - start
        else:
            out.extend(lines[start:end])
        start = end
    return Folded(out, omitted)


def result(original: str, folded: Folded) -> Compressed | None:
    """The compressed block, or None when folding saved nothing."""
    text = "\n".join(folded.lines)
    if folded.omitted == 0 or len(text) >= len(original):
        return None
    total = original.count("\n") + (not original.endswith("\n"))  # a final newline ends a line, starts none
    return Compressed(text, f"{folded.omitted:,} of {count(total, 'line')}")


def rare_term_rows(text: str, terms: frozenset[str]) -> frozenset[int]:
    """Rows (0-based line numbers) holding a rare term: one found on at most 3 rows or 2% of them (a term found
    everywhere tells nothing). A term matches where it is not glued to other letters or digits (`tax` in
    `apply_tax`, not in `syntax`); matching ignores case."""
    if not terms:
        return frozenset()
    lower = text.lower()  # lower() keeps every "\n", so rows line up with the original's
    newlines = [match.start() for match in re.finditer("\n", lower)]
    max_rows = max(3, len(newlines) // 50)
    hits: set[int] = set()
    for term in sorted(terms):
        rows = _term_rows(lower, term, newlines, max_rows)
        if len(rows) <= max_rows:
            hits |= rows
    return frozenset(hits)


def _term_rows(lower: str, term: str, newlines: list[int], max_rows: int) -> set[int]:
    rows: set[int] = set()
    position = lower.find(term)
    while position != -1 and len(rows) <= max_rows:
        end = position + len(term)
        if not _glued(lower, position - 1) and not _glued(lower, end):
            rows.add(bisect_right(newlines, position))
        position = lower.find(term, position + 1)
    return rows


def _glued(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isalnum()
