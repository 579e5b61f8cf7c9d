"""Codex, wrapped: `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`) gains a `headroom` model provider
pointing at the proxy and selects it, in blocks marked so that a person reading the file knows where they came from.

`model_provider` is a top-level key, so it must come before the first table: its block goes at the top of the file
and the provider's table at the end. A user's own top-level `model_provider` is commented out with a marker while
wrapped (TOML forbids a key twice). The result is checked with tomllib before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from headroom.cli.wrap_edits import EditRefused

BEGIN = "# >>> headroom (added by headroom wrap; removed on exit) >>>"
END = "# <<< headroom <<<"
BASE_URL = "OPENAI_BASE_URL"
DISABLED = "# headroom wrap disabled: "  # before the user's own model_provider line while wrapped
_TABLE = re.compile(r"\s*\[")
_MODEL_PROVIDER = re.compile(r"""\s*(model_provider|"model_provider"|'model_provider')\s*=""")


def target() -> Path:
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser() / "config.toml"


def environment(env: dict[str, str], url: str, project: str) -> dict[str, str]:
    return {**env, BASE_URL: f"{url}/v1"}


def edit(original: str | None, url: str, project: str) -> str:
    text = original or ""
    _parse(text, "is not valid TOML")
    lines = text.splitlines(keepends=True)
    top = next((index for index, line in enumerate(lines) if _TABLE.match(line)), len(lines))
    lines[:top] = [DISABLED + line if _MODEL_PROVIDER.match(line) else line for line in lines[:top]]
    body = "".join(lines)
    if body and not body.endswith("\n"):
        body += "\n"
    provider = [
        "[model_providers.headroom]",
        'name = "headroom"',
        f"base_url = {_string(url + '/v1')}",
        'env_key = "OPENAI_API_KEY"',
        'wire_api = "responses"',
        f"http_headers = {{ {_string('x-headroom-project')} = {_string(project)} }}",
    ]
    edited = _block(['model_provider = "headroom"']) + body + _block(provider)
    config = _parse(edited, "would not be valid TOML with headroom's provider (does it define one already?)")
    if config.get("model_provider") != "headroom" or config["model_providers"]["headroom"]["base_url"] != url + "/v1":
        raise EditRefused(f"{target()}: could not select headroom's provider in it; wrap changed nothing")
    return edited


def take_back(current: str, original: str | None, edited: str) -> str | None:
    """The config changed while wrapped, without headroom's blocks and with the user's model_provider line back.
    None when nothing is left of a file wrap created."""
    kept, inside = [], False
    for line in current.splitlines(keepends=True):
        marker = line.rstrip("\r\n")
        if marker in (BEGIN, END):
            inside = marker == BEGIN
        elif not inside:
            kept.append(line.removeprefix(DISABLED))
    text = "".join(kept)
    return None if original is None and not text.strip() else text


def _block(lines: list[str]) -> str:
    return "\n".join([BEGIN, *lines, END]) + "\n"


def _string(value: str) -> str:
    """A TOML basic string: JSON's escapes are all valid TOML ones."""
    return json.dumps(value)


def _parse(text: str, problem: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise EditRefused(f"{target()} {problem}: {error}") from None
