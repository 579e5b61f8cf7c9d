"""Source text → syntax tree (`nodes.Module`), with compiler-style errors.

The grammar (`headroom.lark`) is the spec; this module only drives Lark, turns its parse tree into `nodes`, puts the
comments back where they stood, and translates Lark's parser states into messages a person can act on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from headroom.compiler import nodes as n
from headroom.compiler.diagnostics import CompileError, Diagnostic, Location, Severity, did_you_mean

GRAMMAR_PATH = Path(__file__).with_name("headroom.lark")

# Units are stored in one spelling, so `1 message` and `1 messages` are the same tree.
CANONICAL_UNITS = {
    "token": "tokens", "char": "chars", "item": "items", "message": "messages", "line": "lines", "row": "rows",
    "s": "seconds", "second": "seconds", "minute": "minutes", "hour": "hours", "day": "days",
}  # fmt: skip


@functools.cache
def lark_parser() -> Lark:
    """The LALR parser, built once per process and cached across processes: building it costs more than
    compiling a policy, and a compile should feel instant."""
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True, cache=_cache_file(grammar))


def _cache_file(grammar: str) -> str | bool:
    """Where Lark keeps the built parser: in the user's own cache folder, never a shared one (the cache is a
    pickle, which must not come from anyone else). False — no cache — when there is no writable place."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "headroom"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    digest = hashlib.sha256(f"{lark.__version__}\0{grammar}".encode()).hexdigest()[:16]
    return str(folder / f"hrules-parser-{digest}.lark")


@functools.cache
def keywords() -> frozenset[str]:
    """Every reserved word of the language (the grammar's string literals that look like words)."""
    words = {t.pattern.value for t in lark_parser().terminals if t.pattern.type == "str"}
    return frozenset(w for w in words if w.isidentifier())


def parse(source: str, filename: str = "<string>") -> n.Module:
    """Parse one file's text; raise `CompileError` with a located, human message when it is not valid `.hrules`."""
    try:
        tree = lark_parser().parse(source)
        _check_nesting(tree, filename)
        module = _ToNodes().transform(tree)
    except UnexpectedInput as error:
        raise CompileError([_describe(error, source, filename)]) from None
    except VisitError as error:
        if isinstance(error.orig_exc, _BadToken):
            bad = error.orig_exc
            raise CompileError.at(Location(filename, bad.line, bad.column), bad.message) from None
        raise
    return _attach_comments(module, source)


MAX_CONDITION_DEPTH = 50
_NESTING = frozenset({"any_of", "all_of", "negate"})


