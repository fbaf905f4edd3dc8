"""Phone calls in which a caller reads numbers out, for the redaction tests and ``bench.redaction``.

Each line is (channel, voice, text): stereo calls put the agent on channel 0 and the customer on
channel 1, as PBXs record them; mono calls mix both. Lines follow each other with a short pause,
and ``SpokenLine`` says when each was spoken, so a test can tell where a number was heard.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from bench.make_synthetic_calls import synthesize
from transcribe.types import SAMPLE_RATE

PAUSE_S = 0.7


@dataclass(frozen=True, slots=True)
class SpokenLine:
    channel: int
    voice: str
    text: str
    start: float = 0.0
    end: float = 0.0


def write_call(
    path: Path, lines: Sequence[SpokenLine], *, stereo: bool = True, rate: int = SAMPLE_RATE
) -> tuple[SpokenLine, ...]:
    """Speak ``lines`` one after the other into ``path`` (16-bit WAV at ``rate``); the lines come
    back with their times."""
    with tempfile.TemporaryDirectory() as workdir:
        spoken = [(line, 0.4 * synthesize(line.voice, line.text, Path(workdir))) for line in lines]
    timed: list[SpokenLine] = []
    cursor = PAUSE_S
    for line, audio in spoken:
        timed.append(
            SpokenLine(line.channel, line.voice, line.text, cursor, cursor + len(audio) / SAMPLE_RATE)
        )
        cursor = timed[-1].end + PAUSE_S
    signal = np.zeros((2, int((cursor + PAUSE_S) * SAMPLE_RATE)), np.float32)
    for (_, audio), line in zip(spoken, timed, strict=True):
        at = int(line.start * SAMPLE_RATE)
        signal[line.channel, at : at + len(audio)] += audio
    out = signal.T if stereo else signal.sum(axis=0)
    if rate != SAMPLE_RATE:
        out = soxr.resample(out, SAMPLE_RATE, rate)
    sf.write(path, out, rate, subtype="PCM_16")
    return tuple(timed)
