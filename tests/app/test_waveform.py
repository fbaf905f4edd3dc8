"""The player's waveform peaks: a fixed bucket count whatever the length, bounds, silence as silence,
speech where the speech is, one row per channel of a stereo call."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from review_app.waveform import WaveformSettings, peaks, served_waveform

_RATE = 8000


def _write(path: Path, samples: np.ndarray, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, _RATE, subtype=subtype)
    return path


def _tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * _RATE)) / _RATE
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_loud_where_the_sound_is_and_zero_in_silence(tmp_path: Path) -> None:
    # 10 s silence, 10 s tone, 10 s silence: the middle third of the buckets is loud.
    audio = np.concatenate(
        [np.zeros(10 * _RATE, np.float32), _tone(10, 0.5), np.zeros(10 * _RATE, np.float32)]
    )
    wave = peaks(_write(tmp_path / "a.wav", audio), WaveformSettings(buckets=300, block_frames=4096))
    low, high = np.array(wave.lows[0]), np.array(wave.highs[0])
    assert len(wave.lows) == 1 and low.shape == high.shape == (300,)
    assert np.all(low <= high) and np.all(low >= -1) and np.all(high <= 1)
    assert np.all(np.abs(low[:95]) < 1e-3) and np.all(np.abs(high[:95]) < 1e-3)
    assert np.all(np.abs(high[205:]) < 1e-3)
    assert np.all(high[105:195] > 0.45) and np.all(low[105:195] < -0.45)
    assert np.all(high[105:195] <= 0.51)


def test_a_long_file_gets_the_same_bucket_count_and_a_block_boundary_changes_nothing(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    audio = rng.uniform(-0.9, 0.9, 600 * _RATE).astype(np.float32)
    path = _write(tmp_path / "long.wav", audio, "FLOAT")
    settings = WaveformSettings(buckets=800)
    wave = peaks(path, settings)
    assert len(wave.highs[0]) == 800
    expected = audio.reshape(800, -1)  # 600 s at 8 kHz splits evenly into 800 buckets
    assert np.allclose(wave.highs[0], expected.max(axis=1))
    assert np.allclose(wave.lows[0], expected.min(axis=1))
    # Blocks that do not line up with the buckets give the same peaks.
    assert peaks(path, WaveformSettings(buckets=800, block_frames=7777)) == wave
    # 16-bit, a length that does not split evenly: each frame in bucket frame * buckets // frames.
    uneven = _write(tmp_path / "uneven.wav", audio[: 600 * _RATE - 4321])
    samples = sf.read(uneven, dtype="float32")[0]
    owner = np.arange(len(samples)) * 800 // len(samples)
    highs, lows = np.zeros(800, np.float32), np.zeros(800, np.float32)
    np.maximum.at(highs, owner, samples)
    np.minimum.at(lows, owner, samples)
    got = peaks(uneven, WaveformSettings(buckets=800, block_frames=7777))
    assert np.allclose(got.highs[0], highs, atol=1e-6) and np.allclose(got.lows[0], lows, atol=1e-6)
    short = peaks(_write(tmp_path / "short.wav", _tone(0.01, 0.5)), settings)  # 80 frames
    assert len(short.highs[0]) == 800 and max(short.highs[0]) > 0.4


def test_overshooting_float_audio_is_clipped_and_stereo_keeps_a_row_per_channel(tmp_path: Path) -> None:
    left = _tone(4, 1.5)  # a float file may exceed full scale
    right = np.zeros_like(left)
    wave = peaks(
        _write(tmp_path / "s.wav", np.stack([left, right], axis=1), "FLOAT"), WaveformSettings(buckets=40)
    )
    assert len(wave.highs) == 2
    assert max(wave.highs[0]) == 1.0 and min(wave.lows[0]) == -1.0
    assert max(wave.highs[1]) == 0.0 and min(wave.lows[1]) == 0.0
    three = np.stack([left / 2, right, right], axis=1)
    mixed = peaks(_write(tmp_path / "m.wav", three, "FLOAT"), WaveformSettings(buckets=40))
    assert len(mixed.highs) == 1 and 0.2 < max(mixed.highs[0]) < 0.3  # the mean of three channels


def test_served_waveform_reads_mu_law_and_gives_none_for_what_cannot_be_played(tmp_path: Path) -> None:
    phone = _write(tmp_path / "phone.wav", _tone(2, 0.5), "ULAW")  # converted for the browser first
    wave = served_waveform(phone, "a" * 64, tmp_path / "playback")
    assert wave is not None and max(wave.highs[0]) > 0.4
    payload = wave.payload()
    assert len(payload["rows"]) == 1 and len(payload["rows"][0][1]) == WaveformSettings().buckets
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    assert served_waveform(broken, "b" * 64, tmp_path / "playback") is None


def test_a_page_waits_a_bounded_time_and_gets_the_waveform_at_a_later_run(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    source = _write(tmp_path / "float.wav", rng.uniform(-0.5, 0.5, 120 * _RATE).astype(np.float32), "FLOAT")
    impatient = WaveformSettings(wait_seconds=0.0)  # a float WAV is converted for browsers first
    assert served_waveform(source, "c" * 64, tmp_path / "playback", impatient) is None
    for _ in range(200):  # the background thread finishes it; a later run gets it at once
        later = served_waveform(source, "c" * 64, tmp_path / "playback", impatient)
        if later is not None:
            break
        time.sleep(0.05)
    assert later == peaks(tmp_path / "playback" / f"{'c' * 64}.wav")
