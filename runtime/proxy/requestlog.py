"""The JSONL request log (`--log-file`, by default `~/.headroom/logs/requests.jsonl`): one JSON object per line and
per request, appended when the request is over, so a stream's line has its whole latency. `headroom perf` reads it:
each line has the request's blocks grouped by tool and content kind, with their tokens and the milliseconds the
engine spent on them.

The conversation's messages are written only with `--log-messages`: they hold whatever the user's tools read, and a
log is kept and copied more carelessly than a conversation. Past `MAX_BYTES` the log is renamed to `<name>.1`
(replacing the one before) and a new one started, so it never holds more than twice that.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from headroom.runtime.engine import BlockRecord
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.tally import Exchange

MAX_BYTES = 50 * 1024**2
RECHECK_SECONDS = 1.0  # how often the open file is compared with the path


def rotated(path: Path) -> Path:
    """Where the log's previous part is kept."""
    return path.with_name(path.name + ".1")


class RequestLogFile:
    """Appends lines to a file, one writer at a time (waitress serves requests on many threads).

    The file stays open between requests. Another process may rotate or remove it (a second proxy writing the same
    default log, a user clearing logs): at most once a second the path is compared with the open file, and the
    file opened again when they differ, so lines never go on landing in a file that was renamed away."""

    def __init__(self, path: Path, with_messages: bool, max_bytes: int = MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.path = path
        self.with_messages = with_messages
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        self._checked = 0.0  # when the path was last compared with the open file, by `clock`

    def write(self, exchange: Exchange, messages: Any) -> None:
        """Append the request's line (`OSError` when the file cannot be written: the caller warns and serves on)."""
        line = json.dumps(entry(exchange, messages if self.with_messages else None), ensure_ascii=False) + "\n"
        with self._lock:
            file = self._open()
            size = os.fstat(file.fileno()).st_size
            if size and size + len(line.encode()) > self.max_bytes:
                file = self._rotate(file)
            file.write(line)
            file.flush()

    def _rotate(self, file: TextIO) -> TextIO:
        """The new file to write, after renaming the full one, unless another process did that already: then the
        open file is no longer the path, and renaming the path would put the other's new log over the old one."""
        ours = self._still_the_path(file)
        self.close()
        if ours:
            with contextlib.suppress(FileNotFoundError):  # renamed meanwhile after all
                os.replace(self.path, rotated(self.path))
        return self._open()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self) -> TextIO:
        now = self._clock()
        if self._file is not None and now - self._checked >= RECHECK_SECONDS:
            self._checked = now
            if not self._still_the_path(self._file):
                self.close()
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
            self._checked = now
        return self._file

    def _still_the_path(self, file: TextIO) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(file.fileno()).st_ino
        except FileNotFoundError:
            return False


def entry(exchange: Exchange, messages: Any) -> dict[str, Any]:
    """A request's line; `messages` only when not None."""
    line = {
        "request_id": exchange.request_id,
        "time": datetime.fromtimestamp(exchange.started, UTC).isoformat(),
        "method": exchange.method,
        "path": exchange.path,
        "provider": exchange.provider or None,
        "model": exchange.model or None,
        "client": exchange.client or None,
        "status": exchange.status,
        "tokens_before": exchange.tokens_before,
        "tokens_after": exchange.tokens_after,
        "tokens_saved": exchange.tokens_saved,
        "usage": asdict(exchange.usage),
        "transforms": exchange.transforms,
        "latency_ms": round(exchange.total_ms, 3),
        "overhead_ms": None if exchange.overhead_ms is None else round(exchange.overhead_ms, 3),
        "error": exchange.error,
        "blocks": block_groups(exchange.blocks),
    }
    return line if messages is None else {**line, "messages": messages}


def block_groups(blocks: Iterable[BlockRecord]) -> list[dict[str, Any]]:
    """A request's blocks grouped by (tool, kind), in the order first seen: a line stays short however long the
    conversation. "" is no tool's result, or a kind nothing detected."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for block in blocks:
        group = groups.setdefault(
            (block.tool, block.kind),
            {"tool": block.tool, "kind": block.kind, "blocks": 0, "tokens_before": 0, "tokens_after": 0, "ms": 0.0},
        )
        group["blocks"] += 1
        group["tokens_before"] += block.tokens_before
        group["tokens_after"] += block.tokens_after
        group["ms"] += block.ms
    return [{**group, "ms": round(group["ms"], 3)} for group in groups.values()]


def request_log(config: ProxyConfig) -> RequestLogFile | None:
    """The log `--log-file` asks for; None without one."""
    return RequestLogFile(config.log_file, config.log_messages) if config.log_file is not None else None
