"""`headroom savings`: tokens and dollars saved today, over the last 7 days and in all, and over the days kept by
model, by client and by tool, from the file the proxy keeps (`savings.json`, see `runtime/proxy/daybook.py`).

Dollars are what the proxy priced each request at when it counted it; tokens of a model it knew no price for are
reported as such ("no price for MODEL"), never as $0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from headroom.cli.no_data import NO_DATA
from headroom.runtime.proxy.daybook import Book, Requests
from headroom.runtime.proxy.savings import default_path, load

BAR_WIDTH = 24
WEEK = 7  # days in "last 7 days", today included


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Tokens and dollars the proxy has saved.")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    return parser


def main(argv: list[str] | None = None, prog: str = "headroom savings") -> int:
    args = build_parser(prog).parse_args(argv)
    path = default_path()
    try:
        book = load(path)
    except FileNotFoundError:
        book = Book()
    except (OSError, ValueError) as error:
        print(f"{prog}: cannot read {path}: {error}", file=sys.stderr)
        return 1
    report = summarize(book, datetime.now(UTC).date())
    if args.json:
        print(json.dumps({"file": str(path), **report}, indent=2))
    elif book.lifetime.requests == 0:
        print(NO_DATA)
    else:
        print(render(report, path))
    return 0


def summarize(book: Book, today: date) -> dict[str, Any]:
    """The report as JSON-ready values: the three periods, and the kept days by model, client and tool."""
    by: dict[str, defaultdict[str, Requests]] = {name: defaultdict(Requests) for name in ("model", "client", "tool")}
    for model, client, tally in book.slices(date.min, date.max):
        by["model"][model].merge(tally)
        by["client"][client].merge(tally)
        for tool, used in tally.tools.items():
            by["tool"][tool].merge(used)
    return {
        "today": today.isoformat(),
        "since": min(book.days, default=None),
        "periods": {
            "today": entry(_sum(book, today, today)),
            "last_7_days": entry(_sum(book, today - timedelta(days=WEEK - 1), today)),
            "all_time": entry(book.lifetime),
        },
        **{f"by_{name}": {key: entry(tally) for key, tally in _biggest_first(tallies)} for name, tallies in by.items()},
        "no_price": sorted(model for model, tally in by["model"].items() if tally.unpriced_tokens_saved),
    }


def entry(tally: Requests) -> dict[str, Any]:
    """A tally's numbers; `usd_saved` is None when tokens were saved and none of them could be priced."""
    unpriced = tally.unpriced_tokens_saved
    return {
        "requests": tally.requests,
        "tokens_before": tally.tokens_before,
        "tokens_after": tally.tokens_after,
        "tokens_saved": tally.tokens_saved,
        "usd_saved": None if unpriced and not tally.priced_tokens_saved else tally.usd_saved,
        "unpriced_tokens_saved": unpriced,
    }


def _sum(book: Book, first: date, last: date) -> Requests:
    total = Requests()
    for _, _, tally in book.slices(first, last):
        total.merge(tally)
    return total


def _biggest_first(tallies: dict[str, Requests]) -> list[tuple[str, Requests]]:
    return sorted(tallies.items(), key=lambda item: (-item[1].tokens_saved, item[0]))


# --- text ---------------------------------------------------------------------------------------------------------


def render(report: dict[str, Any], path: Path) -> str:
    periods = {"today": "today", "last_7_days": "last 7 days", "all_time": "all time"}
    lines = [f"headroom savings ({path})", "", *_table([(label, report["periods"][key])
                                                        for key, label in periods.items()])]  # fmt: skip
    for name in ("model", "client", "tool"):
        rows = report[f"by_{name}"]
        if rows:
            lines += ["", f"by {name}, since {report['since']}", *_table(rows.items())]
    by_model = report["by_model"]
    lines += [""] if report["no_price"] else []
    lines += [f"no price for {model}: its {by_model[model]['unpriced_tokens_saved']:,} tokens saved are not in the "
              "dollars" for model in report["no_price"]]  # fmt: skip
    return "\n".join(lines)


def _table(rows: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    rows = list(rows)
    width = max(len(label) for label, _ in rows)
    most = max(numbers["tokens_saved"] for _, numbers in rows)
    header = f"  {'':<{width}}  {'requests':>8}  {'tokens saved':>12}  {'':<{BAR_WIDTH}}  dollars saved"
    return [header] + [f"  {label:<{width}}  {numbers['requests']:>8,}  {numbers['tokens_saved']:>12,}  "
                       f"{_bar(numbers['tokens_saved'], most):<{BAR_WIDTH}}  {dollars(numbers)}"
                       for label, numbers in rows]  # fmt: skip


def _bar(value: int, most: int) -> str:
    if value <= 0 or most <= 0:
        return ""
    return "█" * max(1, round(BAR_WIDTH * value / most))


def dollars(numbers: dict[str, Any]) -> str:
    """`$0.0123`, with what could not be priced said, never hidden in a $0."""
    usd, unpriced = numbers["usd_saved"], numbers["unpriced_tokens_saved"]
    if usd is None:
        return "no price"
    text = f"${usd:,.2f}" if usd >= 1 else f"${usd:.4f}" if usd >= 0.0001 or usd == 0 else "<$0.0001"
    return f"{text} + {unpriced:,} tokens with no price" if unpriced else text
