"""Audio the browser can play and seek exactly: the original when browsers read it, else a 16-bit PCM
WAV made once and kept by SHA-256 next to the data.

Phone systems record 8 kHz mu-law or A-law WAV, which not every browser plays. 16-bit PCM WAV plays
everywhere, and a byte offset is a sample offset, so a seek lands where it was asked. Opus would be
ten times smaller, but encoding an hour took minutes here; PCM takes seconds.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from storage.private_files import make_private_folder

__all__ = ["PlayableAudio", "PlaybackError", "playable_audio"]

# (soundfile format, subtype) pairs every current browser decodes, with their media types.
_BROWSER_NATIVE = {
    ("WAV", "PCM_16"): "audio/wav",
    ("WAV", "PCM_U8"): "audio/wav",
    ("FLAC", "PCM_16"): "audio/flac",
    ("FLAC", "PCM_24"): "audio/flac",
    ("OGG", "OPUS"): "audio/ogg",
    ("OGG", "VORBIS"): "audio/ogg",
    ("MP3", "MPEG_LAYER_III"): "audio/mpeg",
}
_BLOCK_FRAMES = 1 << 18
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class PlaybackError(ValueError):
    """The stored audio cannot be turned into something a browser plays; the message names it."""


@dataclass(frozen=True)
class PlayableAudio:
    path: Path
    media_type: str


def playable_audio(source: Path, sha256: str, cache_dir: Path) -> PlayableAudio:
    """The file to send for the recording ``sha256`` stored at ``source``. The first call for a
    recording that needs converting does the work; concurrent calls wait for it instead of repeating it."""
    try:
        info = sf.info(source)
        native = _BROWSER_NATIVE.get((info.format, info.subtype))
    except sf.LibsndfileError:
        native = None  # e.g. AAC in MP4: PyAV decodes it below
    if native is not None:
        return PlayableAudio(source, native)
    target = cache_dir / f"{sha256}.wav"
    with _lock_for(sha256):
        if not target.is_file():
            _convert(source, target)
    return PlayableAudio(target, "audio/wav")


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _convert(source: Path, target: Path) -> None:
    """Decode at the original rate and channels and write 16-bit PCM, atomically: a half-written
    file must never be served."""
    make_private_folder(target.parent)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")  # 0600: owner-only
    os.close(handle)
    try:
        try:
            _convert_soundfile(source, Path(temporary))
        except sf.LibsndfileError:
            _convert_av(source, Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _convert_soundfile(source: Path, target: Path) -> None:
    with sf.SoundFile(source) as reader:
        with sf.SoundFile(
            target,
            "w",
            samplerate=reader.samplerate,
            channels=reader.channels,
            subtype="PCM_16",
            format="WAV",
        ) as writer:
            for block in reader.blocks(blocksize=_BLOCK_FRAMES, dtype="int16", always_2d=True):
                writer.write(block)


def _convert_av(source: Path, target: Path) -> None:
    try:
        with av.open(str(source)) as container:
            if not container.streams.audio:
                raise PlaybackError(f"{source.name}: no audio stream to play")
            stream = container.streams.audio[0]
            channels = stream.codec_context.channels or 1
            rate = stream.codec_context.sample_rate
            resampler = av.AudioResampler(format="s16", layout=stream.layout, rate=rate)
            with sf.SoundFile(
                target, "w", samplerate=rate, channels=channels, subtype="PCM_16", format="WAV"
            ) as writer:
                for frame in container.decode(stream):
                    for converted in resampler.resample(frame):
                        writer.write(np.asarray(converted.to_ndarray()).reshape(-1, channels))
    except av.FFmpegError as error:
        raise PlaybackError(f"{source.name}: cannot be decoded for playback: {error}") from error
