"""Logs: keep what explains an incident, fold the repetitive rest into markers that say what was folded.

A log is mostly a few message shapes repeated with different timestamps, ids and numbers. Masking those variable
parts (and merging lines that still differ in a word or two, as Drain does) turns each line into a template; one
exemplar per template shows every kind of line the log holds, and a folded run is described by its templates and
its time span, so the agent knows what it is not seeing and can retrieve it by the marker's reference.

Kept whole: lines of the levels asked for (errors and fatals always, never dropped to meet `max_lines`), stack
traces (Python, Java/JS/.NET, Go, Rust) from their header through the exception line, lines naming a rare query
term (a request id), the first and last lines, and `context` lines around what was kept for its own sake.
Repeats say nothing new, so they are capped per template: warnings keep their first three and last line, an error
repeated more than ten times (a crash loop) its first five and last two. Fatal lines, query matches and traces are
never capped, and the marker standing for the rest says how many lines were like the ones shown.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
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
    widen,
)

# --- levels -------------------------------------------------------------------------------------------------------

_LEVELS = {
    name: level
    for level, names in (
        ("fatal", ("fatal", "fatal error", "critical", "crit", "panic", "dpanic", "emerg", "emergency", "alert", "f")),
        ("error", ("error", "err", "severe", "fail", "e")),
        ("warning", ("warning", "warn", "w")),
        ("info", ("info", "notice", "information", "informational", "i")),
        ("debug", ("debug", "dbug", "trace", "trce", "verbose", "fine", "finer", "finest", "d", "v")),
    )
    for name in names
}
_NUMERIC_LEVELS = {"60": "fatal", "50": "error", "40": "warning", "30": "info", "20": "debug", "10": "debug"}  # pino
_SEVERE = ("fatal", "error")
_SEVERITY = {"fatal": 0, "error": 1, "warning": 2}  # the order of templates in a marker

_JSON_LEVEL = re.compile(r'"(?:level|lvl|severity|loglevel|log\.level|levelname)"\s*:\s*"?(\w+)', re.IGNORECASE)
_LEVEL_WORD = "fatal|panic|critical|crit|emerg|alert|error|err|warning|warn|notice|info|debug|trace"
_LEVEL = re.compile(
    rf"\b(?:level|lvl|severity|at)=[\"']?((?i:{_LEVEL_WORD}))\b"  # logfmt, heroku
    r"|^([IWEF])\d{4} \d"  # klog / glog: E1112 09:00:00.123456
    r"|(?<![\w./-])(FATAL|CRITICAL|CRIT|PANIC|EMERG|ALERT|SEVERE|ERROR|ERR|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE"
    r"|Fatal|Critical|Error|Warning)(?![\w/-])"
    r"|\w\.(EMERGENCY|ALERT|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG): "  # monolog: production.ERROR:
    rf"|\[(?:\w+:)?({_LEVEL_WORD})\]"  # nginx [error], apache [core:error], elixir [error]
    r"|(?:^|: )((?i:fatal error|error|fatal|panic|warning))(?:\[[^\]\n]*\])?:"  # error: ..., app[1]: fatal: ...
    r"|^(fail|crit|warn|info|dbug|trce): "  # ASP.NET Core console
    r"|^(panic): |(panic)ked at "  # Go, Rust
)


def level_of(line: str) -> str:
    """The line's level (fatal, error, warning, info, debug), or "" when it names none."""
    if line.startswith("{"):
        match = _JSON_LEVEL.search(line)
        if match:
            word = match.group(1).lower()
            return _NUMERIC_LEVELS.get(word) or _LEVELS.get(word, "")
    match = _LEVEL.search(line)
    if match is None:
        return ""
    return _LEVELS.get(match.group(match.lastindex or 0).lower(), "")


