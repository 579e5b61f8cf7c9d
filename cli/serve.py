"""`headroom-serve`: the compression proxy.

The proxy itself is not built yet. Until it is, the command does what it can honestly do: it loads the policy it
would run (compiling it if the generated code is stale, so a broken policy is reported now) and says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from headroom.cli.report import render
from headroom.cli.unavailable import not_yet_available
from headroom.compiler.diagnostics import CompileError
from headroom.runtime import policy as policies


def main(argv: list[str] | None = None, prog: str = "headroom-serve") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="The context-compression proxy.")
    parser.add_argument(
        "--rules", type=Path, default=None, help="a .hrules policy file or folder (default: the shipped default policy)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args(argv)
    try:
        router = policies.load_router(args.rules)
    except policies.PolicyNotFound as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except CompileError as error:
        for diagnostic in error.diagnostics:
            print(render(diagnostic, policies.entry_file(args.rules)), file=sys.stderr)
        return 1
    loaded_from = "compiled in memory" if router.generated is None else router.generated
    print(f"{prog}: policy {router.entry} loaded ({loaded_from})", file=sys.stderr)
    return not_yet_available(prog)
