"""The retrieve loop: when compression stored originals, the model may ask for them back, and the proxy answers
that itself, so the client sees one ordinary answer and never the tool.

The request gets a `headroom_retrieve` tool next to the client's own (their order and `tool_choice` untouched).
When the model's answer calls only `headroom_retrieve`, the proxy appends that assistant turn and the originals
(whole, or the lines matching `query`) as tool results, and asks again — at most `MAX_ROUNDS` times. When the
answer also calls a client tool, the loop stops there: the client gets the answer without our calls, since
answering ours would need a second request whose answer could differ from the client calls already decided on,
and the markers stay in the conversation, so the model can ask again on the next turn. After the last round the
answer goes out with our calls removed and, when nothing is left to call, `stop_reason` `end_turn` (OpenAI:
`finish_reason` `stop`). The client's usage is the sum over the rounds.

Streams (Anthropic) are relayed event by event as they arrive, round after round: text comes through at once;
a `headroom_retrieve` block is swallowed; block indexes are renumbered so the client sees one message with
consecutive blocks; `message_start` goes out once, and `message_delta` (stop reason, summed usage) and
`message_stop` only after the last round. OpenAI streams are not looped yet: a streaming OpenAI request gets no
tool and goes up as compression left it (see `Retrieval.applies`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import falcon
import urllib3
from urllib3.exceptions import HTTPError

from headroom.runtime.engine import Engine
from headroom.runtime.proxy.bodies import serialize
from headroom.runtime.proxy.errors import UpstreamStreamBroken, UpstreamUnavailable, sse_error_event
from headroom.runtime.proxy.providers import Provider
from headroom.runtime.proxy.streaming import PIECE, relay
from headroom.runtime.proxy.upstream import response_headers

log = logging.getLogger(__name__)

TOOL = "headroom_retrieve"
MAX_ROUNDS = 3  # retrieve rounds answered by the proxy; the request goes upstream at most MAX_ROUNDS + 1 times
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
Send = Callable[[bytes], urllib3.BaseHTTPResponse]  # one request upstream with this body
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


@dataclass(frozen=True)
class Call:
    """A tool call in a model's answer; `arguments` are empty when they were not a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any]


class Shape(Protocol):
    """How one provider's bodies and answers carry tools."""

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def calls(self, answer: dict[str, Any]) -> list[Call]: ...
    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict: ...
    def finished(self, answer: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]: ...


