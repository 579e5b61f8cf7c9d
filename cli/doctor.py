"""`headroom-check doctor` (also `headroom doctor`): is the proxy running, and are the clients routed through it."""

from __future__ import annotations

from headroom.cli.unavailable import not_yet_available


def main(argv: list[str] | None = None, prog: str = "headroom-check doctor") -> int:
    return not_yet_available(prog)
