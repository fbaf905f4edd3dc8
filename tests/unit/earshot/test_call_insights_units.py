"""The summary and insight functions on small transcripts built here, where the right answer is
known by construction: which line is a promise, who talked how long, VADER's sign on clear sentences."""

from __future__ import annotations

import pytest

from earshot.call_insights import InsightParameters, call_insights
from earshot.call_summary import SummaryParameters, summarize
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance, Word

SPEAKERS = (Speaker("A", "agent", 0), Speaker("C", "customer", 1), Speaker("I", "ivr", None))


def said(label: str, start: float, text: str, seconds_a_word: float = 0.4) -> Utterance:
    words = tuple(
        Word(start + seconds_a_word * i, start + seconds_a_word * (i + 1), f" {w}", 0.9, label)
        for i, w in enumerate(text.split())
    )
    return Utterance(label, start, words[-1].end, text, words)


def call(*utterances: Utterance, language: str = "en", duration: float | None = None) -> Transcript:
    end = max((u.end for u in utterances), default=0.0)
    return Transcript(language, duration or end + 1, SPEAKERS, utterances, TranscribeOptions(), {})


SUPPORT = call(
    said("I", 0.0, "Your call may be recorded for training purposes today."),
    said("A", 5.0, "Good morning, you are speaking with Sam, how can I help?"),
    said("C", 11.0, "I was charged twice for my subscription last month."),
    said("A", 16.0, "I am sorry about that, let me check your account please."),
    said("C", 21.0, "I will wait, thank you."),
    said("A", 24.0, "I can see it. I will refund 30 euros within five working days."),
    said("C", 31.0, "That works, thank you very much."),
    said("A", 34.0, "Is there anything else I can help with? Goodbye."),
)


def test_the_summary_picks_the_reason_the_promise_and_the_amount() -> None:
    lines = summarize(SUPPORT)
    by_kind = {
        kind: [line.text for line in lines if kind in line.kinds] for kind in ("reason", "promise", "amount")
    }
    assert by_kind["reason"] == ["I was charged twice for my subscription last month."]
    assert by_kind["promise"] == ["I will refund 30 euros within five working days."]  # its own sentence
    assert by_kind["amount"] == by_kind["promise"]
    refund = next(line for line in lines if "promise" in line.kinds)
    assert refund.role == "agent" and 25.0 < refund.start < refund.end <= 31.0  # timed by its words
    texts = " ".join(line.text for line in lines)
    assert all("promise" not in line.kinds for line in lines if line.role == "customer")  # "I will wait"
    assert "recorded" not in texts  # the IVR's prompt is never a line
    assert "Goodbye" not in texts and "how can I help" not in texts  # greetings are not key
    assert [line.start for line in lines] == sorted(line.start for line in lines)


def test_the_summary_is_bounded_and_empty_for_nothing_said() -> None:
    assert summarize(call()) == []
    assert summarize(call(said("A", 0.0, "Okay."), said("C", 1.0, "Yes."))) == []  # too short to be key
    assert len(summarize(SUPPORT, SummaryParameters(max_lines=2))) == 2
    with pytest.raises(ValueError):
        SummaryParameters(max_lines=0)
    with pytest.raises(ValueError):
        SummaryParameters(damping=1.0)


def test_vader_gives_the_sign_of_clear_sentences() -> None:
    found = call_insights(
        call(
            said("C", 0.0, "This is terrible, I am furious and very disappointed."),
            said("A", 5.0, "The meeting is at ten."),
            said("C", 8.0, "Thank you so much, that is wonderful, great help!"),
        )
    )
    assert [s.label for s in found.sentiment] == ["negative", "neutral", "positive"]
    assert found.sentiment[0].compound < -0.5 < 0.5 < found.sentiment[2].compound
    # The customer's trend rises from the first part of the call to the last.
    customer = sorted((p for p in found.trend if p.role == "customer"), key=lambda p: p.segment)
    assert customer[0].mean < 0 < customer[-1].mean and customer[0].segment < customer[-1].segment


def test_talk_share_speed_monologue_and_questions() -> None:
    found = call_insights(
        call(
            said("A", 0.0, "one two three four five six seven eight nine ten", 0.4),  # 0-4 s
            said("A", 4.5, "eleven twelve thirteen fourteen fifteen", 0.4),  # 4.5-6.5 s: the same run
            said("C", 7.0, "is that right? and why?", 0.5),  # 7-9.5 s, two questions
            said("A", 12.0, "sixteen seventeen", 0.5),  # 12-13 s
            duration=60.0,
        )
    )
    agent, customer = found.speakers
    assert (agent.role, customer.role) == ("agent", "customer")
    assert agent.talk_share + customer.talk_share == pytest.approx(1.0)
    assert agent.speech_seconds == pytest.approx(7.0) and customer.speech_seconds == pytest.approx(2.5)
    assert agent.words_per_minute == pytest.approx(17 / (7.0 / 60))
    assert (agent.longest_monologue, agent.longest_monologue_start) == (pytest.approx(6.5), 0.0)
    assert (customer.questions, agent.questions) == (2, 0)
    assert customer.questions_per_minute == pytest.approx(2.0)  # a one-minute call
    # A shorter allowed pause splits the agent's first run in two.
    split = call_insights(
        call(said("A", 0.0, "one two three four five", 0.4), said("A", 3.0, "six seven", 0.4)),
        InsightParameters(monologue_pause=0.5),
    )
    assert split.speakers[0].longest_monologue == pytest.approx(2.0)


def test_no_sentiment_for_a_language_vader_does_not_read() -> None:
    found = call_insights(call(said("C", 0.0, "Dit is verschrikkelijk slecht."), language="nl"))
    assert found.sentiment == () and found.trend == () and found.sentiment_language is None
    assert found.speakers[0].mean_sentiment is None and found.speakers[0].talk_share == 1.0
