"""Compressors: one module per kind of content, each turning a block's text into a shorter text.

The contract every compressor keeps (the engine relies on it and tests/runtime/compressors check it):
- `compress(text, params, context) -> Compressed | None`; None means "nothing worth doing", and raising is
  allowed: either way the engine leaves the block untouched (and records why).
- Deterministic: the same text, parameters and context give the same bytes, always (no clocks, no randomness,
  no dict-order or set-order surprises), so a provider's prompt cache keeps hitting.
- Lossless where it keeps: every line, item, row or value it keeps is byte-identical to the input. It never cuts
  a value in half (a timestamp split at ':' or a truncated hash is a lost value).
- Reversible where it drops: what it leaves out is summarized in the text by `omission_marker`, which names the
  block's reference so the agent can retrieve the original (the engine stores the whole original under it).
- It uses only the parameters the catalog (`headroom.compiler.catalog.COMPRESSORS`) declares for it, already
  converted: counts as int, percentages as fractions, flags as bool, lists as tuples of str.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Compressor name (as the catalog and the rules call it) → the module in this package that implements it.
MODULES = {
    "crusher": "json_array",
    "csv": "table",
    "log": "log",
    "test_output": "test_output",
    "build_output": "build_output",
    "diff": "diff",
    "html": "html",
    "code": "code",
    "text": "text",
}


@dataclass(frozen=True)
class Context:
    """What a compressor may know beyond the text: hints of what the agent needs now."""

    query: str = ""  # the latest user message before the block, as written
    tool_input: str = ""  # the input of the tool call that produced the block, as JSON text ("" if none)
    kind: str = "text"  # the detected content kind (`code:python`, `log`, ...)
    ref: str = ""  # the reference under which the engine stores the original; markers name it

    def terms(self) -> frozenset[str]:
        """Distinctive words of the query and the tool input (identifiers, numbers, quoted strings), lowercased:
        an item, line or row containing one is likely what the agent is looking for."""
        return query_terms(self.query + "\n" + self.tool_input)


@dataclass(frozen=True)
class Compressed:
    text: str  # the compressed block, omission markers included
    summary: str  # what was left out, for `transforms_applied`: "480 of 500 items", "2,013 lines"


Compressor = Callable[[str, Mapping[str, Any], Context], Compressed | None]


def compressor(name: str) -> Compressor:
    """The `compress` function of the named compressor (modules are imported on first use)."""
    module = importlib.import_module(f"{__name__}.{MODULES[name]}")
    return module.compress


def omission_marker(what: str, context: Context) -> str:
    """The text standing where content was left out: what, and how to get it back."""
    return f"[headroom: {what} omitted; retrieve with ref={context.ref}]"


_STOPWORDS = frozenset(
    """a an the and or not of to in on at by for with from as is are was were be been it its this that these those
    what which who whom whose when where why how do does did done can could should would will shall may might must
    i me my we our you your he she they them their there here if then else than so such any all some no yes
    find show tell explain give list get run check look see use make let please answer precisely exact exactly
    one two first last each every about into out up down over under again more most other only own same very
    just also now new old why whats""".split()  # noqa: SIM905 - a block of words reads better than a list
)
_TERM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/:]*[A-Za-z0-9_]|[A-Za-z0-9_]")


def query_terms(text: str) -> frozenset[str]:
    """Words worth matching: identifiers and numbers of three characters or more that are not common English."""
    terms = set()
    for match in _TERM.finditer(text):
        word = match.group().lower()
        if len(word) >= 3 and word not in _STOPWORDS:
            terms.add(word)
    return frozenset(terms)
