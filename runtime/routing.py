"""The contract between the engine and a compiled policy: the facts about a block, and the decision about it.

A compiled router (`route(block) -> Decision`) reads only the attributes of `Block` below; the engine may pass any
object that has them (for example one that detects the content kind only when the router first asks for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


@dataclass(slots=True)
class Block:
    """What the router may ask about one block of a message.

    In the `stable` cache mode the engine computes every conversation-dependent fact (age, user_text) as of the
    moment the block's message was first sent, so a block's decision never changes as the conversation grows.
    """

    kind: str = "text"  # json_array, json, jsonl, log, test_output, build_output, diff, html, csv, tsv, markdown,
    #                     text, code, code:python, ...
    tokens: int = 0
    chars: int = 0
    items: int = 0  # records: array items, JSONL lines, CSV rows; 0 when the content has none
    lines: int = 0
    tool: str = ""  # the tool whose result this is; "" for a block that is not a tool result
    model: str = ""
    provider: str = ""  # anthropic, openai, ...
    role: str = "tool"  # user, assistant, tool, system
    age: int = 0  # messages after this block's message
    is_error: bool = False  # a tool result marked as an error
    user_text: str = ""  # the latest user message before the block, lowercased


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a block, and which statement of which `.hrules` file said so."""

    action: str  # keep | compress
    reason: str  # a short phrase: "rule 'logs'", "excluded tool", "below min_tokens", ...
    origin: str  # file:line of the deciding statement; file:0 when nothing matched, <built-in>:0 for defaults
    rule: str | None = None
    compressor: str | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: NO_PARAMS)

    def explain(self) -> str:
        """One line for a user asking why a block was (not) compressed."""
        what = f"compress with {self.compressor}({_arguments(self.params)})" if self.action == "compress" else "keep"
        return f"{what} — {self.reason} ({self.origin})"


def _arguments(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}: {value}" for name, value in params.items())
