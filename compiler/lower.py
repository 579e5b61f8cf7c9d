"""Syntax trees → IR: give every statement its meaning, convert every value to its type, and merge the layers.

Layering (the precise rules are in rules/README.md): an included file is a layer underneath the file that includes
it. Settings, protections, exclusions and tool profiles are applied bottom layer first, so the including file
wins; rules are tried top layer first, so the including file's rules come before those of what it includes, and a
rule named like an included one replaces it where it stands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from headroom import __version__
from headroom.compiler import catalog, ir
from headroom.compiler import nodes as n
from headroom.compiler.diagnostics import Diagnostics, Location, did_you_mean
from headroom.compiler.loader import Source

BUILT_IN = ir.Origin(file="<built-in>", line=0)

_PROTECTION_DEFAULTS: dict[str, Any] = {
    "protect_recent_code": 0,
    "protect_analysis_context": (),
    "protect_user_messages": False,
    "protect_error_outputs": False,
}


@dataclass
class _Layer:
    """What one file (with what it includes) contributes, before it is frozen into a `Scope`."""

    settings: dict[str, ir.Assigned] = field(default_factory=dict)
    protections: dict[str, ir.Assigned] = field(default_factory=dict)
    exclusions: list[ir.Exclusion] = field(default_factory=list)
    tool_profiles: list[ir.ToolProfile] = field(default_factory=list)
    rules: list[ir.Rule] = field(default_factory=list)
    overrides: list[ir.Override] = field(default_factory=list)
    profiles: dict[str, ir.Profile] = field(default_factory=dict)

    def scope(self) -> ir.Scope:
        return ir.Scope(
            settings=self.settings,
            exclusions=tuple(self.exclusions),
            tool_profiles=tuple(self.tool_profiles),
            rules=tuple(self.rules),
            **self.protections,
        )

    def put_under(self, top: _Layer) -> _Layer:
        """This layer with `top` layered over it."""
        replaced = {rule.name: rule for rule in top.rules}
        kept_rules = [replaced.pop(rule.name, rule) for rule in self.rules]
        profiles = dict(self.profiles)
        for name, profile in top.profiles.items():
            if name in profiles:
                profile = ir.Profile(
                    name=name, params={**profiles[name].params, **profile.params}, origin=profile.origin
                )
            profiles[name] = profile
        return _Layer(
            settings={**self.settings, **top.settings},
            protections={**self.protections, **top.protections},
            exclusions=self.exclusions + top.exclusions,
            tool_profiles=self.tool_profiles + top.tool_profiles,
            rules=[rule for rule in top.rules if rule.name in replaced] + kept_rules,
            overrides=self.overrides + top.overrides,
            profiles=profiles,
        )


def lower(root: Source, diagnostics: Diagnostics) -> ir.Policy:
    """The IR of the policy whose entry file is `root`; problems are added to `diagnostics`."""
    layer = _lower_source(root, diagnostics)
    settings = {name: ir.Assigned(value=spec.default, origin=BUILT_IN) for name, spec in catalog.SETTINGS.items()}
    protections = {name: ir.Assigned(value=value, origin=BUILT_IN) for name, value in _PROTECTION_DEFAULTS.items()}
    base = _Layer(settings=settings, protections=protections).put_under(layer)
    sources = tuple(ir.SourceFile(path=s.display, sha256=s.sha256) for s in root.walk())
    return ir.Policy(
        name=root.path.stem,
        sources=sources,
        source_hash=_hash(root.walk()),
        compiler_version=__version__,
        base=base.scope(),
        overrides=tuple(base.overrides),
        profiles=base.profiles,
    )


def _hash(sources: list[Source]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.display.encode() + b"\0" + source.text.encode() + b"\0")
    return digest.hexdigest()


def _lower_source(source: Source, diagnostics: Diagnostics) -> _Layer:
    below = _Layer()
    for child in source.includes:
        below = below.put_under(_lower_source(child, diagnostics))
    return below.put_under(_FileLowerer(source, diagnostics).layer())


class _FileLowerer:
    """Lowers the statements of one file."""

    def __init__(self, source: Source, diagnostics: Diagnostics) -> None:
        self.source = source
        self.diagnostics = diagnostics

    def layer(self) -> _Layer:
        layer = _Layer()
        for statement in self.source.module.statements:
            if isinstance(statement, n.Profile):
                self._profile(statement, layer.profiles)
            elif isinstance(statement, n.Override):
                layer.overrides.append(self._override(statement))
            elif not isinstance(statement, n.Include):
                self._scoped(statement, layer)
        return layer

    # --- helpers ---------------------------------------------------------------------------------------------

    def origin(self, node: n.Node) -> ir.Origin:
        return ir.Origin(file=self.source.display, line=node.pos.line, column=node.pos.column)

    def where(self, node: n.Node) -> Location:
        return Location(self.source.display, node.pos.line, node.pos.column)

    def error(self, node: n.Node, message: str, hint: str | None = None) -> None:
        self.diagnostics.error(self.where(node), message, hint)

    def convert(self, value_type: catalog.ValueType, values: tuple[n.Value, ...], what: str) -> Any:
        try:
            return catalog.convert(value_type, values)
        except catalog.BadValue as problem:
            self.error(values[0], f"{what}: {problem.message}", problem.hint)
            return None

    # --- statements ------------------------------------------------------------------------------------------

    def _scoped(self, statement: n.Statement, layer: _Layer) -> None:
        """Statements allowed both at top level and inside `for` blocks."""
        origin = self.origin(statement)
        if isinstance(statement, n.Setting):
            self._setting(statement, layer)
        elif isinstance(statement, n.ExcludeTools):
            layer.exclusions.append(ir.Exclusion(globs=statement.globs, origin=origin))
        elif isinstance(statement, n.ProtectRecentCode):
            messages = 0
            if statement.messages is not None:
                messages = self.convert(catalog.Count("messages"), (statement.messages,), "protect recent code")
            layer.protections["protect_recent_code"] = ir.Assigned(value=messages or 0, origin=origin)
        elif isinstance(statement, n.ProtectAnalysisContext):
            keywords = self._phrases(statement, statement.keywords or ())
            layer.protections["protect_analysis_context"] = ir.Assigned(value=keywords, origin=origin)
        elif isinstance(statement, n.ProtectUserMessages):
            layer.protections["protect_user_messages"] = ir.Assigned(value=statement.on, origin=origin)
        elif isinstance(statement, n.ProtectErrorOutputs):
            layer.protections["protect_error_outputs"] = ir.Assigned(value=statement.on, origin=origin)
        elif isinstance(statement, n.ToolProfile):
            layer.tool_profiles.append(
                ir.ToolProfile(
                    globs=statement.globs, profile=statement.profile.text, origin=self.origin(statement.profile)
                )
            )
        elif isinstance(statement, n.Rule):
            self._rule(statement, layer.rules)

    def _setting(self, statement: n.Setting, layer: _Layer) -> None:
        name = statement.name.text
        spec = catalog.SETTINGS.get(name)
        if spec is None:
            self.error(statement.name, f"unknown setting '{name}'", did_you_mean(name, catalog.SETTINGS))
            return
        value = self.convert(spec.type, (statement.value,), f"setting '{name}'")
        if value is not None:
            layer.settings[name] = ir.Assigned(value=value, origin=self.origin(statement))

    def _profile(self, statement: n.Profile, profiles: dict[str, ir.Profile]) -> None:
        params: dict[str, Any] = {}
        for param in statement.params:
            name = param.name.text
            takers = catalog.PROFILE_PARAMS.get(name)
            if takers is None:
                self.error(
                    param.name, f"unknown profile parameter '{name}'", did_you_mean(name, catalog.PROFILE_PARAMS)
                )
                continue
            if name in params:
                self.error(param.name, f"parameter '{name}' is given twice in profile '{statement.name.text}'")
                continue
            types = {catalog.COMPRESSORS[compressor].params[name].type: None for compressor in takers}
            values = [self.convert(value_type, (param.value,), f"'{name}'") for value_type in types]
            if all(value is not None for value in values):
                params[name] = values[0]
        name = statement.name.text
        merged = {**profiles[name].params, **params} if name in profiles else params
        profiles[name] = ir.Profile(name=name, params=merged, origin=self.origin(statement.name))

    def _override(self, statement: n.Override) -> ir.Override:
        layer = _Layer()
        for inner in statement.body:
            self._scoped(inner, layer)
        return ir.Override(
            selector=statement.selector, globs=statement.globs, scope=layer.scope(), origin=self.origin(statement)
        )

    def _rule(self, statement: n.Rule, rules: list[ir.Rule]) -> None:
        name = statement.name.text
        if any(rule.name == name for rule in rules):
            self.error(
                statement.name,
                f"duplicate rule name '{name}'",
                "rule names are unique within a file; a rule named like an included one replaces it",
            )
            return
        condition = self._condition(statement.condition) if statement.condition is not None else None
        action = self._action(statement.action)
        if action is not None:
            rules.append(ir.Rule(name=name, condition=condition, action=action, origin=self.origin(statement)))

    def _action(self, action: n.Action) -> ir.Keep | ir.Compress | None:
        if isinstance(action, n.Keep):
            return ir.Keep()
        name = action.compressor.text
        spec = catalog.COMPRESSORS.get(name)
        if spec is None:
            self.error(action.compressor, f"unknown compressor '{name}'", did_you_mean(name, catalog.COMPRESSORS))
            return None
        arguments: dict[str, Any] = {}
        for argument in action.arguments:
            param = argument.name.text
            if param not in spec.params:
                hint = did_you_mean(param, spec.params) or f"{name} takes: {', '.join(spec.params)}"
                self.error(argument.name, f"compressor '{name}' has no parameter '{param}'", hint)
            elif param in arguments:
                self.error(argument.name, f"parameter '{param}' is given twice")
            else:
                value = self.convert(spec.params[param].type, argument.values, f"'{param}'")
                if value is not None:
                    arguments[param] = value
        return ir.Compress(compressor=name, arguments=arguments)

    # --- conditions ------------------------------------------------------------------------------------------

    def _condition(self, condition: n.Condition) -> ir.Condition:
        if isinstance(condition, n.All):
            return ir.All(operands=tuple(self._condition(c) for c in condition.operands))
        if isinstance(condition, n.AnyOf):
            return ir.AnyOf(operands=tuple(self._condition(c) for c in condition.operands))
        if isinstance(condition, n.Not):
            return ir.Not(operand=self._condition(condition.operand))
        if isinstance(condition, n.ContentIs):
            for kind in condition.kinds:
                self._check_kind(kind)
            return ir.ContentIs(kinds=tuple(kind.text for kind in condition.kinds))
        if isinstance(condition, n.Compare):
            unit = catalog.MEASURE_UNITS[condition.measure]
            value = self.convert(catalog.Count(unit), (condition.quantity,), condition.measure)
            return ir.Compare(measure=condition.measure, op=condition.op, value=value or 0)
        if isinstance(condition, n.FieldIs):
            if condition.field == "role":
                for role in condition.globs:
                    if role not in catalog.ROLES:
                        self.error(
                            condition,
                            f"unknown role '{role}' (roles: {', '.join(catalog.ROLES)})",
                            did_you_mean(role, catalog.ROLES),
                        )
            return ir.FieldIs(field=condition.field, globs=condition.globs)
        if isinstance(condition, n.UserSays):
            return ir.UserSays(phrases=self._phrases(condition, condition.phrases))
        return ir.IsError()

    def _phrases(self, node: n.Node, phrases: tuple[str, ...]) -> tuple[str, ...]:
        """Phrases are matched in lowercase, as whole words; an empty or blank one would match every message."""
        if any(not phrase.strip() for phrase in phrases):
            self.error(node, "an empty phrase matches every message", "remove the empty string")
        return tuple(phrase.lower() for phrase in phrases)

    def _check_kind(self, kind: n.Ident) -> None:
        base, _, language = kind.text.partition(":")
        if base not in catalog.CONTENT_KINDS:
            self.error(kind, f"unknown content kind '{base}'", did_you_mean(base, catalog.CONTENT_KINDS))
        elif language and base != "code":
            self.error(kind, f"only code has a language: '{kind.text}'", f"write `{base}` or `code:{language}`")
        elif language and language not in catalog.CODE_LANGUAGES:
            self.error(kind, f"unknown language '{language}'", did_you_mean(language, catalog.CODE_LANGUAGES))
