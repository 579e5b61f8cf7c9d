"""Which provider a request is for: it decides the upstream a request goes to and the shape of the errors the
proxy answers with.

Anthropic clients are pointed at the proxy's root (`ANTHROPIC_BASE_URL=http://127.0.0.1:8787`) and OpenAI clients
at its `/v1` (`OPENAI_BASE_URL=http://127.0.0.1:8787/v1`), so both send `/v1/...` paths. Paths only OpenAI has go
to OpenAI, and those only Anthropic has to Anthropic. A path both have (`/v1/models`, `/v1/files`) or neither
knows goes to OpenAI when the request carries OpenAI's credentials (`Authorization: Bearer`) and nothing of
Anthropic's (`anthropic-version`, which every Anthropic SDK and Claude Code send, or `x-api-key`); everything else
goes to Anthropic.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

_OPENAI_ONLY = ("/v1/chat", "/v1/responses", "/v1/completions", "/v1/embeddings", "/v1/moderations", "/v1/audio",
                "/v1/images", "/v1/batches", "/v1/uploads", "/v1/fine_tuning", "/v1/assistants", "/v1/threads",
                "/v1/vector_stores", "/v1/realtime")  # fmt: skip
_ANTHROPIC_ONLY = ("/v1/messages", "/v1/complete")
_ANTHROPIC_MARKERS = ("anthropic-version", "x-api-key")


class Provider(Enum):
    ANTHROPIC = "anthropic"
    OPENAI = "openai"


def provider_for(path: str, headers: Mapping[str, str]) -> Provider:
    """The provider a request is for, from its path and its headers (names in lower case)."""
    if _under(path, _OPENAI_ONLY):
        return Provider.OPENAI
    if _under(path, _ANTHROPIC_ONLY):
        return Provider.ANTHROPIC
    if any(marker in headers for marker in _ANTHROPIC_MARKERS):
        return Provider.ANTHROPIC
    if headers.get("authorization", "").lower().startswith("bearer "):
        return Provider.OPENAI
    return Provider.ANTHROPIC


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)
