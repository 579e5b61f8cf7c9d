"""headroom: a context-compression proxy for coding agents, driven by policies written in `.hrules` files.

`compress(messages, model=...)` and `retrieve(ref)` are the library's entry points; they load the engine on first
use, so importing `headroom` stays cheap for the command-line tools.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "compress", "retrieve"]


def compress(messages: list[Any], model: str = "", rules: Any = None, system: Any = None) -> Any:
    """Compress a conversation; see `headroom.runtime.engine.compress`."""
    from headroom.runtime.engine import compress as run

    return run(messages, model=model, rules=rules, system=system)


def retrieve(ref: str, query: str | None = None) -> str | None:
    """The original of a compressed block; see `headroom.runtime.engine.retrieve`."""
    from headroom.runtime.engine import retrieve as run

    return run(ref, query)
