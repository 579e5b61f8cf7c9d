"""Compiler diagnostics: where something is wrong, what, and how to fix it.

Every problem the compiler finds becomes a `Diagnostic`; rendering them like a C compiler does (location, message,
source line, caret, hint) happens here and nowhere else, so every stage reports in one voice.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Location:
    """A point in a source file; `line` and `column` count from 1, as editors do."""

    file: str
    line: int = 1  # 0: the problem is with the file as a whole
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    location: Location
    message: str
    hint: str | None = None
    notes: tuple[str, ...] = ()

    def render(self, source: str | None = None) -> str:
        """Format as `file:line:col: error: message`, then the source line with a caret under the column."""
        lines = [f"{self.location}: {self.severity.value}: {self.message}"]
        text = _source_line(source, self.location.line)
        if text is not None:
            lines.append(f"    {text}")
            lines.append("    " + _caret_padding(text, self.location.column) + "^")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass
class Diagnostics:
    """Collects diagnostics across stages so that one run reports every problem it can, not just the first."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, message: str, hint: str | None = None, notes: Iterable[str] = ()) -> None:
        self.items.append(Diagnostic(Severity.ERROR, location, message, hint, tuple(notes)))

    def warning(self, location: Location, message: str, hint: str | None = None, notes: Iterable[str] = ()) -> None:
        self.items.append(Diagnostic(Severity.WARNING, location, message, hint, tuple(notes)))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise CompileError(self.items)


class CompileError(Exception):
    """Raised when a policy cannot be compiled; carries every diagnostic found (warnings included)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = next((d for d in diagnostics if d.severity is Severity.ERROR), diagnostics[0])
        super().__init__(f"{first.location}: {first.severity.value}: {first.message}")

    @classmethod
    def at(cls, location: Location, message: str, hint: str | None = None) -> CompileError:
        return cls([Diagnostic(Severity.ERROR, location, message, hint)])


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, when one is close enough to be a likely misspelling."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _source_line(source: str | None, line: int) -> str | None:
    if source is None:
        return None
    lines = source.split("\n")  # as the parser counts lines (splitlines would also break at \f, \u2028, ...)
    if not 1 <= line <= len(lines):
        return None
    return "".join(ch if ch == "\t" or unicodedata.category(ch) != "Cc" else "\ufffd" for ch in lines[line - 1])


def _caret_padding(text: str, column: int) -> str:
    """Spaces (and tabs where the source has tabs) so the caret lands under the column in any terminal."""
    prefix = text[: max(column - 1, 0)]
    return "".join("\t" if ch == "\t" else " " for ch in prefix)
