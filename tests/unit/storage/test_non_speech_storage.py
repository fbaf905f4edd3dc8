"""Hold music and tone spans are stored with their transcript, replaced with it and removed with it."""

from __future__ import annotations

from sqlalchemy import delete

from storage import services
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import NonSpeechSpan, Transcript
from tests.unit.storage.conftest import MakeRecording, row_count
from transcribe import types as t

MUSIC = t.NonSpeechSpan(start=1.25, end=7.5, kind="music", channel=0)
TONE = t.NonSpeechSpan(start=0.0, end=0.75, kind="tone", channel=None)


def _transcript(*non_speech: t.NonSpeechSpan) -> t.Transcript:
    word = t.Word(8.0, 8.5, "Hello.", 0.9, "S1")
    return t.Transcript(
        language="en",
        duration=9.0,
        speakers=(t.Speaker("S1", "agent", 0),),
        utterances=(t.Utterance("S1", 8.0, 8.5, "Hello.", (word,)),),
        options=t.TranscribeOptions(),
        models={"asr": "tiny.en", "diarization": "channels"},
        non_speech=non_speech,
    )


def test_spans_round_trip_in_time_order(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id

    services.save_transcript(db, recording_id, _transcript(TONE, MUSIC))

    assert services.load_transcript(db, recording_id).non_speech == (TONE, MUSIC)


def test_saving_again_replaces_the_spans_with_the_transcript(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id
    services.save_transcript(db, recording_id, _transcript(TONE, MUSIC))

    services.save_transcript(db, recording_id, _transcript(MUSIC))
    assert services.load_transcript(db, recording_id).non_speech == (MUSIC,)
    assert row_count(db, NonSpeechSpan) == 1

    services.save_transcript(db, recording_id, _transcript())
    assert services.load_transcript(db, recording_id).non_speech == ()
    assert row_count(db, NonSpeechSpan) == 0


def test_deleting_a_transcript_row_cascades_to_its_spans(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id
    services.save_transcript(db, recording_id, _transcript(TONE, MUSIC))

    with db.sessionmaker() as session:
        session.execute(delete(Transcript))
        session.commit()

    assert row_count(db, NonSpeechSpan) == 0
