"""The Python backend: a policy becomes a module whose `route(block)` is a straight run of `if` statements.

Everything that can be computed ahead of time is: globs and phrases become compiled regular expressions, every
decision a constant, and what depends only on the model, the provider or the tool name is computed once per value
and cached. Each generated line that decides carries a comment naming the `.hrules` file and line it came from.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from headroom.compiler import decisions, ir
from headroom.runtime.routing import Decision

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)

_GATES = ("min_tokens", "min_chars")  # settings the router itself reads, each with its "below ..." decision


class PythonBackend:
    name = "python"

    def output_name(self, policy: ir.Policy) -> str:
        return f"{policy.name}.py"

    def render(self, policy: ir.Policy) -> str:
        module = _ModuleBuilder(policy).build()
        return _TEMPLATES.get_template("router.py.j2").render(policy=policy, m=module)


@dataclass
class Line:
    """A line of generated code and the comment that says where it came from."""

    code: str
    comment: str = ""
    then: str | None = None  # the statement under `code` when `code` is an `if`


@dataclass
class Block:
    """Lines that run only when a `for model/provider` block applies (guard) or always (guard None)."""

    guard: str | None
    comment: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Module:
    constants: list[Line] = field(default_factory=list)
    override_flags: list[Line] = field(default_factory=list)
    scope: list[Block] = field(default_factory=list)
    tool: list[Block] = field(default_factory=list)
    rules: list[Block] = field(default_factory=list)
    no_rule: str = ""


class _ModuleBuilder:
    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy
        self.module = Module()
        self._names: dict[str, str] = {}  # constant source → its name, so equal constants are emitted once

    def build(self) -> Module:
        policy = self.policy
        for index, override in enumerate(policy.overrides):
            argument = override.selector
            self.module.override_flags.append(
                Line(
                    f"{self.globs(override.globs)}.fullmatch({argument}) is not None",
                    f"[{index}] {_describe_override(override)}",
                )
            )
        scopes = [(None, "", policy.base)] + [
            (f"flags[{i}]", _describe_override(o), o.scope) for i, o in enumerate(policy.overrides)
        ]
        for guard, comment, scope in scopes:
            self.module.scope.append(Block(guard, comment, self.scope_lines(scope)))
            self.module.tool.append(Block(guard, comment, self.tool_lines(scope)))
        # The rules of matching `for` blocks are tried before the base rules.
        for guard, comment, scope in [*scopes[1:], scopes[0]]:
            self.module.rules.append(Block(guard, comment, self.rule_lines(scope)))
        self.module.no_rule = self.decision(decisions.no_rule(policy))
        return self.module

    # --- constants -------------------------------------------------------------------------------------------

    def constant(self, prefix: str, source: str, comment: str = "") -> str:
        if source not in self._names:
            self._names[source] = f"_{prefix}{len(self._names)}"
            self.module.constants.append(Line(f"{self._names[source]} = {source}", comment))
        return self._names[source]

    def decision(self, decision: Decision) -> str:
        return self.constant("D", _decision_source(decision), decision.reason)

    def globs(self, globs: tuple[str, ...]) -> str:
        pattern = "|".join(fnmatch.translate(glob) for glob in globs)
        return self.constant("GLOB", f"re.compile({pattern!r})", ", ".join(globs))

    def phrases(self, phrases: tuple[str, ...]) -> str:
        pattern = r"(?<!\w)(?:" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)"
        return self.constant("SAYS", f"re.compile({pattern!r})", ", ".join(phrases))

    # --- per request: settings and protections ---------------------------------------------------------------

    def scope_lines(self, scope: ir.Scope) -> list[Line]:
        lines = []
        for name, assigned in scope.settings.items():
            lines.append(Line(f"settings[{name!r}] = {assigned.value!r}", str(assigned.origin)))
            if name in _GATES:
                gate = self.decision(decisions.gate(name, assigned))
                lines.append(Line(f"{name}, {name}_decision = {assigned.value!r}, {gate}", str(assigned.origin)))
        for name in ("protect_user_messages", "protect_error_outputs"):
            assigned = getattr(scope, name)
            if assigned is not None:
                value = self.decision(decisions.protection(name, assigned)) if assigned.value else "None"
                lines.append(Line(f"{name} = {value}", str(assigned.origin)))
        if scope.protect_recent_code is not None:
            assigned = scope.protect_recent_code
            decision = self.decision(decisions.protection("protect_recent_code", assigned))
            lines.append(
                Line(f"recent_code, recent_code_decision = {assigned.value!r}, {decision}", str(assigned.origin))
            )
        if scope.protect_analysis_context is not None:
            assigned = scope.protect_analysis_context
            decision = self.decision(decisions.protection("protect_analysis_context", assigned))
            says = self.phrases(assigned.value) if assigned.value else "None"
            lines.append(Line(f"analysis, analysis_decision = {says}, {decision}", str(assigned.origin)))
        return lines

    # --- per tool name: exclusion and profile ----------------------------------------------------------------

    def tool_lines(self, scope: ir.Scope) -> list[Line]:
        lines = []
        for excluded in scope.exclusions:
            if not excluded.globs:
                lines.append(Line("excluded = None", f"{excluded.origin}: exclude tools none"))
                continue
            decision = self.decision(decisions.exclusion(excluded))
            lines.append(
                Line(
                    f"if tool and {self.globs(excluded.globs)}.fullmatch(tool) is not None:",
                    str(excluded.origin),
                    f"excluded = {decision}",
                )
            )
        for mapping in scope.tool_profiles:
            lines.append(
                Line(
                    f"if tool and {self.globs(mapping.globs)}.fullmatch(tool) is not None:",
                    str(mapping.origin),
                    f"profile = {mapping.profile!r}",
                )
            )
        return lines

    # --- per block: rules ------------------------------------------------------------------------------------

    def rule_lines(self, scope: ir.Scope) -> list[Line]:
        lines = []
        for rule in scope.rules:
            condition = self.condition(rule.condition) if rule.condition is not None else "True"
            lines.append(
                Line(f"if {condition}:", f"rule {rule.name} ({rule.origin})", f"return {self.rule_decision(rule)}")
            )
        return lines

    def rule_decision(self, rule: ir.Rule) -> str:
        if isinstance(rule.action, ir.Keep):
            return self.decision(decisions.rule(rule, None))
        table = {None: decisions.rule(rule, None)}
        table.update({name: decisions.rule(rule, profile) for name, profile in sorted(self.policy.profiles.items())})
        entries = ", ".join(f"{name!r}: {self.decision(decision)}" for name, decision in table.items())
        return self.constant("RULE", "{" + entries + "}", f"rule {rule.name}, by tool profile") + "[profile]"

    def condition(self, condition: ir.Condition) -> str:
        if isinstance(condition, ir.All):
            return "(" + " and ".join(self.condition(c) for c in condition.operands) + ")"
        if isinstance(condition, ir.AnyOf):
            return "(" + " or ".join(self.condition(c) for c in condition.operands) + ")"
        if isinstance(condition, ir.Not):
            return f"not {self.condition(condition.operand)}"
        if isinstance(condition, ir.ContentIs):
            tests = ["is_code" if kind == "code" else f"kind == {kind!r}" for kind in condition.kinds]
            return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        if isinstance(condition, ir.Compare):
            return f"block.{condition.measure} {condition.op} {condition.value}"
        if isinstance(condition, ir.FieldIs):
            return f"{self.globs(condition.globs)}.fullmatch(block.{condition.field}) is not None"
        if isinstance(condition, ir.UserSays):
            return f"{self.phrases(condition.phrases)}.search(block.user_text) is not None"
        return "block.is_error"


def _describe_override(override: ir.Override) -> str:
    return f"for {override.selector} {', '.join(override.globs)} ({override.origin})"


def _decision_source(decision: Decision) -> str:
    fields = [f"{name}={getattr(decision, name)!r}" for name in ("action", "reason", "origin", "rule", "compressor")]
    if decision.params:
        fields.append(f"params=MappingProxyType({dict(decision.params)!r})")
    return f"Decision({', '.join(fields)})"
