"""Tokens before and after compression, and the difference: the numbers every count of savings starts from, whether
the proxy's running totals (`tally`) or the savings file's (`daybook`), added up in one place so they agree."""

from __future__ import annotations  # the fields' types stay names: `daybook` checks a file's values by them

from dataclasses import dataclass


@dataclass
class Tokens:
    tokens_before: int = 0
    tokens_after: int = 0
    tokens_saved: int = 0

    def add(self, tokens_before: int, tokens_after: int) -> None:
        self.tokens_before += tokens_before
        self.tokens_after += tokens_after
        self.tokens_saved += tokens_before - tokens_after
