"""The text compressor: a long markdown guide and generated texts."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from headroom.runtime.compressors import Context
from headroom.runtime.compressors.text import compress

REF = "text0001"
MARKER = re.compile(r"\[headroom: ([\d,]+) lines? omitted; retrieve with ref=" + REF + r"\]")

SECTIONS = ["Install", "Configure the pool", "Tune timeouts", "Monitor", "Troubleshoot"]


def paragraph(section: int, line: int) -> str:
    return f"Section {section} line {line}: the pool hands out connections on demand and takes them back after use."


GUIDE = (
    "\n".join(
        ["# Acme DB operations guide", "", "This guide covers running Acme DB in production.", ""]
        + [
            line
            for number, title in enumerate(SECTIONS)
            for line in [
                f"## {title}",
                "",
                *(paragraph(number, k) for k in range(12)),
                "```bash",
                "# install the client first",
                "acme-cli pool status --verbose",
                "```",
                "",
            ]
        ]
        + ["Appendix", "========", "", "When the pool is full, acquire raises ConnectionPoolExhausted after 30 s.", ""]
        + [paragraph(9, k) for k in range(6)]
        + ["", "Last reviewed 2026-11-02."]
    )
    + "\n"
)


def run(text: str, head: int = 4, tail: int = 2, query: str = ""):
    return compress(text, {"head": head, "tail": tail}, Context(query=query, kind="markdown", ref=REF))


def read_back(source: str, output: str) -> None:
    """The output is the source with runs of lines replaced by markers naming their length."""
    lines, row = source.split("\n"), 0
    for line in output.split("\n"):
        if marker := MARKER.fullmatch(line):
            row += int(marker[1].replace(",", ""))
        else:
            assert line == lines[row], f"line {row + 1} differs"
            row += 1
    assert row == len(lines)


def test_head_tail_and_headings_kept() -> None:
    result = run(GUIDE, tail=3)
    read_back(GUIDE, result.text)
    output = result.text.split("\n")
    assert output[:4] == GUIDE.split("\n")[:4]
    assert result.text.endswith(paragraph(9, 5) + "\n\nLast reviewed 2026-11-02.\n")
    for title in SECTIONS:
        assert f"## {title}" in output
    assert "Appendix\n========" in result.text
    assert "# install the client first" not in output  # a comment in a code fence is no heading
    assert MARKER.fullmatch(output[output.index("## Install") + 1])


def test_lines_with_rare_query_terms_kept() -> None:
    text = run(GUIDE, query="Why do I get ConnectionPoolExhausted?").text
    assert "When the pool is full, acquire raises ConnectionPoolExhausted after 30 s." in text
    assert "section 2 line 7" not in text.lower()


def test_common_query_terms_keep_nothing_extra() -> None:
    assert run(GUIDE, query="how does the pool hand out connections?") == run(GUIDE)


def test_short_text_gives_none() -> None:
    assert run("a\nb\nc\nd\ne\nf\n", head=4, tail=2) is None
    assert run("a\nb\nc\nd\ne\nf\ng", head=4, tail=2) is None  # seven lines, but folding one would not pay


def test_summary_counts_lines() -> None:
    assert run(GUIDE).summary.endswith(f"of {GUIDE.count(chr(10))} lines")


def test_deterministic() -> None:
    assert run(GUIDE, query="timeouts") == run(GUIDE, query="timeouts")


def test_fences_close_only_on_their_own_kind() -> None:
    code = ["# not a heading, a shell comment", "~~~", "```python", "# still code: the fence above opens none"]
    fenced = ["````", *code, "```", "# still code: three backticks do not close four", "````", "# Heading again"]
    text = "\n".join(["intro", *fenced, *(f"filler {k}" for k in range(20)), "end"])
    output = run(text, head=1, tail=1).text.split("\n")
    assert "# Heading again" in output
    assert not [line for line in output if line.startswith("# ") and line != "# Heading again"]


def outside_fences(source: list[str]) -> list[str]:
    """The lines outside code fences, by CommonMark: a fence closes on the same character, at least as many times,
    with nothing after; backticks cannot follow an opening backtick fence."""
    outside, fence = [], ""
    for line in source:
        run = re.match(r" {0,3}(`{3,}|~{3,})(.*)", line)
        if fence:
            closes = run and run[1][0] == fence[0] and len(run[1]) >= len(fence) and not run[2].strip()
            fence = "" if closes else fence
        elif run and not (run[1][0] == "`" and "`" in run[2]):
            fence = run[1]
        else:
            outside.append(line)
    return outside


lines = st.one_of(
    st.sampled_from(
        ["", "# Title", "## Part", "```", "```python", "````", "~~~", "---", "plain words here", "ERROR-42 found"]
    ),
    st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=30),
)


@given(st.lists(lines, max_size=120), st.integers(0, 10), st.integers(0, 10), st.booleans())
def test_generated_texts_keep_head_and_tail(body: list[str], head: int, tail: int, final_newline: bool) -> None:
    text = "\n".join(body) + ("\n" if final_newline else "")
    result = run(text, head, tail, query="error-42")
    if result is None:
        return
    read_back(text, result.text)
    source, output = text.split("\n"), result.text.split("\n")
    size = len(source) - final_newline
    assert output[:head] == source[:head]
    assert output[len(output) - tail - final_newline :] == source[size - tail :]
    assert all(line in output for line in outside_fences(source) if line.startswith("# "))  # not "#" lines in code
    assert all(line in output for line in source if "ERROR-42" in line)
