"""Edits to a client's config file that always come undone.

Before the file changes, a record of it (the original text, or that there was none, and the edited text) is saved
under data_dir()/"wrap"/"edits". The edit is undone when the last wrap holding it exits, and because SIGKILL leaves
no chance to clean up, also by the next `wrap` or `unwrap` of that client once no holder is alive.

Undoing puts the original back byte for byte when the file is still as wrap wrote it. When something else changed it
meanwhile (Claude Code saves permissions to settings.local.json, Codex trusts projects in config.toml), those changes
are kept and only headroom's part is taken out, by the client's own `take_back`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from headroom.cli.wrap_state import alive, state_dir
from headroom.runtime.files import write_atomically


class EditRefused(Exception):
    """The edit cannot be made safely (an unreadable file, another wrap with other settings); nothing changed."""


class ConfigEdit(Protocol):
    """What a client module (wrap_claude, wrap_codex) provides to have its config file edited."""

    def target(self) -> Path: ...

    def edit(self, original: str | None, url: str, project: str) -> str: ...

    def take_back(self, current: str, original: str | None, edited: str) -> str | None: ...


@dataclass
class Record:
    client: str
    path: str
    original: str | None  # None: there was no file
    edited: str
    created_dir: str | None  # the outermost folder wrap created to hold the file, removed again if empty
    holders: list[int] = field(default_factory=list)  # pids of the wraps running with this edit


def apply(client: str, config: ConfigEdit, url: str, project: str) -> None:
    """Edit the client's file for this wrap process, or join the edit a running wrap made with the same settings.
    Call under `locked()`, after `undo_leftovers`: a record still here then belongs to a running wrap."""
    path = _real(config.target())
    record = _load(_record_path(client, path))
    if record is not None:
        if config.edit(record.original, url, project) != record.edited:
            raise EditRefused(
                f"{client} is already wrapped with other settings by pid {', '.join(map(str, record.holders))} "
                f"(it edited {path}); use the same port and project, or wait for it to exit"
            )
        record.holders.append(os.getpid())
        _save(record)
        return
    original = _read(path)
    edited = config.edit(original, url, project)
    created = _outermost_missing(path.parent)
    record = Record(client, str(path), original, edited, str(created) if created else None, [os.getpid()])
    _save(record)  # first, so that a wrap killed while writing the file still leaves the way back
    write_atomically(path, edited)


def release(client: str, config: ConfigEdit) -> str | None:
    """This wrap is done with the edit: undo it if no other live wrap holds it. What was done, if anything. Call
    under `locked()`."""
    path = _real(config.target())
    record = _load(_record_path(client, path))
    if record is None:
        return None
    record.holders = [pid for pid in record.holders if pid != os.getpid()]
    if _live(record):
        _save(record)
        return None
    return _undo(record, config)


def undo_leftovers(client: str, config: ConfigEdit) -> list[str]:
    """Undo every edit of `client` whose wraps have all died; what was done for each. Call under `locked()`."""
    return [_undo(record, config) for record in records(client) if not _live(record)]


def records(client: str) -> list[Record]:
    """The edits of `client` on record, held by running wraps or left by killed ones."""
    return [record for path in sorted(_edits_dir().glob(f"{client}-*.json")) if (record := _load(path))]


def _undo(record: Record, config: ConfigEdit) -> str:
    path = Path(record.path)
    current = _read(path)
    if current is None:
        said = f"{path} was removed while wrapped; left as it is"
    elif current == record.original:  # undone already, by a wrap interrupted before it could drop the record
        said = f"{path} was as it had been"
    elif current == record.edited:
        _put_back(path, record.original)
        said = f"restored {path}" if record.original is not None else f"removed {path}, which wrap had created"
    else:
        _put_back(path, config.take_back(current, record.original, record.edited))
        said = f"{path} changed while wrapped: kept those changes and took out only headroom's"
    if record.created_dir:
        _remove_empty_folders(path.parent, Path(record.created_dir))
    _record_path(record.client, path).unlink(missing_ok=True)
    return said


def _put_back(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, text)


def _read(path: Path) -> str | None:
    """The file's text exactly (no newline translation), or None when there is no file."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as error:
        raise EditRefused(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise EditRefused(f"cannot read {path}: {error.strerror}") from None


def _real(path: Path) -> Path:
    """Where the file really is: editing a symlink's target keeps a dotfiles-managed link a link."""
    return Path(os.path.realpath(path))


def _outermost_missing(folder: Path) -> Path | None:
    missing = None
    while not folder.exists():
        missing, folder = folder, folder.parent
    return missing


def _remove_empty_folders(folder: Path, outermost: Path) -> None:
    """Remove the folders wrap created, innermost first, stopping at one that holds anything."""
    while True:
        try:
            folder.rmdir()
        except OSError:  # not empty, or already gone
            return
        if folder == outermost:
            return
        folder = folder.parent


def _live(record: Record) -> bool:
    record.holders = [pid for pid in record.holders if alive(pid)]
    return bool(record.holders)


def _edits_dir() -> Path:
    return state_dir() / "edits"


def _record_path(client: str, path: Path) -> Path:
    return _edits_dir() / f"{client}-{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.json"


def _load(path: Path) -> Record | None:
    try:
        return Record(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise EditRefused(f"the backup {path} is damaged ({error}); restore by hand, then delete it") from None


def _save(record: Record) -> None:
    path = _record_path(record.client, Path(record.path))
    write_atomically(path, json.dumps(asdict(record), indent=2) + "\n", mode=0o600)
