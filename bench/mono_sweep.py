"""Sweep the mono diarizer's clustering parameters on a folder of recordings with RTTM references.

    .venv/bin/python -m bench.mono_sweep [FOLDER] [--step 2.5] [--set threshold=0.3,0.35,0.4 ...]

Segmentation and CAM++ embeddings are computed once per file and per value of the parameters they
depend on (``step``, ``silence_from``, ``quiet_silence_from``, ``min_clean_seconds``,
``max_embed_seconds``); every other combination of the ``--set`` values only re-clusters and
rebuilds the turns, so a clustering grid costs seconds. Prints, per combination, each file's
DER (no collar, overlap scored: missed / false alarm / confusion) and the number of speakers found,
without the ASR: the diarizer alone, as ``transcribe.diarization.mono.diarize`` gives it before
words widen the turns. Files without an RTTM show only the speaker count.
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from bench.accuracy import AUDIO_SUFFIXES, DEFAULT_FOLDER
from bench.scoring import read_rttm
from transcribe.audio import decode
from transcribe.diarization import campplus, mono
from transcribe.speech import voiced_regions
from transcribe.types import SAMPLE_RATE, TranscribeOptions, no_progress


def _value(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    return float(text) if "." in text else int(text)


# The parameters that change what is segmented and embedded; the others only re-cluster.
_FRONT = ("step", "silence_from", "quiet_silence_from", "min_clean_seconds", "max_embed_seconds")


def _heard(
    name: str,
    samples: np.ndarray,
    voiced: tuple[tuple[float, float], ...],
    reference: Annotation | None,
    params: mono.MonoDiarizationParams,
) -> tuple[Any, ...]:
    starts, activity, probability = mono._segment(samples, params, "cpu", no_progress, voiced)
    locals_, features = mono._local_speakers(samples, starts, activity, params)
    return (name, samples, starts, activity, probability, locals_, campplus.embed(features), reference)


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--step", type=float, default=mono.DEFAULT_PARAMS.step)
    parser.add_argument("--set", action="append", default=[], help="NAME=V1,V2,... (a parameter to sweep)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="pyannote")
    names = {field.name for field in fields(mono.MonoDiarizationParams)}
    grid: dict[str, list[Any]] = {}
    for item in args.set:
        name, _, values = item.partition("=")
        if name not in names:
            parser.error(f"unknown parameter {name!r}: one of {', '.join(sorted(names))}")
        grid[name] = [_value(value) for value in values.split(",")]
    base = replace(mono.DEFAULT_PARAMS, step=args.step)
    files = sorted(path for path in args.folder.iterdir() if path.suffix in AUDIO_SUFFIXES)
    signals = {path: decode(path).mono() for path in files}
    references = {
        path: read_rttm(path.with_suffix(".rttm")) for path in files if path.with_suffix(".rttm").exists()
    }
    voiced = {path: voiced_regions(signals[path]) for path in files}
    heard: dict[tuple[Any, ...], list[Any]] = {}  # by the parameters segmentation and embeddings depend on
    for values in itertools.product(*grid.values()):
        params = replace(base, **dict(zip(grid, values, strict=True)))
        front = tuple(getattr(params, name) for name in _FRONT)
        if front not in heard:
            heard[front] = [
                _heard(path.name, signals[path], voiced[path], references.get(path), params) for path in files
            ]
        prepared = heard[front]
        cells = []
        for name, samples, starts, activity, probability, locals_, embeddings, reference in prepared:
            if not locals_:
                cells.append(f"{name}: no speech")
                continue
            clean = np.array([seconds for _, _, seconds in locals_])
            windows = [window for window, _, _ in locals_]
            labels = mono._cluster(embeddings, clean, windows, TranscribeOptions(), params)
            spans = mono._reconstruct(len(samples), starts, activity, probability, locals_, labels, params)
            found = len({label for _, _, label in spans})
            if reference is None:
                cells.append(f"{name}: {found} spk")
                continue
            hypothesis = Annotation(uri=reference.uri)
            for index, (start, end, label) in enumerate(spans):
                hypothesis[Segment(start, end), index] = label
            uem = Segment(0.0, len(samples) / SAMPLE_RATE)
            score = DiarizationErrorRate()(reference, hypothesis, uem=uem, detailed=True)
            total = score["total"] or 1.0
            cells.append(
                f"{name}: DER {score['diarization error rate']:.1%} "
                f"(m {score['missed detection'] / total:.1%}, fa {score['false alarm'] / total:.1%}, "
                f"c {score['confusion'] / total:.1%}) {found} spk"
            )
        print(", ".join(f"{key}={value}" for key, value in zip(grid, values, strict=True)) or "defaults")
        for cell in cells:
            print("   ", cell)


if __name__ == "__main__":
    main()
