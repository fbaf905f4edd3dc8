"""The offline mono diarizer on a real two-party phone call, scored as the field scores it."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import soundfile as sf
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from transcribe.diarization import embedded
from transcribe.types import SpeakerTurn, TranscribeOptions, no_progress

CALL = "/work/shared/eval/phone_call_2spk.wav"
CALL_RTTM = "/work/shared/eval/phone_call_2spk.rttm"


def reference() -> Annotation:
    annotation = Annotation()
    with open(CALL_RTTM) as rttm:
        for line in rttm:
            fields = line.split()
            start, duration = float(fields[3]), float(fields[4])
            annotation[Segment(start, start + duration)] = fields[7]
    return annotation


@pytest.fixture(scope="module")
def call_samples() -> np.ndarray:
    samples, rate = sf.read(CALL, dtype="float32")
    assert rate == 16_000 and samples.ndim == 1
    return samples


@pytest.fixture(scope="module")
def call_run(call_samples) -> tuple[tuple[SpeakerTurn, ...], list[tuple[str, int | None, int | None]]]:
    reports = []

    def hook(step, *, completed=None, total=None):
        reports.append((step, completed, total))

    return embedded.diarize(call_samples, TranscribeOptions(), hook), reports


@pytest.mark.slow
def test_phone_call_finds_two_speakers_with_a_low_error_rate(call_run):
    turns, _ = call_run
    hypothesis = Annotation()
    for turn in turns:
        hypothesis[Segment(turn.start, turn.end)] = turn.speaker
    # No collar, overlap scored: the strictest convention (pyannote's model cards use it). This
    # call has two same-gender voices on a telephone band and 1.7 s of overlapped speech.
    der = DiarizationErrorRate()(reference(), hypothesis, uem=Segment(0.0, 30.0))
    assert {turn.speaker for turn in turns} == {"S1", "S2"}
    assert der < 0.35, f"DER {der:.3f}"


@pytest.mark.slow
def test_turns_are_ordered_labelled_by_first_speech_and_inside_the_audio(call_run):
    turns, reports = call_run
    assert turns[0].speaker == "S1"
    assert all(0 <= t.start < t.end <= 30.0 for t in turns)
    assert all(type(t.start) is float and type(t.end) is float for t in turns)  # no numpy scalars
    assert [t.start for t in turns] == sorted(t.start for t in turns)
    assert all(a.end <= b.start for a, b in pairwise(turns))
    assert reports[0][0] == "diarization" and reports[-1][1] == reports[-1][2] > 0


@pytest.mark.slow
def test_numpy_mel_matches_resemblyzers_librosa_mel(call_samples):
    # resemblyzer's own path (librosa, ~35 s of numba compilation on first use) is the reference.
    from resemblyzer.audio import wav_to_mel_spectrogram

    clip = call_samples[8 * 16_000 : 12 * 16_000]
    expected = wav_to_mel_spectrogram(clip)
    ours = embedded.mel_frames(clip, np.arange(len(expected)))
    assert ours.shape == expected.shape == (401, 40)
    np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-6 * float(expected.max()))


def test_silence_has_no_turns():
    assert embedded.diarize(np.zeros(5 * 16_000, np.float32), TranscribeOptions(), no_progress) == ()
