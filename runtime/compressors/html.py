"""Web pages: the text a reader sees, without the markup, scripts and navigation around it.

A fetched page is mostly markup, inline scripts and styles, menus, cookie banners and footers; what the agent needs
is the article: headings, paragraphs, lists, code and tables. This renders that as plain markdown-like text:
headings as `#` lines, list items as `- `, `pre` blocks verbatim between ``` fences (whitespace kept), tables as
`| a | b |` rows, links as their text (`[text](url)` when `links` is kept), inline code in backticks. Everything
else goes, attributes included (they only serve to recognise boilerplate: `role="navigation"`, a `cookie-banner`
class...), and one marker at the end says so. Text is the page's text with character references decoded
(`&amp;` → `&`) and, outside `pre`, runs of whitespace collapsed to one space; nothing else is rewritten.

Uses the standard library's forgiving `html.parser`: unclosed tags are closed by the end tag of an element around
them, and an unknown end tag is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from headroom.runtime.compressors import Compressed, Context, omission_marker
from headroom.runtime.compressors.lines import plural

# fmt: off
_DROPPED = frozenset({
    "script", "style", "noscript", "svg", "math", "nav", "aside", "form", "iframe", "template", "button", "select",
    "textarea", "canvas", "object", "audio", "video", "map", "dialog", "menu"
})
_PAGE_FRAME = frozenset({"header", "footer"})  # boilerplate unless inside the content itself
_CONTENT = frozenset({"article", "main"})
_STRUCTURE = frozenset({"html", "head", "body", "main", "article"})  # never dropped for their class or id
_BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "menu"})
_BOILERPLATE_WORDS = frozenset({
    "cookie", "cookies", "consent", "gdpr", "navbar", "nav", "menu", "breadcrumb", "breadcrumbs",
    "advert", "advertisement", "ad", "ads", "share", "social", "newsletter", "popup", "modal", "footer", "skip"
})
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"
})
_BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "blockquote", "ul", "ol", "dl", "dt", "dd", "li", "figure", "body",
    "figcaption", "address", "details", "summary", "center", "table", "caption", "h1", "h2", "h3", "h4", "h5", "h6",
    "title", "html", "head", "fieldset", "legend", "hr", "pre", "tr", "td", "th"
})
# fmt: on
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_CELLS = frozenset(("td", "th"))
_LISTS = frozenset(("ul", "ol"))
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_FENCE = "```"
# Dropped anyway and often the bulk of a page: cut before parsing (an element ends at its first end tag, as in HTML).
_UNREAD = re.compile(r"<(script|style|svg)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)


def compress(text: str, params: Mapping[str, Any], context: Context) -> Compressed | None:
    page = _Page(frozenset(params["keep"]))
    page.feed(_UNREAD.sub("", text))
    page.close()
    lines = page.render()
    if not page.tags or not lines:
        return None
    dropped = len(text) - sum(len(line) + 1 for line in lines)
    lines.append(omission_marker(f"{plural(dropped, 'character')} of markup, scripts and navigation", context))
    rendered = "\n".join(lines)
    if dropped <= 0 or len(rendered) >= len(text):
        return None
    return Compressed(rendered, f"{dropped:,} of {plural(len(text), 'character')}")


class _Page(HTMLParser):
    """Collects the page's readable blocks as output lines while the parser walks it."""

    def __init__(self, keep: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.keep = keep
        self.lines: list[str] = []
        self.tags = 0
        self.stack: list[str] = []  # open elements
        self.skipping: int | None = None  # the stack depth of the dropped element being skipped
        self.pieces: list[str] = []  # the inline text of the block being read
        self.flushes = 0  # how many times `pieces` was emptied (a link's start is only valid within one)
        # open links: their depth in the stack, `flushes` when they opened, where their text starts, their target
        self.links: list[tuple[int, int, int, str]] = []
        self.cells: list[str] | None = None  # the table row being read
        self.in_pre = 0
        self.in_cell = 0
        self.title: list[str] | None = None  # the <title> text while it is read
        self.title_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag in _VOID:
            self._void(tag)
            return
        attributes = dict(attrs)
        if self.skipping is None and _boilerplate(tag, attributes, self.stack):
            self.skipping = len(self.stack)
        if self.skipping is None:
            self._open(tag, attributes)
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag in _VOID:
            self._void(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while True:
            top = self.stack[-1]
            if self.skipping is None:
                self._close(top)
            self.stack.pop()
            if self.skipping is not None and len(self.stack) <= self.skipping:
                self.skipping = None
            if top == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.skipping is None:
            (self.pieces if self.title is None else self.title).append(data)

    def render(self) -> list[str]:
        """The output lines, once the whole page is read."""
        self._flush()
        self._end_row()
        title = _collapse(self.title_text)
        if title and "headings" in self.keep and not any(line.startswith("# ") for line in self.lines):
            self.lines.insert(0, "# " + title)
        return self.lines

    # --- what elements do ---------------------------------------------------------------------------------------

    def _open(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag in _BLOCKS:
            self._flush()
        if tag == "pre":
            self.in_pre += 1
        elif tag in _CELLS:
            self.in_cell += 1
        elif tag == "tr":
            self._end_row()
            self.cells = []
        elif tag == "code" and not self.in_pre:
            self.pieces.append("`")
        elif tag == "a" and "links" in self.keep and _is_target(href := attrs.get("href") or ""):
            self.links.append((len(self.stack), self.flushes, len(self.pieces), href))
        elif tag == "title":
            self.title = []

    def _close(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush()
        if tag == "pre":
            self._end_pre()
        elif tag in _CELLS:
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()
        elif tag == "code" and not self.in_pre:
            self.pieces.append("`")
        elif tag == "a" and self.links and self.links[-1][0] == len(self.stack) - 1:
            self._end_link(*self.links.pop()[1:])
        elif tag == "title" and self.title is not None:
            self.title_text, self.title = "".join(self.title), None

    def _void(self, tag: str) -> None:
        if tag == "br" and self.skipping is None:
            if self.in_pre:
                self.pieces.append("\n")
            else:
                self._flush()

    def _flush(self) -> None:
        """Ends the block being read (inside a table cell or a pre, blocks only break the text)."""
        if self.in_pre:
            return
        if self.in_cell:
            self.pieces.append(" ")
            return
        text = _collapse("".join(self.pieces))
        self.pieces = []
        self.flushes += 1
        if text:
            self._emit(text)

    def _emit(self, text: str) -> None:
        for tag in reversed(self.stack):
            if tag in _HEADINGS:
                if "headings" in self.keep:
                    self.lines.extend(([""] if self.lines else []) + ["#" * _HEADINGS[tag] + " " + text])
                return
            if tag == "li":
                if "text" in self.keep:
                    depth = sum(1 for open_tag in self.stack if open_tag in _LISTS)
                    self.lines.append("  " * max(depth - 1, 0) + "- " + text)
                return
        if "text" in self.keep:
            self.lines.append(text)

    def _end_pre(self) -> None:
        self.in_pre -= 1
        if self.in_pre:
            return
        code = "".join(self.pieces)
        self.pieces = []
        self.flushes += 1
        code = code[1:] if code.startswith("\n") else code  # a newline right after <pre> is not content
        if code.strip() and "code" in self.keep:
            self.lines.extend([_FENCE, *code.rstrip("\n").split("\n"), _FENCE])

    def _end_cell(self) -> None:
        self.in_cell -= 1
        if self.in_cell:
            return
        text = _collapse("".join(self.pieces))
        self.pieces = []
        self.flushes += 1
        if self.cells is None:
            self.cells = []
        self.cells.append(text)

    def _end_row(self) -> None:
        if self.cells and any(self.cells) and "tables" in self.keep:
            self.lines.append("| " + " | ".join(self.cells) + " |")
        self.cells = None

    def _end_link(self, flushes: int, start: int, href: str) -> None:
        if flushes == self.flushes and "".join(self.pieces[start:]).strip():
            self.pieces.insert(start, "[")
            self.pieces.append(f"]({href})")


def _boilerplate(tag: str, attrs: dict[str, str | None], stack: list[str]) -> bool:
    if tag in _DROPPED:
        return True
    if tag in _PAGE_FRAME:
        return not any(open_tag in _CONTENT for open_tag in stack)
    if tag in _STRUCTURE:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true" or attrs.get("role") in _BOILERPLATE_ROLES:
        return True
    if "display:none" in (attrs.get("style") or "").replace(" ", ""):
        return True
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
    return not _BOILERPLATE_WORDS.isdisjoint(_WORD_SPLIT.split(names))


def _is_target(href: str) -> bool:
    return bool(href) and not href.startswith(("#", "javascript:"))


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()
