"""`headroom wrap claude|codex` and `headroom unwrap`: run a coding agent through the proxy, and undo it.

wrap: find the client, undo what an earlier wrap killed with SIGKILL left in its config, edit the client's config,
lease the proxy on the port (starting one if none answers), run the client, then undo the edit and release the proxy.
Its exit code is the client's (128 + N for a client killed by signal N); 127 when the client is not on PATH, 1 when
the proxy or the config edit fails, with nothing left changed.

unwrap: undo the config edits of `client` whose wraps have died, and stop the proxies those wraps started and no
running wrap uses.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

from headroom.cli import wrap_claude, wrap_codex, wrap_edits, wrap_proxy
from headroom.cli.probe import proxy_url
from headroom.cli.wrap_child import Interrupted, SignalRelay
from headroom.cli.wrap_edits import EditRefused
from headroom.cli.wrap_proxy import HOST, ProxyError
from headroom.cli.wrap_state import locked
from headroom.runtime.proxy.config import ProxyConfig, port

CLIENTS: dict[str, ModuleType] = {"claude": wrap_claude, "codex": wrap_codex}
NOT_FOUND = 127  # the shell's code for a command it cannot find


def build_wrap_parser(prog: str = "headroom wrap") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a coding agent with its requests routed through the proxy."
    )
    parser.add_argument("client", choices=tuple(CLIENTS))
    parser.add_argument("--port", type=port, default=ProxyConfig().port, help="the proxy's port (default: %(default)s)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to the client unchanged")
    return parser


def build_unwrap_parser(prog: str = "headroom unwrap") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Undo what wrap changed in a client's configuration.")
    parser.add_argument("client", choices=tuple(CLIENTS))
    return parser


def wrap_main(argv: list[str] | None = None, prog: str = "headroom wrap") -> int:
    parser = build_wrap_parser(prog)
    args = _parse_wrap(parser, sys.argv[1:] if argv is None else argv)
    executable = shutil.which(args.client)
    if executable is None:
        print(f"{prog}: '{args.client}' was not found on PATH; install it, then wrap again", file=sys.stderr)
        return NOT_FOUND
    with SignalRelay() as relay:
        try:
            return _wrap(prog, args.client, [executable, *args.args], args.port, relay)
        except Interrupted as interrupted:
            print(f"{prog}: interrupted by {interrupted}; nothing left changed", file=sys.stderr)
            return 128 + interrupted.signum
        except (ProxyError, EditRefused, OSError) as error:
            print(f"{prog}: error: {error}", file=sys.stderr)
            return 1


def _parse_wrap(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Also `wrap claude --port N ...`, as the usage line reads: the client's arguments took `--port`, which
    belongs to wrap when it comes first (neither client has a --port of its own)."""
    args = parser.parse_args(argv)
    rest = args.args
    if rest[:1] == ["--port"] and len(rest) > 1:
        return parser.parse_args(["--port", rest[1], args.client, *rest[2:]])
    if rest and rest[0].startswith("--port="):
        return parser.parse_args([rest[0], args.client, *rest[1:]])
    return args


def unwrap_main(argv: list[str] | None = None, prog: str = "headroom unwrap") -> int:
    client = build_unwrap_parser(prog).parse_args(sys.argv[1:] if argv is None else argv).client
    try:
        with locked():
            done = wrap_edits.undo_leftovers(client, CLIENTS[client])
            held = wrap_edits.records(client)
        stopped = wrap_proxy.release_leftovers()  # outside the lock: each release() takes it (flock is not reentrant)
    except (EditRefused, OSError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    done += [f"stopped the proxy at {proxy_url(HOST, port)}, which no running wrap uses" for port in stopped]
    for said in done:
        print(f"{prog}: {said}")
    for record in held:
        pids = ", ".join(map(str, record.holders))
        print(f"{prog}: {record.path} belongs to the running wrap (pid {pids}); it is restored when that exits")
    if not done and not held:
        print(f"{prog}: nothing to undo for {client}")
    return 0


def _wrap(prog: str, client: str, argv: list[str], port: int, relay: SignalRelay) -> int:
    config = CLIENTS[client]
    url, project = proxy_url(HOST, port), project_name(Path.cwd())
    try:
        try:
            with locked():  # the edit first: one refused (a broken file, another port's wrap) starts no proxy
                for said in wrap_edits.undo_leftovers(client, config):
                    print(f"{prog}: {said} (left by a wrap that did not exit cleanly)", file=sys.stderr)
                wrap_edits.apply(client, config, url, project)
            started = wrap_proxy.acquire(port)  # in the try: a signal right after it still releases the proxy
            print(f"{prog}: {'started' if started else 'using'} the proxy at {url}", file=sys.stderr)
            return relay.run(argv, config.environment(dict(os.environ), url, project))
        finally:  # also when setup was interrupted half way: release() undoes only an edit on record
            relay.finish()
            with locked():
                said = wrap_edits.release(client, config)
            if said:
                print(f"{prog}: {said}", file=sys.stderr)
    finally:
        if wrap_proxy.release(port):
            print(f"{prog}: stopped the proxy at {url}", file=sys.stderr)


def project_name(folder: Path) -> str:
    """The project's name as the proxy counts savings by it: the folder's name, in characters a header carries."""
    return re.sub(r"[^\x20-\x7e]", "_", folder.name).strip() or "/"
