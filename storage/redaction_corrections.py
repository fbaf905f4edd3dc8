"""A reviewer's corrections to what redaction found: mark a missed span (a range of words) or
unmark a false finding. Either way the transcript's words, the search index (through the
utterance triggers) and the redacted audio copy are made again from the one list of spans, so
they cannot disagree. Marked spans are not re-verified (no model runs here): a reviewer who
marks a span has listened to it, and its stretch is covered as the detected ones are.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storage.blobs import BlobStore, put_bytes
from storage.db import Database, session_scope
from storage.errors import InvalidValue, NotFound
from storage.models import RedactedSpan, Transcript, Utterance, Word
from storage.services import (
    StoredRedaction,
    recording_audio_path,
    redacted_span_row,
    redacted_spans,
    unredacted_transcript,
)
from transcribe.audio import decode
from transcribe.redaction.audio import redacted_samples, wav_bytes
from transcribe.redaction.entities import ENTITY_TYPES, EntityType
from transcribe.redaction.stage import RedactedSpan as SpanOfWords
from transcribe.redaction.stage import WordAt, redact_marked, span_of
from transcribe.types import Transcript as HeardTranscript

__all__ = ["mark_span", "unmark_span"]


def mark_span(
    db: Database, blobs: BlobStore, recording_id: int, entity: str, first: WordAt, last: WordAt
) -> None:
    """Redact the words ``first`` to ``last`` (in transcript order, one speaker's or not) as ``entity``."""
    if entity not in ENTITY_TYPES:
        raise InvalidValue(f"redaction type {entity!r} is not one of {', '.join(ENTITY_TYPES)}")
    heard = unredacted_transcript(db, recording_id)
    words = _word_range(heard, first, last)
    current = [_span(stored) for stored in redacted_spans(db, recording_id)]
    taken = {at for span in current for at in span.words}
    if set(words) <= taken:
        raise InvalidValue("those words are redacted already")
    marked: EntityType = entity  # type: ignore[assignment]
    _store(db, blobs, recording_id, heard, [*current, span_of(heard, marked, words)])


def unmark_span(db: Database, blobs: BlobStore, recording_id: int, index: int) -> StoredRedaction:
    """Show again the words of span ``index`` (as ``redacted_spans`` lists them): a false finding."""
    stored = redacted_spans(db, recording_id)
    if not 0 <= index < len(stored):
        raise NotFound(f"call {recording_id} has no redacted span {index + 1} (it has {len(stored)})")
    heard = unredacted_transcript(db, recording_id)
    _store(db, blobs, recording_id, heard, [_span(s) for i, s in enumerate(stored) if i != index])
    return stored[index]


def _word_range(heard: HeardTranscript, first: WordAt, last: WordAt) -> tuple[WordAt, ...]:
    places = [
        WordAt(u, w) for u, utterance in enumerate(heard.utterances) for w in range(len(utterance.words))
    ]
    if first not in places or last not in places:
        raise InvalidValue(f"the call has no word {first if first not in places else last}")
    start, end = places.index(first), places.index(last)
    if end < start:
        raise InvalidValue("the range ends before it starts")
    return tuple(places[start : end + 1])


def _span(stored: StoredRedaction) -> SpanOfWords:
    return SpanOfWords(
        stored.entity,  # type: ignore[arg-type]
        stored.speaker,
        stored.start,
        stored.end,
        tuple(WordAt(u, w) for u, w in stored.words),
        stored.heard,
    )


def _store(
    db: Database,
    blobs: BlobStore,
    recording_id: int,
    heard: HeardTranscript,
    spans: Sequence[SpanOfWords],
) -> None:
    """Words, spans and audio copy from ``spans`` in one transaction; the new audio is stored
    first (content-addressed: an unused copy is harmless, a row naming a missing one is not).
    A span stored before keeps its source and verification; a new one is the reviewer's."""
    kept = redact_marked(heard, spans)
    audio = _rendered_audio(db, blobs, recording_id, spans)
    with session_scope(db) as session:
        transcript = session.scalar(select(Transcript).where(Transcript.recording_id == recording_id))
        if transcript is None:
            raise NotFound(f"recording {recording_id} has no transcript yet")
        old = session.scalars(select(RedactedSpan).where(RedactedSpan.transcript_id == transcript.id)).all()
        before = {_key(row.words): (row.source, row.verified) for row in old}
        for row in old:
            session.delete(row)
        for span in spans:
            words = [[at.utterance, at.word] for at in span.words]
            source, verified = before.get(_key(words), ("reviewer", None))
            session.add(redacted_span_row(transcript.id, span, source, verified))
        utterances = session.scalars(
            select(Utterance).where(Utterance.transcript_id == transcript.id).order_by(Utterance.seq)
        ).all()
        for utterance_row, utterance in zip(utterances, kept.utterances, strict=True):
            if utterance_row.text != utterance.text:
                utterance_row.text = utterance.text  # the index follows through the utterance triggers
            word_rows = session.scalars(
                select(Word).where(Word.utterance_id == utterance_row.id).order_by(Word.seq)
            ).all()
            for word_row, word in zip(word_rows, utterance.words, strict=True):
                word_row.text, word_row.entity = word.text, word.entity
        transcript.redacted_audio_sha256 = audio


def _key(words: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(pair) for pair in words)


def _rendered_audio(
    db: Database, blobs: BlobStore, recording_id: int, spans: Sequence[SpanOfWords]
) -> str | None:
    if not spans:
        return None
    original = decode(recording_audio_path(db, recording_id, blobs))
    covered = redacted_samples(original.samples, [(span.start, span.end) for span in spans])
    return put_bytes(blobs, wav_bytes(covered)).sha256
