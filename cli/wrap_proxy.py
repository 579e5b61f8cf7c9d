"""The proxy a wrapped client talks to: the one already answering on the port, or one started detached (its own
process session, so the terminal's Ctrl-C does not reach it; output in data_dir()/"logs").

Several wraps may share a proxy. Each holds a lease (a file named after its pid) for as long as it runs; the last
one to leave stops the proxy, but only if a wrap started it: a proxy the user runs themselves is never stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from headroom.cli.probe import get_json, proxy_url, running_proxy
from headroom.cli.wrap_state import alive, locked, state_dir
from headroom.runtime.home import data_dir
from headroom.runtime.proxy.config import ProxyConfig

HOST = ProxyConfig().host  # the loopback address: a wrap's proxy serves this machine's clients only
READY_TIMEOUT = 30.0  # seconds for a started proxy to load its policy and answer /readyz
STOP_TIMEOUT = 10.0  # seconds for a stopped proxy to finish its requests in flight and exit
POLL = 0.05


class ProxyError(Exception):
    """The proxy could not be started; the message says why and where its log is."""


def acquire(port: int) -> bool:
    """Take a lease on the proxy on `port` for this process, first starting one if none answers there. True when
    this call started it."""
    with locked():
        folder = _port_dir(port)
        folder.mkdir(parents=True, exist_ok=True)
        started = running_proxy(HOST, port) is None
        if started:
            _start(port, folder / "proxy.pid")
        elif (pid := _started_pid(folder)) is not None and not alive(pid):
            (folder / "proxy.pid").unlink()  # that one died; whoever answers now is not ours to stop
        _lease(folder, os.getpid()).touch()
    return started


def release(port: int) -> bool:
    """Drop this process's lease; stop the proxy when no live lease remains and a wrap started it. True when it
    was stopped."""
    with locked():
        folder = _port_dir(port)
        _lease(folder, os.getpid()).unlink(missing_ok=True)
        if _live_leases(folder) or (pid := _started_pid(folder)) is None:
            return False
        (folder / "proxy.pid").unlink()
        if not alive(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid)  # still under the lock, so a wrap starting now does not lease a proxy on its way out
        return True


def release_leftovers() -> list[int]:
    """Stop the proxies wraps started whose wraps have all died (SIGKILL leaves their leases behind); the ports
    where one was stopped. A proxy a live wrap holds is left running."""
    return [port for port in _ports() if release(port)]


def log_path(port: int) -> Path:
    return data_dir() / "logs" / f"proxy-{port}.log"


def _start(port: int, record: Path) -> None:
    """Start `headroom proxy` detached and wait until it is ready. Its pid goes on `record` at once, so a wrap
    killed while it starts leaves it on record for the next wrap or unwrap to stop."""
    log = log_path(port)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "headroom.cli.main", "proxy", "--host", HOST, "--port", str(port)]
    with open(log, "ab") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True
        )
    try:
        record.write_text(str(process.pid), encoding="utf-8")
        _wait_ready(process, port, log)
    except BaseException:
        process.kill()
        process.wait()
        record.unlink(missing_ok=True)
        raise


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not _ready(port):
        if process.poll() is not None:
            said = _last_line(log)
            raise ProxyError(f"the proxy on port {port} exited with code {process.returncode} ({said}); see {log}")
        if time.monotonic() > deadline:
            raise ProxyError(f"the proxy on port {port} was not ready after {READY_TIMEOUT:.0f} s; see {log}")
        time.sleep(POLL)


def _last_line(log: Path) -> str:
    """What the proxy said last, e.g. that the port is in use by another program."""
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "it said nothing"


def _ready(port: int) -> bool:
    """Whether /readyz says 200; refused while the proxy starts and 503 while it cannot work yet are both None."""
    return get_json(proxy_url(HOST, port) + "/readyz", timeout=1) is not None


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # not our child: someone else reaps it
            os.waitpid(pid, os.WNOHANG)  # our own child would otherwise linger as a zombie, alive to kill(pid, 0)
        if not alive(pid):
            return
        time.sleep(POLL)


def _ports() -> list[int]:
    """The ports wraps have leased a proxy on."""
    names = (folder.name.removeprefix("port-") for folder in state_dir().glob("port-*"))
    return sorted(int(name) for name in names if name.isdigit())


def _port_dir(port: int) -> Path:
    return state_dir() / f"port-{port}"


def _lease(folder: Path, pid: int) -> Path:
    return folder / f"lease-{pid}"


def _live_leases(folder: Path) -> list[Path]:
    """The leases whose wrap still runs; the others (left by a killed wrap) are removed."""
    live = []
    for lease in folder.glob("lease-*"):
        pid = lease.name.removeprefix("lease-")
        if pid.isdigit() and alive(int(pid)):
            live.append(lease)
        else:
            lease.unlink(missing_ok=True)
    return live


def _started_pid(folder: Path) -> int | None:
    """The pid of the proxy a wrap started on this port, if one did."""
    try:
        text = (folder / "proxy.pid").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None
