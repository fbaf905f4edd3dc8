"""Where there is speech: Silero's own regions, and the same padded as faster-whisper pads them."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper.vad import VadOptions, get_speech_timestamps

from tests.paths import EVAL
from transcribe.audio import decode
from transcribe.speech import padded, speech_regions, voiced_regions
from transcribe.types import SAMPLE_RATE


def test_padding_widens_each_region_and_shares_a_short_gap_between_its_neighbours():
    voiced = [(0.05, 1.0), (1.1, 2.0), (3.0, 3.95)]
    widened = [bound for region in padded(voiced, duration=4.0, pad=0.1) for bound in region]
    # Clipped at both ends; the 0.1 s gap split between its neighbours.
    assert widened == pytest.approx([0.0, 1.05, 1.05, 2.1, 2.9, 4.0])
    assert padded([], duration=4.0) == ()


def test_padded_regions_are_the_ones_faster_whisper_hands_whisper():
    samples = decode(EVAL / "ami_ES2004a_750-777.85s_3spk.wav").mono()
    theirs = get_speech_timestamps(
        samples, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=250)
    )
    ours = speech_regions(samples)
    assert len(voiced_regions(samples)) == len(ours) == len(theirs) > 1
    for (start, end), region in zip(ours, theirs, strict=True):
        assert start == pytest.approx(region["start"] / SAMPLE_RATE, abs=1e-3)
        assert end == pytest.approx(region["end"] / SAMPLE_RATE, abs=1e-3)


def test_silence_has_no_speech():
    assert voiced_regions(np.zeros(SAMPLE_RATE, dtype=np.float32)) == ()
    assert speech_regions(np.zeros(0, dtype=np.float32)) == ()
