"""Real processes for the command-line tests: `headroom-serve` on a free port, and a port nothing listens on."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

START_LIMIT = 60  # seconds before a proxy that never says where it listens is killed (failing the test, not hanging)


@contextmanager
def serving(*args: str, env: Mapping[str, str] | None = None, command: tuple[str, ...] = ("headroom-serve",)
            ) -> Iterator[int]:  # fmt: skip
    """`headroom-serve --port 0 ARGS...` (or another `command` that runs the proxy) as a real process; yields the
    port it listens on, then stops it with SIGTERM, which it must obey with exit code 0."""
    command = (*command, "--port", "0", *args)
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=None if env is None else dict(env))
    watchdog = threading.Timer(START_LIMIT, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        listening = None
        while listening is None and (line := process.stderr.readline()):
            listening = re.search(r"listening on http://[^\s:]+:(\d+)", line)
        watchdog.cancel()
        assert listening, "the proxy never said where it listens"
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its log from filling the pipe
        yield int(listening.group(1))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "the proxy did not stop cleanly on SIGTERM"
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()


def free_port() -> int:
    """A loopback port nothing listens on (the system's pick, released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
