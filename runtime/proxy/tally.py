"""Running totals, the unit every number the proxy reports is made of: per request (in all, per model, per minute,
for life) and per block (per tool, per content kind)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from headroom.runtime.engine import BlockRecord
from headroom.runtime.proxy.counts import Tokens
from headroom.runtime.proxy.usage import Usage


@dataclass
class Exchange:
    """One request as the numbers count it, from its arrival to the last byte of its answer."""

    request_id: str
    method: str
    path: str
    status: int
    started: float = field(default_factory=time.time)  # seconds since the epoch
    provider: str = ""
    model: str = ""
    client: str = ""  # who sent it: see `accounting.client_of`
    tokens_before: int = 0
    tokens_after: int = 0
    tokens_saved: int = 0
    transforms: list[str] = field(default_factory=list)
    blocks: list[BlockRecord] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    total_ms: float = 0.0
    overhead_ms: float | None = None  # the proxy's own work before forwarding; None when it did none (passthrough)
    error: str | None = None


@dataclass
class Tally:
    """Requests and their tokens: what compression saved, and what the provider reported billing."""

    requests: int = 0
    errors: int = 0
    tokens: Tokens = field(default_factory=Tokens)
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, exchange: Exchange) -> None:
        self.requests += 1
        self.errors += exchange.status >= 400 or exchange.error is not None
        self.tokens.add(exchange.tokens_before, exchange.tokens_after)
        self.input_tokens += exchange.usage.input
        self.output_tokens += exchange.usage.output

    def as_dict(self) -> dict[str, Any]:
        tokens = asdict(self.tokens)  # among the others, in the order /stats has always had them
        return {
            "requests": self.requests,
            "errors": self.errors,
            **tokens,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass
class BlockTally:
    """Blocks and their tokens, for the numbers by tool and by content kind."""

    blocks: int = 0
    tokens: Tokens = field(default_factory=Tokens)

    def add(self, block: BlockRecord) -> None:
        self.blocks += 1
        self.tokens.add(block.tokens_before, block.tokens_after)

    def as_dict(self) -> dict[str, Any]:
        return {"blocks": self.blocks, **asdict(self.tokens)}
