"""Real data for the app tests and the load benchmark: calls with real audio (8 kHz mu-law stereo,
as a PBX records) and hand-built transcripts stored through the services, accounts, and chat/e-mail
threads.

Chat and e-mail threads are written as rows here because storage has no service that stores them
yet (the importers' storage side is the customer-history issue); everything else goes through the
services.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import select

from recorder.types import CallMetadata, Recording
from storage import jobs, services, users
from storage.access import USER_ROLES, Principal
from storage.blobs import BlobStore, LocalBlobStore
from storage.db import Database, open_database, read_scope, session_scope
from storage.models import Message, Thread
from storage.models import Recording as RecordingRow
from storage.quality import (
    AnswerInput,
    QuestionSpec,
    SectionSpec,
    create_form,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from transcribe.types import AudioInfo, Speaker, TranscribeOptions, Transcript, Utterance, Word

PASSWORD = "correct horse battery"
SAMPLE_RATE = 8000
_WORDS = (
    "hello thanks for calling earshot telecom my name is alice how can I help you today "
    "I was charged twice for my refund last month and I would like the money back please "
    "let me check your account I can see the double charge and I will send the refund today "
    "great thank you so much is there anything else I can help you with no that is all"
).split()


@dataclass(frozen=True)
class AppData:
    data_dir: Path
    database_url: str
    recording_id: int  # the call of customer Emma
    customer_id: int
    transcript: Transcript

    def env(self) -> dict[str, str]:
        return {"EARSHOT_DATA_DIR": str(self.data_dir), "EARSHOT_DATABASE_URL": self.database_url}


def open_data(data_dir: Path) -> tuple[Database, BlobStore, str]:
    url = f"sqlite:///{data_dir / 'earshot.db'}"
    return open_database(url), LocalBlobStore(data_dir / "audio"), url


def add_users(db: Database) -> None:
    """One account per role, ``<role>@example.com``; the agent is PBX agent "Alice"."""
    for role in USER_ROLES:
        users.create_user(
            db,
            f"{role}@example.com",
            PASSWORD,
            role,
            display_name=role.title(),
            agent_name="Alice" if role == "agent" else None,
            actor=None,
            create_agent=True,  # before any call of hers
        )


def hand_transcript(
    seconds: float,
    words_per_second: float = 2.5,
    turn_seconds: tuple[float, float] = (6.0, 6.0),
    gap: float = 0.6,
) -> Transcript:
    """A two-party transcript: turns (agent's, customer's seconds) alternate, words evenly spaced,
    every seventh word with a low confidence. A negative ``gap`` makes each turn start before the
    previous one ends (an interruption)."""
    speakers = (
        Speaker("SPEAKER_00", "agent", 0, role_source="channel"),
        Speaker("SPEAKER_01", "customer", 1, role_source="channel"),
    )
    utterances = []
    step = 1.0 / words_per_second
    start = 0.5
    turn = 0
    k = 0
    while start + 1.0 < seconds:
        label = speakers[turn % 2].label
        end = min(seconds - 0.2, start + turn_seconds[turn % 2])
        words = []
        t = start
        while t + step * 0.8 <= end:
            probability = 0.3 if k % 7 == 3 else 0.93
            words.append(
                Word(round(t, 3), round(t + step * 0.8, 3), " " + _WORDS[k % len(_WORDS)], probability, label)
            )
            t += step
            k += 1
        if words:
            utterances.append(
                Utterance(
                    label, words[0].start, words[-1].end, "".join(w.text for w in words).strip(), tuple(words)
                )
            )
        start = max(start + 0.5, end + gap)
        turn += 1
    return Transcript(
        language="en",
        duration=seconds,
        speakers=speakers,
        utterances=tuple(utterances),
        options=TranscribeOptions(),
        models={"asr": "tiny.en", "diarization": "channels"},
    )


def write_call_audio(path: Path, transcript: Transcript, seed: int = 0) -> None:
    """Stereo mu-law at 8 kHz: each party's channel carries a voice-band tone while they speak."""
    frames = int(transcript.duration * SAMPLE_RATE)
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal((frames, 2)) * 0.003).astype(np.float32)
    for utterance in transcript.utterances:
        channel = 0 if utterance.speaker == "SPEAKER_00" else 1
        a, b = int(utterance.start * SAMPLE_RATE), int(utterance.end * SAMPLE_RATE)
        t = np.arange(b - a) / SAMPLE_RATE
        samples[a:b, channel] += (0.25 * np.sin(2 * np.pi * (220 + 90 * channel + seed % 50) * t)).astype(
            np.float32
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, SAMPLE_RATE, subtype="ULAW", format="WAV")


def add_call(
    db: Database,
    blobs: BlobStore,
    folder: Path,
    seconds: float,
    metadata: CallMetadata,
    seed: int = 0,
    turn_seconds: tuple[float, float] = (6.0, 6.0),
    gap: float = 0.6,
) -> tuple[int, Transcript]:
    """Ingest a call with real audio and store its hand-built transcript, its job done."""
    transcript = hand_transcript(seconds, turn_seconds=turn_seconds, gap=gap)
    path = folder / f"call-{seed}.wav"
    write_call_audio(path, transcript, seed)
    data = path.read_bytes()
    info = sf.info(path)
    recording = Recording(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        audio=AudioInfo(f"{info.format}/{info.subtype}", info.duration, info.samplerate, info.channels),
        metadata=metadata,
    )
    result = services.ingest_recording(db, recording, blobs, "NL")
    services.save_transcript(db, result.recording_id, transcript)
    if result.job_id is not None:
        jobs.complete(db, result.job_id)
    return result.recording_id, transcript


