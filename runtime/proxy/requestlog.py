"""The JSONL request log (`--log-file`): one JSON object per line and per request, appended when the request is
over, so a stream's line has its whole latency. The conversation's messages are written only with `--log-messages`:
they hold whatever the user's tools read, and a log is kept and copied more carelessly than a conversation.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.tally import Exchange


class RequestLogFile:
    """Appends lines to a file, one writer at a time (waitress serves requests on many threads)."""

    def __init__(self, path: Path, with_messages: bool) -> None:
        self.path = path
        self.with_messages = with_messages
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, exchange: Exchange, messages: Any) -> None:
        line = json.dumps(entry(exchange, messages if self.with_messages else None), ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line)


def entry(exchange: Exchange, messages: Any) -> dict[str, Any]:
    """A request's line; `messages` only when not None."""
    line = {
        "request_id": exchange.request_id,
        "time": datetime.fromtimestamp(exchange.started, UTC).isoformat(),
        "method": exchange.method,
        "path": exchange.path,
        "provider": exchange.provider or None,
        "model": exchange.model or None,
        "status": exchange.status,
        "tokens_before": exchange.tokens_before,
        "tokens_after": exchange.tokens_after,
        "tokens_saved": exchange.tokens_saved,
        "usage": asdict(exchange.usage),
        "transforms": exchange.transforms,
        "latency_ms": round(exchange.total_ms, 3),
        "overhead_ms": None if exchange.overhead_ms is None else round(exchange.overhead_ms, 3),
        "error": exchange.error,
    }
    return line if messages is None else {**line, "messages": messages}


def request_log(config: ProxyConfig) -> RequestLogFile | None:
    """The log `--log-file` asks for; None without one."""
    return RequestLogFile(config.log_file, config.log_messages) if config.log_file is not None else None
