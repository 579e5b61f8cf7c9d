"""The decisions a policy can make, built from the IR.

Backends embed these as constants and the reference interpreter returns them, so both agree on every reason,
origin and parameter by construction; what they are tested to agree on is *which* decision a block gets.
"""

from __future__ import annotations

from types import MappingProxyType

from headroom.compiler import catalog, ir
from headroom.runtime.routing import Decision

PROTECTION_REASONS = {
    "protect_user_messages": "protected: user message",
    "protect_error_outputs": "protected: error output",
    "protect_recent_code": "protected: recent code",
    "protect_analysis_context": "protected: analysis context",
}


def keep(reason: str, origin: ir.Origin, rule: str | None = None) -> Decision:
    return Decision(action="keep", reason=reason, origin=str(origin), rule=rule)


def protection(name: str, assigned: ir.Assigned) -> Decision:
    return keep(PROTECTION_REASONS[name], assigned.origin)


def gate(setting: str, assigned: ir.Assigned) -> Decision:
    return keep(f"below {setting} ({assigned.value})", assigned.origin)


def exclusion(excluded: ir.Exclusion) -> Decision:
    return keep("excluded tool", excluded.origin)


def no_rule(policy: ir.Policy) -> Decision:
    return keep("no rule matched", ir.Origin(file=policy.sources[0].path, line=0))


def rule(rule: ir.Rule, profile: ir.Profile | None) -> Decision:
    """The rule's decision for a tool using `profile`: compressor defaults, then the profile, then the rule."""
    reason = f"rule '{rule.name}'"
    if isinstance(rule.action, ir.Keep):
        return keep(reason, rule.origin, rule.name)
    spec = catalog.COMPRESSORS[rule.action.compressor]
    params = {name: param.default for name, param in spec.params.items()}
    if profile is not None:
        params.update({name: value for name, value in profile.params.items() if name in spec.params})
    params.update(rule.action.arguments)
    return Decision(
        action="compress",
        reason=reason,
        origin=str(rule.origin),
        rule=rule.name,
        compressor=rule.action.compressor,
        params=MappingProxyType(dict(sorted(params.items()))),
    )
