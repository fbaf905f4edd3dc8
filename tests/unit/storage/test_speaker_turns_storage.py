"""Diarized speaker turns are stored with their transcript, replaced with it and removed with it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from storage import services
from storage.blobs import BlobStore
from storage.db import Database
from storage.models import SpeakerTurn, Transcript
from tests.unit.storage.conftest import MakeRecording, row_count
from transcribe import types as t
from transcribe.formats import to_rttm

# S2 talks over the end of S1's turn: overlap is what a turn list can hold and words cannot.
TURNS = (t.SpeakerTurn(0.6, 2.4, "S1"), t.SpeakerTurn(2.1, 3.3, "S2"))


def _transcript(*turns: t.SpeakerTurn) -> t.Transcript:
    words = (t.Word(1.0, 1.5, "Hello.", 0.9, "S1"), t.Word(2.5, 3.0, "Hi.", 0.9, "S2"))
    return t.Transcript(
        language="en",
        duration=4.0,
        speakers=(t.Speaker("S1", "agent"), t.Speaker("S2", "customer")),
        utterances=tuple(t.Utterance(w.speaker or "", w.start, w.end, w.text, (w,)) for w in words),
        options=t.TranscribeOptions(),
        models={"asr": "tiny.en", "diarization": "embedded"},
        turns=turns,
    )


def test_turns_round_trip_with_their_overlap_and_reach_the_rttm_export(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id

    services.save_transcript(db, recording_id, _transcript(*TURNS))

    loaded = services.load_transcript(db, recording_id)
    assert loaded.turns == TURNS
    assert to_rttm(loaded, "c") == (
        "SPEAKER c 1 0.600 1.800 <NA> <NA> S1 <NA> <NA>\nSPEAKER c 1 2.100 1.200 <NA> <NA> S2 <NA> <NA>\n"
    )


def test_saving_again_replaces_the_turns_with_the_transcript(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id
    services.save_transcript(db, recording_id, _transcript(*TURNS))

    services.save_transcript(db, recording_id, _transcript(TURNS[1]))
    assert services.load_transcript(db, recording_id).turns == (TURNS[1],)
    assert row_count(db, SpeakerTurn) == 1

    services.save_transcript(db, recording_id, _transcript())
    assert services.load_transcript(db, recording_id).turns == ()
    assert row_count(db, SpeakerTurn) == 0


def test_a_turn_of_an_unknown_speaker_is_refused_and_nothing_is_stored(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id

    with pytest.raises(ValueError, match=r"unknown speakers \['S9'\]"):
        services.save_transcript(db, recording_id, _transcript(t.SpeakerTurn(0.0, 1.0, "S9")))

    assert row_count(db, SpeakerTurn) == 0


def test_deleting_a_transcript_row_cascades_to_its_turns(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    recording_id = services.ingest_recording(db, make_recording(), blobs, "GB").recording_id
    services.save_transcript(db, recording_id, _transcript(*TURNS))

    with db.sessionmaker() as session:
        session.execute(delete(Transcript))
        session.commit()

    assert row_count(db, SpeakerTurn) == 0
