"""Detecting channels that carry their own voice, and choosing a diarization backend from them."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from tests.paths import EVAL
from transcribe.diarization import DiarizationError, choose_backend
from transcribe.diarization.channels import distinct_channel_indices
from transcribe.types import SAMPLE_RATE, Audio, AudioInfo, TranscribeOptions

STEREO = str(EVAL / "stereo_2spk.wav")


def audio_of(*channels: np.ndarray) -> Audio:
    samples = np.stack(channels).astype(np.float32)
    samples.flags.writeable = False
    info = AudioInfo(
        format="WAV", duration=samples.shape[1] / SAMPLE_RATE, sample_rate=SAMPLE_RATE, channels=len(channels)
    )
    return Audio(samples=samples, source=info)


def voice(seed: int, seconds: float = 3.0) -> np.ndarray:
    """Noise shaped into syllable-like bursts: a different signal per seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * rng.standard_normal(t.size) * (0.5 + 0.5 * np.sin(2 * np.pi * (3 + seed) * t))).astype(
        np.float32
    )


def test_identical_stereo_is_one_channel():
    left = voice(1)
    assert distinct_channel_indices(audio_of(left, left.copy())) == (0,)


def test_near_identical_channels_are_one_channel():
    left = voice(1)
    # A copy at another gain with codec-like noise 40 dB down, and an inverted copy.
    near = 0.7 * left + 0.003 * np.random.default_rng(9).standard_normal(left.size).astype(np.float32)
    assert distinct_channel_indices(audio_of(left, near, -left)) == (0,)


def test_silent_channel_is_dropped():
    assert distinct_channel_indices(audio_of(np.zeros(48_000, np.float32), voice(2))) == (1,)
    assert distinct_channel_indices(audio_of(np.zeros(48_000, np.float32))) == ()


def test_different_signals_are_distinct_even_with_crosstalk():
    agent, customer = voice(1), voice(2)
    leaky = customer + 0.2 * agent  # the agent heard faintly on the customer's line
    assert distinct_channel_indices(audio_of(agent, leaky, agent.copy())) == (0, 1)


def test_real_two_speaker_stereo_has_two_distinct_channels():
    data, rate = sf.read(STEREO, dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE
    assert distinct_channel_indices(audio_of(*data.T)) == (0, 1)


def test_auto_picks_channels_for_real_stereo_and_embedded_for_fake_stereo():
    left, right = voice(1), voice(2)
    assert choose_backend(audio_of(left, right), TranscribeOptions()) == "channels"
    assert choose_backend(audio_of(left, left), TranscribeOptions()) == "embedded"
    with_pipeline = TranscribeOptions(pyannote_pipeline="/models/pyannote")
    assert choose_backend(audio_of(left), with_pipeline) == "pyannote"


def test_explicit_channels_on_mono_or_fake_stereo_is_refused():
    left = voice(1)
    for audio in (audio_of(left), audio_of(left, left)):
        with pytest.raises(DiarizationError, match="channel diarization needs two channels"):
            choose_backend(audio, TranscribeOptions(diarization="channels"))


def test_explicit_pyannote_needs_a_pipeline():
    with pytest.raises(DiarizationError, match="pyannote_pipeline"):
        choose_backend(audio_of(voice(1)), TranscribeOptions(diarization="pyannote"))


def test_impossible_speaker_counts_are_refused():
    audio = audio_of(voice(1))
    with pytest.raises(DiarizationError, match="num_speakers"):
        choose_backend(audio, TranscribeOptions(num_speakers=0))
    with pytest.raises(DiarizationError, match="min_speakers=3, max_speakers=2"):
        choose_backend(audio, TranscribeOptions(min_speakers=3, max_speakers=2))


def test_an_hour_of_stereo_is_checked_cheaply():
    # Real-length input (an hour, both channels one read-only buffer): the check must look at a
    # subsample, not copy an hour into float64.
    hour = np.tile(voice(1, 10.0), 360)
    samples = np.broadcast_to(hour, (2, hour.size))
    info = AudioInfo(format="WAV", duration=3600.0, sample_rate=SAMPLE_RATE, channels=2)
    started = time.perf_counter()
    assert distinct_channel_indices(Audio(samples=samples, source=info)) == (0,)
    assert time.perf_counter() - started < 1.0
