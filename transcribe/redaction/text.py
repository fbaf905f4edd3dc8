"""Redaction of a chat or e-mail message: the same detection as a call's words, over the
message's own words, with each finding's stretch of text replaced by its placeholder."""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcribe.redaction.detect import SaidWord, find_entities
from transcribe.redaction.entities import EntityType, RedactionOptions, placeholder

_TOKEN = re.compile(r"\S+")
_TRAILING = ".,;:!?)\"'…"


@dataclass(frozen=True, slots=True)
class TextFinding:
    """Where in the original message an entity was (character offsets, end exclusive)."""

    entity: EntityType
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactedText:
    text: str
    findings: tuple[TextFinding, ...]


def redact_text(text: str, options: RedactionOptions) -> RedactedText:
    """``text`` with every enabled entity replaced by ``[TYPE]``; the punctuation after the last
    word of a finding is kept, so sentences still read."""
    tokens = list(_TOKEN.finditer(text))
    findings = find_entities([SaidWord(token.group(), "message") for token in tokens], options)
    spans = [
        TextFinding(
            finding.entity,
            tokens[finding.words[0]].start(),
            tokens[finding.words[-1]].start() + len(tokens[finding.words[-1]].group().rstrip(_TRAILING)),
        )
        for finding in findings
    ]
    redacted = text
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        redacted = redacted[: span.start] + placeholder(span.entity) + redacted[span.end :]
    return RedactedText(redacted, tuple(spans))
