#!/usr/bin/env python3
"""Benchmark: how much faster the generated router decides than the reference interpreter, and how long compiling
the shipped rules takes.

Run it from anywhere (it is not a pytest test, so pytest does not collect it):

    python tests/benchmarks/bench_router.py

It routes every block of a realistic 200-message agent conversation with the router generated from
rules/default.hrules and with `headroom.compiler.interpreter.Interpreter`, checks they agree, and prints
decisions/second for each and the speed-up; then the in-process compile time of rules/default.hrules (the first,
cold call of this process apart from warm repeats) and the wall time of `headroom-compile rules/` in a subprocess
(skipped when the command is not installed). The generated router exists to be fast, so the script exits 1 when it
is less than 5x faster than the interpreter.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from headroom.compiler.interpreter import Interpreter
from headroom.compiler.pipeline import Compiled, compile_file
from headroom.runtime.routing import Block, Decision

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RULES = REPO / "rules" / "default.hrules"
MESSAGES = 200
PASSES = 20  # routings of the whole conversation per timed run
REPEATS = 7  # timed runs; the best is reported, as the least disturbed by the rest of the machine
COMPILE_REPEATS = 20
MINIMUM_SPEED_UP = 5.0

# What each tool returns in an agent session: (kind, typical tokens), picked at random per call.
TOOL_OUTPUTS: dict[str, list[tuple[str, int]]] = {
    "Bash": [("log", 900), ("test_output", 1500), ("build_output", 1200), ("diff", 700), ("text", 120)],
    "Read": [("code:python", 1800), ("code:typescript", 1400), ("markdown", 900), ("json", 300)],
    "Grep": [("text", 400), ("log", 250)],
    "WebFetch": [("html", 3000), ("json_array", 1600), ("markdown", 2200)],
}
USER_ASKS = ("run the tests", "fix the failing build", "why is this slow?", "add a retry to the fetch", "continue",
             "review the diff please", "summarise the logs")  # fmt: skip


def conversation(rng: random.Random) -> list[Block]:
    """A coding agent's session: user turns, assistant text, and mostly tool results of every size."""
    blocks: list[Block] = []
    user_text = ""
    for index in range(MESSAGES):
        age = MESSAGES - 1 - index
        roll = rng.random()
        if roll < 0.1:
            user_text = rng.choice(USER_ASKS)
            blocks.append(_block(rng, "text", 40, age, user_text, role="user"))
        elif roll < 0.35:
            blocks.append(_block(rng, "markdown", 300, age, user_text, role="assistant"))
        else:
            tool = rng.choice(list(TOOL_OUTPUTS))
            kind, tokens = rng.choice(TOOL_OUTPUTS[tool])
            blocks.append(_block(rng, kind, tokens, age, user_text, role="tool", tool=tool))
    return blocks


def _block(rng: random.Random, kind: str, typical_tokens: int, age: int, user_text: str, **facts: str) -> Block:
    tokens = max(1, int(rng.lognormvariate(0, 0.8) * typical_tokens))
    chars = tokens * rng.randint(3, 5)
    records = kind in ("json_array", "jsonl", "csv", "tsv")
    return Block(kind=kind, tokens=tokens, chars=chars, items=tokens // 20 if records else 0, lines=chars // 60,
                 model="claude-sonnet-4", provider="anthropic", age=age, is_error=rng.random() < 0.05,
                 user_text=user_text, **facts)  # fmt: skip


def load_router(compiled: Compiled) -> types.ModuleType:
    module = types.ModuleType("bench_router_default")
    exec(compile(compiled.code, compiled.output_name, "exec"), module.__dict__)
    return module


def decisions_per_second(route: Callable[[Block], Decision], blocks: list[Block]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(PASSES):
            for block in blocks:
                route(block)
        best = min(best, time.perf_counter() - start)
    return PASSES * len(blocks) / best


def time_compile() -> tuple[float, float]:
    """(the first `compile_file` of this process, the best of the warm repeats after it), in seconds."""
    start = time.perf_counter()
    compile_file(DEFAULT_RULES)
    cold = time.perf_counter() - start
    warm = float("inf")
    for _ in range(COMPILE_REPEATS):
        start = time.perf_counter()
        compile_file(DEFAULT_RULES)
        warm = min(warm, time.perf_counter() - start)
    return cold, warm


def time_cli() -> str:
    """The wall time of `headroom-compile rules/`, run on a copy of rules/ so the repository is not written to."""
    command = shutil.which("headroom-compile")
    if command is None:
        return "skipped (headroom-compile is not installed)"
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(REPO / "rules", Path(folder) / "rules", ignore=shutil.ignore_patterns("__hrules__"))
        start = time.perf_counter()
        done = subprocess.run([command, "rules/"], cwd=folder, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        return f"skipped (exit {done.returncode}: {(done.stderr or done.stdout).strip().splitlines()[:1]})"
    return f"{wall * 1000:.0f} ms"


def main() -> int:
    cold, warm = time_compile()  # first: nothing has compiled a policy in this process yet
    compiled = compile_file(DEFAULT_RULES)
    route, interpreter = load_router(compiled).route, Interpreter(compiled.policy)
    blocks = conversation(random.Random(2024))
    disagreements = [block for block in blocks if route(block) != interpreter.route(block)]
    if disagreements:
        print(f"FAIL: the generated router and the interpreter disagree on {len(disagreements)} blocks, e.g.")
        print(f"  {disagreements[0]}")
        return 1
    generated, interpreted = decisions_per_second(route, blocks), decisions_per_second(interpreter.route, blocks)
    ratio = generated / interpreted
    actions = Counter(route(block).action for block in blocks)
    print(f"rules/default.hrules, {len(blocks)} blocks ({actions['compress']} compressed, {actions['keep']} kept), "
          f"best of {REPEATS} runs x {PASSES} passes")  # fmt: skip
    print(f"  generated router  {generated:>12,.0f} decisions/s  (its lru caches are warm after the first pass)")
    print(f"  interpreter       {interpreted:>12,.0f} decisions/s")
    print(f"  speed-up          {ratio:>12.1f}x")
    print(f"  compile_file, cold (first call in this process)  {cold * 1000:8.1f} ms")
    print(f"  compile_file, warm (best of {COMPILE_REPEATS})               {warm * 1000:8.1f} ms")
    print(f"  headroom-compile rules/ (subprocess, wall)       {time_cli()}")
    if ratio < MINIMUM_SPEED_UP:
        print(f"FAIL: the generated router is only {ratio:.1f}x faster than the interpreter (need {MINIMUM_SPEED_UP}x)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
