"""SQLAlchemy 2 typed models: one customer, many identities and threads; calls carry transcripts.

Shaped after Chatwoot's contact/inbox/conversation/message model: a ``Thread`` is one
conversation on one channel (a phone call is a thread with one ``Recording``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, overload

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.limits import TEAM_MAX_CHARS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """Everything is stored in UTC: SQLite drops the zone when storing and returns naive datetimes."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    identities: Mapped[list[Identity]] = relationship(back_populates="customer")
    threads: Mapped[list[Thread]] = relationship(back_populates="customer")


class Identity(Base):
    """A way to recognise a customer: phone (E.164), e-mail (lower-cased), chat handle, customer number."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # phone | email | chat_handle | customer_number
    value: Mapped[str] = mapped_column(String(320))  # normalized
    raw_value: Mapped[str] = mapped_column(String(320))  # as first seen
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # name or PBX extension as given
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # The team an admin put the agent in (``storage.teams``): a name, not a table of its own, since a
    # team has nothing else to it yet. Indexed: the team view and the call list filter on it.
    team: Mapped[str | None] = mapped_column(String(TEAM_MAX_CHARS), index=True)


class AgentVoiceprint(Base):
    """An agent's voice (``storage.agent_voices``): the mean of the CAM++ embeddings of their speech,
    weighted by seconds, over the calls it was enrolled from. Personal data: it goes with the agent
    (ON DELETE CASCADE) and with an admin's removal."""

    __tablename__ = "agent_voiceprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), unique=True)
    # 192 floats: the seconds-weighted mean of its calls' L2-normalised vectors (``VoiceprintCall``),
    # made again from them whenever a call's share changes or goes.
    vector: Mapped[list[float]] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    calls: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class VoiceprintCall(Base):
    """What one call gave an agent's voiceprint, kept so that enrolling the call again (a retried
    job, a reviewer's correction) replaces its share instead of counting it twice."""

    __tablename__ = "voiceprint_calls"
    __table_args__ = (UniqueConstraint("voiceprint_id", "recording_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voiceprint_id: Mapped[int] = mapped_column(ForeignKey("agent_voiceprints.id", ondelete="CASCADE"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    vector: Mapped[list[float]] = mapped_column(JSON)  # L2-normalised
    seconds: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # channel | reviewer | admin
    enrolled_at: Mapped[datetime] = mapped_column(default=utc_now)


class Thread(Base):
    """One conversation on one channel. ``(channel, provider, provider_account, provider_id)`` makes
    re-import idempotent: many tools number conversations per account, so the id alone is not the key.
    ``provider_account`` is "" where the tool's ids are unique across accounts, or (before 0008, or
    from an export that does not name its account) where the account is not known."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("channel", "provider", "provider_account", "provider_id"),
        # The figures (``storage.channel_figures``) read a period's conversations from this index alone.
        Index("ix_threads_started_at_channel_agent", "started_at", "channel", "agent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))  # call | chat | email | whatsapp | sms | ...
    provider: Mapped[str] = mapped_column(String(64))  # e.g. "earshot" (sha256), "asterisk", "chatwoot"
    provider_id: Mapped[str] = mapped_column(String(255))
    provider_account: Mapped[str] = mapped_column(String(255), default="", server_default="")
    subject: Mapped[str | None] = mapped_column(String(500))
    direction: Mapped[str | None] = mapped_column(String(16))  # inbound | outbound | internal
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # A call's end as the phone system tells it: answered | no_answer | busy | failed | abandoned;
    # None where it did not say (a sidecar, a chat). Missed inbound calls are owed a callback.
    disposition: Mapped[str | None] = mapped_column(String(16))

    customer: Mapped[Customer | None] = relationship(back_populates="threads")
    agent: Mapped[Agent | None] = relationship()
    recording: Mapped[Recording | None] = relationship(back_populates="thread")
    messages: Mapped[list[Message]] = relationship(back_populates="thread", order_by="Message.sent_at")


class Message(Base):
    """A chat or e-mail message inside a thread: ``body`` is what it says new, ``quoted`` the earlier
    mail it quotes (shown collapsed and searched too), kept where the thread does not hold it already."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("thread_id", "provider_message_id"),
        # A conversation's first and last message each way, read by the figures as index seeks.
        Index("ix_messages_thread_direction_sent", "thread_id", "direction", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    provider_message_id: Mapped[str] = mapped_column(String(500))
    direction: Mapped[str] = mapped_column(String(16))  # inbound | outbound
    author: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(Text)
    quoted: Mapped[str | None] = mapped_column(Text)

    thread: Mapped[Thread] = relationship(back_populates="messages")


class Recording(Base):
    """The audio of one call. Originals are stored content-addressed by ``sha256`` and never altered."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float] = mapped_column(Float, index=True)  # the call list sorts and filters on it
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    channel_roles: Mapped[list[str] | None] = mapped_column(JSON)
    caller: Mapped[str | None] = mapped_column(String(64))
    callee: Mapped[str | None] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Set when a retention policy removed the audio and kept the transcript (``storage.deletion``):
    # the row no longer has a file, and everything that plays or transcribes it must say so.
    audio_deleted_at: Mapped[datetime | None] = mapped_column()

    thread: Mapped[Thread] = relationship(back_populates="recording")
    transcript: Mapped[Transcript | None] = relationship(
        back_populates="recording", cascade="all, delete-orphan"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="recording", cascade="all, delete-orphan")


class CallAssignment(Base):
    """A call given to a coach to review (``storage.assignments``): at most one coach a call, and
    "next call to review" offers a coach their own first and leaves other coaches' alone."""

    __tablename__ = "call_assignments"

    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    coach_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the command line
    assigned_at: Mapped[datetime] = mapped_column(default=utc_now)


class FollowUp(Base):
    """The next step after a conversation (``storage.followups``): what, for whom (an account, or a
    PBX agent who has none), due when, and when and by whom it was done. Goes with its conversation."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint("(for_user_id IS NULL) <> (for_agent_id IS NULL)", name="one_assignee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(Text)
    for_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    for_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the command line
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    done_at: Mapped[datetime | None] = mapped_column()
    done_by: Mapped[str | None] = mapped_column(String(320))  # a username, or "(command line)"


class Transcript(Base):
    """The current transcript of a recording; re-transcribing replaces it whole."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    duration: Mapped[float] = mapped_column(Float)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    models: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # The call's audio with every redacted span covered (a blob, content-addressed like the
    # original); None when nothing was redacted.
    redacted_audio_sha256: Mapped[str | None] = mapped_column(String(64))

    recording: Mapped[Recording] = relationship(back_populates="transcript")
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="Speaker.label"
    )
    utterances: Mapped[list[Utterance]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="Utterance.seq"
    )
    non_speech_spans: Mapped[list[NonSpeechSpan]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="NonSpeechSpan.start"
    )
    speaker_turns: Mapped[list[SpeakerTurn]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="SpeakerTurn.start"
    )


class Speaker(Base):
    """A voice in one transcript. Reviewers may correct ``role`` and ``display_name``."""

    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("transcript_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))  # agent | customer | ivr | other
    display_name: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[int | None] = mapped_column(Integer)
    role_source: Mapped[str | None] = mapped_column(String(16))  # channel | voice | first_speaker | reviewer
    agent_similarity: Mapped[float | None] = mapped_column(Float)  # to the call's agent's voiceprint

    transcript: Mapped[Transcript] = relationship(back_populates="speakers")


class Utterance(Base):
    __tablename__ = "utterances"
    __table_args__ = (Index("ix_utterances_transcript_start", "transcript_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)

    transcript: Mapped[Transcript] = relationship(back_populates="utterances")
    speaker: Mapped[Speaker] = relationship()
    words: Mapped[list[Word]] = relationship(
        back_populates="utterance", cascade="all, delete-orphan", order_by="Word.seq"
    )


class Word(Base):
    __tablename__ = "words"

    id: Mapped[int] = mapped_column(primary_key=True)
    utterance_id: Mapped[int] = mapped_column(ForeignKey("utterances.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(String(200))
    probability: Mapped[float] = mapped_column(Float)
    entity: Mapped[str | None] = mapped_column(String(16))  # redacted as: CARD, IBAN, ...; text is "[CARD]"

    utterance: Mapped[Utterance] = relationship(back_populates="words")


class RedactedSpan(Base):
    """One stretch of a call that redaction replaced, with the words as they were heard.

    The transcript's own rows hold placeholders, so the search index and every page see only
    those; what was said is here alone, and only the unredacted-access grant reads it.
    ``words`` are [utterance seq, word seq] pairs; ``source`` is "detected" or "reviewer".
    """

    __tablename__ = "redacted_spans"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(String(16))
    speaker: Mapped[str] = mapped_column(String(64))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    words: Mapped[list[list[int]]] = mapped_column(JSON)
    heard: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16), default="detected")
    # Re-transcribing the redacted audio there heard nothing of it (True), heard some (False: the
    # call is flagged for review), or it was not checked (None).
    verified: Mapped[bool | None] = mapped_column(Boolean)


class NonSpeechSpan(Base):
    """Hold music or a call-progress tone in a transcript: shown in the timeline, nobody's words."""

    __tablename__ = "non_speech_spans"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))  # music | tone
    channel: Mapped[int | None] = mapped_column(Integer)  # None: found in a mixdown

    transcript: Mapped[Transcript] = relationship(back_populates="non_speech_spans")


class SpeakerTurn(Base):
    """Who spoke when, as diarization heard it: turns may overlap, and their edges are acoustic."""

    __tablename__ = "speaker_turns"
    __table_args__ = (Index("ix_speaker_turns_transcript_start", "transcript_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)

    transcript: Mapped[Transcript] = relationship(back_populates="speaker_turns")


class Job(Base):
    """A unit of queued work. The table is the queue: workers claim rows atomically."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))  # transcribe
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column()

    recording: Mapped[Recording] = relationship(back_populates="jobs")


class User(Base):
    """Someone who signs in to the review app. An agent user is linked to the PBX agent whose calls
    are theirs, so "own evaluations" and "own calls" are a join, not a name comparison."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id; None: OIDC sign-in only
    role: Mapped[str] = mapped_column(String(16))  # agent | coach | compliance | admin
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AppSession(Base):
    """One sign-in to the review app, from sign-in to sign-out. Audio links name it, so the audio route
    can tell that the sign-in behind a link is still open; a password change or a deactivation ends
    every open session of the account."""

    __tablename__ = "app_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(String(32))  # signed_out | password | deactivated | ...


class SignInFailure(Base):
    """A recent failed password sign-in, counted per typed username and per client address to throttle
    guessing before the (64 MiB, ~0.5 s) password hash runs. Rows older than the window are pruned."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    username: Mapped[str] = mapped_column(String(320))  # as typed, lower-cased, known account or not
    client: Mapped[str | None] = mapped_column(String(64))  # the client's IP address, when known


class AuditEntry(Base):
    """One row of the append-only audit log. ``hash`` covers this row's fields and ``prev_hash``, so
    editing or deleting any row breaks the chain from that row on. ``scheme`` says how: "hmac-sha256"
    under a key kept outside the database, or "sha256" for rows written before the chain was keyed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(320))  # kept as typed, also for failed sign-ins
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(500))  # e.g. "recording:12"
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # unique: the chain cannot fork
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    scheme: Mapped[str] = mapped_column(String(16), server_default="sha256")


class ScorecardForm(Base):
    """A scorecard. Forms are versioned, never edited once used: an evaluation points at the exact
    questions it was scored on."""

    __tablename__ = "scorecard_forms"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    sections: Mapped[list[ScorecardSection]] = relationship(
        back_populates="form", cascade="all, delete-orphan", order_by="ScorecardSection.position"
    )


class ScorecardSection(Base):
    __tablename__ = "scorecard_sections"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("scorecard_forms.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    weight: Mapped[float] = mapped_column(Float)

    form: Mapped[ScorecardForm] = relationship(back_populates="sections")
    questions: Mapped[list[ScorecardQuestion]] = relationship(
        back_populates="section", cascade="all, delete-orphan", order_by="ScorecardQuestion.position"
    )


class ScorecardQuestion(Base):
    __tablename__ = "scorecard_questions"
    __table_args__ = (UniqueConstraint("section_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("scorecard_sections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # points | yes_no_na
    max_points: Mapped[float] = mapped_column(Float)  # 1 for yes_no_na
    weight: Mapped[float] = mapped_column(Float)
    # Failing it (yes/no answered "no", points given 0) makes the evaluation's score 0: "auto-fail".
    critical: Mapped[bool] = mapped_column(default=False, server_default=false())

    section: Mapped[ScorecardSection] = relationship(back_populates="questions")


class Evaluation(Base):
    """A coach's scoring of one call on one form; ``agent_id`` is the evaluated agent. It outlives the
    call: when retention or an erasure deletes the call, ``recording_id`` becomes None and
    ``call_deleted_at`` says when, so an agent's scores do not change because old calls went."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="SET NULL"), index=True
    )
    call_deleted_at: Mapped[datetime | None] = mapped_column()
    form_id: Mapped[int] = mapped_column(ForeignKey("scorecard_forms.id"))
    coach_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)  # 0..100; None while nothing is scorable
    # draft | submitted | acknowledged | disputed (open) | upheld | resolved (closed disputes)
    status: Mapped[str] = mapped_column(String(16))
    agent_comment: Mapped[str | None] = mapped_column(Text)  # with the answer; a dispute's first message
    coach_comment: Mapped[str | None] = mapped_column(Text)  # the coach's overall comment, for the agent
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    submitted_at: Mapped[datetime | None] = mapped_column()

    answers: Mapped[list[EvaluationAnswer]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan"
    )


class EvaluationAnswer(Base):
    __tablename__ = "evaluation_answers"
    __table_args__ = (UniqueConstraint("evaluation_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("scorecard_questions.id"))
    value: Mapped[str] = mapped_column(String(16))  # points as a number, or yes | no | na
    comment: Mapped[str | None] = mapped_column(Text)

    evaluation: Mapped[Evaluation] = relationship(back_populates="answers")


class EvaluationMessage(Base):
    """One step of a dispute about an evaluation, in the order written: the agent's dispute and
    replies, the coaches' answers, re-scores (with the score before and after) and the closing."""

    __tablename__ = "evaluation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    # None only for disputes older than the thread whose agent had no linked account (migration 0017).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # dispute | reply | answer | rescore | upheld | resolved
    text: Mapped[str] = mapped_column(Text)
    old_score: Mapped[float | None] = mapped_column(Float)  # a re-score's score before and after
    new_score: Mapped[float | None] = mapped_column(Float)
    # A re-score's changed answers: {question id: [before, after]}.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class CallComment(Base):
    """A comment pinned to a moment of a call."""

    __tablename__ = "call_comments"
    __table_args__ = (Index("ix_call_comments_recording_at", "recording_id", "at_seconds"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at_seconds: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default="coaches")  # coaches | agent
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    edited_at: Mapped[datetime | None] = mapped_column()


class SavedSearch(Base):
    """A user's named transcript search (query and filters), to run again from the Search page."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)  # SearchFilters' fields, dates as ISO text
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Tracker(Base):
    """A saved search that tags every call it matches (``storage.trackers``); names are the
    organisation's, shown on every call page, so they are unique across users."""

    __tablename__ = "trackers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    query: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)  # SearchFilters' fields, dates as ISO text
    # Who hears of a new call it matches; None (made on the command line without one): nobody.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class TrackerMatch(Base):
    """A conversation a tracker matched. ``notify``: it matched a call as the call was transcribed
    and the tracker notifies, so its owner is told until ``seen_at``."""

    __tablename__ = "tracker_matches"

    tracker_id: Mapped[int] = mapped_column(ForeignKey("trackers.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    matched_at: Mapped[datetime] = mapped_column(default=utc_now)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    seen_at: Mapped[datetime | None] = mapped_column()


class ThreadIdentity(Base):
    """Which identities linked a thread (a call included) to its customer. Splitting a customer moves a
    thread only when every identity that linked it moves, so the link has to be remembered."""

    __tablename__ = "thread_identities"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MessageAttachment(Base):
    """An attachment is listed, never stored: the history shows that a file was sent, not the file."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))


class MergeSuggestion(Base):
    """Two customers that one thread's identities point at. Importers never merge people themselves:
    a reviewer accepts (merges) or rejects, and a rejected pair is not suggested again."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (Index("ix_merge_suggestions_status_pair", "status", "customer_a", "customer_b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_a: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))  # the lower id
    customer_b: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"thread_id": .., "identities": [..]}
    status: Mapped[str] = mapped_column(String(16))  # pending | accepted | rejected
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column()


class CustomerMerge(Base):
    """One merge, with exactly what moved, so it can be undone. The merged customer's row is kept
    (empty) while the merge stands: undoing gives it back its own id."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_at: Mapped[datetime] = mapped_column(default=utc_now)
    by: Mapped[str] = mapped_column(String(320))
    undo: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"identity_ids", "thread_ids", "display_name"}
    undone_at: Mapped[datetime | None] = mapped_column()


class LegalHold(Base):
    """Data that must not be deleted by any path while the hold stands (``storage.holds``). A hold
    covers one customer, one call, or whatever a search finds, and is evaluated when something is
    about to be deleted: a customer's or a query's new conversations are covered too. Releasing takes
    two compliance users: one asks, another approves."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # customer | call | query
    # Plain ids, not foreign keys: nothing held can be deleted, and a released hold outlives its data.
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    recording_id: Mapped[int | None] = mapped_column(Integer, index=True)
    query: Mapped[str | None] = mapped_column(Text)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[date | None] = mapped_column(Date)  # the last day it holds; None: until released
    placed_by: Mapped[str] = mapped_column(String(320))
    placed_at: Mapped[datetime] = mapped_column(default=utc_now)
    release_requested_by: Mapped[str | None] = mapped_column(String(320))
    release_requested_at: Mapped[datetime | None] = mapped_column()
    released_by: Mapped[str | None] = mapped_column(String(320))  # who approved the release
    released_at: Mapped[datetime | None] = mapped_column()


class RetentionPolicy(Base):
    """Keep one channel's conversations (optionally only one direction's, or one agent's) for
    ``keep_days``, then delete them whole or only a call's audio (``storage.retention``)."""

    __tablename__ = "retention_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str | None] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(200))  # the agent's name as stored
    keep_days: Mapped[int] = mapped_column(Integer)
    delete: Mapped[str] = mapped_column(String(16))  # everything | audio
    set_by: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime] = mapped_column(default=utc_now)


class ContactLabel(Base):
    """One label an admin defined in one of the two label sets, ``reason`` (billing, cancellation...)
    or ``outcome`` (resolved, escalated...), for ``storage.contact_reasons``."""

    __tablename__ = "contact_labels"
    __table_args__ = (UniqueConstraint("label_set", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label_set: Mapped[str] = mapped_column(String(16))  # reason | outcome
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ContactRule(Base):
    """An admin's rule: a conversation that the search ``query`` matches suggests ``label``."""

    __tablename__ = "contact_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("contact_labels.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ContactLabelling(Base):
    """The reason and outcome a person accepted or chose for one conversation: what trains the model
    and what figures count. ``suggested_*`` keep what was suggested then, so corrections can be told
    from acceptances."""

    __tablename__ = "contact_labellings"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_labels.id"), index=True)
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("contact_labels.id"), index=True)
    suggested_reason_id: Mapped[int | None] = mapped_column(ForeignKey("contact_labels.id"))
    suggested_outcome_id: Mapped[int | None] = mapped_column(ForeignKey("contact_labels.id"))
    labelled_by: Mapped[str] = mapped_column(String(320))
    labelled_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReasonModel(Base):
    """One trained version of a label set's classifier; the model itself is a file in the data folder
    (``earshot.reason_classifier``), this row its measured accuracy and what it was trained on."""

    __tablename__ = "reason_models"
    __table_args__ = (UniqueConstraint("label_set", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label_set: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)  # mean cross-validated accuracy
    folds: Mapped[int] = mapped_column(Integer)
    examples: Mapped[int] = mapped_column(Integer)
    label_counts: Mapped[dict[str, Any]] = mapped_column(JSON)  # {label name: labelled conversations}
    file_name: Mapped[str] = mapped_column(String(200))  # inside the data folder's reasons/
    trained_by: Mapped[str] = mapped_column(String(320))
    trained_at: Mapped[datetime] = mapped_column(default=utc_now)


class SurveyResponse(Base):
    """A customer's answer to a satisfaction survey (CSAT, NPS or CES), imported from a survey tool's
    export (``storage.survey_import``) and tied to the conversation it rates. ``(source, response_id)``
    makes re-import idempotent. It goes with the conversation (ON DELETE CASCADE): retention and
    erasure delete it with the rest of the contact."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("source", "response_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # the survey tool, "" when the export names none
    response_id: Mapped[str] = mapped_column(String(255))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # csat | nps | ces
    score: Mapped[float] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)  # the customer's words: text, never markup
    imported_at: Mapped[datetime] = mapped_column(default=utc_now)
