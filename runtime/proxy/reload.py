"""Rules recompiled while the proxy runs are picked up without a restart.

The app holds a `LiveEngine` instead of an engine. Whenever the engine is used, and at most once every `interval`
seconds, it compares the modification times of the policy's files (the entry `.hrules`, the files it includes,
and the generated module) with those of the policy it runs; when one changed, it loads the router again
(`policy.load_router`: the generated module when it is fresh, else the sources compiled in memory) and swaps in a
new engine with the same store and protected tools. The swap is one attribute assignment, so a request sees the
old engine or the new one, never half of each. Rules that no longer load — a `.hrules` with an error — are logged
and the last good rules keep running. One request does the check; the others go on with the engine they find.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headroom.runtime.engine import Engine
from headroom.runtime.policy import Router, generated_path, load_router, source_path

log = logging.getLogger(__name__)

Stamps = tuple[tuple[Path, int | None], ...]  # each watched file and its modification time (None: missing)


class LiveEngine:
    """An engine that follows its policy's files; every attribute (`compress`, `router`, `store`, ...) is the
    current engine's."""

    def __init__(self, engine: Engine, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._interval = interval
        self._clock = clock
        self._checking = threading.Lock()
        self._checked = clock()
        self._stamps = stamps(engine.router)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)

    def current(self) -> Engine:
        """The engine for the policy as it is on disk (as of at most `interval` seconds ago)."""
        now = self._clock()
        if now - self._checked >= self._interval and self._checking.acquire(blocking=False):
            try:
                self._checked = now
                self._reload_if_changed()
            finally:
                self._checking.release()
        return self._engine

    def _reload_if_changed(self) -> None:
        old = self._engine
        found = stamps(old.router)
        if found == self._stamps:
            return
        self._stamps = found  # a broken policy is reported once, not at every check
        try:
            router = load_router(old.router.entry)
        except Exception as error:  # CompileError, PolicyNotFound, a generated module that fails to import
            log.error("the policy %s changed but does not load (%s); the last good rules keep running",
                      old.router.entry, error)  # fmt: skip
            return
        self._engine = Engine(router, old.store, old.protected_tools, old.workers)
        self._stamps = stamps(router)  # the new policy may include other files
        log.info("the policy %s changed; reloaded (%s)", router.entry, router.generated or "compiled in memory")


def stamps(router: Router) -> Stamps:
    """The modification times of the files a router was made from."""
    sources = [source_path(display, router.entry.parent) for display, _ in getattr(router.module, "SOURCES", ())]
    paths = dict.fromkeys([router.entry, *sources, generated_path(router.entry)])
    return tuple((path, _mtime(path)) for path in paths)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
