"""Reading and rewriting conversations in both message shapes, Anthropic and OpenAI chat, and the input items of
OpenAI's Responses API (messages with `input_text`/`output_text` parts, `function_call` items and their
`function_call_output` results).

The engine sees a conversation as a list of text slots — every place holding text an LLM reads — and gives back
new text for some of them. Everything else is left exactly as it was: the number, order and roles of messages,
tool ids and tool inputs, images, cache-control marks and unknown fields. A message none of whose slots changed
is returned as the very same object.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
_TEXT_PARTS = ("text", "input_text", "output_text")  # chat and Anthropic; Responses input; Responses output


@dataclass(frozen=True)
class Slot:
    """One piece of text in a message, and what is known about where it came from."""

    message: int  # index of the message
    path: Path  # keys from the message down to the text
    text: str
    role: str  # user, assistant, tool, system
    tool: str = ""  # for a tool result: the tool's name
    tool_input: str = ""  # for a tool result: the call's input, as JSON text
    is_error: bool = False


@dataclass(frozen=True)
class _ToolCall:
    name: str
    input: str


def slots(messages: list[Mapping[str, Any]]) -> Iterator[Slot]:
    """Every text slot of the conversation, in order."""
    calls: dict[str, _ToolCall] = {}
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            continue
        _remember_calls(message, calls)
        yield from _message_slots(index, message, calls)


def user_texts(messages: list[Mapping[str, Any]]) -> list[str]:
    """For each message, the text of the latest user message up to it that has text of its own (not only tool
    results): the best hint of what the agent is after when it reads a tool result there."""
    latest = ""
    found = []
    for message in messages:
        if isinstance(message, Mapping) and message.get("role") == "user":
            text = _own_text(message.get("content"))
            latest = text or latest
        found.append(latest)
    return found


def tool_inputs_texts(messages: list[Mapping[str, Any]]) -> list[str]:
    """The JSON text of every tool call's input, in order (counted, never changed)."""
    return [call.input for message in messages if isinstance(message, Mapping) for call in _calls(message)]


def rewrite(messages: list[Any], replacements: Mapping[tuple[int, Path], str]) -> list[Any]:
    """The conversation with the slots at the given places replaced; untouched messages are the same objects."""
    result = list(messages)
    by_message: dict[int, list[tuple[Path, str]]] = {}
    for (index, path), text in replacements.items():
        by_message.setdefault(index, []).append((path, text))
    for index, changes in by_message.items():
        message = copy.deepcopy(messages[index])
        for path, text in changes:
            _set(message, path, text)
        result[index] = message
    return result


# --- reading ------------------------------------------------------------------------------------------------------


def _message_slots(index: int, message: Mapping[str, Any], calls: dict[str, _ToolCall]) -> Iterator[Slot]:
    role = str(message.get("role", ""))
    content = message.get("content")
    if role == "tool":  # OpenAI: a tool's result is a message of its own
        call = calls.get(str(message.get("tool_call_id", "")), _ToolCall("", ""))
        yield from _text_slots(index, ("content",), content, "tool", call)
        return
    if message.get("type") == "function_call_output":  # OpenAI Responses: a tool's result is an item of its own
        call = calls.get(str(message.get("call_id", "")), _ToolCall("", ""))
        yield from _text_slots(index, ("output",), message.get("output"), "tool", call)
        return
    if isinstance(content, str):
        yield Slot(index, ("content",), content, role)
        return
    if not isinstance(content, list):
        return
    for position, block in enumerate(content):
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in _TEXT_PARTS and isinstance(block.get("text"), str):
            yield Slot(index, ("content", position, "text"), block["text"], role)
        elif kind == "tool_result":
            call = calls.get(str(block.get("tool_use_id", "")), _ToolCall("", ""))
            yield from _text_slots(index, ("content", position, "content"), block.get("content"), "tool", call,
                                   bool(block.get("is_error")))  # fmt: skip


def _text_slots(index: int, path: Path, content: Any, role: str, call: _ToolCall, is_error: bool = False):
    """The text of a tool result: a string, or a list of parts whose text parts are slots (images are not)."""
    if isinstance(content, str):
        yield Slot(index, path, content, role, call.name, call.input, is_error)
    elif isinstance(content, list):
        for position, part in enumerate(content):
            if isinstance(part, Mapping) and part.get("type") in _TEXT_PARTS and isinstance(part.get("text"), str):
                yield Slot(index, (*path, position, "text"), part["text"], role, call.name, call.input, is_error)


def _own_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b["text"] for b in content if isinstance(b, Mapping) and b.get("type") in _TEXT_PARTS
                 and isinstance(b.get("text"), str)]  # fmt: skip
        return "\n".join(texts)
    return ""


def _remember_calls(message: Mapping[str, Any], calls: dict[str, _ToolCall]) -> None:
    for identifier, call in _calls_with_ids(message):
        calls[identifier] = call


def _calls(message: Mapping[str, Any]) -> list[_ToolCall]:
    return [call for _, call in _calls_with_ids(message)]


def _calls_with_ids(message: Mapping[str, Any]) -> Iterator[tuple[str, _ToolCall]]:
    content = message.get("content")
    if isinstance(content, list):  # Anthropic: tool_use blocks
        for block in content:
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                tool_input = json.dumps(block.get("input", {}), ensure_ascii=False, sort_keys=True)
                yield str(block.get("id", "")), _ToolCall(str(block.get("name", "")), tool_input)
    for call in message.get("tool_calls") or ():  # OpenAI: tool_calls with function name and JSON arguments
        if isinstance(call, Mapping):
            function = call.get("function") or {}
            arguments = function.get("arguments", "")
            yield str(call.get("id", "")), _ToolCall(str(function.get("name", "")), str(arguments))
    if message.get("type") == "function_call":  # OpenAI Responses: the call is an item of its own
        arguments = str(message.get("arguments", ""))
        yield str(message.get("call_id", "")), _ToolCall(str(message.get("name", "")), arguments)


def _set(container: Any, path: Path, text: str) -> None:
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = text
