"""The retrieve loop over streams: the client gets one ordinary event stream, relayed as it arrives round after
round, with no trace of the tool.

Each round's upstream stream is relayed event by event: what the model says comes through at once; a
`headroom_retrieve` call is swallowed; the stream's start goes out once, and its ending (Anthropic: `message_delta`
and `message_stop`; Chat Completions: the chunk with the `finish_reason`, the usage chunk and `[DONE]`; Responses:
`response.completed`) only after the last round, with the stop reason of an answer whose calls were all ours
turned into an ordinary end, and the usage summed over the rounds. Anthropic blocks, Chat Completions tool calls
and Responses output items (and their events' sequence numbers) are renumbered so the client sees consecutive
indexes; Chat Completions chunks keep the first round's id, and text from a later round is set apart from the
earlier rounds' text by `TEXT_BETWEEN_ROUNDS`, as in a non-streamed answer. A later round that fails ends the
stream with an `error` event in the API's shape.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Generator, Iterator
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError

from headroom.runtime.proxy.errors import ProxyError, UpstreamStreamBroken, responses_error_event, sse_error_event
from headroom.runtime.proxy.retrieval_rounds import MAX_ROUNDS, Send, next_round, summed
from headroom.runtime.proxy.retrieval_shapes import (
    TEXT_BETWEEN_ROUNDS,
    TOOL,
    Call,
    Shape,
    as_object,
    only_ours,
    ours,
    parse_json,
)
from headroom.runtime.proxy.streaming import PIECE

log = logging.getLogger(__name__)

Answers = Callable[[list[Call]], list[tuple[str, str]]]  # the results of the model's calls; none ends the loop
Held = dict[str, tuple[bytes, dict[str, Any]]]  # a round's ending events, held back: by kind, bytes and data
Round = Generator[bytes, None, tuple[dict[str, Any], Held]]  # relays a round; returns its answer, its ending
_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_DONE = b"data: [DONE]"
_RESPONSE_STARTS = ("response.created", "response.in_progress")  # a Responses stream's start, sent once
_RESPONSE_ENDS = ("response.completed", "response.failed", "response.incomplete")  # its possible endings


class LoopStream:
    """The client's event stream over the rounds (a WSGI iterable). A subclass relays one API's rounds."""

    def __init__(self, shape: Shape, answer: urllib3.BaseHTTPResponse, send: Send, body: dict[str, Any],
                 answers: Answers) -> None:  # fmt: skip
        self._shape = shape
        self._answer = answer
        self._send = send
        self._body = body
        self._answers = answers
        self._usage: dict[str, Any] = {}  # summed over the rounds so far
        self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for round in range(MAX_ROUNDS + 1):
                answer, held = yield from self._round(first=round == 0)
                calls = self._shape.calls(answer)
                results = self._answers(calls)
                if not results or round == MAX_ROUNDS or not self._ended(held):
                    yield from self._end(held, looped=round > 0, stripped=only_ours(calls))
                    break
                self._body = self._shape.continued(self._body, answer, results)
                self._answer = next_round(self._send, self._body)
        except (HTTPError, OSError, ProxyError) as error:
            log.warning("the retrieve loop's stream broke off: %s", error)
            failure = error if isinstance(error, ProxyError) else UpstreamStreamBroken(
                f"the upstream's stream broke off: {error}")  # fmt: skip
            yield self._error_event(failure)
            return
        self._complete = True

    def _error_event(self, failure: ProxyError) -> bytes:
        """The event that tells the client the answer broke off, in the API's shape."""
        return sse_error_event(self._shape.provider, failure)

    def _round(self, first: bool) -> Round:
        """Relays one upstream stream; returns the answer it carried (in the API's non-streamed shape, enough of
        it for `Shape.calls` and `Shape.continued`) and its ending events, held back."""
        raise NotImplementedError

    def _ended(self, held: Held) -> bool:
        """Whether the round's stream came to its proper end (a stream cut short is not continued)."""
        raise NotImplementedError

    def _end(self, held: Held, looped: bool, stripped: bool) -> Iterator[bytes]:
        """The last round's ending: as it came, or with the stop reason of an answer whose calls were all ours
        (`stripped`) made an ordinary one, and the usage of the whole loop (`looped`)."""
        raise NotImplementedError

    def close(self) -> None:
        """The client went away or the stream is over: an upstream answer not read to its end is closed."""
        if not self._complete:
            self._answer.close()
        self._answer.release_conn()


