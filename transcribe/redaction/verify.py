"""Verified redaction: each covered stretch of the redacted audio is transcribed again, and a
span passes only if nothing of what it replaced is heard there any more.

A tone covers what the word times say was said; when ASR placed a word late or dropped one
("four five one nine ..." heard as "four 5 1"), the number can still be audible just outside a
covered stretch. So each stretch is heard with a second of audio either side, and a span fails
when a run of its characters (four, or all of a shorter one such as a security code) comes back.
A span whose words say no digit (an answer to a request for payment data that ASR misheard,
``transcribe.redaction.answers``) has no known digits to look for: it also fails when any run
of digits that long (three for a security code) is heard in its stretch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from faster_whisper import WhisperModel  # type: ignore[import-untyped]

from transcribe.asr import recognize
from transcribe.redaction.entities import EntityType
from transcribe.redaction.spoken import code_runs
from transcribe.redaction.stage import RedactedSpan
from transcribe.repeats import collapse_repeats
from transcribe.types import SAMPLE_RATE, TranscribeOptions, no_progress

LISTEN_AROUND_S = 1.0
LEAK_CHARACTERS = 4  # a card's group of four, a year; fewer is what any sentence has


@dataclass(frozen=True, slots=True)
class SpanCheck:
    """What re-transcribing one redacted span heard: ``leaked`` is the characters of the
    entity still heard (empty when verified)."""

    entity: EntityType
    start: float
    end: float
    heard_again: str
    leaked: str

    @property
    def verified(self) -> bool:
        return not self.leaked


def verify_redaction(
    model: WhisperModel,
    covered: np.ndarray,
    spans: Sequence[RedactedSpan],
    options: TranscribeOptions,
    languages: Sequence[str] = ("en", "nl"),
) -> tuple[SpanCheck, ...]:
    """Check each span of ``covered`` (channels, frames at 16 kHz, as the redacted copy holds it)."""
    # Strict listening: no VAD, which would drop the quiet remains of a digit next to a tone.
    listening = replace(options, vad_filter=False, hotwords=None)
    checks = []
    for span in spans:
        first = max(0, int((span.start - LISTEN_AROUND_S) * SAMPLE_RATE))
        last = min(covered.shape[1], int((span.end + LISTEN_AROUND_S) * SAMPLE_RATE))
        said_again = " ".join(_heard(model, channel[first:last], listening) for channel in covered)
        secret = _characters(span.heard, languages)
        heard_again = _characters(said_again.split(), languages)
        leaked = _leak(secret, heard_again) or (
            "" if _digits(secret) else _digits_heard(span.entity, heard_again)
        )
        checks.append(SpanCheck(span.entity, span.start, span.end, said_again, leaked))
    return tuple(checks)


def _heard(model: WhisperModel, samples: np.ndarray, options: TranscribeOptions) -> str:
    _, segments = recognize(model, np.ascontiguousarray(samples), options, no_progress)
    return " ".join(word.text.strip() for segment in collapse_repeats(segments) for word in segment.words)


def _characters(words: Sequence[str], languages: Sequence[str]) -> str:
    return "".join(run.chars for run in code_runs(list(enumerate(words)), languages))


def _digits(characters: str) -> str:
    return "".join(c for c in characters if c.isdigit())


def _digits_heard(entity: EntityType, heard: str) -> str:
    """The longest run of digits in ``heard`` that could be part of an unknown ``entity``, else ""."""
    least = 3 if entity == "CVC" else LEAK_CHARACTERS
    longest = max(re.findall(r"\d+", heard), key=len, default="")
    return longest if len(longest) >= least else ""


def _leak(secret: str, heard: str) -> str:
    """The longest stretch of ``secret`` (at least LEAK_CHARACTERS long, or all of a shorter
    secret) that ``heard`` contains, else ""."""
    least = min(LEAK_CHARACTERS, len(secret))
    if least == 0:
        return ""
    for length in range(len(secret), least - 1, -1):
        for start in range(len(secret) - length + 1):
            if secret[start : start + length] in heard:
                return secret[start : start + length]
    return ""
