"""`headroom wrap` and `headroom unwrap` as real processes: a real proxy on a free port, stand-in clients that report
what they were given, and the user's config files compared byte for byte afterwards."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import tomllib
from collections.abc import Iterator

import pytest
from support.wrapping import WAIT, Sandbox, answers, report, wait_for

CODEX_CONFIG = b'# my codex settings\r\nmodel = "o3"\r\n\r\n[tui]\r\nnotifications = true'  # CRLF, no final newline
CLAUDE_SETTINGS = b'{"permissions": {"allow": ["Bash(ls)"]},\n   "env": {"FOO": "bar"}}'


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    sandbox = Sandbox.create(tmp_path)
    yield sandbox
    sandbox.stop_proxies()


def test_claude_gets_the_proxy_in_its_environment_and_settings(sandbox: Sandbox) -> None:
    sandbox.claude_settings.parent.mkdir()
    sandbox.claude_settings.write_bytes(CLAUDE_SETTINGS)
    result = sandbox.run("wrap", "claude", "--port", str(sandbox.port), "-p", "hello world", STAND_IN_DO="exit:3")
    assert result.returncode == 3, result.stderr
    said = report(result.stdout)
    url = f"http://127.0.0.1:{sandbox.port}"
    assert said["argv"] == ["-p", "hello world"]
    assert said["env"]["ANTHROPIC_BASE_URL"] == url
    assert said["env"]["ENABLE_TOOL_SEARCH"] == "true"
    assert said["env"]["ANTHROPIC_CUSTOM_HEADERS"] == "x-headroom-project: myproject"
    during = json.loads(said["config"])
    assert during == {"permissions": {"allow": ["Bash(ls)"]}, "env": {"FOO": "bar", "ANTHROPIC_BASE_URL": url}}
    assert sandbox.claude_settings.read_bytes() == CLAUDE_SETTINGS


def test_claude_keeps_what_the_user_set(sandbox: Sandbox) -> None:
    result = sandbox.run(
        "wrap", "--port", str(sandbox.port), "claude", ENABLE_TOOL_SEARCH="false", ANTHROPIC_CUSTOM_HEADERS="x-a: b"
    )
    assert result.returncode == 0, result.stderr
    env = report(result.stdout)["env"]
    assert (env["ENABLE_TOOL_SEARCH"], env["ANTHROPIC_CUSTOM_HEADERS"]) == ("false", "x-a: b")


def test_claude_settings_wrap_created_are_removed_with_their_folder(sandbox: Sandbox) -> None:
    result = sandbox.run("wrap", "claude", "--port", str(sandbox.port))
    assert result.returncode == 0, result.stderr
    assert json.loads(report(result.stdout)["config"]) == {
        "env": {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{sandbox.port}"}
    }
    assert not (sandbox.project / ".claude").exists()


@pytest.mark.parametrize(
    "original",
    [CODEX_CONFIG, None, b'model_provider = "azure"\nmodel = "o3"\n\n[model_providers.azure]\nname = "Azure"\n'],
    ids=["existing", "missing", "own-model-provider"],
)
def test_codex_gets_a_headroom_provider_and_its_config_back(sandbox: Sandbox, original: bytes | None) -> None:
    if original is not None:
        sandbox.codex_config.parent.mkdir()
        sandbox.codex_config.write_bytes(original)
    result = sandbox.run("wrap", "codex", "--port", str(sandbox.port), "exec", "--json", STAND_IN_DO="exit:5")
    assert result.returncode == 5, result.stderr
    said = report(result.stdout)
    url = f"http://127.0.0.1:{sandbox.port}/v1"
    assert said["argv"] == ["exec", "--json"]
    assert said["env"]["OPENAI_BASE_URL"] == url
    during = tomllib.loads(said["config"])
    assert during["model_provider"] == "headroom"
    assert during["model_providers"]["headroom"] == {
        "name": "headroom",
        "base_url": url,
        "env_key": "OPENAI_API_KEY",
        "wire_api": "responses",
        "http_headers": {"x-headroom-project": "myproject"},
    }
    assert "[model_providers.headroom]" in said["config"]
    if original is None:
        assert not sandbox.codex_config.parent.exists()
    else:
        assert sandbox.codex_config.read_bytes() == original
        assert during["model"] == "o3"


@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 128 + 15), ("SIGKILL", 128 + 9)])
def test_a_client_killed_by_a_signal_gives_128_plus_its_number(sandbox: Sandbox, signame: str, code: int) -> None:
    sandbox.codex_config.parent.mkdir()
    sandbox.codex_config.write_bytes(CODEX_CONFIG)
    result = sandbox.run("wrap", "codex", "--port", str(sandbox.port), STAND_IN_DO=f"kill:{signame}")
    assert result.returncode == code, result.stderr
    assert sandbox.codex_config.read_bytes() == CODEX_CONFIG


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_to_wrap_reach_the_client(sandbox: Sandbox, signum: signal.Signals) -> None:
    wrapped = sandbox.start("wrap", "wrap", "codex", "--port", str(sandbox.port))
    wrapped.process.send_signal(signum)
    # Not released: a stand-in released while the signal is still on its way would exit, and a signal arriving
    # as a Python process exits meets the default action. Without the signal it gives up waiting and exits 0.
    stdout, stderr = wrapped.process.communicate(timeout=WAIT * 2)
    code = wrapped.process.returncode
    assert f"stand-in: got {signum.name}" in stdout, (code, stderr)
    assert code == 42, stderr  # the client's own exit code after handling it
    assert not sandbox.codex_config.exists()


def test_a_wrap_killed_with_sigkill_is_undone_by_unwrap(sandbox: Sandbox) -> None:
    sandbox.codex_config.parent.mkdir()
    sandbox.codex_config.write_bytes(CODEX_CONFIG)
    wrapped = sandbox.start("wrap", "wrap", "codex", "--port", str(sandbox.port))
    wrapped.process.kill()
    wrapped.process.wait(timeout=WAIT)
    assert b"[model_providers.headroom]" in sandbox.codex_config.read_bytes()  # SIGKILL leaves the edit
    wrapped.finish()  # the orphaned client exits
    undone = sandbox.run("unwrap", "codex")
    assert undone.returncode == 0, undone.stderr
    assert f"restored {sandbox.codex_config}" in undone.stdout
    assert f"stopped the proxy at http://127.0.0.1:{sandbox.port}" in undone.stdout
    assert sandbox.codex_config.read_bytes() == CODEX_CONFIG
    assert not answers(sandbox.port) and not list(sandbox.data.glob("wrap/port-*/*"))  # no proxy, lease or record
    again = sandbox.run("unwrap", "codex")
    assert (again.returncode, again.stdout.strip()) == (0, "headroom unwrap: nothing to undo for codex")


def test_a_wrap_killed_while_its_proxy_starts_leaves_it_on_record(sandbox: Sandbox) -> None:
    sandbox.data.mkdir()
    store = sqlite3.connect(sandbox.data / "store.db", isolation_level=None)
    store.execute("begin exclusive")  # the proxy waits for its store, so it is not ready while the test holds it
    wrapping = subprocess.Popen(
        ["headroom", "wrap", "codex", "--port", str(sandbox.port)], cwd=sandbox.project, env=sandbox.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    record = sandbox.data / "wrap" / f"port-{sandbox.port}" / "proxy.pid"
    try:
        wait_for(record.exists, "the starting proxy to be on record")
    finally:
        wrapping.kill()
        wrapping.wait(timeout=WAIT)
        store.close()
    undone = sandbox.run("unwrap", "codex")
    assert undone.returncode == 0, undone.stderr
    assert f"stopped the proxy at http://127.0.0.1:{sandbox.port}" in undone.stdout
    assert not record.exists() and not answers(sandbox.port)


def test_the_next_wrap_undoes_what_a_killed_one_left(sandbox: Sandbox) -> None:
    sandbox.claude_settings.parent.mkdir()
    sandbox.claude_settings.write_bytes(CLAUDE_SETTINGS)
    wrapped = sandbox.start("wrap", "wrap", "claude", "--port", str(sandbox.port))
    wrapped.process.kill()
    wrapped.process.wait(timeout=WAIT)
    wrapped.finish()
    result = sandbox.run("wrap", "claude", "--port", str(sandbox.port))
    assert result.returncode == 0, result.stderr
    assert "left by a wrap that did not exit cleanly" in result.stderr
    assert "using the proxy" in result.stderr  # the killed wrap's proxy, stopped now that its family is done
    assert sandbox.claude_settings.read_bytes() == CLAUDE_SETTINGS
    wait_for(lambda: not answers(sandbox.port), "the proxy to stop")


def test_a_missing_client_is_named_and_nothing_is_edited(sandbox: Sandbox) -> None:
    sandbox.codex_config.parent.mkdir()
    sandbox.codex_config.write_bytes(CODEX_CONFIG)
    (sandbox.root / "bin" / "codex").unlink()
    result = sandbox.run("wrap", "codex", "--port", str(sandbox.port))
    assert result.returncode == 127
    assert "'codex' was not found on PATH" in result.stderr
    assert sandbox.codex_config.read_bytes() == CODEX_CONFIG
    assert not sandbox.data.exists()


@pytest.mark.parametrize(
    ("client", "text", "problem"),
    [
        ("claude", b"{not json", "is not valid JSON"),
        ("codex", b"model = \n", "is not valid TOML"),
        ("codex", b'[model_providers.headroom]\nname = "mine"\n', "would not be valid TOML with headroom's provider"),
    ],
)
def test_a_config_wrap_cannot_edit_is_reported_and_left_alone(
    sandbox: Sandbox, client: str, text: bytes, problem: str
) -> None:
    path = sandbox.claude_settings if client == "claude" else sandbox.codex_config
    path.parent.mkdir()
    path.write_bytes(text)
    result = sandbox.run("wrap", client, "--port", str(sandbox.port))
    assert result.returncode == 1
    assert problem in result.stderr
    assert "Traceback" not in result.stderr
    assert '{"argv"' not in result.stdout  # the client never ran
    assert path.read_bytes() == text
    assert "the proxy" not in result.stderr  # refused before a proxy was started (and stopped again)
    assert not (sandbox.data / "logs" / f"proxy-{sandbox.port}.log").exists()


def test_a_port_another_program_holds_is_reported(sandbox: Sandbox) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", sandbox.port))
        holder.listen()
        result = sandbox.run("wrap", "claude", "--port", str(sandbox.port))
    assert result.returncode == 1
    assert f"the proxy on port {sandbox.port} exited with code 1" in result.stderr
    assert "Address already in use" in result.stderr
    assert not (sandbox.project / ".claude").exists()


def test_a_proxy_already_running_is_used_and_left_running(sandbox: Sandbox) -> None:
    proxy = subprocess.Popen(
        ["headroom-serve", "--port", str(sandbox.port)], env=sandbox.env, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: answers(sandbox.port), "the user's proxy to answer")
        result = sandbox.run("wrap", "codex", "--port", str(sandbox.port))
        assert result.returncode == 0, result.stderr
        assert "using the proxy" in result.stderr
        assert proxy.poll() is None and answers(sandbox.port)
    finally:
        proxy.terminate()
        proxy.wait(timeout=WAIT)


def test_wraps_share_the_proxy_they_started_and_the_last_one_stops_it(sandbox: Sandbox) -> None:
    first = sandbox.start("first", "wrap", "codex", "--port", str(sandbox.port))
    second = sandbox.start("second", "wrap", "claude", "--port", str(sandbox.port))
    code, _, stderr = first.finish()
    assert code == 0, stderr
    assert "started the proxy" in stderr
    assert not sandbox.codex_config.exists()
    assert answers(sandbox.port)  # the second wrap still holds it
    code, _, stderr = second.finish()
    assert code == 0, stderr
    assert "using the proxy" in stderr and "stopped the proxy" in stderr
    assert not answers(sandbox.port)
    assert (sandbox.data / "logs" / f"proxy-{sandbox.port}.log").stat().st_size > 0


def test_two_codex_wraps_share_the_config_edit(sandbox: Sandbox) -> None:
    sandbox.codex_config.parent.mkdir()
    sandbox.codex_config.write_bytes(CODEX_CONFIG)
    first = sandbox.start("first", "wrap", "codex", "--port", str(sandbox.port))
    second = sandbox.start("second", "wrap", "codex", "--port", str(sandbox.port))
    assert first.finish()[0] == 0
    assert b"[model_providers.headroom]" in sandbox.codex_config.read_bytes()  # the second still runs with it
    assert second.finish()[0] == 0
    assert sandbox.codex_config.read_bytes() == CODEX_CONFIG


def test_unwrap_with_nothing_to_undo(sandbox: Sandbox) -> None:
    result = sandbox.run("unwrap", "claude")
    assert (result.returncode, result.stdout.strip()) == (0, "headroom unwrap: nothing to undo for claude")


def test_headroom_serve_wrap_is_headroom_wrap(sandbox: Sandbox) -> None:
    result = subprocess.run(
        ["headroom-serve", "wrap", "codex", "--port", str(sandbox.port), "--version"],
        cwd=sandbox.project, env=sandbox.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert report(result.stdout)["argv"] == ["--version"]


def test_headroom_proxy_is_only_the_proxy(sandbox: Sandbox) -> None:
    result = sandbox.run("proxy", "unwrap", "claude")
    assert result.returncode == 2
    assert "unrecognized arguments: unwrap claude" in result.stderr
