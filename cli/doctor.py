"""`headroom-check doctor` (also `headroom doctor`): is the proxy running, and are the clients routed through it.

headroom fails silently: a client that is not routed through the proxy still works, and nothing is saved. The
doctor looks for that, and for what else keeps savings from flowing. Each check passes (✓), warns (⚠), fails (✗)
or is skipped (·, nothing to check); a warning or failure comes with a hint naming the command that fixes it.

What passes, warns (W), fails (F) or is skipped (S):

- proxy: headroom answers /livez within 2 s. F: nothing does (the hint names another port's proxy if one answers).
- version: the proxy runs the installed version. W: another (upgraded, not restarted). S: no proxy.
- claude: the ANTHROPIC_BASE_URL Claude Code would use reaches the proxy. W: nothing sets it, it points elsewhere,
  or a settings file is unreadable. S: no ~/.claude and no project settings (Claude Code is not set up here).
- codex: the provider Codex would use reaches the proxy. W: not set, elsewhere, unreadable config.toml. S: no ~/.codex.
- shell: the shell's ANTHROPIC_BASE_URL / OPENAI_BASE_URL point here. W: one points elsewhere. S: neither is set.
- savings: requests recorded, with tokens and ≈ $ saved and the last request's age. W: none yet, or the proxy runs
  with --no-optimize.
- budget: none set, or some left. W: spent (requests are refused). S: no proxy, or it does not report its budget.
- rules: compiled, up to date, and what the proxy runs. W: the module is missing or stale (the proxy compiles in
  memory: correct, only slower to start), or the proxy runs other rules. F: no such policy, or it does not compile.
- store: the reversible store takes writes. F: it does not (the proxy is then not ready to compress).
- detection: magika loads within its timeout. W: it does not (structural checks only).
- pricing: always passes, naming litellm's price map or the bundled table: both work, so neither is a warning.

"No requests yet" warns on purpose: a setup through which nothing flows is exactly the failure this command is
for. A client that is not installed is skipped, never a warning, so a healthy, fully routed setup exits 0.

Exit codes: 0 all passed (skips included), 1 warnings only, 2 at least one failure (and for wrong usage).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from headroom import __version__
from headroom.cli import doctor_checks as checks
from headroom.cli import doctor_routing as routing
from headroom.cli.doctor_checks import Context, Result, Status
from headroom.cli.probe import running_proxy
from headroom.runtime.proxy.config import ProxyConfig, port

CHECKS: list[Callable[[Context], Result]] = [
    checks.check_proxy,
    checks.check_version,
    routing.check_claude,
    routing.check_codex,
    routing.check_shell,
    checks.check_savings,
    checks.check_budget,
    checks.check_rules,
    checks.check_store,
    checks.check_detection,
    checks.check_pricing,
]
MARKS = {Status.PASS: "✓", Status.WARN: "⚠", Status.FAIL: "✗", Status.SKIP: "·"}


def build_parser(prog: str = "headroom-check doctor") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Check the proxy and that the clients are routed through it."
    )
    defaults = ProxyConfig()
    parser.add_argument("--host", default=defaults.host, help="the proxy's address (default: %(default)s)")
    parser.add_argument("--port", type=port, default=defaults.port, help="the proxy's port (default: %(default)s)")
    parser.add_argument("--rules", type=Path, help="the policy to check (default: the proxy's, else the shipped one)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def main(argv: list[str] | None = None, prog: str = "headroom-check doctor") -> int:
    args = build_parser(prog).parse_args(argv)
    logging.getLogger("headroom").addHandler(
        logging.NullHandler()
    )  # the checks report; the modules' logs would repeat it
    ctx = Context(args.host, args.port, running_proxy(args.host, args.port), args.rules)
    results = [run(check, ctx) for check in CHECKS]
    code = exit_code(results)
    print(as_json(ctx, results, code) if args.json else as_text(ctx, results))
    return code


def run(check: Callable[[Context], Result], ctx: Context) -> Result:
    """The check's result; a check that breaks is reported as its failure, and the other checks still run."""
    try:
        return check(ctx)
    except Exception as error:
        summary = f"the check itself failed: {error!r}. This is a bug in headroom; please report it"
        return Result(check.__name__.removeprefix("check_"), Status.FAIL, summary, "with `headroom doctor --json`")


def exit_code(results: list[Result]) -> int:
    statuses = {result.status for result in results}
    return 2 if Status.FAIL in statuses else 1 if Status.WARN in statuses else 0


def as_json(ctx: Context, results: list[Result], code: int) -> str:
    checked = [asdict(result) for result in results]
    return json.dumps(
        {"port": ctx.port, "installed_version": __version__, "exit_code": code, "checks": checked}, indent=2
    )


def as_text(ctx: Context, results: list[Result]) -> str:
    """A table: mark, name, summary, and the hint under the summary."""
    width = max(len(result.name) for result in results)
    lines = [f"headroom {__version__}, proxy at {ctx.url}", ""]
    for result in results:
        lines.append(f"{MARKS[result.status]} {result.name:<{width}}  {result.summary}")
        if result.hint:
            lines.append(f"  {'':<{width}}  → {result.hint}")
    failures = sum(result.status is Status.FAIL for result in results)
    warnings = sum(result.status is Status.WARN for result in results)
    lines += ["", f"{failures} failure(s), {warnings} warning(s)" if failures or warnings else "all checks passed"]
    return "\n".join(lines)
