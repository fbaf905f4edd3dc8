"""Voiceprints and the agent's recognition by voice, on a real phone call with the real CAM++ model.
Similarities are held to ranges, not values: int8 and CPU kernels differ."""

from __future__ import annotations

import pytest

from bench.scoring import read_rttm
from tests.paths import EVAL
from transcribe import audio
from transcribe.types import SpeakerTurn
from transcribe.voiceprints import VoiceMatchParameters, compare_with_agent, speaker_voiceprint

CALL = EVAL / "phone_call_2spk.wav"


@pytest.fixture(scope="module")
def halves() -> tuple:
    """The call's samples and reference turns before and after 21.5 s (where both speakers have
    enough speech on each side): enrol on one part, recognise on the other."""
    samples = audio.decode(CALL).mono()
    reference = read_rttm(CALL.with_suffix(".rttm"))
    turns = [SpeakerTurn(s.start, s.end, label) for s, _, label in reference.itertracks(yield_label=True)]
    return samples, [t for t in turns if t.end <= 21.5], [t for t in turns if t.start >= 21.5]


@pytest.mark.slow
def test_the_agent_enrolled_on_one_part_is_recognised_on_the_other(halves: tuple) -> None:
    samples, first, second = halves
    enrolled = speaker_voiceprint(samples, first, "speaker91")
    assert enrolled is not None and enrolled.seconds > 2.0
    comparison = compare_with_agent(enrolled, samples, second, ["speaker90", "speaker91"])
    assert comparison.agent == "speaker91"
    assert comparison.similarities["speaker91"] - comparison.similarities["speaker90"] >= 0.1


@pytest.mark.slow
def test_two_seconds_of_the_agent_are_too_few_to_tell_so_nobody_is_recognised(halves: tuple) -> None:
    """speaker90 says only 2.15 s after the cut: one piece, as unlike their own voiceprint as the
    other speaker is (0.69 against 0.65 here). The first-speaker rule then decides, not a coin."""
    samples, first, second = halves
    enrolled = speaker_voiceprint(samples, first, "speaker90")
    assert enrolled is not None
    comparison = compare_with_agent(enrolled, samples, second, ["speaker90", "speaker91"])
    assert comparison.agent is None and set(comparison.similarities) == {"speaker90", "speaker91"}


@pytest.mark.slow
def test_no_clear_match_leaves_the_agent_to_the_first_speaker_rule(halves: tuple) -> None:
    samples, first, second = halves
    enrolled = speaker_voiceprint(samples, first, "speaker90")
    assert enrolled is not None
    strict = VoiceMatchParameters(same_voice=0.999)
    assert (
        compare_with_agent(enrolled, samples, second, ["speaker90", "speaker91"], parameters=strict).agent
        is None
    )
    # A speaker with too little speech is not compared at all.
    few = [SpeakerTurn(0.0, 0.5, "speaker91"), *[t for t in second if t.speaker == "speaker90"]]
    assert (
        "speaker91" not in compare_with_agent(enrolled, samples, few, ["speaker90", "speaker91"]).similarities
    )
