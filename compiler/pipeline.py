"""The compiler's stages in order — load, lower, validate, render — as one call each for the CLI and the runtime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from headroom.compiler import ir
from headroom.compiler.backends import backends
from headroom.compiler.diagnostics import CompileError, Diagnostic, Diagnostics
from headroom.compiler.loader import load
from headroom.compiler.lower import lower
from headroom.compiler.validate import validate


@dataclass
class Compiled:
    policy: ir.Policy
    code: str  # the generated module
    output_name: str
    warnings: list[Diagnostic]


def compile_policy(entry: Path) -> tuple[ir.Policy, list[Diagnostic]]:
    """Parse, lower and validate the policy whose entry file is `entry`. Raises `CompileError` with every
    diagnostic when there is any error; returns the warnings otherwise."""
    diagnostics = Diagnostics()
    root = load(entry, diagnostics)
    diagnostics.raise_if_errors()
    policy = lower(root, diagnostics)
    diagnostics.raise_if_errors()
    validate(policy, diagnostics)
    diagnostics.raise_if_errors()
    return policy, diagnostics.warnings


def compile_file(entry: Path, backend: str = "python") -> Compiled:
    policy, warnings = compile_policy(entry)
    generator = backends()[backend]
    return Compiled(policy, generator.render(policy), generator.output_name(policy), warnings)


__all__ = ["CompileError", "Compiled", "compile_file", "compile_policy"]
