"""The html compressor: a documentation page with the usual boilerplate, and generated pages."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headroom.runtime.compressors import Context
from headroom.runtime.compressors.html import compress

REF = "html0001"
MARKER = re.compile(
    r"\[headroom: [\d,]+ characters? of markup, scripts and navigation omitted; retrieve with ref=" + REF + r"\]"
)
ALL = ("headings", "text", "code", "tables", "links")
DEFAULT = ("headings", "text", "code", "tables")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Connection pooling — Acme DB docs</title>
  <link rel="stylesheet" href="/static/site.css">
  <style>
    body { font-family: sans-serif; }
    .cookie-banner { position: fixed; bottom: 0; }
  </style>
  <script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>
</head>
<body class="docs has-sidebar">
  <!-- build 2026-11-02 -->
  <header class="site-header">
    <a href="/" class="logo">Acme DB</a>
    <nav><ul><li><a href="/docs">Docs</a></li><li><a href="/blog">Blog</a></li></ul></nav>
  </header>
  <div id="cookie-consent" class="cookie-banner">We use cookies. <button>Accept</button></div>
  <aside class="sidebar"><ul><li><a href="/docs/install">Install guide</a></li></ul></aside>
  <div role="navigation">Previous | Next</div>
  <main>
    <article>
      <h1>Connection pooling</h1>
      <p>The pool keeps up to <code>max_size</code> connections open &amp; hands them out
         on demand. When all are busy, <em>acquire</em> waits <strong>30 s</strong>.</p>
      <h2 id="config">Configuration</h2>
      <ul>
        <li>max_size: the most connections (default 64)</li>
        <li>timeout: how long acquire waits
          <ul><li>set to 0 to fail fast</li></ul>
        </li>
      </ul>
      <pre><code class="language-python">pool = Pool(dsn, max_size=64)
with pool.acquire(timeout=30) as conn:
    conn.execute("select 1")   # two spaces before the comment
</code></pre>
      <table>
        <thead><tr><th>Setting</th><th>Default</th></tr></thead>
        <tbody>
          <tr><td>max_size</td><td>64</td></tr>
          <tr><td>timeout</td><td>30 s</td></tr>
        </tbody>
      </table>
      <p>See <a href="https://example.com/pool-errors">pool errors</a> for <code>ConnectionPoolExhausted</code>.<br>
      Or <a href="#top">go back up</a>.</p>
      <svg viewBox="0 0 10 10"><text>chart label</text></svg>
      <form action="/feedback"><label>Was this helpful?</label><input name="q"></form>
    </article>
  </main>
  <footer class="site-footer"><p>© 2026 Acme</p></footer>
  <script src="/static/app.js"></script>
  <script>
    document.querySelectorAll('a').forEach(function (a) { a.addEventListener('click', track); });
  </script>
</body>
</html>
"""

EXPECTED = """# Connection pooling
The pool keeps up to `max_size` connections open & hands them out on demand. When all are busy, acquire waits 30 s.

## Configuration
- max_size: the most connections (default 64)
- timeout: how long acquire waits
  - set to 0 to fail fast
```
pool = Pool(dsn, max_size=64)
with pool.acquire(timeout=30) as conn:
    conn.execute("select 1")   # two spaces before the comment
```
| Setting | Default |
| max_size | 64 |
| timeout | 30 s |
See pool errors for `ConnectionPoolExhausted`.
Or go back up."""


def run(page: str, keep: tuple[str, ...] = DEFAULT):
    return compress(page, {"keep": keep}, Context(kind="html", ref=REF))


def test_page_rendered_as_text_without_boilerplate() -> None:
    result = run(PAGE)
    body, marker = result.text.rsplit("\n", 1)
    assert body == EXPECTED
    assert MARKER.fullmatch(marker)
    for gone in ("dataLayer", "font-family", "cookies", "Install guide", "Docs", "Previous", "chart label", "helpful"):
        assert gone not in result.text
    assert "Acme" not in result.text  # site header, title (the page has an h1) and footer


