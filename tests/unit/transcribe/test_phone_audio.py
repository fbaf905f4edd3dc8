"""Phone audio: no invented text on silence, tones, music or noise; loops collapsed; hotwords."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from tests.paths import SAMPLE_AUDIO
from transcribe import pipeline
from transcribe.asr import recognize
from transcribe.audio import decode
from transcribe.repeats import RepeatsParams, collapse_repeats
from transcribe.types import SAMPLE_RATE, AsrSegment, Audio, AudioInfo, TranscribeOptions, Word, no_progress

CALL = SAMPLE_AUDIO / "2024-05-06_double_charge.wav"


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def _tone(seconds: float, *hz: float, cadence: float | None = None) -> np.ndarray:
    """Pure tones (a test tone, or a 350+440 Hz dial tone switched on and off at ``cadence``)."""
    t = _t(seconds)
    signal = 0.2 * sum(np.sin(2 * np.pi * f * t) for f in hz)
    return signal * ((t % (2 * cadence)) < cadence) if cadence else signal


def _chords(seconds: float) -> np.ndarray:
    """Hold-music-like: a chord a second, plucked (fast attack, decay), with harmonics."""
    roots = (261.63, 329.63, 392.0, 349.23, 293.66, 440.0)
    t = _t(1.0)
    envelope = np.minimum(1.0, t * 20) * np.exp(-1.5 * t)
    return np.concatenate(
        [
            0.15
            * envelope
            * sum(
                a * np.sin(2 * np.pi * roots[i % 6] * m * t)
                for m, a in ((1, 1), (1.26, 0.8), (1.5, 0.7), (2, 0.4), (3, 0.2))
            )
            for i in range(int(seconds))
        ]
    )


def _noise(seconds: float, seed: int, pink: bool) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    white = np.random.default_rng(seed).standard_normal(n)
    if pink:  # 1/f power: shape white noise's spectrum by 1/sqrt(f)
        spectrum = np.fft.rfft(white)
        spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
        white = np.fft.irfft(spectrum, n)
    return 0.1 * white / white.std()


def _nonspeech(order: int) -> np.ndarray:
    parts = [
        np.zeros(3 * SAMPLE_RATE),
        _tone(3, 1000.0),
        _tone(4, 350.0, 440.0, cadence=1.0),
        _chords(6),
        _noise(3, seed=order + 2, pink=False),
        _noise(3, seed=order + 3, pink=True),
    ]
    return np.concatenate(parts[::order]).astype(np.float32)


def _audio(*channels: np.ndarray) -> Audio:
    samples = np.stack(channels)
    samples.flags.writeable = False
    return Audio(samples, AudioInfo("WAV/PCM_16", samples.shape[1] / SAMPLE_RATE, SAMPLE_RATE, len(channels)))


@pytest.mark.slow
@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
def test_silence_tones_music_and_noise_give_an_empty_transcript(models_cache, channels):
    audio = _audio(*[_nonspeech(order) for order in (1, -1)[:channels]])

    transcript = pipeline.run(audio, TranscribeOptions(), cache_dir=models_cache)

    assert transcript.models["diarization"] == ("channels" if channels == 2 else "embedded")
    assert (transcript.utterances, transcript.speakers) == ((), ())


GUESSED_AT = {  # 8 s signals on which tiny.en, without VAD or the floor, says "You" or "A"
    "silence": lambda: np.zeros(8 * SAMPLE_RATE),
    "tone": lambda: 1.5 * _tone(8, 440.0),
    "pink noise": lambda: _noise(8, seed=2, pink=True),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", GUESSED_AT)
def test_without_vad_whisper_guesses_are_still_dropped(tiny_en, name):
    # With the VAD off Whisper decodes every window; only its no-speech test and the word
    # probability floor stand between its guesses and the transcript.
    signal = GUESSED_AT[name]().astype(np.float32)

    assert recognize(tiny_en, signal, TranscribeOptions(vad_filter=False), no_progress)[1] == ()


def _segment(text: str, start: float = 0.0, step: float = 0.3) -> AsrSegment:
    words = tuple(
        Word(start + i * step, start + (i + 1) * step, token, 0.8) for i, token in enumerate(text.split())
    )
    return AsrSegment(start, words[-1].end, text, words)


def test_a_looped_phrase_collapses_to_its_first_copy():
    looped = _segment("I can help. " + "Thank you for calling. " * 9 + "Goodbye.")

    (collapsed,) = collapse_repeats([looped])

    assert collapsed.text == "I can help. Thank you for calling. Goodbye."
    assert [w.text for w in collapsed.words] == collapsed.text.split()
    assert collapsed.words[-1] == looped.words[-1]  # words keep their own times
    assert collapsed.end == looped.words[-1].end


def test_a_looped_single_word_collapses_ignoring_case_and_punctuation():
    (collapsed,) = collapse_repeats([_segment("You you, you. You you you")])
    assert collapsed.text == "You"


def test_people_repeating_themselves_a_little_is_kept():
    natural = [
        _segment("no no no I said the ninth"),
        _segment("thank you thank you thank you"),
        _segment(" ".join(["ok"] * (RepeatsParams().loop_repeats - 1)) + " fine"),
    ]
    assert collapse_repeats(natural) == tuple(natural)


def test_collapsing_does_not_touch_its_input():
    looped = _segment("hello " * 8)
    before = replace(looped)
    collapse_repeats([looped])
    assert looped == before


@pytest.fixture(scope="module")
def agent_channel() -> np.ndarray:
    return np.asarray(decode(CALL).samples[0])  # the agent says "Earshot Telecom" twice


def _said(tiny_en, samples: np.ndarray, hotwords: str | None) -> str:
    _, segments = recognize(tiny_en, samples, TranscribeOptions(hotwords=hotwords), no_progress)
    return " ".join(s.text for s in segments).lower()


@pytest.mark.slow
def test_hotwords_teach_the_model_the_company_name(tiny_en, agent_channel):
    greeting = agent_channel[: 8 * SAMPLE_RATE]  # "Thank you for calling Earshot Telecom, ..."

    assert "earshot" not in re.sub(r"\W", "", _said(tiny_en, greeting, None))
    assert "earshot" in _said(tiny_en, greeting, "Earshot, Telecom")
