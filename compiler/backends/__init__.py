"""Code generators: each turns a validated `ir.Policy` into source text for one target language.

A backend is small on purpose: it decides what to emit and hands the layout to a Jinja2 template in `templates/`.
A later backend (Rust, for `native/`) implements the same two methods.
"""

from __future__ import annotations

from typing import Protocol

from headroom.compiler import ir


class Backend(Protocol):
    name: str

    def output_name(self, policy: ir.Policy) -> str:
        """The file name of the generated module, e.g. `default.py`."""

    def render(self, policy: ir.Policy) -> str:
        """The generated source: deterministic, byte-identical for the same policy."""


def backends() -> dict[str, Backend]:
    from headroom.compiler.backends.python import PythonBackend

    return {"python": PythonBackend()}
