"""The default mono diarizer (segmentation-3.0 + CAM++ + clustering) on real recordings.

Every assertion is a property with a tolerance (speaker counts, DER under a bound, words inside
turns): int8 and float kernels differ between CPUs, so turn edges move by tens of milliseconds.
"""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from tests.paths import EVAL
from transcribe.asr import recognize
from transcribe.audio import decode
from transcribe.diarization import campplus, mono
from transcribe.types import AsrSegment, SpeakerTurn, TranscribeOptions, Word, no_progress

CALL = EVAL / "phone_call_2spk.wav"
AMI_3 = EVAL / "ami_ES2004a_750-777.85s_3spk.wav"
EN2002A = EVAL / "ami_EN2002a_184.26-214.26s_4spk.wav"
SINGLE_VOICES = [
    EVAL / "jfk.flac",
    EVAL / "librispeech_2412-153948-0000_1spk.flac",
    EVAL / "librivox_sense_and_sensibility_ch01_5utt_1spk.wav",
]


def samples_of(path: Path) -> np.ndarray:
    return decode(path).mono()


def reference(path: Path) -> Annotation:
    annotation = Annotation()
    with open(path.with_suffix(".rttm")) as rttm:
        for line in rttm:
            fields = line.split()
            start, duration = float(fields[3]), float(fields[4])
            annotation[Segment(start, start + duration)] = fields[7]
    return annotation


def der_of(path: Path, turns: tuple[SpeakerTurn, ...], duration: float) -> float:
    hypothesis = Annotation()
    for index, turn in enumerate(turns):
        hypothesis[Segment(turn.start, turn.end), index] = turn.speaker
    # No collar, overlap scored: the strictest convention (pyannote's model cards use it).
    return DiarizationErrorRate()(reference(path), hypothesis, uem=Segment(0.0, duration))


def speakers(turns: tuple[SpeakerTurn, ...]) -> set[str]:
    return {turn.speaker for turn in turns}


@pytest.fixture(scope="module")
def call_samples() -> np.ndarray:
    return samples_of(CALL)


@pytest.fixture(scope="module")
def call_segments(call_samples, tiny_en) -> tuple[AsrSegment, ...]:
    return recognize(tiny_en, call_samples, TranscribeOptions(), no_progress)[1]


@pytest.fixture(scope="module")
def call_run(
    call_samples, call_segments
) -> tuple[tuple[SpeakerTurn, ...], list[tuple[str, int | None, int | None]]]:
    reports = []

    def hook(step, *, completed=None, total=None):
        reports.append((step, completed, total))

    return mono.diarize(call_samples, TranscribeOptions(), hook, call_segments), reports


@pytest.mark.slow
def test_the_phone_call_is_two_speakers_with_a_low_error_rate_and_turns_cover_every_word(
    call_run, call_segments
):
    turns, _ = call_run
    assert speakers(turns) == {"S1", "S2"}
    der = der_of(CALL, turns, 30.0)
    assert der < 0.10, f"DER {der:.3f}"  # the goal is 0.08; 5.8-6.5% when written
    for word in (w for segment in call_segments for w in segment.words):
        end = max(word.end, word.start + 0.02)
        assert any(t.start < end and word.start < t.end for t in turns), word


@pytest.mark.slow
def test_turns_are_ordered_labelled_by_first_speech_and_inside_the_audio(call_run):
    turns, reports = call_run
    assert turns[0].speaker == "S1"
    assert all(0 <= t.start < t.end <= 30.0 for t in turns)
    assert all(type(t.start) is float and type(t.end) is float for t in turns)  # no numpy scalars
    assert [t.start for t in turns] == sorted(t.start for t in turns)
    for speaker in speakers(turns):  # one speaker's turns never overlap each other
        own = [t for t in turns if t.speaker == speaker]
        assert all(a.end < b.start for a, b in pairwise(own))
    assert reports[0][0] == "diarization" and reports[-1][1] == reports[-1][2] > 0


