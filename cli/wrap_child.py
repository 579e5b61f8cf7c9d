"""Running the wrapped client in the foreground, with the signals wrap receives passed on to it and its exit status
turned into wrap's own.

One `SignalRelay` covers the whole of a wrap, in three phases. While setting up, SIGINT, SIGTERM or SIGHUP interrupt
the setup (`Interrupted`), so what was already done is undone. While the client runs they are passed on to it. Once
it has exited they are ignored, so that undoing the config edit is never cut short.

A child killed by signal N gives exit code 128 + N, as a shell reports it.

A SIGINT while wrap is the terminal's foreground process group is taken for Ctrl-C, which the terminal sends the
client too, so it is not passed on. The one it misjudges: `kill -INT <wrap pid>` from elsewhere while wrap runs in
the foreground never reaches the client; signal the client itself, or send wrap SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """A signal arrived before the client started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SignalRelay:
    def __init__(self) -> None:
        self._phase = "setup"
        self._child: subprocess.Popen[bytes] | None = None
        self._pending: list[int] = []  # arrived while the client was being started
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalRelay:
        for signum in FORWARDED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def run(self, argv: list[str], env: dict[str, str]) -> int:
        """Run the client to its end; its exit code, or 128 + N when signal N killed it."""
        self._phase = "running"
        try:
            self._child = subprocess.Popen(argv, env=env)
            for signum in self._pending:  # arrived before the fork, so not even a terminal's Ctrl-C reached it
                self._send(signum)
            code = self._child.wait()
        finally:
            self.finish()
        return 128 - code if code < 0 else code

    def finish(self) -> None:
        """From now on, cleaning up: signals are ignored."""
        self._phase = "cleanup"

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._phase == "setup":
            raise Interrupted(signum)
        if self._phase == "running":
            if self._child is None:
                self._pending.append(signum)
            else:
                self._forward(signum)

    def _forward(self, signum: int) -> None:
        if not _terminal_sent_it(signum):
            self._send(signum)

    def _send(self, signum: int) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.send_signal(signum)


def _terminal_sent_it(signum: int) -> bool:
    """Ctrl-C at a terminal signals its whole foreground process group, the client included; passing it on would
    make the client see it twice (and Claude Code exits on a second Ctrl-C)."""
    if signum != signal.SIGINT:
        return False
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):  # no terminal, or no stdin at all
        return False
