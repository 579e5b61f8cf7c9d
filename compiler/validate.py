"""Checks that need the whole policy: references between statements, unreachable rules, suspicious combinations.

Value and name checks happen while lowering (where the syntax is at hand); what is here looks across statements and
files. Errors stop compilation; warnings are printed and compilation goes on.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from headroom.compiler import catalog, ir
from headroom.compiler.diagnostics import Diagnostics, Location, did_you_mean


def validate(policy: ir.Policy, diagnostics: Diagnostics) -> None:
    scopes = [policy.base, *(override.scope for override in policy.overrides)]
    used_profiles: set[str] = set()
    for scope in scopes:
        for mapping in scope.tool_profiles:
            used_profiles.add(mapping.profile)
            if mapping.profile not in policy.profiles:
                diagnostics.error(
                    _at(mapping.origin),
                    f"unknown profile '{mapping.profile}'",
                    did_you_mean(mapping.profile, policy.profiles),
                )
        _check_reachable(scope.rules, diagnostics)
        for rule in scope.rules:
            _check_compressor_fits(rule, diagnostics)
    for profile in policy.profiles.values():
        if profile.name not in used_profiles:
            diagnostics.warning(
                _at(profile.origin),
                f"profile '{profile.name}' is defined but no tool uses it",
                hint=f"add `tool NAME uses {profile.name}`",
            )
    if not any(scope.rules for scope in scopes):
        diagnostics.warning(
            Location(policy.sources[0].path, 0),
            "the policy has no rules: every block is kept",
            hint='add rules, or `include "default.hrules"`',
        )


def _at(origin: ir.Origin) -> Location:
    return Location(origin.file, origin.line, max(origin.column, 1))


# --- unreachable rules --------------------------------------------------------------------------------------------


def _check_reachable(rules: tuple[ir.Rule, ...], diagnostics: Diagnostics) -> None:
    for index, later in enumerate(rules):
        earlier = next((rule for rule in rules[:index] if covers(rule.condition, later.condition)), None)
        if earlier is None:
            continue
        message = f"rule '{later.name}' can never match: rule '{earlier.name}' ({earlier.origin}) matches first"
        if earlier.origin.file == later.origin.file:
            diagnostics.error(_at(later.origin), message, "narrow the earlier rule, or move this one above it")
        else:
            diagnostics.warning(_at(later.origin), message, f"name a rule '{later.name}' to replace this one instead")


def covers(earlier: ir.Condition | None, later: ir.Condition | None) -> bool:
    """True when every block matching `later` also matches `earlier` (so `later`, tried after it, is dead).
    Sound, not complete: it may miss a shadowed rule but never reports a reachable one."""
    if earlier is None:
        return True
    if later is None:
        return False
    if isinstance(later, ir.AnyOf):
        return all(covers(earlier, operand) for operand in later.operands)
    if isinstance(earlier, ir.AnyOf):
        return any(covers(operand, later) for operand in earlier.operands)
    later_atoms = _conjuncts(later)
    return all(any(_implies(atom, wanted) for atom in later_atoms) for wanted in _conjuncts(earlier))


def _conjuncts(condition: ir.Condition) -> list[ir.Condition]:
    if isinstance(condition, ir.All):
        return [atom for operand in condition.operands for atom in _conjuncts(operand)]
    return [condition]


def _implies(atom: ir.Condition, wanted: ir.Condition) -> bool:
    if atom == wanted:
        return True
    if isinstance(atom, ir.ContentIs) and isinstance(wanted, ir.ContentIs):
        return all(_kind_within(kind, wanted.kinds) for kind in atom.kinds)
    if isinstance(atom, ir.Compare) and isinstance(wanted, ir.Compare) and atom.measure == wanted.measure:
        return _within(_interval(atom), _interval(wanted))
    if isinstance(atom, ir.FieldIs) and isinstance(wanted, ir.FieldIs) and atom.field == wanted.field:
        return all(any(_glob_within(glob, outer) for outer in wanted.globs) for glob in atom.globs)
    if isinstance(atom, ir.UserSays) and isinstance(wanted, ir.UserSays):
        return set(atom.phrases) <= set(wanted.phrases)
    return False


def _kind_within(kind: str, kinds: Iterable[str]) -> bool:
    return kind in kinds or (kind.startswith("code:") and "code" in kinds)


def _glob_within(glob: str, outer: str) -> bool:
    if glob == outer or outer == "*":
        return True
    is_literal = not any(ch in glob for ch in "*?[")
    return is_literal and fnmatch.fnmatchcase(glob, outer)


_UNBOUNDED = 10**18


def _interval(compare: ir.Compare) -> tuple[int, int] | None:
    """The whole numbers a comparison admits, as [low, high]; None for `!=`, which is not an interval."""
    value = compare.value
    return {
        ">=": (value, _UNBOUNDED),
        ">": (value + 1, _UNBOUNDED),
        "<=": (0, value),
        "<": (0, value - 1),
        "==": (value, value),
    }.get(compare.op)


def _within(inner: tuple[int, int] | None, outer: tuple[int, int] | None) -> bool:
    if inner is None or outer is None:
        return False
    return outer[0] <= inner[0] and inner[1] <= outer[1]


# --- compressor / content fit -------------------------------------------------------------------------------------


def _check_compressor_fits(rule: ir.Rule, diagnostics: Diagnostics) -> None:
    if not isinstance(rule.action, ir.Compress) or rule.condition is None:
        return
    kinds = [kind for atom in _conjuncts(rule.condition) if isinstance(atom, ir.ContentIs) for kind in atom.kinds]
    made_for = catalog.COMPRESSORS[rule.action.compressor].kinds
    misfits = [kind for kind in kinds if kind.partition(":")[0] not in made_for]
    if misfits:
        diagnostics.warning(
            _at(rule.origin),
            f"rule '{rule.name}' sends {', '.join(misfits)} to '{rule.action.compressor}', which is made for "
            f"{', '.join(made_for)}",
            hint="blocks it cannot handle are left untouched",
        )
