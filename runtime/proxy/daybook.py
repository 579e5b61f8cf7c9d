"""What `savings.json` holds: the lifetime totals, and each day's savings (UTC) by model and client, with the tool
results among them by tool. Kept apart from the proxy's writer (`savings.py`) so that `headroom savings` reads the
file with the same code and none of the proxy's.

Dollars are counted when a request is, at its model's input price then: a saved token is an input token the
provider did not bill. Tokens of a model with no known price are counted in `tokens_saved` and not in
`priced_tokens_saved`, so a report can say what it could not price instead of showing $0.

The file is the lifetime totals' fields at the top level, as they were before days were kept, plus `days`:

    {"requests": 3, "tokens_before": 9000, "tokens_after": 1000, "tokens_saved": 8000, "usd_saved": 0.024,
     "priced_tokens_saved": 8000, "last_request": "2026-05-01T09:30:00+00:00",
     "days": {"2026-05-01": [{"model": "claude-sonnet-4-5", "client": "my-project", "requests": 3, ...,
                              "tools": {"Bash": {"requests": 2, "tokens_before": 8500, ...}}}]}}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from headroom.runtime.proxy.counts import Tokens

DAYS_KEPT = 400  # a bit over a year: enough for "this month last year", small enough to rewrite every second

Counts = TypeVar("Counts", bound="Requests")
_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str | None": (str, type(None))}


@dataclass
class Requests(Tokens):
    """Requests, their tokens before and after compression, and what the difference was worth."""

    usd_saved: float = 0.0
    priced_tokens_saved: int = 0  # the part of tokens_saved whose model had a price
    requests: int = 0

    def add(self, tokens_before: int, tokens_after: int, usd_per_token: float | None = None) -> None:
        """Count a request of these tokens, priced at `usd_per_token` (None: its model has no known price)."""
        super().add(tokens_before, tokens_after)
        self.requests += 1
        if usd_per_token is not None:
            saved = tokens_before - tokens_after
            self.usd_saved += saved * usd_per_token
            self.priced_tokens_saved += saved

    @property
    def unpriced_tokens_saved(self) -> int:
        return self.tokens_saved - self.priced_tokens_saved

    def merge(self, other: Requests) -> None:
        """Add another tally's numbers to this one (for the sums a report shows, and books merged)."""
        for name in asdict(Requests()):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Lifetime(Requests):
    last_request: str | None = None  # ISO 8601, UTC


@dataclass
class Slice(Requests):
    """One day's requests of one model from one client; `tools`: the requests among them with results of each
    tool, and those results' tokens ("none" for the text that is no tool's result)."""

    tools: dict[str, Requests] = field(default_factory=dict)


@dataclass(frozen=True)
class Counted:
    """One request as the savings count it."""

    when: float  # seconds since the epoch
    model: str
    client: str
    tokens_before: int
    tokens_after: int
    blocks: tuple[tuple[str, int, int], ...] = ()  # (tool, tokens before, tokens after) for each block


@dataclass
class Book:
    lifetime: Lifetime = field(default_factory=Lifetime)
    days: dict[str, dict[tuple[str, str], Slice]] = field(default_factory=dict)  # day -> (model, client) -> slice

    def add(self, request: Counted, usd_per_token: float | None) -> None:
        """Count a request, priced at `usd_per_token` (None: its model has no known price)."""
        when = datetime.fromtimestamp(request.when, UTC)
        day = self.days.get(when.date().isoformat())
        if day is None:
            day = self.days[when.date().isoformat()] = {}
            self._drop_old_days()
        slice = day.setdefault((request.model, request.client), Slice())
        for tally in (self.lifetime, slice):
            tally.add(request.tokens_before, request.tokens_after, usd_per_token)
        for tool, (before, after) in _by_tool(request.blocks).items():
            slice.tools.setdefault(tool, Requests()).add(before, after, usd_per_token)
        self.lifetime.last_request = when.isoformat()

    def merge(self, other: Book) -> None:
        """Add another book's counts to this one: a proxy's requests since its last write, to what the file holds
        (another proxy may have added its own since)."""
        self.lifetime.merge(other.lifetime)
        latest = [when for when in (self.lifetime.last_request, other.lifetime.last_request) if when]
        self.lifetime.last_request = max(latest, default=None)  # ISO 8601 in UTC: the later one sorts last
        for day, slices in other.days.items():
            ours = self.days.setdefault(day, {})
            for key, theirs in slices.items():
                slice = ours.setdefault(key, Slice())
                slice.merge(theirs)
                for tool, counts in theirs.tools.items():
                    slice.tools.setdefault(tool, Requests()).merge(counts)
        self._drop_old_days()

    def _drop_old_days(self) -> None:
        for old in sorted(self.days)[:-DAYS_KEPT]:
            del self.days[old]

    def slices(self, first: date, last: date) -> Iterator[tuple[str, str, Slice]]:
        """(model, client, slice) for each slice of the days from `first` to `last`, both included."""
        for day, slices in self.days.items():
            if first.isoformat() <= day <= last.isoformat():
                yield from ((model, client, slice) for (model, client), slice in slices.items())

    def to_json(self) -> dict[str, Any]:
        days = {day: [{"model": model, "client": client, **asdict(slice)} for (model, client), slice in rows.items()]
                for day, rows in sorted(self.days.items())}  # fmt: skip
        return {**asdict(self.lifetime), "days": days}

    @classmethod
    def from_json(cls, data: Any) -> Book:
        """The book a file's JSON holds; `ValueError` saying where when it is not one. Fields a file written by an
        older version lacks count as zero."""
        if not isinstance(data, dict):
            raise ValueError("the file is not a JSON object")
        lifetime = _counts(Lifetime, {key: value for key, value in data.items() if key != "days"}, "the totals")
        days = data.get("days", {})
        if not isinstance(days, dict):
            raise ValueError("'days' is not an object")
        return cls(lifetime, {_day(day): _day_slices(rows, day) for day, rows in days.items()})


def _by_tool(blocks: Iterable[tuple[str, int, int]]) -> dict[str, tuple[int, int]]:
    tools: dict[str, tuple[int, int]] = {}
    for tool, before, after in blocks:
        had_before, had_after = tools.get(tool, (0, 0))
        tools[tool] = (had_before + before, had_after + after)
    return tools


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} in 'days' is not a date") from None


def _day_slices(rows: Any, day: str) -> dict[tuple[str, str], Slice]:
    if not isinstance(rows, list):
        raise ValueError(f"day {day} is not a list")
    slices = {}
    for index, row in enumerate(rows):
        where = f"day {day}, row {index + 1}"
        if not isinstance(row, dict) or not isinstance(row.get("model"), str) or not isinstance(row.get("client"), str):
            raise ValueError(f"{where} has no model or client")
        tools = row.get("tools", {})
        if not isinstance(tools, dict):
            raise ValueError(f"{where}: 'tools' is not an object")
        slice = _counts(Slice, row, where)
        slice.tools = {str(tool): _counts(Requests, counts, f"{where}, tool {tool}") for tool, counts in tools.items()}
        slices[(row["model"], row["client"])] = slice
    return slices


def _counts(kind: type[Counts], data: Any, where: str) -> Counts:
    """`kind` from the JSON object `data`, each of its fields checked for its type (a missing one is zero)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not an object")
    values = {}
    for item in fields(kind):
        if item.name in data and item.name != "tools":
            value = data[item.name]
            if isinstance(value, bool) or not isinstance(value, _TYPES[str(item.type)]):
                raise ValueError(f"{where}: {item.name} is {value!r}, not {item.type}")
            values[item.name] = value
    return kind(**values)
