"""Golden tests of the compiler's messages: each broken policy in golden/ and exactly what `headroom-compile`
prints for it (file:line:col, the source line, the caret, the hint). Regenerate after an intended change with
HEADROOM_UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from headroom.cli.compile import main

GOLDEN = Path(__file__).with_name("golden")
CASES = sorted(p.stem for p in GOLDEN.glob("*.hrules") if not p.name.startswith("_"))


def run_compiler(case: str, folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    for source in GOLDEN.glob("*.hrules"):
        shutil.copy(source, folder / source.name)
    code = main([str(folder / f"{case}.hrules"), "--quiet"])
    return code, capsys.readouterr().err.replace(str(folder), "<tmp>")


@pytest.mark.parametrize("case", CASES)
def test_message_is_golden(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_compiler(case, tmp_path, capsys)
    expected_file = GOLDEN / f"{case}.expected"
    actual = f"exit {code}\n{output}"
    if os.environ.get("HEADROOM_UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_errors_exit_1_and_warnings_exit_0(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_compiler(case, tmp_path, capsys)
    assert "Traceback" not in output and "internal error" not in output
    assert code == (0 if case.endswith("_warning") else 1)
    first = output.splitlines()[0]
    assert first.startswith(f"{case}.hrules:") or first.startswith("_"), first
    assert (": warning: " if code == 0 else ": error: ") in first
