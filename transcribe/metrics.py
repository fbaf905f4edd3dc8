"""Conversation metrics a quality coach follows per agent: who talked how much, silence, interruptions.

Computed from utterance times and speaker roles only, so a stored transcript without its words is
enough. Stereo calls (one channel per party) show real overlap; a mono call diarized into turns
that never overlap shows no interruptions, which is a limit of the input, not a finding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from transcribe.intervals import covered
from transcribe.types import Role, Transcript

# Word timestamps jitter by a tenth of a second or two at turn boundaries; an overlap shorter than
# this is a hand-over, not someone talking over the other.
MIN_INTERRUPTION_OVERLAP = 0.3


@dataclass(frozen=True)
class SpeechSpan:
    role: Role | None  # None: a voice nobody has given a role yet
    start: float
    end: float


@dataclass(frozen=True)
class CallMetrics:
    duration: float
    agent_speech: float  # seconds in which the agent speaks
    customer_speech: float
    # Every role's speech time added up (overlap counts once per role), except the IVR's: the
    # talk ratio is the agent's share of the conversation, and recorded prompts are not part of it.
    all_speech: float
    talk_ratio: float | None  # agent_speech / all_speech; None when nobody speaks
    silence: float  # seconds in which nobody speaks
    silence_share: float  # silence / duration; 0 for an empty call
    agent_interruptions: int  # agent utterances that start while the customer is still speaking
    customer_interruptions: int


def call_metrics(transcript: Transcript, min_overlap: float = MIN_INTERRUPTION_OVERLAP) -> CallMetrics:
    """The metrics of one transcript, with speaker roles as stored (reviewers' corrections included)."""
    role_of = {speaker.label: speaker.role for speaker in transcript.speakers}
    spans = [SpeechSpan(role_of.get(u.speaker), u.start, u.end) for u in transcript.utterances]
    return speech_metrics(transcript.duration, spans, min_overlap)


def speech_metrics(
    duration: float, spans: Iterable[SpeechSpan], min_overlap: float = MIN_INTERRUPTION_OVERLAP
) -> CallMetrics:
    """The metrics from bare speech spans: storage reads these straight from utterance rows, without
    building whole transcripts, when it summarises many calls."""
    spans = sorted((s for s in spans if s.end > s.start), key=lambda s: s.start)
    speech_by_role: dict[Role | None, float] = {}
    for role in {s.role for s in spans}:
        speech_by_role[role] = covered((s.start, s.end) for s in spans if s.role == role)
    all_speech = sum(seconds for role, seconds in speech_by_role.items() if role != "ivr")
    agent_speech = speech_by_role.get("agent", 0.0)
    silence = max(0.0, duration - covered((s.start, s.end) for s in _clipped(spans, duration)))
    interruptions = _interruptions(spans, min_overlap)
    return CallMetrics(
        duration=duration,
        agent_speech=agent_speech,
        customer_speech=speech_by_role.get("customer", 0.0),
        all_speech=all_speech,
        talk_ratio=agent_speech / all_speech if all_speech > 0 else None,
        silence=silence,
        silence_share=silence / duration if duration > 0 else 0.0,
        agent_interruptions=interruptions.get("agent", 0),
        customer_interruptions=interruptions.get("customer", 0),
    )


def _clipped(spans: Iterable[SpeechSpan], duration: float) -> Iterable[SpeechSpan]:
    # Utterance ends can run past the audio by a few milliseconds of padding.
    for span in spans:
        if span.start < duration:
            yield SpeechSpan(span.role, max(0.0, span.start), min(span.end, duration))


def _interruptions(spans: list[SpeechSpan], min_overlap: float) -> dict[Role, int]:
    """Per interrupting role (agent or customer), the utterances that start while the other party's
    utterance, begun earlier, still runs for at least ``min_overlap`` seconds. Utterances that start
    at the same moment interrupt nobody."""
    other: dict[Role, Role] = {"agent": "customer", "customer": "agent"}
    latest_end: dict[Role, float] = {}
    counts: dict[Role, int] = {}
    for start, group in groupby(spans, key=lambda s: s.start):
        same_start = list(group)
        for span in same_start:
            if span.role in other and latest_end.get(other[span.role], -math.inf) - start >= min_overlap:
                counts[span.role] = counts.get(span.role, 0) + 1
        for span in same_start:
            if span.role in other:
                latest_end[span.role] = max(latest_end.get(span.role, span.end), span.end)
    return counts
