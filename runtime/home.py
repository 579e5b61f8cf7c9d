"""Where headroom keeps its data: `~/.headroom/`, or the folder of `HEADROOM_STORE_PATH` when that is set (a test,
or a user keeping headroom's data elsewhere), so one variable moves the store, the savings, the budget and the logs
together."""

from __future__ import annotations

from pathlib import Path

from headroom.runtime.store import location


def data_dir() -> Path:
    """The reversible store's folder, which holds everything else too."""
    return location().parent
