"""Spans of time, and the few operations on sets of them the pipeline needs: the one interval type.

A span is a plain ``(start, end)`` tuple of float seconds. pyannote.core's ``Timeline`` is the
field's standard, and ``bench.scoring`` uses it to score, but on the hot paths (a turn less what
the phone system played, per turn; a word inside music, per word) its sorted-container
bookkeeping costs far more than these few lines (measured on 10,000 random spans of an hour:
``union`` 15 ms, ``Timeline.support()`` 150 ms; each span less 300 holes, ``subtract`` 0.25 s,
``Timeline.extrude`` 18 s), for no behaviour the pipeline uses. Domain objects with a time
(``SpeakerTurn``, ``NonSpeechSpan``, ``Utterance``) give theirs as ``(x.start, x.end)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

Span = tuple[float, float]


def union(spans: Iterable[Span]) -> list[Span]:
    """The spans joined where they overlap or touch, sorted."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered(spans: Iterable[Span]) -> float:
    """Seconds covered by the union of ``spans``."""
    return sum((end - start for start, end in union(spans)), 0.0)


def subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """Parts of sorted disjoint ``spans`` outside sorted disjoint ``holes`` (as ``union`` gives
    them). A hole of no length still cuts a span in two there."""
    result = []
    first_hole = 0
    for start, end in spans:
        while first_hole < len(holes) and holes[first_hole][1] <= start:
            first_hole += 1
        cursor = start
        for hole_start, hole_end in holes[first_hole:]:
            if hole_start >= end:
                break
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def within(span: Span, spans: Iterable[Span]) -> bool:
    """Whether ``span`` lies wholly inside one of ``spans``."""
    start, end = span
    return any(outer_start <= start and end <= outer_end for outer_start, outer_end in spans)


def overlapping(starts: np.ndarray, ends: np.ndarray, spans: Iterable[Span]) -> np.ndarray:
    """Per (start, end) pair of the arrays (frames, windows): whether it overlaps any of ``spans``."""
    inside = np.zeros(len(starts), dtype=bool)
    for start, end in spans:
        inside |= (starts < end) & (ends > start)
    return inside
