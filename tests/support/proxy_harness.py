"""The proxy tests' harness — real servers on loopback: a stand-in provider that records what it receives and answers as
a test scripts it, and the proxy itself (waitress on a free port, in a thread) pointed at it.

The stand-in serves both providers from one port: the proxy's Anthropic upstream is `<stand-in>/anthropic`, its
OpenAI upstream `<stand-in>/openai`, so every recorded path says which upstream a request was sent to. Nothing in
these tests waits on the clock to decide an outcome: streams advance on events the test sets, and the proxy's
retry pauses are recorded instead of slept.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from headroom.runtime.proxy.app import create_app
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.server import ProxyServer
from headroom.runtime.proxy.upstream import Upstream

WAIT = 10  # seconds a test waits for something that should happen at once, before failing instead of hanging


# --- the stand-in provider ----------------------------------------------------------------------------------------


@dataclass
class Message:
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Received(Message):
    """A request as the stand-in received it."""

    method: str = ""
    path: str = ""


Answer = Callable[["Handler", Received], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _StandInServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        length = int(self.headers.get("content-length") or 0)
        received = Received(list(self.headers.items()), self.rfile.read(length), method=self.command, path=self.path)
        stand_in = self.server.stand_in
        stand_in.received.append(received)
        answer = stand_in.script.popleft() if stand_in.script else default
        answer(self, received)
        self.wfile.flush()

    def send(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def start_events(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_events(self) -> None:
        self.wfile.write(b"0\r\n\r\n")


class _StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the proxy hanging up is what some tests do
            super().handle_error(request, client_address)


class StandIn:
    """The stand-in provider. Requests are answered by the answers queued with `then`, in order, and by
    `default` once the queue is empty."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[Answer] = deque()
        self._server = _StandInServer(("127.0.0.1", 0), Handler)
        self._server.stand_in = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def then(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def anthropic_events(text: str = "hello there") -> list[bytes]:
    events = [("message_start", {"type": "message_start", "message": {"id": "msg_1", "role": "assistant"}})]
    events += [
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}},
        )
        for word in text.split()
    ]
    events += [("message_stop", {"type": "message_stop"})]
    return [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]


def openai_events(text: str = "hello there") -> list[bytes]:
    chunks = [
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": word}}]}
        for word in text.split()
    ]
    return [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + [b"data: [DONE]\n\n"]


def default(handler: Handler, received: Received) -> None:
    """A provider's usual answer: a message (streamed when asked) on the conversation endpoints, else an echo."""
    conversation = received.path.endswith(("/v1/messages", "/v1/chat/completions"))
    if conversation and received.json().get("stream"):
        return events(*_events_for(received.path))(handler, received)
    if received.path.endswith("/v1/messages"):
        body = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "ok"}]}
    elif received.path.endswith("/v1/chat/completions"):
        body = {"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": "ok"}}]}
    else:
        body = {"echo": received.path}
    handler.send(200, json.dumps(body).encode(), [("content-type", "application/json"), ("x-upstream", "yes")])


def _events_for(path: str) -> list[bytes]:
    return anthropic_events() if path.endswith("/v1/messages") else openai_events()


def status(code: int, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()) -> Answer:
    return lambda handler, received: handler.send(code, body, headers)


def events(*items: bytes, gates: Iterable[threading.Event] = ()) -> Answer:
    """An event stream, sent event by event; the n-th gate must be set before event n+1 is sent."""

    def answer(handler: Handler, received: Received) -> None:
        handler.start_events()
        waits = iter(gates)
        for index, item in enumerate(items):
            if index:
                gate = next(waits, None)
                assert gate is None or gate.wait(WAIT), "the test never opened the gate"
            handler.chunk(item)
        handler.end_events()

    return answer


def cut_after(*items: bytes) -> Answer:
    """An event stream that breaks off after `items`, in the middle of an event, without its final chunk."""

    def answer(handler: Handler, received: Received) -> None:
        handler.start_events()
        for item in items:
            handler.chunk(item)
        handler.chunk(b'event: content_block_delta\ndata: {"type": "cont')
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    return answer


def stall(until: threading.Event) -> Answer:
    """Says nothing until `until` is set, then hangs up."""

    def answer(handler: Handler, received: Received) -> None:
        until.wait(WAIT)
        handler.close_connection = True

    return answer


def ping_until_closed(closed: threading.Event) -> Answer:
    """One event, then pings until writing fails because the other side closed the connection."""

    def answer(handler: Handler, received: Received) -> None:
        handler.start_events()
        handler.chunk(anthropic_events()[0])
        try:
            for _ in range(WAIT * 100):
                time.sleep(0.01)
                handler.chunk(b'event: ping\ndata: {"type": "ping"}\n\n')
        except OSError:
            closed.set()
        handler.close_connection = True

    return answer


# --- the proxy ----------------------------------------------------------------------------------------------------


@dataclass
class Reply(Message):
    """An answer as the client received it."""

    status: int = 0


