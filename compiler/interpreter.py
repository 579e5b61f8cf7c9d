"""The REFERENCE interpreter: the executable specification of what a compiled policy decides.

It walks the IR directly, one plain step per line of the semantics (rules/README.md), with `fnmatch` and plain
string search instead of the backend's precomputed regular expressions and caches. The generated router is tested
to decide exactly what this does for random policies and blocks (tests/compiler/test_router_equivalence.py), so a
backend optimisation that changes a decision shows up as a disagreement. It is never used at run time: it is slow
on purpose, written to be obviously right rather than fast.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from headroom.compiler import decisions, ir
from headroom.runtime.routing import Block, Decision

_PROTECTIONS = ("protect_recent_code", "protect_analysis_context", "protect_user_messages", "protect_error_outputs")


@dataclass(frozen=True)
class _RequestScope:
    """Everything in force for one request: the base scope with its matching `for` blocks applied."""

    settings: dict[str, ir.Assigned]
    protections: dict[str, ir.Assigned]
    exclusions: tuple[ir.Exclusion, ...]
    tool_profiles: tuple[ir.ToolProfile, ...]
    rules: tuple[ir.Rule, ...]


class Interpreter:
    """Decides blocks by walking an `ir.Policy`; `route` has the contract of a generated router's `route`."""

    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy

    def route(self, block: Block) -> Decision:
        scope = self._scope(block.model, block.provider)
        protections = scope.protections
        if protections["protect_user_messages"].value and block.role == "user":
            return decisions.protection("protect_user_messages", protections["protect_user_messages"])
        excluded = _exclusion(scope.exclusions, block.tool)
        if excluded is not None:
            return decisions.exclusion(excluded)
        for setting, measured in (("min_tokens", block.tokens), ("min_chars", block.chars)):
            if measured < scope.settings[setting].value:
                return decisions.gate(setting, scope.settings[setting])
        if protections["protect_error_outputs"].value and block.is_error:
            return decisions.protection("protect_error_outputs", protections["protect_error_outputs"])
        if _is_code(block.kind):
            if block.age < protections["protect_recent_code"].value:
                return decisions.protection("protect_recent_code", protections["protect_recent_code"])
            if _says_any(block.user_text, protections["protect_analysis_context"].value):
                return decisions.protection("protect_analysis_context", protections["protect_analysis_context"])
        for rule in scope.rules:
            if rule.condition is None or _holds(rule.condition, block):
                return decisions.rule(rule, self._profile(scope.tool_profiles, block.tool))
        return decisions.no_rule(self.policy)

    def _scope(self, model: str, provider: str) -> _RequestScope:
        base = self.policy.base
        matching = [o for o in self.policy.overrides if _matches(model if o.selector == "model" else provider, o.globs)]
        settings = dict(base.settings)
        protections = {name: getattr(base, name) for name in _PROTECTIONS}
        for override in matching:
            settings.update(override.scope.settings)
            protections.update({name: getattr(override.scope, name) for name in _PROTECTIONS
                                if getattr(override.scope, name) is not None})  # fmt: skip
        layers = [base, *(o.scope for o in matching)]
        return _RequestScope(
            settings=settings,
            protections=protections,
            exclusions=tuple(e for scope in layers for e in scope.exclusions),
            tool_profiles=tuple(t for scope in layers for t in scope.tool_profiles),
            rules=tuple(r for scope in [*layers[1:], base] for r in scope.rules),
        )

    def _profile(self, tool_profiles: tuple[ir.ToolProfile, ...], tool: str) -> ir.Profile | None:
        """The profile of the last statement naming this tool; none for a block that is not a tool result."""
        if not tool:
            return None
        named = [mapping.profile for mapping in tool_profiles if _matches(tool, mapping.globs)]
        return self.policy.profiles[named[-1]] if named else None


def _exclusion(exclusions: tuple[ir.Exclusion, ...], tool: str) -> ir.Exclusion | None:
    current = None
    for excluded in exclusions:
        if not excluded.globs:
            current = None
        elif tool and _matches(tool, excluded.globs):
            current = excluded
    return current


def _matches(value: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, glob) for glob in globs)


def _is_code(kind: str) -> bool:
    return kind == "code" or kind.startswith("code:")


def _is_word_char(text: str, index: int) -> bool:
    """Whether there is a word character at `index` (out of range: there is none)."""
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _says(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as a whole word or phrase: no word character touches either end."""
    start = text.find(phrase)
    while start != -1:
        if not _is_word_char(text, start - 1) and not _is_word_char(text, start + len(phrase)):
            return True
        start = text.find(phrase, start + 1)
    return False


def _says_any(text: str, phrases: Iterable[str]) -> bool:
    return any(_says(text, phrase) for phrase in phrases)


def _holds(condition: ir.Condition, block: Block) -> bool:
    if isinstance(condition, ir.All):
        return all(_holds(operand, block) for operand in condition.operands)
    if isinstance(condition, ir.AnyOf):
        return any(_holds(operand, block) for operand in condition.operands)
    if isinstance(condition, ir.Not):
        return not _holds(condition.operand, block)
    if isinstance(condition, ir.ContentIs):
        return any(block.kind == kind or (kind == "code" and _is_code(block.kind)) for kind in condition.kinds)
    if isinstance(condition, ir.Compare):
        return _compare(getattr(block, condition.measure), condition.op, condition.value)
    if isinstance(condition, ir.FieldIs):
        return _matches(getattr(block, condition.field), condition.globs)
    if isinstance(condition, ir.UserSays):
        return _says_any(block.user_text, condition.phrases)
    return block.is_error


def _compare(measured: int, op: str, value: int) -> bool:
    return {
        ">=": measured >= value, "<=": measured <= value, "==": measured == value,
        "!=": measured != value, ">": measured > value, "<": measured < value,
    }[op]  # fmt: skip
