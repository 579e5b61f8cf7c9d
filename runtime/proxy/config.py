"""What the proxy runs with, and where each setting comes from: a command-line flag, else its environment twin,
else the default.

The environment twins let a service manager or a wrapper configure the proxy without editing its command line;
the upstream URLs keep the names users of headroom-ai already set (`ANTHROPIC_TARGET_API_URL`,
`OPENAI_TARGET_API_URL`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headroom.runtime.home import data_dir
from headroom.runtime.proxy.providers import Provider

MAX_BODY_BYTES = 100 * 1024**2  # a conversation larger than this is a mistake, not a prompt
MAX_MESSAGES = 10_000
BUDGET_PERIODS = ("hourly", "daily", "monthly")


def default_log_file() -> Path:
    """The request log's home, read by `headroom perf`: beside the savings, so `HEADROOM_STORE_PATH` moves it."""
    return data_dir() / "logs" / "requests.jsonl"


@dataclass(frozen=True)
class ProxyConfig:
    host: str = "127.0.0.1"
    port: int = 8787
    rules: Path | None = None  # None: the shipped default policy
    optimize: bool = True  # False: forward every request without compressing it
    # A streaming answer holds its thread for as long as the model writes, so agents running subagents in
    # parallel need many more than waitress's default of 4.
    threads: int = 32
    request_timeout: float = 300.0  # seconds the upstream may stay silent
    connect_timeout: float = 10.0
    retry_max_attempts: int = 3  # attempts in all, the first one included
    compression_timeout: float = 10.0  # seconds compression may take before the original is sent instead
    anthropic_api_url: str = "https://api.anthropic.com"
    openai_api_url: str = "https://api.openai.com"
    max_body_bytes: int = MAX_BODY_BYTES
    max_messages: int = MAX_MESSAGES
    log_file: Path | None = field(default_factory=default_log_file)  # the JSONL request log; None: no log
    log_messages: bool = False  # whether the log has the conversations' messages
    # Required of callers from other machines (header `x-headroom-token`). From the environment only: a flag's
    # value would be visible to every user of the machine in the process list.
    proxy_token: str | None = None
    rpm: int | None = None  # requests per minute per client address; None: no limit
    protect_tool_results: tuple[str, ...] = ()  # tool-name globs whose results are never compressed
    budget: float | None = None  # US dollars the providers may bill per budget period; None: no limit
    budget_period: str = "daily"  # hourly, daily or monthly (calendar periods in UTC)

    def upstream_url(self, provider: Provider) -> str:
        """The provider's base URL, without a trailing slash (request paths are appended to it)."""
        url = self.anthropic_api_url if provider is Provider.ANTHROPIC else self.openai_api_url
        return url.rstrip("/")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The proxy's flags."""
    defaults = ProxyConfig()
    _flag(parser, "--host", "HEADROOM_HOST", str, defaults.host, "address to listen on")
    _flag(parser, "--port", "HEADROOM_PORT", _listen_port, defaults.port, "port to listen on (0: any free port)")
    _flag(parser, "--rules", "HEADROOM_RULES", Path, None, "a .hrules policy file or folder (default: the shipped one)")
    _flag(parser, "--threads", "HEADROOM_THREADS", _positive(int), defaults.threads, "requests served at once")
    _flag(parser, "--request-timeout-seconds", "HEADROOM_REQUEST_TIMEOUT_SECONDS", _positive(float),
          defaults.request_timeout, "how long the upstream may stay silent")  # fmt: skip
    _flag(parser, "--connect-timeout-seconds", "HEADROOM_CONNECT_TIMEOUT_SECONDS", _positive(float),
          defaults.connect_timeout, "how long connecting to the upstream may take")  # fmt: skip
    _flag(parser, "--retry-max-attempts", "HEADROOM_RETRY_MAX_ATTEMPTS", _positive(int), defaults.retry_max_attempts,
          "attempts per request when the upstream is unreachable, times out or answers 429/529")  # fmt: skip
    _flag(parser, "--compression-timeout-seconds", "HEADROOM_COMPRESSION_TIMEOUT_SECONDS", _positive(float),
          defaults.compression_timeout, "compression taking longer sends the original request")  # fmt: skip
    _flag(parser, "--anthropic-api-url", "ANTHROPIC_TARGET_API_URL", str, defaults.anthropic_api_url,
          "the Anthropic upstream")  # fmt: skip
    _flag(parser, "--openai-api-url", "OPENAI_TARGET_API_URL", str, defaults.openai_api_url, "the OpenAI upstream")
    _flag(parser, "--log-file", "HEADROOM_LOG_FILE", Path, defaults.log_file,
          "append a JSON line per request to this file, for `headroom perf`")  # fmt: skip
    _flag(parser, "--rpm", "HEADROOM_RPM", _positive(int), None, "requests per minute per client (default: no limit)")
    _flag(parser, "--protect-tool-results", "HEADROOM_PROTECT_TOOL_RESULTS", _globs, (),
          "comma-separated tool names (globs) whose results are never compressed")  # fmt: skip
    _flag(parser, "--budget", "HEADROOM_BUDGET", _positive(float), None, "US dollars to spend per budget period")
    _flag(parser, "--budget-period", "HEADROOM_BUDGET_PERIOD", _period, defaults.budget_period,
          "hourly, daily or monthly")  # fmt: skip
    _switch(parser, "--no-optimize", "HEADROOM_NO_OPTIMIZE", "forward requests without compressing them")
    _switch(parser, "--no-log-file", "HEADROOM_NO_LOG_FILE", "write no request log")
    _switch(parser, "--log-messages", "HEADROOM_LOG_MESSAGES", "include the messages in the request log")


