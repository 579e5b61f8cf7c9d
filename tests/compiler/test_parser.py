"""The parser by example: each form of the grammar gives the node it should, comments land where they were written,
and broken text gives a located, actionable `CompileError` rather than a Lark exception.

Nodes compare by content, not position, so expected trees are written without positions; the positions that
matter to users (those of diagnostics) are checked on their own.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from headroom.compiler import nodes as n
from headroom.compiler import parser as parser_module
from headroom.compiler.diagnostics import CompileError, Diagnostic
from headroom.compiler.parser import parse


def only(source: str) -> n.Statement:
    """The one statement of a file."""
    (statement,) = parse(source).statements
    return statement


def condition_of(text: str) -> n.Condition | None:
    rule = only(f"rule r: when {text} -> keep")
    assert isinstance(rule, n.Rule)
    return rule.condition


def error_of(source: str) -> Diagnostic:
    with pytest.raises(CompileError) as raised:
        parse(source, "policy.hrules")
    return raised.value.diagnostics[0]


def q(number: str, unit: str | None = None) -> n.Quantity:
    return n.Quantity(Decimal(number), unit)


TOKENS_200 = n.Compare("tokens", ">=", q("200"))
LOG = n.ContentIs((n.Ident("log"),))

# --- statements ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('include "default.hrules"', n.Include("default.hrules")),
        ("set cache stable", n.Setting(n.Ident("cache"), n.Word("stable"))),
        ("set min_tokens 50 tokens", n.Setting(n.Ident("min_tokens"), q("50", "tokens"))),
        ('set store_path "/tmp/h \\"x\\""', n.Setting(n.Ident("store_path"), n.Str('/tmp/h "x"'))),
        ("set cache on", n.Setting(n.Ident("cache"), n.Word("on"))),
        ('exclude tools Read, "mcp__*"', n.ExcludeTools(("Read", "mcp__*"))),
        ("exclude tools none", n.ExcludeTools(())),
        ('exclude tools "none"', n.ExcludeTools(("none",))),
        ("protect recent code 4 messages", n.ProtectRecentCode(q("4", "messages"))),
        ("protect recent code off", n.ProtectRecentCode(None)),
        ('protect analysis context when user says "a", "b c"', n.ProtectAnalysisContext(("a", "b c"))),
        ("protect analysis context off", n.ProtectAnalysisContext(None)),
        ("protect user messages", n.ProtectUserMessages(True)),
        ("protect user messages on", n.ProtectUserMessages(True)),
        ("protect user messages off", n.ProtectUserMessages(False)),
        ("protect error outputs", n.ProtectErrorOutputs(True)),
        ("protect error outputs off", n.ProtectErrorOutputs(False)),
        ('tool "*", Bash uses moderate', n.ToolProfile(("*", "Bash"), n.Ident("moderate"))),
        ("rule always: -> keep", n.Rule(n.Ident("always"), None, n.Keep())),
        ("rule r: when error -> keep", n.Rule(n.Ident("r"), n.IsError(), n.Keep())),
        ("rule r: -> compress with text", n.Rule(n.Ident("r"), None, n.CompressWith(n.Ident("text")))),
    ],
)
def test_statement_forms(source: str, expected: n.Statement) -> None:
    assert only(source) == expected


def test_profile_with_params_and_keep_sugar() -> None:
    assert only("profile p { max_items 30 keep first 40%; keep last 20% keep_first 1 }") == n.Profile(
        n.Ident("p"),
        (
            n.ProfileParam(n.Ident("max_items"), q("30")),
            n.ProfileParam(n.Ident("keep_first"), q("40", "%")),
            n.ProfileParam(n.Ident("keep_last"), q("20", "%")),
            n.ProfileParam(n.Ident("keep_first"), q("1")),
        ),
    )
    assert only("profile empty {}") == n.Profile(n.Ident("empty"), ())


def test_override_block_holds_statements() -> None:
    source = 'for model "claude-*", gpt4 { set cache off; exclude tools none; tool X uses p; rule r: -> keep }'
    assert only(source) == n.Override(
        "model",
        ("claude-*", "gpt4"),
        (
            n.Setting(n.Ident("cache"), n.Word("off")),
            n.ExcludeTools(()),
            n.ToolProfile(("X",), n.Ident("p")),
            n.Rule(n.Ident("r"), None, n.Keep()),
        ),
    )
    assert only("for provider openai {}") == n.Override("provider", ("openai",), ())


def test_statements_are_free_form() -> None:
    assert parse("set a 1;set b 2\n\n\n  ;  set\n c\n 3") == n.Module(
        (n.Setting(n.Ident("a"), q("1")), n.Setting(n.Ident("b"), q("2")),
         n.Setting(n.Ident("c"), q("3"), blank_line_before=True))
    )  # fmt: skip
    assert parse("") == parse(" \n\t;\n") == n.Module(())
    assert parse("# only a comment\n") == n.Module((), ("# only a comment",))


# --- conditions ---------------------------------------------------------------------------------------------------


def test_condition_atoms() -> None:
    assert condition_of("content is json_array, code:python, code") == n.ContentIs(
        (n.Ident("json_array"), n.Ident("code:python"), n.Ident("code"))
    )
    assert condition_of("age > 7 days") == n.Compare("age", ">", q("7", "days"))
    assert [condition_of(f"lines {op} 3").op for op in (">=", "<=", "==", "!=", ">", "<")] == [
        ">=", "<=", "==", "!=", ">", "<",
    ]  # fmt: skip
    assert condition_of('tool is Bash, "mcp__*"') == n.FieldIs("tool", ("Bash", "mcp__*"))
    assert condition_of("role is user") == n.FieldIs("role", ("user",))
    assert condition_of('user says "fix", "why"') == n.UserSays(("fix", "why"))
    assert condition_of("error") == n.IsError()


def test_and_binds_tighter_than_or_and_not_tightest() -> None:
    assert condition_of("not error and content is log or tokens >= 200") == n.AnyOf(
        (n.All((n.Not(n.IsError()), LOG)), TOKENS_200)
    )
    assert condition_of("error or content is log and tokens >= 200 or not not error") == n.AnyOf(
        (n.IsError(), n.All((LOG, TOKENS_200)), n.Not(n.Not(n.IsError())))
    )


def test_parentheses_group_and_nest() -> None:
    assert condition_of("(error)") == n.IsError()
    assert condition_of("not (error or content is log)") == n.Not(n.AnyOf((n.IsError(), LOG)))
    assert condition_of("(error or content is log) and tokens >= 200") == n.All(
        (n.AnyOf((n.IsError(), LOG)), TOKENS_200)
    )
    assert condition_of("error and (content is log and tokens >= 200)") == n.All(
        (n.IsError(), n.All((LOG, TOKENS_200)))
    )


# --- values and arguments -----------------------------------------------------------------------------------------


def test_arguments_fold_bare_values_into_the_argument_before() -> None:
    rule = only('rule r: -> compress with log(context: 2, keep: error, warning, "fatal", pattern: "x")')
    assert rule.action == n.CompressWith(
        n.Ident("log"),
        (
            n.Argument(n.Ident("context"), (q("2"),)),
            n.Argument(n.Ident("keep"), (n.Word("error"), n.Word("warning"), n.Str("fatal"))),
            n.Argument(n.Ident("pattern"), (n.Str("x"),)),
        ),
    )


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("1 token", "tokens"), ("2 tokens", "tokens"), ("1 char", "chars"), ("1 item", "items"),
        ("1 message", "messages"), ("1 line", "lines"), ("1 row", "rows"), ("5 s", "seconds"),
        ("1 second", "seconds"), ("1 minute", "minutes"), ("1 hour", "hours"), ("1 day", "days"),
        ("30%", "%"), ("100 ms", "ms"), ("10 bytes", "bytes"), ("1 KB", "KB"), ("100 MB", "MB"), ("2 GB", "GB"),
    ],
)  # fmt: skip
def test_units_are_stored_in_one_spelling(written: str, canonical: str) -> None:
    assert only(f"set x {written}").value.unit == canonical


def test_numbers_are_exact_decimals() -> None:
    assert only("set x 0.10").value == n.Quantity(Decimal("0.1"))
    assert only("set x 0.10").value.number.as_tuple() == Decimal("0.10").as_tuple()  # read, not rounded via float


def test_string_escapes_are_json() -> None:
    assert only(r'set x "tab\t quote\" back\\ \u00e9 é"').value == n.Str('tab\t quote" back\\ é é')
    assert only('set x "#not a comment"  # a comment').value == n.Str("#not a comment")


def test_keywords_are_names_where_no_keyword_may_stand() -> None:
    assert only("rule code: when content is code -> compress with code") == n.Rule(
        n.Ident("code"), n.ContentIs((n.Ident("code"),)), n.CompressWith(n.Ident("code"))
    )


# --- comments -----------------------------------------------------------------------------------------------------


def test_comments_attach_to_the_statement_they_precede_or_end() -> None:
    module = parse("# about a\n# more\nset a 1  # on a\nset b 2\n# the end\n")
    a, b = module.statements
    assert (a.comments, a.trailing_comment) == (("# about a", "# more"), "# on a")
    assert (b.comments, b.trailing_comment) == ((), None)
    assert module.closing_comments == ("# the end",)


def test_comments_inside_blocks() -> None:
    profile = only("profile p {  # first\n  max_items 5  # five\n  # closing\n}  # after\n")
    assert isinstance(profile, n.Profile)
    assert profile.params[0].comments == ("# first",)
    assert profile.params[0].trailing_comment == "# five"
    assert profile.closing_comments == ("# closing",)
    assert profile.trailing_comment == "# after"
    override = only("for model x {\n  # before r\n  rule r: -> keep\n}\n")
    assert override.body[0].comments == ("# before r",)


def test_a_trailing_comment_belongs_to_the_last_statement_on_its_line() -> None:
    profile = only("profile p { max_items 5 }  # why")
    assert profile.trailing_comment == "# why"
    assert profile.params[0].trailing_comment is None
    a, b = parse("set a 1; set b 2  # on b\n").statements
    assert (a.trailing_comment, b.trailing_comment) == (None, "# on b")


def test_comment_on_the_last_line_of_a_long_rule() -> None:
    rule = only("rule r: when error\n    -> keep  # kept\n")
    assert rule.trailing_comment == "# kept"


def test_blank_lines_between_statements_and_comments() -> None:
    module = parse("# header\n\n# about a\nset a 1\n\n\nset b 2\n# c1\n\n# c2\n\nset c 3\n\n# end\n")
    a, b, c = module.statements
    assert (a.blank_line_before, a.comments) == (False, ("# header", "", "# about a"))
    assert (b.blank_line_before, b.comments) == (True, ())
    assert (c.blank_line_before, c.comments) == (False, ("# c1", "", "# c2", ""))
    assert module.closing_comments == ("", "# end")


def test_line_breaks_are_counted_as_lark_counts_them() -> None:
    """Only "\\n" ends a line: a form feed or U+2028 inside a string or comment must not shift the comments."""
    module = parse('set a "x\u2028y"  # on a\nset b "\f"  # on b\u2028still b\n')
    assert [s.trailing_comment for s in module.statements] == ["# on a", "# on b\u2028still b"]


# --- errors -------------------------------------------------------------------------------------------------------


def test_misspelt_keyword_gets_a_hint() -> None:
    error = error_of("set a 1\nprotct user messages\n")
    assert (error.location.file, error.location.line, error.location.column) == ("policy.hrules", 2, 1)
    assert error.message.startswith("unexpected 'protct'; expected a statement")
    assert error.hint == "did you mean 'protect'?"


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        ("rule a: when error keep", 1, 20, "a rule needs `->` and an action"),
        ("set a 1\nrule x when error -> keep", 2, 8, "a rule needs a name and a colon"),
        ("rule a: when tokens >= many -> keep", 1, 24, "a comparison needs a number"),
        ("profile p { max_items 5", 1, 24, "a block opened with `{` is not closed with `}`"),
        ('set x "open\nset y 1', 1, 7, "unterminated string"),
        ('set a "bad \\q"', 1, 7, "invalid escape in string"),
        ("rule a: -> compress with log(2)", 1, 30, "expected an argument name before this value"),
        ("set a 1\n  set b @", 2, 9, "unexpected character '@'"),
        ("include x", 1, 9, 'expected a "quoted string"'),
    ],
)
def test_errors_are_located_and_explained(source: str, line: int, column: int, message: str) -> None:
    error = error_of(source)
    assert (error.location.line, error.location.column) == (line, column)
    assert message in error.message


def test_parser_cache_lives_in_the_users_cache_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = parser_module._cache_file("grammar text")
    assert cache and Path(cache).parent == tmp_path / "headroom"
    assert (tmp_path / "headroom").stat().st_mode & 0o777 == 0o700


def test_no_writable_cache_folder_means_no_cache(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert parser_module._cache_file("grammar text") is False
