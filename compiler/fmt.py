"""Syntax tree → canonical `.hrules` text: the one layout `headroom-compile --fmt` writes.

A policy has exactly one canonical spelling, so diffs between versions show changes of meaning, never of layout,
and `--fmt --check` can hold a repository to it. The text is printed from the tree alone (never patched from the
source) and keeps everything the tree holds, comments and blank lines included: the tests hold this module to
`parse(format_module(tree)) == tree` and to being idempotent.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from headroom.compiler import nodes as n
from headroom.compiler.parser import keywords

INDENT = "    "
WIDTH = 100  # a rule or a list of phrases longer than this is broken over lines

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The parser stores units in their plural; `1 message` reads better than `1 messages`.
SINGULAR_UNITS = {
    "tokens": "token", "chars": "char", "items": "item", "messages": "message", "lines": "line", "rows": "row",
    "seconds": "second", "minutes": "minute", "hours": "hour", "days": "day",
}  # fmt: skip

# Binding strength of conditions: an operand binding weaker than its place allows is parenthesized.
_OR, _AND, _NOT, _ATOM = range(4)


def format_module(module: n.Module) -> str:
    """The canonical text of a parsed file: one statement per line, ending in exactly one newline (an empty file
    stays empty)."""
    lines = _block(module.statements, module.closing_comments, "")
    return "\n".join(lines) + "\n" if lines else ""


# --- layout -------------------------------------------------------------------------------------------------------


def _block(statements: tuple[n.Statement, ...], closing_comments: tuple[str, ...], indent: str) -> list[str]:
    """The lines of a file or of a block's body: each statement with its blank line and comments."""
    lines: list[str] = []
    for index, statement in enumerate(statements):
        if statement.blank_line_before and index > 0:
            lines.append("")
        lines.extend(_comment_lines(statement.comments, indent))
        text = _statement(statement, indent)
        if statement.trailing_comment is not None:
            text[-1] += "  " + statement.trailing_comment
        lines.extend(text)
    lines.extend(_comment_lines(closing_comments, indent))
    return lines


def _comment_lines(comments: tuple[str, ...], indent: str) -> list[str]:
    """Comments at the block's indentation; "" in the tree is a blank line, which carries no indentation."""
    return [indent + comment if comment else "" for comment in comments]


def _statement(statement: n.Statement, indent: str) -> list[str]:
    """The lines of one statement, indented; only blocks, long rules and long phrase lists take more than one."""
    match statement:
        case n.Profile(name, params):
            return _braced(f"profile {name.text}", params, statement.closing_comments, indent)
        case n.Override(selector, globs, body):
            return _braced(f"for {selector} {_globs(globs)}", body, statement.closing_comments, indent)
        case n.Rule(name, condition, action):
            head = f"rule {name.text}:" + ("" if condition is None else f" when {_condition(condition)}")
            return _wrapped([head, f"-> {_action(action)}"], indent)
        case n.ProtectAnalysisContext(phrases) if phrases is not None:
            pieces = [f"{text}," for text in map(_string, phrases[:-1])] + [_string(phrases[-1])]
            return _wrapped(["protect analysis context when user says " + pieces[0], *pieces[1:]], indent)
    return [indent + _line(statement)]


def _braced(header: str, body: tuple[n.Statement, ...], closing_comments: tuple[str, ...], indent: str) -> list[str]:
    return [f"{indent}{header} {{", *_block(body, closing_comments, indent + INDENT), indent + "}"]


