"""An agent's voice: enrolled where it is known, recognised on mono calls where it is not.

On a stereo call the agent's channel says which voice is theirs; on a mono call only the order of
speech did, and an outbound call or a customer who says "hello" first turns that guess around. A
voiceprint is the mean of CAM++ embeddings (``transcribe.diarization.campplus``) of a voice's
speech, each piece weighted by its length; a mono call's speaker that sounds like the call's
agent's enrolled voiceprint is that agent, whoever spoke first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from transcribe.diarization import campplus
from transcribe.speech import Span, union
from transcribe.types import SAMPLE_RATE, SpeakerTurn


@dataclass(frozen=True)
class VoiceMatchParameters:
    """How a voice is embedded and when it counts as an enrolled agent's.

    ``bench.agent_voices`` enrols each voice of the eval set's real recordings and the demo calls
    (telephone band) from the first half of its speech and holds the second half of every voice of
    the recording against it, and the demo calls' agent channels against each other across calls:
    the same voice scored 0.65 to 0.98 (0.65 and 0.74: two meeting speakers with 7 s each), another
    voice 0.41 to 0.67 (flite voices on an 8 kHz line sound alike). The ranges touch, so a speaker
    is the agent only at or above ``same_voice`` and ``clear_lead`` ahead of the next most alike
    speaker; the same voice led the other voices of its recording by 0.13 or more everywhere. A
    voice not recognised falls back to the first-speaker rule, as before, while a wrong match would
    put the agent's role on a customer, so both lines sit on the cautious side.
    """

    same_voice: float = 0.70
    clear_lead: float = 0.10
    # A speaker with less clean speech than this is not compared: a few words give a shaky embedding.
    min_seconds: float = 2.0
    # Speech is embedded in pieces of about this length (CAM++ was trained on 3 s segments);
    # shorter leftovers down to ``min_piece`` still count, shorter ones are dropped.
    piece: float = 3.0
    min_piece: float = 1.0
    # At most this much of a speaker's speech is embedded, spread over the call: enough for a
    # steady voiceprint while an hour-long call costs no more than a few minutes of one.
    max_seconds: float = 120.0


@dataclass(frozen=True, eq=False)
class Voiceprint:
    """A voice as the mean of its pieces' CAM++ embeddings, and the seconds of speech behind it."""

    vector: np.ndarray  # (192,) float32, L2-normalised
    seconds: float

    def similarity(self, other: Voiceprint) -> float:
        return float(self.vector @ other.vector)


@dataclass(frozen=True)
class AgentComparison:
    """How alike each speaker of a mono call sounds to its agent's voiceprint, and who is the agent:
    the most alike speaker, when clearly so (``VoiceMatchParameters``), or None (the first-speaker
    rule then decides)."""

    similarities: Mapping[str, float]  # speakers with too little speech to compare are left out
    agent: str | None


def speaker_voiceprint(
    samples: np.ndarray,
    turns: Sequence[SpeakerTurn],
    label: str,
    device: str = "cpu",
    parameters: VoiceMatchParameters = VoiceMatchParameters(),
) -> Voiceprint | None:
    """The voiceprint of ``label``'s speech in ``samples`` (16 kHz mono: a channel or the mixdown),
    from its turns where no one else speaks; None with less than ``min_seconds`` of it. Where
    overtalk leaves too little, all of its turns are used."""
    own = union((turn.start, turn.end) for turn in turns if turn.speaker == label)
    others = union((turn.start, turn.end) for turn in turns if turn.speaker != label)
    clean = _without(own, others)
    spans = clean if _seconds(clean) >= parameters.min_seconds else own
    if _seconds(spans) < parameters.min_seconds:
        return None
    pieces = _spread(_pieces(spans, parameters), parameters.max_seconds)
    if not pieces:  # only stretches too short to embed
        return None
    features = [campplus.fbank(samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]) for a, b in pieces]
    lengths = np.array([b - a for a, b in pieces])
    embeddings = campplus.embed(features, device)
    mean = (embeddings * lengths[:, None]).sum(axis=0)
    return Voiceprint(_normalised(mean), float(lengths.sum()))


def compare_with_agent(
    agent_voice: Voiceprint,
    samples: np.ndarray,
    turns: Sequence[SpeakerTurn],
    labels: Sequence[str],
    device: str = "cpu",
    parameters: VoiceMatchParameters = VoiceMatchParameters(),
) -> AgentComparison:
    """Each speaker of a mono call (``labels``, their ``turns`` in the mixdown ``samples``) held
    against the call's agent's enrolled voiceprint."""
    similarities = {}
    for label in labels:
        voice = speaker_voiceprint(samples, turns, label, device, parameters)
        if voice is not None:
            similarities[label] = voice.similarity(agent_voice)
    ranked = sorted(similarities.values(), reverse=True)
    best = max(similarities, key=similarities.__getitem__, default=None)
    recognised = (
        best is not None
        and ranked[0] >= parameters.same_voice
        and (len(ranked) == 1 or ranked[0] - ranked[1] >= parameters.clear_lead)
    )
    return AgentComparison(similarities, best if recognised else None)


def _normalised(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


def _without(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """``spans`` less every part that ``holes`` (sorted, disjoint) cover."""
    kept: list[Span] = []
    for start, end in spans:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                kept.append((start, hole_start))
            start = max(start, hole_end)
        if end > start:
            kept.append((start, end))
    return kept


def _seconds(spans: Sequence[Span]) -> float:
    return sum(end - start for start, end in spans)


def _pieces(spans: Sequence[Span], parameters: VoiceMatchParameters) -> list[Span]:
    """Each span cut into equal pieces of about ``piece`` seconds; pieces under ``min_piece`` go."""
    pieces: list[Span] = []
    for start, end in spans:
        count = max(1, round((end - start) / parameters.piece))
        edges = np.linspace(start, end, count + 1)
        pieces += [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return [(a, b) for a, b in pieces if b - a >= parameters.min_piece]


def _spread(pieces: Sequence[Span], max_seconds: float) -> list[Span]:
    """At most ``max_seconds`` of ``pieces``, taken evenly over the call rather than from its start."""
    total = _seconds(pieces)
    if total <= max_seconds:
        return list(pieces)
    keep = max(1, int(len(pieces) * max_seconds / total))
    return [pieces[i] for i in np.unique(np.linspace(0, len(pieces) - 1, keep).round().astype(int))]