def test_links_keep_their_targets_when_asked() -> None:
    text = run(PAGE, ALL).text
    assert "See [pool errors](https://example.com/pool-errors) for `ConnectionPoolExhausted`." in text
    assert "Or go back up." in text  # an anchor on the same page is no target


@pytest.mark.parametrize(
    ("keep", "present", "absent"),
    [
        (("headings",), "## Configuration", "max_size: the most"),
        (("code",), "    conn.execute(", "# Connection pooling"),
        (("tables",), "| timeout | 30 s |", "- timeout"),
        (("text",), "- set to 0 to fail fast", "| max_size"),
    ],
)
def test_keep_selects_what_is_rendered(keep: tuple[str, ...], present: str, absent: str) -> None:
    text = run(PAGE, keep).text
    assert present in text
    assert absent not in text


def test_title_stands_in_for_a_missing_h1() -> None:
    page = PAGE.replace("<h1>Connection pooling</h1>", "")
    assert run(page).text.startswith("# Connection pooling — Acme DB docs\n")


def test_unclosed_tags_and_entities() -> None:
    page = (
        "<html><body><nav>menu<p>still nav" + "<a href=/x>x</a>" * 50 + "</nav><p>one &lt;two&gt;<p>three<ul><li>a<li>b"
    )
    text = run(page + "</ul><div>end").text
    assert text.split("\n")[:-1] == ["one <two>", "three", "- a", "- b", "end"]


def test_not_html_or_not_smaller() -> None:
    assert run("plain text with no tags at all\n" * 20) is None
    assert run("<p>hi</p>") is None


def test_deterministic() -> None:
    assert run(PAGE, ALL) == run(PAGE, ALL)


# --- generated pages ---------------------------------------------------------------------------------------------

words = st.sampled_from(["pool", "size", "timeout", "retry", "a&b", "x<y", "café", "64"])
phrases = st.lists(words, min_size=1, max_size=5).map(" ".join)
CONTENT = ["p", "h2", "li", "td", "div", "span", "em"]
BOILERPLATE = ["script", "style", "nav", "aside", "iframe", "noscript"]


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> tuple[str, list[str], list[str]]:
    """An element's HTML, the phrases a reader sees in it, and the hidden ones."""
    tag = draw(st.sampled_from(CONTENT + BOILERPLATE))
    if tag in BOILERPLATE:
        return f"<{tag}>SECRET{depth}</{tag}>", [], ["SECRET"]
    shown, hidden, inner = [], [], []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 3 and draw(st.booleans()):
            markup, seen, unseen = draw(elements(depth + 1))
            inner.append(markup)
            shown += seen
            hidden += unseen
        else:
            phrase = draw(phrases)
            inner.append(html.escape(phrase))
            shown.append(phrase)
    return f'<{tag} class="c{depth}" data-x="1">{" ".join(inner)}</{tag}>', shown, hidden


@given(st.lists(elements(), min_size=1, max_size=6), st.text("ab \n\t", max_size=20))
def test_generated_pages_show_their_text_and_hide_boilerplate(parts: list, code: str) -> None:
    page = "<html><body>" + "".join(markup for markup, _, _ in parts) + f"<pre>{html.escape(code)}x</pre></body></html>"
    page += "<script>" + "var tracking = 1;" * 40 + "</script>"
    result = run(page)
    assert result is not None
    assert MARKER.fullmatch(result.text.rsplit("\n", 1)[1])
    flat = " ".join(result.text.split())
    for _, shown, hidden in parts:
        assert all(phrase in flat for phrase in shown)
        assert not any(secret in result.text for secret in hidden)
    assert "```\n" + (code + "x").removeprefix("\n").rstrip("\n") + "\n```" in result.text
    assert "class=" not in result.text and "tracking" not in result.text
    assert run(page) == result
