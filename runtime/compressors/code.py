"""Source code: keep the outline an agent navigates by, cut the bodies it can fetch back when it needs them.

An agent reading a file mostly needs its shape: imports, type and function signatures, what each thing is for.
Bodies are the bulk and usually matter only for the function the user asked about. So this keeps imports,
package lines, every class/struct/interface/enum/trait/impl header and every signature exactly as written
(decorators and annotations included), the first line of each docstring or doc comment, short top-level
statements, and the first `max_body_lines` lines of every function body; the rest of a body becomes one comment
line at the body's indentation naming the reference to retrieve it. A function named in the query keeps its whole
body, and lines holding a rare query term are kept wherever they are.

With `docstrings: off`, docstrings and doc comments get no special treatment: a function's docstring counts among
its body lines, and a comment block is folded whole. The kind names the language (`code:python`); for any other kind
the language is guessed from a few telling lines, and a file that the grammar mostly fails to parse is left alone.
Line-numbered listings (`cat -n`, file-reading tools) are read without their numbers and kept with them.

The syntax tree comes from tree-sitter (one grammar per language, loaded on first use and cached, with one parser
per thread); only the nodes on the path to a definition are visited from Python, so the cost stays close to the
parse itself.
"""

from __future__ import annotations

import importlib
import re
import threading
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors.lines import fold, line_count, split, term_lines
from headroom.runtime.detect import guess_language

# language → (module, function giving the grammar)
_GRAMMARS = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}


# Node types across the grammars (a type a grammar lacks is simply not asked for).
# fmt: off
_FUNCTIONS = frozenset({
    "function_definition", "function_declaration", "function_expression", "function",
    "generator_function_declaration", "generator_function", "arrow_function", "method_definition",
    "method_declaration", "constructor_declaration", "compact_constructor_declaration", "function_item",
    "func_literal"
})
_CLASSES = frozenset({
    "class_definition", "class_declaration", "class", "abstract_class_declaration", "interface_declaration",
    "enum_declaration", "internal_module", "record_declaration", "annotation_type_declaration", "struct_item",
    "enum_item", "union_item", "trait_item", "impl_item", "mod_item", "foreign_mod_item", "struct_specifier",
    "union_specifier", "enum_specifier", "class_specifier", "namespace_definition", "linkage_specification",
    "struct_type", "interface_type", "const_declaration", "var_declaration"
})
# Kept whole wherever they are: imports, package lines, decorators and attributes (part of a signature).
_KEPT = frozenset({
    "import_statement", "import_from_statement", "future_import_statement", "import_declaration", "package_clause",
    "package_declaration", "use_declaration", "extern_crate_declaration", "preproc_include", "using_declaration",
    "decorator", "attribute_item", "inner_attribute_item"
})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_CLASS_BODIES = frozenset({
    "class_body", "interface_body", "enum_body", "declaration_list", "field_declaration_list", "enumerator_list",
    "var_spec_list"
})
# fmt: on
_BLOCKS = frozenset(("block", "statement_block", "compound_statement", "constructor_body"))
_NAME_HOLDERS = ("name", "key", "left", "property")
_NAME_TYPES = frozenset(("identifier", "field_identifier", "qualified_identifier", "destructor_name", "operator_name"))

_CLOSER = re.compile(r"\s*[)\]}]+[;,)\]}]*\s*")
_TEXT = re.compile(r"[A-Za-z0-9]")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_TERM_PARTS = re.compile(r"[.:/\-]+")
_MAX_ERROR_SHARE = 0.5
_GUTTER = re.compile(r" *\d+(?:\t|→|\| |: )")
_MIN_NUMBERED = 3

# Cheap signs of each language, tried in order (ties go to the earlier one) when the kind does not name it.


@dataclass(frozen=True)
class _Grammar:
    language: Language
    definitions: Query  # what makes a node worth walking into: definitions, imports, decorators
    errors: Query
    comment: str  # how a line comment starts


