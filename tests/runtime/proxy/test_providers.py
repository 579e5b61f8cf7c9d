"""Which upstream a request goes to, from its path and its credentials."""

from __future__ import annotations

import pytest

from headroom.runtime.proxy.providers import Provider, provider_for

ANTHROPIC, OPENAI = Provider.ANTHROPIC, Provider.OPENAI


@pytest.mark.parametrize(
    ("path", "headers", "provider"),
    [
        ("/v1/messages", {"authorization": "Bearer x"}, ANTHROPIC),  # Anthropic's path, whatever the credentials
        ("/v1/messages/batches/b1", {}, ANTHROPIC),
        ("/v1/chat/completions", {"x-api-key": "k"}, OPENAI),  # OpenAI's path, whatever the credentials
        ("/v1/responses", {}, OPENAI),
        ("/v1/embeddings", {}, OPENAI),
        ("/v1/completions", {}, OPENAI),
        ("/v1/chatbot", {}, ANTHROPIC),  # prefixes match whole path segments only
        ("/v1/models", {"authorization": "Bearer sk-x"}, OPENAI),
        ("/v1/models", {"authorization": "Bearer sk-ant-oat", "anthropic-version": "2023-06-01"}, ANTHROPIC),
        ("/v1/models", {"x-api-key": "k"}, ANTHROPIC),
        ("/v1/models", {}, ANTHROPIC),
        ("/v1/files/f1", {"authorization": "Basic eA=="}, ANTHROPIC),
    ],
)
def test_provider_for(path: str, headers: dict[str, str], provider: Provider) -> None:
    assert provider_for(path, headers) is provider
