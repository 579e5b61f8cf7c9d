"""Replacing a file so that readers see the old content or the new, never a mix: compiled routers (a running proxy
may be loading one), lifetime savings and the budget ledger are all written this way."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str, mode: int | None = None, sync: bool = False) -> None:
    """Write `text` (UTF-8, `\\n` line ends) through a temporary file in the same folder and a rename. The file
    gets `mode`, or keeps the one it had (a new file: the usual 0o666 less the umask). `sync` also flushes it to
    disk before the rename, for files worth an fsync."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temporary, _mode_for(path) if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
