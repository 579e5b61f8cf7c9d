"""Printing compiler diagnostics for a person: each with the source line it points into."""

from __future__ import annotations

from pathlib import Path

from headroom.compiler.diagnostics import Diagnostic
from headroom.runtime import policy as policies


def render(diagnostic: Diagnostic, entry: Path) -> str:
    """The diagnostic, with its source line when the file can be read (`entry` locates relative names)."""
    return diagnostic.render(_source_text(diagnostic.location.file, entry))


def _source_text(display: str, entry: Path) -> str | None:
    path = Path(display) if Path(display).is_absolute() else policies.source_path(display, entry.parent)
    try:
        return path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return None
