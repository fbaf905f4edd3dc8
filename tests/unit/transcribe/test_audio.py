"""Decoding real files of every format a call recorder produces, and every way a file can be bad."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from tests.paths import EVAL
from transcribe.audio import AudioError, decode, probe
from transcribe.types import SAMPLE_RATE


def _tones(rate: int, seconds: float, channels: int) -> np.ndarray:
    """(frames, channels): a different pitch per channel so a swapped or merged channel shows."""
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([0.3 * np.sin(2 * np.pi * (300 + 200 * c) * t) for c in range(channels)], axis=1).astype(
        np.float32
    )


def _write_with_pyav(
    path: Path, container_format: str, codec: str, rate: int, channels: int, seconds: float
) -> None:
    """Encode through FFmpeg (no ffmpeg binary here): how MP3/AAC files are really made."""
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo" if channels == 2 else "mono")
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(_tones(rate, seconds, channels).T), format="fltp", layout=stream.layout.name
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _dominant_hz(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal))
    return float(np.fft.rfftfreq(len(signal), 1 / SAMPLE_RATE)[spectrum.argmax()])


@pytest.mark.parametrize(
    ("file_name", "file_format", "subtype", "rate", "channels", "expected_format"),
    [
        ("ulaw.wav", "WAV", "ULAW", 8000, 1, "WAV/ULAW"),
        ("alaw.wav", "WAV", "ALAW", 8000, 2, "WAV/ALAW"),
        ("pcm.wav", "WAV", "PCM_16", 44100, 2, "WAV/PCM_16"),
        ("call.flac", "FLAC", "PCM_16", 16000, 1, "FLAC"),
        ("call.ogg", "OGG", "OPUS", 48000, 2, "OGG/OPUS"),
        ("vorbis.ogg", "OGG", "VORBIS", 22050, 1, "OGG/VORBIS"),
    ],
)
def test_soundfile_formats_decode_to_16k_with_channels_kept(
    tmp_path, file_name, file_format, subtype, rate, channels, expected_format
):
    path = tmp_path / file_name
    sf.write(path, _tones(rate, 2.0, channels), rate, format=file_format, subtype=subtype)

    info = probe(path)
    audio = decode(path)

    assert info.format == expected_format
    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.duration == pytest.approx(2.0, abs=0.01)
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == channels
    assert audio.duration == pytest.approx(2.0, abs=0.03)
    assert not audio.samples.flags.writeable
    for c in range(channels):  # the pitch survives resampling, on the right channel
        assert _dominant_hz(audio.samples[c]) == pytest.approx(300 + 200 * c, abs=5)


@pytest.mark.parametrize(
    ("file_name", "container_format", "codec", "rate", "expected_format"),
    [
        ("call.mp3", "mp3", "libmp3lame", 44100, "MP3"),
        ("call.opus", "ogg", "libopus", 48000, "OGG/OPUS"),
        # libsndfile has no AAC: this one can only come through the PyAV fallback.
        ("call.m4a", "mp4", "aac", 44100, "MOV/AAC"),
    ],
)
def test_ffmpeg_encoded_files_decode(tmp_path, file_name, container_format, codec, rate, expected_format):
    path = tmp_path / file_name
    _write_with_pyav(path, container_format, codec, rate, channels=2, seconds=3.0)

    audio = decode(path)

    assert audio.source.format == expected_format
    assert audio.channel_count == 2
    assert audio.duration == pytest.approx(3.0, abs=0.1)
    assert _dominant_hz(audio.samples[0]) == pytest.approx(300, abs=5)
    assert _dominant_hz(audio.samples[1]) == pytest.approx(500, abs=5)


def test_bytes_decode_like_the_file_and_errors_use_the_given_name(tmp_path):
    path = tmp_path / "call.flac"
    sf.write(path, _tones(8000, 1.0, 1), 8000)

    from_bytes = decode(path.read_bytes(), name="upload.flac")

    np.testing.assert_array_equal(from_bytes.samples, decode(path).samples)
    with pytest.raises(AudioError, match=r"^upload\.flac: empty file"):
        decode(b"", name="upload.flac")


def test_eval_recordings_decode():
    jfk = decode(EVAL / "jfk.flac")
    stereo = decode(EVAL / "stereo_2spk.wav")

    assert jfk.source.sample_rate == 44100
    assert jfk.duration == pytest.approx(11.0, abs=0.01)
    assert stereo.samples.shape == (2, 5 * SAMPLE_RATE)


def test_silence_is_audio_not_an_error(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros((8000 * 3, 2), dtype=np.float32), 8000, subtype="ULAW")

    audio = decode(path)

    assert audio.samples.shape == (2, 3 * SAMPLE_RATE)
    assert np.abs(audio.samples).max() < 1e-3


def _wav_bytes(format_tag: int, data: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", format_tag, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_text("Customer notes, not audio.\n" * 50), "not an audio file"),
        (lambda p: p.write_bytes(_wav_bytes(1, b"")), "zero-length audio"),
        (lambda p: p.write_bytes(_wav_bytes(0x1234, bytes(16000))), "unsupported audio codec"),
        (lambda p: p.write_bytes(_wav_bytes(1, bytes(16000))[:-6000]), "truncated"),
    ],
    ids=["empty", "text", "zero-length", "unknown-codec", "truncated-wav"],
)
def test_bad_files_raise_a_message_naming_file_and_reason(tmp_path, make, reason):
    path = tmp_path / "call.wav"
    make(path)

    with pytest.raises(AudioError, match=rf"^{re.escape(str(path))}: {reason}"):
        decode(path)


def test_truncated_flac_is_rejected_not_half_decoded(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, _tones(16000, 4.0, 1), 16000)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(AudioError, match=r"cut\.flac: .*(truncated|corrupt)"):
        decode(path)


def test_truncated_mp3_is_rejected(tmp_path):
    path = tmp_path / "cut.mp3"
    _write_with_pyav(path, "mp3", "libmp3lame", 44100, channels=1, seconds=4.0)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(AudioError, match=r"cut\.mp3: truncated or corrupt \(header says 4\.\d+ s, decoded"):
        decode(path)


def test_a_video_without_sound_has_no_audio_stream(tmp_path):
    path = tmp_path / "screen.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)

    with pytest.raises(AudioError, match="contains no audio stream"):
        decode(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        probe(tmp_path / "nowhere.wav")


def test_max_duration_is_checked_before_decoding(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros((8000 * 10, 1), dtype=np.float32), 8000, subtype="ULAW")

    with pytest.raises(AudioError, match=r"long\.wav: too long \(10 s; the limit is 5 s\)"):
        decode(path, max_seconds=5)
    assert decode(path, max_seconds=None).duration == pytest.approx(10.0)
