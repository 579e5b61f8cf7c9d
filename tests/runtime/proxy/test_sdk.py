"""The SDK's endpoints through the real proxy: `/v1/compress` answers what `headroom.compress` does, `/v1/retrieve`
gives back the exact originals, bad input is a clear 400; and `--protect-tool-results` keeps tools' results whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

import headroom
from headroom.runtime.engine import compress

LOG = "\n".join(f"2026-01-01 12:00:{i % 60:02d} INFO worker-{i % 7} processed batch {i} status=ok" for i in range(400))
MODEL = "claude-sonnet-4-5"


def conversation(tool: str = "Bash", log: str = LOG) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "run the job and tell me whether it worked"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": tool, "input": {"cmd": "x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": log}]},
    ]


def test_compress_answers_what_the_library_does(proxy) -> None:
    reply = proxy.post("/v1/compress", {"messages": conversation(), "model": MODEL})
    assert reply.status == 200, reply.body
    expected = compress(conversation(), MODEL)
    assert reply.json() == {
        "messages": expected.messages,
        "tokens_before": expected.tokens_before,
        "tokens_after": expected.tokens_after,
        "tokens_saved": expected.tokens_saved,
        "compression_ratio": expected.compression_ratio,
        "transforms_applied": expected.transforms_applied,
        "ccr_hashes": expected.ccr_hashes,
    }
    assert expected.tokens_saved > 1000 and len(expected.ccr_hashes) == 1


@pytest.mark.parametrize(("budget", "over"), [(10, True), (10**6, False)])
def test_a_token_budget_is_reported_against_not_enforced(proxy, budget, over) -> None:
    answer = proxy.post("/v1/compress", {"messages": conversation(), "model": MODEL, "token_budget": budget}).json()
    assert answer["over_token_budget"] is over
    assert answer["messages"] == compress(conversation(), MODEL).messages  # nothing more is dropped


def test_compress_under_a_policy_file_the_request_names(proxy, tmp_path) -> None:
    rules = tmp_path / "keep.hrules"
    rules.write_text("exclude tools Bash\n")
    answer = proxy.post("/v1/compress", {"messages": conversation(), "model": MODEL, "config": {"rules": str(rules)}})
    assert answer.status == 200, answer.body
    assert answer.json()["messages"] == conversation()
    assert answer.json() == {**answer.json(), **_as_dict(compress(conversation(), MODEL, rules=rules))}


def _as_dict(result: Any) -> dict[str, Any]:
    return {"messages": result.messages, "tokens_saved": result.tokens_saved, "ccr_hashes": result.ccr_hashes}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (json.dumps({"model": MODEL}).encode(), "'messages'"),
        (json.dumps({"messages": []}).encode(), "'model' is required"),
        (json.dumps({"messages": [], "model": 4}).encode(), "'model'"),
        (json.dumps({"messages": ["hi"], "model": MODEL}).encode(), "must be an object"),
        (json.dumps({"messages": [], "model": MODEL, "token_budget": "10"}).encode(), "'token_budget'"),
        (json.dumps({"messages": [], "model": MODEL, "token_budget": 0}).encode(), "'token_budget'"),
        (json.dumps({"messages": [], "model": MODEL, "token_budget": True}).encode(), "'token_budget'"),
        (json.dumps({"messages": [], "model": MODEL, "config": {"rules": "/no/such.hrules"}}).encode(), "no such"),
        (json.dumps({"messages": [], "model": MODEL, "config": {"level": 3}}).encode(), "'config'"),
        (json.dumps({"messages": [], "model": MODEL, "config": "x"}).encode(), "'config'"),
    ],
)
def test_bad_compress_requests_are_a_clear_400(proxy, stand_in, body, says) -> None:
    reply = proxy.call("POST", "/v1/compress", body, {"content-type": "application/json"})
    assert reply.status == 400
    error = reply.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert says in error["error"]["message"]
    assert stand_in.received == []


def test_a_broken_policy_file_is_a_400(proxy, tmp_path) -> None:
    rules = tmp_path / "broken.hrules"
    rules.write_text("compress everything with magic\n")
    reply = proxy.post("/v1/compress", {"messages": [], "model": MODEL, "config": {"rules": str(rules)}})
    assert reply.status == 400
    assert "not a usable policy" in reply.json()["error"]["message"]


def test_retrieve_gives_back_the_exact_original(proxy) -> None:
    original = LOG + "\n\u00e9\u4e2d \U0001f600 the end"
    (ref,) = proxy.post("/v1/compress", {"messages": conversation(log=original), "model": MODEL}).json()["ccr_hashes"]
    by_get = proxy.call("GET", f"/v1/retrieve/{ref}")
    by_post = proxy.post("/v1/retrieve", {"hash": ref})
    assert by_get.status == by_post.status == 200
    assert by_get.json() == by_post.json() == {"hash": ref, "original": original}
    assert by_get.json() == {"hash": ref, "original": headroom.retrieve(ref)}


def test_retrieve_with_a_query_gives_the_lines_that_mention_it(proxy) -> None:
    (ref,) = proxy.post("/v1/compress", {"messages": conversation(), "model": MODEL}).json()["ccr_hashes"]
    answer = proxy.post("/v1/retrieve", {"hash": ref, "query": "399"}).json()
    assert answer == {"hash": ref, "query": "399", "original": LOG.split("\n")[399]}
    assert answer["original"] == headroom.retrieve(ref, "399")


def test_an_unknown_hash_is_a_404(proxy) -> None:
    for reply in (proxy.call("GET", "/v1/retrieve/0123456789abcdef"), proxy.post("/v1/retrieve", {"hash": "nope"})):
        assert reply.status == 404
        assert reply.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("body", [{}, {"hash": ""}, {"hash": 5}, {"hash": "abc", "query": ["x"]}, [1]])
def test_bad_retrieve_requests_are_a_400(proxy, body) -> None:
    assert proxy.post("/v1/retrieve", body).status == 400


def test_protected_tool_results_are_never_compressed(start_proxy, stand_in) -> None:
    proxy = start_proxy(protect_tool_results=("Ba*", "mcp__github__*"))
    sent = {"model": MODEL, "max_tokens": 10, "messages": conversation("Bash")}
    assert proxy.post("/v1/messages", sent, {"anthropic-version": "2023-06-01"}).status == 200
    assert stand_in.received[0].json()["messages"] == sent["messages"]
    answer = proxy.post("/v1/compress", {"messages": conversation("Bash"), "model": MODEL}).json()
    assert (answer["messages"], answer["tokens_saved"]) == (conversation("Bash"), 0)
    other = proxy.post("/v1/compress", {"messages": conversation("Shell"), "model": MODEL}).json()
    assert other["tokens_saved"] > 1000  # only the protected names are kept
