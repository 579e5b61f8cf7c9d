"""The doctor's routing checks: do Claude Code, Codex and the current shell send their requests to this proxy?

A client that is not routed still works — it talks to its provider directly and nothing is saved — so these
checks read the clients' own configuration, the way each client does:

- Claude Code takes `env.ANTHROPIC_BASE_URL` from, highest precedence first, the project's
  `.claude/settings.local.json` (what `headroom wrap claude` writes), the project's `.claude/settings.json`, the
  user's `~/.claude/settings.json` (`$CLAUDE_CONFIG_DIR` moves it); the shell's variable when none sets it.
- Codex uses the provider named by `model_provider` in `$CODEX_HOME/config.toml` (default `~/.codex`): routed when
  that is `headroom` and `[model_providers.headroom]` has `base_url = "http://127.0.0.1:PORT/v1"`; the built-in
  `openai` provider follows the shell's `OPENAI_BASE_URL`.

A URL points at this proxy when its host is loopback (or the doctor's --host), its port is the doctor's, and its
path is what the client appends to: nothing for Anthropic, `/v1` for OpenAI.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from headroom.cli import wrap_claude, wrap_codex
from headroom.cli.doctor_checks import Context, Result, Status

ANTHROPIC, OPENAI = wrap_claude.BASE_URL, wrap_codex.BASE_URL  # the variables `headroom wrap` sets
PATHS = {ANTHROPIC: "", OPENAI: "/v1"}  # the path each client's base URL must have (clients append the rest)


def mismatch(url: str, ctx: Context, path: str) -> str | None:
    """Why `url` does not reach this proxy, or None when it does."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"not a URL ({error})"
    if not parts.hostname:
        return "not a URL"
    if not _is_loopback(parts.hostname) and parts.hostname != ctx.host:
        return f"{parts.hostname} is not this machine's loopback"
    if parts.scheme != "http":
        return f"{parts.scheme or 'no scheme'}, not http (the proxy speaks plain HTTP)"
    if port != ctx.port:
        return f"port {port or 80}, not {ctx.port}"
    if parts.path.rstrip("/") != path:
        return f"path {parts.path or '/'}, not {path or '/'}"
    return None


def _is_loopback(hostname: str) -> bool:
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return hostname == "localhost"


def shown(path: Path) -> str:
    """A path as the user would write it: under the home folder as ~/..., under the current folder relative."""
    bases = [(base, prefix) for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")) if path.is_relative_to(base)]
    if not bases:
        return str(path)
    base, prefix = max(bases, key=lambda found: len(found[0].parts))  # the nearer one: ~/project/.claude is .claude
    return prefix + str(path.relative_to(base))


# --- Claude Code --------------------------------------------------------------------------------------------------


def claude_settings() -> list[Path]:
    """Claude Code's settings files, lowest precedence first; the last is the one `headroom wrap claude` edits."""
    user = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    local = wrap_claude.target()
    return [user / "settings.json", local.parent / "settings.json", local]


def check_claude(ctx: Context) -> Result:
    """Skip when Claude Code is not set up here; warn when what it would use does not reach this proxy."""
    files = claude_settings()
    if not files[0].parent.is_dir() and not any(path.is_file() for path in files[1:]):
        return Result("claude", Status.SKIP, f"Claude Code is not set up here (no {shown(files[0].parent)})")
    hint = f"route it: {ctx.command('headroom', 'wrap', 'claude', host=False)}"
    sources = [("the shell's " + ANTHROPIC, os.environ.get(ANTHROPIC))]
    for path in files:
        try:
            sources.append((shown(path), _settings_env(path).get(ANTHROPIC)))
        except ValueError as error:
            return Result("claude", Status.WARN, f"{shown(path)} is unreadable: {error}", f"fix it, then {hint}")
    return _routed("claude", ctx, [(source, url) for source, url in sources if isinstance(url, str)], ANTHROPIC, hint)


def _settings_env(path: Path) -> dict[str, Any]:
    """The `env` of a settings file; empty when the file is missing. ValueError when it is not a JSON object."""
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(error) from error
    if not isinstance(settings, dict):
        raise ValueError("not a JSON object")
    env = settings.get("env")
    return env if isinstance(env, dict) else {}


def _routed(name: str, ctx: Context, sources: list[tuple[str, str]], variable: str, hint: str) -> Result:
    """Pass when the source with the highest precedence (the last one) points here."""
    if not sources:
        return Result(name, Status.WARN, f"not routed: nothing sets {variable}", hint)
    source, url = sources[-1]
    problem = mismatch(url, ctx, PATHS[variable])
    if problem is None:
        return Result(name, Status.PASS, f"routed here by {source} ({url})")
    return Result(name, Status.WARN, f"{source} sends it to {url}: {problem}", hint)


# --- Codex --------------------------------------------------------------------------------------------------------


def check_codex(ctx: Context) -> Result:
    """Skip when Codex is not set up here; warn when its provider does not reach this proxy. The config is the
    one `headroom wrap codex` edits."""
    config = wrap_codex.target()
    home = config.parent
    if not home.is_dir():
        return Result("codex", Status.SKIP, f"Codex is not set up here (no {shown(home)})")
    hint = f"route it: {ctx.command('headroom', 'wrap', 'codex', host=False)}"
    try:
        document = tomllib.loads(config.read_text(encoding="utf-8")) if config.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return Result("codex", Status.WARN, f"{shown(config)} is unreadable: {error}", f"fix it, then {hint}")
    chosen = document.get("model_provider", "openai")
    providers = document.get("model_providers")
    if chosen == "openai":  # the built-in provider, which follows the shell
        shell = os.environ.get(OPENAI)
        if not shell and isinstance(providers, dict) and "headroom" in providers:
            summary = f"{shown(config)} defines provider 'headroom' but model_provider is not 'headroom'"
            return Result("codex", Status.WARN, summary, hint)
        return _routed("codex", ctx, [("the shell's " + OPENAI, shell)] if shell else [], OPENAI, hint)
    provider = providers.get(chosen) if isinstance(providers, dict) else None
    url = provider.get("base_url") if isinstance(provider, dict) else None
    if not isinstance(url, str):
        return Result("codex", Status.WARN, f"{shown(config)}: provider {chosen!r} has no base_url", hint)
    return _routed("codex", ctx, [(f"{shown(config)} (provider {chosen!r})", url)], OPENAI, hint)


# --- the shell ----------------------------------------------------------------------------------------------------


def check_shell(ctx: Context) -> Result:
    """Skip when the shell sets neither variable (clients use their settings); warn when one points elsewhere:
    every client started from this shell that reads it bypasses this proxy."""
    found = {variable: os.environ[variable] for variable in PATHS if os.environ.get(variable)}
    if not found:
        return Result("shell", Status.SKIP, f"neither {ANTHROPIC} nor {OPENAI} is set")
    problems = [f"{variable}={url}: {problem}" for variable, url in found.items()
                if (problem := mismatch(url, ctx, PATHS[variable])) is not None]  # fmt: skip
    if not problems:
        return Result("shell", Status.PASS, ", ".join(f"{variable}={url}" for variable, url in found.items()))
    hint = f"unset it or point it at {ctx.url}; or start the clients with {ctx.wrap()}"
    return Result("shell", Status.WARN, "; ".join(problems), hint)
