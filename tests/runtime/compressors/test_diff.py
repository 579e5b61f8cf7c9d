"""The diff compressor: `git log -p`, `git show`, plain unified diffs and long `git log` listings.

Every check reads the output back against the input: each line is an input line (byte-identical, in order) or a
marker standing for exactly the number of lines it says.
"""

from __future__ import annotations

import difflib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.runtime.compressors import Context
from headroom.runtime.compressors.diff import compress

REF = "diff0001"
MARKER = re.compile(
    r"\[headroom: (?:([\d,]+) unchanged lines?|[\d,]+ commits? \(([\d,]+) lines?\)) omitted; retrieve with ref="
    + REF
    + r"\]"
)

OLD = [f"    step_{k} = compute(step_{k - 1}, retries={k % 5})  # stage {k}" for k in range(1, 121)]
NEW = list(OLD)
NEW[10] = "    step_11 = compute(step_10, retries=0)  # stage 11, no retries"
NEW[60:62] = ["    -- not a header: a removed-looking added line", "    ++ also content"]
del NEW[100]


def unified(old: list[str], new: list[str], path: str, context: int = 3) -> list[str]:
    return list(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=context, lineterm=""))


GIT_LOG_P = "\n".join(
    [
        "commit 3f2a9c1d7e5b4a0f9e8d7c6b5a4f3e2d1c0b9a8f",
        "Author: Farah Haddad <farah@example.com>",
        "Date:   Tue Nov 11 09:12:44 2026 +0100",
        "",
        "    pipeline: stop retrying stage 11",
        "",
        "    Retries hid the ConnectionPoolExhausted error; fail fast instead.",
        "",
        "diff --git a/pipeline/stages.py b/pipeline/stages.py",
        "index 4b825dc..9c1e2f3 100644",
        *unified(OLD, NEW, "pipeline/stages.py", context=12),
        "diff --git a/schema.sql b/schema.sql",
        "index 1111111..2222222 100644",
        "--- a/schema.sql",
        "+++ b/schema.sql",
        "@@ -1,8 +1,8 @@",
        " create table orders (",
        "   id bigint primary key,",
        "   customer text not null,",
        "-- amount numeric(10, 2)",
        "+  amount numeric(12, 2) not null,",
        "   status text,",
        "   created_at timestamptz",
        " );",
        " -- end of schema",
        "\\ No newline at end of file",
        "diff --git a/logo.png b/logo.png",
        "new file mode 100644",
        "index 0000000..e69de29",
        "Binary files /dev/null and b/logo.png differ",
        "",
        "commit 8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d",
        "Merge: 1a2b3c4 5d6e7f8",
        "Author: Jun Park <jun@example.com>",
        "Date:   Mon Nov 10 17:03:01 2026 +0100",
        "",
        "    Merge branch 'rename-config'",
        "",
        "diff --git a/config/old.yaml b/config/new.yaml",
        "similarity index 88%",
        "rename from config/old.yaml",
        "rename to config/new.yaml",
        *unified([f"key_{k}: {k}" for k in range(40)], [f"key_{k}: {k * (k != 20)}" for k in range(40)], "x", 10)[2:],
    ]
)


def run(text: str, context: int = 1, query: str = ""):
    return compress(text, {"context": context}, Context(query=query, kind="diff", ref=REF))


def read_back(source: str, output: str) -> int:
    """Checks that the output is the source with runs of lines replaced by markers naming their length; returns
    how many markers there are."""
    lines, row, markers = source.split("\n"), 0, 0
    for line in output.split("\n"):
        if marker := MARKER.fullmatch(line):
            row += int((marker[1] or marker[2]).replace(",", ""))
            markers += 1
        else:
            assert line == lines[row], f"line {row + 1} differs"
            row += 1
    assert row == len(lines)
    return markers


def test_headers_and_changes_all_kept_context_folded() -> None:
    result = run(GIT_LOG_P)
    assert read_back(GIT_LOG_P, result.text) >= 4
    output = result.text.split("\n")
    headers = re.compile(r"(commit |Author:|Date:|Merge:|    \w|diff --git|index |@@|[-+]|\\|rename|Binary)")
    for line in GIT_LOG_P.split("\n"):
        if headers.match(line):
            assert line in output, line
    assert "[headroom: 11 unchanged lines omitted; retrieve with ref=diff0001]" in output


def test_lines_that_look_like_headers_are_read_by_the_hunk_counts() -> None:
    output = run(GIT_LOG_P).text.split("\n")
    assert "+    -- not a header: a removed-looking added line" in output
    assert "-- amount numeric(10, 2)" in output


@pytest.mark.parametrize("context", [0, 1, 3])
def test_context_lines_around_each_change(context: int) -> None:
    diff = "\n".join(unified(OLD, NEW, "stages.py", context=8))
    output = run(diff, context).text.split("\n")
    changed = OLD.index("    step_11 = compute(step_10, retries=1)  # stage 11")
    for offset in range(1, context + 1):
        assert " " + OLD[changed - offset] in output
        assert " " + OLD[changed + offset] in output
    assert " " + OLD[changed - context - 1] not in output


def test_rare_query_term_keeps_its_context_line() -> None:
    diff = "\n".join(unified(OLD, NEW, "stages.py", context=8))
    output = run(diff, 0, query="what does step_53 compute?").text.split("\n")
    assert "     step_53 = compute(step_52, retries=3)  # stage 53" in output


def test_new_file_has_nothing_to_fold() -> None:
    assert run("\n".join(unified([], OLD, "stages.py"))) is None


def test_not_a_diff() -> None:
    assert run("just some text\n" * 50) is None


def git_log(commits: int) -> str:
    entries = [
        f"commit {k:040x}\nAuthor: Dev {k % 7} <dev{k % 7}@example.com>\n"
        f"Date:   Mon Nov 10 10:{k % 60:02d}:00 2026 +0100\n\n"
        f"    Change number {k}: tune the {['cache', 'pool', 'queue'][k % 3]} settings\n"
        for k in range(commits)
    ]
    return "\n".join(entries)


def test_short_log_without_patches_stays_whole() -> None:
    assert run(git_log(100)) is None


def test_huge_log_keeps_first_commits_and_those_matching_the_query() -> None:
    log = git_log(160)
    result = run(log, query="which commit was change number 123?")
    read_back(log, result.text)
    assert f"commit {49:040x}" in result.text
    assert f"commit {50:040x}" not in result.text
    assert f"commit {123:040x}\nAuthor: Dev 4 <dev4@example.com>" in result.text
    assert "[headroom: 73 commits (438 lines) omitted; retrieve with ref=diff0001]" in result.text


def test_deterministic() -> None:
    assert run(GIT_LOG_P, 2, "stage 11") == run(GIT_LOG_P, 2, "stage 11")


# --- generated diffs ---------------------------------------------------------------------------------------------

files = st.lists(st.sampled_from([f"line {k}" for k in range(30)] + ["", "-- x", "+ y", "@@ z"]), max_size=60)


@given(files, files, st.integers(0, 6), st.integers(0, 4))
def test_generated_diffs_keep_changes_and_nearby_context(old: list[str], new: list[str], n: int, context: int) -> None:
    lines = ["diff --git a/f b/f", *unified(old, new, "f", n)]
    text = "\n".join(lines)
    result = run(text, context)
    if result is None:
        return
    read_back(text, result.text)
    output = result.text.split("\n")
    kept = iter(output)
    for line in lines[2:]:
        if line.startswith(("@@", "+", "-")):
            assert line in kept  # in order
