"""`headroom perf`: what compression saved and what it cost, per tool and per content kind, from the proxy's request
log (`~/.headroom/logs/requests.jsonl` and its rotated part, or the log `--log-file` names).

Each line of the log has its request's blocks grouped by tool and kind, with their tokens and the milliseconds the
engine spent on them (see `runtime/proxy/requestlog.py`); the request's own overhead (parsing, compressing, before
forwarding) gives the percentiles. A line that cannot be read (a crash can cut the last one short) is skipped and
counted; a log with no readable line at all is an error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from headroom.cli.no_data import NO_DATA
from headroom.runtime.proxy.config import default_log_file
from headroom.runtime.proxy.requestlog import rotated
from headroom.runtime.proxy.stats import NO_TOOL, UNDETECTED, percentiles

FORMATS = ("text", "json", "csv")
COLUMNS = ("blocks", "tokens_before", "tokens_after", "tokens_saved", "ms")
_GROUP_FIELDS = {"tool": str, "kind": str, "blocks": int, "tokens_before": int, "tokens_after": int, "ms": (int, float)}


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Savings and overhead per tool and per content kind.")
    parser.add_argument("--log-file", type=Path, default=default_log_file(), help="the request log to read "
                        "(default: the proxy's, %(default)s)")  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default), json or csv")
    return parser


def main(argv: list[str] | None = None, prog: str = "headroom perf") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        lines, skipped = read_log(args.log_file)
    except (OSError, ValueError) as error:
        print(f"{prog}: cannot read {args.log_file}: {error}", file=sys.stderr)
        return 1
    if skipped:
        print(f"{prog}: skipped {skipped} unreadable line{'s' * (skipped > 1)} in {args.log_file}", file=sys.stderr)
    report = {"log": str(args.log_file), **summarize(lines)}
    if args.format == "json":
        print(json.dumps(report, indent=2))
    elif args.format == "csv":
        print(as_csv(report), end="")
    else:
        print(render(report) if lines else NO_DATA)
    return 0


def read_log(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The log's readable lines, oldest first (its rotated part, then itself), and how many were not readable;
    `ValueError` when it has lines and none of them is a request's."""
    lines, skipped, first_error = [], 0, ""
    for part in (rotated(path), path):
        try:
            text = part.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        for number, raw in enumerate(text.splitlines(), 1):
            line = request_line(raw)
            if line is None:
                skipped += 1
                first_error = first_error or f"line {number} of {part.name} is not a request's"
            else:
                lines.append(line)
    if skipped and not lines:
        raise ValueError(f"not a headroom request log ({first_error})")
    return lines, skipped


def request_line(raw: str) -> dict[str, Any] | None:
    """A log line as a request's numbers; None when it is not one."""
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(line, dict) or not isinstance(line.get("request_id"), str):
        return None
    groups, overhead = line.get("blocks", []), line.get("overhead_ms")
    if not isinstance(groups, list) or not all(_is_group(group) for group in groups):
        return None
    if overhead is not None and not isinstance(overhead, (int, float)):
        return None
    return line


def _is_group(group: Any) -> bool:
    return isinstance(group, dict) and all(isinstance(group.get(name), kind) for name, kind in _GROUP_FIELDS.items())


def summarize(lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Requests, the time span, overhead percentiles, and the blocks' numbers by tool and by kind."""
    lines = list(lines)
    by_tool: defaultdict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    by_kind: defaultdict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for line in lines:
        for group in line.get("blocks", []):
            numbers = {**group, "tokens_saved": group["tokens_before"] - group["tokens_after"]}
            for tally in (by_tool[group["tool"] or NO_TOOL], by_kind[group["kind"] or UNDETECTED]):
                for column in COLUMNS:
                    tally[column] += numbers[column]
    times = sorted(line["time"] for line in lines if isinstance(line.get("time"), str))
    return {
        "requests": len(lines),
        "first": times[0] if times else None,
        "last": times[-1] if times else None,
        "overhead_ms": percentiles(line["overhead_ms"] for line in lines if line.get("overhead_ms") is not None),
        "by_tool": _rounded(by_tool),
        "by_kind": _rounded(by_kind),
    }


def _rounded(tallies: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Biggest saving first, milliseconds to the microsecond."""
    order = sorted(tallies.items(), key=lambda item: (-item[1]["tokens_saved"], item[0]))
    return {name: {**tally, "ms": round(tally["ms"], 3)} for name, tally in order}


def as_csv(report: dict[str, Any]) -> str:
    """One row per tool and per kind: `group` says which, `name` which one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", "name", *COLUMNS])
    for group in ("tool", "kind"):
        for name, tally in report[f"by_{group}"].items():
            writer.writerow([group, name, *(tally[column] for column in COLUMNS)])
    return out.getvalue()


def render(report: dict[str, Any]) -> str:
    overhead = report["overhead_ms"]
    span = f"{report['requests']:,} requests from {report['first']} to {report['last']}"
    percentiles = ", ".join(f"{p} {_ms(value)}" for p, value in overhead.items())
    lines = [f"headroom perf ({report['log']}): {span}", f"proxy overhead per request: {percentiles}"]
    for group in ("tool", "kind"):
        if report[f"by_{group}"]:
            lines += ["", *_table(f"by {group}", report[f"by_{group}"])]
    return "\n".join(lines)


def _table(title: str, tallies: dict[str, dict[str, float]]) -> list[str]:
    width = max(len(title), *(len(name) for name in tallies))
    heads = ("blocks", "tokens before", "tokens after", "tokens saved", "saved", "engine ms", "ms per block")
    rows = [[name, f"{t['blocks']:,}", f"{t['tokens_before']:,}", f"{t['tokens_after']:,}", f"{t['tokens_saved']:,}",
             f"{t['tokens_saved'] / t['tokens_before']:.0%}" if t["tokens_before"] else "-", f"{t['ms']:,.1f}",
             f"{t['ms'] / t['blocks']:,.2f}" if t["blocks"] else "-"] for name, t in tallies.items()]  # fmt: skip
    return [f"{title:<{width}}  " + "  ".join(f"{head:>13}" for head in heads)] + [
        f"{row[0]:<{width}}  " + "  ".join(f"{cell:>13}" for cell in row[1:]) for row in rows]  # fmt: skip


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"
