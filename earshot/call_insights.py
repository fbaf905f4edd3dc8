"""Insights per call, measured on the stored words and turns: per speaker the talk share, talk speed,
longest monologue and questions asked, and the sentiment of each utterance with its trend.

Sentiment is VADER's (``vaderSentiment``: a lexicon and rules for English, shipped in the wheel,
nothing downloaded), so it is given for English transcripts only; for any other language the
figures come without it. VADER scores sentences as written: on a call, a Whisper transcript of
speech, it tells a clearly pleased or upset sentence, not irony. The transcript is the stored one,
redacted: a placeholder ("[CARD]") carries no sentiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

from transcribe.intervals import covered
from transcribe.types import Role, Transcript, Utterance

__all__ = [
    "CallInsights",
    "InsightParameters",
    "SpeakerInsights",
    "TrendPoint",
    "UtteranceSentiment",
    "call_insights",
]


@dataclass(frozen=True)
class InsightParameters:
    # A pause this long or longer between one speaker's utterances ends their monologue: the other
    # party had room to speak.
    monologue_pause: float = 2.0
    trend_segments: int = 5  # the call cut into this many equal parts for the sentiment trend
    # VADER's own thresholds on its compound score for a positive or negative sentence.
    positive_from: float = 0.05
    negative_to: float = -0.05

    def __post_init__(self) -> None:
        if self.monologue_pause < 0:
            raise ValueError("the monologue pause is negative")
        if self.trend_segments < 1:
            raise ValueError("the trend needs one segment at least")
        if not self.negative_to <= 0 <= self.positive_from:
            raise ValueError("the sentiment thresholds must lie either side of 0")


@dataclass(frozen=True)
class SpeakerInsights:
    speaker: str
    role: Role | None
    words: int
    speech_seconds: float  # time in this speaker's utterances, overlaps counted once
    talk_share: float  # of all non-IVR speech; the shares of a call sum to 1
    words_per_minute: float | None  # None with under a second of speech
    longest_monologue: float  # seconds
    longest_monologue_start: float | None
    questions: int  # sentences ending in a question mark
    questions_per_minute: float  # per minute of the call
    mean_sentiment: float | None  # None: no English sentiment


@dataclass(frozen=True)
class UtteranceSentiment:
    speaker: str
    role: Role | None
    start: float
    end: float
    compound: float  # VADER's, -1 (most negative) to 1
    label: str  # positive | neutral | negative


@dataclass(frozen=True)
class TrendPoint:
    speaker: str
    role: Role | None
    segment: int  # 0 .. trend_segments - 1
    start: float
    end: float
    mean: float  # the mean compound of the speaker's utterances whose middle lies in the segment
    utterances: int


@dataclass(frozen=True)
class CallInsights:
    duration: float
    speakers: tuple[SpeakerInsights, ...]  # by talk share, most first
    sentiment: tuple[UtteranceSentiment, ...]  # in call order; empty when not English
    trend: tuple[TrendPoint, ...]  # segments where the speaker said something
    sentiment_language: str | None  # "en" when measured, else None


def call_insights(transcript: Transcript, parameters: InsightParameters | None = None) -> CallInsights:
    parameters = parameters or InsightParameters()
    role_of = {speaker.label: speaker.role for speaker in transcript.speakers}
    spoken = [u for u in transcript.utterances if role_of.get(u.speaker) != "ivr" and u.end > u.start]
    english = transcript.language.lower().startswith("en")
    sentiment = tuple(_sentiment(u, role_of.get(u.speaker), parameters) for u in spoken) if english else ()
    by_speaker: dict[str, list[Utterance]] = {}
    for utterance in spoken:
        by_speaker.setdefault(utterance.speaker, []).append(utterance)
    seconds = {label: covered((u.start, u.end) for u in said) for label, said in by_speaker.items()}
    all_speech = sum(seconds.values())
    minutes = transcript.duration / 60
    speakers = []
    for label, said in by_speaker.items():
        words = sum(_word_count(u) for u in said)
        longest, longest_at = _longest_monologue(spoken, label, parameters.monologue_pause)
        questions = sum(_questions(u) for u in said)
        scores = [s.compound for s in sentiment if s.speaker == label]
        speakers.append(
            SpeakerInsights(
                speaker=label,
                role=role_of.get(label),
                words=words,
                speech_seconds=round(seconds[label], 3),
                talk_share=seconds[label] / all_speech if all_speech > 0 else 0.0,
                words_per_minute=words / (seconds[label] / 60) if seconds[label] >= 1 else None,
                longest_monologue=round(longest, 3),
                longest_monologue_start=longest_at,
                questions=questions,
                questions_per_minute=questions / minutes if minutes > 0 else 0.0,
                mean_sentiment=sum(scores) / len(scores) if scores else None,
            )
        )
    speakers.sort(key=lambda s: (-s.talk_share, s.speaker))
    return CallInsights(
        duration=transcript.duration,
        speakers=tuple(speakers),
        sentiment=sentiment,
        trend=_trend(sentiment, transcript.duration, parameters.trend_segments),
        sentiment_language="en" if english else None,
    )


def _word_count(utterance: Utterance) -> int:
    # Placeholders stand for what was said ("[CARD]" for sixteen digits): one word each.
    return len(utterance.words) if utterance.words else len(utterance.text.split())


def _questions(utterance: Utterance) -> int:
    return sum(1 for piece in utterance.text.split("?")[:-1] if piece.strip())


def _longest_monologue(spoken: list[Utterance], label: str, pause: float) -> tuple[float, float | None]:
    """The longest stretch of ``label``'s utterances that no other speaker's utterance and no pause
    of ``pause`` seconds breaks; its length and start. Someone cutting in ends it where they begin."""
    runs: list[tuple[float, float]] = []
    run: tuple[float, float] | None = None
    for utterance in sorted(spoken, key=lambda u: u.start):
        if utterance.speaker != label:
            if run is not None:
                runs.append((run[0], max(run[0], min(run[1], utterance.start))))
                run = None
        elif run is None or utterance.start - run[1] >= pause:
            if run is not None:
                runs.append(run)
            run = (utterance.start, utterance.end)
        else:
            run = (run[0], max(run[1], utterance.end))
    if run is not None:
        runs.append(run)
    if not runs:
        return 0.0, None
    start, end = max(runs, key=lambda r: (r[1] - r[0], -r[0]))
    return end - start, start


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # reads the lexicon once per process


def _sentiment(utterance: Utterance, role: Role | None, parameters: InsightParameters) -> UtteranceSentiment:
    compound = float(_analyzer().polarity_scores(utterance.text)["compound"])
    if compound >= parameters.positive_from:
        label = "positive"
    elif compound <= parameters.negative_to:
        label = "negative"
    else:
        label = "neutral"
    return UtteranceSentiment(utterance.speaker, role, utterance.start, utterance.end, compound, label)


def _trend(
    sentiment: tuple[UtteranceSentiment, ...], duration: float, segments: int
) -> tuple[TrendPoint, ...]:
    if not sentiment or duration <= 0:
        return ()
    width = duration / segments
    grouped: dict[tuple[str, int], list[UtteranceSentiment]] = {}
    for item in sentiment:
        middle = (item.start + item.end) / 2
        segment = min(segments - 1, max(0, int(middle // width)))
        grouped.setdefault((item.speaker, segment), []).append(item)
    return tuple(
        TrendPoint(
            speaker=speaker,
            role=items[0].role,
            segment=segment,
            start=segment * width,
            end=(segment + 1) * width,
            mean=sum(i.compound for i in items) / len(items),
            utterances=len(items),
        )
        for (speaker, segment), items in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    )
