"""What the command line, the worker and the review app call. No ORM object leaves this module:
callers get frozen dataclasses, so no page or worker can lazy-load or write by accident.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, delete, func, insert, select
from sqlalchemy.orm import Session

from recorder.threads import IdentityRef
from recorder.types import CallMetadata, IngestError
from recorder.types import Recording as IncomingRecording
from storage.blobs import BlobStore, StoredBlob
from storage.customers import link_thread_customer, normalize_identities
from storage.db import Database, read_scope, session_scope
from storage.errors import AmbiguousReference, InvalidValue, NotFound, StorageError
from storage.jobs import ENROL_VOICE, TRANSCRIBE, enqueue
from storage.limits import SPEAKER_NAME_MAX_CHARS, check_length
from storage.models import (
    Agent,
    Customer,
    Identity,
    Job,
    NonSpeechSpan,
    Recording,
    RedactedSpan,
    Speaker,
    SpeakerTurn,
    Thread,
    Transcript,
    Utterance,
    Word,
    as_utc,
)
from storage.outside_text import clean, storable_metadata
from transcribe import types as t
from transcribe.formats import options_from_json, options_to_json
from transcribe.redaction.stage import RedactedSpan as RedactedWords

_as_utc = as_utc  # the name the other storage modules import from here
_MIN_SHA_PREFIX = 8
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class IngestResult:
    recording_id: int
    job_id: int | None  # None when the recording was already stored, or holds no audio to transcribe
    created: bool
    warnings: tuple[str, ...] = ()  # metadata that was skipped, e.g. an invalid phone number


@dataclass(frozen=True)
class RecordingSummary:
    id: int
    sha256: str
    original_name: str
    duration: float
    channels: int
    started_at: datetime | None
    customer: str | None  # the customer's name, else their first identity
    agent: str | None
    job_status: str | None  # of the newest job
    transcribed: bool
    utterance_count: int


def ingest_recording(
    db: Database, recording: IncomingRecording, blobs: BlobStore, default_region: str, max_attempts: int = 3
) -> IngestResult:
    """Store a call and queue its transcription; ingesting the same bytes again changes nothing. A
    recording with no audio (a header only) is stored as a call with nothing to transcribe."""
    metadata, warnings = storable_metadata(recording.metadata, recording.path.name)
    recording = dataclasses.replace(recording, metadata=metadata)
    with read_scope(db) as session:
        existing = _recording_id_by_sha(session, recording.sha256)
        if existing is None:
            _refuse_a_taken_call_id(session, recording)  # before the blob: a refused call leaves no audio
    if existing is not None:
        return IngestResult(recording_id=existing, job_id=None, created=False)
    # The blob is written before the transaction, so a recording row always has its audio.
    stored = blobs.put(recording.path)
    try:
        return _store_call(db, recording, stored, default_region, max_attempts, warnings)
    except BaseException:
        if stored.created:
            _discard_unclaimed(db, blobs, stored.sha256)
        raise


def _store_call(
    db: Database,
    recording: IncomingRecording,
    stored: StoredBlob,
    default_region: str,
    max_attempts: int,
    warnings: list[str],
) -> IngestResult:
    if stored.sha256 != recording.sha256:
        raise IngestError(f"{recording.path}: the file changed while it was being ingested; ingest it again")
    identities, identity_warnings = normalize_identities(
        _identity_refs(recording.metadata), default_region, recording.path.name
    )
    warnings = [*warnings, *identity_warnings]
    with session_scope(db) as session:
        existing = _recording_id_by_sha(session, recording.sha256)  # another process may have won the race
        if existing is not None:
            return IngestResult(recording_id=existing, job_id=None, created=False)
        thread = _create_call_thread(session, recording)
        warnings += link_thread_customer(
            session, thread, identities, recording.metadata.customer_name, recording.path.name
        )
        row = Recording(
            thread_id=thread.id,
            sha256=recording.sha256,
            original_name=clean(recording.path.name),  # a file name may hold a newline, or worse
            format=recording.audio.format,
            size_bytes=recording.size_bytes,
            duration=recording.audio.duration,
            sample_rate=recording.audio.sample_rate,
            channels=recording.audio.channels,
            channel_roles=list(recording.metadata.channel_roles)
            if recording.metadata.channel_roles is not None
            else None,
            caller=recording.metadata.caller,
            callee=recording.metadata.callee,
        )
        session.add(row)
        session.flush()
        if recording.audio.duration <= 0:  # a header without audio: the call is kept, as one not answered
            warnings.append(
                "no audio in the recording (a call nobody answered?): stored with nothing to transcribe"
            )
            return IngestResult(recording_id=row.id, job_id=None, created=True, warnings=tuple(warnings))
        job_id = enqueue(session, row.id, max_attempts=max_attempts)
        return IngestResult(recording_id=row.id, job_id=job_id, created=True, warnings=tuple(warnings))


def _discard_unclaimed(db: Database, blobs: BlobStore, sha256: str) -> None:
    """The call was not stored (a full disk, a lock), so its audio, a customer's voice, must not stay
    behind; unless a concurrent ingest of the same bytes has committed a recording for it meanwhile.
    If even that cannot be read, the audio is kept: losing evidence is worse than a stray file.
    (An ingest of the same bytes still inside its transaction is not seen: a window of milliseconds.)"""
    with suppress(StorageError, OSError), read_scope(db) as session:
        if _recording_id_by_sha(session, sha256) is None:
            blobs.delete(sha256)


def _recording_id_by_sha(session: Session, sha256: str) -> int | None:
    return session.scalar(select(Recording.id).where(Recording.sha256 == sha256))


def _identity_refs(metadata: CallMetadata) -> list[IdentityRef]:
    """The caller's identities, in the order they are trusted to find the customer."""
    candidates = (
        ("phone", metadata.customer_phone),
        ("email", metadata.customer_email),
        ("customer_number", metadata.customer_number),
    )
    return [IdentityRef(kind, raw) for kind, raw in candidates if raw is not None]  # type: ignore[arg-type]


