"""The canonical formatter: reading its output back gives the tree it printed, formatting twice changes nothing,
and real policies keep their meaning and their comments.

The properties run on random syntax trees rather than on random text, so they reach every statement form and
every nesting of conditions; the trees hold only what source text can express (see the strategies' comments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from headroom.compiler import nodes as n
from headroom.compiler.fmt import format_module
from headroom.compiler.parser import CANONICAL_UNITS, keywords, parse

DEFAULT_POLICY = Path(__file__).parents[2] / "rules" / "default.hrules"

# --- strategies ---------------------------------------------------------------------------------------------------

# Names are printed bare, so they are what the NAME terminal reads and no keyword (`keep` would start `keep first`).
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(lambda word: word not in keywords())
idents = identifiers.map(n.Ident)

# Source files are UTF-8, so no lone surrogates; anything else, newlines and quotes included, is escaped by JSON.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)

# A comment runs to the end of its line, and the parser drops the whitespace that ends it.
comments = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=20).map(
    lambda text: ("#" + text).rstrip()
)

# A glob is printed bare or quoted as it needs; keywords must come back as globs, not as keywords.
globs = st.one_of(identifiers, st.sampled_from(sorted(keywords())), texts)
glob_lists = st.lists(globs, min_size=1, max_size=3).map(tuple)
string_lists = st.lists(texts, min_size=1, max_size=3).map(tuple)

units = st.sampled_from(sorted(set(CANONICAL_UNITS.values()) | {"%", "ms", "bytes", "KB", "MB", "GB"}))
numbers = st.builds(lambda digits, places: Decimal(digits).scaleb(-places), st.integers(0, 10**6), st.integers(0, 2))
quantities = st.builds(n.Quantity, numbers | st.just(Decimal(1)), st.none() | units)
# A bare word is read as a name wherever a value stands, so keywords are fine there (`keep: error`).
words = st.one_of(identifiers, st.sampled_from(sorted(keywords()))).map(n.Word)
values = st.one_of(quantities, texts.map(n.Str), words)

kinds = st.one_of(identifiers, st.just("code"), st.builds("{}:{}".format, identifiers, identifiers)).map(n.Ident)
atoms = st.one_of(
    st.builds(n.ContentIs, st.lists(kinds, min_size=1, max_size=3).map(tuple)),
    st.builds(n.Compare, st.sampled_from(["tokens", "chars", "items", "lines", "age"]),
              st.sampled_from([">=", "<=", "==", "!=", ">", "<"]), quantities),
    st.builds(n.FieldIs, st.sampled_from(["tool", "model", "provider", "role"]), glob_lists),
    st.builds(n.UserSays, string_lists),
    st.just(n.IsError()),
)  # fmt: skip


def _compound(operands: st.SearchStrategy[n.Condition]) -> st.SearchStrategy[n.Condition]:
    several = st.lists(operands, min_size=2, max_size=3).map(tuple)
    return st.one_of(st.builds(n.Not, operands), st.builds(n.All, several), st.builds(n.AnyOf, several))


conditions = st.recursive(atoms, _compound, max_leaves=6)
arguments = st.builds(n.Argument, idents, st.lists(values, min_size=1, max_size=3).map(tuple))
actions = st.one_of(st.just(n.Keep()), st.builds(n.CompressWith, idents, st.lists(arguments, max_size=3).map(tuple)))


def _layout(statement: n.Statement) -> st.SearchStrategy[n.Statement]:
    """The statement with random comments and blank line; a blank line inside the comments follows a comment."""
    leading = st.lists(st.tuples(comments, st.booleans()), max_size=2).map(
        lambda pairs: tuple(text for comment, blank in pairs for text in ((comment, "") if blank else (comment,)))
    )
    return st.builds(replace, st.just(statement), comments=leading, trailing_comment=st.none() | comments,
                     blank_line_before=st.booleans())  # fmt: skip


def _closing(may_start_blank: bool) -> st.SearchStrategy[tuple[str, ...]]:
    """Comments closing a block or file: a blank line may stand before each, but not at the start of a block."""
    pairs = st.lists(st.tuples(st.booleans(), comments), max_size=2)
    return pairs.map(
        lambda pairs: tuple(
            text
            for index, (blank, comment) in enumerate(pairs)
            for text in (("", comment) if blank and (index or may_start_blank) else (comment,))
        )
    )


def _statements(forms: st.SearchStrategy[n.Statement], max_size: int) -> st.SearchStrategy[tuple[n.Statement, ...]]:
    """A block's statements: the first one cannot have a blank line before it (the parser drops one there)."""
    listed = st.lists(forms.flatmap(_layout), max_size=max_size)
    return listed.map(lambda found: tuple(replace(s, blank_line_before=s.blank_line_before and i > 0)
                                          for i, s in enumerate(found)))  # fmt: skip


def _block(
    build: Callable[..., n.Statement], statements: st.SearchStrategy[tuple[n.Statement, ...]], *heads: st.SearchStrategy
) -> st.SearchStrategy[n.Statement]:
    """A profile or override: its body, then closing comments that may start with a blank line only after it."""
    return st.tuples(*heads, statements).flatmap(
        lambda parts: _closing(bool(parts[-1])).map(lambda closing: build(*parts, closing_comments=closing))
    )


