"""`headroom-serve` (also `headroom proxy`): the compression proxy. `headroom-serve wrap|unwrap ...` is `headroom
wrap|unwrap ...` (`script`, the console script's entry point); `headroom proxy` is the proxy alone (`main`).

It loads the policy first (compiling it if the generated code is stale), so a broken policy is reported before
anything listens, then serves until SIGTERM or SIGINT, letting the requests in flight finish.
"""

from __future__ import annotations

import argparse
import logging
import sys

from headroom.cli.report import render
from headroom.compiler.diagnostics import CompileError
from headroom.runtime import policy as policies


def build_parser(prog: str = "headroom-serve") -> argparse.ArgumentParser:
    from headroom.runtime.proxy import config as settings

    parser = argparse.ArgumentParser(prog=prog, description="The context-compression proxy.")
    settings.add_arguments(parser)
    return parser


def script(argv: list[str] | None = None, prog: str = "headroom-serve") -> int:
    """`headroom-serve`: the proxy, or `headroom-serve wrap|unwrap ...` as `headroom wrap|unwrap ...`."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["wrap"], ["unwrap"]):
        from headroom.cli import wrap

        run = wrap.wrap_main if argv[0] == "wrap" else wrap.unwrap_main
        return run(argv[1:], prog=f"{prog} {argv[0]}")
    return main(argv, prog)


def main(argv: list[str] | None = None, prog: str = "headroom-serve") -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The proxy's modules (Falcon, waitress, the engine) are imported here, not at the top: `headroom compile`
    # and the other subcommands import this module and should not pay for them.
    from headroom.runtime.engine import engine_for
    from headroom.runtime.proxy import config as settings
    from headroom.runtime.proxy.app import create_app
    from headroom.runtime.proxy.savings import Savings, default_path
    from headroom.runtime.proxy.server import serve

    config = settings.from_arguments(build_parser(prog).parse_args(argv))
    try:
        engine = engine_for(str(config.rules) if config.rules is not None else None)
    except policies.PolicyNotFound as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except CompileError as error:
        for diagnostic in error.diagnostics:
            print(render(diagnostic, policies.entry_file(config.rules)), file=sys.stderr)
        return 1
    router = engine.router
    loaded_from = "compiled in memory" if router.generated is None else router.generated
    print(f"{prog}: policy {router.entry} loaded ({loaded_from})", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    savings = Savings(default_path())
    try:
        serve(create_app(config, engine=engine, savings=savings), config,
              lambda line: print(f"{prog}: {line}", file=sys.stderr, flush=True))  # fmt: skip
    finally:
        savings.flush()  # the last second's requests
    return 0