def _find_or_create_agent(session: Session, name: str | None) -> int | None:
    if name is None or not name.strip():
        return None
    name = name.strip()
    agent_id = session.scalar(select(Agent.id).where(Agent.name == name))
    if agent_id is not None:
        return agent_id
    agent = Agent(name=name)
    session.add(agent)
    session.flush()
    return agent.id


def _refuse_a_taken_call_id(session: Session, recording: IncomingRecording) -> None:
    provider_id = _call_id(recording)
    taken = session.execute(
        select(Recording.original_name)
        .join(Thread, Recording.thread_id == Thread.id)
        .where(Thread.channel == "call", Thread.provider == "earshot", Thread.provider_id == provider_id)
    ).scalar_one_or_none()
    if taken is not None:
        raise IngestError(
            f"{recording.path}: call id {provider_id!r} was already ingested from {taken!r}, a different file"
        )


def _call_id(recording: IncomingRecording) -> str:
    return recording.metadata.provider_id or recording.sha256


def _create_call_thread(session: Session, recording: IncomingRecording) -> Thread:
    metadata = recording.metadata
    _refuse_a_taken_call_id(session, recording)  # again: another process may have taken it meanwhile
    thread = Thread(
        agent_id=_find_or_create_agent(session, metadata.agent),
        channel="call",
        provider="earshot",
        provider_id=_call_id(recording),
        direction=metadata.direction,
        started_at=_as_utc(metadata.started_at),
        disposition=metadata.disposition,
    )
    session.add(thread)
    session.flush()
    return thread


