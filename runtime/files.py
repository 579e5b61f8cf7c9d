"""Replacing a file so that readers see the old content or the new, never a mix: compiled routers (a running proxy
may be loading one), lifetime savings and the budget ledger are all written this way. And what lets several proxies
share such a file: the lock under which each reads, changes and writes it in turn, and the check that tells a
proxy whether the file is still the version it last read or wrote (the savings and the budget)."""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

log = logging.getLogger(__name__)


def write_atomically(path: Path, text: str, mode: int | None = None, sync: bool = False) -> None:
    """Write `text` (UTF-8, `\\n` line ends) through a temporary file in the same folder and a rename. The file
    gets `mode`, or keeps the one it had (a new file: the usual 0o666 less the umask). `sync` also flushes it to
    disk before the rename, for files worth an fsync."""
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:  # the folder is made the first time only, not checked at every write
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


class FileLock:
    """An exclusive lock across this process's threads and every process that locks the same file. The lock file
    (and its folder) is created and opened at the first use and kept open, so each use costs one `flock`; when it
    cannot be opened, only this process's threads are kept apart, and the next use tries again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()  # flock does not keep apart the threads sharing one open file
        self._handle: TextIO | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            handle = self._open()
            if handle is None:
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open(self) -> TextIO | None:
        if self._handle is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a")
            except OSError as error:
                log.warning("the lock file %s cannot be opened (%s); other proxies may overwrite", self.path, error)
        return self._handle


class FileVersion:
    """The version of a file (one that is only ever replaced whole, as `write_atomically` does) that this process
    last read or wrote, so that an unchanged file need not be read again. The version is held open: its inode
    number cannot then be given to a later version, so an equal (inode, mtime, size) means the same file even when
    two writes fall within one tick of the file system's clock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: BinaryIO | None = None
        self._stamp: tuple[int, int, int] | None = None

    def changed(self) -> bool:
        """Whether the file is not (or may not be) the version last seen; true when none was seen yet."""
        try:
            return self._handle is None or _stamp(os.stat(self.path)) != self._stamp
        except OSError:
            return True

    def seen(self) -> None:
        """Remember the file as it is now: call it with the file just read or written, under the file's lock."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        try:
            self._handle = self.path.open("rb")
        except OSError:  # no file: `changed` stays true
            return
        self._stamp = _stamp(os.fstat(self._handle.fileno()))


def _stamp(status: os.stat_result) -> tuple[int, int, int]:
    return status.st_ino, status.st_mtime_ns, status.st_size
