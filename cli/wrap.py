"""`headroom wrap claude|codex` and `headroom unwrap`: run a coding agent through the proxy, and undo it."""

from __future__ import annotations

import argparse

from headroom.cli.unavailable import not_yet_available

CLIENTS = ("claude", "codex")
DEFAULT_PORT = 8787


def build_wrap_parser(prog: str = "headroom wrap") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a coding agent with its requests routed through the proxy."
    )
    parser.add_argument("client", choices=CLIENTS)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the proxy's port (default: %(default)s)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to the client unchanged")
    return parser


def build_unwrap_parser(prog: str = "headroom unwrap") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Undo what wrap changed in a client's configuration.")
    parser.add_argument("client", choices=CLIENTS)
    return parser


def wrap_main(argv: list[str] | None = None, prog: str = "headroom wrap") -> int:
    return not_yet_available(prog)


def unwrap_main(argv: list[str] | None = None, prog: str = "headroom unwrap") -> int:
    return not_yet_available(prog)