class AnthropicStream(LoopStream):
    """Messages events: `message_start` once; block events relayed under the client's index unless the block is
    our call; `message_delta` and `message_stop` held."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._next_index = 0  # the client's index for the next block relayed

    def _round(self, first: bool) -> Round:
        blocks: dict[int, dict[str, Any]] = {}
        mapped: dict[int, int] = {}  # upstream index -> client index, for blocks relayed
        held: Held = {}
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
        return {"content": [_finished_block(blocks[index]) for index in sorted(blocks)]}, held

    def _block_event(self, raw: bytes, event: dict[str, Any], blocks: dict[int, dict[str, Any]],
                     mapped: dict[int, int]) -> Iterator[bytes]:  # fmt: skip
        """Relays a block's event under the client's index, unless the block is a retrieve call; a block's
        deltas are gathered into it."""
        index = event.get("index", 0)
        if index not in blocks:
            blocks[index] = dict(event.get("content_block") or {})
            if not ours(blocks[index]):
                mapped[index] = self._next_index
                self._next_index += 1
        if event["type"] == "content_block_delta":
            _apply(blocks[index], event.get("delta") or {})
        if index in mapped:
            yield raw if mapped[index] == index else _named_event({**event, "index": mapped[index]})

    def _ended(self, held: Held) -> bool:
        return "message_delta" in held

    def _end(self, held: Held, looped: bool, stripped: bool) -> Iterator[bytes]:
        for kind, (raw, event) in held.items():
            if kind != "message_delta" or not (looped or stripped):
                yield raw
                continue
            delta = {**event.get("delta", {}), **({"stop_reason": "end_turn"} if stripped else {})}
            yield _named_event({**event, "delta": delta, **({"usage": self._usage} if looped else {})})


class ChatStream(LoopStream):
    """Chat Completions chunks: each choice delta relayed without our tool calls (and, after the first round,
    without its `role`), under the first round's id; the chunk with the `finish_reason`, the usage chunk and
    `[DONE]` held."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._id: str | None = None  # the first round's chunk id, which every chunk keeps
        self._said = False  # whether the client has been sent any text
        self._separate = False  # whether the next text sent needs `TEXT_BETWEEN_ROUNDS` before it

    def _round(self, first: bool) -> Round:
        self._separate = self._said
        text: list[str] = []
        calls: dict[int, dict[str, Any]] = {}  # upstream index -> the call, gathered from its deltas
        mapped: dict[int, int] = {}  # upstream index -> client index, for the client's calls
        held: Held = {}
        usage: dict[str, Any] = {}
        for raw, chunk in sse_events(self._answer):
            if raw.strip() == _DONE:
                held["done"] = (raw, {})
                continue
            usage.update(chunk.get("usage") or {})
            choice = (chunk.get("choices") or [None])[0]
            if choice is None:  # the usage chunk, or not a chunk at all
                if chunk.get("usage"):
                    held["usage"] = (raw, chunk)
                else:
                    yield raw
                continue
            self._id = self._id or chunk.get("id")
            delta = choice.get("delta") or {}
            text.append(delta.get("content") or "")
            _gather(calls, mapped, delta.get("tool_calls") or [])
            yield from self._relayed(raw, chunk, self._client_delta(delta, mapped, first), held)
        self._answer.release_conn()
        self._usage = summed(self._usage, usage)
        message = {"role": "assistant", "content": "".join(text) or None,
                   **({"tool_calls": [calls[index] for index in sorted(calls)]} if calls else {})}  # fmt: skip
        return {"choices": [{"message": message}]}, held

    def _client_delta(self, delta: dict[str, Any], mapped: dict[int, int], first: bool) -> dict[str, Any]:
        """The delta as the client sees it: the client's calls under their new indexes, text set apart from an
        earlier round's."""
        shown = {key: value for key, value in delta.items() if first or key != "role"}
        if "tool_calls" in delta:
            theirs = [{**call, "index": mapped[call.get("index", 0)]} for call in delta["tool_calls"]
                      if call.get("index", 0) in mapped]  # fmt: skip
            shown["tool_calls"] = theirs
        if shown.get("content"):
            if self._separate:
                shown["content"] = TEXT_BETWEEN_ROUNDS + shown["content"]
            self._said, self._separate = True, False
        return shown

    def _relayed(self, raw: bytes, chunk: dict[str, Any], delta: dict[str, Any], held: Held) -> Iterator[bytes]:
        """Relays a chunk with the client's `delta`, unless nothing is left in it; a chunk that ends the answer is
        held, and what its delta carries goes out at once in a chunk of its own."""
        choice = chunk["choices"][0]
        ending = bool(choice.get("finish_reason") or chunk.get("usage"))
        if ending:
            held["finish"] = (raw, _with(chunk, self._id, {**choice, "delta": {}}))
        if not _carries(delta):
            return
        shown = _with(chunk, self._id, {**choice, "delta": delta, **({"finish_reason": None} if ending else {})})
        if ending:
            shown.pop("usage", None)
        yield raw if shown == chunk else _data_event(shown)

    def _ended(self, held: Held) -> bool:
        return "finish" in held

    def _end(self, held: Held, looped: bool, stripped: bool) -> Iterator[bytes]:
        for raw, chunk in held.values():
            shown = dict(chunk)
            choices = chunk.get("choices") or []
            if stripped and choices and choices[0].get("finish_reason") == "tool_calls":
                shown["choices"] = [{**choices[0], "finish_reason": "stop"}, *choices[1:]]
            if looped and chunk.get("usage"):
                shown["usage"] = self._usage
            if "id" in shown and self._id:
                shown["id"] = self._id
            yield raw if shown == chunk and _event_data(raw) == chunk else _data_event(shown)


