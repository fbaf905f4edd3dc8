"""The one way outside text (names, subjects, channels, comments, scorecard texts, saved searches, file
names, error messages that quote them) reaches a page: as text, never as markup.

Most Streamlit text elements read their string as Markdown (st.markdown, st.caption, st.info and
st.error, headings, and the labels of buttons, tabs, expanders, radio options and pills), and Markdown
can fetch (``![x](http://host/x.png)``), link (``[x](javascript:...)``) and style (``:red[...]``).
So pages build such strings from their own Markdown plus ``md(value)`` for every value that came
from outside, and show longer texts (message bodies, comments) with ``st.text``, which reads no
markup at all. No page hands data to ``unsafe_allow_html``: highlighting is Markdown built here.
"""

from __future__ import annotations

import re
import string

import streamlit as st

from storage.search import HIGHLIGHT_END, HIGHLIGHT_START

__all__ = ["md", "show_error", "snippet_md"]

# CommonMark lets a backslash escape any ASCII punctuation, and an escaped character is always
# literal text: no emphasis, link, image, raw HTML, entity, directive (:red[]) or math ($) can start.
_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}
# A line break could end a heading or a label's line and start a block (a list, a table); the texts
# that go through here are one-liners, so any run of whitespace reads as one space.
_WHITESPACE = re.compile(r"\s+")
# GitHub-flavoured Markdown also makes links of bare "http://..." and "www...." after the escapes
# are read; an invisible word joiner there keeps them text. (A bare "a@b.c" still becomes a mailto:
# link, which leaves the browser for nobody's host; a joiner would break copying e-mail addresses.)
_AUTOLINK_STARTS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)
# GFM's mailto: links take only letters, digits and ._+- before the "@", so "dup*e@example.org" (a
# valid address) would link "e@example.org", somebody else's: a joiner before such an "@" keeps the
# whole address text.
_CUT_EMAIL_LINK = re.compile(r"[^\s@]*[^\s@\w.+-][\w.+-]*(?=@\w)", re.ASCII)
_WORD_JOINER = "\u2060"
_HIGHLIGHTS = re.compile(f"[{HIGHLIGHT_START}{HIGHLIGHT_END}]")


def md(value: object) -> str:
    """``value`` as Markdown that renders exactly its text, on one line."""
    return _escape(str(value)).strip()


def snippet_md(snippet: str) -> str:
    """A search snippet as Markdown: the text escaped, the matched words highlighted."""
    # The search marks matches in pairs, so every odd piece is a matched word.
    pieces = _HIGHLIGHTS.split(snippet)
    return "".join(
        f":orange-background[{_escape(piece)}]" if index % 2 else _escape(piece)
        for index, piece in enumerate(pieces)
        if piece
    ).strip()


def _escape(text: str) -> str:
    one_line = _WHITESPACE.sub(" ", text)
    unlinked = _CUT_EMAIL_LINK.sub(lambda local_part: local_part[0] + _WORD_JOINER, one_line)
    return _AUTOLINK_STARTS.sub(_WORD_JOINER, unlinked).translate(_ESCAPED)


def show_error(error: Exception) -> None:
    """A service's refusal on the page; its message may quote what a user or an importer supplied."""
    st.error(md(error))
