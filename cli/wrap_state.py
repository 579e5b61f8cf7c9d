"""What concurrent `headroom wrap` processes share, under data_dir()/"wrap": one lock that serialises their changes to
leases, proxies and config edits, and the test for whether the process behind a recorded pid still lives (a wrap
killed with SIGKILL leaves its files behind, and the next wrap or unwrap must see that they are stale)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from headroom.runtime.home import data_dir


def state_dir() -> Path:
    return data_dir() / "wrap"


@contextmanager
def locked() -> Iterator[None]:
    """Hold the wraps' lock: an advisory flock, released by the kernel even when its holder is killed."""
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (signal 0 checks without sending anything)."""
    if pid <= 0:  # 0 and negatives would address process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
