"""Where there is speech: Silero VAD as faster-whisper ships it, shared by diarization and the
non-speech detector so both see the same speech. (``Span`` and ``union`` are
``transcribe.intervals``'s, named here too for the diarizers that import them from here.)"""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from transcribe.intervals import Span, union
from transcribe.types import SAMPLE_RATE

__all__ = ["Span", "speech_regions", "union"]

_VAD = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=250)


def speech_regions(samples: np.ndarray) -> tuple[Span, ...]:
    """(start, end) seconds of speech in mono 16 kHz ``samples``."""
    if len(samples) == 0 or not np.any(samples):
        return ()
    return tuple(
        (region["start"] / SAMPLE_RATE, region["end"] / SAMPLE_RATE)
        for region in get_speech_timestamps(np.asarray(samples, dtype=np.float32), _VAD)
    )
