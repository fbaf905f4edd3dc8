"""Where there is speech: Silero VAD as faster-whisper ships it, shared by diarization and the
non-speech detector so both see the same speech. (``Span`` and ``union`` are
``transcribe.intervals``'s, named here too for the diarizers that import them from here.)

Two views of one VAD pass: ``voiced_regions`` are where Silero itself hears speech; ``padded``
widens them as faster-whisper pads what it hands Whisper, so that a stage sees a word's soft edges
too. The diarizer wants the first (a pause is silence up to where the voice stops), the stages
that look for speech around words the second."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from transcribe.intervals import Span, union
from transcribe.types import SAMPLE_RATE

__all__ = ["SPEECH_PAD", "Span", "padded", "speech_regions", "union", "voiced_regions"]

SPEECH_PAD = 0.1  # seconds each side
_VAD = VadOptions(min_silence_duration_ms=300, speech_pad_ms=0, min_speech_duration_ms=250)


def voiced_regions(samples: np.ndarray) -> tuple[Span, ...]:
    """(start, end) seconds where Silero hears speech in mono 16 kHz ``samples``, unpadded."""
    if len(samples) == 0 or not np.any(samples):
        return ()
    return tuple(
        (region["start"] / SAMPLE_RATE, region["end"] / SAMPLE_RATE)
        for region in get_speech_timestamps(np.asarray(samples, dtype=np.float32), _VAD)
    )


def padded(voiced: Sequence[Span], duration: float, pad: float = SPEECH_PAD) -> tuple[Span, ...]:
    """Sorted disjoint ``voiced`` regions widened by ``pad`` each side within ``[0, duration]``, as
    Silero pads them: a gap shorter than two pads is shared half and half by its neighbours."""
    widened = []
    for index, (start, end) in enumerate(voiced):
        low, high = start - pad, end + pad
        if index > 0:
            low = max(low, (voiced[index - 1][1] + start) / 2)
        if index + 1 < len(voiced):
            high = min(high, (end + voiced[index + 1][0]) / 2)
        widened.append((max(0.0, low), min(duration, high)))
    return tuple(widened)


def speech_regions(samples: np.ndarray) -> tuple[Span, ...]:
    """(start, end) seconds of speech in mono 16 kHz ``samples``, padded."""
    return padded(voiced_regions(samples), len(samples) / SAMPLE_RATE)
