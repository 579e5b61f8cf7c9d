"""Real traffic for the commands that read what the proxy wrote (`headroom savings`, `headroom perf`): a data
folder of a test's own, the requests sent through a proxy writing into it, and the commands run on it."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.proxy_harness import Proxy
from support.usage_answers import ANTHROPIC_HEADERS, LOG, OPENAI_HEADERS, anthropic_body, counted, wait_for

WEB_PAGE = json.dumps([{"id": i, "url": f"https://example.com/item/{i}", "title": f"Item {i}",
                        "status": "ok" if i % 5 else "stale"} for i in range(150)])  # fmt: skip
TESTS = "\n".join(
    f"[{i:04d}] ok  test_module_{i % 13}.py::test_case_{i} PASSED ({i % 9}.{i % 7}0s)" for i in range(500)
)
MYSTERY = "mystery-model-1"  # neither litellm nor the bundled table prices it


@dataclass
class Recorded:
    home: Path  # the data folder: savings.json, logs/requests.jsonl
    stats: dict[str, Any]  # the proxy's /stats once everything was counted

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """A headroom command, as a real process reading this data folder."""
        env = {**os.environ, "HEADROOM_STORE_PATH": str(self.home / "store.db")}
        return subprocess.run(["headroom", *argv], capture_output=True, text=True, timeout=60, env=env, check=False)


def send_traffic(proxy: Proxy, home: Path) -> Recorded:
    """Both providers, three endpoints, four models (one with no price), three clients and three tools through
    `proxy`; returned once the savings file and the request log in `home` have every request."""
    sent = [
        proxy.post("/v1/messages", anthropic_body(), {**ANTHROPIC_HEADERS, "x-headroom-project": "alpha"}),
        proxy.post("/v1/messages", anthropic_body(stream=True),
                   {**ANTHROPIC_HEADERS, "x-headroom-project": "alpha", "user-agent": "claude-cli/2.0.1 (cli)"}),
        proxy.post("/v1/chat/completions", chat("gpt-4o", "WebFetch", WEB_PAGE), OPENAI_HEADERS),
        proxy.post("/v1/chat/completions", chat(MYSTERY, "Bash", LOG), OPENAI_HEADERS),
        proxy.post("/v1/responses", responses("shell", TESTS),
                   {**OPENAI_HEADERS, "user-agent": "codex_cli_rs/0.40.0 (Linux)"}),
        proxy.call("GET", "/v1/models"),
    ]  # fmt: skip
    assert all(reply.status == 200 for reply in sent)
    stats = counted(proxy, len(sent))
    savings, log = home / "savings.json", home / "logs" / "requests.jsonl"
    wait_for(lambda: savings.exists() and json.loads(savings.read_text())["requests"] == len(sent))
    wait_for(lambda: log.exists() and len(log.read_text().splitlines()) == len(sent))
    return Recorded(home, stats)


def chat(model: str, tool: str, result: str) -> dict[str, Any]:
    call = {"id": "c1", "type": "function", "function": {"name": tool, "arguments": "{}"}}
    messages = [{"role": "user", "content": "what came back?"}, {"role": "assistant", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": result}]  # fmt: skip
    return {"model": model, "messages": messages}


def responses(tool: str, output: str) -> dict[str, Any]:
    items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run the tests"}]},
             {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": tool, "arguments": "{}"},
             {"type": "function_call_output", "call_id": "call_1", "output": output}]  # fmt: skip
    return {"model": "gpt-5", "input": items}
