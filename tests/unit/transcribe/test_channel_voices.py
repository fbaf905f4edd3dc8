"""Another voice on a party's channel (a transfer, a supervisor), on real recordings and the real
voice encoder. Speech is cut into word-like units from the VAD, as ``bench.channel_voices`` does,
so no ASR is needed here; ``test_pipeline`` runs the whole way with words."""

from __future__ import annotations

import numpy as np
import pytest

from bench.channel_voices import prints_of, units
from tests.paths import SAMPLE_AUDIO
from transcribe.audio import decode
from transcribe.channel_voices import voice_changes, voices_on_channels
from transcribe.types import SAMPLE_RATE, Utterance, Word

_PAUSE = np.zeros(SAMPLE_RATE, dtype=np.float32)


@pytest.fixture(scope="module")
def demo_call() -> np.ndarray:
    """Agent (flite rms) on channel 0, customer (flite slt) on channel 1, 54 s."""
    return decode(SAMPLE_AUDIO / "2024-05-06_double_charge.wav").samples


def _utterances(samples: np.ndarray, speaker: str) -> list[Utterance]:
    """One utterance of one word per unit of speech."""
    return [
        Utterance(speaker, start, end, "word", (Word(start, end, "word", 1.0, speaker),))
        for start, end in units(samples)
    ]


def test_one_voice_has_no_change(demo_call):
    for channel in demo_call:
        _, prints = prints_of(channel)
        assert voice_changes(prints) == []


def test_a_handover_is_found_where_the_voices_meet(demo_call):
    agent, customer = demo_call
    handover = np.concatenate([agent[: 30 * SAMPLE_RATE], _PAUSE, customer[: 30 * SAMPLE_RATE]])
    spans, prints = prints_of(handover)

    meet = next(i for i, (start, _) in enumerate(spans) if start >= 30.0)
    assert voice_changes(prints) == [meet]


def test_a_colleague_on_the_agents_line_becomes_a_speaker_and_the_agent_keeps_their_return(demo_call):
    agent, customer = demo_call
    other_call = decode(SAMPLE_AUDIO / "2024-05-13_outage_credit.opus").samples[0]  # the same agent voice
    # The agent, then the customer's voice standing in for a colleague, then the agent again.
    line = np.concatenate([agent, _PAUSE, customer, _PAUSE, other_call])
    colleague_from, colleague_to = (
        (len(agent) + len(_PAUSE)) / SAMPLE_RATE,
        (len(agent) + 2 * len(_PAUSE) + len(customer)) / SAMPLE_RATE,
    )
    signals = np.stack([line, np.zeros_like(line)])
    utterances = _utterances(line, "S1")

    relabelled, channels = voices_on_channels(utterances, {"S1": 0, "S2": 1}, signals)

    assert channels == {"S1": 0, "S2": 1, "S3": 0}
    assert len(relabelled) == len(utterances)
    for before, after in zip(utterances, relabelled, strict=True):
        expected = "S3" if colleague_from <= before.start < colleague_to else "S1"
        assert (after.start, after.speaker, after.words[0].speaker) == (before.start, expected, expected)


def test_a_party_with_too_little_speech_to_judge_is_left_alone(demo_call):
    short = demo_call[0][: 8 * SAMPLE_RATE]
    utterances = _utterances(short, "S1")

    relabelled, channels = voices_on_channels(utterances, {"S1": 0}, short[None, :])

    assert (relabelled, channels) == (tuple(utterances), {"S1": 0})
