"""Finding and loading the compiled router for a policy.

`headroom-compile rules/x.hrules` writes `rules/__hrules__/x.py`. At run time the engine asks for the router of a
policy file (or of the shipped default) and gets that module when it is fresh — made by this version of the
compiler from the sources as they are now. When it is missing or stale, the policy is compiled in memory instead
and a warning says so, so a forgotten `headroom-compile` costs a few milliseconds at start, never wrong decisions.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from headroom import __version__
from headroom.runtime.routing import Block, Decision

log = logging.getLogger(__name__)

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
SHIPPED_PREFIX = "<headroom>/"  # how generated code names a source that ships with headroom
GENERATED_DIR = "__hrules__"
DEFAULT_ENTRY = "default.hrules"


class PolicyNotFound(Exception):
    """The path names no policy file, or a folder in which the entry file is ambiguous."""


@dataclass(frozen=True)
class Router:
    """A loaded policy: `route` decides per block, `settings` gives the settings in force for a request."""

    entry: Path
    module: ModuleType
    generated: Path | None  # the module file used, or None when compiled in memory

    @property
    def route(self) -> Callable[[Block], Decision]:
        return self.module.route

    def settings(self, model: str = "", provider: str = "") -> Mapping[str, Any]:
        return self.module.settings(model, provider)


def entry_file(path: Path | None = None) -> Path:
    """The policy file a path stands for: a `.hrules` file itself; in a folder its `default.hrules`, else its only
    policy file (fragments, named `_*.hrules`, are for including); None stands for the shipped default."""
    if path is None:
        return SHIPPED_RULES / DEFAULT_ENTRY
    if path.is_file():
        return path
    if path.is_dir():
        if (path / DEFAULT_ENTRY).is_file():
            return path / DEFAULT_ENTRY
        candidates = policy_files(path)
        if len(candidates) == 1:
            return candidates[0]
        raise PolicyNotFound(
            f"{path}: {'no' if not candidates else 'more than one'} policy file; name one, "
            f"or call the main one {DEFAULT_ENTRY}"
        )
    raise PolicyNotFound(f"{path}: no such file or folder")


def policy_files(folder: Path) -> list[Path]:
    """The policies in a folder, in name order: every `.hrules` file but the `_fragments`."""
    return sorted(p for p in folder.glob("*.hrules") if not p.name.startswith("_"))


def generated_path(entry: Path) -> Path:
    return entry.parent / GENERATED_DIR / f"{entry.stem}.py"


def is_fresh(module: ModuleType, entry: Path) -> bool:
    """True when the module was made by this compiler version from the sources as they are on disk now."""
    if getattr(module, "COMPILER_VERSION", None) != __version__:
        return False
    for display, sha256 in getattr(module, "SOURCES", ()):
        path = source_path(display, entry.parent)
        try:
            if hashlib.sha256(path.read_bytes().decode("utf-8-sig").encode("utf-8")).hexdigest() != sha256:
                return False
        except (OSError, UnicodeDecodeError):
            return False
    return True


def load_router(path: Path | None = None) -> Router:
    """The router for a policy (see `entry_file`). Raises `PolicyNotFound`, or the compiler's `CompileError`
    when the generated module is stale and the sources do not compile."""
    entry = entry_file(path).resolve()
    generated = generated_path(entry)
    if generated.is_file():
        module = _module_from_file(generated)
        if is_fresh(module, entry):
            return Router(entry, module, generated)
        log.warning(
            "%s is stale (its .hrules sources or the compiler changed); compiled in memory. "
            "Run `headroom-compile %s` to update it.",
            generated,
            entry,
        )
    return Router(entry, compile_in_memory(entry), None)


def compile_in_memory(entry: Path) -> ModuleType:
    from headroom.compiler.pipeline import compile_file  # the compiler is only needed when code is stale

    compiled = compile_file(entry)
    module = ModuleType(f"headroom_policy_{compiled.policy.name}")
    module.__file__ = str(generated_path(entry))
    exec(compile(compiled.code, module.__file__, "exec"), module.__dict__)
    return module


def _module_from_file(path: Path) -> ModuleType:
    name = f"headroom_policy_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PolicyNotFound(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_path(display: str, folder: Path) -> Path:
    if display.startswith(SHIPPED_PREFIX):
        return SHIPPED_RULES / display.removeprefix(SHIPPED_PREFIX)
    return folder / display
