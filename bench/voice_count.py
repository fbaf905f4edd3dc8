"""One voice or two: the evidence the embedded diarizer weighs, on whole calls and on each speaker alone.

    .venv/bin/python -m bench.voice_count [FOLDER ...]

For every recording in the folders (default ``shared/eval`` and ``sample_audio``) with an RTTM
reference, or with one party per channel, prints the centroid cosine and silhouette of the best
two-way split of its voiceprints, first for the whole mixdown, then for each speaker alone (their
turns without the overlap, joined by short pauses; or their channel), and whether
``transcribe.diarization.embedded`` calls it one voice. The thresholds there should call every
speaker alone one voice and no call of two or more voices one; the summary counts both errors.
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
from transcribe.diarization.embedded import VoiceSplit, voice_split
from transcribe.types import SAMPLE_RATE

SAMPLE_AUDIO = Path(__file__).resolve().parents[1] / "sample_audio"

_PAUSE = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
# Seconds of audio a speaker alone needs for a two-way split to mean anything (a few windows).
_MIN_ALONE = 3


def speaker_alone(samples: np.ndarray, reference: Annotation, speaker: str) -> np.ndarray:
    """The speaker's turns where nobody else talks, joined by half-second pauses."""
    alone = reference.label_timeline(speaker).extrude(reference.get_overlap())
    parts = [samples[int(turn.start * SAMPLE_RATE) : int(turn.end * SAMPLE_RATE)] for turn in alone]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([piece for part in parts for piece in (part, _PAUSE)])


def _line(name: str, voices: int, seconds: float, split: VoiceSplit) -> str:
    verdict = "one voice" if split.one_voice else "two+"
    wrong = "  <- wrong" if split.one_voice != (voices == 1) else ""
    return (
        f"{name:<40} {voices:>6} {seconds:>7.1f} {split.cosine:>7.3f} {split.silhouette:>10.3f}  "
        f"{verdict}{wrong}"
    )


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


def main() -> None:
    print(f"{'recording':<40} {'voices':>6} {'seconds':>7} {'cosine':>7} {'silhouette':>10}  judged")
    merged_calls = split_voices = calls = single_voices = 0
    for path, mixdown, speakers in recordings_alone(__doc__):
        whole = voice_split(mixdown)
        print(_line(path.stem, len(speakers), len(mixdown) / SAMPLE_RATE, whole))
        if len(speakers) > 1:
            calls += 1
            merged_calls += whole.one_voice
        for name, samples in speakers.items():
            if len(samples) < _MIN_ALONE * SAMPLE_RATE:
                print(f"  {name} alone: under {_MIN_ALONE} s without overlap, not measured")
                continue
            split = voice_split(samples)
            print(_line(f"  {name} alone", 1, len(samples) / SAMPLE_RATE, split))
            single_voices += 1
            split_voices += not split.one_voice
    print(
        f"\ncalls of two or more voices judged one voice: {merged_calls} of {calls}; "
        f"single voices judged two or more: {split_voices} of {single_voices}"
    )


if __name__ == "__main__":
    main()