def save_transcript(
    db: Database,
    recording_id: int,
    transcript: t.Transcript,
    redacted: Sequence[RedactedWords] = (),
    *,
    redacted_audio_sha256: str | None = None,
    verified: Sequence[bool] = (),
) -> int:
    """Store ``transcript`` as the recording's only transcript, replacing any earlier one whole.

    ``transcript`` is as kept (placeholders where redaction found something); ``redacted`` are the
    spans it replaced, with the words as heard, stored apart (``RedactedSpan``);
    ``redacted_audio_sha256`` the blob of the audio with those spans covered, and ``verified``
    (one per span, or none when not checked) whether nothing of a span was heard in it again."""
    if verified and len(verified) != len(redacted):
        raise ValueError(f"{len(verified)} verification results for {len(redacted)} redacted spans")
    labels = {speaker.label for speaker in transcript.speakers}
    named = {utterance.speaker for utterance in transcript.utterances}
    unknown = sorted((named | {turn.speaker for turn in transcript.turns}) - labels)
    if unknown:
        raise ValueError(
            f"transcript of recording {recording_id}: utterances or turns name unknown speakers {unknown}"
        )
    with session_scope(db) as session:
        _require_recording(session, recording_id)
        delete_transcript_rows(session, recording_id)
        row = Transcript(
            recording_id=recording_id,
            language=transcript.language,
            duration=transcript.duration,
            options=options_to_json(transcript.options),
            models=dict(transcript.models),
            redacted_audio_sha256=redacted_audio_sha256,
        )
        session.add(row)
        session.flush()
        speakers = [
            Speaker(
                transcript_id=row.id,
                label=s.label,
                role=s.role,
                channel=s.channel,
                display_name=s.display_name,
                role_source=s.role_source,
                agent_similarity=s.agent_similarity,
            )
            for s in transcript.speakers
        ]
        session.add_all(speakers)
        session.flush()
        speaker_ids = {s.label: s.id for s in speakers}
        if transcript.utterances:
            utterance_ids = session.scalars(
                insert(Utterance).returning(Utterance.id, sort_by_parameter_order=True),
                [
                    {
                        "transcript_id": row.id,
                        "speaker_id": speaker_ids[u.speaker],
                        "seq": seq,
                        "start": u.start,
                        "end": u.end,
                        "text": u.text,
                    }
                    for seq, u in enumerate(transcript.utterances)
                ],
            ).all()
            words = [
                {
                    "utterance_id": utterance_id,
                    "seq": seq,
                    "start": w.start,
                    "end": w.end,
                    "text": w.text,
                    "probability": w.probability,
                    "entity": w.entity,
                }
                for utterance_id, u in zip(utterance_ids, transcript.utterances, strict=True)
                for seq, w in enumerate(u.words)
            ]
            if words:
                session.execute(insert(Word), words)
        session.add_all(
            NonSpeechSpan(transcript_id=row.id, start=s.start, end=s.end, kind=s.kind, channel=s.channel)
            for s in transcript.non_speech
        )
        checks: Sequence[bool | None] = verified or [None] * len(redacted)
        session.add_all(
            redacted_span_row(row.id, span, "detected", check)
            for span, check in zip(redacted, checks, strict=True)
        )
        if transcript.turns:
            session.execute(
                insert(SpeakerTurn),
                [
                    {
                        "transcript_id": row.id,
                        "speaker_id": speaker_ids[turn.speaker],
                        "start": turn.start,
                        "end": turn.end,
                    }
                    for turn in transcript.turns
                ],
            )
        return row.id


def redacted_span_row(
    transcript_id: int, span: RedactedWords, source: str, verified: bool | None
) -> RedactedSpan:
    return RedactedSpan(
        transcript_id=transcript_id,
        entity=span.entity,
        speaker=span.speaker,
        start=span.start,
        end=span.end,
        words=[[at.utterance, at.word] for at in span.words],
        heard=list(span.heard),
        source=source,
        verified=verified,
    )


def delete_transcript_rows(session: Session, recording_id: int) -> None:
    """Delete child rows explicitly rather than through ON DELETE CASCADE, so row triggers (the search
    index) see every deletion on every backend."""
    transcript_id = session.scalar(select(Transcript.id).where(Transcript.recording_id == recording_id))
    if transcript_id is None:
        return
    utterance_ids = select(Utterance.id).where(Utterance.transcript_id == transcript_id)
    for statement in (
        delete(Word).where(Word.utterance_id.in_(utterance_ids)),
        delete(Utterance).where(Utterance.transcript_id == transcript_id),
        delete(SpeakerTurn).where(SpeakerTurn.transcript_id == transcript_id),
        delete(RedactedSpan).where(RedactedSpan.transcript_id == transcript_id),
        delete(Speaker).where(Speaker.transcript_id == transcript_id),
        delete(NonSpeechSpan).where(NonSpeechSpan.transcript_id == transcript_id),
        delete(Transcript).where(Transcript.id == transcript_id),
    ):
        # Plain SQL DELETEs: the session holds none of these rows to keep in step.
        session.execute(statement.execution_options(synchronize_session=False))


