"""storage.services on real SQLite files, real WAV files and a real blob store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from recorder.types import CallMetadata, IngestError
from storage import services
from storage.blobs import BlobStore, LocalBlobStore
from storage.db import Database
from storage.errors import AmbiguousReference, InvalidValue, NotFound
from storage.models import (
    Agent,
    Customer,
    Identity,
    Job,
    Recording,
    Speaker,
    Thread,
    Transcript,
    Utterance,
    Word,
)
from tests.unit.storage.conftest import MakeRecording
from transcribe import types as t

TABLES = (Customer, Identity, Agent, Thread, Recording, Job, Transcript, Speaker, Utterance, Word)

CALL = CallMetadata(
    caller="+44 20 7946 0958",
    callee="201",
    direction="inbound",
    started_at=datetime(2025, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=1))),
    agent=" Dana ",
    customer_phone="020 7946 0958",
    customer_email="Ann.Lee@Example.com",
    customer_number="C-42",
    customer_name="Ann Lee",
    channel_roles=("agent", "customer"),
    provider_id="1700000000.42",
)


def _counts(db: Database) -> dict[str, int]:
    with db.sessionmaker() as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}  # type: ignore[misc]


def _transcript(words_per_utterance: int = 3, language: str = "en") -> t.Transcript:
    speakers = (t.Speaker("SPEAKER_00", "agent", 0), t.Speaker("SPEAKER_01", "customer", 1))
    utterances = []
    for n in range(4):
        label = speakers[n % 2].label
        words = tuple(
            t.Word(
                start=n * 2.0 + i * 0.3,
                end=n * 2.0 + i * 0.3 + 0.25,
                text=f" w{n}_{i}",
                probability=0.5 + i / 10,
                speaker=label,
            )
            for i in range(words_per_utterance)
        )
        text = "".join(w.text for w in words).strip()
        utterances.append(t.Utterance(label, words[0].start, words[-1].end, text, words))
    return t.Transcript(
        language=language,
        duration=8.0,
        speakers=speakers,
        utterances=tuple(utterances),
        options=t.TranscribeOptions(
            hotwords="Earshot", channel_roles=("agent", "customer"), hf_token="secret"
        ),
        models={"asr": "tiny.en", "diarization": "channels"},
    )


def test_ingest_creates_customer_identities_thread_recording_and_job(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording = make_recording(metadata=CALL)

    result = services.ingest_recording(db, recording, blobs, default_region="GB")

    assert result.created and result.job_id is not None and result.warnings == ()
    assert blobs.local_path(recording.sha256).read_bytes() == recording.path.read_bytes()
    with db.sessionmaker() as session:
        identities = session.execute(select(Identity.kind, Identity.value, Identity.raw_value)).all()
        assert sorted(identities) == [
            ("customer_number", "C-42", "C-42"),
            ("email", "ann.lee@example.com", "Ann.Lee@Example.com"),
            ("phone", "+442079460958", "020 7946 0958"),
        ]
        customer = session.scalars(select(Customer)).one()
        assert customer.display_name == "Ann Lee"
        thread = session.scalars(select(Thread)).one()
        assert (thread.channel, thread.provider, thread.provider_id) == ("call", "earshot", "1700000000.42")
        assert thread.customer_id == customer.id
        assert thread.agent is not None and thread.agent.name == "Dana"
        assert thread.direction == "inbound"
        assert thread.started_at.replace(tzinfo=UTC) == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
        row = session.get_one(Recording, result.recording_id)
        assert (row.sha256, row.original_name, row.channels, row.sample_rate) == (
            recording.sha256,
            recording.path.name,
            2,
            8000,
        )
        assert row.channel_roles == ["agent", "customer"]
        assert (row.caller, row.callee) == ("+44 20 7946 0958", "201")
        job = session.get_one(Job, result.job_id)
        assert (job.recording_id, job.stage, job.status, job.attempts) == (row.id, "transcribe", "queued", 0)

    [summary] = services.list_recordings(db)
    assert summary == services.RecordingSummary(
        id=result.recording_id,
        sha256=recording.sha256,
        original_name=recording.path.name,
        duration=pytest.approx(2.0),
        channels=2,
        started_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        customer="Ann Lee",
        agent="Dana",
        job_status="queued",
        transcribed=False,
        utterance_count=0,
    )


def test_reingest_of_same_bytes_changes_nothing(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording = make_recording(metadata=CALL)
    first = services.ingest_recording(db, recording, blobs, "GB")
    before = _counts(db)

    again = services.ingest_recording(
        db, dataclasses.replace(recording, metadata=CallMetadata()), blobs, "GB"
    )

    assert again == services.IngestResult(recording_id=first.recording_id, job_id=None, created=False)
    assert _counts(db) == before


def test_next_call_finds_the_customer_by_any_identity_and_adds_new_ones(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    first = services.ingest_recording(db, make_recording(1, metadata=CALL), blobs, "GB")
    second = services.ingest_recording(
        db,
        make_recording(
            2,
            metadata=CallMetadata(
                customer_phone="+44 (0)20 7946-0958", customer_email="ann@home.org", agent="Dana"
            ),
        ),
        blobs,
        "US",
    )

    assert second.created and second.warnings == ()
    with db.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        assert session.scalar(select(func.count()).select_from(Agent)) == 1
        assert session.scalar(
            select(Identity.value).where(Identity.kind == "email", Identity.value == "ann@home.org")
        )
        customers = session.scalars(select(Thread.customer_id).order_by(Thread.id)).all()
    assert customers[0] == customers[1]
    assert {s.id for s in services.list_recordings(db)} == {first.recording_id, second.recording_id}


def test_identities_of_two_customers_link_to_the_first_without_merging(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    services.ingest_recording(
        db, make_recording(1, metadata=CallMetadata(customer_phone="+12015550123")), blobs, "US"
    )
    services.ingest_recording(
        db, make_recording(2, metadata=CallMetadata(customer_email="bo@example.com")), blobs, "US"
    )
    with db.sessionmaker() as session:
        by_phone, by_email = session.scalars(select(Customer.id).order_by(Customer.id)).all()

    result = services.ingest_recording(
        db,
        make_recording(
            3, metadata=CallMetadata(customer_phone="201-555-0123", customer_email="BO@example.com")
        ),
        blobs,
        "US",
    )

    assert len(result.warnings) == 1 and "not merged" in result.warnings[0]
    with db.sessionmaker() as session:
        thread_customer = session.scalar(
            select(Thread.customer_id).join(Recording).where(Recording.id == result.recording_id)
        )
        owners = {kind: owner for kind, owner in session.execute(select(Identity.kind, Identity.customer_id))}
        assert session.scalar(select(func.count()).select_from(Customer)) == 2
    assert thread_customer == by_phone
    assert owners == {"phone": by_phone, "email": by_email}


def test_invalid_phone_is_skipped_with_a_warning_and_audio_still_ingested(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording = make_recording(metadata=CallMetadata(customer_phone="12", customer_email="x@example.com"))

    result = services.ingest_recording(db, recording, blobs, "US")

    assert result.created and result.job_id is not None
    assert result.warnings == (
        f"{recording.path.name}: customer phone skipped: phone number '12' is not a valid number "
        "(numbers without +country code are read as US)",
    )
    assert blobs.local_path(recording.sha256).is_file()
    with db.sessionmaker() as session:
        assert session.execute(select(Identity.kind, Identity.value)).all() == [("email", "x@example.com")]


def test_failure_mid_ingest_writes_no_rows(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    services.ingest_recording(db, make_recording(1, metadata=CALL), blobs, "GB")
    before = _counts(db)
    # Another file claiming the same PBX call id, with a customer and an agent not stored yet.
    clash = make_recording(
        2,
        metadata=dataclasses.replace(
            CALL,
            agent="Eve",
            customer_phone="+12015550123",
            customer_email="new@example.com",
            customer_number="C-7",
        ),
    )

    with pytest.raises(
        IngestError, match="call id '1700000000.42' was already ingested from 'call-1.wav'"
    ) as caught:
        services.ingest_recording(db, clash, blobs, "GB")

    assert str(clash.path) in str(caught.value)
    assert _counts(db) == before
    assert clash.sha256 not in dict(blobs.stored())  # a refused call leaves no audio behind
    with db.sessionmaker() as session:
        assert session.scalar(select(Agent.id).where(Agent.name == "Eve")) is None


def test_outside_text_is_cleaned_and_cut_to_its_column_before_it_is_stored(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    """What SQLite would store but PostgreSQL refuses: NUL characters and values longer than the column."""
    messy = dataclasses.replace(
        CALL,
        caller="+44\x00 20 7946 0958" + "0" * 100,
        agent="Dana\x00 " + "D" * 10_000,
        customer_name="Ann\x1b Lee" + "e" * 10_000,
        customer_email="ann.lee\x00@example.com",
    )
    result = services.ingest_recording(db, make_recording(1, metadata=messy), blobs, "GB")

    assert result.created
    assert result.warnings == (
        "call-1.wav: caller cut to 64 of its 116 characters",
        "call-1.wav: agent cut to 200 of its 10005 characters",
        "call-1.wav: customer name cut to 200 of its 10007 characters",
    )
    with db.sessionmaker() as session:
        recording = session.get_one(Recording, result.recording_id)
        assert recording.caller == ("+44 20 7946 0958" + "0" * 100)[:64]
        assert session.scalars(select(Agent.name)).all() == ["Dana " + "D" * 195]
        assert session.scalars(select(Customer.display_name)).all() == ["Ann Lee" + "e" * 193]
        assert "ann.lee@example.com" in session.scalars(select(Identity.value)).all()

    too_long_id = make_recording(2, metadata=dataclasses.replace(CALL, provider_id="9" * 10_000))
    with pytest.raises(InvalidValue, match="call id is 10000 characters long; at most 255 fit"):
        services.ingest_recording(db, too_long_id, blobs, "GB")
    assert too_long_id.sha256 not in dict(blobs.stored())


def test_save_twice_keeps_one_transcript_and_load_round_trips(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(metadata=CALL), blobs, "GB").recording_id
    services.save_transcript(db, recording_id, _transcript(words_per_utterance=5, language="de"))
    transcript = _transcript()

    transcript_id = services.save_transcript(db, recording_id, transcript)

    counts = _counts(db)
    assert (counts["transcripts"], counts["speakers"], counts["utterances"], counts["words"]) == (1, 2, 4, 12)
    loaded = services.load_transcript(db, recording_id)
    assert loaded == dataclasses.replace(
        transcript, options=dataclasses.replace(transcript.options, hf_token=None)
    )
    with db.sessionmaker() as session:
        stored = session.get_one(Transcript, transcript_id)
        assert "hf_token" not in stored.options
        assert stored.options["channel_roles"] == ["agent", "customer"]
    [summary] = services.list_recordings(db)
    assert summary.transcribed and summary.utterance_count == 4


def test_save_refuses_utterances_of_unknown_speakers(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id
    broken = dataclasses.replace(_transcript(), speakers=(t.Speaker("SPEAKER_00"),))
    with pytest.raises(ValueError, match="unknown speakers \\['SPEAKER_01'\\]"):
        services.save_transcript(db, recording_id, broken)
    with pytest.raises(NotFound, match="no recording with id 999"):
        services.save_transcript(db, 999, _transcript())
    assert _counts(db)["transcripts"] == 0


def test_role_correction_shows_in_load(db: Database, blobs: BlobStore, make_recording: MakeRecording) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id
    with pytest.raises(NotFound, match="has no transcript yet"):
        services.load_transcript(db, recording_id)
    services.save_transcript(db, recording_id, _transcript())

    services.set_speaker_role(db, recording_id, "SPEAKER_00", "customer", display_name="Ann")
    services.set_speaker_role(db, recording_id, "SPEAKER_01", None)

    loaded = services.load_transcript(db, recording_id)
    assert loaded.speakers == (
        t.Speaker("SPEAKER_00", "customer", 0, display_name="Ann", role_source="reviewer"),
        t.Speaker("SPEAKER_01", None, 1),
    )
    with pytest.raises(InvalidValue, match="'boss' is not one of agent, customer, ivr, other"):
        services.set_speaker_role(db, recording_id, "SPEAKER_00", "boss")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no speaker 'SPEAKER_07' \\(it has SPEAKER_00, SPEAKER_01\\)"):
        services.set_speaker_role(db, recording_id, "SPEAKER_07", "agent")
    assert services.load_transcript(db, recording_id).speakers == loaded.speakers


def test_find_recording_by_id_hash_prefix_and_name(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    first = make_recording(1, name="monday.wav")
    twin_a, twin_b = make_recording(2, name="same.wav"), make_recording(3, name="same.wav")
    ids = [services.ingest_recording(db, r, blobs, "GB").recording_id for r in (first, twin_a, twin_b)]

    assert services.find_recording(db, str(ids[0])).sha256 == first.sha256
    assert services.find_recording(db, first.sha256).id == ids[0]
    assert services.find_recording(db, first.sha256[:8].upper()).id == ids[0]
    assert services.find_recording(db, " monday.wav ").id == ids[0]
    with pytest.raises(
        AmbiguousReference, match=f"'same.wav' matches 2 recordings \\(ids {ids[1]}, {ids[2]}\\)"
    ):
        services.find_recording(db, "same.wav")
    with pytest.raises(NotFound, match="no recording matches 'tuesday.wav'"):
        services.find_recording(db, "tuesday.wav")
    with pytest.raises(NotFound):
        services.find_recording(db, first.sha256[:7])  # too short to be a prefix


def test_recording_audio_path_is_the_stored_original(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording = make_recording()
    recording_id = services.ingest_recording(db, recording, blobs, "GB").recording_id

    path = services.recording_audio_path(db, recording_id, blobs)

    assert path.read_bytes() == recording.path.read_bytes()
    with pytest.raises(NotFound, match="no recording with id 999"):
        services.recording_audio_path(db, 999, blobs)
    with pytest.raises(NotFound, match="missing"):
        services.recording_audio_path(db, recording_id, LocalBlobStore(blobs.root.parent / "elsewhere"))
