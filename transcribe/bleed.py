"""Drop words a channel heard only because the other party leaked into it (cross-talk bleed).

On stereo calls each party has a channel, but handsets, hybrids and codecs leak a faint, slightly
delayed copy of one side into the other. Whisper transcribes that copy, and the quiet side then
"says" the loud side's words. Two tests, per pair of channels:

1. Confirmed bleed: another channel carries the same word (same text after normalizing case and
   punctuation, within ``_MATCH_SLACK_S`` for the leak's delay and timestamp jitter), and during
   the word this channel is at least ``BLEED_MARGIN_DB`` quieter than that one. The text says the
   word was spoken once; the energy says on which side, since a leak is quieter than its source.
2. Explained by the leak: Whisper often mishears the faint copy ("tell the con" for "telecom"),
   so text alone misses some. The confirmed words measure this channel's leak level (their median
   level difference, once there are ``_MIN_CONFIRMED`` of them); a word whose energy is at most
   what that leak accounts for, plus 3 dB (its own voice could at most equal the leak), is bleed
   too, whatever its text.

Real overtalk is kept: two parties on their own microphones sit within a few dB of each other,
far above a telephone leak (attenuated 20-30 dB by hybrid echo return loss or headset cross-talk);
``BLEED_MARGIN_DB`` = 10 dB sits between the two, so the rule does not hinge on the exact figure.
A party who is quiet on their own line is protected by test 1 needing the same words and test 2
needing the level of a measured leak.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence

import numpy as np

from transcribe.types import SAMPLE_RATE, AsrSegment, Word

BLEED_MARGIN_DB = 10.0
_MATCH_SLACK_S = 0.3
_MIN_WINDOW_S = 0.2
_MIN_CONFIRMED = 3  # a leak level measured on fewer words is one word's noise
_POWER_FLOOR = 1e-12  # digital silence: keeps the ratio finite


def drop_bleed(
    channel_segments: Sequence[Sequence[AsrSegment]], channels: Sequence[np.ndarray]
) -> tuple[tuple[AsrSegment, ...], ...]:
    """Each channel's segments without its bleed words; ``channels[i]`` is the audio of channel i.

    A segment keeps its time span but loses bleed words (and its text is rebuilt from the words
    left); a segment left without words is dropped.
    """
    if len(channel_segments) != len(channels):
        raise ValueError(f"{len(channel_segments)} transcripts for {len(channels)} audio channels")
    indexes = [_WordIndex(segments) for segments in channel_segments]
    result = []
    for channel, segments in enumerate(channel_segments):
        words = [word for segment in segments for word in segment.words]
        bleed: set[int] = set()  # ids of this channel's bleed words
        for other in range(len(channel_segments)):
            if other != channel:
                bleed |= _bleed_from(words, channels[channel], channels[other], indexes[other])
        result.append(tuple(kept for segment in segments if (kept := _without(segment, bleed))))
    return tuple(result)


def _bleed_from(words: list[Word], own: np.ndarray, source: np.ndarray, source_words: _WordIndex) -> set[int]:
    """Ids of ``words`` (heard on ``own``) that are ``source``'s speech leaking in."""
    below = [10 * np.log10(_power(own, word) / _power(source, word)) for word in words]
    confirmed = {
        id(word): level
        for word, level in zip(words, below, strict=True)
        if level <= -BLEED_MARGIN_DB and source_words.has_same_word(word)
    }
    if len(confirmed) < _MIN_CONFIRMED:
        return set(confirmed)
    explained = min(-BLEED_MARGIN_DB, float(np.median(list(confirmed.values()))) + 3.0)
    return set(confirmed) | {id(word) for word, level in zip(words, below, strict=True) if level <= explained}


def _without(segment: AsrSegment, bleed: set[int]) -> AsrSegment | None:
    words = tuple(word for word in segment.words if id(word) not in bleed)
    if len(words) == len(segment.words):
        return segment
    if not words:
        return None
    return dataclasses.replace(segment, words=words, text=" ".join(word.text for word in words))


class _WordIndex:
    """One channel's words by start time, to find same-text words near a moment in O(log n)."""

    def __init__(self, segments: Sequence[AsrSegment]) -> None:
        words = sorted((w for s in segments for w in s.words), key=lambda w: w.start)
        self._starts = [w.start for w in words]
        self._words = words

    def has_same_word(self, word: Word) -> bool:
        text = _normalized(word.text)
        lo = bisect.bisect_left(self._starts, word.start - _MATCH_SLACK_S)
        hi = bisect.bisect_right(self._starts, word.end + _MATCH_SLACK_S)
        return bool(text) and any(
            _normalized(other.text) == text and other.end >= word.start - _MATCH_SLACK_S
            for other in self._words[lo:hi]
        )


def _normalized(text: str) -> str:
    return re.sub(r"[^\w']", "", text.lower())


def _power(channel: np.ndarray, word: Word) -> float:
    """Mean power of one channel during a word, over at least ``_MIN_WINDOW_S``: Whisper gives
    some words no duration at all, and a few samples say nothing about loudness."""
    middle, half = (word.start + word.end) / 2, max(word.end - word.start, _MIN_WINDOW_S) / 2
    start = max(0, int((middle - half) * SAMPLE_RATE))
    end = max(start + 1, int((middle + half) * SAMPLE_RATE))
    window = np.asarray(channel[start:end], dtype=np.float64)
    return float(np.mean(window * window)) + _POWER_FLOOR if window.size else _POWER_FLOOR
