"""The `headroom_retrieve` tool, and how each API's bodies and answers carry it: Anthropic Messages, OpenAI Chat
Completions and OpenAI Responses each declare tools, make calls and take results back in their own shape. The
retrieve loop (`retrieval`) is written once against `Shape`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from headroom.runtime.proxy.errors import responses_error_after
from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.streaming import BrokenEvent

TOOL = "headroom_retrieve"
DESCRIPTION = (
    "Retrieve text that headroom omitted from this conversation. Call it with the ref from a "
    "'[headroom: ... omitted; retrieve with ref=<ref>]' marker to get the original text back; add a query to get "
    "only the lines that mention its words."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "ref": {"type": "string", "description": "the ref named in the marker"},
        "query": {"type": "string", "description": "words to look for; only matching lines are returned"},
    },
    "required": ["ref"],
}
TEXT_BETWEEN_ROUNDS = "\n\n"  # joins what the model said in each round, where an API's answer has one text


@dataclass(frozen=True)
class Call:
    """A tool call in a model's answer; `arguments` are empty when they were not a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any]


class Shape(Protocol):
    """How one API's bodies and answers carry tools."""

    provider: Provider
    broken_stream: BrokenEvent | None  # how its stream says it broke off (None: the provider's `event: error`)

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def calls(self, answer: dict[str, Any]) -> list[Call]: ...
    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict: ...
    def finished(self, answer: dict[str, Any], usage: dict[str, Any], earlier: list[dict[str, Any]]) -> dict:
        """The client's answer: the last one, with what the model said in the `earlier` rounds before it, our
        calls removed and the usage of every round."""
        ...

    def shown(self, answer: dict[str, Any]) -> dict[str, Any]:
        """An answer (or a stream's response) that never called our tool, as the client sees it: as it came, but
        for anything that echoes the request's tools."""
        ...


class MessagesShape:
    """Anthropic Messages: tools are `{name, description, input_schema}`; calls are `tool_use` content blocks;
    results go back as `tool_result` blocks in a user turn."""

    provider = Provider.ANTHROPIC
    broken_stream = None

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = {"name": TOOL, "description": DESCRIPTION, "input_schema": SCHEMA}
        return {**body, "tools": [*(body.get("tools") or []), tool]}

    def calls(self, answer: dict[str, Any]) -> list[Call]:
        return [Call(block.get("id", ""), block.get("name", ""), as_object(block.get("input")))
                for block in answer.get("content") or [] if block.get("type") == "tool_use"]  # fmt: skip

    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict:
        tool_results = [{"type": "tool_result", "tool_use_id": id, "content": text} for id, text in results]
        turns = [
            {"role": "assistant", "content": answer.get("content") or []},
            {"role": "user", "content": tool_results},
        ]
        return {**body, "messages": [*body["messages"], *turns]}

    def finished(self, answer: dict[str, Any], usage: dict[str, Any], earlier: list[dict[str, Any]]) -> dict:
        content = [block for each in [*earlier, answer] for block in each.get("content") or [] if not ours(block)]
        done = {**answer, "content": content, "usage": usage}
        if answer.get("stop_reason") == "tool_use" and not any(block.get("type") == "tool_use" for block in content):
            done["stop_reason"] = "end_turn"
        return done

    def shown(self, answer: dict[str, Any]) -> dict[str, Any]:
        return answer


class ChatShape:
    """OpenAI Chat Completions: tools are `{"type": "function", "function": {...}}`; calls are the first choice's
    `tool_calls`, their arguments a JSON string; results go back as `tool` messages."""

    provider = Provider.OPENAI
    broken_stream = None

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = {"type": "function", "function": {"name": TOOL, "description": DESCRIPTION, "parameters": SCHEMA}}
        return {**body, "tools": [*(body.get("tools") or []), tool]}

    def calls(self, answer: dict[str, Any]) -> list[Call]:
        return [Call(call.get("id", ""), call.get("function", {}).get("name", ""),
                     as_object(parse_json(call.get("function", {}).get("arguments"))))
                for call in first_message(answer).get("tool_calls") or []]  # fmt: skip

    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict:
        tools = [{"role": "tool", "tool_call_id": id, "content": text} for id, text in results]
        return {**body, "messages": [*body["messages"], first_message(answer), *tools]}

    def finished(self, answer: dict[str, Any], usage: dict[str, Any], earlier: list[dict[str, Any]]) -> dict:
        choice = (answer.get("choices") or [{}])[0]
        message = dict(choice.get("message") or {})
        said = [text for each in [*earlier, answer] if (text := first_message(each).get("content"))]
        if said:
            message["content"] = TEXT_BETWEEN_ROUNDS.join(said)
        kept = [call for call in message.get("tool_calls") or [] if not ours(call.get("function", {}))]
        if "tool_calls" in message:
            message["tool_calls"] = kept or None
        choice = {**choice, "message": message}
        if choice.get("finish_reason") == "tool_calls" and not kept:
            choice["finish_reason"] = "stop"
        return {**answer, "choices": [choice, *answer["choices"][1:]], "usage": usage}

    def shown(self, answer: dict[str, Any]) -> dict[str, Any]:
        return answer


