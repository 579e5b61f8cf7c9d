"""The "csv" compressor: a long CSV or TSV table shrunk to its header, the rows an agent needs, and a summary.

Query results and exports come back as tables of hundreds of rows; the agent needs the header, a few rows to see
the shape, the odd rows and the rows it asked about. Rows are chosen exactly as the crusher chooses JSON items
(`records.choose`, with `max_rows` for `max_items`): the first and last shares of `max_rows`, then numeric
outliers, negatives in a non-negative column, rare values of a column with few distinct values, cells left empty
in a column the other rows fill, error-ish values, rows with a different number of cells than the header, rows
naming a rare term of the user's query, and, to fill `max_rows`, rows linked by a shared identifier (two or three
rows with the same value in a column whose values are 90% distinct: the same customer's orders).

Rows are written as their original lines, byte for byte: the delimiter is sniffed (comma, tab, semicolon or pipe:
the one that splits the first lines into the most columns, consistently), the csv module reads the cells for the
statistics only, and a row whose quoted cell spans several lines keeps all of them. No row is ever split and
joined again (a timestamp with colons stays whole). Every dropped run becomes one line:

    [headroom: 480 of 500 rows (rows 6-485: region eu 250, us 230; amount 5.02..399.8) omitted; retrieve with ref=...]

Rows are counted from 1 below the header. The summary gives, column by column while it fits (in 240 characters and
a quarter of the dropped rows' size), the range of the numbers as written, and the counts of few distinct values,
the most common of many, or their range. Blank lines are not rows and are not kept.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from typing import Any

from headroom.compiler.catalog import COMPRESSORS
from headroom.runtime.compressors import Compressed, Context, omission_marker
from headroom.runtime.compressors.records import STRONG, Num, Record, Scalar, choose
from headroom.runtime.compressors.runs import describe, first_kept, fold, identical, worth

_DEFAULTS = {name: spec.default for name, spec in COMPRESSORS["csv"].params.items()}
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SNIFF_LINES = 50


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    """The table with only its telling rows kept (see the module docstring), or None when that saves nothing."""
    p = {**_DEFAULTS, **params}
    table = _read(text, context.kind)
    if table is None:
        return None
    header, rows, surplus = table
    kept = choose(rows, text, context, p["max_rows"], p["keep_first"], p["keep_last"], _ragged(surplus))
    first = first_kept(rows, kept)
    pieces = fold(rows, kept, lambda start, stop: _marker(rows, start, stop, first, context))
    out = _join(header, rows, pieces, text.endswith("\n"))
    dropped = len(rows) - sum(isinstance(piece, int) for piece in pieces)
    return worth(text, out, f"{dropped} of {len(rows)} rows")


# --- reading ------------------------------------------------------------------------------------------------------


def _read(text: str, kind: str) -> tuple[str, list[Record], list[int]] | None:
    """The header's lines, the rows (as records of their original lines) and each row's number of cells less the
    header's."""
    lines = _LINE.findall(text)
    delimiter = _sniff(lines, kind)
    if delimiter is None:
        return None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    try:
        spans = _spans(lines, delimiter)
    except csv.Error:
        return None
    if len(spans) < 2:
        return None
    (start, stop, names), rows = spans[0], spans[1:]
    columns = _names(names)
    records = [_record(lines, offsets, span, columns) for span in rows]
    return "".join(lines[start:stop]), records, [len(cells) - len(names) for _, _, cells in rows]


def _sniff(lines: Sequence[str], kind: str) -> str | None:
    """The delimiter that splits the first lines into the most columns (at least 2), the same number in at least
    80% of the rows; on a tie, tab for a TSV, else the first of comma, tab, semicolon, pipe."""
    candidates = ("\t", ",", ";", "|") if kind == "tsv" else (",", "\t", ";", "|")
    best, best_width = None, 1
    for delimiter in candidates:
        try:
            widths = [len(cells) for cells in csv.reader(lines[:_SNIFF_LINES], delimiter=delimiter) if cells]
        except csv.Error:
            continue
        if len(widths) >= 2 and widths[0] > best_width and widths.count(widths[0]) * 5 >= len(widths) * 4:
            best, best_width = delimiter, widths[0]
    return best


def _spans(lines: list[str], delimiter: str) -> list[tuple[int, int, list[str]]]:
    """Each non-blank record as (first line, line after its last, cells)."""
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    spans, start = [], 0
    for cells in reader:
        if cells:
            spans.append((start, reader.line_num, cells))
        start = reader.line_num
    return spans


def _names(header: list[str]) -> list[str]:
    """Column names for the statistics and summaries: the header's, or `col3` where it is empty or repeated."""
    names: list[str] = []
    for index, cell in enumerate(header):
        name = cell.strip()
        names.append(name if name and name not in names else f"col{index + 1}")
    return names


def _record(lines: list[str], offsets: list[int], span: tuple[int, int, list[str]], columns: list[str]) -> Record:
    start, stop, cells = span
    names = columns + [f"col{index + 1}" for index in range(len(columns), len(cells))]
    fields = [(name, _value(cell.strip())) for name, cell in zip(names, cells, strict=False)]
    filled = frozenset(name for name, value in fields if value != "")
    return Record("".join(lines[start:stop]), offsets[start], fields, filled)


def _value(cell: str) -> Scalar:
    if not _NUMBER.fullmatch(cell):
        return cell
    number = Num(cell)
    number.text = cell
    return number


def _ragged(surplus: list[int]) -> dict[int, float]:
    """Rows with another number of cells than the header, when few rows are like that."""
    odd = [index for index, cells in enumerate(surplus) if cells]
    return {index: STRONG for index in odd} if len(odd) <= max(1, len(surplus) // 10) else {}


# --- writing ------------------------------------------------------------------------------------------------------


def _marker(rows: Sequence[Record], start: int, stop: int, first: Mapping[str, int], context: Context) -> str:
    where = f"row {start + 1}" if stop - start == 1 else f"rows {start + 1}-{stop}"
    twin = identical(rows, start, stop, first)
    summary = describe(rows[start:stop]) if twin is None else ""
    detail = f", each identical to row {twin + 1}" if twin is not None else f": {summary}" if summary else ""
    return omission_marker(f"{stop - start} of {len(rows)} rows ({where}{detail})", context)


def _join(header: str, rows: Sequence[Record], pieces: Sequence[int | str], final_newline: bool) -> str:
    """The header, the kept rows' lines and a line per marker; line breaks as in the input."""
    eol = "\r\n" if header.endswith("\r\n") else "\n"
    parts = [header]
    for piece in pieces:
        if not parts[-1].endswith("\n"):
            parts.append(eol)
        parts.append(rows[piece].text if isinstance(piece, int) else piece + eol)
    out = "".join(parts)
    return out[: -len(eol)] if not final_newline and out.endswith(eol) else out
