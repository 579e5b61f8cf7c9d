"""Reading and rewriting both message shapes: every text slot found with its tool, nothing else ever changed."""

from __future__ import annotations

import copy

from headroom.runtime import messages as conversation

ANTHROPIC = [
    {"role": "user", "content": "Why does the build fail?"},
    {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make"}},
    ]},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "error: x", "is_error": True},
        {"type": "text", "text": "and the logs?"},
    ]},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"path": "a"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": [
        {"type": "text", "text": "file body"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
    ]}]},
]  # fmt: skip

OPENAI = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": [{"type": "text", "text": "list the orders"}]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "query_db", "arguments": '{"sql": "select 1"}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "[1, 2, 3]"},
]  # fmt: skip


def test_anthropic_slots_name_their_tools() -> None:
    found = [(s.message, s.path, s.role, s.tool, s.is_error, s.text) for s in conversation.slots(ANTHROPIC)]
    assert found == [
        (0, ("content",), "user", "", False, "Why does the build fail?"),
        (1, ("content", 0, "text"), "assistant", "", False, "Let me look."),
        (2, ("content", 0, "content"), "tool", "Bash", True, "error: x"),
        (2, ("content", 1, "text"), "user", "", False, "and the logs?"),
        (4, ("content", 0, "content", 0, "text"), "tool", "Read", False, "file body"),
    ]
    bash = next(s for s in conversation.slots(ANTHROPIC) if s.tool == "Bash")
    assert bash.tool_input == '{"command": "make"}'


def test_openai_slots_name_their_tools() -> None:
    found = [(s.message, s.path, s.role, s.tool, s.tool_input) for s in conversation.slots(OPENAI)]
    assert found == [
        (0, ("content",), "system", "", ""),
        (1, ("content", 0, "text"), "user", "", ""),
        (3, ("content",), "tool", "query_db", '{"sql": "select 1"}'),
    ]


def test_user_texts_are_causal() -> None:
    assert conversation.user_texts(ANTHROPIC) == [
        "Why does the build fail?", "Why does the build fail?", "and the logs?", "and the logs?", "and the logs?",
    ]  # fmt: skip


def test_rewrite_changes_only_the_named_slots() -> None:
    original = copy.deepcopy(ANTHROPIC)
    rewritten = conversation.rewrite(ANTHROPIC, {(4, ("content", 0, "content", 0, "text")): "short"})
    assert original == ANTHROPIC  # the input is never mutated
    assert rewritten[4]["content"][0]["content"][0]["text"] == "short"
    assert rewritten[4]["content"][0]["content"][1] == ANTHROPIC[4]["content"][0]["content"][1]  # the image
    assert all(rewritten[i] is ANTHROPIC[i] for i in range(4))  # untouched messages are the same objects
