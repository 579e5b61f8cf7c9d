"""Diffs, `git show` and `git log [-p]`: keep what changed and where, fold the unchanged context.

In a diff the agent needs every changed line and enough around it to place the change; the long runs of unchanged
context lines say little, and the hunk headers already give their line numbers. So every commit header and message,
file header (`diff --git`, `index`, `---`, `+++`, modes, renames), hunk header and changed line is kept, with
`context` unchanged lines either side of each change; longer runs of unchanged lines become one marker, unless they
hold a rare query term. Hunks are read by their line counts, so a removed line reading `-- x` is never mistaken for
a file header. A `git log` without patches is all headers: it stays whole unless it is huge (over 100 commits), then
the first 50 commits and those holding a rare query term stay and the others are folded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors.lines import fold, plural, split, term_lines

_HUNK = re.compile(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_COMBINED_HUNK = re.compile(r"(@@@+) -")  # a merge's combined diff: one column per parent
_COMMIT = re.compile(r"commit [0-9a-f]{7,64}\b")
_MAX_COMMITS = 100
_FIRST_COMMITS = 50

# What each line of the input is.
_OTHER, _CHANGED, _UNCHANGED = "other", "changed", "unchanged"
_FAR = 1 << 30


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = split(text)
    kinds = _classify(lines.clean)
    wanted = frozenset(term_lines(lines, context.terms()))
    if _CHANGED in kinds:
        keep = _keep_near_changes(kinds, int(params["context"]), wanted)
        return fold(lines, keep, _unchanged, context)
    keep = _keep_first_commits(lines.clean, wanted)
    if keep is None:
        return None
    return fold(lines, keep, lambda start, end: _commits(lines.clean[start:end]), context)


def _unchanged(start: int, end: int) -> str:
    return plural(end - start, "unchanged line")


def _commits(lines: list[str]) -> str:
    commits = sum(1 for line in lines if _COMMIT.match(line))
    return f"{plural(commits, 'commit')} ({plural(len(lines), 'line')})"


def _classify(lines: list[str]) -> list[str]:
    """Each line's kind, reading hunks by their headers' line counts."""
    kinds: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        kinds.append(_OTHER)
        index += 1
        if hunk := _HUNK.match(line):
            index = _read_hunk(lines, index, int(hunk[1] or 1), int(hunk[2] or 1), kinds)
        elif combined := _COMBINED_HUNK.match(line):
            index = _read_combined_hunk(lines, index, len(combined[1]) - 1, kinds)
    return kinds


def _read_hunk(lines: list[str], index: int, old: int, new: int, kinds: list[str]) -> int:
    """Classifies a hunk's lines from `index`; returns the index after it."""
    while index < len(lines) and (old > 0 or new > 0 or lines[index].startswith("\\")):
        line = lines[index]
        mark = line[:1]
        if mark in ("", " "):  # some tools strip the space of an empty unchanged line
            old, new, kind = old - 1, new - 1, _UNCHANGED
        elif mark == "-":
            old, kind = old - 1, _CHANGED
        elif mark == "+":
            new, kind = new - 1, _CHANGED
        elif mark == "\\":  # "\ No newline at end of file" belongs to the change before it
            kind = _CHANGED
        else:  # the counts were wrong: the hunk ends here
            break
        kinds.append(kind)
        index += 1
    return index


def _read_combined_hunk(lines: list[str], index: int, parents: int, kinds: list[str]) -> int:
    while index < len(lines):
        prefix = lines[index][:parents]
        if len(prefix) < parents or prefix.strip(" +-"):
            break
        kinds.append(_UNCHANGED if prefix.isspace() else _CHANGED)
        index += 1
    return index


def _keep_near_changes(kinds: list[str], radius: int, wanted: frozenset[int]) -> list[bool]:
    """Everything but the unchanged lines farther than `radius` lines from a change of their own hunk (unless
    wanted)."""
    after = _distances(kinds)
    before = _distances(kinds[::-1])[::-1]
    return [
        kind != _UNCHANGED or min(a, b) <= radius or row in wanted
        for row, (kind, a, b) in enumerate(zip(kinds, after, before, strict=True))
    ]


def _distances(kinds: list[str]) -> list[int]:
    """For each line, how far back the nearest change is, not looking past a header."""
    distances = []
    distance = _FAR
    for kind in kinds:
        distance = 0 if kind == _CHANGED else (distance + 1 if kind == _UNCHANGED else _FAR)
        distances.append(distance)
    return distances


def _keep_first_commits(lines: list[str], wanted: frozenset[int]) -> list[bool] | None:
    """A huge log without patches: what precedes the commits, the first ones and the wanted ones stay (None when
    the log is not huge)."""
    starts = [row for row, line in enumerate(lines) if _COMMIT.match(line)]
    if len(starts) <= _MAX_COMMITS:
        return None
    keep = [True] * starts[_FIRST_COMMITS] + [False] * (len(lines) - starts[_FIRST_COMMITS])
    for start, end in zip(starts[_FIRST_COMMITS:], [*starts[_FIRST_COMMITS + 1 :], len(lines)], strict=True):
        if any(row in wanted for row in range(start, end)):
            keep[start:end] = [True] * (end - start)
    return keep
