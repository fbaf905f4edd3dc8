"""Signed audio links and browser-playable audio, on real files."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from review_app.audio_links import AudioLink, audio_url, verified_link
from review_app.playback import playable_audio
from storage.access import Principal
from storage.errors import PermissionDenied

SHA = "ab" * 32
KEY = bytes(range(32))
LIFETIME_S = 600


def test_link_verifies_until_it_expires_and_not_when_altered() -> None:
    coach = Principal(3, "coach@example.com", "coach", None, session_id=41)
    token = audio_url(KEY, 7, coach, LIFETIME_S, now=1_000_000).rsplit("/", 1)[1]
    link = AudioLink(recording_id=7, session_id=41, expires=1_000_000 + LIFETIME_S)
    assert verified_link(KEY, token, now=1_000_000) == link
    assert verified_link(KEY, token, now=1_000_000 + LIFETIME_S - 1) == link
    assert verified_link(KEY, token, now=1_000_000 + LIFETIME_S + 1) is None
    assert verified_link(b"another key, another app" * 2, token, now=1_000_000) is None
    recording, session, expires, signature = token.split(".")
    for altered in (
        f"8.{session}.{expires}.{signature}",  # another call
        f"{recording}.42.{expires}.{signature}",  # another sign-in
        f"{recording}.{session}.{int(expires) + 3600}.{signature}",  # a longer life
    ):
        assert verified_link(KEY, altered, now=1_000_000) is None
    assert verified_link(KEY, "../../etc/passwd", now=1_000_000) is None


def test_links_need_a_session() -> None:
    with pytest.raises(PermissionDenied, match="no open session"):
        audio_url(KEY, 7, Principal(3, "coach@example.com", "coach", None), LIFETIME_S)


def test_mu_law_becomes_pcm_once_and_pcm_is_served_as_is(tmp_path: Path) -> None:
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000 * 3) / 8000)).astype(np.float32)
    stereo = np.stack([tone, -tone], axis=1)
    mulaw = tmp_path / "call.wav"
    sf.write(mulaw, stereo, 8000, subtype="ULAW")
    cache = tmp_path / "playback"
    first = playable_audio(mulaw, SHA, cache)
    assert first.path == cache / f"{SHA}.wav" and first.media_type == "audio/wav"
    info = sf.info(first.path)
    assert (info.subtype, info.samplerate, info.channels, info.frames) == ("PCM_16", 8000, 2, 8000 * 3)
    decoded, _ = sf.read(first.path)
    assert np.abs(decoded - sf.read(mulaw)[0]).max() < 1e-3
    stamp = first.path.stat().st_mtime_ns
    assert playable_audio(mulaw, SHA, cache).path.stat().st_mtime_ns == stamp  # cached, not redone
    assert list(cache.iterdir()) == [first.path]  # no partial files left behind
    # Customers' audio: only its owner (the account running the app) may read it.
    assert (stat.S_IMODE(cache.stat().st_mode), stat.S_IMODE(first.path.stat().st_mode)) == (0o700, 0o600)
    pcm = tmp_path / "pcm.wav"
    sf.write(pcm, stereo, 8000, subtype="PCM_16")
    assert playable_audio(pcm, "cd" * 32, cache).path == pcm


def test_codec_soundfile_cannot_read_goes_through_pyav(tmp_path: Path) -> None:
    import av

    source = tmp_path / "call.m4a"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        samples = (0.2 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    playable = playable_audio(source, "ef" * 32, tmp_path / "playback")
    info = sf.info(playable.path)
    assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", 16000, 1)
    assert 0.9 < info.duration < 1.2
