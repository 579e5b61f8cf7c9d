"""The savings file's content: requests counted by UTC day, model and client, with tools inside; priced when counted,
unpriced tokens kept apart; the oldest days dropped past the limit; a file that is not one refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from headroom.runtime.proxy.daybook import DAYS_KEPT, Book, Counted

MAY_1 = datetime(2026, 5, 1, 23, 59, 59, tzinfo=UTC).timestamp()
MAY_2 = MAY_1 + 2  # two seconds later, the next day in UTC


def request(when: float, model: str = "claude-sonnet-4-5", client: str = "alpha") -> Counted:
    return Counted(when, model, client, 1000, 200, (("Bash", 900, 100), ("Bash", 50, 50), ("none", 40, 40)))


def test_requests_are_counted_by_utc_day_model_and_client_with_their_tools() -> None:
    book = Book()
    book.add(request(MAY_1), 3e-6)
    book.add(request(MAY_2), 3e-6)
    book.add(request(MAY_2, client="beta"), 3e-6)
    assert sorted(book.days) == ["2026-05-01", "2026-05-02"]
    may_2 = dict(((model, client), s) for model, client, s in book.slices(date(2026, 5, 2), date(2026, 5, 2)))
    assert set(may_2) == {("claude-sonnet-4-5", "alpha"), ("claude-sonnet-4-5", "beta")}
    alpha = may_2["claude-sonnet-4-5", "alpha"]
    assert (alpha.requests, alpha.tokens_saved, alpha.usd_saved) == (1, 800, pytest.approx(800 * 3e-6))
    bash = alpha.tools["Bash"]
    assert (bash.requests, bash.tokens_before, bash.tokens_after, bash.tokens_saved) == (1, 950, 150, 800)
    assert alpha.tools["none"].tokens_saved == 0
    lifetime = book.lifetime
    assert (lifetime.requests, lifetime.tokens_saved, lifetime.priced_tokens_saved) == (3, 2400, 2400)
    assert lifetime.last_request == datetime.fromtimestamp(MAY_2, UTC).isoformat()


def test_a_model_without_a_price_keeps_its_tokens_unpriced() -> None:
    book = Book()
    book.add(request(MAY_1, model="mystery"), None)
    book.add(request(MAY_1), 3e-6)
    assert book.lifetime.usd_saved == pytest.approx(800 * 3e-6)
    assert (book.lifetime.tokens_saved, book.lifetime.unpriced_tokens_saved) == (1600, 800)
    mystery = book.days["2026-05-01"]["mystery", "alpha"]
    assert (mystery.usd_saved, mystery.unpriced_tokens_saved, mystery.tools["Bash"].unpriced_tokens_saved) == (
        0.0, 800, 800)  # fmt: skip


def test_only_the_latest_days_are_kept() -> None:
    book = Book()
    for day in range(DAYS_KEPT + 5):
        book.add(request(MAY_1 + day * 86400), 3e-6)
    assert len(book.days) == DAYS_KEPT
    first = (datetime.fromtimestamp(MAY_1, UTC) + timedelta(days=5)).date().isoformat()
    assert min(book.days) == first
    assert book.lifetime.requests == DAYS_KEPT + 5  # the lifetime totals keep everything


def test_merged_books_count_what_one_book_would_have() -> None:
    requests = [request(MAY_2), request(MAY_1), request(MAY_2, client="beta"), request(MAY_1, model="mystery")]
    whole, ours, theirs = Book(), Book(), Book()
    for index, counted in enumerate(requests):
        whole.add(counted, 3e-6)
        (ours if index % 2 else theirs).add(counted, 3e-6)
    theirs.merge(ours)  # the later request is theirs: the merged book's last request stays theirs
    assert theirs.to_json() == whole.to_json() | {"last_request": datetime.fromtimestamp(MAY_2, UTC).isoformat()}


def test_a_merge_keeps_only_the_latest_days() -> None:
    book, old = Book(), Book()
    for day in range(DAYS_KEPT):
        book.add(request(MAY_2 + day * 86400), 3e-6)
    old.add(request(MAY_1), 3e-6)
    book.merge(old)
    assert len(book.days) == DAYS_KEPT and "2026-05-01" not in book.days
    assert book.lifetime.requests == DAYS_KEPT + 1


def test_json_round_trip() -> None:
    book = Book()
    book.add(request(MAY_1), 3e-6)
    book.add(request(MAY_2, model="mystery"), None)
    text = json.dumps(book.to_json())
    assert Book.from_json(json.loads(text)) == book
    assert json.loads(text)["tokens_saved"] == 1600  # the lifetime totals stay at the top, as before days were kept


def test_a_file_from_before_days_were_kept_is_read() -> None:
    old = {"requests": 4, "tokens_before": 100, "tokens_after": 60, "tokens_saved": 40, "last_request": None}
    book = Book.from_json(old)
    assert (book.lifetime.tokens_saved, book.lifetime.unpriced_tokens_saved, book.days) == (40, 40, {})


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "not a JSON object"),
        ({"tokens_saved": "many"}, "tokens_saved is 'many'"),
        ({"days": {"yesterday": []}}, "'yesterday' in 'days' is not a date"),
        ({"days": {"2026-05-01": [{"model": "m"}]}}, "day 2026-05-01, row 1 has no model or client"),
        ({"days": {"2026-05-01": [{"model": "m", "client": "c", "tools": {"Bash": {"requests": 1.5}}}]}},
         "day 2026-05-01, row 1, tool Bash: requests is 1.5"),
    ],
)  # fmt: skip
def test_what_is_not_a_book_is_refused_saying_where(data: Any, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Book.from_json(data)
