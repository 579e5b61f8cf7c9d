"""The intermediate representation: a policy with every include resolved, every value typed and every decision
traced to the statement that made it.

Backends render it and the reference interpreter runs it; neither sees syntax. An `Origin` travels with each
decision into the generated code so a user can ask which line of which file made it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Origin(_Frozen):
    file: str  # as displayed: relative to the entry file's folder, or `<headroom>/name` for shipped rules
    line: int  # 0 for built-in defaults
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Assigned(_Frozen):
    """A value together with the statement that set it."""

    value: Any
    origin: Origin


# --- conditions ---------------------------------------------------------------------------------------------------


class ContentIs(_Frozen):
    type: Literal["content_is"] = "content_is"
    kinds: tuple[str, ...]  # `code` matches every `code:LANG`


class Compare(_Frozen):
    type: Literal["compare"] = "compare"
    measure: Literal["tokens", "chars", "items", "lines", "age"]
    op: Literal[">=", "<=", "==", "!=", ">", "<"]
    value: int


class FieldIs(_Frozen):
    type: Literal["field_is"] = "field_is"
    field: Literal["tool", "model", "provider", "role"]
    globs: tuple[str, ...]  # fnmatch globs, case-sensitive


class UserSays(_Frozen):
    type: Literal["user_says"] = "user_says"
    phrases: tuple[str, ...]  # whole words or phrases, any case


class IsError(_Frozen):
    type: Literal["is_error"] = "is_error"


class Not(_Frozen):
    type: Literal["not"] = "not"
    operand: Condition


class All(_Frozen):
    type: Literal["all"] = "all"
    operands: tuple[Condition, ...]


class AnyOf(_Frozen):
    type: Literal["any"] = "any"
    operands: tuple[Condition, ...]


Condition = Annotated[
    ContentIs | Compare | FieldIs | UserSays | IsError | Not | All | AnyOf, Field(discriminator="type")
]


# --- rules --------------------------------------------------------------------------------------------------------


class Keep(_Frozen):
    type: Literal["keep"] = "keep"


class Compress(_Frozen):
    type: Literal["compress"] = "compress"
    compressor: str
    arguments: dict[str, Any]  # only what the rule wrote; defaults and profiles fill the rest per tool


class Rule(_Frozen):
    name: str
    condition: Condition | None  # None: always
    action: Annotated[Keep | Compress, Field(discriminator="type")]
    origin: Origin


class ToolProfile(_Frozen):
    globs: tuple[str, ...]
    profile: str
    origin: Origin


class Exclusion(_Frozen):
    globs: tuple[str, ...]  # empty: `exclude tools none`, which clears the exclusions before it
    origin: Origin


class Profile(_Frozen):
    name: str
    params: dict[str, Any]
    origin: Origin


class Scope(_Frozen):
    """What one layer of statements sets. In the base scope every field is filled; in an override only what its
    block wrote, applied on top of the base for matching requests."""

    settings: dict[str, Assigned] = {}
    protect_recent_code: Assigned | None = None  # value: messages (0 = off)
    protect_analysis_context: Assigned | None = None  # value: tuple of keywords (empty = off)
    protect_user_messages: Assigned | None = None  # value: bool
    protect_error_outputs: Assigned | None = None  # value: bool
    exclusions: tuple[Exclusion, ...] = ()  # applied in order; later statements add, `none` clears
    tool_profiles: tuple[ToolProfile, ...] = ()  # the last one matching a tool wins
    rules: tuple[Rule, ...] = ()  # the first one matching a block wins


class Override(_Frozen):
    selector: Literal["model", "provider"]
    globs: tuple[str, ...]
    scope: Scope
    origin: Origin


class SourceFile(_Frozen):
    path: str  # as displayed in origins
    sha256: str


class Policy(_Frozen):
    """A compiled policy, ready for a backend."""

    name: str  # the entry file's stem: `default` for default.hrules
    sources: tuple[SourceFile, ...]  # the entry file first, then its includes
    source_hash: str  # over every source's content, in order: changes when any of them does
    compiler_version: str
    base: Scope
    overrides: tuple[Override, ...]
    profiles: dict[str, Profile]


Not.model_rebuild()
All.model_rebuild()
AnyOf.model_rebuild()