@cache
def _grammar(language: str) -> _Grammar:
    module_name, function = _GRAMMARS[language]
    grammar = Language(getattr(importlib.import_module(module_name), function)())
    types = sorted(kind for kind in _FUNCTIONS | _CLASSES | _KEPT if grammar.id_for_node_kind(kind, True))
    definitions = Query(grammar, "[" + " ".join(f"({kind})" for kind in types) + "] @def")
    comment = "#" if language == "python" else "//"
    return _Grammar(grammar, definitions, Query(grammar, "(ERROR) @error"), comment)


_parsers = threading.local()  # a Parser is not safe to share between threads; grammars and queries are


def _parse(language: str, source: bytes) -> Node:
    parsers: dict[str, Parser] = _parsers.__dict__
    if language not in parsers:
        parsers[language] = Parser(_grammar(language).language)
    return parsers[language].parse(source).root_node


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    lines = split(text)
    code = _without_gutter(lines.clean)
    source_text = "\n".join(code) + lines.newline
    language = _language(context.kind, source_text)
    if language is None:
        return None
    grammar = _grammar(language)
    source = source_text.encode("utf-8", "surrogatepass")
    root = _parse(language, source)
    if root.has_error and _error_share(_captured(grammar.errors, root), len(source)) > _MAX_ERROR_SHARE:
        return None
    terms = context.terms()
    definitions = sorted(node.start_byte for node in _captured(grammar.definitions, root))
    outline = _Outline(code, params, _names(terms), definitions)
    outline.container(root)
    keep = outline.keep(frozenset(term_lines(lines, terms)))
    return fold(lines, keep, line_count, context, lambda start, end: _lead(code, start, end, grammar.comment))


def _without_gutter(lines: list[str]) -> list[str]:
    """The lines without the line numbers `cat -n` and agents' file-reading tools put before each (`  42\t`,
    `42→`, `00042| `); the lines as they are when they are not numbered."""
    numbered = [_GUTTER.match(line) for line in lines]
    if sum(1 for match in numbered if match) < _MIN_NUMBERED or any(
        match is None and line.strip() for match, line in zip(numbered, lines, strict=True)
    ):
        return lines
    return [line[match.end() :] if match else line for match, line in zip(numbered, lines, strict=True)]


def _captured(query: Query, root: Node) -> list[Node]:
    return [node for nodes in QueryCursor(query).captures(root).values() for node in nodes]


def _language(kind: str, text: str) -> str | None:
    language = kind.partition(":")[2]
    if language in _GRAMMARS:
        return language
    return guess_language(text)


def _error_share(errors: list[Node], size: int) -> float:
    """The share of the source inside ERROR nodes (nested ones counted once)."""
    covered, reach = 0, 0
    for node in sorted(errors, key=lambda node: node.start_byte):
        start = max(node.start_byte, reach)
        if node.end_byte > start:
            covered += node.end_byte - start
            reach = node.end_byte
    return covered / size if size else 0.0


def _names(terms: frozenset[str]) -> frozenset[str]:
    """Names a query may call a function by: each term and its parts (`Repo.save` → `repo.save`, `repo`, `save`)."""
    return terms | frozenset(part for term in terms for part in _TERM_PARTS.split(term) if part)


def _lead(lines: list[str], start: int, end: int, comment: str) -> str:
    """A marker in code is a comment at the folded lines' least indentation."""
    indents = [line[: len(line) - len(line.lstrip())] for line in lines[start:end] if line.strip()]
    return f"{min(indents, key=len, default='')}{comment} "


