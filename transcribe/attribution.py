"""Give every word a speaker and group words into speaker-attributed utterances.

Whisper segments follow pauses, not voices, so a speaker change inside a segment must split it;
a word that no turn covers still gets the nearest speaker rather than none (whisperX's gap).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from operator import itemgetter

from transcribe.types import AsrSegment, SpeakerTurn, Utterance, Word

# Speaker given to every word when diarization found no turns at all (e.g. VAD heard nothing).
_ONLY_SPEAKER = "S1"
# A pause this long ends an utterance even when the same voice goes on: in a call that is where
# the other party's turn usually falls. On stereo calls each channel is transcribed on its own and
# one Whisper segment can run across the other side's turns; this keeps the two sides in reading
# order instead of two interleaved monologues.
UTTERANCE_PAUSE = 1.0


def attribute_words(segments: Sequence[AsrSegment], turns: Sequence[SpeakerTurn]) -> tuple[Utterance, ...]:
    """Utterances of same-speaker word runs, each word labelled by the turn it overlaps most."""
    # A segment without word timings is attributed as one span so its text is not lost.
    spans = [
        (item.start, item.end)
        for segment in segments
        for item in (segment.words if segment.words else (segment,))
    ]
    speakers = iter(_speakers_by_overlap(spans, turns))
    utterances: list[Utterance] = []
    for segment in segments:
        labels = [next(speakers) for _ in range(max(1, len(segment.words)))]
        utterances.extend(_segment_utterances(segment, labels))
    return _in_time_order(utterances)


def attribute_segments(segments: Sequence[AsrSegment], turns: Sequence[SpeakerTurn]) -> tuple[Utterance, ...]:
    """One utterance per Whisper segment, wholly given to the turn it overlaps most: the naive
    attribution that ``bench.accuracy --baseline naive`` measures ours against."""
    speakers = _speakers_by_overlap([(segment.start, segment.end) for segment in segments], turns)
    return _in_time_order(
        [
            utterance
            for segment, speaker in zip(segments, speakers, strict=True)
            for utterance in _segment_utterances(segment, [speaker] * max(1, len(segment.words)))
        ]
    )


def utterances_from_channels(
    channel_segments: Sequence[tuple[str, Sequence[AsrSegment]]],
) -> tuple[Utterance, ...]:
    """Utterances of per-channel transcripts (one speaker per channel), interleaved in time.

    Overlapping speech stays as overlapping utterances: both parties were really talking.
    """
    utterances = [
        utterance
        for speaker, segments in channel_segments
        for segment in segments
        for utterance in _segment_utterances(segment, [speaker] * max(1, len(segment.words)))
    ]
    return _in_time_order(utterances)


def _speakers_by_overlap(spans: Sequence[tuple[float, float]], turns: Sequence[SpeakerTurn]) -> list[str]:
    """Speaker per (start, end) span, in input order, from one sweep over both sorted by start.

    ``active`` holds the turns that started before the current span ends and have not ended
    before it starts; each turn enters and leaves it once, so the sweep is O(n + m) plus sorting.
    """
    if not turns:
        return [_ONLY_SPEAKER] * len(spans)
    ordered_turns = sorted(turns, key=lambda turn: (turn.start, turn.end))
    result = [_ONLY_SPEAKER] * len(spans)
    active: list[SpeakerTurn] = []
    next_turn = 0
    last_ended: SpeakerTurn | None = None  # the turn that ended latest among those left behind
    for index in sorted(range(len(spans)), key=spans.__getitem__):
        start, end = spans[index]
        while next_turn < len(ordered_turns) and ordered_turns[next_turn].start < end:
            active.append(ordered_turns[next_turn])
            next_turn += 1
        if any(turn.end <= start for turn in active):
            for turn in active:
                if turn.end <= start and (last_ended is None or turn.end > last_ended.end):
                    last_ended = turn
            active = [turn for turn in active if turn.end > start]
        best_overlap, best = max(
            ((min(end, turn.end) - max(start, turn.start), turn) for turn in active),
            key=itemgetter(0),
            default=(0.0, None),
        )
        if best is None or best_overlap < 0:  # negative only when a span nests inside a longer one
            if best is None and next_turn < len(ordered_turns):
                best = ordered_turns[next_turn]
            best = _nearest(start, end, last_ended, best)
        result[index] = best.speaker
    return result


def _nearest(start: float, end: float, before: SpeakerTurn | None, after: SpeakerTurn | None) -> SpeakerTurn:
    """The closer of the turn that ended before a span and the one that starts after it."""
    if before is None:
        assert after is not None  # callers only get here with at least one turn
        return after
    if after is None or start - before.end <= after.start - end:
        return before
    return after


def split_by_speaker(utterance: Utterance, speakers: Sequence[str]) -> list[Utterance]:
    """The utterance as runs of same-speaker words (``speakers``: one label per word)."""
    if all(speaker == utterance.speaker for speaker in speakers):
        return [utterance]  # as it was, Whisper's own text included
    segment = AsrSegment(utterance.start, utterance.end, utterance.text, utterance.words)
    return _segment_utterances(segment, speakers)


def _segment_utterances(segment: AsrSegment, speakers: Sequence[str]) -> list[Utterance]:
    """Split one segment into same-speaker runs without a long pause (``speakers`` is one label
    per word, or a single label for a segment without word timings)."""
    if not segment.words:
        text = segment.text.strip()
        return [Utterance(speakers[0], segment.start, segment.end, text, ())] if text else []
    runs: list[tuple[str, list[Word]]] = []
    for word, speaker in zip(segment.words, speakers, strict=True):
        labelled = dataclasses.replace(word, speaker=speaker)
        if runs and runs[-1][0] == speaker and word.start - runs[-1][1][-1].end < UTTERANCE_PAUSE:
            runs[-1][1].append(labelled)
        else:
            runs.append((speaker, [labelled]))
    return [
        Utterance(
            speaker=speaker,
            start=words[0].start,
            end=words[-1].end,
            text=" ".join(word.text.strip() for word in words),
            words=tuple(words),
        )
        for speaker, words in runs
    ]


def _in_time_order(utterances: list[Utterance]) -> tuple[Utterance, ...]:
    return tuple(sorted(utterances, key=lambda utterance: (utterance.start, utterance.end)))
