"""`headroom savings`: tokens and dollars saved, today, over the last 7 days and in all."""

from __future__ import annotations

from headroom.cli.unavailable import not_yet_available


def main(argv: list[str] | None = None, prog: str = "headroom savings") -> int:
    return not_yet_available(prog)