def unredacted_transcript(db: Database, recording_id: int) -> t.Transcript:
    """The stored transcript with the words redaction replaced as they were heard: only for the
    unredacted-access grant (``storage.guarded``)."""
    transcript = load_transcript(db, recording_id)
    heard: dict[tuple[int, int], str] = {}
    for span in redacted_spans(db, recording_id):
        heard.update(zip(((u, w) for u, w in span.words), span.heard, strict=True))
    if not heard:
        return transcript
    utterances = []
    for u, utterance in enumerate(transcript.utterances):
        words = tuple(
            dataclasses.replace(word, text=heard[(u, w)], entity=None) if (u, w) in heard else word
            for w, word in enumerate(utterance.words)
        )
        if words != utterance.words:
            utterance = dataclasses.replace(
                utterance, words=words, text=" ".join(word.text.strip() for word in words)
            )
        utterances.append(utterance)
    return dataclasses.replace(transcript, utterances=tuple(utterances))


@dataclass(frozen=True)
class StoredRedaction:
    """One redacted span of a stored call (``words`` are (utterance, word) positions)."""

    entity: str
    speaker: str
    start: float
    end: float
    words: tuple[tuple[int, int], ...]
    heard: tuple[str, ...]
    source: str
    verified: bool | None


def redacted_spans(db: Database, recording_id: int) -> list[StoredRedaction]:
    with read_scope(db) as session:
        rows = session.scalars(
            select(RedactedSpan)
            .join(Transcript, Transcript.id == RedactedSpan.transcript_id)
            .where(Transcript.recording_id == recording_id)
            .order_by(RedactedSpan.start, RedactedSpan.id)
        ).all()
        return [
            StoredRedaction(
                row.entity,
                row.speaker,
                row.start,
                row.end,
                tuple((u, w) for u, w in row.words),
                tuple(row.heard),
                row.source,
                row.verified,
            )
            for row in rows
        ]


def load_transcript(db: Database, recording_id: int) -> t.Transcript:
    """The stored transcript, with speaker roles as reviewers corrected them."""
    with read_scope(db) as session:
        row = session.scalar(select(Transcript).where(Transcript.recording_id == recording_id))
        if row is None:
            _require_recording(session, recording_id)
            raise NotFound(f"recording {recording_id} has no transcript yet")
        speakers = session.scalars(
            select(Speaker).where(Speaker.transcript_id == row.id).order_by(Speaker.id)
        ).all()
        label_of = {s.id: s.label for s in speakers}
        utterances = session.scalars(
            select(Utterance).where(Utterance.transcript_id == row.id).order_by(Utterance.seq)
        ).all()
        words_of: dict[int, list[t.Word]] = {u.id: [] for u in utterances}
        speaker_of = {u.id: label_of[u.speaker_id] for u in utterances}
        # Plain rows, not ORM objects: a one-hour call has ~10,000 words and the review page waits on this.
        for word in session.execute(
            select(Word.utterance_id, Word.start, Word.end, Word.text, Word.probability, Word.entity)
            .join(Utterance, Word.utterance_id == Utterance.id)
            .where(Utterance.transcript_id == row.id)
            .order_by(Word.utterance_id, Word.seq)
        ):
            words_of[word.utterance_id].append(
                t.Word(
                    start=word.start,
                    end=word.end,
                    text=word.text,
                    probability=word.probability,
                    speaker=speaker_of[word.utterance_id],
                    entity=word.entity,
                )
            )
        return t.Transcript(
            language=row.language,
            duration=row.duration,
            speakers=tuple(
                t.Speaker(
                    label=s.label,
                    role=s.role,  # type: ignore[arg-type]
                    channel=s.channel,
                    display_name=s.display_name,
                    role_source=s.role_source,  # type: ignore[arg-type]
                    agent_similarity=s.agent_similarity,
                )
                for s in speakers
            ),
            utterances=tuple(
                t.Utterance(
                    speaker=speaker_of[u.id],
                    start=u.start,
                    end=u.end,
                    text=u.text,
                    words=tuple(words_of[u.id]),
                )
                for u in utterances
            ),
            options=options_from_json(row.options),
            models=dict(row.models),
            non_speech=tuple(
                t.NonSpeechSpan(start=s.start, end=s.end, kind=s.kind, channel=s.channel)  # type: ignore[arg-type]
                for s in session.scalars(
                    select(NonSpeechSpan)
                    .where(NonSpeechSpan.transcript_id == row.id)
                    .order_by(NonSpeechSpan.start, NonSpeechSpan.id)
                )
            ),
            # Transcripts stored before turns were kept have none: their timeline comes from words.
            turns=tuple(
                t.SpeakerTurn(start=turn.start, end=turn.end, speaker=label_of[turn.speaker_id])
                for turn in session.execute(
                    select(SpeakerTurn.start, SpeakerTurn.end, SpeakerTurn.speaker_id)
                    .where(SpeakerTurn.transcript_id == row.id)
                    .order_by(SpeakerTurn.start, SpeakerTurn.id)
                )
            ),
        )


