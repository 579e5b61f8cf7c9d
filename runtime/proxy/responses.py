"""How a `POST /v1/responses` body (OpenAI's Responses API, which Codex speaks) is checked: the one part of serving
it that is its own. `resources.Conversation` serves it like the other conversation endpoints (`resources.RESPONSES`),
its input items compressed and counted as a chat conversation's messages, and the retrieve loop run with
`retrieval_shapes.ResponsesShape`.

The engine reads Responses items directly (`runtime/messages.py`): message items' text parts, and each
`function_call_output` as the result of the `function_call` with its `call_id`. Compression only replaces text, so
the items keep their number, order, ids, call ids and arguments. An `input` that is a string is the user's own
prompt, which no policy compresses, so it is forwarded as it came.
"""

from __future__ import annotations

from typing import Any

from headroom.runtime.proxy.bodies import parse_object
from headroom.runtime.proxy.errors import InvalidRequest


def parse_responses(raw: bytes, max_items: int) -> dict[str, Any]:
    """The body as a JSON object whose `input`, if any, is a string or a list of at most `max_items` items;
    `InvalidRequest` when it is not. Everything else is the provider's to check."""
    body = parse_object(raw)
    items = body.get("input")
    if items is not None and not isinstance(items, (str, list)):  # none: the input is a stored prompt's
        raise InvalidRequest("'input' must be a string or an array")
    if isinstance(items, list) and len(items) > max_items:
        raise InvalidRequest(f"{len(items)} input items is more than the {max_items} the proxy accepts")
    if not isinstance(body.get("model", ""), str):
        raise InvalidRequest("'model' must be a string")
    return body
