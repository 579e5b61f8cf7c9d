"""The proxy's settings: a flag, else its environment twin, else the default."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from headroom.runtime.proxy.config import ProxyConfig, add_arguments, from_arguments
from headroom.runtime.proxy.providers import Provider


def parse(argv: list[str]) -> ProxyConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_arguments(parser.parse_args(argv))


def test_defaults() -> None:
    assert parse([]) == ProxyConfig()


def test_environment_twins_and_flags_over_them(monkeypatch) -> None:
    monkeypatch.setenv("HEADROOM_PORT", "9000")
    monkeypatch.setenv("HEADROOM_RETRY_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("HEADROOM_NO_OPTIMIZE", "1")
    monkeypatch.setenv("ANTHROPIC_TARGET_API_URL", "https://gateway.example/anthropic/")
    config = parse(["--port", "9001", "--rules", "rules/x.hrules", "--request-timeout-seconds", "30"])
    assert (config.port, config.retry_max_attempts, config.optimize) == (9001, 5, False)
    assert (config.rules, config.request_timeout) == (Path("rules/x.hrules"), 30.0)
    assert config.upstream_url(Provider.ANTHROPIC) == "https://gateway.example/anthropic"
    assert config.upstream_url(Provider.OPENAI) == "https://api.openai.com"


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--threads", "0"], ["--connect-timeout-seconds", "-1"]])
def test_bad_values_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse(argv)


def test_a_bad_environment_value_is_a_usage_error(monkeypatch) -> None:
    monkeypatch.setenv("HEADROOM_PORT", "eighty")
    with pytest.raises(SystemExit):
        parse([])


def test_the_request_log_is_on_by_default_beside_the_savings(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEADROOM_STORE_PATH", str(tmp_path / "store.db"))
    assert parse([]).log_file == tmp_path / "logs" / "requests.jsonl"
    assert parse(["--log-file", "x.jsonl"]).log_file == Path("x.jsonl")
    assert parse(["--no-log-file"]).log_file is None
    monkeypatch.setenv("HEADROOM_NO_LOG_FILE", "1")
    assert parse([]).log_file is None