def _last_row(node: Node) -> int:
    """The last row holding the node's text (a node ending with its newline ends at column 0 of the next row)."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


class _Outline:
    """Decides which rows of the source are dropped, walking only the nodes that lead to a definition."""

    def __init__(self, lines: list[str], params: Mapping[str, Any], names: frozenset[str], defs: list[int]) -> None:
        self.lines = lines
        self.max_body = int(params["max_body_lines"])
        self.docstrings = bool(params["docstrings"])
        self.names = names
        self.defs = defs  # start bytes of every definition, import and decorator, sorted
        self.dropped = [False] * len(lines)
        self.pinned: set[int] = set()  # rows a node starts on: never dropped by a neighbour ending there

    def keep(self, also: frozenset[int]) -> list[bool]:
        pinned = self.pinned | also
        return [not dropped or row in pinned for row, dropped in enumerate(self.dropped)]

    def container(self, node: Node) -> None:
        children = node.named_children
        index = 0
        while index < len(children):
            child = children[index]
            if child.type in _COMMENTS:
                index = self._comments(children, index)
                continue
            self._member(child, first=index == 0)
            index += 1

    def _comments(self, children: list[Node], index: int) -> int:
        """A run of comments on adjacent rows is one doc comment; returns the index after it."""
        end = index + 1
        while (
            end < len(children)
            and children[end].type in _COMMENTS
            and children[end].start_point.row <= _last_row(children[end - 1]) + 1
        ):
            end += 1
        self._doc(children[index].start_point.row, _last_row(children[end - 1]))
        return end

    def _member(self, node: Node, first: bool) -> None:
        if first and _is_docstring(node):
            self._doc(node.start_point.row, _last_row(node))
            return
        self.pinned.add(node.start_point.row)
        kind = node.type
        if kind in _KEPT:
            return
        if kind == "decorated_definition":
            self._member(node.child_by_field_name("definition"), first=False)
        elif kind in _FUNCTIONS and (body := node.child_by_field_name("body")) is not None and body.type in _BLOCKS:
            self._function(node, body)
        elif kind in _CLASSES:
            self.container(_class_body(node))
        elif self._has_defs(node):
            self.container(node)
        else:
            self._plain(node)

    def _has_defs(self, node: Node) -> bool:
        index = bisect_left(self.defs, node.start_byte)
        return index < len(self.defs) and self.defs[index] < node.end_byte

    def _doc(self, first: int, last: int) -> None:
        """Docstrings and doc comments keep their opening up to the first line with text (when `docstrings` is on)."""
        if not self.docstrings:
            self._drop(first, last)
            return
        text_row = next((row for row in range(first, last + 1) if _TEXT.search(self.lines[row])), last)
        self._drop(text_row + 1, last)

    def _function(self, node: Node, body: Node) -> None:
        if _name(node) in self.names:
            return
        if body.children and body.children[0].type == "{":
            first, last = body.start_point.row + 1, _last_row(body) - 1
        else:  # an indented block (Python): it starts after the signature's colon
            colons = [child.end_point.row for child in node.children if child.type == ":"]
            first, last = (colons[0] if colons else body.start_point.row - 1) + 1, _last_row(body)
        statements = body.named_children
        if self.docstrings and statements and _is_docstring(statements[0]) and statements[0].start_point.row >= first:
            self._doc(statements[0].start_point.row, _last_row(statements[0]))
            first = _last_row(statements[0]) + 1
        self._drop(first + self.max_body, last)

    def _plain(self, node: Node) -> None:
        """A statement without definitions: its first lines, and its closing bracket line."""
        first, last = node.start_point.row, _last_row(node)
        closing = _CLOSER.fullmatch(self.lines[last]) is not None
        self._drop(first + 1 + self.max_body, last - 1 if closing else last)

    def _drop(self, first: int, last: int) -> None:
        for row in range(max(first, 0), last + 1):
            self.dropped[row] = True


def _is_docstring(node: Node) -> bool:
    children = node.named_children
    return node.type == "expression_statement" and len(children) == 1 and children[0].type == "string"


def _class_body(node: Node) -> Node:
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    return next((child for child in node.named_children if child.type in _CLASS_BODIES), node)


def _name(node: Node) -> str:
    """The defined name, lowercased (`''` for an anonymous function)."""
    name = node.child_by_field_name("name")
    declarator = node
    while name is None and (declarator := declarator.child_by_field_name("declarator")) is not None:
        if declarator.type in _NAME_TYPES:
            name = declarator
    parent = node.parent
    if name is None and parent is not None:
        name = next((held for field in _NAME_HOLDERS if (held := parent.child_by_field_name(field)) is not None), None)
    if name is None:
        return ""
    identifiers = _IDENTIFIER.findall(name.text.decode("utf-8", "replace"))
    return identifiers[-1].lower() if identifiers else ""
