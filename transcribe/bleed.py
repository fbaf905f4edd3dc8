"""Drop words a channel heard only because the other party leaked into it (cross-talk bleed).

On stereo calls each party has a channel, but handsets, hybrids and codecs leak a faint, slightly
delayed copy of one side into the other. Whisper transcribes that copy, and the quiet side then
"says" the loud side's words. Two tests, per pair of channels:

1. Confirmed bleed: another channel carries the same word (same text after normalizing case and
   punctuation, within ``match_slack_s`` for the leak's delay and timestamp jitter), and during
   the word this channel is at least ``margin_db`` quieter than that one. The text says the
   word was spoken once; the energy says on which side, since a leak is quieter than its source.
2. Explained by the leak: Whisper often mishears the faint copy ("tell the con" for "telecom"),
   so text alone misses some. The confirmed words measure this channel's leak level (their median
   level difference, once there are ``min_confirmed`` of them); a word whose energy is at most
   what that leak accounts for, plus ``own_voice_db`` (its own voice could at most equal the
   leak), is bleed too, whatever its text.

Real overtalk is kept: two parties on their own microphones sit within a few dB of each other,
far above a telephone leak (attenuated 20-30 dB by hybrid echo return loss or headset cross-talk);
``margin_db`` = 10 dB sits between the two, so the rule does not hinge on the exact figure.
A party who is quiet on their own line is protected by test 1 needing the same words and test 2
needing the level of a measured leak.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transcribe.types import SAMPLE_RATE, AsrSegment, Word

_POWER_FLOOR = 1e-12  # digital silence: keeps the ratio finite


@dataclass(frozen=True)
class BleedParams:
    """The bleed stage's settings (``BleedParams()``: the measured defaults)."""

    # A word is confirmed bleed when its channel is at least this much quieter than the channel
    # carrying the same word: between overtalk (a few dB) and a telephone leak (20-30 dB down).
    margin_db: float = 10.0
    # How far apart the same word may be timed on the two channels: the leak's delay and
    # Whisper's timestamp jitter.
    match_slack_s: float = 0.3
    # A word's loudness is measured over at least this much audio: Whisper gives some words no
    # duration at all, and a few samples say nothing about loudness.
    min_window_s: float = 0.2
    # A leak level measured on fewer confirmed words is one word's noise.
    min_confirmed: int = 3
    # A word up to this much louder than the measured leak is still explained by it: its own voice
    # could at most equal the leak.
    own_voice_db: float = 3.0


def drop_bleed(
    channel_segments: Sequence[Sequence[AsrSegment]],
    channels: Sequence[np.ndarray],
    params: BleedParams = BleedParams(),
) -> tuple[tuple[AsrSegment, ...], ...]:
    """Each channel's segments without its bleed words; ``channels[i]`` is the audio of channel i.

    A segment keeps its time span but loses bleed words (and its text is rebuilt from the words
    left); a segment left without words is dropped.
    """
    if len(channel_segments) != len(channels):
        raise ValueError(f"{len(channel_segments)} transcripts for {len(channels)} audio channels")
    indexes = [_WordIndex(segments, params.match_slack_s) for segments in channel_segments]
    result = []
    for channel, segments in enumerate(channel_segments):
        words = [word for segment in segments for word in segment.words]
        bleed: set[int] = set()  # ids of this channel's bleed words
        for other in range(len(channel_segments)):
            if other != channel:
                bleed |= _bleed_from(words, channels[channel], channels[other], indexes[other], params)
        result.append(tuple(kept for segment in segments if (kept := _without(segment, bleed))))
    return tuple(result)


def _bleed_from(
    words: list[Word], own: np.ndarray, source: np.ndarray, source_words: _WordIndex, params: BleedParams
) -> set[int]:
    """Ids of ``words`` (heard on ``own``) that are ``source``'s speech leaking in."""
    window = params.min_window_s
    below = [10 * np.log10(_power(own, word, window) / _power(source, word, window)) for word in words]
    confirmed = {
        id(word): level
        for word, level in zip(words, below, strict=True)
        if level <= -params.margin_db and source_words.has_same_word(word)
    }
    if len(confirmed) < params.min_confirmed:
        return set(confirmed)
    explained = min(-params.margin_db, float(np.median(list(confirmed.values()))) + params.own_voice_db)
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

    def __init__(self, segments: Sequence[AsrSegment], slack: float) -> None:
        words = sorted((w for s in segments for w in s.words), key=lambda w: w.start)
        self._slack = slack
        self._starts = [w.start for w in words]
        self._words = words

    def has_same_word(self, word: Word) -> bool:
        text = _normalized(word.text)
        lo = bisect.bisect_left(self._starts, word.start - self._slack)
        hi = bisect.bisect_right(self._starts, word.end + self._slack)
        return bool(text) and any(
            _normalized(other.text) == text and other.end >= word.start - self._slack
            for other in self._words[lo:hi]
        )


def _normalized(text: str) -> str:
    return re.sub(r"[^\w']", "", text.lower())


def _power(channel: np.ndarray, word: Word, min_window: float) -> float:
    """Mean power of one channel during a word, over at least ``min_window`` seconds."""
    middle, half = (word.start + word.end) / 2, max(word.end - word.start, min_window) / 2
    start = max(0, int((middle - half) * SAMPLE_RATE))
    end = max(start + 1, int((middle + half) * SAMPLE_RATE))
    window = np.asarray(channel[start:end], dtype=np.float64)
    return float(np.mean(window * window)) + _POWER_FLOOR if window.size else _POWER_FLOOR