class Anthropic:
    """Messages API: tools are `{name, description, input_schema}`; calls are `tool_use` content blocks; results
    go back as `tool_result` blocks in a user turn."""

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = {"name": TOOL, "description": DESCRIPTION, "input_schema": SCHEMA}
        return {**body, "tools": [*(body.get("tools") or []), tool]}

    def calls(self, answer: dict[str, Any]) -> list[Call]:
        return [Call(block.get("id", ""), block.get("name", ""), _object(block.get("input")))
                for block in answer.get("content") or [] if block.get("type") == "tool_use"]  # fmt: skip

    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict:
        tool_results = [{"type": "tool_result", "tool_use_id": id, "content": text} for id, text in results]
        turns = [
            {"role": "assistant", "content": answer.get("content") or []},
            {"role": "user", "content": tool_results},
        ]
        return {**body, "messages": [*body["messages"], *turns]}

    def finished(self, answer: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
        content = [block for block in answer.get("content") or [] if not _ours(block)]
        done = {**answer, "content": content, "usage": usage}
        if answer.get("stop_reason") == "tool_use" and not any(block.get("type") == "tool_use" for block in content):
            done["stop_reason"] = "end_turn"
        return done


class OpenAI:
    """Chat Completions: tools are `{"type": "function", "function": {...}}`; calls are the first choice's
    `tool_calls`, their arguments a JSON string; results go back as `tool` messages."""

    def with_tool(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = {"type": "function", "function": {"name": TOOL, "description": DESCRIPTION, "parameters": SCHEMA}}
        return {**body, "tools": [*(body.get("tools") or []), tool]}

    def calls(self, answer: dict[str, Any]) -> list[Call]:
        return [Call(call.get("id", ""), call.get("function", {}).get("name", ""),
                     _object(_json(call.get("function", {}).get("arguments"))))
                for call in _message(answer).get("tool_calls") or []]  # fmt: skip

    def continued(self, body: dict[str, Any], answer: dict[str, Any], results: list[tuple[str, str]]) -> dict:
        tools = [{"role": "tool", "tool_call_id": id, "content": text} for id, text in results]
        return {**body, "messages": [*body["messages"], _message(answer), *tools]}

    def finished(self, answer: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
        choice = (answer.get("choices") or [{}])[0]
        message = dict(choice.get("message") or {})
        kept = [call for call in message.get("tool_calls") or [] if not _ours(call.get("function", {}))]
        if "tool_calls" in message:
            message["tool_calls"] = kept or None
        choice = {**choice, "message": message}
        if choice.get("finish_reason") == "tool_calls" and not kept:
            choice["finish_reason"] = "stop"
        return {**answer, "choices": [choice, *answer["choices"][1:]], "usage": usage}


SHAPES: dict[Provider, Shape] = {Provider.ANTHROPIC: Anthropic(), Provider.OPENAI: OpenAI()}


class Retrieval:
    """Runs the loop for conversation requests, answering retrieve calls from the engine's store."""

    def __init__(self, engine: Engine | None) -> None:
        self._engine = engine

    def applies(self, provider: Provider, body: dict[str, Any]) -> bool:
        """Whether the request gets the tool: something to retrieve, and a shape the loop can follow (a single
        answer; streams only for Anthropic so far)."""
        if self._engine is None or self._engine.store is None or body.get("n", 1) != 1:
            return False
        return provider is Provider.ANTHROPIC or not body.get("stream")

    def respond(self, resp: falcon.Response, provider: Provider, method: str, send: Send,
                body: dict[str, Any]) -> None:  # fmt: skip
        """Answer the client: the loop's final answer, or the first upstream error as it is."""
        shape = SHAPES[provider]
        body = shape.with_tool(body)
        answer = send(serialize(body))
        if answer.status != 200:
            relay(resp, answer, provider, method)
            return
        if body.get("stream"):
            relay_headers(resp, answer)
            resp.stream = AnthropicStream(answer, send, body, self.answers)
            return
        final = self._whole(shape, send, body, answer)
        relay_headers(resp, answer)
        resp.data = final if isinstance(final, bytes) else serialize(final)

    def _whole(self, shape: Shape, send: Send, body: dict[str, Any],
               answer: urllib3.BaseHTTPResponse) -> dict[str, Any] | bytes:  # fmt: skip
        """The final answer of a non-streaming loop; the upstream's bytes when there was no loop, or an answer could
        not be read as a JSON object."""
        raw, usage, rounds = read_whole(answer), {}, 0
        while True:
            message = _json(raw)
            if not isinstance(message, dict):
                return raw
            usage = summed(usage, message.get("usage") or {})
            calls = shape.calls(message)
            if rounds == 0 and not any(call.name == TOOL for call in calls):
                return raw  # the model never asked: its answer as it came
            results = self.answers(calls)
            if not results or rounds == MAX_ROUNDS:
                return shape.finished(message, usage)
            body = shape.continued(body, message, results)
            raw, rounds = read_whole(_ok(send(serialize(body)))), rounds + 1

    def answers(self, calls: list[Call]) -> list[tuple[str, str]]:
        """The results for the model's calls when they are all ours; none when any is the client's (or none is
        ours), which ends the loop."""
        if not only_ours(calls):
            return []
        return [(call.id, self.lookup(call.arguments)) for call in calls]

    def lookup(self, arguments: dict[str, Any]) -> str:
        """What a retrieve call gets: the original, or its lines that mention the query's words; a sentence
        saying so when there is nothing, so the model goes on without it."""
        ref, query = str(arguments.get("ref", "")), str(arguments.get("query") or "")
        found = self._engine.retrieve(ref, query or None) if self._engine else None
        if found is None:
            return f"headroom: nothing is stored under ref={ref!r} (unknown, or expired)"
        return found or f"headroom: no line of ref={ref} mentions {query!r}; retrieve without a query for all of it"


class AnthropicStream:
    """The client's event stream over the rounds (a WSGI iterable; see the module's docstring)."""

    def __init__(self, answer: urllib3.BaseHTTPResponse, send: Send, body: dict[str, Any],
                 answers: Callable[[list[Call]], list[tuple[str, str]]]) -> None:  # fmt: skip
        self._answer = answer
        self._send = send
        self._body = body
        self._answers = answers
        self._next_index = 0  # the client's index for the next block relayed
        self._usage: dict[str, Any] = {}
        self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        shape = SHAPES[Provider.ANTHROPIC]
        try:
            for round in range(MAX_ROUNDS + 1):
                blocks, held = yield from self._round(first=round == 0)
                content = [_finished_block(blocks[index]) for index in sorted(blocks)]
                calls = shape.calls({"content": content})
                results = self._answers(calls)
                if not results or round == MAX_ROUNDS or "message_delta" not in held:
                    yield from self._end(held, looped=round > 0, stripped=only_ours(calls))
                    break
                self._body = shape.continued(self._body, {"content": content}, results)
                self._answer = _ok(self._send(serialize(self._body)))
        except (HTTPError, OSError, UpstreamUnavailable) as error:
            log.warning("the retrieve loop's stream broke off: %s", error)
            yield sse_error_event(Provider.ANTHROPIC, UpstreamStreamBroken(f"the upstream's stream broke off: {error}"))
            return
        self._complete = True

    def _round(self, first: bool) -> Iterator[bytes]:
        """Relays one upstream stream; returns its blocks by upstream index, and its ending events held back
        (`message_delta`, `message_stop`) by type, each as its bytes and its data."""
        blocks: dict[int, dict[str, Any]] = {}
        mapped: dict[int, int] = {}  # upstream index -> client index, for blocks relayed
        held: dict[str, tuple[bytes, dict[str, Any]]] = {}
        usage: dict[str, Any] = {}
        for raw, event in sse_events(self._answer):
            kind = event.get("type")
            if kind == "message_start":
                usage.update((event.get("message") or {}).get("usage") or {})
                if first:
                    yield raw
            elif kind in ("content_block_start", "content_block_delta", "content_block_stop"):
                yield from self._block_event(raw, event, blocks, mapped)
            elif kind in ("message_delta", "message_stop"):
                usage.update(event.get("usage") or {})
                held[kind] = (raw, event)
            else:
                yield raw  # ping, error, and whatever the provider adds later
        self._answer.release_conn()
        self._usage = summed(self._usage, usage)
        return blocks, held

    def _block_event(self, raw: bytes, event: dict[str, Any], blocks: dict[int, dict[str, Any]],
                     mapped: dict[int, int]) -> Iterator[bytes]:  # fmt: skip
        """Relays a block's event under the client's index, unless the block is a retrieve call; a block's
        deltas are gathered into it."""
        index = event.get("index", 0)
        if index not in blocks:
            blocks[index] = dict(event.get("content_block") or {})
            if not _ours(blocks[index]):
                mapped[index] = self._next_index
                self._next_index += 1
        if event["type"] == "content_block_delta":
            _apply(blocks[index], event.get("delta") or {})
        if index in mapped:
            yield raw if mapped[index] == index else _event({**event, "index": mapped[index]})

    def _end(self, held: dict[str, tuple[bytes, dict[str, Any]]], looped: bool, stripped: bool) -> Iterator[bytes]:
        """The last round's ending: as it came, or with the stop reason and the usage of the whole loop."""
        for kind, (raw, event) in held.items():
            if kind != "message_delta" or not (looped or stripped):
                yield raw
                continue
            delta = {**event.get("delta", {}), **({"stop_reason": "end_turn"} if stripped else {})}
            yield _event({**event, "delta": delta, **({"usage": self._usage} if looped else {})})

    def close(self) -> None:
        """The client went away or the stream is over: an upstream answer not read to its end is closed."""
        if not self._complete:
            self._answer.close()
        self._answer.release_conn()


def sse_events(answer: urllib3.BaseHTTPResponse) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """The events of a stream as they arrive: each as its bytes and its data (an empty dict when not JSON)."""
    pending = b""
    while piece := answer.read1(PIECE, decode_content=False):
        pending += piece
        while match := _EVENT_END.search(pending):
            raw, pending = pending[: match.end()], pending[match.end() :]
            yield raw, _event_data(raw)
    if pending.strip():
        yield pending, _event_data(pending)


def _event_data(raw: bytes) -> dict[str, Any]:
    lines = raw.decode("utf-8", "replace").splitlines()
    data = _json("\n".join(line[5:].removeprefix(" ") for line in lines if line.startswith("data:")))
    return data if isinstance(data, dict) else {}


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _apply(block: dict[str, Any], delta: dict[str, Any]) -> None:
    """Adds a streamed delta to the block it belongs to, so the block can be sent back in the next round."""
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta.get("text", "")
    elif kind == "input_json_delta":
        block["partial_json"] = block.get("partial_json", "") + delta.get("partial_json", "")
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
    elif kind == "signature_delta":
        block["signature"] = delta.get("signature", "")
    elif kind == "citations_delta":
        block.setdefault("citations", []).append(delta.get("citation"))


def _finished_block(block: dict[str, Any]) -> dict[str, Any]:
    """A streamed block as it is sent back: a tool call's input parsed from its JSON pieces."""
    if "partial_json" not in block:
        return block
    done = {key: value for key, value in block.items() if key != "partial_json"}
    return {**done, "input": _object(_json(block["partial_json"]))}


def relay_headers(resp: falcon.Response, answer: urllib3.BaseHTTPResponse) -> None:
    """The upstream's status and headers, but its length: the proxy's answer is not the upstream's bytes."""
    resp.status = answer.status
    for name, value in response_headers(answer.headers.items()):
        if name.lower() != "content-length":
            resp.append_header(name, value)


def read_whole(answer: urllib3.BaseHTTPResponse) -> bytes:
    try:
        return answer.read(decode_content=False)
    finally:
        answer.release_conn()


def _ok(answer: urllib3.BaseHTTPResponse) -> urllib3.BaseHTTPResponse:
    """A later round's answer; `UpstreamUnavailable` when it is not a success, since the client's status is sent."""
    if answer.status == 200:
        return answer
    detail = read_whole(answer)[:500].decode("utf-8", "replace")
    raise UpstreamUnavailable(f"headroom proxy: the upstream answered {answer.status} in a retrieve round: {detail}")


def summed(total: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """Usage over rounds: numbers added, anything else (nested details) the latest round's."""
    both = {**total, **usage}
    return {key: _add(total.get(key), usage.get(key)) if key in total and key in usage else value
            for key, value in both.items()}  # fmt: skip


def _add(a: Any, b: Any) -> Any:
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return a + b if numbers else b


def only_ours(calls: list[Call]) -> bool:
    """Whether the model called our tool and nothing else: the case the proxy answers itself."""
    return bool(calls) and all(call.name == TOOL for call in calls)


def _ours(item: dict[str, Any]) -> bool:
    return item.get("name") == TOOL


def _message(answer: dict[str, Any]) -> dict[str, Any]:
    return ((answer.get("choices") or [{}])[0]).get("message") or {}


def _json(text: str | bytes | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
