"""`headroom-compile` as a user runs it: what it writes, when it says code is stale, formatting, --explain, exit
codes, and no traceback whatever the input."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.cli.compile import main
from headroom.runtime import policy as policies

POLICY = """\
include "default.hrules"

set min_tokens 100 tokens
rule small_logs: when content is log and tokens < 1000 -> keep
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "main.hrules").write_text(POLICY, encoding="utf-8")
    return folder


def test_compiling_a_folder_writes_one_module_per_policy(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (rules / "_fragment.hrules").write_text("set min_chars 10 chars\n", encoding="utf-8")
    assert main([str(rules)]) == 0
    assert sorted(p.name for p in (rules / "__hrules__").iterdir()) == ["main.py"]
    assert "compiled to" in capsys.readouterr().out
    router = policies.load_router(rules / "main.hrules")
    assert router.generated == rules / "__hrules__" / "main.py"
    assert router.settings()["min_tokens"] == 100


def test_output_is_byte_identical_wherever_the_rules_live(rules: Path, tmp_path: Path) -> None:
    elsewhere = shutil.copytree(rules, tmp_path / "deep" / "other" / "rules")
    assert main([str(rules), "-q"]) == main([str(elsewhere), "-q"]) == 0
    assert (rules / "__hrules__/main.py").read_bytes() == (elsewhere / "__hrules__/main.py").read_bytes()


def test_an_up_to_date_module_is_not_rewritten(rules: Path) -> None:
    assert main([str(rules), "-q"]) == 0
    generated = rules / "__hrules__" / "main.py"
    before = generated.stat().st_mtime_ns
    assert main([str(rules), "-q"]) == 0
    assert generated.stat().st_mtime_ns == before


def test_check_reports_missing_and_stale_code(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(rules), "--check"]) == 1
    assert "generated code is missing" in capsys.readouterr().err
    assert main([str(rules), "-q"]) == 0
    assert main([str(rules), "--check", "-q"]) == 0
    (rules / "main.hrules").write_text(POLICY.replace("100 tokens", "120 tokens"), encoding="utf-8")
    assert main([str(rules), "--check"]) == 1
    assert "generated code is stale" in capsys.readouterr().err
    assert not (rules / "__hrules__" / "main.py").read_text().count("120")  # --check wrote nothing


def test_the_shipped_rules_are_compiled_current_and_formatted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(policies.SHIPPED_RULES), "--check"]) == 0, capsys.readouterr().err
    assert main([str(policies.SHIPPED_RULES), "--check", "--fmt"]) == 0, capsys.readouterr().err


def test_explain_names_the_deciding_line(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(rules / "main.hrules"), "--explain", "kind=log", "tokens=400", "chars=3000", "tool=Bash"]) == 0
    assert capsys.readouterr().out.strip() == "keep — rule 'small_logs' (main.hrules:4)"
    assert main([str(rules / "main.hrules"), "--explain", "kind=log", "tokens=4000", "chars=30000"]) == 0
    assert "compress with log(" in capsys.readouterr().out
    assert main([str(rules / "main.hrules"), "--explain", "colour=red"]) == 2
    assert "FACT one of" in capsys.readouterr().err


def test_list_shows_every_compressor_and_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listing = capsys.readouterr().out
    for name in ("min_tokens", "cache", "crusher", "max_items", "keep_first", "log", "code:LANG", "json_array"):
        assert name in listing


def test_strict_turns_warnings_into_errors(rules: Path) -> None:
    (rules / "main.hrules").write_text(POLICY + "profile unused { max_items 3 }\n", encoding="utf-8")
    assert main([str(rules), "-q"]) == 0
    assert main([str(rules), "-q", "--strict"]) == 1


def test_missing_path_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_fmt_rewrites_and_check_reports(rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = rules / "main.hrules"
    messy.write_text('include "default.hrules"   set min_tokens 100 tokens # why\n', encoding="utf-8")
    assert main([str(rules), "--fmt", "--check"]) == 1
    assert "would be reformatted" in capsys.readouterr().err
    assert main([str(rules), "--fmt", "-q"]) == 0
    assert messy.read_text() == 'include "default.hrules"\nset min_tokens 100 tokens  # why\n'
    assert main([str(rules), "--fmt", "--check", "-q"]) == 0


# Pieces of the language, so random text reaches deep into the parser and the later stages.
_WORDS = [
    "rule",
    "r:",
    "when",
    "->",
    "keep",
    "compress",
    "with",
    "crusher",
    "log",
    "(",
    ")",
    "max_items:",
    "context:",
    "content",
    "is",
    "json_array",
    "code:python",
    "and",
    "or",
    "not",
    "tokens",
    ">=",
    "<",
    "300",
    "5%",
    "4",
    "messages",
    "set",
    "min_tokens",
    "cache",
    "stable",
    "profile",
    "p",
    "{",
    "}",
    "tool",
    "Bash",
    "uses",
    "include",
    '"default.hrules"',
    '"x"',
    "exclude",
    "tools",
    "none",
    "protect",
    "recent",
    "code",
    "off",
    "for",
    "model",
    '"gpt-*"',
    ",",
    ";",
    "#",
    "\n",
    "error",
    "user",
    "says",
    "age",
    "items",
]


@given(st.lists(st.sampled_from(_WORDS) | st.text(max_size=3), max_size=30))
def test_no_input_text_gives_a_traceback(tmp_path_factory: pytest.TempPathFactory, words: list[str]) -> None:
    _assert_clean_failure(tmp_path_factory.mktemp("fuzz"), " ".join(words).encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=64))
def test_no_input_bytes_give_a_traceback(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    _assert_clean_failure(tmp_path_factory.mktemp("fuzz"), data)


def _assert_clean_failure(folder: Path, data: bytes) -> None:
    source = folder / "fuzz.hrules"
    source.write_bytes(data)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(source), "--check", "-q"])
    assert code in (0, 1), errors.getvalue()
    assert "internal error" not in errors.getvalue(), errors.getvalue()
