"""The catalog's defaults are values a user could write: shown in `.hrules` syntax (`headroom-compile --list`),
they compile back to exactly the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from headroom.compiler import catalog
from headroom.compiler.pipeline import compile_policy


@pytest.mark.parametrize("name", list(catalog.SETTINGS))
def test_setting_default_round_trips(name: str, tmp_path: Path) -> None:
    spec = catalog.SETTINGS[name]
    entry = tmp_path / "p.hrules"
    entry.write_text(f"set {name} {spec.type.show(spec.default)}\nrule all: -> keep\n", encoding="utf-8")
    policy, _ = compile_policy(entry)
    assert policy.base.settings[name].value == spec.default
    assert policy.base.settings[name].origin.file == "p.hrules"


@pytest.mark.parametrize(
    ("compressor", "param"), [(c, p) for c, spec in catalog.COMPRESSORS.items() for p in spec.params]
)
def test_parameter_default_round_trips(compressor: str, param: str, tmp_path: Path) -> None:
    spec = catalog.COMPRESSORS[compressor].params[param]
    entry = tmp_path / "p.hrules"
    entry.write_text(f"rule all: -> compress with {compressor}({param}: {spec.type.show(spec.default)})\n")
    policy, _ = compile_policy(entry)
    assert policy.base.rules[0].action.arguments == {param: spec.default}