def find_recording(db: Database, ref: str) -> RecordingSummary:
    """A recording by id, SHA-256, SHA-256 prefix (at least 8 characters) or original file name."""
    ref = ref.strip()
    lookups: list[ColumnElement[bool]] = []
    if ref.isdigit():
        lookups.append(Recording.id == int(ref))
    if len(ref) >= _MIN_SHA_PREFIX and _HEX.fullmatch(ref.lower()):
        lookups.append(Recording.sha256.startswith(ref.lower(), autoescape=True))
    lookups.append(Recording.original_name == ref)
    with read_scope(db) as session:
        # The first kind of reference that matches wins, so an id is never mistaken for a hash prefix.
        for condition in lookups:
            found = _summaries(session, _summary_query().where(condition).limit(2))
            if len(found) == 1:
                return found[0]
            if found:
                ids = session.scalars(select(Recording.id).where(condition).order_by(Recording.id)).all()
                raise AmbiguousReference(
                    f"{ref!r} matches {len(ids)} recordings (ids {', '.join(map(str, ids))}); give the id"
                )
    raise NotFound(
        f"no recording matches {ref!r} (give an id, a SHA-256 or 8+ of its first characters, or a file name)"
    )


def list_recordings(db: Database, limit: int = 100) -> list[RecordingSummary]:
    """Newest calls first (by start time, else ingest time)."""
    with read_scope(db) as session:
        return _summaries(session, _summary_query().limit(limit))


def first_identity() -> ScalarSelect[Any]:
    """The customer's first identity (a phone number, an e-mail...), for a row of a query that
    joins ``Customer``: what names a customer who has no name."""
    return (
        select(Identity.value)
        .where(Identity.customer_id == Customer.id)
        .order_by(Identity.id)
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )


def _summary_query() -> Select[Any]:
    newest_job_status = (
        select(Job.status)
        .where(Job.recording_id == Recording.id, Job.stage == TRANSCRIBE)
        .order_by(Job.id.desc())
        .limit(1)
        .correlate(Recording)
        .scalar_subquery()
    )
    transcribed = (
        select(Transcript.id).where(Transcript.recording_id == Recording.id).correlate(Recording).exists()
    )
    utterance_count = (
        select(func.count(Utterance.id))
        .join(Transcript, Utterance.transcript_id == Transcript.id)
        .where(Transcript.recording_id == Recording.id)
        .correlate(Recording)
        .scalar_subquery()
    )
    return (
        select(
            Recording.id,
            Recording.sha256,
            Recording.original_name,
            Recording.duration,
            Recording.channels,
            Thread.started_at,
            func.coalesce(Customer.display_name, first_identity()).label("customer"),
            Agent.name.label("agent"),
            newest_job_status.label("job_status"),
            transcribed.label("transcribed"),
            utterance_count.label("utterance_count"),
        )
        .join(Thread, Recording.thread_id == Thread.id)
        .outerjoin(Customer, Thread.customer_id == Customer.id)
        .outerjoin(Agent, Thread.agent_id == Agent.id)
        .order_by(func.coalesce(Thread.started_at, Recording.ingested_at).desc(), Recording.id.desc())
    )


def _summaries(session: Session, query: Select[Any]) -> list[RecordingSummary]:
    return [
        RecordingSummary(
            id=row.id,
            sha256=row.sha256,
            original_name=row.original_name,
            duration=row.duration,
            channels=row.channels,
            started_at=_as_utc(row.started_at),
            customer=row.customer,
            agent=row.agent,
            job_status=row.job_status,
            transcribed=bool(row.transcribed),
            utterance_count=row.utterance_count,
        )
        for row in session.execute(query)
    ]


