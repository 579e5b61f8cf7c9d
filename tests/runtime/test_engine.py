"""The engine's own promises, with stand-in compressors so they hold whatever the real ones do: decisions come
from the policy; messages, roles, tool ids, inputs, images and the system prompt never change; a failing, slow or
useless compressor leaves its block untouched and says so; results are deterministic and prefix-stable;
`retrieve` gives back exactly the original."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.runtime import engine as engine_module
from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.engine import Engine
from headroom.runtime.policy import load_router
from headroom.runtime.store import Store

POLICY = """\
set min_tokens 20 tokens
exclude tools Read
protect user messages
protect error outputs
set time_budget {budget}
rule logs: when content is log -> compress with log
rule everything_else: when tokens >= 20 -> compress with text
"""

LOG = "\n".join(f"2026-11-12T09:00:{k % 60:02d}Z INFO svc GET /api/{k} 200 {k}ms" for k in range(200))


def halve(text: str, params: Any, context: Context) -> Compressed:
    lines = text.split("\n")
    kept = lines[: len(lines) // 2]
    return Compressed("\n".join([*kept, f"[omitted {len(lines) - len(kept)}; ref={context.ref}]"]), "halved")


def make_engine(tmp_path: Path, budget: str = "2 seconds") -> Engine:
    (tmp_path / "p.hrules").write_text(POLICY.format(budget=budget), encoding="utf-8")
    return Engine(load_router(tmp_path / "p.hrules"), Store(tmp_path / "store.db"))


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Route every compressor name to a function the test chooses (default: keep the first half of the lines)."""
    chosen: dict[str, Any] = {"function": halve}
    monkeypatch.setattr(engine_module, "compressor", lambda name: chosen["function"])
    return chosen


def tool_turn(tool: str, result: str, tool_id: str = "toolu_1", is_error: bool = False) -> list[dict[str, Any]]:
    return [
        {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": tool, "input": {"x": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": result,
                                      "is_error": is_error}]},
    ]  # fmt: skip


