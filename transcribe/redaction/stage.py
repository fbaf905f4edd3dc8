"""Redaction as the last stage of a call: the transcript as heard in, the transcript as kept out.

Each redacted word keeps its timing (the player, the audio redaction and the verification need
it) and gets the placeholder of its type as text and the type in ``Word.entity``; an utterance's
text says each finding once ("my card is [CARD]"). The heard transcript is not changed: the
caller decides where its words go (``RedactedSpan.heard`` is the only copy of what was said).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from transcribe.redaction.detect import SaidWord, find_entities
from transcribe.redaction.entities import EntityType, Finding, RedactionOptions, placeholder
from transcribe.types import Transcript, Utterance, Word


@dataclass(frozen=True, slots=True)
class WordAt:
    """Where a word is in a transcript: utterance and word positions."""

    utterance: int
    word: int


@dataclass(frozen=True, slots=True)
class RedactedSpan:
    """One finding in a call: its type, who said it and when, and the words as they were heard."""

    entity: EntityType
    speaker: str
    start: float
    end: float
    words: tuple[WordAt, ...]
    heard: tuple[str, ...]


@dataclass(frozen=True)
class Redaction:
    transcript: Transcript  # as kept: placeholders where findings were
    spans: tuple[RedactedSpan, ...]


def redact_transcript(heard: Transcript) -> Redaction:
    """Find every entity the call's options redact in its words, in time order across utterances
    (a number read out spans Whisper segments), and replace its words."""
    options = RedactionOptions(
        entities=frozenset(heard.options.redact), phone_regions=heard.options.phone_regions
    )
    places = sorted(
        (WordAt(u, w) for u, utterance in enumerate(heard.utterances) for w in range(len(utterance.words))),
        key=lambda at: (heard.utterances[at.utterance].words[at.word].start, at.utterance, at.word),
    )
    said = [SaidWord(_word(heard, at).text, heard.utterances[at.utterance].speaker) for at in places]
    languages = (heard.language, *options.languages)
    findings = find_entities(said, replace(options, languages=languages))
    spans = tuple(_span(heard, [places[i] for i in finding.words], finding) for finding in findings)
    return Redaction(replace(heard, utterances=_redacted_utterances(heard.utterances, spans)), spans)


def redact_marked(heard: Transcript, spans: Sequence[RedactedSpan]) -> Transcript:
    """The heard transcript with exactly ``spans`` redacted: what a reviewer's corrections (a
    missed span marked, a false finding unmarked) re-render from."""
    return replace(heard, utterances=_redacted_utterances(heard.utterances, spans))


def span_of(heard: Transcript, entity: EntityType, words: Sequence[WordAt]) -> RedactedSpan:
    """A span of ``heard`` that a reviewer marked by its words."""
    return _span(heard, sorted(words, key=lambda at: (at.utterance, at.word)), Finding(entity, ()))


def _word(transcript: Transcript, at: WordAt) -> Word:
    return transcript.utterances[at.utterance].words[at.word]


def _span(heard: Transcript, words: Sequence[WordAt], finding: Finding) -> RedactedSpan:
    said = [_word(heard, at) for at in words]
    return RedactedSpan(
        entity=finding.entity,
        speaker=heard.utterances[words[0].utterance].speaker,
        start=min(word.start for word in said),
        end=max(word.end for word in said),
        words=tuple(words),
        heard=tuple(word.text for word in said),
    )


def _redacted_utterances(
    utterances: Sequence[Utterance], spans: Sequence[RedactedSpan]
) -> tuple[Utterance, ...]:
    entity_at = {at: (n, span.entity) for n, span in enumerate(spans) for at in span.words}
    out: list[Utterance] = []
    for u, utterance in enumerate(utterances):
        marks = [entity_at.get(WordAt(u, w)) for w in range(len(utterance.words))]
        if not any(marks):
            out.append(utterance)
            continue
        words = tuple(
            word if mark is None else replace(word, text=placeholder(mark[1]), entity=mark[1])
            for word, mark in zip(utterance.words, marks, strict=True)
        )
        # One placeholder per finding in the text; a finding's words in this utterance are adjacent.
        text = " ".join(
            word.text.strip()
            for w, (word, mark) in enumerate(zip(words, marks, strict=True))
            if mark is None or w == 0 or marks[w - 1] != mark
        )
        out.append(replace(utterance, words=words, text=text))
    return tuple(out)
