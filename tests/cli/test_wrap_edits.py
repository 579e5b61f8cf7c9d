"""Config edits undone in every way they can end: untouched (byte-exact restore), changed by the client meanwhile
(its changes kept, headroom's part taken out), and left by a killed wrap (undone by the next one). Real files under
a temporary HOME, the edit functions called in this process."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from headroom.cli import wrap_claude, wrap_codex, wrap_edits
from headroom.cli.wrap import project_name

URL = "http://127.0.0.1:9999"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HEADROOM_STORE_PATH", str(tmp_path / ".headroom" / "store.db"))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path


def test_claude_settings_changed_while_wrapped_keep_those_changes() -> None:
    path = wrap_claude.target()
    path.parent.mkdir()
    path.write_text('{"env": {"ANTHROPIC_BASE_URL": "https://mine.example"}}', encoding="utf-8")
    wrap_edits.apply("claude", wrap_claude, URL, "project")
    settings = json.loads(path.read_text(encoding="utf-8"))
    settings["permissions"] = {"allow": ["Bash(ls)"]}  # what Claude Code saves when told "don't ask again"
    path.write_text(json.dumps(settings), encoding="utf-8")
    said = wrap_edits.release("claude", wrap_claude)
    assert said == f"{path} changed while wrapped: kept those changes and took out only headroom's"
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "env": {"ANTHROPIC_BASE_URL": "https://mine.example"},
        "permissions": {"allow": ["Bash(ls)"]},
    }


def test_claude_settings_wrap_created_lose_the_env_it_added() -> None:
    edited = wrap_claude.edit(None, URL, "project")
    changed = json.dumps({**json.loads(edited), "permissions": {"deny": []}})
    assert json.loads(wrap_claude.take_back(changed, None, edited) or "") == {"permissions": {"deny": []}}
    assert wrap_claude.take_back(edited.replace("\n", " "), None, edited) is None  # nothing else was added


def test_codex_config_changed_while_wrapped_keeps_those_changes(home: Path) -> None:
    path = wrap_codex.target()
    path.parent.mkdir()
    path.write_text('model_provider = "azure"\n\n[tui]\nnotifications = true\n', encoding="utf-8")
    wrap_edits.apply("codex", wrap_codex, URL, "project")
    with path.open("a", encoding="utf-8") as config:
        config.write('\n[projects."/src/app"]\ntrust_level = "trusted"\n')  # what Codex saves when trusting a folder
    wrap_edits.release("codex", wrap_codex)
    assert path.read_text(encoding="utf-8") == (
        'model_provider = "azure"\n\n[tui]\nnotifications = true\n\n[projects."/src/app"]\ntrust_level = "trusted"\n'
    )


def test_codex_home_is_where_codex_looks(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(home / "elsewhere"))
    assert wrap_codex.target() == home / "elsewhere" / "config.toml"


@pytest.mark.parametrize(
    "original",
    [
        '"model_provider" = "azure" # quoted key\nmodel = "o3"\n',
        '[profiles.fast]\nmodel_provider = "azure"\n',  # not top-level: stays as it is
        "# only a comment",
        "",
    ],
)
def test_codex_edit_selects_headroom_and_keeps_the_rest(original: str) -> None:
    edited = tomllib.loads(wrap_codex.edit(original, URL, 'my "quoted" project'))
    assert edited["model_provider"] == "headroom"
    assert edited["model_providers"]["headroom"]["http_headers"] == {"x-headroom-project": 'my "quoted" project'}
    before = tomllib.loads(original)
    before.pop("model_provider", None)
    assert {key: value for key, value in edited.items() if key not in ("model_provider", "model_providers")} == before


def test_a_symlinked_config_stays_a_symlink(home: Path) -> None:
    real = home / "dotfiles" / "codex.toml"
    real.parent.mkdir()
    real.write_text('model = "o3"\n', encoding="utf-8")
    wrap_codex.target().parent.mkdir()
    wrap_codex.target().symlink_to(real)
    wrap_edits.apply("codex", wrap_codex, URL, "project")
    assert "[model_providers.headroom]" in real.read_text(encoding="utf-8")
    wrap_edits.release("codex", wrap_codex)
    assert wrap_codex.target().is_symlink()
    assert real.read_text(encoding="utf-8") == 'model = "o3"\n'


def test_an_edit_left_by_a_killed_wrap_is_undone_first(home: Path) -> None:
    path = wrap_codex.target()
    wrap_edits.apply("codex", wrap_codex, URL, "project")
    _kill_holders(home)
    assert wrap_edits.undo_leftovers("codex", wrap_codex) == [f"removed {path}, which wrap had created"]
    assert not path.parent.exists()
    assert wrap_edits.records("codex") == []


def test_a_file_already_put_back_is_left_as_it_is(home: Path) -> None:
    path = wrap_claude.target()
    path.parent.mkdir()
    path.write_text('{"env": {}}', encoding="utf-8")
    wrap_edits.apply("claude", wrap_claude, URL, "project")
    path.write_text('{"env": {}}', encoding="utf-8")  # a wrap interrupted after restoring, before dropping the record
    _kill_holders(home)
    assert wrap_edits.undo_leftovers("claude", wrap_claude) == [f"{path} was as it had been"]
    assert path.read_text(encoding="utf-8") == '{"env": {}}'


def test_a_running_wrap_with_other_settings_is_not_joined() -> None:
    wrap_edits.apply("codex", wrap_codex, URL, "project")
    with pytest.raises(wrap_edits.EditRefused, match="already wrapped with other settings"):
        wrap_edits.apply("codex", wrap_codex, "http://127.0.0.1:1234", "project")
    wrap_edits.release("codex", wrap_codex)
    assert not wrap_codex.target().exists()


def test_a_file_that_is_not_utf8_is_refused(home: Path) -> None:
    path = wrap_codex.target()
    path.parent.mkdir()
    path.write_bytes(b"model = '\xff'\n")
    with pytest.raises(wrap_edits.EditRefused, match="is not UTF-8 text"):
        wrap_edits.apply("codex", wrap_codex, URL, "project")
    assert path.read_bytes() == b"model = '\xff'\n"


def test_project_names_fit_in_a_header() -> None:
    assert project_name(Path("/src/my-app")) == "my-app"
    assert project_name(Path("/src/caf\u00e9\nx")) == "caf__x"
    assert project_name(Path("/")) == "/"


def _kill_holders(home: Path) -> None:
    """Make every edit on record look left by a wrap killed with SIGKILL: its holder, a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    for record_file in (home / ".headroom" / "wrap" / "edits").glob("*.json"):
        record = json.loads(record_file.read_text(encoding="utf-8"))
        record_file.write_text(json.dumps(record | {"holders": [process.pid]}), encoding="utf-8")
