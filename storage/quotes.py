"""Which quoted text a thread does not hold already.

A reply quotes the mail it answers: when that mail is in the thread too, the quote adds nothing and
would show and be found twice. When it is not (the earlier mail was never imported, a forward, an
interleaved answer the splitter could not tell apart), the quote is the only copy of those words
and is kept whole. A quote counts as held when each of its lines of content, with its ``>`` marks
and spacing taken off, occurs in the thread's text; reply headers ("On ... wrote:", "From: ...")
are not content, because no message body holds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_QUOTE_MARKS = re.compile(r"^[\s>|]*")
_REPLY_HEADER = re.compile(
    r"^(?:[\w-]+\s?){1,3}:\s.*$"  # From: / Sent: / Van: / Wysłano: ... fields
    r"|^.*:$"  # "On Tue, 14 May 2024, Anna wrote:" and its kin end with a colon
    r"|^-{2,}.*-{2,}$"  # "-----Original Message-----"
)
_ATTRIBUTION_LINES = 3  # an attribution wrapped by the mail client ends with its colon this soon


def words(text: str) -> str:
    """``text`` as one line of lower-case words: how quotes and bodies are compared."""
    return " ".join(text.casefold().split())


def unheld_quote(quoted: str | None, thread_text: str) -> str | None:
    """``quoted``, or None when ``thread_text`` (see ``words``) holds every line of it."""
    if not quoted:
        return None
    lines = [_QUOTE_MARKS.sub("", line).strip() for line in quoted.split("\n")]
    lines = [line for line in lines if line]
    attribution = next((i for i, line in enumerate(lines[:_ATTRIBUTION_LINES]) if line.endswith(":")), -1)
    for content in lines[attribution + 1 :]:
        if not _REPLY_HEADER.match(content) and words(content) not in thread_text:
            return quoted
    return None


def thread_text(texts: Iterable[str | None]) -> str:
    """The words of a thread's messages (bodies and quotes kept), to test quotes against."""
    return "\n".join(words(text) for text in texts if text)
