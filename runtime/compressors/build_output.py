"""Build output: keep the diagnostics with their code frames and the final status; fold the progress noise.

What an agent needs from a build is what went wrong and where: each error (and warning, when asked for) from its
head line (`error[E0308]: ...`, `src/a.ts(3,7): error TS2322: ...`, `a.c:4:5: error: ...`, `[ERROR] ...`,
`ERROR in ./src/x.js`, `* What went wrong:`) through its code frame (`-->` locations, `|` gutters, source and caret
lines, `= note`/`help` lines, indented elaborations), with `context` lines around it, and the lines that say how the
build ended. Progress lines (`Compiling foo v1.2.3`, downloads, `> Task :x`, `[INFO]`, percentages, webpack assets)
are counted per kind in the marker that stands for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors.lines import (
    MIN_LINES,
    Lines,
    fold,
    listing,
    plural,
    ranked,
    split,
    term_lines,
    times,
    unprefixed,
    widen,
)
from headroom.runtime.compressors.log import trace_blocks

# --- what each line is --------------------------------------------------------------------------------------------

_LOCATION = r"\S+?(?:\(\d+,\d+\)|:\d+(?::\d+)?)"  # file(12,5) or file:12:5 or file:12
# (kind, pattern) tried in order at the start of each line; the first that matches decides.
_LINE_KINDS = (
    ("status", r"\s*Finished |error: could not compile|error: aborting due|.*generated \d+ warnings?\b"),
    ("status", r".*\b(?:BUILD|Build) (?:SUCCESS|SUCCESSFUL|FAILURE|FAILED|succeeded|failed)\b|\[INFO\] Total time:"),
    ("status", r"\d+ (?:errors?|warnings?) generated|Found \d+ errors?|.*\bcompiled (?:successfully|with \d+)"),
    ("status", r"Failed to compile|Compiled (?:successfully|with warnings)|error Command failed|ninja: build stopped"),
    ("status", r"error during build:|Successfully installed |added \d+ packages?|\s*\u2713 built in "),
    ("status", r"\s+\d+ (?:Warning|Error)\(s\)|Time Elapsed|For more information about this error|\d+ actionable task"),
    ("status", r"\u2716 \d+ problems?"),  # eslint
    ("status", r"> Task \S+ FAILED|\[INFO\] .* (?:FAILURE|SKIPPED) \[|\[INFO\] Reactor Summary"),
    ("error", rf"error(?:\[\w+\])?: |{_LOCATION}:? (?:fatal )?error\b|\S+:\d+:\d+ - error |ERROR in |\[ERROR\]"),
    ("error", r"e: |FAILURE: |\* What went wrong:|npm ERR!|npm error |(?:\S+: )*(?:fatal )?error: |\S+\.go:\d+:\d+: "),
    ("error", r"make(?:\[\d+\])?: \*\*\* |CMake Error|FAILED: |\s+\d+:\d+\s+error\s|\w*Error: |(?:/\S+/)?ld: |ERROR:"),
    ("warning", rf"warning(?:\[\S+\])?: |{_LOCATION}:? warning\b|\S+:\d+:\d+ - warning |WARNING in |\[WARN(?:ING)?\]"),
    ("warning", r"w: |npm WARN |npm warn |CMake Warning|\s+\d+:\d+\s+warning\s|WARNING:|Warning: "),
)
_CLASSIFY = re.compile("|".join(f"(?P<{kind}_{i}>{pattern})" for i, (kind, pattern) in enumerate(_LINE_KINDS)))
_KEEP_KINDS = {"errors": "error", "warnings": "warning"}


def _kind(line: str) -> str:
    match = _CLASSIFY.match(line)
    return match.lastgroup.rsplit("_", 1)[0] if match and match.lastgroup else ""


# --- code frames --------------------------------------------------------------------------------------------------

# Heads whose message runs on in unindented lines, up to a blank line.
_PARAGRAPH = re.compile(r"ERROR in |WARNING in |\* What went wrong:|FAILURE: ")
_FRAME = re.compile(
    r"[ \t]+\S|\s*\d*\s*\|"  # indented lines, gutters (`4  |     let x`)
    r"|\d+\s{2,}\S"  # tsc --pretty source lines (`12   const x = 1;`)
    r"|(?:\S+: )?note: |help: |In file included from "
)
_FILE = re.compile(r"(\S+?)(?:\(\d+,\d+\)|:\d+)")  # the file a diagnostic is about
_LOCATED_NOTE = re.compile(_FILE.pattern + r"(?::\d+)?:? note: ")  # a note belongs with its file's error
_CARET = re.compile(r"\s*[\^~][\s\^~-]*$")
_PROGRESS_WORDS = (
    "Compiling|Checking|Downloaded|Downloading|Fresh|Updating|Locking|Adding|Documenting|Packaging|Verifying"
    "|Installing|Installed|Unpacking|Blocking|Building|Removed|Archiving|Running|Fetching|Resolving"
)
_PROGRESS_LINE = re.compile(rf"\s*(?:{_PROGRESS_WORDS})\s")


def _block_end(lines: list[str], kinds: list[str], head: int) -> int:
    """The end of the diagnostic starting at `head`: its code frame, or for paragraph heads, up to a blank line."""
    paragraph = _PARAGRAPH.match(lines[head]) is not None
    end = head + 1
    while end < len(lines) and not kinds[end] and _continues(lines, head, end, paragraph):
        end += 1
    return end


def _continues(lines: list[str], head: int, index: int, paragraph: bool) -> bool:
    line = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if _PROGRESS_LINE.match(line):
        return False
    if not line.strip():  # a blank line ends a diagnostic, unless its frame goes on after it (tsc --pretty)
        return not paragraph and _FRAME.match(following) is not None and not _PROGRESS_LINE.match(following)
    note = _LOCATED_NOTE.match(line)
    if note:
        file = _FILE.match(lines[head])
        return file is not None and file.group(1) == note.group(1)
    return paragraph or _FRAME.match(line) is not None or _CARET.match(following) is not None


@dataclass(frozen=True)
class _Scan:
    view: list[str]  # the lines as matched: without colour codes and CI prefixes
    kinds: list[str]  # "error", "warning", "status" or "" for each line, frames taking their head's kind
    heads: list[tuple[int, int]]  # each diagnostic as [start, end)


def _scan(lines: Lines) -> _Scan:
    view = unprefixed(lines.clean)
    kinds = [_kind(line) for line in view]
    heads = [(i, _block_end(view, kinds, i)) for i, kind in enumerate(kinds) if kind in ("error", "warning")]
    heads += [(start, end) for start, end in trace_blocks(view) if end - start > 1]
    framed = list(kinds)
    for start, end in heads:
        framed[start:end] = [kinds[start] or "error"] * (end - start)
    return _Scan(view, framed, sorted(heads))


def _select(lines: Lines, scan: _Scan, params: Mapping[str, Any], context: Context) -> list[bool]:
    """The diagnostics asked for with their frames, the status lines, `context` lines around each diagnostic (but
    no line of a diagnostic not asked for), and lines naming a query term."""
    wanted = {_KEEP_KINDS[word] for word in params["keep"]} | {"status"}
    chosen = {i for i, kind in enumerate(scan.kinds) if kind in wanted}
    edges = [i for start, end in scan.heads if scan.kinds[start] in wanted for i in (start, end - 1)]
    chosen.update(i for i in widen(edges, params["context"], len(lines.raw)) if not scan.kinds[i])
    chosen.update(term_lines(lines, context.terms()))
    return [i in chosen for i in range(len(lines.raw))]


# --- markers ------------------------------------------------------------------------------------------------------

_PIP_WORDS = (
    r"\s*(Collecting|Requirement already satisfied|Using cached|Obtaining|Building wheels?|Created wheel|Stored in "
    r"directory|Attempting uninstall|Found existing installation|Uninstalling|Successfully uninstalled|Preparing"
    r"|Getting requirements|Downloading)[: ]"
)
# (pattern, label) for the kinds of progress line a marker counts; `{}` in a label is the matched word.
_PROGRESS = tuple(
    (re.compile(pattern), label)
    for pattern, label in (
        (rf"\s*({_PROGRESS_WORDS})\s+\S+ v\d", "{} <crate> v<ver>"),
        (rf"\s*({_PROGRESS_WORDS})\s", "{} ..."),
        (r"\[INFO\] (Downloading|Downloaded) from ", "[INFO] {} from ..."),
        (r"\[INFO\] (Building|---|Compiling|Installing|Tests run:)", "[INFO] {} ..."),
        (r"\[INFO\] ", "[INFO] ..."),
        (r"Progress \(\d+\)", "Progress (n): ..."),
        (r"> Task :", "> Task :..."),
        (r"> (?:Configure|Transform)|<[=\-]+> \d+%", "gradle progress"),
        (r"asset \S", "asset ..."),
        (r"\s+\./\S|(?:runtime|orphan|cacheable|javascript) modules|modules by ", "webpack module lines"),
        (r"\[\s*\d+%\] (Building|Linking|Built)", "[ n%] {} ..."),
        (r".*\b\d{1,3}(?:\.\d+)?%", "percentage progress"),
        (r"(?:\S*/)?(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|rustc|javac|tsc)\s", "compiler commands"),
        (r"make(?:\[\d+\])?: (?:Entering|Leaving) directory", "make: Entering/Leaving directory"),
        (r"go: (downloading|finding|extracting) ", "go: {} ..."),
        (r"\[[\d,]+ / [\d,]+\] ", "[n / m] bazel actions"),
        (r"(INFO|Analyzing|Loading): ", "{}: ..."),
        (_PIP_WORDS, "pip: {} ..."),
        (r"\s*[\u2501\u2588#=>\-]{5,}", "progress bars"),
        (r"\S+\.(?:js|mjs|css|html|map|wasm)\s+[\d.]+ [kM]B", "asset sizes"),
        (r"\u2713 [\d,]+ modules transformed", "modules transformed"),
    )
)
_NOT_PROGRESS = {"": "other", "error": "error lines", "warning": "warning lines"}  # status lines always stay


def _label(line: str, kind: str) -> tuple[str, bool]:
    """What kind of line a marker counts this as, and whether that kind is progress."""
    if not kind:
        for pattern, label in _PROGRESS:
            match = pattern.match(line)
            if match:
                return label.format(*match.groups()), True
    return _NOT_PROGRESS[kind], False


def _describe(lines: Lines, scan: _Scan, start: int, end: int) -> str:
    labels = [_label(line, kind) for line, kind in zip(scan.view[start:end], scan.kinds[start:end], strict=True)]
    counts = ranked(label for label, _ in labels)
    shown = listing(counts, 4, lambda label, count: times(count, label), "kind")
    noun = "progress line" if all(progress for _, progress in labels) else "line"
    return f"{plural(end - start, noun)} ({shown})"


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = split(text)
    if len(lines.raw) < MIN_LINES:
        return None
    scan = _scan(lines)
    return fold(lines, _select(lines, scan, params, context), partial(_describe, lines, scan), context)
