"""`headroom`: one command with the subcommands users of the headroom-ai CLI know, each calling the same code as
the dedicated commands (`headroom compile` is `headroom-compile`, `headroom proxy` is `headroom-serve`, ...)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from headroom import __version__
from headroom.cli import check, compile, serve
from headroom.cli.unavailable import not_yet_available

SUBCOMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "compile": (lambda argv: compile.main(argv, prog="headroom compile"), "compile .hrules policies"),
    "proxy": (lambda argv: serve.main(argv, prog="headroom proxy"), "run the compression proxy"),
    "doctor": (lambda argv: check.main(["doctor", *argv], prog="headroom"), "check that clients are routed"),
    "wrap": (lambda argv: not_yet_available("headroom wrap"), "run claude or codex through the proxy"),
    "unwrap": (lambda argv: not_yet_available("headroom unwrap"), "undo what wrap changed"),
    "savings": (lambda argv: not_yet_available("headroom savings"), "tokens and dollars saved"),
    "perf": (lambda argv: not_yet_available("headroom perf"), "savings and overhead per tool and content kind"),
}


def usage() -> str:
    lines = ["usage: headroom COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<9} {summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    lines += ["", "`headroom COMMAND --help` describes a command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"headroom {__version__}")
        return 0
    command = SUBCOMMANDS.get(argv[0])
    if command is None:
        print(f"headroom: unknown command '{argv[0]}'\n\n{usage()}", file=sys.stderr)
        return 2
    return command[0](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
