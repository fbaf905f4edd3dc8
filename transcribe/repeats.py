"""Collapse Whisper's repetition loops ("thank you thank you thank you thank you ...").

When decoding goes wrong, Whisper can emit the same phrase over and over for as long as the
window lasts. faster-whisper's compression-ratio fallback catches long loops but not short ones
inside an otherwise good segment. People repeat themselves too ("no, no, no"), so only a run of
``LOOP_REPEATS`` or more back-to-back copies of the same n-gram counts as a loop; it is
collapsed to its first copy, which keeps the words (and their times) that were really heard.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from transcribe.types import AsrSegment, Word

LOOP_REPEATS = 4  # three copies are still speech ("thank you, thank you, thank you")
_MAX_NGRAM = 12  # longer loops are whole sentences, which the compression-ratio test catches


def collapse_repeats(segments: Sequence[AsrSegment]) -> tuple[AsrSegment, ...]:
    """The segments with every looped n-gram kept once; untouched segments are returned as is."""
    return tuple(_collapsed(segment) for segment in segments)


def _collapsed(segment: AsrSegment) -> AsrSegment:
    words = _without_loops(segment.words)
    if len(words) == len(segment.words):
        return segment
    return dataclasses.replace(
        segment, words=words, text=" ".join(word.text for word in words), end=words[-1].end
    )


def _without_loops(words: tuple[Word, ...]) -> tuple[Word, ...]:
    tokens = [re.sub(r"[^\w']", "", word.text.lower()) for word in words]
    kept: list[Word] = []
    i = 0
    while i < len(words):
        n, copies = _loop_at(tokens, i)
        kept.extend(words[i : i + n])
        i += n * copies
    return tuple(kept)


def _loop_at(tokens: list[str], i: int) -> tuple[int, int]:
    """(n, copies) of the shortest n-gram starting at ``i`` repeated LOOP_REPEATS+ times, else (1, 1)."""
    for n in range(1, min(_MAX_NGRAM, (len(tokens) - i) // LOOP_REPEATS) + 1):
        gram = tokens[i : i + n]
        copies = 1
        while tokens[i + copies * n : i + (copies + 1) * n] == gram:
            copies += 1
        if copies >= LOOP_REPEATS:
            return n, copies
    return 1, 1
