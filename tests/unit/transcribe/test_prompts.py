"""Recorded IVR prompts found in the words by the organisation's prompt texts."""

from __future__ import annotations

from transcribe.prompts import IVR_SPEAKER, label_prompts, prompt_words
from transcribe.types import Speaker, Utterance, Word

NOTICE = "This call may be recorded for quality and training purposes."


def _said(speaker: str, start: float, text: str) -> Utterance:
    """An utterance of ``text``, one word every 0.3 s from ``start``."""
    words = tuple(
        Word(start + 0.3 * i, start + 0.3 * i + 0.25, token, 0.9, speaker)
        for i, token in enumerate(text.split())
    )
    return Utterance(speaker, words[0].start, words[-1].end, text, words)


def _texts(utterances: tuple[Utterance, ...]) -> list[tuple[str, str]]:
    return [(u.speaker, u.text) for u in utterances]


def test_prompt_words_ignore_case_and_punctuation():
    assert prompt_words("Thank you for calling ACME, we're here!") == [
        "thank", "you", "for", "calling", "acme", "we're", "here"
    ]  # fmt: skip


def test_a_prompt_inside_the_agents_words_becomes_the_ivrs_on_the_agents_channel():
    agent = _said(
        "S1", 0.0, "This call may be recorded for quality and training purposes. Hello, this is Dana."
    )

    labelled, ivr = label_prompts([agent], [NOTICE], {"S1": 0, "S2": 1})

    assert _texts(labelled) == [
        (IVR_SPEAKER, "This call may be recorded for quality and training purposes."),
        ("S1", "Hello, this is Dana."),
    ]
    assert ivr == Speaker(IVR_SPEAKER, "ivr", 0)
    assert all(word.speaker == u.speaker for u in labelled for word in u.words)


def test_whispers_word_errors_are_allowed():
    misheard = _said("S1", 0.0, "This call maybe recorded for quality and trainings purposes. Hi.")

    labelled, _ = label_prompts([misheard], [NOTICE], {"S1": 0})

    assert [u.speaker for u in labelled] == [IVR_SPEAKER, "S1"]


def test_an_agents_paraphrase_stays_the_agents():
    paraphrase = _said("S1", 0.0, "Just so you know we record calls for training. How can I help?")

    labelled, ivr = label_prompts([paraphrase], [NOTICE], {"S1": 0})

    assert (_texts(labelled), ivr) == (_texts((paraphrase,)), None)


def test_a_repeated_queue_message_is_found_every_time():
    hold = "Your call is important to us, please stay on the line."
    first, second = _said("S1", 0.0, hold), _said("S1", 30.0, hold)
    customer = _said("S2", 10.0, "Come on, pick up.")

    labelled, _ = label_prompts([first, customer, second], [hold], {"S1": 0, "S2": 1})

    assert [u.speaker for u in labelled] == [IVR_SPEAKER, "S2", IVR_SPEAKER]


def test_on_stereo_the_other_party_talking_over_a_prompt_does_not_hide_it():
    prompt = _said("S1", 0.0, NOTICE)
    overtalk = _said("S2", 0.65, "hello hello")  # words between the prompt's, on the other channel

    labelled, _ = label_prompts([prompt, overtalk], [NOTICE], {"S1": 0, "S2": 1})

    assert _texts(labelled) == [(IVR_SPEAKER, NOTICE), ("S2", "hello hello")]


def test_in_a_mixdown_a_prompt_split_between_two_voices_is_found_whole():
    head, tail = NOTICE.split(" for ")
    split = [_said("S1", 0.0, head), _said("S2", 1.5, "for " + tail)]

    labelled, ivr = label_prompts(split, [NOTICE], None)

    assert {u.speaker for u in labelled} == {IVR_SPEAKER}
    assert ivr == Speaker(IVR_SPEAKER, "ivr", None)


def test_no_prompts_configured_changes_nothing():
    agent = _said("S1", 0.0, NOTICE)
    assert label_prompts([agent], [], {"S1": 0}) == ((agent,), None)


def test_utterances_found_recorded_by_voice_are_the_ivrs_without_a_listed_prompt():
    greeting = _said("S1", 0.0, "Thank you for calling, all our lines are busy.")
    agent = _said("S1", 6.0, "Hi, this is Maria.")

    labelled, ivr = label_prompts([greeting, agent], [], {"S1": 0, "S2": 1}, recorded={0})

    assert ivr == Speaker(IVR_SPEAKER, "ivr", 0)
    assert _texts(labelled) == [("IVR", greeting.text), ("S1", agent.text)]
    assert all(w.speaker == "IVR" for w in labelled[0].words)