class ResponsesStream(LoopStream):
    """Responses events: `response.created` and `response.in_progress` once; an output item's events relayed under
    the client's `output_index` unless the item is our call; the stream's ending (`response.completed`, or
    `.failed` or `.incomplete`) held, and sent after the last round as that round's response with the items the
    client saw of every round as its `output` and the usage summed. Its id is the last round's, the response a later
    request can continue from (see `ResponsesShape`), though `response.created` named the first round's. Every
    event that has a `sequence_number` gets the client's next one, counted from 0 as OpenAI counts, so the client
    sees them consecutive; our tool is left out of the `tools` a response echoes."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._next_index = 0  # the client's output_index for the next item relayed
        self._sequence = 0  # the client's sequence_number for the next event
        self._rounds: list[dict[str, Any]] = []  # each round's response, with the output items it streamed

    def _round(self, first: bool) -> Round:
        items: dict[int, dict[str, Any]] = {}  # upstream output_index -> the item, once done
        mapped: dict[int, int | None] = {}  # upstream output_index -> the client's; None for our calls
        held: Held = {}
        for raw, event in sse_events(self._answer):
            kind = event.get("type")
            if kind in _RESPONSE_ENDS:
                held[kind] = (raw, event)
            elif "output_index" in event:
                yield from self._item_event(raw, event, items, mapped)
            elif first or kind not in _RESPONSE_STARTS:
                yield self._numbered(raw, event)
        self._answer.release_conn()
        response = next((as_object(event.get("response")) for _, event in held.values()), {})
        self._usage = summed(self._usage, response.get("usage") or {})
        self._rounds.append({**response, "output": [items[index] for index in sorted(items)]})
        return self._rounds[-1], held

    def _item_event(self, raw: bytes, event: dict[str, Any], items: dict[int, dict[str, Any]],
                    mapped: dict[int, int | None]) -> Iterator[bytes]:  # fmt: skip
        """Relays an output item's event under the client's index, unless the item is a retrieve call; a finished
        item is kept, to go back in the next round."""
        index = event["output_index"]
        if index not in mapped:
            mapped[index] = None if ours(as_object(event.get("item"))) else self._next_index
            if mapped[index] is not None:
                self._next_index += 1
        if event.get("type") == "response.output_item.done":
            items[index] = as_object(event.get("item"))
        if mapped[index] is not None:
            yield self._numbered(raw, event, output_index=mapped[index])

    def _numbered(self, raw: bytes, event: dict[str, Any], **changes: Any) -> bytes:
        """The event as the client gets it: with `changes`, its response without our tool, and with the client's
        next sequence number when it has one; its bytes as they came when that changes nothing."""
        shown = {**event, **changes}
        if isinstance(shown.get("response"), dict):
            shown["response"] = self._shape.shown(shown["response"])
        if "sequence_number" in event:
            shown["sequence_number"] = self._sequence
            self._sequence += 1
        return raw if shown == event else _named_event(shown)

    def _ended(self, held: Held) -> bool:
        return "response.completed" in held

    def _end(self, held: Held, looped: bool, stripped: bool) -> Iterator[bytes]:
        *earlier, last = self._rounds
        for raw, event in held.values():
            yield self._numbered(raw, event, response=self._shape.finished(last, self._usage, earlier))

    def _error_event(self, failure: ProxyError) -> bytes:
        self._sequence += 1
        return responses_error_event(failure, self._sequence - 1)


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
    return as_object(parse_json("\n".join(line[5:].removeprefix(" ") for line in lines if line.startswith("data:"))))


def _named_event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _data_event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


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
    return {**done, "input": as_object(parse_json(block["partial_json"]))}


def _gather(calls: dict[int, dict[str, Any]], mapped: dict[int, int], pieces: list[dict[str, Any]]) -> None:
    """Adds streamed tool call pieces to the calls they belong to; a new call that is not ours gets the client's
    next index."""
    for piece in pieces:
        index, function = piece.get("index", 0), piece.get("function") or {}
        if index not in calls:
            calls[index] = {"id": piece.get("id", ""), "type": "function",
                            "function": {"name": function.get("name", ""), "arguments": ""}}  # fmt: skip
            if function.get("name") != TOOL:
                mapped[index] = len(mapped)
        calls[index]["function"]["arguments"] += function.get("arguments") or ""


def _with(chunk: dict[str, Any], id: str | None, choice: dict[str, Any]) -> dict[str, Any]:
    """The chunk with the stream's id and `choice` as its first choice."""
    return {**chunk, **({"id": id} if id and "id" in chunk else {}), "choices": [choice, *chunk["choices"][1:]]}


def _carries(delta: dict[str, Any]) -> bool:
    """Whether a delta says anything (the first chunk's `role` counts; an empty `content` does not)."""
    return any(value not in (None, "", []) for value in delta.values())
