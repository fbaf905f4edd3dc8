"""The redacted copy of a call's audio: every redacted stretch, padded, becomes a tone (or
silence) of the same length on every channel, so times in the transcript still match the audio.

All channels are covered, not only the speaker's: the other party's line carries a faint copy of
what was said (bleed), and a number heard in it is a number not redacted.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from transcribe.types import SAMPLE_RATE

Cover = Literal["tone", "silence"]


@dataclass(frozen=True)
class AudioRedactionParams:
    """``pad_s``: added before and after each stretch, as Whisper's word edges are +/- 0.1 s off
    and a digit's first or last phoneme gives it away. ``tone_hz``/``tone_level``: a 1 kHz beep
    at -20 dBFS, what listeners know as "bleeped" and ASR transcribes as nothing."""

    pad_s: float = 0.25
    cover: Cover = "tone"
    tone_hz: float = 1000.0
    tone_level: float = 0.1


def covered_stretches(
    spans: Sequence[tuple[float, float]], duration: float, params: AudioRedactionParams
) -> tuple[tuple[float, float], ...]:
    """The padded stretches that are covered, overlapping ones merged, inside the call."""
    padded = sorted(
        (max(0.0, start - params.pad_s), min(duration, end + params.pad_s)) for start, end in spans
    )
    merged: list[tuple[float, float]] = []
    for start, end in padded:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def redacted_samples(
    samples: np.ndarray,
    spans: Sequence[tuple[float, float]],
    params: AudioRedactionParams = AudioRedactionParams(),
) -> np.ndarray:
    """A copy of ``samples`` (channels, frames) at 16 kHz with each padded span covered."""
    out = np.array(samples, dtype=np.float32, copy=True)
    duration = out.shape[1] / SAMPLE_RATE
    for start, end in covered_stretches(spans, duration, params):
        first, last = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        if params.cover == "tone":
            t = np.arange(first, last, dtype=np.float32) / SAMPLE_RATE
            out[:, first:last] = params.tone_level * np.sin(2 * np.pi * params.tone_hz * t)
        else:
            out[:, first:last] = 0.0
    return out


def wav_bytes(samples: np.ndarray) -> bytes:
    """16-bit WAV at 16 kHz, channels kept: what the player, exports and downloads serve."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples.T, -1.0, 1.0), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
