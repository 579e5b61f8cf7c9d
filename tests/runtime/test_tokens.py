"""Token counts offline: tiktoken reads its BPE files from the litellm wheel; without any, an estimate."""

from __future__ import annotations

import subprocess
import sys

from headroom.runtime import tokens


def test_counts_use_the_bundled_bpe_files_without_network() -> None:
    program = (
        "import os; from headroom.runtime.tokens import count_tokens;"
        "print(count_tokens('hello world, hello tokens', 'gpt-4o'), count_tokens('hello world', 'claude-sonnet-4'));"
        "print(os.environ['TIKTOKEN_CACHE_DIR'])"
    )
    env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120)
    counts, folder = result.stdout.splitlines()
    assert counts.split() == ["5", "2"], result.stderr  # the estimate would say 7 and 3
    assert folder.endswith("tokenizers")


def test_encodings_by_model() -> None:
    assert tokens.encoding_name("gpt-4o-mini") == "o200k_base"
    assert tokens.encoding_name("openai/o3") == "o200k_base"
    assert tokens.encoding_name("claude-sonnet-4-5") == "cl100k_base"
    assert tokens.encoding_name("gpt-4-turbo") == "cl100k_base"


def test_without_a_tokenizer_counts_are_estimated_and_logged(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # import fails
    tokens.counter.cache_clear()
    try:
        assert tokens.counter("cl100k_base")("x" * 40) == 10
        assert "token counts are estimates" in caplog.text
    finally:
        tokens.counter.cache_clear()
