"""The installed console scripts, run as real processes: each exists, answers --help/--version, and the proxy serves
until SIGTERM (doctor, wrap, savings and perf have test files of their own)."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest
from support.processes import serving

from headroom import __version__


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command", ["headroom", "headroom-compile", "headroom-serve", "headroom-check"])
def test_console_script_is_installed(command: str) -> None:
    assert shutil.which(command), f"{command} is not on PATH: is the package installed?"
    assert run(command, "--help").returncode == 0


def test_versions() -> None:
    assert run("headroom", "--version").stdout.strip() == f"headroom {__version__}"
    assert run("headroom-compile", "--version").stdout.strip() == f"headroom-compile {__version__}"


def test_umbrella_compile_is_headroom_compile(tmp_path) -> None:
    (tmp_path / "p.hrules").write_text('include "default.hrules"\n', encoding="utf-8")
    result = run("headroom", "compile", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "__hrules__" / "p.py").is_file()


@pytest.mark.parametrize("command", [("headroom-serve",), ("headroom", "proxy")])
def test_the_proxy_serves_until_sigterm(command: tuple[str, ...]) -> None:
    with (
        serving(command=command) as port,
        urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=10) as answer,
    ):
        assert answer.status == 200


def test_serve_reports_a_broken_policy(tmp_path) -> None:
    (tmp_path / "p.hrules").write_text("rule a: -> squash\n", encoding="utf-8")
    result = run("headroom-serve", "--rules", str(tmp_path / "p.hrules"))
    assert result.returncode == 1
    assert "p.hrules:1:12: error: unexpected 'squash'" in result.stderr


def test_unknown_subcommand_is_a_usage_error() -> None:
    result = run("headroom", "frobnicate")
    assert result.returncode == 2
    assert "unknown command 'frobnicate'" in result.stderr


@pytest.mark.parametrize(
    ("command", "given"),
    [(("headroom", "wrap", "claude"), "0"), (("headroom", "doctor"), "65536"), (("headroom-serve",), "8787x")],
)
def test_every_port_is_checked_alike(command: tuple[str, ...], given: str) -> None:
    result = run(*command, "--port", given)
    assert result.returncode == 2
    assert f"argument --port: '{given}' is not a port number (1-65535)" in result.stderr
