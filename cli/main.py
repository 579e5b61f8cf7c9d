"""`headroom`: one command with the subcommands users of the headroom-ai CLI know, each calling the same code as
the dedicated commands (`headroom compile` is `headroom-compile`, `headroom proxy` is `headroom-serve`, ...)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from headroom import __version__
from headroom.cli import compile, doctor, perf, savings, serve, wrap

SUBCOMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "compile": (lambda argv: compile.main(argv, prog="headroom compile"), "compile .hrules policies"),
    "proxy": (lambda argv: serve.main(argv, prog="headroom proxy"), "run the compression proxy"),
    "doctor": (lambda argv: doctor.main(argv, prog="headroom doctor"), "check that clients are routed"),
    "wrap": (lambda argv: wrap.wrap_main(argv, prog="headroom wrap"), "run claude or codex through the proxy"),
    "unwrap": (lambda argv: wrap.unwrap_main(argv, prog="headroom unwrap"), "undo what wrap changed"),
    "savings": (lambda argv: savings.main(argv, prog="headroom savings"), "tokens and dollars saved"),
    "perf": (lambda argv: perf.main(argv, prog="headroom perf"), "savings and overhead per tool and content kind"),
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
    try:
        return command[0](argv[1:])
    except BrokenPipeError:  # `headroom perf | head`: the reader has what it wanted, which is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush does not fail again
        return 0


if __name__ == "__main__":
    sys.exit(main())
