"""Reading back what a line-folding compressor produced: kept lines must be the input's lines, byte for byte and in
order, and each marker must stand for exactly the number of lines it names."""

from __future__ import annotations

import re


def marker_pattern(ref: str) -> re.Pattern[str]:
    """A marker line for the given reference; group 1 is what it says was omitted."""
    return re.compile(rf"\[headroom: (.*) omitted; retrieve with ref={re.escape(ref)}\]")


def number(text: str) -> int:
    """`1,204` → 1204."""
    return int(text.replace(",", ""))


def replay(text: str, output: str, ref: str) -> list[str]:
    """Check `output` against `text` line by line; return the markers' texts (there must be at least one)."""
    marker = marker_pattern(ref)
    source, position, markers = text.split("\n"), 0, []
    for line in output.split("\n"):
        found = marker.fullmatch(line)
        if found:
            markers.append(found.group(1))
            position += number(found.group(1).split(" ", 1)[0])
        else:
            assert line == source[position], f"line {position} changed or out of order"
            position += 1
    assert position == len(source)
    assert markers, "nothing was folded"
    return markers


def kept(output: str, ref: str) -> list[str]:
    """The lines of `output` that are not markers."""
    marker = marker_pattern(ref)
    return [line for line in output.split("\n") if not marker.fullmatch(line)]