def from_arguments(args: argparse.Namespace) -> ProxyConfig:
    return ProxyConfig(
        host=args.host,
        port=args.port,
        rules=args.rules,
        optimize=not args.no_optimize,
        threads=args.threads,
        request_timeout=args.request_timeout_seconds,
        connect_timeout=args.connect_timeout_seconds,
        retry_max_attempts=args.retry_max_attempts,
        compression_timeout=args.compression_timeout_seconds,
        anthropic_api_url=args.anthropic_api_url,
        openai_api_url=args.openai_api_url,
        log_file=None if args.no_log_file else args.log_file,
        log_messages=args.log_messages,
        proxy_token=os.environ.get("HEADROOM_PROXY_TOKEN") or None,
        rpm=args.rpm,
        protect_tool_results=args.protect_tool_results,
        budget=args.budget,
        budget_period=args.budget_period,
    )


def _flag(parser: argparse.ArgumentParser, name: str, env: str, kind: Callable[[str], Any], default: Any,
          help: str) -> None:  # fmt: skip
    """A flag whose default is its environment twin when that is set. argparse converts a default given as text
    with the flag's type, so a bad value in the environment is reported like a bad flag."""
    value = os.environ.get(env)
    parser.add_argument(name, type=kind, default=default if value is None else value, help=f"{help} (env {env})")


def _switch(parser: argparse.ArgumentParser, name: str, env: str, help: str) -> None:
    """A flag that is on when given, or when its environment twin is set to anything but nothing, 0, false or no."""
    on = os.environ.get(env, "").lower() not in ("", "0", "false", "no")
    parser.add_argument(name, action="store_true", default=on, help=f"{help} (env {env}=1)")


def _positive(kind: Callable[[str], float]) -> Callable[[str], Any]:
    def convert(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not above 0")
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its message: "invalid int value"
    return convert


def _globs(text: str) -> tuple[str, ...]:
    return tuple(glob.strip() for glob in text.split(",") if glob.strip())


def _period(text: str) -> str:
    if text not in BUDGET_PERIODS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(BUDGET_PERIODS)}")
    return text


def port(text: str) -> int:
    """The argparse type of every command's --port: a port number, 1-65535."""
    if not text.isdigit() or not 0 < int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _listen_port(text: str) -> int:
    """The proxy's --port: a port number, or 0 for any free one (the tests' proxies)."""
    return 0 if text == "0" else port(text)
