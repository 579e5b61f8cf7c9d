"""`headroom perf`: savings and overhead per tool and per content kind, from the proxy's request log."""

from __future__ import annotations

from headroom.cli.unavailable import not_yet_available


def main(argv: list[str] | None = None, prog: str = "headroom perf") -> int:
    return not_yet_available(prog)