protections = st.one_of(
    st.builds(n.ExcludeTools, st.just(()) | glob_lists),
    st.builds(n.ProtectRecentCode, st.none() | quantities),
    st.builds(n.ProtectAnalysisContext, st.none() | st.lists(texts, min_size=1, max_size=30).map(tuple)),
    st.builds(n.ProtectUserMessages, st.booleans()),
    st.builds(n.ProtectErrorOutputs, st.booleans()),
)
setting_statements = st.builds(n.Setting, idents, values)
rules = st.builds(n.Rule, idents, st.none() | conditions, actions)
tool_profiles = st.builds(n.ToolProfile, glob_lists, idents)
param_names = st.one_of(identifiers, st.sampled_from(["keep_first", "keep_last"])).map(n.Ident)
profiles = _block(n.Profile, _statements(st.builds(n.ProfileParam, param_names, values), 3), idents)
overrides = _block(n.Override, _statements(st.one_of(setting_statements, protections, tool_profiles, rules), 3),
                   st.sampled_from(["model", "provider"]), glob_lists)  # fmt: skip
top_level = st.one_of(
    st.builds(n.Include, texts), setting_statements, protections, profiles, tool_profiles, rules, overrides
)
modules = _statements(top_level, 5).flatmap(
    lambda statements: _closing(bool(statements)).map(lambda closing: n.Module(statements, closing))
)

# --- properties ---------------------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(modules)
def test_formatted_text_reads_back_as_the_same_tree(module: n.Module) -> None:
    assert parse(format_module(module)) == module


@settings(max_examples=100)
@given(modules)
def test_formatting_is_idempotent_and_tidy(module: n.Module) -> None:
    text = format_module(module)
    assert format_module(parse(text)) == text
    assert text == "" or (text.endswith("\n") and not text.endswith("\n\n") and not text.startswith("\n"))
    assert all(line == line.rstrip(" ") for line in text.split("\n")), "no line ends in spaces"


# --- examples -----------------------------------------------------------------------------------------------------


def test_default_policy_keeps_its_meaning_and_comments() -> None:
    source = DEFAULT_POLICY.read_text(encoding="utf-8")
    formatted = format_module(parse(source))
    assert parse(formatted) == parse(source)
    assert [line for line in formatted.splitlines() if line.startswith("#")] == [
        line for line in source.splitlines() if line.startswith("#")
    ]


def test_comments_survive_formatting() -> None:
    source = (
        "# header\n\n"
        "set cache stable  # why\n"
        "profile p {  # opens\n  max_items 5\n\n  # the last\n  keep last 1 row  # one\n  # closing p\n}  # after p\n"
        "for model x { # inner\n rule a: -> keep # kept\n\n # closing x\n}\n"
        "# the end\n"
    )
    assert format_module(parse(source)) == (
        "# header\n\n"
        "set cache stable  # why\n"
        "profile p {\n    # opens\n    max_items 5\n\n    # the last\n    keep last 1 row  # one\n"
        "    # closing p\n}  # after p\n"
        "for model x {\n    # inner\n    rule a: -> keep  # kept\n\n    # closing x\n}\n"
        "# the end\n"
    )


def test_messy_policy_gets_the_canonical_layout() -> None:
    messy = (
        'include "default.hrules"; set   min_tokens 1 tokens ;exclude tools Read,"mcp__*" , "none" '
        "protect recent code off protect user messages on protect error outputs off "
        'protect analysis context when user says "why","\\u00e9" '
        'profile tiny{keep_first 30% keep last 0.50 max_items 10.0}tool "*",Bash uses tiny '
        "for provider openai{set cache off rule r:->keep} "
        'rule a:when not(error or tool is Bash)and (tokens>=200 or age > 1 days) and not not user says "a\\"b" '
        '->compress with log(context:2,keep:error,warning,  name:"x") '
        "rule b : when (content is code:python , log and lines < 10) or content is json -> compress with text "
        "rule c: -> compress with text"
    )
    assert format_module(parse(messy)) == (
        'include "default.hrules"\n'
        "set min_tokens 1 token\n"
        'exclude tools Read, "mcp__*", "none"\n'
        "protect recent code off\n"
        "protect user messages\n"
        "protect error outputs off\n"
        'protect analysis context when user says "why", "é"\n'
        "profile tiny {\n    keep first 30%\n    keep last 0.5\n    max_items 10\n}\n"
        'tool "*", Bash uses tiny\n'
        "for provider openai {\n    set cache off\n    rule r: -> keep\n}\n"
        'rule a: when not (error or tool is Bash) and (tokens >= 200 or age > 1 day) and not not user says "a\\"b"\n'
        '    -> compress with log(context: 2, keep: error, warning, name: "x")\n'
        "rule b: when content is code:python, log and lines < 10 or content is json -> compress with text\n"
        "rule c: -> compress with text\n"
    )


def test_long_phrase_lists_wrap_at_commas() -> None:
    phrases = tuple(f"phrase number {i}" for i in range(12))
    text = format_module(n.Module((n.ProtectAnalysisContext(phrases),)))
    lines = text.splitlines()
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines)
    assert all(line.startswith("    ") and line.endswith(",") for line in lines[1:-1])
    assert parse(text).statements[0].keywords == phrases


def test_empty_block_and_empty_file() -> None:
    assert format_module(n.Module((n.Profile(n.Ident("p"), ()),))) == "profile p {\n}\n"
    assert format_module(n.Module(())) == ""
