"""A recorded voice opening a call, found by voice, on real recordings and the real voice encoder.
Utterances are the VAD's units of speech, as in ``test_channel_voices``, so no ASR is needed here;
``test_pipeline`` runs the whole way with words."""

from __future__ import annotations

import numpy as np
import pytest

from bench.channel_voices import units
from tests.paths import EVAL, SAMPLE_AUDIO
from transcribe.audio import decode
from transcribe.diarization import campplus
from transcribe.ivr_voice import opening_voice_alone, openings_in_another_voice
from transcribe.types import SAMPLE_RATE, Utterance, Word

_PAUSE = np.zeros(SAMPLE_RATE, dtype=np.float32)


@pytest.fixture(scope="module")
def demo_call() -> np.ndarray:
    """Agent (flite rms) on channel 0, customer (flite slt) on channel 1, 54 s."""
    return decode(SAMPLE_AUDIO / "2024-05-06_double_charge.wav").samples


@pytest.fixture(scope="module")
def recording() -> np.ndarray:
    """JFK's 11 s, standing in for a recorded greeting."""
    return decode(EVAL / "jfk.flac").samples[0]


def _utterances(samples: np.ndarray, speaker: str, offset: float = 0.0) -> list[Utterance]:
    """One utterance of one word per unit of speech, ``offset`` seconds into the call."""
    spans = [(offset + start, offset + end) for start, end in units(samples)]
    return [Utterance(speaker, start, end, "word", (Word(start, end, "word", 1.0),)) for start, end in spans]


def _mono_call(opening: np.ndarray, demo_call: np.ndarray) -> tuple[np.ndarray, list[Utterance]]:
    """The opening, a pause, then the demo call mixed down; its units labelled S1 (the opening),
    S2 (the agent) and S3 (the customer), sorted by time."""
    offset = (len(opening) + len(_PAUSE)) / SAMPLE_RATE
    samples = np.concatenate([opening, _PAUSE, demo_call.mean(axis=0)])
    utterances = [
        *_utterances(opening, "S1"),
        *_utterances(demo_call[0], "S2", offset),
        *_utterances(demo_call[1], "S3", offset),
    ]
    return samples, sorted(utterances, key=lambda utterance: utterance.start)


def _indices(utterances: list[Utterance], speaker: str) -> set[int]:
    return {index for index, utterance in enumerate(utterances) if utterance.speaker == speaker}


def test_a_voice_that_only_opens_a_mono_call_is_recorded(demo_call, recording):
    samples, utterances = _mono_call(recording, demo_call)

    assert opening_voice_alone(utterances, samples) == _indices(utterances, "S1")


def test_an_opening_voice_that_speaks_again_is_a_person(demo_call, recording):
    samples, utterances = _mono_call(recording, demo_call)
    # One of the agent's later units given to the opener: they answered, as a person does.
    later = max(_indices(utterances, "S2"))
    utterances[later] = Utterance("S1", utterances[later].start, utterances[later].end, "word", ())

    assert opening_voice_alone(utterances, samples) == set()


def test_an_opening_in_the_voice_of_a_later_speaker_is_theirs(demo_call):
    # The agent's first 15 s heard as a voice of its own (a diarizer's split), then the call.
    agent_opening = demo_call[0][: 15 * SAMPLE_RATE]
    samples, utterances = _mono_call(agent_opening, demo_call[:, 15 * SAMPLE_RATE :])

    assert opening_voice_alone(utterances, samples) == set()


def test_an_opening_too_short_to_judge_by_voice_is_left_alone(demo_call, recording):
    # 2.5 s of JFK: two voices are not told apart reliably on so little speech (bench.ivr_voice).
    samples, utterances = _mono_call(recording[: int(2.5 * SAMPLE_RATE)], demo_call)

    assert opening_voice_alone(utterances, samples) == set()


def test_a_channels_recorded_opening_is_found_with_each_utterance_embedded_once(
    demo_call, recording, monkeypatch
):
    # JFK opens the agent's channel before the demo call. Every unit of his opening is a place where
    # the opening may end, judged against the party's speech after it; each unit is embedded once,
    # not once for every opening and sequel that holds it.
    lead = np.zeros(len(recording) + len(_PAUSE), dtype=np.float32)
    agent = np.concatenate([recording, _PAUSE, demo_call[0]])
    customer = np.concatenate([lead, demo_call[1]])
    offset = len(lead) / SAMPLE_RATE
    utterances = sorted(
        [
            *_utterances(recording, "S1"),
            *_utterances(demo_call[0], "S1", offset),
            *_utterances(demo_call[1], "S2", offset),
        ],
        key=lambda utterance: utterance.start,
    )
    embedded: list[int] = []  # filterbank frames (10 ms) of each stretch CAM++ is given
    real_embed = campplus.embed

    def counted(features, device="cpu"):
        embedded.extend(len(stretch) for stretch in features)
        return real_embed(features, device)

    monkeypatch.setattr(campplus, "embed", counted)

    found = openings_in_another_voice(utterances, {"S1": agent, "S2": customer})

    assert found == {index for index, utterance in enumerate(utterances) if utterance.end <= offset}
    agents_frames = sum(round((u.end - u.start) * 100) + 1 for u in utterances if u.speaker == "S1")
    assert 0 < sum(embedded) <= agents_frames
