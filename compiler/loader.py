"""Reading policy files: decoding, parsing, and following `include` statements into a tree of sources.

Include paths are relative to the including file; a path not found there is looked up among the rules shipped with
headroom, so `include "default.hrules"` works from anywhere. A file included twice is loaded once, at its first
place; a file that includes itself (directly or not) is an error naming the chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from headroom.compiler import nodes as n
from headroom.compiler.diagnostics import CompileError, Diagnostics, Location
from headroom.compiler.parser import parse
from headroom.runtime.policy import SHIPPED_PREFIX, SHIPPED_RULES


@dataclass
class Source:
    """One parsed file and the files it includes, in the order it includes them."""

    path: Path
    display: str  # how origins and diagnostics name it
    text: str
    module: n.Module
    includes: list[Source] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def walk(self) -> list[Source]:
        """This file, then everything it includes, depth first: the order of `Policy.sources`."""
        found = [self]
        for child in self.includes:
            found.extend(child.walk())
        return found


def read_text(path: Path, display: str) -> str:
    """The file's text; raises `CompileError` (never a traceback) when it cannot be read or is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CompileError.at(Location(display, 0), f"cannot read file: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise CompileError.at(
            Location(display, line, column),
            f"file is not valid UTF-8 (byte 0x{data[error.start]:02x})",
            hint="save the file as UTF-8",
        ) from None


def load(entry: Path, diagnostics: Diagnostics) -> Source:
    """Parse the entry file and, recursively, what it includes. Problems with includes are collected in
    `diagnostics`; a file that cannot be read or parsed at all raises `CompileError`."""
    entry = entry.resolve()
    root = _parse_file(entry, _display(entry, entry.parent))
    _follow_includes(root, entry.parent, diagnostics, chain=[entry], seen={entry})
    return root


def _parse_file(path: Path, display: str) -> Source:
    text = read_text(path, display)
    return Source(path, display, text, parse(text, display))


def _follow_includes(source: Source, base: Path, diagnostics: Diagnostics, chain: list[Path], seen: set[Path]) -> None:
    statements_started = False
    for statement in source.module.statements:
        if not isinstance(statement, n.Include):
            statements_started = True
            continue
        where = Location(source.display, statement.pos.line, statement.pos.column)
        if statements_started:
            diagnostics.error(
                where,
                "`include` must come before every other statement of the file",
                hint="move it to the top: an include is a layer underneath the file",
            )
            continue
        target = _resolve(source.path.parent, statement.path)
        if target is None:
            diagnostics.error(
                where,
                f'included file "{statement.path}" not found',
                hint=f"looked in {source.path.parent} and in the rules shipped with headroom",
            )
            continue
        if target in chain:
            cycle = " -> ".join(_display(p, base) for p in [*chain[chain.index(target) :], target])
            diagnostics.error(where, f"include cycle: {cycle}")
            continue
        if target in seen:
            continue
        seen.add(target)
        try:
            child = _parse_file(target, _display(target, base))
        except CompileError as error:
            diagnostics.items.extend(error.diagnostics)
            continue
        source.includes.append(child)
        _follow_includes(child, base, diagnostics, [*chain, target], seen)


def _resolve(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, SHIPPED_RULES / name):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _display(path: Path, base: Path) -> str:
    """Relative to the entry file's folder, so output does not depend on where the rules live."""
    if path.is_relative_to(base):
        return path.relative_to(base).as_posix()
    if path.is_relative_to(SHIPPED_RULES.resolve()):
        return SHIPPED_PREFIX + path.relative_to(SHIPPED_RULES.resolve()).as_posix()
    return path.as_posix()