# --- templates ----------------------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
    r"|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}"  # access logs
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2}"  # syslog
    r"|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
)
# Quoted text is variable (names, paths, values), except JSON keys, the values of message-like keys and HTTP request
# lines, which say what kind of line it is: those keep their words (their numbers are masked with the others).
_QUOTED = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?<!\w')[^'\n]*'(?!\w)""")
_KEY_FOLLOWS = re.compile(r"[ \t]*:")
_KEPT_VALUE = re.compile(
    r"""(?:msg|message|event|level|lvl|severity|logger|caller|component|error|err)["']?[ \t]*[:=][ \t]*$"""
)
_CLOCK = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_HTTP_METHOD = f"(?:{'|'.join(_HTTP_METHODS)})"
_HTTP_REQUEST = re.compile(rf"""["']{_HTTP_METHOD} """)
# A token holding a digit (with the hex letters just before it): a timestamp, id, address or number.
_VARIABLE = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"  # a date and time with a space
    r"|[a-fA-F]*\d[\w.:+-]*"
)
_TOKEN_KINDS = (  # (a character the kind needs, its pattern, its mask)
    (":", re.compile(r"(?:\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<ts>"),
    ("-", re.compile(r"\d{4}-\d{2}-\d{2}"), "<ts>"),
    ("-", re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (".", re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"), "<ip>"),
    ("", re.compile(r"0x[0-9a-fA-F]+|(?=[a-fA-F]*\d)(?=\d*[a-fA-F])[0-9a-fA-F]{6,}"), "<hex>"),
)
_DIGITS = re.compile(r"\d+")
# An HTTP status is kept as its class (2xx, 5xx): a 500 among 200s is a different line.
_STATUS = re.compile(r"[1-5]\d\d")
_STATUS_KEY = re.compile(r"""status(?:_code)?["']?[ \t]*[=:][ \t]*$""")
# Words that make a line a different line (failed is not succeeded): never merged into a wildcard.
_PINNED = re.compile(
    r"fail|error|exception|timeout|timed|refused|denied|abort|reject|invalid|panic|crash|kill|fatal|^[1-5]xx$",
    re.IGNORECASE,
)
_SIMILARITY = 0.5  # share of a template's tokens a line must match to join it
_CANDIDATES = 12  # templates of one shape compared before a line starts its own


def masked(text: str) -> list[str]:
    """Each line of `text` with its variable parts (timestamps, ids, numbers, quoted values) replaced."""
    known: dict[str, str] = {}

    def variable(match: re.Match[str]) -> str:
        token = match.group()
        if len(token) == 3 and _STATUS.fullmatch(token) and _is_status(match.string, match.start()):
            return token[0] + "xx"
        mask = known.get(token)
        if mask is None:
            mask = known[token] = _mask_token(token)
        return mask

    return _VARIABLE.sub(variable, _QUOTED.sub(_mask_quoted, text)).split("\n")


def _mask_quoted(match: re.Match[str]) -> str:
    text, start = match.string, match.start()
    if (
        _KEY_FOLLOWS.match(text, match.end())
        or _HTTP_REQUEST.match(text, start)
        or _KEPT_VALUE.search(text, max(0, start - 24), start)
    ):
        return match.group()
    return text[start] + "<*>" + text[start]


def _is_status(text: str, start: int) -> bool:
    """Whether the number at `start` follows an HTTP request (`GET /path 200`, `"GET /path HTTP/1.1" 200`) or a
    status key."""
    if _STATUS_KEY.search(text, max(0, start - 16), start):
        return True
    words = text[max(0, start - 300) : start].split(None)[-3:] if text[start - 1 : start] in (" ", "\t") else []
    if len(words) >= 2 and words[-2].lstrip("\"'") in _HTTP_METHODS:
        return True
    return len(words) == 3 and words[0].lstrip("\"'") in _HTTP_METHODS and words[2].startswith("HTTP/")


def _mask_token(token: str) -> str:
    if token.isdigit():
        return "<n>"
    for needed, pattern, name in _TOKEN_KINDS:
        if needed in token and pattern.fullmatch(token):
            return name
    return _DIGITS.sub("<n>", token)


def _merge_token(old: str, new: str) -> str:
    if old == new:
        return old
    old_parts, new_parts = old.split("/"), new.split("/")
    if len(old_parts) > 1 and len(old_parts) == len(new_parts):  # a path: only the segments that differ vary
        return "/".join(a if a == b else "<*>" for a, b in zip(old_parts, new_parts, strict=True))
    return "<*>"


@lru_cache(maxsize=1 << 16)
def _pinned(token: str) -> bool:
    return "/" not in token and _PINNED.search(token) is not None


def _similarity(template: list[str], tokens: list[str]) -> float:
    """The share of positions where the line fits the template (a wildcard fits anything but a pinned word)."""
    if not tokens:
        return 1.0
    same = sum(map(str.__eq__, template, tokens))
    if same + template.count("<*>") < _SIMILARITY * len(tokens):
        return 0.0  # cannot reach the threshold: skip the word by word look
    for old, new in zip(template, tokens, strict=True):
        if old != new:
            if _pinned(old) or _pinned(new):
                return 0.0
            same += old == "<*>"
    return same / len(tokens)


class _Clusters:
    """Online template clustering: lines of the same length and first two tokens join the most similar template."""

    def __init__(self) -> None:
        self.templates: list[list[str]] = []
        self._known: dict[str, int] = {}  # masked line -> its template
        self._shapes: dict[tuple[Any, ...], list[int]] = {}  # (length, first two tokens) -> templates

    def assign(self, line: str) -> int:
        cluster = self._known.get(line)
        if cluster is None:
            cluster = self._place(line.split())
            self._known[line] = cluster
        return cluster

    def _place(self, tokens: list[str]) -> int:
        shape = (len(tokens), *tokens[:2])
        candidates = self._shapes.setdefault(shape, [])
        best, best_score = -1, 0.0
        for cluster in candidates[:_CANDIDATES]:
            score = _similarity(self.templates[cluster], tokens)
            if score >= _SIMILARITY and score > best_score:
                best, best_score = cluster, score
        if best < 0:
            self.templates.append(tokens)
            candidates.append(len(self.templates) - 1)
            return len(self.templates) - 1
        self.templates[best] = [_merge_token(a, b) for a, b in zip(self.templates[best], tokens, strict=True)]
        return best

    def show(self, cluster: int, width: int = 72) -> str:
        """The template as the marker shows it: without a leading timestamp (every line has one), cut at a word."""
        tokens = self.templates[cluster]
        text = " ".join(tokens[1:] if tokens[:1] == ["<ts>"] else tokens)
        if len(text) > width:
            cut = text.rfind(" ", 0, width)
            text = text[: cut if cut > 0 else width] + " …"
        return text or "(blank)"


# --- stack traces -------------------------------------------------------------------------------------------------

_PY_HEADER = "Traceback (most recent call last):"
_GO_START = re.compile(r"panic: |fatal error: |goroutine \d+ \[")
_RUST_START = re.compile(r"thread '[^']*' panicked at ")
_FRAME_START = re.compile(r"[ \t]+at [\w$<(./\\]")  # Java, JavaScript, .NET
_PY_CHAIN = re.compile(
    r"Traceback \(most recent call last\):|During handling of the above exception|The above exception was the"
    r"|\s*\+ Exception Group Traceback"
)
_FRAME = re.compile(
    r"[ \t]+at \S|[ \t]*\.\.\. \d+ (?:more|common frames omitted)|[ \t]*(?:Caused by|Suppressed): "
    r"|[ \t]*--- End of (?:inner exception )?stack trace"
)
_GO_DUMP = re.compile(
    r"$|[ \t]|goroutine \d+ \[|created by |panic: |fatal error: |\[signal |\[recovered\]|exit status \d+"
    r"|[\w.*/()\[\]{}, -]+\(.*\)$"
)
_RUST_TAIL = re.compile(r"[ \t]|note: |stack backtrace:")


def trace_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Stack traces as [start, end) line ranges, each from its header through its last frame or exception line."""
    blocks: list[tuple[int, int]] = []
    taken = 0
    for first, line in enumerate(lines):
        kind = _trace_kind(line) if first >= taken else ""
        if kind == "frames":  # the exception line is the one before the first frame, unless a trace ended there
            header = first - 1 if first > taken and lines[first - 1].strip() else first
            blocks.append((header, _run_end(lines, first, _FRAME)))
        elif kind == "python":
            blocks.append((first, _python_end(lines, first, line[: line.rindex(_PY_HEADER)])))
        elif kind:
            pattern = _GO_DUMP if kind == "go" else _RUST_TAIL
            blocks.append((first, _trim_blank(lines, first, _run_end(lines, first + 1, pattern))))
        taken = blocks[-1][1] if blocks else 0
    return blocks


def _trace_kind(line: str) -> str:
    start = line[:1]
    if start in (" ", "\t"):
        return "frames" if _FRAME_START.match(line) else ""
    if line.rstrip().endswith(_PY_HEADER):
        return "python"
    if start in ("p", "f", "g") and _GO_START.match(line):
        return "go"
    return "rust" if start == "t" and _RUST_START.match(line) else ""


def _run_end(lines: list[str], start: int, pattern: re.Pattern[str]) -> int:
    end = start
    while end < len(lines) and pattern.match(lines[end]):
        end += 1
    return end


def _trim_blank(lines: list[str], start: int, end: int) -> int:
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _python_end(lines: list[str], first: int, prefix: str) -> int:
    """Frames (indented), chained tracebacks, then the exception line; every line may carry the header's prefix
    (`kubectl logs --prefix`, journald), and when the next line does not, neither does any."""
    if first + 1 < len(lines) and not lines[first + 1].startswith(prefix):
        prefix = ""
    end = first + 1
    while end < len(lines) and lines[end].startswith(prefix):
        rest = lines[end][len(prefix) :]
        end += 1
        if rest[:1] in (" ", "\t") or _PY_CHAIN.match(rest):
            continue
        if not _chain_follows(lines, end, prefix):
            return end - 1 if not rest.strip() else end
    return end


def _chain_follows(lines: list[str], index: int, prefix: str) -> bool:
    for line in lines[index : index + 3]:
        rest = line[len(prefix) :] if line.startswith(prefix) else line
        if rest.strip():
            return _PY_CHAIN.match(rest) is not None
    return False


# --- selection ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    levels: list[str]
    clusters: list[int]
    sizes: list[int]  # lines per template
    firsts: list[int]  # each template's first line: its exemplar
    templates: _Clusters
    traces: list[tuple[int, int]]


def _scan(lines: Lines) -> _Scan:
    templates = _Clusters()
    shapes = masked("\n".join(lines.clean))
    clusters = [templates.assign(line) for line in shapes]
    sizes = [0] * len(templates.templates)
    firsts = [-1] * len(templates.templates)
    for i, cluster in enumerate(clusters):
        sizes[cluster] += 1
        if firsts[cluster] < 0:
            firsts[cluster] = i
    return _Scan(_levels(lines.clean, shapes), clusters, sizes, firsts, templates, trace_blocks(lines.clean))


def _levels(lines: list[str], shapes: list[str]) -> list[str]:
    """`level_of` each line, once per masked shape: masking keeps level words (and the values of level keys),
    except numeric JSON levels, so JSON lines are read one by one."""
    known: dict[str, str] = {}
    levels = []
    for line, shape in zip(lines, shapes, strict=True):
        level = known.get(shape)
        if level is None:
            level = level_of(line)
            if not line.startswith("{"):
                known[shape] = level
        levels.append(level)
    return levels


# Repeats are capped per template, as (first lines kept, last lines kept, most lines kept whole): 110 slow-query
# warnings or a crash loop of 5,000 identical errors say no more than their first and last few, and the marker
# standing for the others says how many were like them. Fatal lines are never capped.
_WARNING_CAP = (3, 1, 4)
_ERROR_CAP = (5, 2, 10)


def _select(lines: Lines, scan: _Scan, params: Mapping[str, Any], context: Context) -> list[bool]:
    """Which lines to keep: errors, fatals and traces always (but repeated errors capped); then, while fewer than
    `max_lines` are kept, query matches and the first and last lines, the other levels asked for (repeated warnings
    capped), one exemplar per template, and context (around errors first, nearest lines first)."""
    total, budget, wanted = len(lines.raw), params["max_lines"], set(params["keep"])
    matches = term_lines(lines, context.terms())
    capped = _capped(scan, matches)
    chosen = {i for i, level in enumerate(scan.levels) if level in _SEVERE and level in wanted} - capped
    if "traceback" in wanted:
        chosen.update(i for start, end in scan.traces for i in range(start, end))
    severe = sorted(chosen)
    _take(chosen, _anchors(total, scan, wanted, matches, capped), budget)
    anchors = sorted(chosen)
    _take(chosen, [first for _, first in sorted(zip(scan.sizes, scan.firsts, strict=True))], budget)
    for group in (severe, anchors):  # context around errors first
        around = widen(group, params["context"], total) - chosen - capped
        _take(chosen, sorted(around, key=lambda i: (_distance(group, i), i)), budget)
    return [i in chosen for i in range(total)]


def _capped(scan: _Scan, matches: Mapping[int, int]) -> set[int]:
    """The warning and error lines folded as repeats of their template: never a fatal line, a query match, or a
    line of a stack trace or the line just before one (the message that logged it)."""
    capped = _repeats(scan, "warning", _WARNING_CAP) | _repeats(scan, "error", _ERROR_CAP)
    protected = {i for start, end in scan.traces for i in range(max(0, start - 1), end)}
    return {i for i in capped if i not in matches and i not in protected}


def _repeats(scan: _Scan, level: str, cap: tuple[int, int, int]) -> set[int]:
    """The lines of `level` past the first and last ones kept of their template, in templates with too many."""
    first, last, most = cap
    per_template: dict[int, list[int]] = {}
    for i, line_level in enumerate(scan.levels):
        if line_level == level:
            per_template.setdefault(scan.clusters[i], []).append(i)
    return {i for group in per_template.values() if len(group) > most for i in group[first : len(group) - last]}


def _anchors(total: int, scan: _Scan, wanted: set[str], matches: Mapping[int, int], capped: set[int]) -> list[int]:
    """Lines kept for their own sake after errors, best first: query matches (rarest term first) with the first and
    last lines, then lines of the other wanted levels (first occurrences of each template before repeats)."""
    ranks: list[tuple[int, int, int]] = [(1, 0, 0), (1, 0, total - 1)]
    ranks += [(1, rarity, i) for i, rarity in matches.items()]
    seen: dict[int, int] = {}
    for i, level in enumerate(scan.levels):
        if level in wanted and level not in _SEVERE and i not in capped:
            occurrence = seen[scan.clusters[i]] = seen.get(scan.clusters[i], -1) + 1
            ranks.append((2, occurrence, i))
    return [i for *_, i in sorted(ranks)]


def _take(chosen: set[int], candidates: list[int], budget: int) -> None:
    for index in candidates:
        if len(chosen) >= budget:
            return
        chosen.add(index)


def _distance(anchors: list[int], index: int) -> int:
    position = bisect_right(anchors, index)
    near = anchors[max(0, position - 1) : position + 1]
    return min(abs(index - anchor) for anchor in near)


# --- output -------------------------------------------------------------------------------------------------------


def _describe(lines: Lines, scan: _Scan, shown: set[int], start: int, end: int) -> str:
    """For a run of one template `4,993 more lines like `<template>` (09:00:05-09:10:00)` ("more" when lines of it
    are shown); else the count and time span of the lines, then their templates, the most severe and most frequent
    first."""
    counts = sorted(ranked(scan.clusters[start:end]), key=lambda item: _severity(scan, item[0]))
    span = _time_span(lines.clean[start:end])
    if len(counts) == 1:
        cluster = counts[0][0]
        noun = "more line" if cluster in shown else "line"
        like = f"{plural(end - start, noun)} like `{scan.templates.show(cluster)}`"
        return f"{like} ({span})" if span else like
    listed = listing(counts, 3 if end - start >= 50 else 2, partial(_template_count, scan.templates), "template")
    return f"{plural(end - start, 'line')}{' ' + span if span else ''} ({listed})"


def _severity(scan: _Scan, cluster: int) -> int:
    """Fatal templates first in a marker, then errors, then warnings, then the rest."""
    level = scan.levels[scan.firsts[cluster]]
    return _SEVERITY.get(level, len(_SEVERITY))


def _template_count(templates: _Clusters, cluster: int, count: int) -> str:
    return times(count, f"`{templates.show(cluster)}`")


def _time_span(run: list[str]) -> str:
    """`09:00:00\u201309:12:04`: the first and last timestamps of the run, without their date when they share it."""
    first = next((match.group() for line in run if (match := _TIMESTAMP.search(line))), None)
    if first is None:
        return ""
    last = next(match.group() for line in reversed(run) if (match := _TIMESTAMP.search(line)))
    first_clock, last_clock = _CLOCK.search(first), _CLOCK.search(last)
    if first_clock and last_clock and first[: first_clock.start()] == last[: last_clock.start()]:
        first, last = first[first_clock.start() :], last[last_clock.start() :]
    return first if first == last else f"{first}\u2013{last}"


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = split(text)
    if len(lines.raw) < MIN_LINES:
        return None
    scan = _scan(lines)
    keep = _select(lines, scan, params, context)
    shown = {cluster for cluster, kept in zip(scan.clusters, keep, strict=True) if kept}
    return fold(lines, keep, partial(_describe, lines, scan, shown), context)
