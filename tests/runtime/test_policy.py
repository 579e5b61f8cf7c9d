"""How the runtime finds a policy's router: the generated module when it is current, an in-memory compile (and a
warning) when it is stale or missing, and clear errors for paths that name no policy."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from headroom.cli.compile import main as compile_main
from headroom.compiler.diagnostics import CompileError
from headroom.runtime import policy as policies
from headroom.runtime.routing import Block

LOG = Block(kind="log", tokens=5000, chars=20000, tool="Bash", model="claude-sonnet-4")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_no_path_loads_the_shipped_default_from_its_generated_module() -> None:
    router = policies.load_router()
    assert router.entry == (policies.SHIPPED_RULES / "default.hrules").resolve()
    assert router.generated == router.entry.parent / "__hrules__" / "default.py"
    assert router.route(LOG).compressor == "log"
    assert router.settings()["cache"] == "stable"


def test_a_fresh_generated_module_is_used(tmp_path: Path) -> None:
    entry = write(tmp_path, "mine.hrules", 'include "default.hrules"\nset min_tokens 60 tokens\n')
    assert compile_main([str(entry), "-q"]) == 0
    router = policies.load_router(entry)
    assert router.generated == tmp_path / "__hrules__" / "mine.py"
    assert router.settings()["min_tokens"] == 60


def test_a_stale_module_is_replaced_by_an_in_memory_compile(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    entry = write(tmp_path, "mine.hrules", 'include "default.hrules"\nset min_tokens 60 tokens\n')
    assert compile_main([str(entry), "-q"]) == 0
    entry.write_text('include "default.hrules"\nset min_tokens 70 tokens\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        router = policies.load_router(entry)
    assert router.generated is None
    assert router.settings()["min_tokens"] == 70
    assert "is stale" in caplog.text and "headroom-compile" in caplog.text


def test_a_changed_include_makes_the_module_stale(tmp_path: Path) -> None:
    write(tmp_path, "_base.hrules", "set min_chars 100 chars\n")
    entry = write(tmp_path, "mine.hrules", 'include "_base.hrules"\nrule all: -> keep\n')
    assert compile_main([str(entry), "-q"]) == 0
    assert policies.load_router(entry).generated is not None
    write(tmp_path, "_base.hrules", "set min_chars 200 chars\n")
    router = policies.load_router(entry)
    assert router.generated is None and router.settings()["min_chars"] == 200


def test_a_missing_module_is_compiled_in_memory(tmp_path: Path) -> None:
    entry = write(tmp_path, "mine.hrules", "rule all: -> keep\n")
    router = policies.load_router(entry)
    assert router.generated is None
    assert router.route(LOG).reason == "rule 'all'"


def test_a_broken_policy_raises_compile_error(tmp_path: Path) -> None:
    entry = write(tmp_path, "mine.hrules", "rule all: -> squash\n")
    with pytest.raises(CompileError):
        policies.load_router(entry)


def test_folders_stand_for_their_policy(tmp_path: Path) -> None:
    write(tmp_path / "one", "only.hrules", "rule all: -> keep\n")
    write(tmp_path / "one", "_part.hrules", "rule x: -> keep\n")
    assert policies.entry_file(tmp_path / "one").name == "only.hrules"
    write(tmp_path / "two", "a.hrules", "rule all: -> keep\n")
    write(tmp_path / "two", "b.hrules", "rule all: -> keep\n")
    with pytest.raises(policies.PolicyNotFound, match="more than one"):
        policies.entry_file(tmp_path / "two")
    write(tmp_path / "two", "default.hrules", "rule all: -> keep\n")
    assert policies.entry_file(tmp_path / "two").name == "default.hrules"
    with pytest.raises(policies.PolicyNotFound, match="no such file"):
        policies.entry_file(tmp_path / "three")
