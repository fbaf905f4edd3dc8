"""A call read as a conversation: a speaker's consecutive utterances are one turn, at its first start."""

from __future__ import annotations

import dataclasses

from review_app.formatting import Turn, speaker_turns
from tests.app.app_data import hand_transcript
from transcribe.types import Utterance


def test_consecutive_utterances_of_one_speaker_are_one_turn() -> None:
    call = hand_transcript(30.0)
    a, b, _, d = call.utterances[:4]  # agent, customer, agent, customer
    # The agent goes on after a pause (a second utterance of hers), then the customer answers.
    agent_again = Utterance(a.speaker, b.start, b.end, "and one more thing", b.words)
    transcript = dataclasses.replace(call, utterances=(a, agent_again, d))
    assert speaker_turns(transcript) == [
        Turn(a.speaker, a.start, f"{a.text} and one more thing"),
        Turn(d.speaker, d.start, d.text),
    ]


def test_alternating_speakers_give_a_turn_each() -> None:
    call = hand_transcript(30.0)
    assert [(t.speaker, t.start, t.text) for t in speaker_turns(call)] == [
        (u.speaker, u.start, u.text) for u in call.utterances
    ]
