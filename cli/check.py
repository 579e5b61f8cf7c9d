"""`headroom-check`: health checks. `doctor` (is the proxy running, are clients routed through it, ...) arrives
with the proxy; until then it says so."""

from __future__ import annotations

import argparse

from headroom.cli.unavailable import not_yet_available


def main(argv: list[str] | None = None, prog: str = "headroom-check") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Health checks for a headroom setup.")
    parser.add_argument("check", choices=["doctor"], help="doctor: check the proxy and the clients' routing")
    args, _rest = parser.parse_known_args(argv)
    return not_yet_available(f"{prog} {args.check}")
