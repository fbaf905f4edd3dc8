"""A recorded voice opening a party's channel, found by voice when its wording is not listed.

On a stereo call the phone system's greeting or recording notice is often played on the agent's
line before the agent picks up, while the customer listens. ``transcribe.prompts`` finds prompts
whose wording the organisation listed; this finds the ones it did not, by what they sound like:
the words a channel carries before the other party first speaks, when they are in a clearly
different voice from that channel's party afterwards, were not said by that party.

A mono call has no party's own channel to compare with, but when the diarizer heard the opening as
a voice of its own (speaker "S1" until now, and so the agent by the mono role rule), that voice
speaks only before everybody else and never again; when it is also clearly unlike every voice
heard afterwards, it was the phone system's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from transcribe.intervals import Span
from transcribe.types import Utterance


@dataclass(frozen=True)
class IvrVoiceParams:
    """The recorded-voice stage's settings (``IvrVoiceParams()``: the measured defaults)."""

    # Both sides of the comparison need this many seconds of speech (frames the VAD hears as
    # speech). Each side's voice is the mean of its utterances' CAM++ voiceprints
    # (``voiceprints.mean_voiceprints``). ``bench.ivr_voice`` measures, on every speaker alone of
    # the eval and demo calls, with units of speech of at most 2, 5 or 10 s standing in for
    # utterances: a 4 s opening of a voice against the rest of it scores 0.835 or more; against
    # another voice of the same recording, at most 0.724 with 2 s units and 0.678 with 5 or 10 s
    # (two women on one real phone line).
    min_opening: float = 4.0
    min_after: float = 2.0
    # Where the two sides compared may be one voice cut in two, each needs this much: halves of
    # 3-5 voiced seconds of one voice come near the line (JFK's 11 s recording: 0.77 to 0.80).
    # So it is for a mixdown's opening speaker (the diarizer cuts short recordings of one voice in
    # two) and for a change of voice anywhere in a channel (``transcribe.channel_voices``, whose
    # own ``min_side`` is this by default), where ``bench.channel_voices`` measures what it gives.
    min_side: float = 6.0
    # Openings longer than this are not judged (a phone system's greeting and notices take far
    # less), which bounds the work on a channel whose other party stays silent for long.
    max_opening: float = 60.0
    # The party's voice is taken from this much of their speech after the opening: enough for a
    # steady voiceprint, while an hour-long call costs no more than a short one.
    max_after: float = 30.0
    # Below this cosine the opening is another voice. The line sits above every other voice
    # measured (0.724) and below every voice against itself (0.835), nearer the other voices:
    # missing a prompt leaves it with the party, as without this check, while a false find would
    # take the party's own words away from them.
    another_voice: float = 0.75


def openings_in_another_voice(
    utterances: Sequence[Utterance],
    channels: Mapping[str, np.ndarray],
    device: str = "cpu",
    params: IvrVoiceParams = IvrVoiceParams(),
    speech: Mapping[str, Sequence[Span]] | None = None,
) -> set[int]:
    """Indices of ``utterances`` that open a channel in a voice other than its party's.

    ``channels``: each party's label and the 16 kHz samples of their channel (``speech``: its VAD
    regions, when the caller has them; else they are found here). A channel's opening
    is a run of its first utterances that ends before any other party speaks; of the runs long
    enough to judge, the one whose voice is least like the party's afterwards is taken.
    """
    from transcribe.voiceprints import mean_voiceprints  # torch: only when a call is judged

    found: set[int] = set()
    for label, samples in channels.items():
        mine = [index for index, utterance in enumerate(utterances) if utterance.speaker == label]
        others_start = min((u.start for u in utterances if u.speaker != label), default=float("inf"))
        spans = [(utterances[index].start, utterances[index].end) for index in mine]
        spoken = list(accumulate(end - start for start, end in spans))
        # Voiced seconds are at most the spans' seconds: openings too short to judge are not embedded.
        openings = [
            count
            for count in range(1, len(mine))
            if spans[count - 1][1] <= others_start
            and params.min_opening <= spoken[count - 1] <= params.max_opening
        ]
        if not openings:
            continue
        groups = [
            group for count in openings for group in (spans[:count], _first_seconds(spans[count:], params))
        ]
        prints = mean_voiceprints(samples, groups, device, speech.get(label) if speech else None)
        judged = [
            (opening.similarity(after), count)
            for count, opening, after in zip(openings, prints[::2], prints[1::2], strict=True)
            if opening.seconds >= params.min_opening and after.seconds >= params.min_after
        ]
        if not judged:
            continue
        cosine, count = min(judged)
        if cosine < params.another_voice:
            found.update(mine[:count])
    return found


def opening_voice_alone(
    utterances: Sequence[Utterance],
    samples: np.ndarray,
    device: str = "cpu",
    params: IvrVoiceParams = IvrVoiceParams(),
    speech: Sequence[Span] | None = None,
) -> set[int]:
    """Indices of the ``utterances`` of a mono call (16 kHz ``samples``, ``speech`` its VAD regions
    when the caller has them) whose speaker only opens it,
    in a voice unlike every other speaker's: all of them end before anyone else speaks, and none
    comes after. A person who opens a call (an agent's greeting) speaks again once answered."""
    if not utterances:
        return set()
    opener = min(utterances, key=lambda utterance: utterance.start).speaker
    mine = [index for index, utterance in enumerate(utterances) if utterance.speaker == opener]
    others = [utterance for utterance in utterances if utterance.speaker != opener]
    spans = [(utterances[index].start, utterances[index].end) for index in mine]
    if not others or max(end for _, end in spans) > min(u.start for u in others):
        return set()
    if not params.min_side <= sum(end - start for start, end in spans) <= params.max_opening:
        return set()
    from transcribe.voiceprints import mean_voiceprints  # torch: only when a call is judged

    voices = {
        label: _first_seconds([(u.start, u.end) for u in others if u.speaker == label], params)
        for label in dict.fromkeys(u.speaker for u in others)
    }
    opening, *prints = mean_voiceprints(samples, [spans, *voices.values()], device, speech)
    judged = [voice for voice in prints if voice.seconds >= params.min_side]
    if opening.seconds < params.min_side or not judged:
        return set()
    return set(mine) if all(opening.similarity(voice) < params.another_voice for voice in judged) else set()


def _first_seconds(spans: Sequence[tuple[float, float]], params: IvrVoiceParams) -> list[tuple[float, float]]:
    """The leading spans that start within ``max_after`` seconds of speech (at least one)."""
    kept: list[tuple[float, float]] = []
    total = 0.0
    for start, end in spans:
        if kept and total >= params.max_after:
            break
        kept.append((start, end))
        total += end - start
    return kept
