"""Content detection on the kinds the rules name, from structure first; magika only for what structure leaves
open, and its absence or slow load degrades detection instead of failing it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from headroom.runtime.detect import detect

LOG = "\n".join(f"2026-11-12T09:00:{k:02d}.123Z INFO checkout [req-{k}] GET /api/v2/x 200 {k}ms" for k in range(40))
PYTEST = "\n".join(
    ["============================= test session starts ==============================", "collected 40 items"]
    + [f"tests/test_a.py::test_{k} PASSED" for k in range(40)]
    + ["=========================== 40 passed in 1.00s ==========================="]
)
CARGO = "\n".join([f"   Compiling crate{k} v0.{k}.0" for k in range(30)] + ["error[E0308]: mismatched types",
                                                                          "  --> src/main.rs:4:5"])  # fmt: skip
DIFF = "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n-a = 1\n+a = 2\n b = 3\n"
HTML = "<!doctype html><html><head><title>t</title></head><body><div><p>Hello</p></div></body></html>"
CSV = "id,name,amount\n" + "\n".join(f"{k},item {k},{k * 1.5}" for k in range(30))
TSV = "id\tname\n" + "\n".join(f"{k}\tn{k}" for k in range(30))
MARKDOWN = "# Title\n\nSome text here.\n\n## Part\n\n- one\n- two\n- three\n\n```\ncode\n```\n"
PYTHON = "import os\n\n\ndef main(argv):\n    for a in argv:\n        print(a)\n    return 0\n\n\nclass A:\n    pass\n"


@pytest.mark.parametrize(
    ("text", "tool_input", "kind", "items"),
    [
        (json.dumps([{"a": k} for k in range(7)]), "", "json_array", 7),
        (json.dumps({"a": 1}), "", "json", 0),
        ("\n".join(json.dumps({"k": k}) for k in range(5)), "", "jsonl", 5),
        (LOG, "", "log", 0),
        (PYTEST, "", "test_output", 0),
        (CARGO, "", "build_output", 0),
        (DIFF, "", "diff", 0),
        (HTML, "", "html", 0),
        (CSV, "", "csv", 30),
        (TSV, "", "tsv", 30),
        (PYTHON, '{"command": "cat app/main.py"}', "code:python", 0),
        ("just a few words of prose, nothing more", "", "text", 0),
    ],
)
def test_structural_kinds(text: str, tool_input: str, kind: str, items: int) -> None:
    detected = detect(text, tool_input)
    assert (detected.kind, detected.items) == (kind, items)


def test_models_fill_in_what_structure_leaves_open() -> None:
    assert detect(PYTHON).kind.startswith("code")
    assert detect(MARKDOWN).kind == "markdown"


def test_magika_timeout_degrades_to_structural_checks_and_says_so_once() -> None:
    program = (
        "import logging, sys; logging.basicConfig(stream=sys.stderr);"
        "from headroom.runtime.detect import detect, magika_status;"
        f"print(detect({PYTHON!r}).kind); print(detect('x = 1\\nprint(x)\\n' * 3).kind); print(magika_status());"
        f"print(detect({LOG!r}).kind)"
    )
    env = {"HEADROOM_MAGIKA_INIT_TIMEOUT_SECS": "0", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120)
    kinds = result.stdout.split()
    assert kinds == ["code:python", "text", "unavailable", "log"], result.stderr  # telltale lines, then heuristics
    assert result.stderr.count("structural checks only") == 1