@dataclass
class Proxy:
    server: ProxyServer
    thread: threading.Thread
    port: int
    waits: list[float] = field(default_factory=list)  # the pauses the proxy made between attempts

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        connection = self.connect()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.getheaders(), response.read(), status=response.status)
        finally:
            connection.close()

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.call(
            "POST", path, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})}
        )

    def open_stream(self, path: str, body: Any) -> http.client.HTTPResponse:
        connection = self.connect()
        connection.request("POST", path, body=json.dumps(body).encode(), headers={"content-type": "application/json"})
        return connection.getresponse()

    def stop(self) -> None:
        self.server.stop()
        self.server.stop()  # and do not wait for anything a failed test left behind
        self.thread.join(WAIT)


def launch_proxy(stand_in: StandIn, engine: Any = None, **overrides: Any) -> Proxy:
    """A proxy on a free port, serving in a thread, with the stand-in as both upstreams; its retry pauses are
    recorded in `waits`, not slept."""
    settings = {
        "port": 0,
        "request_timeout": 5.0,
        "connect_timeout": 2.0,
        "threads": 8,
        "anthropic_api_url": stand_in.url + "/anthropic",
        "openai_api_url": stand_in.url + "/openai",
    }
    config = ProxyConfig(**{**settings, **overrides})
    waits: list[float] = []
    server = ProxyServer(create_app(config, engine=engine, upstream=Upstream(config, sleep=waits.append)), config)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return Proxy(server, thread, server.addresses[0][1], waits)


def read_event(response: http.client.HTTPResponse) -> bytes:
    """The next server-sent event, through its blank line; b"" at the end of the stream."""
    lines = []
    while line := response.readline():
        lines.append(line)
        if line in (b"\n", b"\r\n"):
            break
    return b"".join(lines)


def all_events(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while event := read_event(response):
        yield event


# --- a model that retrieves (the retrieve loop) -------------------------------------------------------------------

_MARKER_REF = re.compile(r"retrieve with ref=([0-9a-f]+)")
USAGE = {"input_tokens": 100, "output_tokens": 10}  # each scripted Anthropic answer's usage
OPENAI_USAGE = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
RESPONSES_USAGE = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}
JSON = [("content-type", "application/json")]


def retrieving(query: str | None = None, also: str | None = None) -> Answer:
    """A model that says a word and calls `headroom_retrieve` with the first ref in the request's markers (with
    `query` when given), and the client's tool `also` when given; streamed when the request asks."""

    def answer(handler: Handler, received: Received) -> None:
        match = _MARKER_REF.search(received.body.decode())
        assert match, "the request carries no marker to retrieve"
        calls = [("call_r", "headroom_retrieve", {"ref": match.group(1), **({"query": query} if query else {})})]
        calls += [("call_c", also, {"command": "ls"})] if also else []
        model_answer(handler, received, "Let me look.", calls)

    return answer


def quoting(needle: str) -> Answer:
    """A model that answers with the first line of the request's last tool result that contains `needle`."""

    def answer(handler: Handler, received: Received) -> None:
        result = last_tool_result(received.json())
        line = next((line for line in result.split("\n") if needle in line), "nothing")
        model_answer(handler, received, f"Found: {line}", [])

    return answer


def last_tool_result(body: dict[str, Any]) -> str:
    """The text of the last tool result in a request to any of the three endpoints."""
    if "input" in body:
        return body["input"][-1]["output"]
    last = body["messages"][-1]
    return last["content"] if last["role"] == "tool" else last["content"][-1]["content"]


def model_answer(handler: Handler, received: Received, text: str, calls: list[tuple[str, str, Any]]) -> None:
    """A model's answer with `text` and tool `calls` (id, name, input), shaped for the endpoint it was sent to,
    streamed when the request asks."""
    if received.path.endswith("/v1/responses"):
        answer = responses_answer(text, calls, received.json().get("tools") or [])
        if received.json().get("stream"):
            return events(*responses_events(answer))(handler, received)
        return handler.send(200, json.dumps(answer).encode(), JSON)
    if received.path.endswith("/v1/chat/completions"):
        answer = chat_answer(text, calls)
        if received.json().get("stream"):
            usage = (received.json().get("stream_options") or {}).get("include_usage", False)
            return events(*chat_events(answer, usage))(handler, received)
        return handler.send(200, json.dumps(answer).encode(), JSON)
    content = [{"type": "text", "text": text}]
    content += [{"type": "tool_use", "id": id, "name": name, "input": input} for id, name, input in calls]
    message = {"id": "msg_1", "type": "message", "role": "assistant", "content": content,
               "stop_reason": "tool_use" if calls else "end_turn", "usage": USAGE}  # fmt: skip
    if received.json().get("stream"):
        return events(*message_events(message))(handler, received)
    return handler.send(200, json.dumps(message).encode(), JSON)


