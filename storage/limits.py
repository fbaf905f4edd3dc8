"""How long the texts people write into Earshot may be. The services refuse longer ones with a clear
message, and the pages give their inputs the same ``max_chars``, so the page says it first: a pasted
20,000-character comment would otherwise flood every reviewer's panel."""

from __future__ import annotations

from storage.errors import InvalidValue

__all__ = [
    "COMMENT_MAX_CHARS",
    "FORM_NAME_MAX_CHARS",
    "QUESTION_MAX_CHARS",
    "SAVED_SEARCH_NAME_MAX_CHARS",
    "SECTION_TITLE_MAX_CHARS",
    "SPEAKER_NAME_MAX_CHARS",
    "TEAM_MAX_CHARS",
    "check_length",
]

COMMENT_MAX_CHARS = 2000  # a comment on a call, and an agent's answer to an evaluation
FORM_NAME_MAX_CHARS = 200
SECTION_TITLE_MAX_CHARS = 200
QUESTION_MAX_CHARS = 500
SAVED_SEARCH_NAME_MAX_CHARS = 200
SPEAKER_NAME_MAX_CHARS = 100
TEAM_MAX_CHARS = 100  # the name of an agents' team


def check_length(what: str, text: str, limit: int) -> None:
    """Refuse ``text`` longer than ``limit`` characters; ``what`` names it in the message."""
    if len(text) > limit:
        raise InvalidValue(f"{what} is {len(text):,} characters long; at most {limit:,} are allowed")
