"""`headroom doctor`, run as a real process against real proxies in a temporary HOME: nothing running, running
but unrouted, fully routed with savings, version drift, stale rules. Every --json answer is checked against the
schema, and every command its hints name is parsed with the real command-line parsers."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from support.processes import free_port, serving

from headroom import __version__
from headroom.cli import compile, doctor, serve, wrap
from headroom.runtime import policy

SCHEMA = {
    "type": "object",
    "required": ["port", "installed_version", "exit_code", "checks"],
    "additionalProperties": False,
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "installed_version": {"const": __version__},
        "exit_code": {"enum": [0, 1, 2]},
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "status", "summary", "hint"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "status": {"enum": ["pass", "warn", "fail", "skip"]},
                    "summary": {"type": "string", "minLength": 1},
                    "hint": {"type": ["string", "null"]},
                },
            },
        },
    },
}
PARSERS = {
    ("headroom", "doctor"): doctor.build_parser,
    ("headroom", "compile"): compile.build_parser,
    ("headroom", "proxy"): serve.build_parser,
    ("headroom", "wrap"): wrap.build_wrap_parser,
    ("headroom", "unwrap"): wrap.build_unwrap_parser,
    ("headroom-check", "doctor"): doctor.build_parser,
    ("headroom-serve",): serve.build_parser,
    ("headroom-compile",): compile.build_parser,
}
CLEARED = ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "HEADROOM_PORT", "HEADROOM_RULES", "HEADROOM_NO_OPTIMIZE",
           "CODEX_HOME", "CLAUDE_CONFIG_DIR")  # fmt: skip


class Setup:
    """A user: a temporary HOME (with headroom's data in it) and a project folder to run the doctor in."""

    def __init__(self, root: Path) -> None:
        self.home, self.project = root / "home", root / "project"
        self.home.mkdir()
        self.project.mkdir()
        self.env = {key: value for key, value in os.environ.items() if key not in CLEARED}
        self.env.update(HOME=str(self.home), HEADROOM_STORE_PATH=str(self.home / ".headroom" / "ccr_store.db"))

    def write(self, relative: str, text: str) -> Path:
        """Write a file under the home folder (`~/...`) or the project."""
        path = self.home / relative[2:] if relative.startswith("~/") else self.project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def route_claude(self, port: int, where: str = ".claude/settings.local.json") -> None:
        (self.home / ".claude").mkdir(exist_ok=True)
        self.write(where, json.dumps({"env": {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}}))

    def route_codex(self, port: int, where: str = "~/.codex/config.toml") -> None:
        provider = f'[model_providers.headroom]\nname = "headroom"\nbase_url = "http://127.0.0.1:{port}/v1"\n'
        self.write(where, f'model_provider = "headroom"\n\n{provider}')

    def seed_savings(self, requests: int = 3, saved: int = 12_000) -> None:
        last = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        totals = {"requests": requests, "tokens_before": 2 * saved, "tokens_after": saved, "tokens_saved": saved,
                  "last_request": last}  # fmt: skip
        self.write("~/.headroom/savings.json", json.dumps(totals))

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, cwd=self.project, env=self.env, timeout=60)

    def doctor(self, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
        """`headroom doctor --json ARGS`: its exit code and its checks by name, after checking the answer."""
        result = self.run("headroom", "doctor", "--json", *args)
        assert "Traceback" not in result.stderr, result.stderr
        answer = json.loads(result.stdout)
        jsonschema.validate(answer, SCHEMA)
        assert answer["exit_code"] == result.returncode
        for check in answer["checks"]:
            assert (check["hint"] is not None) == (check["status"] in ("warn", "fail")), check
            if check["hint"] is not None:
                assert_commands_parse(check["hint"])
        return result.returncode, {check["name"]: check for check in answer["checks"]}


def assert_commands_parse(hint: str) -> None:
    """Every hint names at least one command in backticks, and each parses with the real parser of its program
    (after any leading VARIABLE=value assignments)."""
    commands = re.findall(r"`([^`]+)`", hint)
    assert commands, f"no command in the hint: {hint}"
    for command in commands:
        words = shlex.split(command)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words.pop(0)
        program = next((key for key in PARSERS if tuple(words[: len(key)]) == key), None)
        assert program is not None, f"not a headroom command: {command}"
        try:
            PARSERS[program](" ".join(program)).parse_args(words[len(program) :])
        except SystemExit:
            pytest.fail(f"the hint's command does not parse: {command}")


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


@pytest.fixture
def user(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One proxy for the module (with its own HOME: it reads nothing of the users'), running the shipped rules."""
    own = Setup(tmp_path_factory.mktemp("proxy"))
    with serving(env=own.env) as port:
        yield port


# --- the proxy ----------------------------------------------------------------------------------------------------


def test_nothing_running_fails_with_the_command_that_starts_it(user: Setup) -> None:
    port = free_port()
    code, checks = user.doctor("--port", str(port))
    assert code == 2
    assert checks["proxy"]["status"] == "fail"
    assert f"`headroom-serve --port {port}`" in checks["proxy"]["hint"]
    assert statuses(checks)["version"] == statuses(checks)["budget"] == "skip"
    assert statuses(checks)["claude"] == statuses(checks)["codex"] == "skip"  # neither client is installed


def test_a_proxy_on_another_port_is_named(user: Setup, proxy: int) -> None:
    user.env["HEADROOM_PORT"] = str(proxy)
    code, checks = user.doctor("--port", str(free_port()))
    assert code == 2
    assert f"`headroom doctor --port {proxy}`" in checks["proxy"]["hint"]


def test_the_text_view_marks_each_check_and_counts(user: Setup) -> None:
    result = user.run("headroom-check", "doctor", "--port", str(free_port()))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert any(line.startswith("✗ proxy") for line in lines)
    assert any(line.startswith("· claude") for line in lines)
    assert any(line.startswith("✓ store") for line in lines)
    assert lines[-1] == "1 failure(s), 1 warning(s)"  # the proxy is down; nothing went through it yet


def test_headroom_check_passes_everything_after_the_check_to_it(user: Setup) -> None:
    """`--` before the check is argparse's end of options, not a reason to run nothing."""
    result = user.run("headroom-check", "--", "doctor", "--json", "--port", str(free_port()))
    assert result.returncode == 2
    assert json.loads(result.stdout)["exit_code"] == 2
    help_text = user.run("headroom-check", "doctor", "--help")
    assert (help_text.returncode, help_text.stdout.startswith("usage: headroom-check doctor")) == (0, True)


def test_headroom_check_without_a_check_is_a_usage_error(user: Setup) -> None:
    result = user.run("headroom-check")
    assert result.returncode == 2
    assert "the following arguments are required: check" in result.stderr


def test_a_proxy_of_another_version_with_its_budget_spent(user: Setup) -> None:
    """A stand-in answering /livez and /health like a proxy of version 0.0.1 running the user's uncompiled rules
    (compiled in memory), whose daily budget is spent."""
    rules = user.write("p.hrules", 'include "default.hrules"\n')
    router = policy.load_router(rules)
    budget = {"limit": 5.0, "period": "daily", "spent": 5.0, "remaining": 0.0}
    health = {"status": "ok", "version": "0.0.1", "optimize": True, "upstreams": {}, "budget": budget,
              "rules": {"path": str(router.entry), "hash": router.module.SOURCE_HASH}}  # fmt: skip
    with answering({"/livez": {"status": "ok"}, "/health": health}) as port:
        user.seed_savings()
        code, checks = user.doctor("--port", str(port))
    assert code == 1
    assert checks["proxy"]["status"] == "pass"
    assert checks["version"]["status"] == "warn"
    assert "0.0.1" in checks["version"]["summary"] and __version__ in checks["version"]["summary"]
    assert f"`headroom-serve --rules {router.entry} --port {port}`" in checks["version"]["hint"]
    assert checks["rules"]["status"] == "warn" and "missing" in checks["rules"]["summary"]
    assert checks["budget"]["status"] == "warn"
    assert "$5.00 of $5.00 spent this daily period" in checks["budget"]["summary"]


# --- routing ------------------------------------------------------------------------------------------------------


def test_running_but_unrouted_warns(user: Setup, proxy: int) -> None:
    (user.home / ".claude").mkdir()
    user.write("~/.codex/config.toml", 'model = "gpt-5"\n')
    user.seed_savings()
    code, checks = user.doctor("--port", str(proxy))
    assert code == 1
    assert checks["claude"]["status"] == checks["codex"]["status"] == "warn"
    assert f"`headroom wrap claude --port {proxy}`" in checks["claude"]["hint"]
    assert f"`headroom wrap codex --port {proxy}`" in checks["codex"]["hint"]


def test_fully_routed_with_savings_passes(user: Setup, proxy: int) -> None:
    user.route_claude(proxy)
    user.route_codex(proxy)
    user.seed_savings(requests=3, saved=12_000)
    code, checks = user.doctor("--port", str(proxy))
    assert code == 0, checks
    assert {name for name, status in statuses(checks).items() if status != "pass"} <= {"shell", "budget"}
    assert checks["budget"]["status"] in ("pass", "skip")  # no budget set; skipped while /health does not report it
    assert "12,000 tokens saved" in checks["savings"]["summary"]
    assert "5 minutes ago" in checks["savings"]["summary"]
    assert user.run("headroom", "doctor", "--port", str(proxy)).stdout.splitlines()[-1] == "all checks passed"


def test_codex_home_under_the_home_folder_is_the_config_wrap_edits(user: Setup) -> None:
    """`CODEX_HOME=~/...` is where `headroom wrap codex` writes (it expands the ~), so the doctor reads there too."""
    port = free_port()
    user.env["CODEX_HOME"] = "~/codex"
    user.route_codex(port, where="~/codex/config.toml")
    _, checks = user.doctor("--port", str(port))
    assert checks["codex"]["status"] == "pass", checks["codex"]
    assert "~/codex/config.toml" in checks["codex"]["summary"]


@pytest.mark.parametrize(
    ("user_file", "project_file", "expected"),
    [("here", "elsewhere", "warn"), ("elsewhere", "here", "pass"), ("here", None, "pass")],
)
def test_the_project_settings_win_over_the_users(
    user: Setup, proxy: int, user_file: str, project_file: str | None, expected: str
) -> None:
    ports = {"here": proxy, "elsewhere": free_port()}
    user.route_claude(ports[user_file], "~/.claude/settings.json")
    if project_file is not None:
        user.route_claude(ports[project_file], ".claude/settings.local.json")
    _, checks = user.doctor("--port", str(proxy))
    assert checks["claude"]["status"] == expected, checks["claude"]


def test_broken_configuration_and_a_misrouting_shell_warn(user: Setup, proxy: int) -> None:
    user.write("~/.claude/settings.json", '{"env": {')
    user.write("~/.codex/config.toml", "model_provider = \n")
    user.env["OPENAI_BASE_URL"] = "https://api.openai.com/v1"
    code, checks = user.doctor("--port", str(proxy))
    assert code == 1
    assert "unreadable" in checks["claude"]["summary"] and "unreadable" in checks["codex"]["summary"]
    assert checks["shell"]["status"] == "warn"
    assert "api.openai.com is not this machine's loopback" in checks["shell"]["summary"]


# --- rules --------------------------------------------------------------------------------------------------------


def test_stale_rules_warn_until_compiled(user: Setup) -> None:
    rules = user.write("p.hrules", 'include "default.hrules"\n')
    assert user.run("headroom-compile", str(rules)).returncode == 0
    with serving("--rules", str(rules), env=user.env) as port:
        rules.write_text('include "default.hrules"\n# edited after compiling\n', encoding="utf-8")
        _, checks = user.doctor("--port", str(port))
    assert checks["rules"]["status"] == "warn"
    assert "stale" in checks["rules"]["summary"]
    assert f"`headroom-compile {rules}`" in checks["rules"]["hint"]
    assert user.run("headroom-compile", str(rules)).returncode == 0
    _, checks = user.doctor("--port", str(free_port()), "--rules", str(rules))
    assert checks["rules"]["status"] == "pass", checks["rules"]


def test_rules_the_proxy_does_not_run_warn(user: Setup, proxy: int) -> None:
    rules = user.write("p.hrules", 'include "default.hrules"\n')
    assert user.run("headroom-compile", str(rules)).returncode == 0
    _, checks = user.doctor("--port", str(proxy), "--rules", str(rules))
    assert checks["rules"]["status"] == "warn"
    assert "the proxy runs other rules" in checks["rules"]["summary"]
    assert f"--rules {rules}" in checks["rules"]["hint"]


def test_missing_rules_fail(user: Setup) -> None:
    code, checks = user.doctor("--port", str(free_port()), "--rules", str(user.project / "none.hrules"))
    assert code == 2
    assert checks["rules"]["status"] == "fail"
    assert "no such file or folder" in checks["rules"]["summary"]


# --- the store ----------------------------------------------------------------------------------------------------


def test_a_store_that_cannot_be_created_fails(user: Setup) -> None:
    blocker = user.write("not-a-folder", "a file where the store's folder should be\n")
    user.env["HEADROOM_STORE_PATH"] = str(blocker / "ccr_store.db")
    code, checks = user.doctor("--port", str(free_port()))
    assert code == 2
    assert checks["store"]["status"] == "fail"
    assert str(blocker / "ccr_store.db") in checks["store"]["summary"]


# --- usage --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--port", "nope"], ["--port", "70000"], ["--frobnicate"]])
def test_bad_arguments_are_usage_errors(user: Setup, args: list[str]) -> None:
    result = user.run("headroom", "doctor", *args)
    assert result.returncode == 2
    assert "headroom doctor: error:" in result.stderr
    assert "Traceback" not in result.stderr


# --- a stand-in for a proxy of another version -----------------------------------------------------------------------


@contextmanager
def answering(answers: dict[str, Any]) -> Iterator[int]:
    """An HTTP server on loopback answering GETs of the given paths with the given JSON; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(answers.get(self.path, {})).encode()
            self.send_response(200 if self.path in answers else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
