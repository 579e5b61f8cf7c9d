"""Test runs: keep every failure with its details and the summary; fold passing tests into per-file counts.

An agent reads a test run to learn what failed and why. The failing test ids, their failure sections (pytest
FAILURES blocks with the `>` source and `E` lines, jest `●` blocks, go `--- FAIL` output, cargo `---- stdout ----`
blocks, unittest `FAIL:` blocks, mocha's failing list), errors, the session header and the summary lines are kept
whole; passing tests are only counted, per file or module, in the marker that stands for them. Skipped tests and
warnings are kept when asked for. Knows pytest, unittest, jest, vitest, mocha, go test (also -json), cargo test,
rspec, PHPUnit, dotnet test and TAP, also behind CI and container line prefixes.
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
    unprefixed,
    widen,
)
from headroom.runtime.compressors.log import trace_blocks

# --- what each line is --------------------------------------------------------------------------------------------

# Pytest and unittest/cargo lines name their verdict in a word: `tests/a.py::test_x PASSED [ 10%]`,
# `test_x (tests.a.T.test_x) ... ok`, `test tests::x ... FAILED`.
_PYTEST_VERDICT = re.compile(r"(?<![\w-])(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?![\w-])")
_VERDICTS = {
    **dict.fromkeys(("PASSED", "XPASS", "ok"), "pass"),
    **dict.fromkeys(("FAILED", "FAIL", "unexpected"), "fail"),
    "ERROR": "error",
    **dict.fromkeys(("SKIPPED", "XFAIL", "skipped", "ignored", "expected"), "skip"),
}
# A progress line of dots, one character per test: `tests/test_a.py ..F.s  [ 40%]`, `...F..  8 / 8 (100%)`.
_PROGRESS = r"(?:\S+\.py )?[.sxXFE*]*[{}][.sxXFE*]*(?:\s+(?:\[\s*\d+%\]|\d+ / \d+ \(\s*\d+%\)))?$"
# Every other line: (kind, pattern) tried in order at its start; the first that matches decides.
_LINE_KINDS = (
    ("fail", r"FAILED \S|\s*--- FAIL: |\s*FAIL\b|\s*[\u2715\u2717\u00d7\u2718] |\s+\d+\) \S|not ok \d+|FAILURES!"),
    ("fail", r"\s*\u276f \S+ \(.*failed|\s*Failed \S+ \[|" + _PROGRESS.format("F")),
    ("fail", r'\{.*"Action":"fail"|\{.*"Output":"(?:\s*--- FAIL|\s+\S+_test\.go:\d+: )'),  # go test -json
    ("error", r"ERROR\b|ERRORS!|error(?:\[E\d+\])?: |\S+\.go:\d+(?::\d+)?: |" + _PROGRESS.format("E")),
    ("skip", r"(?:SKIPPED|XFAIL) |\s*--- SKIP: |\s*[\u25cb\u270e\u2193] |ok \d+ .*# (?:SKIP|TODO)|\s*Skipped \S+ \["),
    ("skip", r'\{.*"Action":"skip"'),
    ("pass", r"PASSED \S|\s*--- PASS: |\s*[\u2713\u2714\u221a] |ok \d+ |\s*Passed \S+ \[|" + _PROGRESS.format(".sxX*")),
    ("pass", r'\{.*"Action":"pass"'),
    ("suite", r"\s*PASS\s+\S"),
    ("summary", r"=+ .* =+$|\s*(?:Test Suites|Tests|Test Files|Snapshots|Time|Duration):?\s|Ran all test suites"),
    ("summary", r"ok\s+\S+\s+(?:[\d.]+m?s|\(cached\))|PASS$|test result: |Ran \d+ tests? in |(?:Passed|Failed)!\s+-"),
    ("summary", r"(?:OK|FAILED)(?: \(.*\))?$|Finished in "),
    ("summary", r"\s*\d+ (?:passing|failing|pending)\b|\d+ (?:tests?|examples?), \d+ failures?|# (?:tests|pass|fail) "),
    ("header", r"platform |rootdir:|cachedir:|configfile:|plugins:|collect(?:ed|ing) |hypothesis profile|running \d"),
    ("header", r"\s*Running \S|\s*Doc-tests \S|Test session starts"),
    ("warn", r"warning(?:\[\S+\])?: |\S+:\d+: \w*Warning\b|\s*console\.warn\b"),
)
_CLASSIFY = re.compile("|".join(f"(?P<{kind}_{i}>{pattern})" for i, (kind, pattern) in enumerate(_LINE_KINDS)))
_KEEP_KINDS = {"failures": "fail", "errors": "error", "warnings": "warn", "skipped": "skip", "summary": "summary"}
_DETAIL = ("fail", "error")
_NEUTRAL = ("pass", "suite", "other")  # kinds that may show as context; the others only when asked for


def _kind(line: str) -> str:
    if "::" in line:
        verdict = _PYTEST_VERDICT.search(line)
        if verdict:
            return _VERDICTS[verdict.group(1)]
    if " ... " in line:
        words = line.rpartition(" ... ")[2].split()
        if words and words[0].rstrip(",") in _VERDICTS:
            return _VERDICTS[words[0].rstrip(",")]
    match = _CLASSIFY.match(line)
    return match.lastgroup.rsplit("_", 1)[0] if match and match.lastgroup else "other"


# --- failure sections ---------------------------------------------------------------------------------------------

_PYTEST_BANNER = re.compile(r"={3,} ?(.*?) ?={3,}$")
_PYTEST_SECTIONS = {"FAILURES": "fail", "ERRORS": "error", "warnings summary": "warn"}
_NEVER = re.compile(r"(?!)")
# (kind, what opens a section, what closes it); a line that opens a section also closes the open one.
_SECTIONS = (
    ("fail", r"FAIL: \S", re.compile(r"={20,}$|Ran \d+ tests? in ")),  # unittest
    ("error", r"ERROR: \S", re.compile(r"={20,}$|Ran \d+ tests? in ")),
    ("fail", r"failures:$|---- \S.* ----$", re.compile(r"test result: ")),  # cargo test
    ("error", r"\s*● Test suite failed to run", re.compile(r"(?:PASS|FAIL)\s|Tests?(?: Suites)?:")),  # jest
    ("warn", r"\s*● .*Warning", re.compile(r"(?:PASS|FAIL)\s|Tests?(?: Suites)?:|\S")),
    ("fail", r"\s*● |Summary of all failing tests", re.compile(r"(?:PASS|FAIL)\s|Tests?(?: Suites)?:")),
    ("fail", r"\s*\d+ failing$", _NEVER),  # mocha: the failures run to the end
    ("fail", r"⎯+ Failed Tests", re.compile(r"⎯+$|\s*Test Files\s")),  # vitest
    ("error", r"⎯+ (?:Unhandled Errors?|Failed Suites)", re.compile(r"⎯+$|\s*Test Files\s")),
    ("fail", r"Failures:$", re.compile(r"Finished in ")),  # rspec
    ("fail", r"Failed examples:$", _NEVER),
    ("fail", r"There (?:was|were) \d+ failures?:", re.compile(r"FAILURES!|ERRORS!|There (?:was|were) ")),
    ("error", r"There (?:was|were) \d+ errors?:", re.compile(r"FAILURES!|ERRORS!|There (?:was|were) ")),
    ("fail", r"\s*Failed \S+ \[", re.compile(r"\s*(?:Passed|Skipped) \S+ \[|\w+!|$")),  # dotnet test
    ("error", r"error(?:\[E\d+\])?: ", re.compile(r"$")),  # compiler errors (rustc), to a blank line
    ("warn", r"warning(?:\[\S+\])?: ", re.compile(r"$")),
)
_OPENERS = re.compile("|".join(f"(?P<s{i}>{opener})" for i, (_, opener, _) in enumerate(_SECTIONS)))
_GO_RUN = re.compile(r"=== (?:RUN|CONT)\s+(\S+)")
_INDENTED_FAIL = re.compile(r"(\s*)(?:--- FAIL: (\S+)|not ok \d+)")  # go test, TAP: the details follow, indented


def _sections(lines: list[str]) -> list[str]:
    """Per line, the kind of failure, error or warning section it lies in ("" outside any)."""
    section = [""] * len(lines)
    current, closer = "", _NEVER
    for i, line in enumerate(lines):
        opened = _opens(line)
        if opened is not None:
            current, closer = opened
        elif current and closer.match(line):
            current = ""
        section[i] = current
    _mark_go_failures(lines, section)
    for start, end in trace_blocks(lines):
        section[start:end] = [kind or "error" for kind in section[start:end]]
    return section


def _opens(line: str) -> tuple[str, re.Pattern[str]] | None:
    banner = _PYTEST_BANNER.match(line)
    if banner:
        return _PYTEST_SECTIONS.get(banner.group(1), ""), _NEVER
    opener = _OPENERS.match(line)
    if opener is None or opener.lastgroup is None:
        return None
    kind, _, closer = _SECTIONS[int(opener.lastgroup[1:])]
    return kind, closer


def _mark_go_failures(lines: list[str], section: list[str]) -> None:
    """A go test failure: its output from `=== RUN name` (go test -v) through `--- FAIL: name`, and the lines
    indented under that (go test without -v; TAP's YAML details)."""
    started: dict[str, int] = {}
    for i, line in enumerate(lines):
        run = _GO_RUN.match(line)
        if run:
            started[run.group(1)] = i
            continue
        failed = _INDENTED_FAIL.match(line)
        if not failed:
            continue
        start, end = started.get(failed.group(2) or "", i), i + 1
        while end < len(lines) and _indent(lines[end]) > len(failed.group(1)):
            end += 1
        section[start:end] = [kind or "fail" for kind in section[start:end]]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip()) if line.strip() else 0


