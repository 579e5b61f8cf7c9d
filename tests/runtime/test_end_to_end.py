"""The engine with the real compressors and the shipped policy, on an agent session built here: every kind of
tool output compresses, what the agent needs stays, every prefix compresses to a prefix, and every reference
gives back its original."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from headroom.runtime import messages as conversation
from headroom.runtime.engine import Engine
from headroom.runtime.policy import load_router
from headroom.runtime.store import Store

WORDS = ["cache", "queue", "shard", "replica", "worker", "parser", "router", "batch", "stream", "token"]


def orders(r: random.Random) -> str:
    rows = [{"order_id": f"ORD-{5000 + k}", "status": r.choice(["paid", "shipped"]),
             "amount": round(r.uniform(5, 90), 2)} for k in range(300)]  # fmt: skip
    rows[123]["amount"] = -450.0
    return json.dumps(rows)


def service_log(r: random.Random) -> str:
    lines = [f"2026-11-12T10:{k // 60:02d}:{k % 60:02d}Z INFO api [req-{r.getrandbits(32):08x}] GET /v1/"
             f"{r.choice(WORDS)} 200 {r.randint(1, 80)}ms" for k in range(1500)]  # fmt: skip
    lines[900] = "2026-11-12T10:15:00Z ERROR api [req-0badc0de] lease lost on shard-7"
    return "\n".join(lines)


def pytest_run(r: random.Random) -> str:
    lines = ["============================= test session starts ==============================", "collected 300 items"]
    lines += [f"tests/test_{k // 20}.py::test_{r.choice(WORDS)}_{k} PASSED" for k in range(300)]
    lines[150] = "tests/test_6.py::test_refund_rounding FAILED"
    lines += ["=================================== FAILURES ===================================",
              "__________________________ test_refund_rounding __________________________",
              ">       assert refund(order) == 10.05", "E       assert 10.04 == 10.05",
              "=========================== 1 failed, 299 passed in 3.21s ==========================="]  # fmt: skip
    return "\n".join(lines)


def module(r: random.Random) -> str:
    out = ["import decimal", ""]
    for k in range(25):
        out += [f"def {r.choice(WORDS)}_{k}(value, *, scale=2):", f'    """Scale the {r.choice(WORDS)}."""']
        out += [f"    value = value * {n} + {k}" for n in range(10)] + ["    return value", ""]
    out += ["def refund(order, *, rounding=decimal.ROUND_HALF_EVEN):", '    """Refund an order, rounding per line."""',
            "    return sum(line.amount for line in order.lines)", ""]  # fmt: skip
    return "\n".join(out)


TOOLS = [
    ("query_db", {"sql": "select * from orders"}, orders),
    ("Bash", {"command": "kubectl logs api"}, service_log),
    ("Bash", {"command": "pytest -q"}, pytest_run),
    ("Bash", {"command": "cat billing/refunds.py"}, module),
]
NEEDLES = ["-450.0", "lease lost on shard-7", "req-0badc0de", "test_refund_rounding", "assert 10.04 == 10.05",
           "1 failed, 299 passed", "def refund(order, *, rounding=decimal.ROUND_HALF_EVEN):",
           "Refund an order, rounding per line."]  # fmt: skip


def session() -> list[dict[str, Any]]:
    r = random.Random(3)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Refunds are off by a cent. Find out why."}]
    for k, (tool, tool_input, make) in enumerate(TOOLS):
        messages += [
            {"role": "assistant", "content": [
                {"type": "text", "text": f"Checking with {tool}."},
                {"type": "tool_use", "id": f"toolu_{k}", "name": tool, "input": tool_input},
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{k}", "content": make(r)}]},
        ]  # fmt: skip
    return messages


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(load_router(), Store(tmp_path_factory.mktemp("e2e") / "store.db"))


def all_text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(slot.text for slot in conversation.slots(messages))


def test_every_kind_compresses_and_the_needles_stay(engine: Engine) -> None:
    messages = session()
    result = engine.compress(messages, model="claude-sonnet-4-5")
    assert result.tokens_saved / result.tokens_before > 0.6, result.transforms_applied
    compressed = [t.split(":")[0] for t in result.transforms_applied]
    assert compressed == ["crusher", "log", "test_output", "code"], result.transforms_applied
    text = all_text(result.messages)
    assert [needle for needle in NEEDLES if needle not in text] == []
    header = result.messages[2]["content"][0]["content"].split("\n")[0]
    assert [json.loads(token) for token in header.split("\t")] == ["order_id", "status", "amount"]  # tabular form


def test_every_prefix_compresses_to_a_prefix(engine: Engine) -> None:
    messages = session()
    whole = engine.compress(messages).messages
    for end in range(1, len(messages) + 1):
        assert engine.compress(messages[:end]).messages == whole[:end]


def test_every_reference_gives_back_its_original(engine: Engine, tmp_path: Path) -> None:
    messages = session()
    result = engine.compress(messages)
    originals = [slot.text for slot in conversation.slots(messages) if slot.role == "tool"]
    assert sorted(engine.store.original(ref) for ref in result.ccr_hashes) == sorted(originals)
    for ref in result.ccr_hashes:
        assert ref in all_text(result.messages)  # each compressed block names its reference


def test_a_fresh_process_gives_the_same_bytes(tmp_path: Path) -> None:
    first = Engine(load_router(), Store(tmp_path / "a.db")).compress(session()).messages
    second = Engine(load_router(), Store(tmp_path / "b.db")).compress(session()).messages
    assert first == second
