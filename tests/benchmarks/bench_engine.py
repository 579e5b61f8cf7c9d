"""Benchmark: how long `headroom.compress()` takes per workload, per 10,000 input tokens.

    python tests/benchmarks/bench_engine.py

Builds agent conversations of each kind of tool output (a JSON array of records, a service log, a test run, a
build, source files read through a shell, a diff, a web page), then for each prints its size, the tokens saved,
and three times in ms per 10,000 input tokens: the first compression in the process (compressors and detection
cold), a new block of the same kind once warm (what a new tool result costs), and the same conversation again
(what every later turn costs: remembered results). The target is ≤ 10 ms per 10,000 tokens warm. This is a
benchmark, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("HEADROOM_STORE_PATH", os.path.join(tempfile.mkdtemp(prefix="headroom-bench-"), "store.db"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from headroom import compress  # imported after the store is pointed at a scratch folder

WORDS = ["request", "handler", "session", "cache", "timeout", "retry", "worker", "queue", "index", "shard"]


def records(r: random.Random) -> tuple[str, str]:
    rows = [{"id": f"ORD-{k}", "customer": f"CUST-{r.randint(1000, 9999)}", "status": r.choice(["paid", "sent"]),
             "amount": round(r.uniform(1, 500), 2), "created_at": f"2026-11-{r.randint(1, 28):02d}T10:00:00Z"}
            for k in range(600)]  # fmt: skip
    return "query_db", json.dumps(rows)


def service_log(r: random.Random) -> tuple[str, str]:
    levels = ["INFO"] * 8 + ["DEBUG"] + ["WARN"]
    lines = [f"2026-11-12T09:{k // 60 % 60:02d}:{k % 60:02d}.{r.randint(0, 999):03d}Z {r.choice(levels)} api "
             f"[req-{r.getrandbits(32):08x}] GET /v1/{r.choice(WORDS)}/{r.randint(1, 9999)} 200 {r.randint(1, 90)}ms"
             for k in range(3000)]  # fmt: skip
    lines[1700] = "2026-11-12T09:28:20.000Z ERROR api [req-deadbeef] upstream reset by peer"
    return "Bash", "\n".join(lines)


def test_run(r: random.Random) -> tuple[str, str]:
    lines = ["============================= test session starts ==============================", "collected 900 items"]
    lines += [f"tests/test_{k // 30}.py::test_{r.choice(WORDS)}_{k} PASSED" for k in range(900)]
    lines += ["=================================== FAILURES ===================================",
              "_____ test_x _____", ">       assert total == 3", "E       assert 2 == 3",
              "=========================== 1 failed, 899 passed in 12.00s ==========================="]  # fmt: skip
    return "Bash", "\n".join(lines)


def build(r: random.Random) -> tuple[str, str]:
    lines = [f"   Compiling {r.choice(WORDS)}-{k} v0.{k % 9}.{k % 7}" for k in range(800)]
    lines += ["error[E0308]: mismatched types", "  --> src/lib.rs:10:5", "   |", "10 |     x",
              "   |     ^ expected u32", "error: could not compile `app` due to previous error"]  # fmt: skip
    return "Bash", "\n".join(lines)


def source(r: random.Random) -> tuple[str, str]:
    out = ["import os", "import json", ""]
    for c in range(12):
        out += [f"class Thing{c}:", f'    """Holds {r.choice(WORDS)}."""', ""]
        for m in range(8):
            out += [f"    def {r.choice(WORDS)}_{m}(self, a, b=None):", f'        """Do {r.choice(WORDS)}."""']
            out += [f"        a = a + {k}  # {r.choice(WORDS)}" for k in range(12)] + ["        return a", ""]
    return "Bash", "\n".join(out)


def page(r: random.Random) -> tuple[str, str]:
    body = "".join(f"<h2>{r.choice(WORDS)}</h2><p>{' '.join(r.choices(WORDS, k=40))}</p>" for _ in range(80))
    scripts = "".join(f"<script>var x{k} = {k}; function f{k}() {{ return x{k}; }}</script>" for k in range(200))
    return "WebFetch", f"<!doctype html><html><head>{scripts}</head><body><nav>home about</nav>{body}</body></html>"


KINDS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "json records": records, "service log": service_log, "test run": test_run, "build": build,
    "source files": source, "web page": page,
}  # fmt: skip


def conversation(tool: str, output: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "What is going on here?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": {"q": "x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": output}]},
    ]


def per_10k(seconds: float, tokens: int) -> float:
    return seconds * 1000 * 10_000 / max(tokens, 1)


def main() -> int:
    print(f"{'workload':14s} {'tokens':>8s} {'saved':>7s} {'first':>9s} {'new block':>10s} {'same again':>11s}")
    print(f"{'':14s} {'':>8s} {'':>7s} {'ms/10k tokens, median of 5':>32s}")
    for name, make in KINDS.items():
        started = time.perf_counter()
        result = compress(conversation(*make(random.Random(0))), model="claude-sonnet-4-5")
        first = time.perf_counter() - started
        new_block, again = [], []
        for seed in range(1, 6):
            messages = conversation(*make(random.Random(seed)))
            started = time.perf_counter()
            compress(messages, model="claude-sonnet-4-5")
            new_block.append(time.perf_counter() - started)
            started = time.perf_counter()
            compress(messages, model="claude-sonnet-4-5")
            again.append(time.perf_counter() - started)
        tokens = result.tokens_before
        saved = 1 - result.tokens_after / tokens
        timings = [per_10k(first, tokens), per_10k(statistics.median(new_block), tokens),
                   per_10k(statistics.median(again), tokens)]  # fmt: skip
        print(f"{name:14s} {tokens:8d} {saved:7.1%} {timings[0]:9.1f} {timings[1]:10.1f} {timings[2]:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