# --- passing tests, counted per file ------------------------------------------------------------------------------

_PYTEST_FILE = re.compile(r"(?:.* )?(?:PASSED )?([^\s:]+\.\w+)::|(\S+\.py) [.sxX]")
_UNITTEST_CASE = re.compile(r"\S+ \(([\w.]+?)\.[A-Z]\w*(?:\.\w+)?\)")
_SUITE = re.compile(r"\s*(?:PASS|FAIL)\s+(\S+)|\s*Running (?:unittests )?(\S+)|\s*(Doc-tests \S+)")
_GO_PACKAGE = re.compile(r"(?:ok|FAIL)\s+(\S+)\s+(?:[\d.]+m?s|\(cached\)|\[)")
_GO_PASS = re.compile(r"\s*--- PASS: ")
_FILE_COUNT = re.compile(r"\((\d+) tests?\)")
_DOTS = re.compile(r"(?:\S+\.py )?([.sxX*]+)(?:\s+(?:\[\s*\d+%\]|\d+ / \d+ \(\s*\d+%\)))?")


def _groups(lines: list[str], kinds: list[str]) -> list[str]:
    """Per passing line, the file or module its tests belong to ("" when the output does not say)."""
    groups = [""] * len(lines)
    current = ""
    for i, line in enumerate(lines):
        suite = _SUITE.match(line)
        if suite:
            current = next(name for name in suite.groups() if name)
        if kinds[i] == "pass":
            named = _PYTEST_FILE.match(line) or _UNITTEST_CASE.match(line)
            groups[i] = next(name for name in named.groups() if name) if named else current
    package = ""
    for i in range(len(lines) - 1, -1, -1):  # go names the package after its tests
        result = _GO_PACKAGE.match(lines[i])
        package = result.group(1) if result else package
        if kinds[i] == "pass" and _GO_PASS.match(lines[i]):
            groups[i] = package
    return groups


