"""Where there is speech: Silero VAD as faster-whisper ships it, shared by diarization and the
non-speech detector so both see the same speech; and spans of time joined where they meet."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from transcribe.types import SAMPLE_RATE

Span = tuple[float, float]

_VAD = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=250)


def speech_regions(samples: np.ndarray) -> tuple[Span, ...]:
    """(start, end) seconds of speech in mono 16 kHz ``samples``."""
    if len(samples) == 0 or not np.any(samples):
        return ()
    return tuple(
        (region["start"] / SAMPLE_RATE, region["end"] / SAMPLE_RATE)
        for region in get_speech_timestamps(np.asarray(samples, dtype=np.float32), _VAD)
    )


def union(spans: Iterable[Span]) -> list[Span]:
    """The spans joined where they overlap or touch, sorted."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
