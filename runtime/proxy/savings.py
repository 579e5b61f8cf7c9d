"""Lifetime savings: what the proxy has saved across all its runs, kept in `~/.headroom/savings.json`.

The file is replaced whole (written to a temporary file in the same folder, then renamed over it), so a crash or a
second proxy never leaves half a file. It is written at most once a second, the last changes at most a second
after they happen, and once more when the proxy stops. It lives beside the reversible store, so
`HEADROOM_STORE_PATH` moves both (a test, or a user keeping headroom's data elsewhere).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headroom.runtime.files import write_atomically
from headroom.runtime.home import data_dir

log = logging.getLogger(__name__)
THROTTLE = 1.0  # seconds between writes


@dataclass
class Lifetime:
    requests: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    tokens_saved: int = 0
    last_request: str | None = None  # ISO 8601, UTC


def default_path() -> Path:
    return data_dir() / "savings.json"


class Savings:
    """The lifetime totals, loaded at start (a missing or unreadable file starts them at zero) and saved as they
    grow. Thread-safe."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._totals = load(path)
        self._written = -THROTTLE  # when the file was last written, by `clock`
        self._timer: threading.Timer | None = None

    def add(self, tokens_before: int, tokens_after: int, when: float) -> None:
        """Count one request (`when`: seconds since the epoch), and save now or within a second."""
        with self._lock:
            totals = self._totals
            totals.requests += 1
            totals.tokens_before += tokens_before
            totals.tokens_after += tokens_after
            totals.tokens_saved += tokens_before - tokens_after
            totals.last_request = datetime.fromtimestamp(when, UTC).isoformat()
            wait = self._written + THROTTLE - self._clock()
            if wait <= 0:
                self._write()
            elif self._timer is None:
                self._timer = threading.Timer(wait, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def totals(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._totals)

    def flush(self) -> None:
        """Save now (at shutdown, and when a throttled write is due)."""
        with self._lock:
            self._write()

    def _write(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._written = self._clock()
        try:
            write_atomically(self.path, json.dumps(asdict(self._totals), indent=2) + "\n", mode=0o600, sync=True)
        except OSError as error:
            log.warning("could not save lifetime savings to %s: %s", self.path, error)


def load(path: Path) -> Lifetime:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Lifetime(**{key: data[key] for key in asdict(Lifetime()) if key in data})
    except FileNotFoundError:
        return Lifetime()
    except (OSError, ValueError, TypeError) as error:
        log.warning("lifetime savings in %s are unreadable (%s): starting from zero", path, error)
        return Lifetime()
