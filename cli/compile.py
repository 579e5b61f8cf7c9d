"""`headroom-compile`: compile `.hrules` policies to router modules, check they are current, format them, and
explain a decision.

Exit codes: 0 success; 1 a compile error, stale generated code (`--check`) or a file that needs formatting
(`--fmt --check`); 2 wrong usage. Whatever the input, the output is a compiler's message, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from headroom import __version__
from headroom.cli.report import render
from headroom.compiler import catalog
from headroom.compiler.diagnostics import CompileError, Diagnostic, Severity
from headroom.runtime import policy as policies
from headroom.runtime.files import write_atomically
from headroom.runtime.routing import Block


def build_parser(prog: str = "headroom-compile") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compile .hrules policies into router modules (written to __hrules__/NAME.py beside each file).",
        epilog="Folders stand for their policy files: every *.hrules but _fragments (which are only included).",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[Path("rules")], help="policy files or folders (default: rules/)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if generated code is stale (with --fmt: if a file is not formatted)",
    )
    parser.add_argument("--fmt", action="store_true", help="rewrite the .hrules files in canonical form")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument(
        "--explain",
        nargs="+",
        metavar="FACT=VALUE",
        help="print the decision for one block, e.g. --explain kind=log tokens=400 tool=Bash",
    )
    parser.add_argument(
        "--list", action="store_true", help="print the settings, compressors and content kinds a policy may use"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None, prog: str = "headroom-compile") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return _Run(args, prog).run()
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        print(f"{prog}: internal error: {error!r}. This is a bug in headroom; please report it.", file=sys.stderr)
        return 1


class _Run:
    def __init__(self, args: argparse.Namespace, prog: str) -> None:
        self.args = args
        self.prog = prog
        self.errors = 0
        self.warnings = 0

    def run(self) -> int:
        if self.args.list:
            print(describe_catalog())
            return 0
        try:
            files = self._files()
        except policies.PolicyNotFound as error:
            print(f"{self.prog}: error: {error}", file=sys.stderr)
            return 1
        if self.args.explain:
            return self._explain(files)
        for path in files:
            self._format(path) if self.args.fmt else self._compile(path)
        if self.errors or self.warnings:
            print(f"{self.errors} error(s), {self.warnings} warning(s)", file=sys.stderr)
        return 1 if self.errors else 0

    def _files(self) -> list[Path]:
        """The files named: a folder stands for its policies (for --fmt, every .hrules file in it)."""
        found: list[Path] = []
        for path in self.args.paths:
            if path.is_dir():
                in_folder = sorted(path.glob("*.hrules")) if self.args.fmt else policies.policy_files(path)
                if not in_folder:
                    raise policies.PolicyNotFound(f"{path}: no .hrules files")
                found.extend(in_folder)
            elif path.is_file():
                found.append(path)
            else:
                raise policies.PolicyNotFound(f"{path}: no such file or folder")
        return found

    # --- compile ---------------------------------------------------------------------------------------------

    def _compile(self, entry: Path) -> None:
        from headroom.compiler.pipeline import compile_file

        try:
            compiled = compile_file(entry)
        except CompileError as error:
            self._report(error.diagnostics, entry)
            return
        self._report(compiled.warnings, entry)
        if self.args.strict and compiled.warnings:
            return
        target = policies.generated_path(entry)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == compiled.code:
            self._say(f"{entry}: up to date ({target})")
        elif self.args.check:
            self.errors += 1
            print(
                f"{entry}: generated code is {'missing' if current is None else 'stale'} ({target}); "
                f"run `headroom-compile {entry}`",
                file=sys.stderr,
            )
        else:
            write_atomically(target, compiled.code)
            self._say(f"{entry}: compiled to {target}")

    # --- format ----------------------------------------------------------------------------------------------

    def _format(self, path: Path) -> None:
        from headroom.compiler.fmt import format_module
        from headroom.compiler.loader import read_text
        from headroom.compiler.parser import parse

        try:
            text = read_text(path, str(path))
            formatted = format_module(parse(text, str(path)))
        except CompileError as error:
            self._report(error.diagnostics, path)
            return
        if formatted == text:
            self._say(f"{path}: already formatted")
        elif self.args.check:
            self.errors += 1
            print(f"{path}: would be reformatted (run `headroom-compile --fmt {path}`)", file=sys.stderr)
        else:
            write_atomically(path, formatted)
            self._say(f"{path}: reformatted")

    # --- explain ---------------------------------------------------------------------------------------------

    def _explain(self, files: list[Path]) -> int:
        if len(files) != 1:
            print(f"{self.prog}: error: --explain needs exactly one policy file", file=sys.stderr)
            return 2
        try:
            block = _block_from_facts(self.args.explain)
            router = policies.load_router(files[0])
        except ValueError as error:
            print(f"{self.prog}: error: {error}", file=sys.stderr)
            return 2
        except CompileError as error:
            self._report(error.diagnostics, files[0])
            return 1
        print(router.route(block).explain())
        return 0

    # --- output ----------------------------------------------------------------------------------------------

    def _report(self, diagnostics: list[Diagnostic], entry: Path) -> None:
        for diagnostic in diagnostics:
            is_error = diagnostic.severity is Severity.ERROR or self.args.strict
            self.errors += is_error
            self.warnings += not is_error
            print(render(diagnostic, entry), file=sys.stderr)

    def _say(self, message: str) -> None:
        if not self.args.quiet:
            print(message)


def describe_catalog() -> str:
    """What a policy may name, from the catalog the compiler checks against (so it cannot drift from it)."""
    lines = ["settings:"]
    for name, setting in catalog.SETTINGS.items():
        lines.append(
            f"  {name:<16} {setting.type.describe()}; default {setting.type.show(setting.default)}: {setting.doc}"
        )
    lines.append("compressors:")
    for name, compressor in catalog.COMPRESSORS.items():
        lines.append(f"  {name:<16} for {', '.join(compressor.kinds)}: {compressor.doc}")
        for param, spec in compressor.params.items():
            lines.append(f"    {param:<14} {spec.type.describe()}; default {spec.type.show(spec.default)}")
    lines.append("content kinds: " + ", ".join(catalog.CONTENT_KINDS))
    lines.append("code languages (code:LANG): " + ", ".join(catalog.CODE_LANGUAGES))
    return "\n".join(lines)


def _block_from_facts(facts: list[str]) -> Block:
    """`kind=log tokens=400 is_error=true` → a Block, each value converted to its field's type."""
    types = {f.name: f.type for f in dataclasses.fields(Block)}
    values: dict[str, object] = {}
    for fact in facts:
        name, sep, text = fact.partition("=")
        if not sep or name not in types:
            raise ValueError(f"--explain takes FACT=VALUE with FACT one of: {', '.join(types)} (got {fact!r})")
        kind = types[name]
        if kind == "int":
            if not text.isdigit():
                raise ValueError(f"{name} must be a whole number (got {text!r})")
            values[name] = int(text)
        elif kind == "bool":
            values[name] = text.lower() in ("1", "true", "yes", "on")
        else:
            values[name] = text.lower() if name == "user_text" else text
    return Block(**values)
