"""Redaction as the last stage of a call: the transcript as heard in, the transcript as kept out.

Each redacted word keeps its timing (the player, the audio redaction and the verification need
it) and gets the placeholder of its type as text and the type in ``Word.entity``; an utterance's
text says each finding once ("my card is [CARD]"). The heard transcript is not changed: the
caller decides where its words go (``RedactedSpan.heard`` is the only copy of what was said).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from transcribe.redaction.answers import DEFAULT_COVER, AnswerCoverParams, answers
from transcribe.redaction.detect import SaidWord, find_entities
from transcribe.redaction.entities import EntityType, Finding, RedactionOptions, placeholder
from transcribe.redaction.spoken import code_runs
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


@dataclass(frozen=True, slots=True)
class SecondHearing:
    """An utterance decoded again on its own (``transcribe.redaction.rehear``): its words, in call time."""

    utterance: int
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Redaction:
    transcript: Transcript  # as kept: placeholders where findings were
    spans: tuple[RedactedSpan, ...]


def redact_transcript(
    heard: Transcript,
    again: Sequence[SecondHearing] = (),
    cover: AnswerCoverParams = DEFAULT_COVER,
) -> Redaction:
    """Find every entity the call's options redact in its words, in time order across utterances
    (a number read out spans Whisper segments), and replace its words. ``again``: second hearings
    of some utterances; what is found in the call as they have it covers the words of ``heard``
    said in the same time by the same speaker. ``cover``: which answers to a request for payment
    data are covered whatever was heard in them (``transcribe.redaction.answers``)."""
    options = RedactionOptions(
        entities=frozenset(heard.options.redact), phone_regions=heard.options.phone_regions
    )
    places = sorted(
        (WordAt(u, w) for u, utterance in enumerate(heard.utterances) for w in range(len(utterance.words))),
        key=lambda at: (heard.utterances[at.utterance].words[at.word].start, at.utterance, at.word),
    )
    said = [SaidWord(_word(heard, at).text, heard.utterances[at.utterance].speaker) for at in places]
    options = replace(options, languages=(heard.language, *options.languages))
    findings = find_entities(said, options)
    spans = [_span(heard, [places[i] for i in finding.words], finding) for finding in findings]
    if again:
        spans += _found_again(heard, places, again, options, spans)
    spans += _covered_answers(heard, cover, spans, again)
    spans.sort(key=lambda span: (span.start, span.end, span.speaker))
    return Redaction(replace(heard, utterances=_redacted_utterances(heard.utterances, spans)), tuple(spans))


def _found_again(
    heard: Transcript,
    places: Sequence[WordAt],
    again: Sequence[SecondHearing],
    options: RedactionOptions,
    found: Sequence[RedactedSpan],
) -> list[RedactedSpan]:
    """Spans of ``heard`` for what the call says with ``again``'s utterances heard the second way."""
    reheard = {hearing.utterance for hearing in again}
    # (speaker, word, heard again) in time order: the call with the second hearings in place.
    call = [
        (heard.utterances[at.utterance].speaker, _word(heard, at), False)
        for at in places
        if at.utterance not in reheard
    ]
    call += [(heard.utterances[h.utterance].speaker, word, True) for h in again for word in h.words]
    call.sort(key=lambda said: said[1].start)
    covered = {at for span in found for at in span.words}
    spans = []
    for finding in find_entities([SaidWord(word.text, speaker) for speaker, word, _ in call], options):
        if not any(call[i][2] for i in finding.words):
            continue  # the first hearing had every word of it
        speaker = call[finding.words[0]][0]
        start = min(call[i][1].start for i in finding.words)
        end = max(call[i][1].end for i in finding.words)
        own = [at for at in places if heard.utterances[at.utterance].speaker == speaker]
        inside = [n for n, at in enumerate(own) if _overlaps(_word(heard, at), start, end)]
        if not inside:
            continue
        # The hearings time words a little differently: a number word just outside, in the same
        # utterance, is the number's.
        first, last = inside[0], inside[-1]
        while first > 0 and _same_utterance_code(heard, own[first - 1], own[first], options):
            first -= 1
        while last + 1 < len(own) and _same_utterance_code(heard, own[last + 1], own[last], options):
            last += 1
        words = [at for at in own[first : last + 1] if at not in covered]
        if words:
            spans.append(_span(heard, words, finding))
            covered.update(words)
    return spans


def _covered_answers(
    heard: Transcript, cover: AnswerCoverParams, found: Sequence[RedactedSpan], again: Sequence[SecondHearing]
) -> list[RedactedSpan]:
    """A span for each answer to a request whose data no finding covers: the answer's words not
    yet in a span, and its whole stretch (what ASR dropped or misheard in it is still audio).
    A request is heard in either hearing of its utterance."""
    covered = {at for span in found for at in span.words}
    spans = []
    heard_again = {hearing.utterance: " ".join(word.text for word in hearing.words) for hearing in again}
    for answer in answers(heard, cover, heard_again):
        words = [WordAt(u, w) for u, w in answer.words]
        if any(span.entity == answer.entity and not covered.isdisjoint(words) for span in found):
            continue
        words = [at for at in words if at not in covered]
        if not words:
            continue
        span = _span(heard, words, Finding(answer.entity, ()))
        spans.append(replace(span, start=min(span.start, answer.start), end=max(span.end, answer.end)))
        covered.update(words)
    return spans


def _overlaps(word: Word, start: float, end: float) -> bool:
    return word.start < end and word.end > start


def _same_utterance_code(
    heard: Transcript, word: WordAt, neighbour: WordAt, options: RedactionOptions
) -> bool:
    """Whether ``word`` says a digit or code letter in ``neighbour``'s utterance."""
    said = _word(heard, word).text
    return word.utterance == neighbour.utterance and bool(code_runs([(0, said)], options.languages))


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
