"""Who is on each line: the voice on a stereo channel can change during a call.

One party per channel makes stereo diarization exact, but the person on a line can change: the
agent transfers the call to a colleague or hands it to a supervisor, or the customer passes the
phone to someone. A channel's words are scanned for the points where the voice just before
and just after clearly differ (voiceprints of equal voiced length, up to ``max_side`` seconds each
side, compared as ``transcribe.ivr_voice`` compares an opening with its party). Each stint between
such points is then matched with the voices already heard on that channel (the first agent coming
back after a hold) or becomes a new speaker on the channel, who takes the channel's role.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from transcribe.attribution import split_by_speaker
from transcribe.intervals import Span
from transcribe.ivr_voice import IvrVoiceParams
from transcribe.types import Utterance, Word

if TYPE_CHECKING:
    from transcribe.voiceprints import Voiceprint


@dataclass(frozen=True)
class ChannelVoicesParams:
    """The voices-on-channels stage's settings (``ChannelVoicesParams()``: the measured defaults)."""

    # The voice on each side is taken from at most this much speech next to the point, so a short
    # stint in the middle of a call (a supervisor's few sentences) is not drowned by the call
    # around it.
    max_side: float = 10.0
    # Each side needs this many seconds of speech (the recorded-voice stage's, ``transcribe.ivr_voice``).
    min_side: float = IvrVoiceParams.min_side
    # Below this cosine the two sides are two voices. ``bench.channel_voices`` measures, with CAM++
    # voiceprints on the eval and demo calls: one voice is never below 0.885 at any point of its
    # speech; where two voices meet the cosine is at most 0.74 (two women on one real phone line).
    # Sides of up to ``max_side`` seconds are steadier than an opening, hence a line of its own.
    another_voice: float = 0.81


_Place = tuple[int, int]  # (utterance index, word position): a word of the input


def voices_on_channels(
    utterances: Sequence[Utterance],
    channels: Mapping[str, int],
    signals: np.ndarray,
    device: str = "cpu",
    params: ChannelVoicesParams = ChannelVoicesParams(),
    speech: Mapping[int, Sequence[Span]] | None = None,
) -> tuple[tuple[Utterance, ...], dict[str, int]]:
    """``utterances`` with each further voice on a party's channel as a speaker of its own, and
    every speaker's channel (the party labels of ``channels``, then the new ones).

    ``signals``: the 16 kHz samples, (channels, frames); ``speech``: each channel's VAD regions,
    when the caller has them. A change of voice can fall inside an
    utterance (Whisper does not always pause for it), so voices are judged on runs of words, and
    an utterance that holds two voices is split. New speakers are numbered after the highest
    "S<n>" label, in order of first speech.
    """
    from transcribe.voiceprints import voiceprints  # torch: only when a call is judged

    stints: list[tuple[float, str, int, list[_Place]]] = []  # (start, party, voice, its words)
    for label, channel in channels.items():
        places = sorted(
            (
                (index, position)
                for index, u in enumerate(utterances)
                if u.speaker == label
                for position in range(len(u.words))
            ),
            key=lambda place: utterances[place[0]].words[place[1]].start,
        )
        words = [utterances[index].words[position] for index, position in places]
        runs = _runs(words)
        if len(runs) < 2:
            continue
        groups = [[(words[first].start, words[stop - 1].end)] for first, stop in runs]
        prints = voiceprints(signals[channel], groups, device, speech.get(channel) if speech else None)
        bounds = [0, *_settled(prints, voice_changes(prints, params)), len(runs)]
        for (first, stop), voice in zip(pairwise(bounds), _voices(prints, bounds, params), strict=True):
            if voice:
                held = places[runs[first][0] : runs[stop - 1][1]]
                stints.append((words[runs[first][0]].start, label, voice, held))
    if not stints:
        return tuple(utterances), dict(channels)
    number = 1 + max((int(label[1:]) for label in channels if label[1:].isdigit()), default=0)
    new_labels: dict[tuple[str, int], str] = {}
    speaker_of: dict[_Place, str] = {}
    for _, party, voice, held in sorted(stints, key=lambda stint: stint[0]):
        new_labels.setdefault((party, voice), f"S{number + len(new_labels)}")
        speaker_of.update(dict.fromkeys(held, new_labels[(party, voice)]))
    relabelled = [
        part
        for index, utterance in enumerate(utterances)
        for part in split_by_speaker(
            utterance,
            [
                speaker_of.get((index, position), utterance.speaker)
                for position in range(len(utterance.words))
            ],
        )
    ]
    return (
        tuple(sorted(relabelled, key=lambda utterance: (utterance.start, utterance.end))),
        {**channels, **{new: channels[party] for (party, _), new in new_labels.items()}},
    )


def voice_changes(
    prints: Sequence[Voiceprint], params: ChannelVoicesParams = ChannelVoicesParams()
) -> list[int]:
    """Positions in ``prints`` (one per run of a channel's words, in order) where another voice takes
    over, by binary segmentation: the clearest change is taken, then each side is searched again."""
    return _changes(prints, 0, len(prints), params)


