"""Separate the new text of an e-mail reply from the earlier messages quoted under it.

The history shows each message once, so a reply's quote of the previous mail is kept apart
(``quoted``) rather than repeated in the body and in search. ``mail-parser-reply`` finds the
reply headers of many mail clients in many languages. Two gaps in it are filled here:

- Gmail's and Thunderbird's Dutch and Polish attribution lines ("Op di 14 mei 2024 om 10:02
  schreef Anna <a@example.nl>:", "W dniu 14.05.2024 o 10:02 Jan <j@example.pl> napisał(a):")
  do not match its patterns, and neither does a trailing block of ``>`` lines with no
  attribution at all;
- its Polish Outlook-header pattern accepts a single field line, so a body line such as
  "Do: jutra" or "Data: 12 maja" would cut the message there; splits at fewer than two
  "Field:" lines are undone.

Two kinds of mail are not split at all, because what follows their "header" is not an earlier
message of the thread but the content: a forward ("---------- Forwarded message ----------",
"Begin forwarded message:", in the languages above and German), whose forwarded mail the
history would otherwise lose; and an interleaved reply, whose answers sit between the quoted
lines (bottom-posting is its simplest case), so that no cut keeps them apart from the quote.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

_PARSER = EmailReplyParser(languages=["en", "nl", "pl"])

# Outlook-style reply headers are blocks of "Field: value" lines; one such line alone is running text.
_FIELD_LINE = re.compile(r"^[*\s>]*\w+:", re.MULTILINE)

# Attribution lines, which mail clients may wrap onto a second line.
_ATTRIBUTION = re.compile(
    r"^[ \t>]*(?:On|Op|W dniu|Dnia)\s[^\n]*(?:\n[^\n]*)?"
    r"(?:\swrote|\sschreef|\sgeschreven|\snapisał\(a\)|\snapisała|\snapisał|\spisze)[^\n]*:[ \t]*$"
    r"(?=\n(?:[ \t]*\n)?[ \t]*>)",  # followed by the quote itself, so "On Monday I wrote:" is not one
    re.MULTILINE,
)
_QUOTED_LINE = re.compile(r"^\s*>")
_FORWARD = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|doorgestuurd bericht|weitergeleitete nachricht"
    r"|przekazana wiadomość|wiadomość przekazana dalej)[ \t]*-*"
    r"|(?:begin forwarded message|begin doorgestuurd bericht|anfang der weitergeleiteten nachricht"
    r"|początek przekazywanej wiadomości):)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
FORWARD_MARKER = "---------- Forwarded message ----------"  # how an attached message is set into a body


def split_reply(text: str) -> tuple[str, str | None]:
    """``(new text, quoted text or None)``; a message that only forwards a quote has empty new text."""
    if _FORWARD.search(text):
        return text.strip(), None
    new, quoted = _split(text)
    if quoted is not None and _interleaved(quoted):
        return text.strip(), None
    return new, quoted


def _split(text: str) -> tuple[str, str | None]:
    fragments = _fragments(text)
    head, body = fragments[0]
    if head:  # the message starts with a reply header: nothing new was written above it
        new, quoted = "", [h_body for _, h_body in fragments]
    else:
        new, quoted = body, [h_body for _, h_body in fragments[1:]]
    new, unrecognised = _split_unrecognised(new)
    if unrecognised:
        quoted.insert(0, unrecognised)
    return new.strip(), "\n\n".join(part for part in quoted if part) or None


def _interleaved(quoted: str) -> bool:
    """Whether written lines follow quoted (``>``) lines: answers between or under the quote."""
    seen_quote = False
    for line in quoted.split("\n"):
        if _QUOTED_LINE.match(line):
            seen_quote = True
        elif seen_quote and line.strip():
            return True
    return False


def _fragments(text: str) -> list[tuple[str, str]]:
    """The library's ``(header, content)`` fragments with false one-line splits joined back."""
    fragments: list[tuple[str, str]] = []
    for reply in _PARSER.read(text).replies:
        header = reply.headers
        false_split = _FIELD_LINE.match(header) is not None and len(_FIELD_LINE.findall(header)) < 2
        if false_split and fragments:
            head, content = fragments[-1]
            fragments[-1] = (head, f"{content}\n{reply.content}")
        elif false_split:
            fragments.append(("", reply.content))
        else:
            fragments.append((header, reply.content))
    return fragments or [("", "")]


def _split_unrecognised(text: str) -> tuple[str, str]:
    """Split at an attribution line the library missed, else at a trailing block of ``>`` lines."""
    match = _ATTRIBUTION.search(text)
    if match:
        return text[: match.start()], text[match.start() :].strip()
    lines = text.split("\n")
    start = len(lines)
    while start > 0 and (_QUOTED_LINE.match(lines[start - 1]) or not lines[start - 1].strip()):
        start -= 1
    if not any(_QUOTED_LINE.match(line) for line in lines[start:]):
        return text, ""
    if start > 0 and lines[start - 1].rstrip().endswith(":"):
        start -= 1  # an attribution line in a language or format not listed above
    return "\n".join(lines[:start]), "\n".join(lines[start:]).strip()