class ResponsesShape:
    """OpenAI Responses: tools are `{"type": "function", "name", ...}`; calls are `function_call` output items,
    their arguments a JSON string; the answer's output items go back as input (see `resent`), followed by a
    `function_call_output` item per call.

    Every round keeps the client's `previous_response_id` and `store`: the next round's input is the client's input
    with the rounds' items after it, which is the same conversation whether or not the provider stores responses.
    (Chaining a round to the last one's id instead would fail with `store: false`.) The client's answer is the last
    round's response, whose stored conversation, when responses are stored, holds every round, so it is the one a
    later request can continue from."""

    provider = Provider.OPENAI
    broken_stream = staticmethod(responses_error_after)

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = {"type": "function", "name": TOOL, "description": DESCRIPTION, "parameters": SCHEMA}
        return {**body, "tools": [*(body.get("tools") or []), tool]}

    def calls(self, answer: dict[str, Any]) -> list[Call]:
        return [Call(item.get("call_id", ""), item.get("name", ""), as_object(parse_json(item.get("arguments"))))
                for item in answer.get("output") or [] if item.get("type") == "function_call"]  # fmt: skip

    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict:
        outputs = [{"type": "function_call_output", "call_id": id, "output": text} for id, text in results]
        items = resent(answer.get("output") or [], stored=body.get("store") is not False)
        return {**body, "input": [*body["input"], *items, *outputs]}

    def finished(self, answer: dict[str, Any], usage: dict[str, Any], earlier: list[dict[str, Any]]) -> dict:
        output = [item for each in [*earlier, answer] for item in each.get("output") or [] if not ours(item)]
        return self.shown({**answer, "output": output, "usage": usage})

    def shown(self, answer: dict[str, Any]) -> dict[str, Any]:
        """A response echoes the request's `tools`: ours is left out."""
        tools = answer.get("tools")
        if not isinstance(tools, list):
            return answer
        return {**answer, "tools": [tool for tool in tools if not (isinstance(tool, dict) and ours(tool))]}


def resent(items: list[dict[str, Any]], stored: bool) -> list[dict[str, Any]]:
    """A round's output items as the next round's input. With `store: false` the provider keeps no item, so an
    item id in the input names one it cannot find (a 404): items go back without their ids, as Codex sends its own,
    and a reasoning item only when it carries its `encrypted_content`, which stands for it then."""
    if stored:
        return items
    return [item if item.get("type") == "reasoning" else {key: value for key, value in item.items() if key != "id"}
            for item in items if item.get("type") != "reasoning" or item.get("encrypted_content")]  # fmt: skip


def has_own_tool(body: dict[str, Any]) -> bool:
    """Whether the client declared a tool of our tool's name (in any API's shape): then the tool is theirs."""
    return any(isinstance(tool, dict) and TOOL in (tool.get("name"), as_object(tool.get("function")).get("name"))
               for tool in body.get("tools") or [])  # fmt: skip


def only_ours(calls: list[Call]) -> bool:
    """Whether the model called our tool and nothing else: the case the proxy answers itself."""
    return bool(calls) and all(call.name == TOOL for call in calls)


def ours(item: dict[str, Any]) -> bool:
    """Whether a content block, function or output item is (a call of) our tool."""
    return item.get("name") == TOOL


def first_message(answer: dict[str, Any]) -> dict[str, Any]:
    return ((answer.get("choices") or [{}])[0]).get("message") or {}


def parse_json(text: str | bytes | None) -> Any:
    """The JSON value of `text`; None when it is not JSON."""
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