@pytest.mark.slow
def test_overtalk_gives_both_speakers(call_run):
    # The call has 1.9 s of overlapped speech: turns of the two speakers overlap somewhere.
    turns, _ = call_run
    first = [t for t in turns if t.speaker == "S1"]
    second = [t for t in turns if t.speaker == "S2"]
    assert any(a.start < b.end and b.start < a.end for a in first for b in second)


@pytest.mark.slow
@pytest.mark.parametrize("recording", SINGLE_VOICES, ids=lambda path: path.stem)
def test_one_voice_is_one_speaker(recording):
    samples = samples_of(recording)
    turns = mono.diarize(samples, TranscribeOptions(), no_progress)
    assert speakers(turns) == {"S1"}
    if recording.with_suffix(".rttm").exists():
        # Their references' bounds come from a VAD: what is left is false alarm at the edges (2.8%
        # and 3.0% when written), never confusion. The goal is 5%; the rest is room for other CPUs.
        der = der_of(recording, turns, len(samples) / 16_000)
        assert der < 0.07, f"DER {der:.3f}"


@pytest.mark.slow
def test_a_pause_that_neither_model_hears_a_voice_in_is_silence():
    # segmentation-3.0 alone (its argmax) is unsure in the -60 dBFS pauses of read speech and keeps
    # them in the turn; Silero hears no voice there, so the default takes them out.
    recording = EVAL / "librispeech_2412-153948-0000_1spk.flac"
    samples = samples_of(recording)
    default = mono.diarize(samples, TranscribeOptions(), no_progress)
    params = dataclasses.replace(mono.DEFAULT_PARAMS, quiet_silence_from=1.0)
    argmax = mono.diarize(samples, TranscribeOptions(), no_progress, params=params)

    assert speakers(default) == {"S1"} and len(default) > len(argmax)
    seconds = [sum(t.end - t.start for t in turns) for turns in (argmax, default)]
    assert seconds[1] < seconds[0] - 0.5  # the 0.7 s pause and the lead-in are silence
    duration = len(samples) / 16_000
    assert der_of(recording, default, duration) < der_of(recording, argmax, duration)


@pytest.mark.slow
def test_three_speakers_are_found_in_the_ami_clip():
    samples = samples_of(AMI_3)
    turns = mono.diarize(samples, TranscribeOptions(), no_progress)
    assert len(speakers(turns)) == 3
    der = der_of(AMI_3, turns, len(samples) / 16_000)
    assert der < 0.20, f"DER {der:.3f}"  # 11.0% when written


@pytest.fixture(scope="module")
def en2002a() -> np.ndarray:
    return samples_of(EN2002A)


@pytest.mark.slow
def test_three_or_four_speakers_are_found_in_the_natural_meeting(en2002a):
    # Four when written, but the fourth voice (at the end of the clip) is one embedding whose
    # cosine to the others' centroids (0.49) sits just under ``distinct_similarity`` (0.5): a
    # margin too thin to pin across CPUs, so three is accepted; two would be the old failure.
    turns = mono.diarize(en2002a, TranscribeOptions(), no_progress)
    assert len(speakers(turns)) in (3, 4)
    der = der_of(EN2002A, turns, len(en2002a) / 16_000)
    assert der < 0.40, f"DER {der:.3f}"  # 25.5% when written: 9.4 s of overlap, most of it missed


@pytest.mark.slow
def test_a_configured_speaker_count_is_honoured(call_samples, en2002a):
    assert len(speakers(mono.diarize(call_samples, TranscribeOptions(num_speakers=1), no_progress))) == 1
    assert len(speakers(mono.diarize(en2002a, TranscribeOptions(max_speakers=2), no_progress))) <= 2
    assert len(speakers(mono.diarize(call_samples, TranscribeOptions(min_speakers=3), no_progress))) >= 3


def test_silence_has_no_turns():
    assert mono.diarize(np.zeros(5 * 16_000, np.float32), TranscribeOptions(), no_progress) == ()