def change_cosine(
    prints: Sequence[Voiceprint],
    first: int,
    at: int,
    stop: int,
    params: ChannelVoicesParams = ChannelVoicesParams(),
) -> float | None:
    """How alike the voice just before ``at`` is to the voice just after it, within
    ``prints[first:stop]``: both sides of equal voiced seconds, up to ``max_side``; None when a
    side has less than ``min_side``."""
    before = _leading((prints[index] for index in range(at - 1, first - 1, -1)), params.max_side)
    after = _leading((prints[index] for index in range(at, stop)), params.max_side)
    side = min(sum(p.seconds for p in before), sum(p.seconds for p in after))
    if side < params.min_side:
        return None
    return _together(_leading(before, side)).similarity(_together(_leading(after, side)))


def _changes(prints: Sequence[Voiceprint], first: int, stop: int, params: ChannelVoicesParams) -> list[int]:
    # A run next to a change found already may hold both voices (Whisper does not always pause
    # for a handover): it is left out of the search on that side.
    low = first + 1 if first > 0 else first
    high = stop - 1 if stop < len(prints) else stop
    judged = [
        (cosine, at)
        for at in range(low + 1, high)
        if (cosine := change_cosine(prints, low, at, high, params)) is not None
    ]
    if not judged or min(judged)[0] >= params.another_voice:
        return []
    _, at = min(judged)
    return [*_changes(prints, first, at, params), at, *_changes(prints, at, stop, params)]


def _settled(prints: Sequence[Voiceprint], changes: Sequence[int]) -> list[int]:
    """Each change moved by at most one run, so that the two runs beside it go with the voice they
    sound more like. The search compares whole stretches either side; a short run at the edge (the
    end of a sentence cut off by ``MAX_PIECE``) holds too little voice to sway it, and can land on
    the wrong side."""
    bounds = [0, *changes, len(prints)]
    settled: list[int] = []
    for index, at in enumerate(changes):
        first, stop = bounds[index], bounds[index + 2]
        if at - 1 <= first or at + 1 >= stop:
            settled.append(at)  # no voice left on one side once its edge runs are set aside
            continue
        sides = (_together(prints[first : at - 1]), _together(prints[at + 1 : stop]))
        candidates = [bound for bound in (at - 1, at, at + 1) if not settled or bound > settled[-1]]
        settled.append(max(candidates, key=lambda bound: _edge_fit(prints, at, bound, sides)))
    return settled


def _edge_fit(
    prints: Sequence[Voiceprint], at: int, bound: int, sides: tuple[Voiceprint, Voiceprint]
) -> float:
    """How well the runs either side of change ``at`` match the voices before and after it, were the
    change at ``bound``; each run weighs by its voiced seconds."""
    before, after = sides
    return sum(
        prints[run].seconds * prints[run].similarity(before if run < bound else after) for run in (at - 1, at)
    )


def _leading(prints: Iterable[Voiceprint], seconds: float) -> list[Voiceprint]:
    """The first of ``prints``, as many as it takes to hold ``seconds`` of voice (or all)."""
    taken: list[Voiceprint] = []
    held = 0.0
    for voiceprint in prints:
        if held >= seconds:
            break
        taken.append(voiceprint)
        held += voiceprint.seconds
    return taken


def _together(prints: Iterable[Voiceprint]) -> Voiceprint:
    return functools.reduce(operator.add, prints)


def _voices(prints: Sequence[Voiceprint], bounds: Sequence[int], params: ChannelVoicesParams) -> list[int]:
    """A voice per stint between ``bounds``, 0 for the channel's party: a stint in the voice of an
    earlier one is theirs, any other is a new voice."""
    heard: list[Voiceprint] = []
    voices = []
    for first, stop in pairwise(bounds):
        stint = _together(prints[first:stop])
        alike = [stint.similarity(voice) for voice in heard]
        if alike and max(alike) >= params.another_voice:
            voice = int(np.argmax(alike))
            heard[voice] = heard[voice] + stint
        else:
            voice = len(heard)
            heard.append(stint)
        voices.append(voice)
    return voices


def _runs(words: Sequence[Word]) -> list[tuple[int, int]]:
    """(first, stop) ranges of ``words``: runs without a pause or a sentence end, cut again before a
    part grows past ``MAX_PIECE`` seconds; the units a voice is judged on, and the places where it
    may change. Whisper's word times often stretch over a short pause, so a change of voice can
    come without a gap between the words."""
    from transcribe.voiceprints import MAX_PIECE, word_runs

    parts = []
    for first, stop in word_runs(words):
        start = first
        for index in range(first + 1, stop):
            if words[index].end - words[start].start > MAX_PIECE:
                parts.append((start, index))
                start = index
        parts.append((start, stop))
    return parts
