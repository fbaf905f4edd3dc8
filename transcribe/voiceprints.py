"""Voiceprints: CAM++ embeddings (``transcribe.diarization.campplus``, the mono diarizer's own
model) of some speech, with the seconds behind them, for comparing voices outside diarization.

- An agent's voice, enrolled where it is known and recognised on mono calls where it is not. On a
  stereo call the agent's channel says which voice is theirs; on a mono call only the order of
  speech did, and an outbound call or a customer who says "hello" first turns that guess around.
  A mono call's speaker that sounds like the call's agent's enrolled voiceprint is that agent,
  whoever spoke first.
- A recorded voice opening a line (``transcribe.ivr_voice``) and a change of voice on a line
  (``transcribe.channel_voices``): speech is judged in runs of words (``word_runs``), the places
  where a voice may change and units short enough to hold one voice.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from transcribe.diarization import campplus
from transcribe.intervals import Span, covered, subtract, union
from transcribe.speech import speech_regions
from transcribe.types import SAMPLE_RATE, SpeakerTurn, Word

# Runs of words are cut where the words pause this long (in a call, the floor changes hands at
# pauses far more often than mid-phrase)...
_WORD_GAP = 0.3
# ...and after a word that ends a sentence, where a reply often follows with no pause at all...
_SENTENCE_ENDS = (".", "?", "!", "\u3002", "\uff1f", "\uff01")  # and the CJK full-width forms
# ...and again before a run grows past this many seconds: one Whisper segment can hold both
# parties (a quick reply, overtalk), and a run is judged as one voice.
MAX_PIECE = 2.0
# A voiceprint is taken from the speech frames of its spans when there are this many (0.2 s).
_MIN_SPOKEN_FRAMES = 20


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

    def __add__(self, other: Voiceprint) -> Voiceprint:
        """The voice of both stretches: their embeddings' mean, weighted by seconds."""
        total = self.vector * self.seconds + other.vector * other.seconds
        return Voiceprint(_normalised(total), self.seconds + other.seconds)


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
    clean = subtract(own, others)
    spans = clean if covered(clean) >= parameters.min_seconds else own
    if covered(spans) < parameters.min_seconds:
        return None
    pieces = _spread(_pieces(spans, parameters), parameters.max_seconds)
    if not pieces:  # only stretches too short to embed
        return None
    features = [campplus.fbank(samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]) for a, b in pieces]
    lengths = np.array([b - a for a, b in pieces])
    embeddings = campplus.embed(features, device)
    mean = (embeddings * lengths[:, None]).sum(axis=0)
    return Voiceprint(_normalised(mean), float(lengths.sum()))


def voiceprints(
    samples: np.ndarray,
    groups: Sequence[Sequence[Span]],
    device: str = "cpu",
    speech: Sequence[Span] | None = None,
) -> list[Voiceprint]:
    """One voiceprint per group of (start, end) spans of a 16 kHz mono signal, from the frames of
    the group's spans that lie in ``speech`` (the signal's VAD regions; found here when not
    given): word times and openings take in pauses and line noise, alike for every voice, and
    a voiceprint's seconds are its seconds of speech."""
    if not groups:
        return []
    last = max((end for group in groups for _, end in group), default=0.0)
    head = samples[: int(last * SAMPLE_RATE) + campplus.FRAME_LENGTH]
    bank = campplus.fbank(head)
    spoken = _spoken_frames(speech_regions(head) if speech is None else speech, len(bank))
    rows = [_frame_rows(group, spoken) for group in groups]
    vectors = campplus.embed([bank[group_rows] for group_rows in rows], device)
    return [
        Voiceprint(vector, int(spoken[group_rows].sum()) * campplus.FRAME_SHIFT / SAMPLE_RATE)
        for vector, group_rows in zip(vectors, rows, strict=True)
    ]


def mean_voiceprints(
    samples: np.ndarray,
    groups: Sequence[Sequence[Span]],
    device: str = "cpu",
    speech: Sequence[Span] | None = None,
) -> list[Voiceprint]:
    """``voiceprints`` of the same groups (each of one span or more), each the mean of its spans'
    own voiceprints, every span embedded once however many groups hold it: groups that share their
    spans (the growing openings of a channel) cost CAM++ the spans' seconds once, not each group's
    seconds. A mean of pieces scores voices more alike than one embedding of them all, the same
    voice and another alike (``bench.ivr_voice``), so a line drawn for one does not hold for the
    other."""
    spans = list(dict.fromkeys(span for group in groups for span in group))
    prints = voiceprints(samples, [[span] for span in spans], device, speech)
    of_span = dict(zip(spans, prints, strict=True))
    return [functools.reduce(operator.add, (of_span[span] for span in group)) for group in groups]


def _spoken_frames(speech: Sequence[Span], frames: int) -> np.ndarray:
    """Whether each filterbank frame's centre lies in ``speech``."""
    centres = (np.arange(frames) * campplus.FRAME_SHIFT + campplus.FRAME_LENGTH / 2) / SAMPLE_RATE
    spoken = np.zeros(frames, dtype=bool)
    for start, end in speech:
        spoken[(centres >= start) & (centres < end)] = True
    return spoken


def _frame_rows(group: Sequence[Span], spoken: np.ndarray) -> np.ndarray:
    """The filterbank frames (10 ms apart) of a group's spans that hold speech; all of the spans'
    frames when fewer than ``_MIN_SPOKEN_FRAMES`` do (too little to embed), and at least one."""
    step = campplus.FRAME_SHIFT / SAMPLE_RATE
    rows = [np.arange(int(start / step), int(end / step)) for start, end in group]
    kept = np.unique(np.concatenate(rows)) if rows else np.zeros(0, dtype=int)
    kept = kept[kept < len(spoken)]
    if np.count_nonzero(spoken[kept]) >= _MIN_SPOKEN_FRAMES:
        return kept[spoken[kept]]
    first = int(group[0][0] / step) if group else 0
    return kept if len(kept) else np.array([max(0, min(len(spoken) - 1, first))])


def word_runs(words: Sequence[Word]) -> list[tuple[int, int]]:
    """(first, stop) ranges of ``words`` said without a pause of ``_WORD_GAP`` or a sentence end."""
    cuts = [
        index
        for index in range(1, len(words))
        if words[index].start - words[index - 1].end >= _WORD_GAP
        or words[index - 1].text.endswith(_SENTENCE_ENDS)
    ]
    return list(pairwise([0, *cuts, len(words)])) if words else []


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
    total = covered(pieces)
    if total <= max_seconds:
        return list(pieces)
    keep = max(1, int(len(pieces) * max_seconds / total))
    return [pieces[i] for i in np.unique(np.linspace(0, len(pieces) - 1, keep).round().astype(int))]