@pytest.mark.slow
def test_cam_plus_plus_tells_the_two_callers_apart(call_samples):
    # The two longest stretches of each caller alone (RTTM): one voice more alike than the other.
    ref = reference(CALL)
    bank = campplus.fbank(call_samples)
    labels = ref.labels()
    stretches = []
    for label, other in zip(labels, labels[::-1], strict=True):
        alone = ref.label_timeline(label).support().extrude(ref.label_timeline(other).support())
        longest = sorted(alone, key=lambda segment: segment.duration)[-2:]
        stretches += [bank[int(segment.start * 100) : int(segment.end * 100)] for segment in longest]
    a1, a2, b1, b2 = stretches
    vectors = campplus.embed([a1, a2, b1, b2])
    similarity = vectors @ vectors.T
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    same = min(similarity[0, 1], similarity[2, 3])
    other = max(similarity[0, 2], similarity[0, 3], similarity[1, 2], similarity[1, 3])
    assert same > other + 0.1, similarity


def test_the_filterbank_has_kaldis_frames():
    samples = np.random.default_rng(0).standard_normal(16_000).astype(np.float32) * 0.1
    bank = campplus.fbank(samples)
    assert bank.shape == (1 + (16_000 - 400) // 160, 80)
    assert np.isfinite(bank).all()
    assert campplus.fbank(samples[:399]).shape == (0, 80)


def test_a_word_outside_every_turn_widens_the_nearest_one():
    spans = [(1.0, 2.0, "a"), (1.8, 3.0, "b"), (5.0, 6.0, "a")]
    words = [Word(3.2, 3.4, "so", 0.9), Word(4.7, 4.7, "well", 0.9), Word(1.5, 1.7, "in", 0.9)]

    widened = mono.widened_over_words(spans, words)

    assert widened == [(1.0, 2.0, "a"), (1.8, 3.4, "b"), (4.7, 6.0, "a")]


def _who_talks_at_9_to_10_s(first: float, second: float, params: mono.MonoDiarizationParams) -> set[str]:
    """Two windows 5 s apart hear one person at 9-10 s: the first (at its edge) calls them speaker
    0 with probability ``first``, the second (in its middle) speaker 1 with ``second``; both count
    one person talking. The speakers of the turns there."""
    frame_step = 270 / 16_000
    n_frames = 589
    activity = np.zeros((2, n_frames, 3), dtype=bool)
    probability = np.zeros((2, n_frames, 3), dtype=np.float32)
    edge, middle = [
        slice(int(seconds / frame_step), int((seconds + 1.0) / frame_step)) for seconds in (9.0, 4.0)
    ]
    activity[0, edge, 0] = activity[1, middle, 0] = True
    probability[0, edge, 0], probability[1, middle, 0] = first, second
    locals_ = [(0, 0, 1.0), (1, 0, 1.0)]
    spans = mono._reconstruct(
        15 * 16_000, [0, 5 * 16_000], activity, probability, locals_, np.array([0, 1]), params
    )
    return {label for start, end, label in spans if start < 9.9 and end > 9.1}


def test_when_windows_disagree_the_surer_one_takes_the_frame():
    assert _who_talks_at_9_to_10_s(0.6, 0.9, mono.DEFAULT_PARAMS) == {"1"}
    assert _who_talks_at_9_to_10_s(0.9, 0.6, mono.DEFAULT_PARAMS) == {"0"}
    binarized = dataclasses.replace(mono.DEFAULT_PARAMS, probability_ranking=False)
    assert _who_talks_at_9_to_10_s(0.6, 0.9, binarized) == {"0"}  # a tie: the first speaker


def test_with_hamming_weights_the_voice_heard_mid_window_takes_the_frame():
    hamming = dataclasses.replace(mono.DEFAULT_PARAMS, hamming_ranking=True)
    assert _who_talks_at_9_to_10_s(0.9, 0.6, hamming) == {"1"}
    assert _who_talks_at_9_to_10_s(0.9, 0.6, dataclasses.replace(hamming, probability_ranking=False)) == {"1"}
