"""The package installs under the one import namespace `headroom`: site-packages gains no bare `compiler`,
`runtime` or `cli`, and the data the runtime needs (grammar, templates, shipped rules) is installed with it."""

from __future__ import annotations

import importlib.util
import json
from importlib import metadata
from pathlib import Path

import headroom


def installed_distribution() -> metadata.Distribution:
    """The distribution pip installed (a build also leaves a bare egg-info in the checkout; that one is not it)."""
    found = [d for d in metadata.distributions(name="headroom-rules") if d.read_text("INSTALLER") is not None]
    assert found, "headroom-rules is not installed"
    return found[0]


DIST = installed_distribution()


def test_no_bare_top_level_packages() -> None:
    for bare in ("compiler", "runtime", "cli", "native", "rules", "tests"):
        spec = importlib.util.find_spec(bare)
        assert spec is None or "headroom" not in str(spec.origin or spec.submodule_search_locations), bare


def test_installed_files_are_all_under_headroom() -> None:
    direct_url = DIST.read_text("direct_url.json")
    if direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"):
        # An editable install maps only `headroom` to the checkout (setuptools' finder or a .pth file).
        mapped = [f for f in DIST.files or () if f.name.endswith((".pth", "_finder.py"))]
        assert mapped, "an editable install should install a path hook"
        return
    top_levels = {f.parts[0] for f in DIST.files or () if f.suffix in (".py", ".lark", ".j2", ".hrules")}
    assert top_levels == {"headroom"}


def test_package_data_is_installed() -> None:
    root = Path(headroom.__file__).parent
    for data in (
        "compiler/headroom.lark",
        "compiler/backends/templates/router.py.j2",
        "rules/default.hrules",
        "rules/__hrules__/default.py",
        "rules/README.md",
    ):
        assert (root / data).is_file(), data


def test_console_scripts_point_into_headroom() -> None:
    scripts = {ep.name: ep.value for ep in DIST.entry_points if ep.group == "console_scripts"}
    assert set(scripts) == {"headroom", "headroom-compile", "headroom-serve", "headroom-check"}
    assert all(value.startswith("headroom.cli.") for value in scripts.values())
