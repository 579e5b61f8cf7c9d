"""`headroom-check`: health checks of a headroom setup; `doctor` is the one there is."""

from __future__ import annotations

import argparse
import sys

from headroom.cli import doctor

CHECKS = {"doctor": doctor.main}


def build_parser(prog: str = "headroom-check") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Health checks for a headroom setup.")
    parser.add_argument("check", choices=list(CHECKS), help="doctor: check the proxy and the clients' routing")
    # Everything after the check is the check's own (its --help included), as in `headroom wrap`.
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to the check, which parses them")
    return parser


def main(argv: list[str] | None = None, prog: str = "headroom-check") -> int:
    args = build_parser(prog).parse_args(sys.argv[1:] if argv is None else argv)
    return CHECKS[args.check](args.args, prog=f"{prog} {args.check}")
