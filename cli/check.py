"""`headroom-check`: health checks of a headroom setup; `doctor` is the one there is."""

from __future__ import annotations

import argparse
import sys

from headroom.cli import doctor

CHECKS = {"doctor": doctor.main}


def main(argv: list[str] | None = None, prog: str = "headroom-check") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Health checks for a headroom setup.")
    parser.add_argument("check", choices=list(CHECKS), help="doctor: check the proxy and the clients' routing")
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHECKS:  # the check parses its own flags, --help included
        return CHECKS[argv[0]](argv[1:], prog=f"{prog} {argv[0]}")
    parser.parse_args(argv)  # exits with a usage error or the help
    return 2