def conversation(*turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What happened? " * 30}]
    for turn in turns:
        messages += turn
    return messages


def result_text(messages: list[dict[str, Any]], index: int) -> str:
    return messages[index]["content"][0]["content"]


def test_decisions_come_from_the_policy(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    messages = conversation(tool_turn("Bash", LOG, "t1"), tool_turn("Read", LOG, "t2"),
                            tool_turn("Bash", LOG, "t3", is_error=True), tool_turn("Bash", "tiny", "t4"))  # fmt: skip
    result = make_engine(tmp_path).compress(messages, model="claude-sonnet-4-5")
    assert result_text(result.messages, 2) != LOG  # compressed by rule logs
    assert result_text(result.messages, 4) == LOG  # excluded tool
    assert result_text(result.messages, 6) == LOG  # protected error output
    assert result_text(result.messages, 8) == "tiny"  # below min_tokens
    assert result.messages[0] is messages[0]  # protected user message, same object
    logs_line = POLICY.splitlines().index("rule logs: when content is log -> compress with log") + 1
    assert result.transforms_applied == [f"log: halved [rule 'logs', p.hrules:{logs_line}]"]
    assert result.tokens_saved == result.tokens_before - result.tokens_after > 0
    assert result.compression_ratio == pytest.approx(result.tokens_after / result.tokens_before)


def test_failing_slow_and_useless_compressors_leave_blocks_untouched(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    def fail(text: str, params: Any, context: Context) -> Compressed:
        raise RuntimeError("boom")

    def slow(text: str, params: Any, context: Context) -> Compressed:
        time.sleep(0.5)
        return halve(text, params, context)

    def bigger(text: str, params: Any, context: Context) -> Compressed:
        return Compressed(text + text, "doubled")

    cases = [(fail, "failed (RuntimeError: boom)"), (slow, "exceeded its time budget of 0.05 s"),
             (bigger, "the result was not smaller"), (lambda *a: None, "nothing to compress")]  # fmt: skip
    for function, note in cases:
        stand_in["function"] = function
        folder = tmp_path / note.split()[0]
        folder.mkdir()
        result = make_engine(folder, budget="50 ms").compress(conversation(tool_turn("Bash", LOG)))
        assert result_text(result.messages, 2) == LOG
        assert result.tokens_saved == 0 and result.ccr_hashes == []
        assert any(note in entry for entry in result.transforms_applied), result.transforms_applied


def test_a_block_decided_once_stays_decided(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    engine = make_engine(tmp_path)
    first = engine.compress(conversation(tool_turn("Bash", LOG)))
    stand_in["function"] = lambda *a: Compressed("something else entirely", "changed")
    again = engine.compress(conversation(tool_turn("Bash", LOG)))
    assert again.messages == first.messages  # the remembered result, not a new one: the cache keeps hitting


def test_retrieve_returns_exactly_the_original(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    engine = make_engine(tmp_path)
    result = engine.compress(conversation(tool_turn("Bash", LOG)))
    (ref,) = result.ccr_hashes
    assert ref in result_text(result.messages, 2)
    assert engine.store.original(ref) == LOG


# --- random conversations ---------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
_BIG = st.builds(lambda n, word: "\n".join(f"{word} line {k}" for k in range(n)), st.integers(0, 80),
                 st.sampled_from(["INFO", "plain", "x"]))  # fmt: skip


@st.composite
def anthropic_conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": draw(_TEXT)}]
    for k in range(draw(st.integers(0, 6))):
        tool = draw(st.sampled_from(["Bash", "Read", "WebFetch", "mcp__x__y"]))
        content: Any = draw(_BIG)
        if draw(st.booleans()):
            image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}}
            content = [{"type": "text", "text": content}, image]
        messages += [
            {"role": "assistant", "content": [{"type": "text", "text": draw(_TEXT)},
                                              {"type": "tool_use", "id": f"toolu_{k}", "name": tool,
                                               "input": {"q": draw(_TEXT)}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{k}", "content": content,
                                          "cache_control": {"type": "ephemeral"}}]},
        ]  # fmt: skip
    return messages


@st.composite
def openai_conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": draw(_TEXT)},
        {"role": "user", "content": draw(_TEXT)},
    ]
    for k in range(draw(st.integers(0, 6))):
        call = {
            "id": f"call_{k}",
            "type": "function",
            "function": {"name": draw(st.sampled_from(["bash", "read"])), "arguments": json.dumps({"q": k})},
        }
        messages += [{"role": "assistant", "content": None, "tool_calls": [call]},
                     {"role": "tool", "tool_call_id": f"call_{k}", "content": draw(_BIG)}]  # fmt: skip
    return messages


def _skeleton(messages: list[dict[str, Any]]) -> Any:
    """Everything but the text of tool results and text blocks: what compression must never change."""
    shape = copy.deepcopy(messages)
    for message in shape:
        if message["role"] == "tool":
            message["content"] = "*"
        for block in message["content"] if isinstance(message.get("content"), list) else ():
            if block.get("type") == "tool_result":
                block["content"] = [p if p.get("type") != "text" else "*" for p in block["content"]] \
                    if isinstance(block["content"], list) else "*"  # fmt: skip
            elif block.get("type") == "text":
                block["text"] = "*"
    return shape


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return make_engine(tmp_path_factory.mktemp("engine"))


@given(st.one_of(anthropic_conversations(), openai_conversations()))
def test_nothing_but_text_ever_changes(shared_engine: Engine, messages: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(messages)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_module, "compressor", lambda name: halve)
        result = shared_engine.compress(messages, model="claude-sonnet-4-5", system="be careful")
    assert messages == before
    assert _skeleton(result.messages) == _skeleton(messages)
    assert result.tokens_after <= result.tokens_before


@given(anthropic_conversations())
def test_every_prefix_compresses_to_a_prefix(shared_engine: Engine, messages: list[dict[str, Any]]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_module, "compressor", lambda name: halve)
        whole = shared_engine.compress(messages).messages
        for end in range(1, len(messages) + 1):
            assert shared_engine.compress(messages[:end]).messages == whole[:end]


def test_a_timeout_is_not_remembered(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    def slow(text: str, params: Any, context: Context) -> Compressed:
        time.sleep(0.3)
        return halve(text, params, context)

    stand_in["function"] = slow
    engine = make_engine(tmp_path, budget="50 ms")
    assert result_text(engine.compress(conversation(tool_turn("Bash", LOG))).messages, 2) == LOG
    stand_in["function"] = halve  # the machine is less loaded now: the next turn compresses it
    assert result_text(engine.compress(conversation(tool_turn("Bash", LOG))).messages, 2) != LOG


def test_results_are_remembered_only_for_the_code_that_made_them(tmp_path: Path, stand_in: dict[str, Any]) -> None:
    engine = make_engine(tmp_path)
    first = engine.compress(conversation(tool_turn("Bash", LOG))).messages
    stand_in["function"] = lambda *a: Compressed("new code, new bytes", "changed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_module, "compressors_fingerprint", lambda: "another version")
        assert result_text(engine.compress(conversation(tool_turn("Bash", LOG))).messages, 2) == "new code, new bytes"
    assert engine.compress(conversation(tool_turn("Bash", LOG))).messages == first
