"""The spending limit (`--budget USD --budget-period hourly|daily|monthly`): what has been spent in the current
period, and the check that keeps it under the limit.

A request reserves its estimated cost before it is forwarded, and the check and the reservation are one step under
a lock, so requests arriving together cannot all pass a check that only one of them fits. When the answer is in,
the reservation is settled to what the provider reports it used. Periods are calendar hours, days and months in
UTC. The amounts spent are kept in `~/.headroom/budget.json` (runtime/home.py), written whole to a temporary file
and renamed over the old one, so a restart (or a crash mid-write) never forgets or corrupts what was spent.

Several proxies (processes) may share the one file: every change takes an exclusive `flock` on `budget.json.lock`
beside it (opened once, kept open), reads the file again if another proxy has replaced it since (runtime/files.py's
`FileVersion`) and writes it before letting go, so no proxy overwrites another's spending and the check-and-reserve
stays one step across all of them. A file that cannot be read or written leaves the proxy
with what it knew last, and the limit still holds for its own requests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from headroom.runtime.files import FileLock, FileVersion, write_atomically
from headroom.runtime.home import data_dir
from headroom.runtime.proxy.errors import RateLimited

log = logging.getLogger(__name__)

KEPT_PERIODS = 100  # periods remembered in the file, the latest ones
_KEY_FORMATS = {"hourly": "%Y-%m-%dT%H", "daily": "%Y-%m-%d", "monthly": "%Y-%m"}


class BudgetExceeded(RateLimited):
    """The request could cost more than what is left of the period's budget; it may be tried again when the
    next period starts."""

    code = "budget_exceeded"


@dataclass(frozen=True)
class Reservation:
    period: str  # the period key the amount was reserved in
    amount: float


class Ledger:
    """The amounts spent per period, reserved and settled under one lock (this process's and the file's), persisted
    at every change."""

    def __init__(self, limit: float, period: str, path: Path | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        if period not in _KEY_FORMATS:
            raise ValueError(f"budget period {period!r} is not one of {', '.join(_KEY_FORMATS)}")
        self.limit = limit
        self.period = period
        self._path = (path or data_dir() / "budget.json").expanduser()
        self._now = now
        self._lock = FileLock(self._path.with_name(self._path.name + ".lock"))
        self._version = FileVersion(self._path)  # the file as `_spent` last read or wrote it
        self._spent: dict[str, float] = {}

    def reserve(self, amount: float) -> Reservation:
        """Count `amount` as spent in the current period, or raise `BudgetExceeded` if it does not fit."""
        with self._locked():
            key = self._key()
            spent = self._spent.get(key, 0.0)
            if spent + amount > self.limit:
                raise BudgetExceeded(
                    f"headroom budget exceeded: this request could cost ${amount:.4f} and ${spent:.4f} of the "
                    f"{self.period} budget of ${self.limit:.2f} is spent", self._seconds_left())  # fmt: skip
            self._spent[key] = spent + amount
            self._save()
        return Reservation(key, amount)

    def settle(self, reservation: Reservation, actual: float) -> None:
        """Replace a reservation with what the request actually cost."""
        with self._locked():
            spent = self._spent.get(reservation.period, 0.0) - reservation.amount + actual
            self._spent[reservation.period] = max(0.0, spent)
            self._save()

    def spent(self) -> float:
        """What the current period has spent so far, reservations included (every proxy's on this file)."""
        with self._locked():
            return self._spent.get(self._key(), 0.0)

    def report(self) -> dict[str, float | str]:
        """The budget as `/stats` and `/health` show it."""
        spent = self.spent()
        return {"limit": self.limit, "period": self.period, "spent": round(spent, 6),
                "remaining": round(max(0.0, self.limit - spent), 6)}  # fmt: skip

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Holds this process's lock and the file's, with the amounts as the file has them: read again only when
        another proxy has written it since this one last read or wrote it."""
        with self._lock.held():
            if self._version.changed():
                self._spent = _load(self._path, self._spent)
                self._version.seen()
            yield

    def _key(self) -> str:
        return self._now().strftime(_KEY_FORMATS[self.period])

    def _seconds_left(self) -> int:
        now = self._now()
        start = datetime.strptime(now.strftime(_KEY_FORMATS[self.period]), _KEY_FORMATS[self.period])
        start = start.replace(tzinfo=now.tzinfo)
        if self.period == "hourly":
            end = start + timedelta(hours=1)
        elif self.period == "daily":
            end = start + timedelta(days=1)
        else:
            end = (start + timedelta(days=32)).replace(day=1)
        return max(1, int((end - now).total_seconds()) + 1)

    def _save(self) -> None:
        kept = dict(sorted(self._spent.items())[-KEPT_PERIODS:])
        try:
            write_atomically(self._path, json.dumps({"spent": kept}, indent=1), mode=0o600)
        except OSError as error:  # the limit still holds in memory; only a restart would forget
            log.warning("the budget's spending could not be saved to %s: %s", self._path, error)
        else:
            self._version.seen()


def _load(path: Path, known: dict[str, float]) -> dict[str, float]:
    """The amounts in the file (hourly, daily and monthly keys never collide); `known` when there is no file yet or
    it is unreadable."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return known
    except (OSError, ValueError) as error:
        log.warning("the budget file %s is unreadable (%s); keeping the amounts known so far", path, error)
        return known
    spent = document.get("spent") if isinstance(document, dict) else None
    if not isinstance(spent, dict):
        return known
    return {key: float(value) for key, value in spent.items() if isinstance(value, (int, float))}