def set_speaker_role(
    db: Database, recording_id: int, label: str, role: t.Role | None, display_name: str | None = None
) -> None:
    """A reviewer's correction of who a voice is. Both fields are set as given (None clears them).
    When it changes which voice is the agent of a call that names its agent, the call's share in
    that agent's voiceprint is queued to be set again (``storage.agent_voices``)."""
    if role is not None and role not in t.ROLES:
        raise InvalidValue(f"speaker role {role!r} is not one of {', '.join(t.ROLES)}")
    if display_name is not None:
        check_length(f"the name of speaker {label}", display_name, SPEAKER_NAME_MAX_CHARS)
    with session_scope(db) as session:
        speakers = session.scalars(
            select(Speaker)
            .join(Transcript, Speaker.transcript_id == Transcript.id)
            .where(Transcript.recording_id == recording_id)
        ).all()
        if not speakers:
            _require_recording(session, recording_id)
            raise NotFound(f"recording {recording_id} has no transcript yet, so no speakers to correct")
        speaker = next((s for s in speakers if s.label == label), None)
        if speaker is None:
            known = ", ".join(sorted(s.label for s in speakers))
            raise NotFound(f"recording {recording_id} has no speaker {label!r} (it has {known})")
        if role != speaker.role:
            if "agent" in (role, speaker.role) and _names_an_agent(session, recording_id):
                enqueue(session, recording_id, stage=ENROL_VOICE)
            speaker.role = role
            speaker.role_source = "reviewer" if role is not None else None
        speaker.display_name = display_name


def _names_an_agent(session: Session, recording_id: int) -> bool:
    agent_id = session.scalar(
        select(Thread.agent_id)
        .join(Recording, Recording.thread_id == Thread.id)
        .where(Recording.id == recording_id)
    )
    return agent_id is not None


@dataclass(frozen=True)
class TranscriptionInput:
    """What a worker needs to transcribe one stored call."""

    audio_path: Path
    original_name: str
    channel_roles: tuple[t.Role, ...] | None  # None: the configured default map
    direction: str | None


def recording_audio_path(db: Database, recording_id: int, blobs: BlobStore) -> Path:
    """Where the original audio lies; callers must only read it."""
    return transcription_input(db, recording_id, blobs).audio_path


@dataclass(frozen=True)
class ServedAudio:
    """The audio everyone without the unredacted grant hears: the redacted copy, or the original
    when redaction found nothing in the call."""

    sha256: str
    path: Path
    redacted: bool
    # Re-transcribing the redacted copy still heard part of a redacted span: for review, and
    # until then for the unredacted grant only.
    flagged: bool


def served_audio(db: Database, recording_id: int, blobs: BlobStore) -> ServedAudio:
    with read_scope(db) as session:
        row = session.execute(
            select(Recording.sha256, Transcript.redacted_audio_sha256)
            .outerjoin(Transcript, Transcript.recording_id == Recording.id)
            .where(Recording.id == recording_id)
        ).one_or_none()
    if row is None:
        raise NotFound(f"no recording with id {recording_id}")
    sha256 = row.redacted_audio_sha256 or row.sha256
    path = _audio_file(blobs, recording_id, sha256)
    flagged = any(span.verified is False for span in redacted_spans(db, recording_id))
    return ServedAudio(sha256, path, redacted=row.redacted_audio_sha256 is not None, flagged=flagged)


def transcription_input(db: Database, recording_id: int, blobs: BlobStore) -> TranscriptionInput:
    with read_scope(db) as session:
        row = session.execute(
            select(
                Recording.sha256,
                Recording.original_name,
                Recording.channel_roles,
                Recording.audio_deleted_at,
                Thread.direction,
            )
            .join(Thread, Thread.id == Recording.thread_id)
            .where(Recording.id == recording_id)
        ).one_or_none()
    if row is None:
        raise NotFound(f"no recording with id {recording_id}")
    if row.audio_deleted_at is not None:
        raise NotFound(
            f"the audio of recording {recording_id} was deleted by a retention policy on "
            f"{as_utc(row.audio_deleted_at):%Y-%m-%d}; its transcript is kept"
        )
    path = _audio_file(blobs, recording_id, row.sha256)
    roles = tuple(row.channel_roles) if row.channel_roles is not None else None
    return TranscriptionInput(path, row.original_name, roles, row.direction)


def _audio_file(blobs: BlobStore, recording_id: int, sha256: str) -> Path:
    try:
        return blobs.local_path(sha256)
    except NotFound as error:
        raise NotFound(f"the audio of recording {recording_id} ({sha256}) is missing from {blobs}") from error


def _require_recording(session: Session, recording_id: int) -> None:
    if session.get(Recording, recording_id) is None:
        raise NotFound(f"no recording with id {recording_id}")