def add_threads(
    db: Database, customer_id: int, count: int, start: datetime, channels: tuple[str, ...] = ("chat", "email")
) -> None:
    """``count`` threads of two messages each, a day apart, older than ``start``, taking turns on
    ``channels``."""
    with session_scope(db) as session:
        for i in range(count):
            channel = channels[i % len(channels)]
            at = start - timedelta(days=i + 1)
            thread = Thread(
                customer_id=customer_id,
                channel=channel,
                provider="test",
                provider_id=f"{channel}-{customer_id}-{i}",
                subject=f"Re: invoice {1000 + i}" if channel == "email" else None,
                direction="inbound",
                started_at=at,
            )
            session.add(thread)
            session.flush()
            session.add_all(
                [
                    Message(
                        thread_id=thread.id,
                        provider_message_id=f"{thread.id}-q",
                        direction="inbound",
                        author="Emma de Vries",
                        sent_at=at,
                        body=f"Hello, question {i}: where is my refund for invoice {1000 + i}?",
                    ),
                    Message(
                        thread_id=thread.id,
                        provider_message_id=f"{thread.id}-a",
                        direction="outbound",
                        author="Bob",
                        sent_at=at + timedelta(minutes=3),
                        body="Thanks for waiting. The refund was sent today; it shows in 3 to 5 days.",
                    ),
                ]
            )


EMMA = CallMetadata(
    customer_name="Emma de Vries",
    customer_phone="+31 6 12345678",
    customer_email="emma@example.com",
    customer_number="C-1001",
    agent="Alice",
    direction="inbound",
    started_at=datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
)


def add_recent_calls(db: Database, blobs: BlobStore, folder: Path, weeks: int) -> list[int]:
    """One short call of agent Alice per week for the last ``weeks`` weeks, talk shares and
    interruptions varying, for the quality overview."""
    now = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    ids = []
    for week in range(weeks):
        metadata = CallMetadata(
            customer_name=f"Customer {week}",
            customer_phone=f"+31 6 5555 {1000 + week}",
            agent="Alice",
            direction="inbound",
            started_at=now - timedelta(weeks=week, days=1),
        )
        turns = (3.0 + week % 4, 5.0 - week % 3)
        recording_id, _ = add_call(
            db,
            blobs,
            folder,
            24.0,
            metadata,
            seed=100 + week,
            turn_seconds=turns,
            gap=-0.8 if week % 3 == 0 else 0.6,
        )
        ids.append(recording_id)
    return ids


def build_app_data(data_dir: Path, call_seconds: float = 40.0, threads: int = 4) -> AppData:
    db, blobs, url = open_data(data_dir)
    try:
        add_users(db)
        recording_id, transcript = add_call(db, blobs, data_dir / "incoming", call_seconds, EMMA)
        customer_id = customer_of(db, recording_id)
        add_threads(db, customer_id, threads, EMMA.started_at)  # type: ignore[arg-type]
    finally:
        db.engine.dispose()
    return AppData(data_dir, url, recording_id, customer_id, transcript)


def customer_of(db: Database, recording_id: int) -> int:
    with read_scope(db) as session:
        customer_id = session.scalars(
            select(Thread.customer_id)
            .join(RecordingRow, RecordingRow.thread_id == Thread.id)
            .where(RecordingRow.id == recording_id)
        ).one()
    assert customer_id is not None, f"call {recording_id} is linked to no customer"
    return customer_id


def add_evaluations(data: AppData) -> None:
    """A scorecard form; Emma's call scored yes / no / n.a. by the coach; eight weekly calls of Alice
    (``add_recent_calls``), all but weeks 3 and 7 scored."""
    db, blobs, _ = open_data(data.data_dir)
    try:
        admin = users.authenticate(db, "admin@example.com", PASSWORD)
        coach = users.authenticate(db, "coach@example.com", PASSWORD)
        form = create_form(
            db,
            admin,
            "Customer call",
            [
                SectionSpec("Opening", (QuestionSpec("Greets by name"), QuestionSpec("Verifies identity"))),
                SectionSpec("Resolution", (QuestionSpec("Solves the problem", "points", max_points=5),), 2),
            ],
        )
        _evaluate(db, coach, data.recording_id, form.id, ("yes", "no", "na"))
        for week, recording_id in enumerate(add_recent_calls(db, blobs, data.data_dir / "incoming", 8)):
            if week % 4 != 3:  # some weeks without an evaluation
                values = ("yes", "yes" if week % 2 else "no", str(2 + week % 4))
                _evaluate(db, coach, recording_id, form.id, values)
    finally:
        db.engine.dispose()


def _evaluate(
    db: Database, coach: Principal, recording_id: int, form_id: int, values: tuple[str, ...]
) -> None:
    view = start_evaluation(db, coach, recording_id, form_id)
    questions = [q.id for section in view.form.sections for q in section.questions if q.id is not None]
    save_answers(
        db, coach, view.summary.id, {q: AnswerInput(v) for q, v in zip(questions, values, strict=True)}
    )
    submit_evaluation(db, coach, view.summary.id)
