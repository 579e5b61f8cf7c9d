"""The doctor's checks of the proxy and of this machine's headroom data: is the proxy up and the installed version,
do savings flow, is a budget set, are the rules compiled and the ones the proxy runs, can the store be written,
does content detection load, where prices come from. The clients' routing is in cli/doctor_routing.py.

Each check takes the `Context` (what the doctor was asked, and the proxy it found) and returns one `Result`. A
hint, when there is one, names the command that fixes the problem in backticks, so it can be copied (and a test
parses every such command with the real command-line parsers).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shlex
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from headroom import __version__
from headroom.cli.probe import RunningProxy, proxy_url, running_proxy
from headroom.runtime import detect, policy
from headroom.runtime.proxy import savings
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.store import Store, location

DEFAULT_HOST = ProxyConfig().host
DEFAULT_PORT = ProxyConfig().port
LIKELY_PORTS = range(DEFAULT_PORT, DEFAULT_PORT + 4)  # where else a proxy may be: the default port and the next few
SCAN_TIMEOUT = 0.5  # seconds per port when looking for a proxy elsewhere (loopback refuses at once)
PROSE = "The quick brown fox jumps over the lazy dog, and then it rests in the shade for a while."


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    summary: str
    hint: str | None = None  # what to do, with the command in backticks; for warnings and failures


@dataclass(frozen=True)
class Context:
    host: str
    port: int
    proxy: RunningProxy | None  # the headroom proxy on host:port, if one answers
    rules: Path | None  # the policy to check (--rules); None: the one the proxy runs, else the shipped one

    @property
    def url(self) -> str:
        return proxy_url(self.host, self.port)

    def command(self, *words: str | Path, env: str = "", host: bool = True) -> str:
        """A command for this proxy's port (and host, unless `host` is False: wrap has no --host), in backticks,
        after the environment assignments `env` when given."""
        flags = ["--port", str(self.port)] + (["--host", self.host] if host and self.host != DEFAULT_HOST else [])
        line = " ".join([*env.split(), *(shlex.quote(str(word)) for word in [*words, *flags])])
        return f"`{line}`"

    def proxy_rules(self, key: str) -> Any:
        """A field ("path", "hash") of the rules the proxy runs, from its /health; None when it is not known."""
        rules = self.proxy.health.get("rules") if self.proxy else None
        return rules.get(key) if isinstance(rules, dict) else None

    @property
    def checked_rules(self) -> Path | None:
        """The policy the doctor checks: --rules, else the one the proxy runs; None for the shipped one."""
        path = self.proxy_rules("path")
        return self.rules or (Path(path) if isinstance(path, str) else None)

    def restart(self, env: str = "") -> str:
        """The command that starts the proxy again, with the rules checked unless they are the shipped ones."""
        rules = self.checked_rules
        shipped = rules is None or rules.resolve() == policy.entry_file().resolve()
        return self.command("headroom-serve", *([] if shipped else ["--rules", rules]), env=env)

    def wrap(self) -> str:
        """The commands that route the clients through this proxy."""
        claude, codex = (self.command("headroom", "wrap", client, host=False) for client in ("claude", "codex"))
        return f"{claude} or {codex}"


def check_proxy(ctx: Context) -> Result:
    """Fail when no headroom proxy answers: every client pointed here gets connection errors."""
    if ctx.proxy is not None:
        return Result("proxy", Status.PASS, f"headroom {ctx.proxy.version} answers at {ctx.url}")
    down, start = f"nothing headroom answers at {ctx.url}", f"start it: {ctx.restart()}"
    elsewhere = other_proxy(ctx)
    if elsewhere is not None:
        there = replace(ctx, port=elsewhere).command("headroom", "doctor")
        return Result("proxy", Status.FAIL, down, f"a headroom proxy answers on port {elsewhere}: {there}; or {start}")
    return Result("proxy", Status.FAIL, down, start)


def other_proxy(ctx: Context) -> int | None:
    """The first port other than the one asked where a headroom proxy answers: $HEADROOM_PORT (what the user
    most likely meant), then 8787-8790. All are asked at once, so a host that drops packets costs one short
    timeout, not one per port."""
    env_port = os.environ.get("HEADROOM_PORT", "")
    candidates = [int(env_port)] if env_port.isdigit() else []
    candidates = [port for port in dict.fromkeys([*candidates, *LIKELY_PORTS]) if port != ctx.port]
    with ThreadPoolExecutor(max_workers=len(candidates)) as pool:
        found = pool.map(lambda port: running_proxy(ctx.host, port, SCAN_TIMEOUT), candidates)
        return next((port for port, proxy in zip(candidates, found, strict=True) if proxy is not None), None)


def check_version(ctx: Context) -> Result:
    """Warn on drift: the proxy still runs the code of another version (upgraded, not restarted)."""
    if ctx.proxy is None:
        return Result("version", Status.SKIP, "no proxy to compare with")
    if ctx.proxy.version == __version__:
        return Result("version", Status.PASS, f"the proxy runs the installed version, {__version__}")
    summary = f"the proxy runs headroom {ctx.proxy.version}, {__version__} is installed"
    return Result("version", Status.WARN, summary, f"stop it and start it again: {ctx.restart()}")


def check_savings(ctx: Context) -> Result:
    """Warn while nothing has been saved: the silent failure this command is for looks exactly like that."""
    path = savings.default_path()
    if ctx.proxy is not None and ctx.proxy.health.get("optimize") is False:
        hint = f"start it without --no-optimize (or HEADROOM_NO_OPTIMIZE): {ctx.restart()}"
        return Result("savings", Status.WARN, "the proxy forwards requests without compressing them", hint)
    try:
        lifetime = savings.load(path).lifetime
    except FileNotFoundError:
        lifetime = None
    except (OSError, ValueError) as error:
        hint = "the proxy sets an unreadable file aside and counts from zero: restart it, " + ctx.restart()
        return Result("savings", Status.WARN, f"{path} cannot be read: {error}", hint)
    if lifetime is None or lifetime.requests == 0:
        hint = f"send a client through it: {ctx.wrap()}"
        return Result("savings", Status.WARN, f"no request has gone through a proxy yet ({path})", hint)
    unpriced = f" (+{lifetime.unpriced_tokens_saved:,} tokens of models with no known price)"
    summary = (
        f"{lifetime.requests:,} requests, {lifetime.tokens_saved:,} tokens saved, ${lifetime.usd_saved:,.2f} at "
        f"the models' input prices{unpriced if lifetime.unpriced_tokens_saved else ''}, "
        f"last request {ago(lifetime.last_request)}"
    )
    return Result("savings", Status.PASS, summary)


def ago(timestamp: str | None, now: datetime | None = None) -> str:
    """'3 minutes ago' for an ISO 8601 time."""
    try:
        then = datetime.fromisoformat(timestamp or "")
    except ValueError:
        return "at an unknown time"
    if then.tzinfo is None:  # savings.json says UTC; a hand-edited time may not
        then = then.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - then).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def check_budget(ctx: Context) -> Result:
    """A budget is optional: none set passes. Warn only when it is spent, since requests are then refused."""
    if ctx.proxy is None:
        return Result("budget", Status.SKIP, "no proxy to ask")
    if "budget" not in ctx.proxy.health:
        return Result("budget", Status.SKIP, f"headroom {ctx.proxy.version} does not report its budget")
    budget: Any = ctx.proxy.health["budget"]
    if budget is None:
        return Result("budget", Status.PASS, "no budget set (--budget USD limits spending)")
    try:
        limit, spent, remaining = (float(budget[key]) for key in ("limit", "spent", "remaining"))
        period = str(budget["period"])
    except (KeyError, TypeError, ValueError):
        return Result("budget", Status.SKIP, f"the proxy's budget is unreadable: {budget!r}")
    summary = f"${spent:,.2f} of ${limit:,.2f} spent this {period} period, ${remaining:,.2f} left"
    if remaining > 0:
        return Result("budget", Status.PASS, summary)
    raise_it = ctx.command("headroom-serve", "--budget", f"{2 * limit:g}", "--budget-period", period)
    hint = f"requests are refused until the period ends; to raise the limit, start the proxy with: {raise_it}"
    return Result("budget", Status.WARN, summary, hint)


def check_rules(ctx: Context) -> Result:
    """Fail when the rules do not compile (the proxy would not start, or keeps older rules); warn when the
    compiled module is missing or stale (the proxy compiles in memory: correct, a little slower to start) or
    the proxy runs other rules than these."""
    from headroom.compiler.diagnostics import CompileError  # the compiler loads only for this check

    rules = ctx.checked_rules
    compile_hint = f"compile them: `headroom-compile {shlex.quote(str(rules or policy.entry_file()))}`"
    try:
        router = policy.load_router(rules)
    except policy.PolicyNotFound as error:
        hint = f"name a policy file or folder: {ctx.command('headroom', 'doctor', '--rules', 'PATH')}"
        return Result("rules", Status.FAIL, str(error), hint)
    except CompileError as error:
        return Result("rules", Status.FAIL, f"{rules} does not compile: {error}", compile_hint)
    problems = []
    if router.generated is None:
        generated = policy.generated_path(router.entry)
        problems.append(f"{generated} is {'stale' if generated.is_file() else 'missing'}")
    source_hash = getattr(router.module, "SOURCE_HASH", None)
    proxy_hash = ctx.proxy_rules("hash")
    if ctx.proxy is not None and proxy_hash != source_hash:
        problems.append(f"the proxy runs other rules ({_short(proxy_hash)}, these are {_short(source_hash)})")
    if not problems:
        running = ", the proxy runs them" if ctx.proxy else ""
        return Result("rules", Status.PASS, f"{router.entry} compiled and up to date{running} ({_short(source_hash)})")
    hint = compile_hint if router.generated is None else f"start the proxy with them: {ctx.restart()}"
    return Result("rules", Status.WARN, f"{router.entry}: " + "; ".join(problems), hint)


def _short(source_hash: Any) -> str:
    return f"hash {source_hash[:12]}" if isinstance(source_hash, str) else "no hash"


def check_store(ctx: Context) -> Result:
    """Fail when the reversible store cannot be written: the proxy is then not ready (compressing would replace
    text nobody could get back). Opening it creates it where the proxy would."""
    path = location()
    try:
        store = Store(path)
        problem = None if store.writable() else "it refuses writes"
        store.close()
    except (OSError, sqlite3.Error) as error:
        problem = str(error)
    if problem is None:
        return Result("store", Status.PASS, f"{path} is writable")
    hint = f"make it writable, or set HEADROOM_STORE_PATH to a file in a writable folder and restart: {ctx.restart()}"
    return Result("store", Status.FAIL, f"{path}: {problem}", hint)


def check_detection(ctx: Context) -> Result:
    """Warn when magika does not load in time: detection then goes on with structural checks only (prose and
    code are told apart less well)."""
    detect.detect(PROSE)  # prose is what the structural checks leave to magika: this waits for its load
    if detect.magika_status() == "ready":
        return Result("detection", Status.PASS, "magika (onnxruntime) loads")
    timeout = os.environ.get("HEADROOM_MAGIKA_INIT_TIMEOUT_SECS", "5")
    summary = f"magika did not load within {timeout} s or cannot be imported: structural checks only"
    hint = f"if this machine is just slow, give it longer: {ctx.restart(env='HEADROOM_MAGIKA_INIT_TIMEOUT_SECS=20')}"
    return Result("detection", Status.WARN, summary, hint)


def check_pricing(ctx: Context) -> Result:
    """Informational, never a warning: the bundled table prices the common models either way. litellm is looked
    up, not imported (importing it takes seconds)."""
    note = " (Python 3.14+: litellm may not support it yet)" if sys.version_info >= (3, 14) else ""
    if importlib.util.find_spec("litellm") is None:
        return Result("pricing", Status.PASS, f"$ figures from the bundled price table (no litellm){note}")
    try:
        version = f"litellm {importlib.metadata.version('litellm')}'s"
    except importlib.metadata.PackageNotFoundError:  # importable, but not installed as a distribution
        version = "litellm's"
    return Result("pricing", Status.PASS, f"$ figures from {version} price map{note}")