def _check_nesting(tree: Tree, filename: str) -> None:
    """Refuse absurdly deep conditions before the recursive stages meet them (without recursing here)."""
    pending: list[tuple[Tree | Token, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if not isinstance(node, Tree):
            continue
        depth += node.data in _NESTING
        if depth > MAX_CONDITION_DEPTH:
            where = Location(filename, node.meta.line, node.meta.column)
            raise CompileError.at(where, f"condition nested more than {MAX_CONDITION_DEPTH} levels deep")
        pending.extend((child, depth) for child in node.children)


# --- parse tree → nodes -------------------------------------------------------------------------------------------


class _BadToken(Exception):
    """A token the grammar accepts but whose content is wrong (a bad escape in a string)."""

    def __init__(self, pos: n.Pos, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = pos.line, pos.column, message


def _pos(item: Token | Tree | object) -> n.Pos:
    if isinstance(item, Token):
        return n.Pos(item.line or 0, item.column or 0)
    meta = getattr(item, "meta", item)  # a Tree's metadata, or a Meta itself
    return n.Pos(getattr(meta, "line", 0), getattr(meta, "column", 0))


def _span(meta) -> dict[str, n.Pos]:
    return {"pos": n.Pos(meta.line, meta.column), "end": n.Pos(meta.end_line, meta.end_column)}


def _string(token: Token) -> str:
    try:
        return json.loads(token.value, strict=False)
    except ValueError:
        raise _BadToken(_pos(token), 'invalid escape in string (use \\\\, \\", \\n, \\t or \\uXXXX)') from None


def _glob(item: Token) -> str:
    return _string(item) if item.type == "STRING" else str(item)


@v_args(meta=True)
class _ToNodes(Transformer):
    """One method per grammar rule; each returns the node for what the rule matched."""

    def start(self, meta, items):
        return n.Module(tuple(item for item in items if isinstance(item, n.Statement)))

    # values
    def quantity(self, meta, items):
        number, unit = items
        unit_text = str(unit.children[0]) if unit is not None else None
        return n.Quantity(Decimal(str(number)), CANONICAL_UNITS.get(unit_text, unit_text), pos=_pos(number))

    def _value(self, item):
        if isinstance(item, Token):
            if item.type == "STRING":
                return n.Str(_string(item), pos=_pos(item))
            return n.Word(str(item), pos=_pos(item))
        return item

    def glob_list(self, meta, items):
        return tuple(_glob(item) for item in items)

    def string_list(self, meta, items):
        return tuple(_string(item) for item in items)

    # statements
    def include(self, meta, items):
        return n.Include(_string(items[0]), **_span(meta))

    def setting(self, meta, items):
        name, value = items
        return n.Setting(n.Ident(str(name), pos=_pos(name)), self._value(value), **_span(meta))

    def exclude_tools(self, meta, items):
        return n.ExcludeTools(items[0], **_span(meta))

    def exclude_none(self, meta, items):
        return n.ExcludeTools((), **_span(meta))

    def off(self, meta, items):
        return None

    def protect_recent_code(self, meta, items):
        return n.ProtectRecentCode(items[0], **_span(meta))

    def protect_analysis_on(self, meta, items):
        return n.ProtectAnalysisContext(items[0], **_span(meta))

    def protect_analysis_off(self, meta, items):
        return n.ProtectAnalysisContext(None, **_span(meta))

    def switch(self, meta, items):
        return str(items[0]) == "on"

    def protect_user_messages(self, meta, items):
        return n.ProtectUserMessages(items[0] is not False, **_span(meta))

    def protect_error_outputs(self, meta, items):
        return n.ProtectErrorOutputs(items[0] is not False, **_span(meta))

    def profile(self, meta, items):
        name, *params = items
        return n.Profile(n.Ident(str(name), pos=_pos(name)), tuple(params), **_span(meta))

    def profile_param(self, meta, items):
        name, value = items
        return n.ProfileParam(n.Ident(str(name), pos=_pos(name)), self._value(value), **_span(meta))

    def profile_keep(self, meta, items):
        position, value = items
        name = n.Ident(f"keep_{position.children[0]}", pos=_pos(meta))
        return n.ProfileParam(name, self._value(value), **_span(meta))

    def tool_profile(self, meta, items):
        globs, profile = items
        return n.ToolProfile(globs, n.Ident(str(profile), pos=_pos(profile)), **_span(meta))

    def rule(self, meta, items):
        name, condition, action = items
        return n.Rule(n.Ident(str(name), pos=_pos(name)), condition, action, **_span(meta))

    def keep(self, meta, items):
        return n.Keep(pos=_pos(meta))

    def compress(self, meta, items):
        name, arguments = items
        return n.CompressWith(n.Ident(str(name), pos=_pos(name)), arguments or (), pos=_pos(meta))

    def arguments(self, meta, items):
        """Fold `name: v1, v2, other: v3` into arguments; a bare value extends the argument before it."""
        folded: list[n.Argument] = []
        for kind, name, value in items:
            if kind == "named":
                folded.append(n.Argument(name, (value,), pos=name.pos))
            elif not folded:
                raise _BadToken(value.pos, "expected an argument name before this value, as in `name: value`")
            else:
                folded[-1] = replace(folded[-1], values=(*folded[-1].values, value))
        return tuple(folded)

    def named_argument(self, meta, items):
        name, value = items
        return ("named", n.Ident(str(name), pos=_pos(name)), self._value(value))

    def more_value(self, meta, items):
        return ("more", None, self._value(items[0]))

    def override(self, meta, items):
        selector, globs, *body = items
        return n.Override(str(selector.children[0]), globs, tuple(body), **_span(meta))

    # conditions
    def any_of(self, meta, items):
        return n.AnyOf(tuple(items), pos=_pos(meta))

    def all_of(self, meta, items):
        return n.All(tuple(items), pos=_pos(meta))

    def negate(self, meta, items):
        return n.Not(items[0], pos=_pos(meta))

    def content_is(self, meta, items):
        return n.ContentIs(items[0], pos=_pos(meta))

    def kind_list(self, meta, items):
        return tuple(items)

    def kind(self, meta, items):
        base, language = items
        text = f"{base}:{language}" if language is not None else str(base)
        return n.Ident(text, pos=_pos(base))

    def compare(self, meta, items):
        measure, op, quantity = items
        return n.Compare(str(measure.children[0]), str(op), quantity, pos=_pos(meta))

    def field_is(self, meta, items):
        field, globs = items
        return n.FieldIs(str(field.children[0]), globs, pos=_pos(meta))

    def user_says(self, meta, items):
        return n.UserSays(items[0], pos=_pos(meta))

    def is_error(self, meta, items):
        return n.IsError(pos=_pos(meta))


# --- comments -----------------------------------------------------------------------------------------------------

_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def _comments(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line, column, text) of every comment, found by skipping over strings so `"#"` is not one."""
    found = []
    for line_number, line in enumerate(lines, start=1):
        for match in _COMMENT_OR_STRING.finditer(line):
            if match.group().startswith("#"):
                found.append((line_number, match.start() + 1, match.group().rstrip()))
    return found


def _attach_comments(module: n.Module, source: str) -> n.Module:
    """Give each statement the comments above it and on its last line; the rest close the block they are in. Blank
    lines are kept where the formatter can put them back: before a statement, and within and around comment groups."""
    lines = source.split("\n")  # as Lark counts lines: str.splitlines would also break at "\f", "\u2028", ...
    pool = _comments(lines)

    def take_before(line: int, column: int) -> list[tuple[int, int, str]]:
        taken = []
        while pool and pool[0][:2] < (line, column):
            taken.append(pool.pop(0))
        return taken

    def attach(
        statements: tuple[n.Statement, ...], end: tuple[int, int]
    ) -> tuple[tuple[n.Statement, ...], tuple[str, ...]]:
        result = []
        above = None  # the line the statement before ended on; None at the start of the file or block
        for index, statement in enumerate(statements):
            after = _start(statements[index + 1]) if index + 1 < len(statements) else end  # what follows it
            leading = take_before(*_start(statement))
            statement_end = (statement.end.line, statement.end.column)
            if isinstance(statement, n.Profile):
                params, closing = attach(statement.params, statement_end)
                statement = replace(statement, params=params, closing_comments=closing)
            elif isinstance(statement, n.Override):
                body, closing = attach(statement.body, statement_end)
                statement = replace(statement, body=body, closing_comments=closing)
            trailing = None  # in `a; b  # c` and `p { a }  # c`, `# c` is not a's: it comes after what follows a
            if pool and pool[0][0] == statement_end[0] and statement_end <= pool[0][:2] < after:
                trailing = pool.pop(0)[2]
            first_line = leading[0][0] if leading else statement.pos.line
            blank = above is not None and _blank_between(lines, above, first_line)
            comments = _paragraphs(lines, None, leading, statement.pos.line)
            result.append(replace(statement, comments=comments, trailing_comment=trailing, blank_line_before=blank))
            above = statement_end[0]
        return tuple(result), _paragraphs(lines, above, take_before(*end), None)

    statements, closing = attach(module.statements, (len(lines) + 1, 1))
    return replace(module, statements=statements, closing_comments=closing)


def _start(statement: n.Statement) -> tuple[int, int]:
    return statement.pos.line, statement.pos.column


def _paragraphs(
    lines: list[str], above: int | None, comments: list[tuple[int, int, str]], below: int | None
) -> tuple[str, ...]:
    """The comments' texts with "" for blank lines between them, and between them and the lines `above` and `below`
    them (None: a blank line there is not kept), so the formatter keeps a comment block apart from the next."""
    texts: list[str] = []
    previous = above
    for line, _, text in comments:
        if previous is not None and _blank_between(lines, previous, line):
            texts.append("")
        texts.append(text)
        previous = line
    if comments and below is not None and _blank_between(lines, previous, below):
        texts.append("")
    return tuple(texts)


def _blank_between(lines: list[str], above: int, below: int) -> bool:
    """Whether a blank line stands between the lines numbered `above` and `below` (counting from 1)."""
    return any(not lines[index].strip() for index in range(above, below - 1))


# --- errors -------------------------------------------------------------------------------------------------------

# Parser states → messages, by example (Lark's `match_examples`): the first broken snippet that fails in the same
# parser state as the user's text names the mistake.
_EXAMPLES: dict[str, list[str]] = {
    "a rule needs `->` and an action (`keep` or `compress with NAME`) after its condition": [
        "rule a: when error keep",
        "rule a: when content is log compress with log",
        "rule a: when tokens > 5",
        "rule a: when tokens >= 300 compress with log",
        "rule a: when tokens >= 300 tokens compress with log",
        "rule a: when content is log, html keep",
        "rule a: when tool is Bash keep",
        'rule a: when user says "x" keep',
        "rule a: when not error keep",
        "rule a: when (error) keep",
    ],
    "a rule needs a name and a colon: `rule NAME: when ... -> ...`": [
        "rule when error -> keep",
        "rule a when error -> keep",
    ],
    "a condition is expected after `when` (e.g. `content is log`, `tokens >= 300`, `tool is Bash`)": [
        "rule a: when -> keep",
        "rule a: when and error -> keep",
    ],
    "`compress with` needs a compressor name, e.g. `compress with log(context: 2)`": [
        "rule a: -> compress log",
        "rule a: -> compress with (context: 2)",
    ],
    "a comparison needs a number, e.g. `tokens >= 300`": [
        "rule a: when tokens >= many -> keep",
        "rule a: when tokens >= -> keep",
    ],
    "a setting is written `set NAME VALUE`, e.g. `set min_tokens 50 tokens`": [
        "set min_tokens",
        "set = 5",
        "set 5",
    ],
    "a block opened with `{` is not closed with `}`": [
        "profile p { max_items 5",
        "profile p { keep first 5%",
        "profile p {",
        "for model x {",
        "for model x { set min_tokens 5",
        "for model x { set min_tokens 5 tokens",
        "for model x { set cache stable",
        "for model x { rule a: -> keep",
        "for model x { rule a: when error -> keep",
        "for model x { exclude tools Bash",
        "for model x { protect user messages",
    ],
}


def _describe(error: UnexpectedInput, source: str, filename: str) -> Diagnostic:
    location = Location(filename, error.line if error.line > 0 else 1, error.column if error.column > 0 else 1)
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END"):
        location = _end_of(source, filename)
    message, hint = _message(error, source)
    example = _matching_example(error, source)
    if example is not None and not (hint and hint.startswith("did you mean")):
        message = f"{message}: {example}"
    return Diagnostic(Severity.ERROR, location, message, hint)


def _message(error: UnexpectedInput, source: str) -> tuple[str, str | None]:
    if isinstance(error, UnexpectedCharacters):
        char = source[error.pos_in_stream] if 0 <= error.pos_in_stream < len(source) else ""
        if char == '"':
            return "unterminated string", 'close the string with `"` on the same line'
        return f"unexpected character {char!r}", None
    expected = error.expected if isinstance(error, UnexpectedToken | UnexpectedEOF) else set()
    token = getattr(error, "token", None)
    found = "end of file" if token is None or token.type == "$END" else f"'{token}'"
    return f"unexpected {found}; expected {_expected_words(expected)}", _keyword_hint(token, expected)


_STATEMENT_KEYWORDS = ("include", "set", "exclude", "protect", "profile", "tool", "rule", "for")


def _expected_words(expected: set[str]) -> str:
    described = {_terminal_description(name) for name in expected}
    if {f"'{word}'" for word in ("rule", "protect", "set")} <= described:
        return "a statement (" + ", ".join(_STATEMENT_KEYWORDS) + ")"
    words = sorted(described)
    if len(words) > 6:
        return ", ".join(words[:6]) + ", ..."
    return " or ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + " or " + words[-1]


_TERMINAL_WORDS = {"NAME": "a name", "STRING": 'a "quoted string"', "NUMBER": "a number",
                   "COMPARATOR": "a comparison (>=, >, <=, <, ==, !=)", "$END": "end of file"}  # fmt: skip


def _terminal_description(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"'{pattern.value}'" if pattern.type == "str" else name.lower()


def _keyword_hint(token: Token | None, expected: set[str]) -> str | None:
    """'did you mean' for a misspelt keyword: compare the word found with the keywords that could stand there."""
    if token is None or not str(token).isidentifier():
        return None
    candidates = [_terminal_description(name).strip("'") for name in expected]
    return did_you_mean(str(token), [c for c in candidates if c in keywords()])


def _matching_example(error: UnexpectedInput, source: str) -> str | None:
    """The label of the example that fails in the same parser state. Unlike Lark's `match_examples`, the depth of
    the parser's stack is ignored, so one short example covers the same mistake inside longer text."""
    if isinstance(error, UnexpectedCharacters) or error.state is None:
        return None
    return _example_states().get(error.state.position)


@functools.cache
def _example_states() -> dict[int, str]:
    states: dict[int, str] = {}
    for label, examples in _EXAMPLES.items():
        for example in examples:
            try:
                lark_parser().parse(example)
            except UnexpectedInput as failure:
                if failure.state is not None:
                    states.setdefault(failure.state.position, label)
    return states


def _end_of(source: str, filename: str) -> Location:
    lines = source.rstrip().split("\n")  # at the end of the last text, not after trailing blank lines
    return Location(filename, len(lines), len(lines[-1]) + 1)
