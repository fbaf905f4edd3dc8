"""Collapse Whisper's repetition loops ("thank you thank you thank you thank you ...").

When decoding goes wrong, Whisper can emit the same phrase over and over for as long as the
window lasts. faster-whisper's compression-ratio fallback catches long loops but not short ones
inside an otherwise good segment. People repeat themselves too ("no, no, no"), so only a run of
``loop_repeats`` or more back-to-back copies of the same n-gram counts as a loop; it is
collapsed to its first copy, which keeps the words (and their times) that were really heard.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from transcribe.types import AsrSegment, Word


@dataclass(frozen=True)
class RepeatsParams:
    """The repeats stage's settings (``RepeatsParams()``: the defaults)."""

    loop_repeats: int = 4  # three copies are still speech ("thank you, thank you, thank you")
    max_ngram: int = 12  # longer loops are whole sentences, which the compression-ratio test catches


def collapse_repeats(
    segments: Sequence[AsrSegment], params: RepeatsParams = RepeatsParams()
) -> tuple[AsrSegment, ...]:
    """The segments with every looped n-gram kept once; untouched segments are returned as is."""
    return tuple(_collapsed(segment, params) for segment in segments)


def _collapsed(segment: AsrSegment, params: RepeatsParams) -> AsrSegment:
    words = _without_loops(segment.words, params)
    if len(words) == len(segment.words):
        return segment
    return dataclasses.replace(
        segment, words=words, text=" ".join(word.text for word in words), end=words[-1].end
    )


def _without_loops(words: tuple[Word, ...], params: RepeatsParams) -> tuple[Word, ...]:
    tokens = [re.sub(r"[^\w']", "", word.text.lower()) for word in words]
    kept: list[Word] = []
    i = 0
    while i < len(words):
        n, copies = _loop_at(tokens, i, params)
        kept.extend(words[i : i + n])
        i += n * copies
    return tuple(kept)


def _loop_at(tokens: list[str], i: int, params: RepeatsParams) -> tuple[int, int]:
    """(n, copies) of the shortest n-gram starting at ``i`` repeated ``loop_repeats``+ times, else (1, 1)."""
    for n in range(1, min(params.max_ngram, (len(tokens) - i) // params.loop_repeats) + 1):
        gram = tokens[i : i + n]
        copies = 1
        while tokens[i + copies * n : i + (copies + 1) * n] == gram:
            copies += 1
        if copies >= params.loop_repeats:
            return n, copies
    return 1, 1