def chat_answer(text: str, calls: list[tuple[str, str, Any]]) -> dict[str, Any]:
    tool_calls = [{"id": id, "type": "function", "function": {"name": name, "arguments": json.dumps(input)}}
                  for id, name, input in calls]  # fmt: skip
    message = {"role": "assistant", "content": text, **({"tool_calls": tool_calls} if calls else {})}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
    return {"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice], "usage": OPENAI_USAGE}


def chat_events(answer: dict[str, Any], usage: bool) -> list[bytes]:
    """A chat completion as the chunks that carry it, as OpenAI sends them: the role, the text in two pieces,
    each tool call's name then its arguments in two pieces, the finish reason, the usage when asked, `[DONE]`."""
    (choice,) = answer["choices"]
    message = choice["message"]
    half = len(message["content"]) // 2
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}, {"content": message["content"][:half]},
                                    {"content": message["content"][half:]}]  # fmt: skip
    for index, call in enumerate(message.get("tool_calls") or []):
        arguments = call["function"]["arguments"]
        deltas += [{"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                    "function": {"name": call["function"]["name"], "arguments": ""}}]}]  # fmt: skip
        deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                   for piece in (arguments[:5], arguments[5:])]  # fmt: skip
    base = {"id": answer["id"], "object": "chat.completion.chunk"}
    chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]} for delta in deltas]
    chunks += [{**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]}]
    chunks += [{**base, "choices": [], "usage": answer["usage"]}] if usage else []
    return [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + [b"data: [DONE]\n\n"]


def responses_answer(text: str, calls: list[tuple[str, str, Any]], tools: Iterable[Any] = ()) -> dict[str, Any]:
    """A response with `text` and tool `calls` (id, name, input), echoing the request's `tools` as OpenAI does."""
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
    output = [message] + [{"type": "function_call", "id": f"fc_{id}", "call_id": id, "name": name,
                           "arguments": json.dumps(input)} for id, name, input in calls]  # fmt: skip
    return {"id": "resp_1", "object": "response", "status": "completed", "tools": list(tools), "output": output,
            "usage": RESPONSES_USAGE}  # fmt: skip


def responses_events(answer: dict[str, Any]) -> list[bytes]:
    """A response as the event stream that carries it, as OpenAI sends it: created, in progress; for each output
    item its addition, its text (in a content part) or its arguments in two pieces each, and its end; completed;
    numbered from 0."""
    start = {**answer, "status": "in_progress", "output": [], "usage": None}
    items: list[dict[str, Any]] = [{"type": "response.created", "response": start},
                                   {"type": "response.in_progress", "response": start}]  # fmt: skip
    for index, item in enumerate(answer["output"]):
        at = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            items += [{"type": "response.output_item.added", "output_index": index, "item": {**item, "content": []}},
                      {"type": "response.content_part.added", **at, "content_index": 0,
                       "part": {"type": "output_text", "text": "", "annotations": []}}]  # fmt: skip
            items += [{"type": "response.output_text.delta", **at, "content_index": 0, "delta": piece}
                      for piece in (text[:5], text[5:])]  # fmt: skip
            items += [{"type": "response.output_text.done", **at, "content_index": 0, "text": text},
                      {"type": "response.content_part.done", **at, "content_index": 0,
                       "part": item["content"][0]}]  # fmt: skip
        else:
            arguments = item["arguments"]
            items += [{"type": "response.output_item.added", "output_index": index,
                       "item": {**item, "arguments": "", "status": "in_progress"}}]  # fmt: skip
            items += [{"type": "response.function_call_arguments.delta", **at, "delta": piece}
                      for piece in (arguments[:5], arguments[5:])]  # fmt: skip
            items += [{"type": "response.function_call_arguments.done", **at, "arguments": arguments}]
        items += [{"type": "response.output_item.done", "output_index": index, "item": item}]
    items += [{"type": "response.completed", "response": answer}]
    return [f"event: {item['type']}\ndata: {json.dumps({**item, 'sequence_number': number})}\n\n".encode()
            for number, item in enumerate(items)]  # fmt: skip


def message_events(message: dict[str, Any]) -> list[bytes]:
    """An Anthropic message as the event stream that carries it: start, each block's start, delta and stop, the
    stop reason with the output tokens, stop."""
    start = {"type": "message_start", "message": {**message, "content": [], "stop_reason": None,
                                                    "usage": {**message["usage"], "output_tokens": 1}}}  # fmt: skip
    items: list[dict[str, Any]] = [start]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            empty, delta = {**block, "text": ""}, {"type": "text_delta", "text": block["text"]}
        else:
            empty, delta = (
                {**block, "input": {}},
                {"type": "input_json_delta", "partial_json": json.dumps(block["input"])},
            )
        items += [{"type": "content_block_start", "index": index, "content_block": empty},
                  {"type": "content_block_delta", "index": index, "delta": delta},
                  {"type": "content_block_stop", "index": index}]  # fmt: skip
    output = {"output_tokens": message["usage"]["output_tokens"]}
    items += [{"type": "message_delta", "delta": {"stop_reason": message["stop_reason"]}, "usage": output},
              {"type": "message_stop"}]  # fmt: skip
    return [f"event: {item['type']}\ndata: {json.dumps(item)}\n\n".encode() for item in items]