def _tests(line: str) -> int:
    """How many passing tests a passing line stands for: one, one per dot of a progress line, or the count a file's
    line gives (vitest: `✓ src/a.test.ts (12 tests) 5ms`)."""
    dots = _DOTS.fullmatch(line)
    if dots:
        return dots.group(1).count(".")
    count = _FILE_COUNT.search(line)
    return int(count.group(1)) if count else 1


# --- selection and markers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    view: list[str]  # the lines as matched: without colour codes and CI prefixes
    kinds: list[str]
    groups: list[str]
    verdicts: list[int]  # failing and erroring test lines (not the insides of failure sections): context goes here


def _scan(lines: Lines) -> _Scan:
    view = unprefixed(lines.clean)
    kinds = [_kind(line) for line in view]
    sections = _sections(view)
    verdicts = [i for i, kind in enumerate(kinds) if kind in _DETAIL and (not sections[i] or _opens(view[i]))]
    kinds = [section or kind for kind, section in zip(kinds, sections, strict=True)]
    return _Scan(view, kinds, _groups(view, kinds), verdicts)


def _select(lines: Lines, scan: _Scan, params: Mapping[str, Any], context: Context) -> list[bool]:
    """The kinds of line asked for and the header, `context` lines around failing tests (but no line of a kind not
    asked for), and lines naming a query term."""
    wanted = {_KEEP_KINDS[word] for word in params["keep"]} | {"header"}
    chosen = {i for i, kind in enumerate(scan.kinds) if kind in wanted}
    around = widen((i for i in scan.verdicts if scan.kinds[i] in wanted), params["context"], len(lines.raw))
    chosen.update(i for i in around if scan.kinds[i] in wanted or scan.kinds[i] in _NEUTRAL)
    chosen.update(term_lines(lines, context.terms()))
    return [i in chosen for i in range(len(lines.raw))]


def _describe(lines: Lines, scan: _Scan, start: int, end: int) -> str:
    """`409 passing tests (tests/test_a.py: 20, ...)` when that is all the run holds, else `N lines: ...` with a
    count per kind of line."""
    per_group: dict[str, int] = {}
    for i in range(start, end):
        if scan.kinds[i] == "pass":
            per_group[scan.groups[i]] = per_group.get(scan.groups[i], 0) + _tests(scan.view[i])
    others = ranked(kind for kind in scan.kinds[start:end] if kind != "pass")
    if not others and sum(per_group.values()) == end - start:
        return _passing(per_group)
    if not per_group and len(others) == 1:
        return plural(end - start, _NOUNS[others[0][0]])
    parts = [_passing(per_group)] if per_group else []
    parts += [plural(count, _NOUNS[kind]) for kind, count in others]
    return f"{plural(end - start, 'line')}: {', '.join(parts)}"


_NOUNS = {
    "skip": "skipped test line",
    "warn": "warning line",
    "suite": "passing test file",
    "summary": "summary line",
    "fail": "failure line",
    "error": "error line",
    "other": "other line",
}


def _passing(per_group: dict[str, int]) -> str:
    total = plural(sum(per_group.values()), "passing test")
    if set(per_group) == {""}:
        return total
    counts = sorted(per_group.items(), key=lambda item: -item[1])
    return f"{total} ({listing(counts, 4, _file_count, 'file')})"


def _file_count(group: str, count: int) -> str:
    return f"{group or '(unnamed)'}: {count:,}"


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = split(text)
    if len(lines.raw) < MIN_LINES:
        return None
    scan = _scan(lines)
    return fold(lines, _select(lines, scan, params, context), partial(_describe, lines, scan), context)
