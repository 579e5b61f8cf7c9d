"""Claude Code, wrapped: its environment and its project-local settings point it at the proxy.

The environment alone would do for the process wrap starts; the settings file (`.claude/settings.local.json` in the
current folder, whose `env` Claude Code applies to its sessions) also covers what that process starts in turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headroom.cli.wrap_edits import EditRefused

BASE_URL = "ANTHROPIC_BASE_URL"


def target() -> Path:
    return Path.cwd() / ".claude" / "settings.local.json"


def environment(env: dict[str, str], url: str, project: str) -> dict[str, str]:
    """The client's environment. Tool search stays on unless the user chose: with a custom base URL Claude Code
    otherwise loads every tool's schema up front, the very context the proxy is there to save."""
    return {
        "ENABLE_TOOL_SEARCH": "true",
        "ANTHROPIC_CUSTOM_HEADERS": f"x-headroom-project: {project}",
        **env,
        BASE_URL: url,
    }


def edit(original: str | None, url: str, project: str) -> str:
    """The settings with `env.ANTHROPIC_BASE_URL` set to the proxy, everything else as it was."""
    settings = _parse(original, target())
    env = settings.setdefault("env", {})
    if not isinstance(env, dict):
        raise EditRefused(f'{target()}: "env" is not an object; fix it, then wrap again')
    env[BASE_URL] = url
    return _dump(settings)


def take_back(current: str, original: str | None, edited: str) -> str | None:
    """Settings changed while wrapped, without headroom's base URL: the user's own value comes back, or the key
    goes (with `env`, if wrap added it). None when nothing is left of a file wrap created."""
    try:
        settings = _parse(current, target())
    except EditRefused:
        return current  # broken by someone else since: not ours to guess at
    before = _parse(original, target())
    env = settings.get("env")
    if isinstance(env, dict) and env.get(BASE_URL) == json.loads(edited)["env"][BASE_URL]:
        if BASE_URL in before.get("env", {}):
            env[BASE_URL] = before["env"][BASE_URL]
        else:
            del env[BASE_URL]
        if not env and "env" not in before:
            del settings["env"]
    return None if original is None and not settings else _dump(settings)


def _parse(text: str | None, path: Path) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        settings = json.loads(text)
    except ValueError as error:
        raise EditRefused(f"{path} is not valid JSON ({error}); fix it, then wrap again") from None
    if not isinstance(settings, dict):
        raise EditRefused(f"{path} is not a JSON object; fix it, then wrap again")
    return settings


def _dump(settings: dict[str, Any]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
