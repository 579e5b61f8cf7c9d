"""Running `headroom wrap` for real: stand-in `claude` and `codex` executables (small Python scripts put first on
PATH) that report their arguments, their environment and the config file the real client would read, then do what
the test asks (STAND_IN_DO): `exit:N`, `kill:SIGNAME`, or `wait` until the test releases them.

Everything lives under one temporary folder: HOME (so ~/.codex and ~/.headroom are the test's), HEADROOM_STORE_PATH
inside it, and the project folder the client runs in.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WAIT = 20  # seconds a test waits for something that should happen soon, before failing instead of hanging

STAND_IN = """#!{python}
import json, os, pathlib, signal, sys, time

name = os.path.basename(sys.argv[0])
if name == "claude":
    config = pathlib.Path.cwd() / ".claude" / "settings.local.json"
else:
    config = pathlib.Path(os.environ.get("CODEX_HOME") or pathlib.Path.home() / ".codex") / "config.toml"
report = {{"argv": sys.argv[1:], "env": dict(os.environ), "config": config.read_text() if config.exists() else None}}
print(json.dumps(report), flush=True)
action = os.environ.get("STAND_IN_DO", "exit:0")
if action.startswith("exit:"):
    sys.exit(int(action[5:]))
if action.startswith("kill:"):
    os.kill(os.getpid(), getattr(signal, action[5:]))
if action == "wait":
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, _: (print(f"stand-in: got {{signal.Signals(signum).name}}"), sys.exit(42)))
    pathlib.Path(os.environ["STAND_IN_READY"]).touch()
    deadline = time.monotonic() + {wait}
    while not pathlib.Path(os.environ["STAND_IN_RELEASE"]).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
sys.exit(0)
"""


@dataclass
class Sandbox:
    root: Path
    home: Path
    project: Path  # the folder the client runs in
    port: int  # a free port for the proxy
    env: dict[str, str]

    @classmethod
    def create(cls, root: Path) -> Sandbox:
        home, project, bin_dir = root / "home", root / "home" / "work" / "myproject", root / "bin"
        for folder in (project, bin_dir):
            folder.mkdir(parents=True)
        for client in ("claude", "codex"):
            stand_in = bin_dir / client
            stand_in.write_text(STAND_IN.format(python=sys.executable, wait=WAIT), encoding="utf-8")
            stand_in.chmod(0o755)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("HEADROOM_", "CODEX_"))}
        env |= {"HOME": str(home), "HEADROOM_STORE_PATH": str(home / ".headroom" / "store.db")}
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
        for key in ("ENABLE_TOOL_SEARCH", "ANTHROPIC_CUSTOM_HEADERS", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
            env.pop(key, None)
        return cls(root, home, project, free_port(), env)

    def stop_proxies(self) -> None:
        """Stop the proxies wraps started and left running (a killed wrap's, or a failing test's)."""
        for record in self.data.glob("wrap/port-*/proxy.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(record.read_text(encoding="utf-8")), signal.SIGTERM)

    @property
    def codex_config(self) -> Path:
        return self.home / ".codex" / "config.toml"

    @property
    def claude_settings(self) -> Path:
        return self.project / ".claude" / "settings.local.json"

    @property
    def data(self) -> Path:
        return self.home / ".headroom"

    def run(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run `headroom ARGV...` in the project folder to its end."""
        return subprocess.run(
            ["headroom", *argv], cwd=self.project, env=self.env | env, capture_output=True, text=True, timeout=60
        )

    def start(self, name: str, *argv: str, **env: str) -> Waiting:
        """Start `headroom ARGV...` with a stand-in that waits, and wait until the stand-in runs."""
        ready, release = self.root / f"{name}.ready", self.root / f"{name}.release"
        env |= {"STAND_IN_DO": "wait", "STAND_IN_READY": str(ready), "STAND_IN_RELEASE": str(release)}
        process = subprocess.Popen(
            ["headroom", *argv], cwd=self.project, env=self.env | env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        waiting = Waiting(process, release)
        wait_for(lambda: ready.exists() or process.poll() is not None, f"{name}'s client to start")
        assert process.poll() is None, waiting.finish()
        return waiting


@dataclass
class Waiting:
    """A wrap whose stand-in client waits to be released."""

    process: subprocess.Popen[str]
    release: Path

    def finish(self) -> tuple[int, str, str]:
        """Release the client; wrap's exit code, stdout and stderr."""
        self.release.touch()
        stdout, stderr = self.process.communicate(timeout=WAIT)
        return self.process.returncode, stdout, stderr


def report(stdout: str) -> dict[str, Any]:
    """What the stand-in client said: its argv, its environment, and its config file's text (None: no file)."""
    line = next((line for line in stdout.splitlines() if line.startswith('{"argv"')), None)
    assert line is not None, f"the stand-in client did not report:\n{stdout}"
    return json.loads(line)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    """Whether anything serves /livez on the port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; fail after WAIT seconds (never decides an outcome by the clock)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)
