"""The syntax tree of a `.hrules` file: what was written, before any meaning is given to it.

Nodes compare by content only; positions and layout ride along for error messages and the formatter but never
affect equality, so `parse(format(tree)) == tree` is a meaningful property. Comments and blank lines are part of
the tree (the formatter must not lose them), attached to the statement they precede.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Pos:
    line: int = 0
    column: int = 0


NOWHERE = Pos()


@dataclass(frozen=True)
class Node:
    pos: Pos = field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Ident(Node):
    """A name the user wrote (setting, profile, rule, compressor, parameter): kept with its position."""

    text: str


# --- values -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity(Node):
    """A number with an optional unit, the unit in its canonical plural form (`tokens`, `messages`, `%`)."""

    number: Decimal
    unit: str | None = None


@dataclass(frozen=True)
class Str(Node):
    text: str


@dataclass(frozen=True)
class Word(Node):
    """A bare word used as a value: `stable`, `error`, `on`."""

    text: str


Value = Quantity | Str | Word


# --- conditions ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentIs(Node):
    kinds: tuple[Ident, ...]


@dataclass(frozen=True)
class Compare(Node):
    measure: str  # tokens | chars | items | lines | age
    op: str  # >= <= == != > <
    quantity: Quantity


@dataclass(frozen=True)
class FieldIs(Node):
    field: str  # tool | model | provider | role
    globs: tuple[str, ...]


@dataclass(frozen=True)
class UserSays(Node):
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class IsError(Node):
    pass


@dataclass(frozen=True)
class Not(Node):
    operand: Condition


@dataclass(frozen=True)
class All(Node):
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf(Node):
    operands: tuple[Condition, ...]


Condition = ContentIs | Compare | FieldIs | UserSays | IsError | Not | All | AnyOf


# --- actions ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Argument(Node):
    name: Ident
    values: tuple[Value, ...]  # more than one for a list: keep: error, warning


@dataclass(frozen=True)
class Keep(Node):
    pass


@dataclass(frozen=True)
class CompressWith(Node):
    compressor: Ident
    arguments: tuple[Argument, ...] = ()


Action = Keep | CompressWith


# --- statements ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement(Node):
    # full-line comments just above, `#` included; "" stands for blank lines after a comment (between comments, or
    # between the last and the statement); a blank line before the first is `blank_line_before`
    comments: tuple[str, ...] = field(default=(), kw_only=True)
    trailing_comment: str | None = field(default=None, kw_only=True)  # a comment on the statement's last line
    blank_line_before: bool = field(default=False, kw_only=True)
    end: Pos = field(default=NOWHERE, compare=False, repr=False, kw_only=True)  # where its text ends


@dataclass(frozen=True)
class Include(Statement):
    path: str


@dataclass(frozen=True)
class Setting(Statement):
    name: Ident
    value: Value


@dataclass(frozen=True)
class ExcludeTools(Statement):
    globs: tuple[str, ...]  # empty: `exclude tools none`


@dataclass(frozen=True)
class ProtectRecentCode(Statement):
    messages: Quantity | None  # None: off


@dataclass(frozen=True)
class ProtectAnalysisContext(Statement):
    keywords: tuple[str, ...] | None  # None: off


@dataclass(frozen=True)
class ProtectUserMessages(Statement):
    on: bool


@dataclass(frozen=True)
class ProtectErrorOutputs(Statement):
    on: bool


@dataclass(frozen=True)
class ProfileParam(Statement):
    name: Ident
    value: Value


@dataclass(frozen=True)
class Profile(Statement):
    name: Ident
    params: tuple[ProfileParam, ...]
    closing_comments: tuple[str, ...] = ()  # comments after the last parameter, before `}`; "" for a blank line


@dataclass(frozen=True)
class ToolProfile(Statement):
    globs: tuple[str, ...]
    profile: Ident


@dataclass(frozen=True)
class Rule(Statement):
    name: Ident
    condition: Condition | None  # None: always
    action: Action


@dataclass(frozen=True)
class Override(Statement):
    selector: str  # model | provider
    globs: tuple[str, ...]
    body: tuple[Statement, ...]
    closing_comments: tuple[str, ...] = ()  # comments after the last statement, before `}`; "" for a blank line


@dataclass(frozen=True)
class Module(Node):
    """One parsed file."""

    statements: tuple[Statement, ...]
    closing_comments: tuple[str, ...] = ()  # comments after the last statement; "" for a blank line before one
