"""Decode a recording once into the 16 kHz float32 array that ASR and diarization share.

libsndfile (through soundfile) reads WAV (incl. telephone mu-law/A-law), FLAC, MP3, Ogg Vorbis/Opus
without a subprocess; PyAV (FFmpeg) is the fallback for everything else (AAC/M4A, odd WAV codecs).
Channels are kept because a stereo call usually has one party per channel.
"""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import soundfile as sf
import soxr

from transcribe.types import SAMPLE_RATE, Audio, AudioInfo

DEFAULT_MAX_SECONDS = 4 * 3600.0
# Decoders legitimately differ from a header's length by a few frames (MP3 padding, Opus pre-skip),
# and an MP3 without a VBR header only has an estimated length: only a larger shortfall means a cut.
_TRUNCATION_TOLERANCE_S = 0.5
_TRUNCATION_TOLERANCE_SHARE = 0.01
# Formats whose name already names the codec, so "FLAC/PCM_16" says nothing more than "FLAC".
_CODEC_IS_FORMAT = {"FLAC", "MP3"}
# Placeholder sizes streaming recorders write before they know the length; not a truncation sign.
_WAV_UNKNOWN_SIZES = {0, 0xFFFFFFFF}

Source = Path | bytes


class AudioError(ValueError):
    """A file that cannot become audio: the message names the file and the reason."""


class EmptyAudio(AudioError):
    """A well-formed file that holds no samples, only its header (``info``, with duration 0): a PBX
    leaves one for a call nobody answered. Nothing to transcribe, but not a damaged file either."""

    def __init__(self, message: str, info: AudioInfo) -> None:
        super().__init__(message)
        self.info = info


def probe(path: Path, *, max_seconds: float | None = None) -> AudioInfo:
    """Read what a file holds without decoding all of it (cheap checks before a long decode).

    A file longer than ``max_seconds`` (by its header) is an AudioError, so ingest can refuse it
    before storing it, as ``decode`` would before transcribing it.
    """
    label = _name_of(path, None)
    return _within_limit(_probe(path, label), label, max_seconds)


def decode(
    source: Source, name: str | None = None, *, max_seconds: float | None = DEFAULT_MAX_SECONDS
) -> Audio:
    """Decode ``source`` (a path or the file's bytes) to 16 kHz float32, shape (channels, frames).

    ``max_seconds`` is checked from the header before decoding so a huge upload fails fast instead
    of filling memory. Silence is not an error here: it simply yields an empty transcript later.
    """
    label = _name_of(source, name)
    info = _within_limit(_probe(source, label), label, max_seconds)
    samples, rate = _read(source, label)
    if samples.shape[1] == 0:
        raise AudioError(f"{label}: zero-length audio (no samples decoded)")
    decoded_s = samples.shape[1] / rate
    if info.duration - decoded_s > _TRUNCATION_TOLERANCE_S + _TRUNCATION_TOLERANCE_SHARE * info.duration:
        raise AudioError(
            f"{label}: truncated or corrupt (header says {info.duration:.2f} s, decoded {decoded_s:.2f} s)"
        )
    resampled = samples if rate == SAMPLE_RATE else soxr.resample(samples.T, rate, SAMPLE_RATE).T
    out = np.ascontiguousarray(resampled, dtype=np.float32)
    out.flags.writeable = False
    return Audio(samples=out, source=info)


def _within_limit(info: AudioInfo, label: str, max_seconds: float | None) -> AudioInfo:
    if max_seconds is not None and info.duration > max_seconds:
        raise AudioError(f"{label}: too long ({info.duration:.0f} s; the limit is {max_seconds:.0f} s)")
    return info


