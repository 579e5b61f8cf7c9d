"""What a model's tokens cost, for the budget and for the dollars savings are worth: litellm's price map when it
knows the model, else a small bundled table.

litellm's map is read from the copy inside its wheel (`LITELLM_LOCAL_MODEL_COST_MAP=True`, set before the import),
never fetched. Importing litellm takes seconds, so it is loaded on a background thread when the proxy starts
and a request never waits for it: until it has loaded, and for models it does not know, the table prices the
request. A model neither knows is priced at the table's dearest rates, so an unknown model can only make the
budget stop early, never overshoot.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CACHE_WRITE_FACTOR = 1.25  # Anthropic bills writing the prompt cache at 1.25 times the input price
CACHE_READ_FACTOR = 0.1  # and reading it at a tenth


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int, cache_write: int = 0, cache_read: int = 0) -> float:
        billed_input = input_tokens + cache_write * CACHE_WRITE_FACTOR + cache_read * CACHE_READ_FACTOR
        return (billed_input * self.input + output_tokens * self.output) / 1_000_000


# Published list prices, longest name first so `gpt-4o-mini` is not priced as `gpt-4o`.
TABLE: Mapping[str, Price] = dict(sorted({
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    "claude-haiku-4": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "gpt-5-mini": Price(0.25, 2.0),
    "gpt-5-nano": Price(0.05, 0.4),
    "gpt-5": Price(1.25, 10.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
    "gpt-4.1-nano": Price(0.1, 0.4),
    "gpt-4.1": Price(2.0, 8.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "gpt-4o": Price(2.5, 10.0),
    "o4-mini": Price(1.1, 4.4),
    "o3-mini": Price(1.1, 4.4),
    "o3": Price(2.0, 8.0),
    "o1": Price(15.0, 60.0),
}.items(), key=lambda item: -len(item[0])))  # fmt: skip
DEAREST = Price(max(p.input for p in TABLE.values()), max(p.output for p in TABLE.values()))


def price_for(model: str) -> Price:
    """The price of a model's tokens (see the module's docstring for where it comes from)."""
    return known_price(model) or _unknown(model.lower().rsplit("/", 1)[-1])


def known_price(model: str) -> Price | None:
    """The price of a model's tokens; None when neither litellm nor the table knows the model (savings then say
    so, where the budget assumes the dearest rates)."""
    name = model.lower().rsplit("/", 1)[-1]
    return _litellm_price(name) or _table_price(name)


def load_litellm_in_background() -> None:
    """Start loading litellm's price map, so that requests find it loaded."""
    threading.Thread(target=_litellm_costs, name="headroom-prices", daemon=True).start()


def _litellm_price(name: str) -> Price | None:
    if _litellm_costs.cache_info().currsize == 0:  # not loaded yet: the table prices this request
        return None
    entry = _litellm_costs().get(name)
    if not isinstance(entry, Mapping):
        return None
    per_input, per_output = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if not isinstance(per_input, (int, float)) or not isinstance(per_output, (int, float)):
        return None
    return Price(per_input * 1_000_000, per_output * 1_000_000)


@functools.cache
def _litellm_costs() -> Mapping[str, Any]:
    """litellm's price map, from its wheel; empty when litellm is missing or fails to load."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before the import: litellm reads it while loading
    try:
        import litellm
    except Exception as error:  # missing, or broken: the table prices everything
        log.info("litellm's price map is unavailable (%s); the bundled price table is used", error)
        return {}
    return litellm.model_cost


def _table_price(name: str) -> Price | None:
    return next((price for prefix, price in TABLE.items() if name.startswith(prefix)), None)


@functools.lru_cache(maxsize=64)  # warn once per model
def _unknown(name: str) -> Price:
    log.warning("no price known for model %r; the budget counts it at the dearest known rates", name)
    return DEAREST
