"""HTML mail and chat bodies as readable plain text.

A small converter on the standard library's ``html.parser``: e-mail HTML is mostly paragraphs,
line breaks, lists, tables and quoted replies, and that is all a history view and a search index
need. Block elements become line breaks, ``<blockquote>`` becomes ``> ``-prefixed lines (so the
reply splitter sees quoted text the way plain-text mail shows it), and scripts, styles and
hidden head content are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED = frozenset({"script", "style", "head", "title", "template"})
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr", "dl"}
)
_LINES = frozenset(
    {"div", "tr", "li", "dt", "dd", "section", "article", "header", "footer", "address", "center", "form"}
)
_CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return converter.text()


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._words: list[str] = []
        self._skipping = 0
        self._quote_depth = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag == "br":
            self._break()
        elif tag in _PARAGRAPHS:
            self._break(blank=True)
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre += 1
        elif tag in _LINES:
            self._break()
            if tag == "li":
                self._words.append("- ")
        elif tag in _CELLS:
            self._words.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.handle_data(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <img/> have no end tag; anything else self-closed opens and closes at once.
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _PARAGRAPHS:
            self._break(blank=True)
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _LINES:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._words.append(first)
            for line in rest:
                self._break()
                self._words.append(line)
        else:
            self._words.append(_SPACES.sub(" ", data))

    def _break(self, blank: bool = False) -> None:
        line = "".join(self._words).strip()
        self._words = []
        prefix = "> " * self._quote_depth
        if line:
            self._lines.append(prefix + line)
        if blank and self._lines and self._lines[-1].strip("> ") != "":
            self._lines.append(prefix.rstrip())

    def text(self) -> str:
        self._break()
        joined = "\n".join(line.rstrip() for line in self._lines)
        return _BLANK_RUNS.sub("\n\n", joined).strip()
