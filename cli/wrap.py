"""`headroom wrap claude|codex` and `headroom unwrap`: run a coding agent through the proxy, and undo it."""

from __future__ import annotations

from headroom.cli.unavailable import not_yet_available


def wrap_main(argv: list[str] | None = None, prog: str = "headroom wrap") -> int:
    return not_yet_available(prog)


def unwrap_main(argv: list[str] | None = None, prog: str = "headroom unwrap") -> int:
    return not_yet_available(prog)