def _name_of(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    return str(source) if isinstance(source, Path) else "<uploaded bytes>"


def _open(source: Source) -> BinaryIO:
    """A fresh reader each time: soundfile and PyAV both move the position of the one they get."""
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


def _probe(source: Source, label: str) -> AudioInfo:
    if isinstance(source, Path):
        if not source.is_file():
            raise AudioError(f"{label}: no such file")
        size = source.stat().st_size
    else:
        size = len(source)
    if size == 0:
        raise AudioError(f"{label}: empty file (0 bytes)")
    info = _probe_soundfile(source) or _probe_av(source, label)
    if info.duration <= 0:
        raise EmptyAudio(f"{label}: zero-length audio", replace(info, duration=0.0))
    _check_wav_length(source, label, info)
    return info


def _probe_soundfile(source: Source) -> AudioInfo | None:
    """None when libsndfile cannot read the file, or cannot tell its length (PyAV may)."""
    try:
        with _open(source) as fh:
            info = sf.info(fh)
    except sf.SoundFileRuntimeError:
        return None
    if info.frames <= 0:
        return None
    fmt = info.format if info.format in _CODEC_IS_FORMAT else f"{info.format}/{info.subtype}"
    return AudioInfo(
        format=fmt,
        duration=info.frames / info.samplerate,
        sample_rate=info.samplerate,
        channels=info.channels,
    )


def _probe_av(source: Source, label: str) -> AudioInfo:
    try:
        with _open(source) as fh, av.open(fh, mode="r") as container:
            stream = _audio_stream(container, label)
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
            fmt_name = container.format.name.split(",")[0].upper()
            codec_name = stream.codec_context.name.upper()
            fmt = fmt_name if codec_name.startswith(fmt_name) else f"{fmt_name}/{codec_name}"
            return AudioInfo(
                format=fmt, duration=duration, sample_rate=stream.sample_rate, channels=stream.channels
            )
    except av.FFmpegError as exc:
        raise AudioError(f"{label}: not an audio file or corrupt ({exc.strerror})") from exc


def _audio_stream(container: av.container.InputContainer, label: str) -> av.AudioStream:
    if not container.streams.audio:
        raise AudioError(f"{label}: contains no audio stream")
    stream = container.streams.audio[0]
    if stream.codec_context is None:
        raise AudioError(f"{label}: unsupported audio codec (no decoder for it)")
    return stream


def _check_wav_length(source: Source, label: str, info: AudioInfo) -> None:
    """Catch WAV files cut short: libsndfile and FFmpeg both silently read what is there."""
    if not info.format.startswith("WAV"):
        return
    with _open(source) as fh:
        declared, available = _wav_data_sizes(fh)
    if declared not in _WAV_UNKNOWN_SIZES and declared > available:
        raise AudioError(
            f"{label}: truncated (the header declares {declared} bytes of audio, the file holds {available})"
        )


def _wav_data_sizes(fh: BinaryIO) -> tuple[int, int]:
    """(declared, present) byte counts of a RIFF file's 'data' chunk; (0, 0) when there is none."""
    header = fh.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return 0, 0
    while chunk := fh.read(8):
        if len(chunk) < 8:
            break
        chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if chunk_id == b"data":
            start = fh.tell()
            end = fh.seek(0, io.SEEK_END)
            return size, end - start
        fh.seek(size + (size & 1), io.SEEK_CUR)
    return 0, 0


def _read(source: Source, label: str) -> tuple[np.ndarray, int]:
    """(samples as float32 (channels, frames), sample rate), soundfile first, PyAV when it cannot."""
    try:
        with _open(source) as fh:
            data, rate = sf.read(fh, dtype="float32", always_2d=True)
        if len(data):
            return data.T, rate
    except sf.SoundFileRuntimeError:
        pass  # corrupt for libsndfile or a codec it lacks: FFmpeg decides
    return _read_av(source, label)


def _read_av(source: Source, label: str) -> tuple[np.ndarray, int]:
    try:
        with _open(source) as fh, av.open(fh, mode="r") as container:
            stream = _audio_stream(container, label)
            # Planar float keeps channels apart; the rate stays native so soxr does the one resampling.
            resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=stream.sample_rate)
            chunks = [
                out.to_ndarray() for frame in container.decode(stream) for out in resampler.resample(frame)
            ]
            chunks.extend(out.to_ndarray() for out in resampler.resample(None))
            rate = stream.sample_rate
            channels = stream.channels
    except av.FFmpegError as exc:
        raise AudioError(f"{label}: corrupt or truncated audio ({exc.strerror})") from exc
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32), rate
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False), rate
