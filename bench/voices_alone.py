"""Each speaker of a recording alone: the voices the voiceprint benches compare.

A recording in the benches' folders counts when it has an RTTM reference (each speaker's turns
without the overlap) or one party per channel; ``bench.ivr_voice`` and ``bench.channel_voices``
measure their thresholds on these voices.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pyannote.core import Annotation

from bench.accuracy import AUDIO_SUFFIXES, DEFAULT_FOLDER
from bench.scoring import read_rttm
from transcribe import audio
from transcribe.diarization.channels import distinct_channel_indices
from transcribe.types import SAMPLE_RATE

SAMPLE_AUDIO = Path(__file__).resolve().parents[1] / "sample_audio"

_PAUSE = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)


def speaker_alone(samples: np.ndarray, reference: Annotation, speaker: str) -> np.ndarray:
    """The speaker's turns where nobody else talks, joined by half-second pauses."""
    alone = reference.label_timeline(speaker).extrude(reference.get_overlap())
    parts = [samples[int(turn.start * SAMPLE_RATE) : int(turn.end * SAMPLE_RATE)] for turn in alone]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([piece for part in parts for piece in (part, _PAUSE)])


def voices_alone(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(mixdown, each speaker's audio alone) of a recording with an RTTM or one party per channel."""
    recording = audio.decode(path)
    rttm = path.with_suffix(".rttm")
    if rttm.exists():
        reference = read_rttm(rttm)
        samples = recording.mono()
        return samples, {name: speaker_alone(samples, reference, name) for name in sorted(reference.labels())}
    channels = distinct_channel_indices(recording)
    if len(channels) < 2:
        return None
    return recording.mono(), {f"channel {index}": recording.samples[index] for index in channels}


def recordings_alone(description: str) -> Iterator[tuple[Path, np.ndarray, dict[str, np.ndarray]]]:
    """(path, mixdown, each speaker alone) of every recording ``voices_alone`` can split, in the
    folders named on the command line (default ``shared/eval`` and ``sample_audio``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="*", type=Path, default=[DEFAULT_FOLDER, SAMPLE_AUDIO])
    for folder in parser.parse_args().folders:
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
            found = voices_alone(path)
            if found is not None:
                yield path, *found