def _wrapped(pieces: list[str], indent: str) -> list[str]:
    """Join pieces with spaces, starting a continuation line (indented once more) where a line would grow past
    WIDTH; every line keeps at least one piece, so an overlong piece stands alone rather than breaking."""
    lines = [indent + pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= WIDTH:
            lines[-1] += " " + piece
        else:
            lines.append(indent + INDENT + piece)
    return lines


def _line(statement: n.Statement) -> str:
    """A statement that always fits on one line."""
    match statement:
        case n.Include(path):
            return f"include {_string(path)}"
        case n.Setting(name, value):
            return f"set {name.text} {_value(value)}"
        case n.ExcludeTools(globs):
            return f"exclude tools {_globs(globs) or 'none'}"
        case n.ProtectRecentCode(messages):
            return "protect recent code " + ("off" if messages is None else _quantity(messages))
        case n.ProtectAnalysisContext():
            return "protect analysis context off"
        case n.ProtectUserMessages(on):
            return "protect user messages" + _switch(on)
        case n.ProtectErrorOutputs(on):
            return "protect error outputs" + _switch(on)
        case n.ProfileParam(name, value):
            return f"{_param_name(name.text)} {_value(value)}"
        case n.ToolProfile(globs, profile):
            return f"tool {_globs(globs)} uses {profile.text}"
    raise TypeError(f"cannot format {type(statement).__name__}")


def _switch(on: bool) -> str:
    return "" if on else " off"


def _param_name(name: str) -> str:
    """`keep_first` and `keep_last` are written in their sugared form, `keep first 30%`."""
    return {"keep_first": "keep first", "keep_last": "keep last"}.get(name, name)


# --- conditions and actions ---------------------------------------------------------------------------------------


def _condition(condition: n.Condition) -> str:
    match condition:
        case n.AnyOf(operands):
            return " or ".join(_operand(operand, _AND) for operand in operands)
        case n.All(operands):
            return " and ".join(_operand(operand, _NOT) for operand in operands)
        case n.Not(operand):
            return "not " + _operand(operand, _NOT)
        case n.ContentIs(kinds):
            return "content is " + ", ".join(kind.text for kind in kinds)
        case n.Compare(measure, op, quantity):
            return f"{measure} {op} {_quantity(quantity)}"
        case n.FieldIs(field, globs):
            return f"{field} is {_globs(globs)}"
        case n.UserSays(phrases):
            return "user says " + ", ".join(map(_string, phrases))
        case n.IsError():
            return "error"
    raise TypeError(f"cannot format {type(condition).__name__}")


def _operand(condition: n.Condition, weakest: int) -> str:
    """A condition inside another: parenthesized when it binds weaker than `weakest`, which reading it back bare
    would regroup (or flatten: `a and (b and c)` is not the same tree as `a and b and c`)."""
    text = _condition(condition)
    return f"({text})" if _strength(condition) < weakest else text


def _strength(condition: n.Condition) -> int:
    match condition:
        case n.AnyOf():
            return _OR
        case n.All():
            return _AND
        case n.Not():
            return _NOT
    return _ATOM


def _action(action: n.Action) -> str:
    match action:
        case n.CompressWith(compressor, arguments) if arguments:
            listed = ", ".join(f"{a.name.text}: " + ", ".join(map(_value, a.values)) for a in arguments)
            return f"compress with {compressor.text}({listed})"
        case n.CompressWith(compressor):
            return f"compress with {compressor.text}"
    return "keep"


# --- values -------------------------------------------------------------------------------------------------------


def _value(value: n.Value) -> str:
    match value:
        case n.Quantity():
            return _quantity(value)
        case n.Str(text):
            return _string(text)
    return value.text


def _quantity(quantity: n.Quantity) -> str:
    number = _number(quantity.number)
    if quantity.unit is None:
        return number
    if quantity.unit == "%":
        return number + "%"
    unit = SINGULAR_UNITS.get(quantity.unit, quantity.unit) if quantity.number == 1 else quantity.unit
    return f"{number} {unit}"


def _number(number: Decimal) -> str:
    """Plain digits without trailing zeros: `1.50` → `1.5`, `1E+2` → `100` (trimmed as text, since
    `Decimal.normalize` would round numbers longer than the context's precision)."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _globs(globs: tuple[str, ...]) -> str:
    return ", ".join(map(_glob, globs))


def _glob(glob: str) -> str:
    """Bare when it reads back as a name, quoted when it holds other characters or is a keyword."""
    return glob if _BARE.fullmatch(glob) and glob not in keywords() else _string(glob)
