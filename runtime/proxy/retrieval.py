"""The retrieve loop: when compression stored originals, the model may ask for them back, and the proxy answers
that itself, so the client sees one ordinary answer and never the tool.

The request gets a `headroom_retrieve` tool next to the client's own (their order and `tool_choice` untouched),
unless the client has a tool of that name itself: then the request goes as compression left it, and calls to
that tool are the client's. When the model's answer calls only `headroom_retrieve`, the proxy appends that
assistant turn and the originals (whole, or the lines matching `query`) as tool results, and asks again — at most
`MAX_ROUNDS` times. When the answer also calls a client tool, the loop stops there: the client gets the answer
without our calls, since answering ours would need a second request whose answer could differ from the client
calls already decided on, and the markers stay in the conversation, so the model can ask again on the next turn.
After the last round the answer goes out with our calls removed and, when nothing is left to call, an ordinary
stop reason; what the model said in the earlier rounds comes first, as it would in a stream. The client's usage
is the sum over the rounds.

Streams (Anthropic Messages, Chat Completions and Responses) are looped as they are relayed (`retrieval_streams`).
"""

from __future__ import annotations

from typing import Any

import falcon
import urllib3

from headroom.runtime.engine import Engine
from headroom.runtime.proxy.bodies import Outgoing, serialize
from headroom.runtime.proxy.retrieval_rounds import MAX_ROUNDS, Send, next_round, read_whole, summed
from headroom.runtime.proxy.retrieval_shapes import (
    TOOL,
    Call,
    ChatShape,
    MessagesShape,
    ResponsesShape,
    Shape,
    has_own_tool,
    only_ours,
    parse_json,
)
from headroom.runtime.proxy.retrieval_streams import AnthropicStream, ChatStream, LoopStream, ResponsesStream
from headroom.runtime.proxy.streaming import relay
from headroom.runtime.proxy.upstream import response_headers

__all__ = ["MAX_ROUNDS", "TOOL", "Retrieval"]

# The loop's stream, by shape.
STREAMS: dict[type, type[LoopStream]] = {
    MessagesShape: AnthropicStream,
    ChatShape: ChatStream,
    ResponsesShape: ResponsesStream,
}


class Retrieval:
    """Runs the loop for conversation requests, answering retrieve calls from the engine's store."""

    def __init__(self, engine: Engine | None) -> None:
        self._engine = engine

    def forward(self, resp: falcon.Response, shape: Shape, method: str, send: Send, outgoing: Outgoing) -> None:
        """Send the request upstream and answer the client: through the loop when it applies, else with the
        upstream's answer relayed as it arrives."""
        body = outgoing.compressed
        if body is not None and self.applies(body):
            self.respond(resp, shape, method, send, body)
        else:
            relay(resp, send(outgoing.body), shape.provider, method, shape.broken_stream)

    def applies(self, body: dict[str, Any]) -> bool:
        """Whether the request gets the tool: something to retrieve, one answer asked for (the loop follows one),
        and no tool of the client's by our tool's name."""
        return (
            self._engine is not None
            and self._engine.store is not None
            and body.get("n", 1) == 1
            and not has_own_tool(body)
        )

    def respond(self, resp: falcon.Response, shape: Shape, method: str, send: Send, body: dict[str, Any]) -> None:
        """Answer the client: the loop's final answer, or the first upstream error as it is."""
        body = shape.with_tool(body)
        answer = send(serialize(body))
        if answer.status != 200:
            relay(resp, answer, shape.provider, method)
            return
        if body.get("stream"):
            relay_headers(resp, answer)
            resp.stream = STREAMS[type(shape)](shape, answer, send, body, self.answers)
            return
        final = self._whole(shape, send, body, answer)
        relay_headers(resp, answer)
        resp.data = final if isinstance(final, bytes) else serialize(final)

    def _whole(self, shape: Shape, send: Send, body: dict[str, Any],
               answer: urllib3.BaseHTTPResponse) -> dict[str, Any] | bytes:  # fmt: skip
        """The final answer of a non-streaming loop; the upstream's bytes when there was no loop, or an answer could
        not be read as a JSON object."""
        raw, usage, earlier = read_whole(answer), {}, []
        while True:
            message = parse_json(raw)
            if not isinstance(message, dict):
                return raw
            usage = summed(usage, message.get("usage") or {})
            calls = shape.calls(message)
            if not earlier and not any(call.name == TOOL for call in calls):
                shown = shape.shown(message)  # the model never asked: its answer as it came
                return raw if shown == message else shown
            results = self.answers(calls)
            if not results or len(earlier) == MAX_ROUNDS:
                return shape.finished(message, usage, earlier)
            body = shape.continued(body, message, results)
            earlier.append(message)
            raw = read_whole(next_round(send, body))

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


def relay_headers(resp: falcon.Response, answer: urllib3.BaseHTTPResponse) -> None:
    """The upstream's status and headers, but its length: the proxy's answer is not the upstream's bytes."""
    resp.status = answer.status
    for name, value in response_headers(answer.headers.items()):
        if name.lower() != "content-length":
            resp.append_header(name, value)
