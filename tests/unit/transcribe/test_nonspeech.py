"""Hold music and call-progress tones are found, labelled, and never become anybody's words.

Music and tones are generated here with numpy (what a phone system plays is synthetic anyway);
speech is real: the eval recordings and the sample calls. One test runs the whole pipeline with
the embedded tiny.en on a stereo call whose agent channel starts with hold music.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.paths import EVAL, SAMPLE_AUDIO
from transcribe import pipeline
from transcribe.audio import decode
from transcribe.nonspeech import drop_non_speech_words, find_non_speech
from transcribe.speech import speech_regions
from transcribe.types import (
    SAMPLE_RATE,
    Audio,
    AudioInfo,
    NonSpeechSpan,
    TranscribeOptions,
    Utterance,
    Word,
)

JFK = EVAL / "jfk.flac"
REAL_RECORDINGS = [
    EVAL / "jfk.flac",
    EVAL / "phone_call_2spk.wav",
    EVAL / "stereo_2spk.wav",
    *sorted(p for p in SAMPLE_AUDIO.iterdir() if p.suffix in {".wav", ".opus"}),
]
EDGE_S = 0.15  # three frames: how far a span's edge may sit from where the sound starts or stops


def _seconds(duration: float) -> np.ndarray:
    return np.arange(int(duration * SAMPLE_RATE)) / SAMPLE_RATE


def _silence(duration: float) -> np.ndarray:
    return np.zeros(int(duration * SAMPLE_RATE), dtype=np.float32)


def _chords(duration: float, note_s: float = 0.5, peak: float = 0.2, seed: int = 0) -> np.ndarray:
    """Hold-music stand-in: a I-V-vi-IV chord sequence, three notes of five harmonics each,
    a new chord every ``note_s`` with a piano-like attack and decay."""
    rng = np.random.default_rng(seed)
    roots = (261.63, 392.00, 440.00, 349.23)
    thirds = (4, 4, 3, 4)  # semitones: major, major, minor, major
    t = _seconds(note_s)
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-2.0 * t)
    notes = []
    for n in range(int(round(duration / note_s))):
        root = roots[n % 4]
        chord = (root, root * 2 ** (thirds[n % 4] / 12), root * 2 ** (7 / 12))
        note = sum(
            0.6**h * np.sin(2 * np.pi * f * (h + 1) * t + rng.uniform(0, 2 * np.pi))
            for f in chord
            for h in range(5)
        )
        notes.append(note * envelope)
    music = np.concatenate(notes)
    return (peak * music / np.abs(music).max()).astype(np.float32)


def _dual_tone(low: float, high: float, duration: float, amplitude: float = 0.1) -> np.ndarray:
    t = _seconds(duration)
    return (amplitude * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t))).astype(np.float32)


def _dtmf(digits: str, on_s: float = 0.1, off_s: float = 0.1) -> np.ndarray:
    rows, columns = (697, 770, 852, 941), (1209, 1336, 1477)
    keys = "123456789*0#"
    return np.concatenate(
        [
            part
            for digit in digits
            for part in (
                _dual_tone(rows[keys.index(digit) // 3], columns[keys.index(digit) % 3], on_s),
                _silence(off_s),
            )
        ]
    )


def _noise(duration: float, rms: float = 0.05) -> np.ndarray:
    return (rms * np.random.default_rng(1).standard_normal(int(duration * SAMPLE_RATE))).astype(np.float32)


def _jfk() -> np.ndarray:
    return np.asarray(decode(JFK).mono())


def _spans(samples: np.ndarray, channel: int | None = 0) -> tuple[NonSpeechSpan, ...]:
    return find_non_speech(samples, channel, speech_regions(samples))


def test_hold_music_is_one_music_span_over_the_music():
    samples = np.concatenate([_silence(1.0), _chords(6.0), _silence(1.0)])

    [span] = _spans(samples, channel=0)

    assert (span.kind, span.channel) == ("music", 0)
    assert span.start == pytest.approx(1.0, abs=EDGE_S)
    assert span.end == pytest.approx(7.0, abs=EDGE_S)


def test_dial_tone_is_a_tone():
    samples = np.concatenate([_silence(1.0), _dual_tone(350, 440, 3.0), _silence(1.0)])

    [span] = _spans(samples, channel=None)

    assert (span.kind, span.channel) == ("tone", None)
    assert (span.start, span.end) == (pytest.approx(1.0, abs=EDGE_S), pytest.approx(4.0, abs=EDGE_S))


def test_dtmf_digits_join_into_one_tone_span():
    samples = np.concatenate([_silence(1.0), _dtmf("5551234"), _silence(1.0)])

    [span] = _spans(samples)

    assert span.kind == "tone"
    assert (span.start, span.end) == (pytest.approx(1.0, abs=EDGE_S), pytest.approx(2.3, abs=EDGE_S))


def test_busy_tone_cadence_is_one_tone_span_and_ringback_bursts_are_separate():
    busy = np.concatenate([np.concatenate([_dual_tone(480, 620, 0.5), _silence(0.5)]) for _ in range(4)])
    ringback = np.concatenate([np.concatenate([_dual_tone(440, 480, 2.0), _silence(4.0)]) for _ in range(2)])

    assert [(s.kind, s.start) for s in _spans(busy)] == [("tone", pytest.approx(0.0, abs=EDGE_S))]
    assert [(s.kind, s.start) for s in _spans(ringback)] == [
        ("tone", pytest.approx(0.0, abs=EDGE_S)),
        ("tone", pytest.approx(6.0, abs=EDGE_S)),
    ]


def test_white_noise_and_a_steady_harmonic_buzz_are_not_labelled():
    t = _seconds(8.0)
    buzz = (0.02 * sum(np.sin(2 * np.pi * 100 * k * t) / k for k in range(1, 30))).astype(np.float32)

    assert _spans(np.concatenate([_silence(1.0), _noise(6.0), _silence(1.0)])) == ()
    assert find_non_speech(_noise(6.0), 0, ()) == ()
    assert find_non_speech(buzz, 0, ()) == ()  # harmonic and held, but never changes: not music


def test_speech_is_not_music_even_without_the_speech_veto():
    speech = _jfk()

    assert find_non_speech(speech, 0, ()) == ()
    assert _spans(speech) == ()


@pytest.mark.parametrize("path", REAL_RECORDINGS, ids=lambda p: p.name)
def test_real_recordings_have_no_music_or_tones(path):
    audio = decode(path)
    for channel in range(audio.channel_count):
        samples = np.asarray(audio.samples[channel])
        assert find_non_speech(samples, channel, ()) == ()
        assert find_non_speech(samples, channel, speech_regions(samples)) == ()


def test_speech_over_music_is_not_labelled_and_spans_do_not_bridge_it():
    samples = np.concatenate([_chords(4.0), _chords(4.0, seed=1), _chords(4.0, seed=2)])
    speech = [(5.0, 7.0)]

    spans = find_non_speech(samples, 0, speech)

    assert [s.kind for s in spans] == ["music", "music"]
    assert spans[0].end <= 5.0 and spans[1].start >= 7.0
    assert spans[0].start == pytest.approx(0.0, abs=EDGE_S)
    assert spans[1].end == pytest.approx(12.0, abs=EDGE_S)


def test_short_sounds_are_too_short_to_label():
    samples = np.concatenate([_silence(1.0), _chords(1.0), _silence(1.0), _dual_tone(1000, 1000, 0.2)])

    assert find_non_speech(samples, 0, ()) == ()


def test_empty_and_tiny_input_give_nothing():
    assert find_non_speech(np.zeros(0, dtype=np.float32), 0, ()) == ()
    assert find_non_speech(_silence(0.01), 0, ()) == ()
    assert speech_regions(np.zeros(0, dtype=np.float32)) == ()


def test_detection_costs_under_two_percent_of_the_audio_duration():
    call = np.tile(np.concatenate([_jfk(), _chords(6.0), _dtmf("0123456789"), _noise(3.0)]), 10)
    find_non_speech(call[:SAMPLE_RATE], 0, ())  # first call pays numpy's FFT planning

    began = time.perf_counter()
    find_non_speech(call, 0, speech_regions(call))
    elapsed = time.perf_counter() - began

    assert elapsed < 0.02 * len(call) / SAMPLE_RATE


def _utterance(speaker: str, *words: tuple[float, float, str]) -> Utterance:
    built = tuple(Word(start, end, text, 0.9, speaker) for start, end, text in words)
    return Utterance(speaker, built[0].start, built[-1].end, " ".join(w.text for w in built), built)


def test_words_inside_music_on_their_own_channel_are_dropped():
    agent = _utterance(
        "S1", (1.3, 1.5, "Thank"), (1.5, 2.0, "you."), (6.5, 7.0, "Hello"), (7.0, 7.5, "again.")
    )
    hallucinated = _utterance("S1", (3.0, 3.5, "you"))
    customer = _utterance("S2", (2.0, 2.5, "Still"), (2.5, 3.0, "waiting."))
    early = _utterance("S1", (5.5, 6.4, "Sorry"))  # reaches out of the music: maybe real, kept
    music = NonSpeechSpan(1.2, 6.0, "music", 0)

    kept = drop_non_speech_words([agent, hallucinated, customer, early], [music], {"S1": 0, "S2": 1})

    assert kept == (_utterance("S1", (6.5, 7.0, "Hello"), (7.0, 7.5, "again.")), customer, early)


def test_spans_of_a_mixdown_apply_to_every_speaker():
    first = _utterance("S1", (0.5, 1.0, "Hi."))
    second = _utterance("S2", (2.0, 2.5, "beep"))
    tone = NonSpeechSpan(1.8, 3.0, "tone", None)

    assert drop_non_speech_words([first, second], [tone], {}) == (first,)
    assert drop_non_speech_words([first, second], [], {}) == (first, second)


# --- the whole pipeline, once --------------------------------------------------------------------

MUSIC_S = 6.0


def _on_hold_call() -> Audio:
    """Agent (left): 6 s of hold music, then speech. Customer (right): DTMF digits, then speech."""
    speech = _jfk()
    agent = np.concatenate([_chords(MUSIC_S), _silence(0.5), speech])
    customer = np.concatenate([_silence(1.0), _dtmf("1234"), _silence(1.0), 0.7 * speech])
    length = max(len(agent), len(customer))
    samples = np.zeros((2, length), dtype=np.float32)
    samples[0, : len(agent)] = agent
    samples[1, : len(customer)] = customer
    samples.flags.writeable = False
    return Audio(samples=samples, source=AudioInfo("WAV/FLOAT", length / SAMPLE_RATE, SAMPLE_RATE, 2))


@pytest.fixture(scope="module")
def on_hold(tiny_en, models_cache):
    return pipeline.run(_on_hold_call(), TranscribeOptions(diarization="channels"), cache_dir=models_cache)


@pytest.mark.slow
def test_pipeline_labels_music_on_the_agent_channel_and_gives_the_agent_no_words_there(on_hold):
    agent = next(s.label for s in on_hold.speakers if s.role == "agent")
    music = [s for s in on_hold.non_speech if s.kind == "music"]
    tones = [s for s in on_hold.non_speech if s.kind == "tone"]

    assert [(s.channel, s.start, s.end) for s in music] == [
        (0, pytest.approx(0.0, abs=EDGE_S), pytest.approx(MUSIC_S, abs=EDGE_S))
    ]
    assert [(s.channel, s.start) for s in tones] == [(1, pytest.approx(1.0, abs=EDGE_S))]
    agent_words = [w for u in on_hold.utterances if u.speaker == agent for w in u.words]
    assert agent_words and all(w.start >= MUSIC_S for w in agent_words)
    assert "country" in " ".join(u.text for u in on_hold.utterances if u.speaker == agent).lower()
    assert any(u.speaker != agent for u in on_hold.utterances)  # the customer still speaks
