"""The library's public entry points, as a user calls them: `headroom.compress` on both message shapes and
`headroom.retrieve` for the originals (the store is the one `HEADROOM_STORE_PATH` names; tests/conftest.py points
it at a scratch folder)."""

from __future__ import annotations

import json

import headroom

LOG = "\n".join(
    f"2026-11-12T09:{k // 60:02d}:{k % 60:02d}Z INFO api GET /v1/items/{k} 200 {k % 90}ms" for k in range(800)
)
LOG = LOG.replace("GET /v1/items/400 200 40ms", "ERROR disk quota exceeded on /var/lib/data")


def test_anthropic_shape_round_trip() -> None:
    messages = [
        {"role": "user", "content": "Why did the writes stop?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"cmd": "logs"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": LOG}]},
    ]
    result = headroom.compress(messages, model="claude-sonnet-4-5")
    compressed = result.messages[2]["content"][0]["content"]
    assert "ERROR disk quota exceeded on /var/lib/data" in compressed
    assert result.tokens_saved > 0.8 * result.tokens_before
    (ref,) = result.ccr_hashes
    assert headroom.retrieve(ref) == LOG
    assert (
        headroom.retrieve(ref, query="quota")
        == "2026-11-12T09:06:40Z INFO api ERROR disk quota exceeded on /var/lib/data"
    )
    assert headroom.retrieve("0000000000000000") is None


def test_openai_shape_round_trip() -> None:
    rows = json.dumps(
        [{"id": f"u{k}", "plan": "free", "seats": 1} for k in range(200)]
        + [{"id": "u-x", "plan": "free", "seats": 9000}]
    )
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Any odd accounts?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "sql", "arguments": '{"q": "select *"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": rows},
    ]  # fmt: skip
    result = headroom.compress(messages, model="gpt-4o")
    assert result.messages[:3] == messages[:3]
    assert '"seats": 9000' in result.messages[3]["content"] or "9000" in result.messages[3]["content"]
    assert result.tokens_after < result.tokens_before / 3
    assert headroom.retrieve(result.ccr_hashes[0]) == rows
