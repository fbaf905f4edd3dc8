"""Which channels of a recording carry a voice of their own.

PBXs record agent and customer on separate channels, but many "stereo" files are mono written
twice, or have a dead channel; only channels with their own signal can stand for a speaker.
"""

from __future__ import annotations

import numpy as np

from transcribe.types import Audio

# Statistics come from an evenly strided subsample: enough to tell copies from real channels on
# an hour of audio without touching (or copying) every sample.
_MAX_PROBE_SAMPLES = 1_000_000
# Quieter than -60 dBFS RMS is line noise or digital silence, not a voice.
_SILENT_RMS = 10 ** (-60 / 20)
# A channel this correlated with an earlier one (either polarity, any gain) adds no voice.
_COPY_CORRELATION = 0.99


def distinct_channel_indices(audio: Audio) -> tuple[int, ...]:
    """Indices of channels that are neither silent nor (near-)copies of an earlier kept channel."""
    frames = audio.samples.shape[1]
    step = max(1, -(-frames // _MAX_PROBE_SAMPLES))
    kept: list[int] = []
    kept_probes: list[np.ndarray] = []
    for index in range(audio.channel_count):
        probe = np.asarray(audio.samples[index, ::step], dtype=np.float64)
        if probe.size == 0 or np.sqrt(np.mean(probe * probe)) < _SILENT_RMS:
            continue
        probe = probe - probe.mean()
        if any(_correlation(probe, other) > _COPY_CORRELATION for other in kept_probes):
            continue
        kept.append(index)
        kept_probes.append(probe)
    return tuple(kept)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Absolute Pearson correlation of two zero-mean probes (0 when either is constant)."""
    norm = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return abs(float(np.dot(a, b))) / norm if norm > 0 else 0.0
