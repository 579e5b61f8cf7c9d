"""The SDK's endpoints, for programs on this machine that compress conversations themselves: `POST /v1/compress`
and `GET /v1/retrieve/{hash}` / `POST /v1/retrieve`.

They answer with the proxy's own engine and store, so an original a program compressed here can be retrieved
here, and so can one the proxy compressed on the way to a provider. Only loopback callers are served: a compress
request may name a policy file on this machine, and the store holds other conversations' originals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import falcon

from headroom.compiler.diagnostics import CompileError
from headroom.runtime.engine import Engine, engine_for
from headroom.runtime.policy import PolicyNotFound
from headroom.runtime.proxy.access import loopback_only
from headroom.runtime.proxy.bodies import parse_conversation, parse_object, read_body
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.errors import InvalidRequest, NotFound


@falcon.before(loopback_only)
class Compress:
    """`POST /v1/compress`: `{messages, model, token_budget?, config?}` → the compressed messages and the
    numbers. A conversation still over `token_budget` after compression is said to be (`over_token_budget`),
    not cut: the engine only drops what it can give back."""

    def __init__(self, engine: Engine, config: ProxyConfig) -> None:
        self._engine = engine
        self._config = config

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = parse_conversation(read_body(req, self._config.max_body_bytes), self._config.max_messages)
        model, budget = body.get("model"), body.get("token_budget")
        if not isinstance(model, str):
            raise InvalidRequest("'model' is required, and must be a string")
        if not all(isinstance(message, dict) for message in body["messages"]):
            raise InvalidRequest("every item of 'messages' must be an object")
        if budget is not None and (type(budget) is not int or budget <= 0):
            raise InvalidRequest("'token_budget' must be a positive integer")
        result = self._engine_of(body.get("config")).compress(body["messages"], model)
        resp.media = {
            "messages": result.messages,
            "tokens_before": result.tokens_before,
            "tokens_after": result.tokens_after,
            "tokens_saved": result.tokens_saved,
            "compression_ratio": result.compression_ratio,
            "transforms_applied": result.transforms_applied,
            "ccr_hashes": result.ccr_hashes,
        }
        if budget is not None:
            resp.media["over_token_budget"] = result.tokens_after > budget

    def _engine_of(self, config: Any) -> Engine:
        """The proxy's engine, or the one for the policy `config.rules` names (a file or folder on this machine)."""
        if config is None:
            return self._engine
        if not isinstance(config, dict) or set(config) != {"rules"} or not isinstance(config["rules"], str):
            raise InvalidRequest("'config' must be an object with one key, 'rules': the path of a policy")
        rules = Path(config["rules"]).expanduser()
        if not rules.exists():
            raise InvalidRequest(f"'config.rules': no such file or folder on the proxy's machine: {rules}")
        try:
            return engine_for(str(rules)).protecting(self._config.protect_tool_results)
        except (PolicyNotFound, CompileError) as error:
            raise InvalidRequest(f"'config.rules': {rules} is not a usable policy: {error}") from error


@falcon.before(loopback_only)
class Retrieve:
    """`GET /v1/retrieve/{hash}` and `POST /v1/retrieve` (`{hash, query?}`): the original stored under a hash
    (`ccr_hashes`, or the reference in a compressed block's marker), whole or only its lines that mention the
    query's words; 404 when nothing is stored under it (unknown, or expired)."""

    def __init__(self, engine: Engine, config: ProxyConfig) -> None:
        self._engine = engine
        self._config = config

    def on_get_hash(self, req: falcon.Request, resp: falcon.Response, hash: str) -> None:
        resp.media = self._found(hash, None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = parse_object(read_body(req, self._config.max_body_bytes))
        ref, query = body.get("hash"), body.get("query")
        if not isinstance(ref, str) or not ref:
            raise InvalidRequest("'hash' is required, and must be a non-empty string")
        if query is not None and not isinstance(query, str):
            raise InvalidRequest("'query' must be a string")
        resp.media = self._found(ref, query)

    def _found(self, ref: str, query: str | None) -> dict[str, Any]:
        original = self._engine.retrieve(ref, query)
        if original is None:
            raise NotFound(f"nothing is stored under hash {ref!r} (unknown, or expired)")
        return {"hash": ref, "original": original} if query is None else {"hash": ref, "query": query,
                                                                             "original": original}  # fmt: skip
