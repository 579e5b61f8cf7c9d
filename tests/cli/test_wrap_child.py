"""SignalRelay in a real process whose stdin is a terminal it runs in the foreground of, as `headroom wrap` does at
a shell prompt."""

from __future__ import annotations

import signal
import subprocess
import sys

from support.wrapping import WAIT

# A session of its own with a pseudo-terminal as its controlling terminal and stdin, so it is the foreground
# process group. SIGINT arrives while the client is being started: before the fork, so the client never got it.
RELAY = """
import os, signal, subprocess, sys
from headroom.cli.wrap_child import SignalRelay

os.setsid()
_, terminal = os.openpty()
os.close(os.open(os.ttyname(terminal), os.O_RDWR))  # a session leader's first terminal becomes its controlling one
os.dup2(terminal, 0)
assert os.tcgetpgrp(0) == os.getpgrp()
popen = subprocess.Popen

def interrupted_popen(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    return popen(*args, **kwargs)

subprocess.Popen = interrupted_popen
with SignalRelay() as relay:
    sys.exit(relay.run([sys.executable, "-c", "import time; time.sleep({wait})"], dict(os.environ)))
"""


def test_a_sigint_that_arrived_while_the_client_was_started_reaches_it() -> None:
    result = subprocess.run(
        [sys.executable, "-c", RELAY.format(wait=WAIT)], capture_output=True, text=True, timeout=WAIT * 2
    )
    assert result.returncode == 128 + signal.SIGINT, result.stderr  # the client died of it; without it, exit 0
