"""Call metrics on hand-built transcripts whose right answers can be worked out on paper."""

from __future__ import annotations

import pytest

from transcribe.metrics import SpeechSpan, call_metrics, speech_metrics
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance


def _transcript(
    duration: float, turns: list[tuple[str, float, float]], roles: dict[str, str | None]
) -> Transcript:
    return Transcript(
        language="en",
        duration=duration,
        speakers=tuple(Speaker(label=label, role=role) for label, role in roles.items()),  # type: ignore[arg-type]
        utterances=tuple(Utterance(speaker=s, start=a, end=b, text="...", words=()) for s, a, b in turns),
        options=TranscribeOptions(),
        models={},
    )


def test_stereo_call_with_overlap() -> None:
    # 0-1 silence | agent 1-5 | customer 4-8 (starts 1 s before the agent stops: customer interrupts)
    # | agent 7.9-9 (0.1 s overlap: a hand-over, not an interruption) | silence 9-10 | customer 10-12
    # | agent 10.5-11 (customer still talking 1.5 s: agent interrupts) | silence 12-14.
    transcript = _transcript(
        14.0,
        [
            ("A", 1.0, 5.0),
            ("B", 4.0, 8.0),
            ("A", 7.9, 9.0),
            ("B", 10.0, 12.0),
            ("A", 10.5, 11.0),
        ],
        {"A": "agent", "B": "customer"},
    )
    metrics = call_metrics(transcript)

    assert metrics.agent_speech == pytest.approx(4.0 + 1.1 + 0.5)
    assert metrics.customer_speech == pytest.approx(4.0 + 2.0)
    assert metrics.all_speech == pytest.approx(11.6)
    assert metrics.talk_ratio == pytest.approx(5.6 / 11.6)
    # Someone speaks 1-9 and 10-12: 10 s of 14.
    assert metrics.silence == pytest.approx(4.0)
    assert metrics.silence_share == pytest.approx(4.0 / 14.0)
    assert metrics.customer_interruptions == 1
    assert metrics.agent_interruptions == 1


def test_roles_come_from_the_speakers_not_the_labels() -> None:
    # A reviewer swapped the roles: the same turns now count for the other party.
    turns = [("A", 0.0, 3.0), ("B", 2.0, 4.0)]
    swapped = call_metrics(_transcript(4.0, turns, {"A": "customer", "B": "agent"}))
    assert swapped.agent_speech == pytest.approx(2.0)
    assert swapped.agent_interruptions == 1 and swapped.customer_interruptions == 0


def test_voices_without_role_count_as_speech_but_never_interrupt() -> None:
    transcript = _transcript(10.0, [("A", 0.0, 4.0), ("X", 1.0, 6.0)], {"A": "agent", "X": None})
    metrics = call_metrics(transcript)
    assert metrics.talk_ratio == pytest.approx(4.0 / 9.0)
    assert metrics.agent_interruptions == metrics.customer_interruptions == 0
    assert metrics.silence == pytest.approx(4.0)


def test_ivr_prompts_are_not_part_of_the_talk_ratio_nor_silence() -> None:
    turns = [("IVR", 0.0, 4.0), ("A", 5.0, 7.0), ("B", 7.0, 9.0)]
    metrics = call_metrics(_transcript(10.0, turns, {"IVR": "ivr", "A": "agent", "B": "customer"}))
    assert (metrics.all_speech, metrics.talk_ratio) == (pytest.approx(4.0), pytest.approx(0.5))
    assert metrics.silence == pytest.approx(2.0)


def test_simultaneous_starts_interrupt_nobody() -> None:
    metrics = speech_metrics(
        5.0, [SpeechSpan("agent", 1.0, 3.0), SpeechSpan("customer", 1.0, 4.0)], min_overlap=0.0
    )
    assert metrics.agent_interruptions == metrics.customer_interruptions == 0


def test_one_utterance_over_several_is_one_interruption() -> None:
    # The customer talks over two agent utterances with one long utterance started mid-first.
    spans = [SpeechSpan("agent", 0.0, 2.0), SpeechSpan("customer", 1.0, 6.0), SpeechSpan("agent", 3.0, 4.0)]
    metrics = speech_metrics(6.0, spans)
    assert metrics.customer_interruptions == 1
    assert metrics.agent_interruptions == 1  # the agent's second utterance starts inside the customer's


def test_empty_and_silent_calls() -> None:
    silent = speech_metrics(30.0, [])
    assert silent.talk_ratio is None
    assert silent.silence == silent.duration == 30.0 and silent.silence_share == 1.0
    empty = speech_metrics(0.0, [])
    assert empty.silence_share == 0.0


def test_speech_past_the_end_of_the_audio_is_clipped_for_silence() -> None:
    metrics = speech_metrics(10.0, [SpeechSpan("agent", 8.0, 10.2)])
    assert metrics.silence == pytest.approx(8.0)
    assert metrics.silence_share == pytest.approx(0.8)
