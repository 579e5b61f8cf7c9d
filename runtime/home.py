"""Where headroom keeps its data: `~/.headroom/`, or the folder of `HEADROOM_STORE_PATH` when that is set (a test,
or a user keeping headroom's data elsewhere), so one variable moves the store, the savings, the budget and the logs
together."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    store = os.environ.get("HEADROOM_STORE_PATH")
    return Path(store).expanduser().parent if store else Path.home() / ".headroom"
