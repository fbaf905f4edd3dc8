"""The player's waveform: a fixed number of min/max buckets of the audio the player serves.

Peaks are computed on the server from the file the audio route sends (the redacted copy when
redaction replaced anything, converted for the browser where needed), so the waveform shows what the
reviewer hears, tone and all. A fixed bucket count makes an hour-long call cost the browser what a
minute does. Peaks are derived data: they are kept in this process's memory only, by the served file's
SHA-256, so erasing or expiring the audio leaves no copy of them on disk. They are computed in a
background thread, so a long call's first opening waits for them a bounded time.

Stereo calls keep one row per channel: phone systems record each side on its own channel, and a mix
would hide who is loud when; the player draws the first channel above the centre line and the second
below it, in the same height as one. More channels than ``rows_up_to`` are mixed into one row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from review_app.playback import PlaybackError, playable_audio

__all__ = ["Waveform", "WaveformSettings", "peaks", "served_waveform"]


# Read as 16-bit integers, libsndfile scales these to full scale; floats it would not.
_INTEGER_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ULAW", "ALAW"})


@dataclass(frozen=True)
class WaveformSettings:
    buckets: int = 800  # the strip is at most ~1000 px wide: about a bucket per pixel, for any length
    rows_up_to: int = 2  # channels kept apart; a file with more is mixed into one row
    block_frames: int = 1 << 18  # read this many frames at a time: memory stays flat for an hour
    cached_files: int = 64  # calls whose peaks this process keeps (each ~13 KB)
    # How long a page waits for peaks not computed yet. A phone call's take a fraction of a second;
    # an hour of Opus takes tens of seconds to decode, and must not hold the page that long.
    wait_seconds: float = 2.0


@dataclass(frozen=True)
class Waveform:
    """``lows[row][i]`` and ``highs[row][i]``: the lowest and highest sample in bucket ``i`` of a row
    (a channel, or the mix), in [-1, 1]; 0 and 0 in silence. Buckets split the frames evenly."""

    lows: tuple[tuple[float, ...], ...]
    highs: tuple[tuple[float, ...], ...]

    def payload(self) -> dict[str, Any]:
        """The compact shape the player reads: per row, ``[lows, highs]`` rounded to 1/1000."""
        return {
            "rows": [
                [[round(v, 3) for v in low], [round(v, 3) for v in high]]
                for low, high in zip(self.lows, self.highs, strict=True)
            ]
        }


def peaks(path: Path, settings: WaveformSettings = WaveformSettings()) -> Waveform:
    """Min/max peaks of the audio at ``path`` (any format libsndfile reads), read block by block;
    integer formats as 16-bit samples (four times faster than floats, and finer than any screen).
    Raises ``sf.LibsndfileError`` for a file it cannot read."""
    buckets = settings.buckets
    with sf.SoundFile(path) as reader:
        frames = reader.frames
        rows = reader.channels if reader.channels <= settings.rows_up_to else 1
        # Frame f belongs to bucket f * buckets // frames, so bucket i starts at frame
        # ceil(i * frames / buckets). A file shorter than ``buckets`` frames leaves some buckets
        # empty (silent): only the others are reduced.
        starts = -(-np.arange(buckets, dtype=np.int64) * frames // buckets)
        filled = np.flatnonzero(np.diff(starts, append=frames) > 0)
        filled_starts = starts[filled]
        dtype, full_scale = ("int16", 32768.0) if reader.subtype in _INTEGER_SUBTYPES else ("float32", 1.0)
        lows = np.zeros((rows, buckets), dtype=np.float32)
        highs = np.zeros((rows, buckets), dtype=np.float32)
        offset = 0
        for block in reader.blocks(blocksize=settings.block_frames, dtype=dtype, always_2d=True):
            if rows != block.shape[1]:
                block = block.mean(axis=1, keepdims=True, dtype=np.float32).astype(block.dtype)
            # The buckets this block touches: the one it starts in, and those starting inside it.
            first = np.searchsorted(filled_starts, offset, side="right") - 1
            last = np.searchsorted(filled_starts, offset + len(block), side="left")
            touched = filled[first:last]
            cuts = np.maximum(filled_starts[first:last] - offset, 0)
            low = np.minimum.reduceat(block, cuts, axis=0).T / np.float32(full_scale)
            high = np.maximum.reduceat(block, cuts, axis=0).T / np.float32(full_scale)
            lows[:, touched] = np.minimum(lows[:, touched], low)
            highs[:, touched] = np.maximum(highs[:, touched], high)
            offset += len(block)
    np.clip(lows, -1.0, 1.0, out=lows)  # float files may overshoot full scale
    np.clip(highs, -1.0, 1.0, out=highs)
    return Waveform(
        lows=tuple(tuple(row.tolist()) for row in lows),
        highs=tuple(tuple(row.tolist()) for row in highs),
    )


def served_waveform(
    source: Path, sha256: str, playback_dir: Path, settings: WaveformSettings = WaveformSettings()
) -> Waveform | None:
    """The waveform of what the audio route serves for the stored file ``source`` (``sha256``), or
    None when it cannot be read or is not ready within ``settings.wait_seconds``: the player then
    shows the speaker lanes alone, and the waveform at a later rerun (a pause, a seek)."""
    with _computed_guard:
        future = _computed.pop(sha256, None)
        if future is None or (future.done() and future.exception() is not None):
            future = _pool.submit(_served_peaks, source, sha256, playback_dir, settings)
        _computed[sha256] = future  # the most recently asked for last
        while len(_computed) > settings.cached_files:
            _computed.popitem(last=False)
    try:
        return future.result(timeout=settings.wait_seconds)
    except (TimeoutError, PlaybackError, sf.LibsndfileError, OSError):
        return None


def _served_peaks(source: Path, sha256: str, playback_dir: Path, settings: WaveformSettings) -> Waveform:
    return peaks(playable_audio(source, sha256, playback_dir).path, settings)


# One call's peaks at a time, off the page's run; each kept by the served file's SHA-256.
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waveform")
_computed: OrderedDict[str, Future[Waveform]] = OrderedDict()
_computed_guard = threading.Lock()
